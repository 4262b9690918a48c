package tests

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/internal/clusterip"
	"github.com/floatip/floatip/tests/lab"
)

// cloneParams are the parameters and meta attributes Pacemaker gives
// instance n of a load-shared clone of f's address with clone-max 3 and
// clone-node-max 2, with the ARP (IPv4) or ND (IPv6) rewrite.
func (f cloneFamily) cloneParams(n int, more ...string) []string {
	return append([]string{"ip=" + f.ip.Addr().String(), "clusterip_mac_mangle=true",
		fmt.Sprintf("OCF_RESKEY_CRM_meta_clone=%d", n), "OCF_RESKEY_CRM_meta_clone_max=3",
		"OCF_RESKEY_CRM_meta_clone_node_max=2", "OCF_RESKEY_CRM_meta_globally_unique=true"}, more...)
}

// cloneLab is three nodes and a client on one link, each node with its
// own address in f's subnet (IPv4 with its broadcast address, which
// IPaddr2 hashes), the client with thirty sources.
func cloneLab(t *testing.T, f cloneFamily) (nodes []*lab.Host, client *lab.Host, sources []netip.Addr) {
	t.Helper()
	needTool(t, "nft")
	var specs []lab.HostSpec
	for i := 1; i <= 3; i++ {
		specs = append(specs, lab.HostSpec{Name: fmt.Sprintf("n%d", i)})
	}
	l := newLab(t, append(specs, lab.HostSpec{Name: "c"})...)
	add := func(h *lab.Host, p netip.Prefix) {
		t.Helper()
		if err := h.IP(append([]string{"addr", "add", p.String(), "dev", h.Dev}, f.addArgs...)...); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range l.Hosts[:3] {
		add(n, f.prefix(i+1))
	}
	client = l.Host("c")
	for i := 16; i < 46; i++ {
		sources = append(sources, f.host(i))
		add(client, f.prefix(i))
	}
	return l.Hosts[:3], client, sources
}

// holdsNothing fails the test unless node holds nothing of f's shared
// address: no nftables rules at all, no static membership of the
// cluster MAC, not the address.
func holdsNothing(t *testing.T, n *lab.Host, f cloneFamily, spec clusterip.Spec) {
	t.Helper()
	if got := nftRules(t, n); len(got) > 0 {
		t.Errorf("%s has rules:\n%s", n.Name, strings.Join(got, "\n"))
	}
	if staticMember(t, n, spec.MAC) {
		t.Errorf("%s is still a member of %s", n.Name, spec.MAC)
	}
	if hasAddr(t, n, f.ip.String()) {
		t.Errorf("%s still holds %s", n.Name, f.ip.Addr())
	}
}

// TestCloneAgentSharesAddress runs floatip as three instances of a
// load-shared clone on three nodes: every client source is answered by
// exactly the node whose bucket it hashes to, and the client learns the
// cluster MAC. The instance of node 3 moves to node 1 (clone-node-max
// 2), which then answers its bucket too; each stop removes its bucket,
// and the last on a node everything: no rules, no membership, no
// address, nothing in HA_RSCTMP.
func TestCloneAgentSharesAddress(t *testing.T) {
	for _, f := range []cloneFamily{cloneIPv4, cloneIPv6} {
		t.Run(f.name, func(t *testing.T) { testCloneAgent(t, f) })
	}
}

func testCloneAgent(t *testing.T, f cloneFamily) {
	nodes, client, sources := cloneLab(t, f)
	spec := f.spec()
	// floatip doctor finds what the clone needs on a node.
	if res := floatip(t, nodes[0]).run("doctor", f.cloneParams(0)...); !strings.Contains(res.Stdout, "OK    clone        the kernel can program the rules that share "+spec.IP.String()) ||
		!strings.Contains(res.Stdout, "is a load-shared address, which the clone's other nodes answer for too: not probed") {
		t.Errorf("floatip doctor of the clone, exit %d:\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	var agents []*agentRunner
	servers := map[string]*echoServer{}
	for i, n := range nodes {
		r := floatip(t, n)
		agents = append(agents, r)
		r.expect(7, "monitor", f.cloneParams(i, "OCF_RESKEY_CRM_meta_interval=0")...)
		r.expect(0, "start", f.cloneParams(i)...)
		servers[n.Name] = startEcho(t, n, netip.AddrPortFrom(spec.IP, 7777))
	}
	for i, r := range agents {
		r.expect(0, "monitor", f.cloneParams(i)...)
	}
	// The probe of an instance on a node where another one runs.
	agents[0].expect(7, "monitor", f.cloneParams(2, "OCF_RESKEY_CRM_meta_interval=0")...)
	if got, want := nftRules(t, nodes[0]), fmt.Sprintf("seed 0x%08x offset 1 1 meta pkttype set host accept", spec.Seed); !slices.ContainsFunc(got, func(l string) bool {
		return strings.Contains(l, want)
	}) {
		t.Errorf("rules of %s lack bucket 1 with IPaddr2's seed (%q):\n%s", nodes[0].Name, want, strings.Join(got, "\n"))
	}

	answered := askAll(t, client, sources, spec.IP)
	for _, src := range sources {
		if want := nodes[spec.Bucket(src)-1].Name; answered[src] != want {
			t.Errorf("%s was answered by %s, want %s (bucket %d)", src, answered[src], want, spec.Bucket(src))
		}
	}
	if mac, err := client.Neighbor(spec.IP); err != nil || mac.String() != spec.MAC.String() {
		t.Errorf("client's neighbour entry for %s = %v (%v), want the cluster MAC %s", spec.IP, mac, err, spec.MAC)
	}

	// Instance 2 moves from node 3 to node 1.
	agents[2].expect(0, "stop", f.cloneParams(2)...)
	holdsNothing(t, nodes[2], f, spec)
	agents[0].expect(0, "start", f.cloneParams(2)...)
	agents[0].expect(0, "monitor", f.cloneParams(2)...)
	agents[0].expect(0, "monitor", f.cloneParams(0)...)
	var moved []netip.Addr
	for _, src := range sources {
		if spec.Bucket(src) == 3 {
			moved = append(moved, src)
		}
	}
	for src, who := range askAll(t, client, moved, spec.IP) {
		if who != nodes[0].Name {
			t.Errorf("after the move, %s (bucket 3) was answered by %s, want %s", src, who, nodes[0].Name)
		}
	}

	// Node 1's first stop leaves the address to its other instance.
	agents[0].expect(0, "stop", f.cloneParams(0)...)
	if !hasAddr(t, nodes[0], f.ip.String()) {
		t.Errorf("the first of two stops on %s took the address", nodes[0].Name)
	}
	agents[0].expect(0, "monitor", f.cloneParams(2)...)
	agents[0].expect(7, "monitor", f.cloneParams(0)...)
	for _, x := range []struct {
		r *agentRunner
		n int
	}{{agents[0], 2}, {agents[1], 1}} {
		x.r.expect(0, "stop", f.cloneParams(x.n)...)
		x.r.expect(0, "stop", f.cloneParams(x.n)...)
		x.r.expect(7, "monitor", f.cloneParams(x.n)...)
	}
	for i, n := range nodes {
		holdsNothing(t, n, f, spec)
		if left := filesIn(t, agents[i].rsctmp); len(left) > 0 {
			t.Errorf("left in HA_RSCTMP of %s: %v", n.Name, left)
		}
	}
}

// TestCloneAgentAfterStartCutShort: what a start killed halfway leaves
// (the bucket's rules without the address, or the table and membership
// without a bucket, or all of it under a start SIGKILLed in its burst)
// trips no later action: monitor says it is partial, a start completes
// it, a stop removes it all.
func TestCloneAgentAfterStartCutShort(t *testing.T) {
	f := cloneIPv4
	nodes, _, _ := cloneLab(t, f)
	n, spec := nodes[0], f.spec()
	r := floatip(t, n)

	// The rules of bucket 1, no address: start was killed before it.
	if err := n.Do(func() error { return clusterip.AddBucket(spec, 1) }); err != nil {
		t.Fatal(err)
	}
	r.expect(1, "monitor", f.cloneParams(0, "OCF_RESKEY_CRM_meta_interval=0")...)
	r.expect(0, "start", f.cloneParams(0)...)
	r.expect(0, "monitor", f.cloneParams(0)...)
	r.expect(0, "stop", f.cloneParams(0)...)
	holdsNothing(t, n, f, spec)

	// The table and membership, no bucket: a stop was killed after
	// removing it. The stop of an instance removes the rest.
	if err := n.Do(func() error { return clusterip.AddBucket(spec, 1) }); err != nil {
		t.Fatal(err)
	}
	deleteBucketRule(t, n, spec, 1)
	r.expect(1, "monitor", f.cloneParams(0)...)
	r.expect(0, "stop", f.cloneParams(0)...)
	holdsNothing(t, n, f, spec)

	// A start SIGKILLed in its burst, once the rules and the address are
	// there (the burst of a load-shared address is start's own): the
	// next start and stop go through.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd, err := r.start(ctx, &stdout, &stderr, "start", f.cloneParams(0, "arp_count=100", "arp_interval=1000")...)
	if err != nil {
		t.Fatal(err)
	}
	if !eventually(10*time.Second, func() bool { return hasAddr(t, n, f.ip.String()) }) {
		t.Fatalf("start did not add %s: %s", f.ip, stderr.String())
	}
	cmd.Process.Kill()
	cmd.Wait()
	r.expect(0, "start", f.cloneParams(0, "arp_count=1")...)
	r.expect(0, "monitor", f.cloneParams(0)...)
	r.expect(0, "stop", f.cloneParams(0)...)
	holdsNothing(t, n, f, spec)
	if left := filesIn(t, r.rsctmp); len(left) > 0 {
		t.Errorf("left in HA_RSCTMP: %v", left)
	}
}

// deleteBucketRule deletes the rule of bucket b from n's table of spec by
// hand, with nft.
func deleteBucketRule(t *testing.T, n *lab.Host, spec clusterip.Spec, b int) {
	t.Helper()
	family := map[bool]string{true: "ip", false: "ip6"}[spec.IP.Is4()]
	out, err := exec.Command("ip", "netns", "exec", n.NS, "nft", "-a", "list", "chain", family, clusterip.TableName(spec.IP), "prerouting").CombinedOutput()
	if err != nil {
		t.Fatalf("list the chain: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.Contains(line, fmt.Sprintf(`"cip-node-%d"`, b)) {
			continue
		}
		_, handle, _ := strings.Cut(line, "# handle ")
		if out, err := exec.Command("ip", "netns", "exec", n.NS, "nft", "delete", "rule", family, clusterip.TableName(spec.IP), "prerouting", "handle", strings.TrimSpace(handle)).CombinedOutput(); err != nil {
			t.Fatalf("delete the rule of bucket %d: %v\n%s", b, err, out)
		}
		return
	}
	t.Fatalf("no rule of bucket %d:\n%s", b, out)
}

// TestCloneAgentTwoAddressesOneMAC: two load-shared addresses with the
// same cluster MAC on one node share its static membership, which the
// kernel does not count: the last stop of the first must leave it to
// the second, whose clients would otherwise reach no node, and the
// last stop of the second removes it. With the rewrite, whose rule
// names the MAC, and without; with the rewrite, an address of another
// MAC leaves its own membership.
func TestCloneAgentTwoAddressesOneMAC(t *testing.T) {
	for _, c := range []struct {
		mangle      string
		macA, macB  string
		keepsFirsts bool
	}{
		{"true", "01:00:5e:00:00:07", "01:00:5e:00:00:07", true},
		{"false", "01:00:5e:00:00:07", "01:00:5e:00:00:07", true},
		{"true", "01:00:5e:00:00:07", "01:00:5e:00:00:08", false},
	} {
		t.Run("mangle="+c.mangle+",b="+c.macB, func(t *testing.T) {
			nodes, _, _ := cloneLab(t, cloneIPv4)
			n := nodes[0]
			r := floatip(t, n)
			params := func(ip, mac string) []string {
				return []string{"ip=" + ip, "cidr_netmask=24", "mac=" + mac, "clusterip_mac_mangle=" + c.mangle,
					"OCF_RESKEY_CRM_meta_clone=0", "OCF_RESKEY_CRM_meta_clone_max=2", "OCF_RESKEY_CRM_meta_globally_unique=true"}
			}
			macA, _ := net.ParseMAC(c.macA)
			macB, _ := net.ParseMAC(c.macB)
			a, b := params("198.18.0.100", c.macA), params("198.18.0.101", c.macB)
			r.expect(0, "start", a...)
			r.expect(0, "start", b...)
			r.expect(0, "stop", a...)
			if got := staticMember(t, n, macA); got != c.keepsFirsts {
				t.Errorf("after the stop of 198.18.0.100, member of %s: %v, want %v", macA, got, c.keepsFirsts)
			}
			r.expect(0, "monitor", b...)
			r.expect(0, "stop", b...)
			if staticMember(t, n, macA) || staticMember(t, n, macB) {
				t.Errorf("the last stop left a membership:\n%s", strings.Join(nftRules(t, n), "\n"))
			}
		})
	}
}

// TestCloneAgentNetworkNamespace: with network_namespace, an instance
// programs the rules, the membership and the address in the namespace it
// names, and nothing in the one it runs in (here another lab node's, not
// the host's); its stop removes it all there.
func TestCloneAgentNetworkNamespace(t *testing.T) {
	f := cloneIPv4
	nodes, _, _ := cloneLab(t, f)
	n, outside := nodes[0], nodes[1]
	spec := f.spec()
	r := floatip(t, outside)
	p := f.cloneParams(0, "network_namespace="+n.NS)
	r.expect(0, "start", p...)
	r.expect(0, "monitor", p...)
	if !hasAddr(t, n, f.ip.String()) || !staticMember(t, n, spec.MAC) || len(nftRules(t, n)) == 0 {
		t.Errorf("%s lacks the address, the membership or the rules:\n%s", n.Name, strings.Join(nftRules(t, n), "\n"))
	}
	if got := nftRules(t, outside); len(got) > 0 || staticMember(t, outside, spec.MAC) {
		t.Errorf("the namespace floatip runs in got rules or the membership:\n%s", strings.Join(got, "\n"))
	}
	r.expect(0, "stop", p...)
	holdsNothing(t, n, f, spec)
	holdsNothing(t, outside, f, spec)
}

// TestCloneAgentStopAfterNicRenamed: the nic an instance started on is
// renamed, or deleted, before its stop. The rules name the nic by its
// index and the address stays on it, so the renamed nic goes on
// accepting the bucket, which Pacemaker then starts on another node:
// monitor must not call it stopped, and stop must remove the address,
// the rules and the membership from where they are.
func TestCloneAgentStopAfterNicRenamed(t *testing.T) {
	f := cloneIPv4
	nodes, _, _ := cloneLab(t, f)
	n, spec := nodes[0], f.spec()
	r := floatip(t, n)
	p := f.cloneParams(0, "nic="+n.Dev, fmt.Sprintf("cidr_netmask=%d", f.ip.Bits()))
	rename := func(from, to string) {
		t.Helper()
		for _, args := range [][]string{{"link", "set", from, "down"}, {"link", "set", from, "name", to}, {"link", "set", to, "up"}} {
			if err := n.IP(args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.expect(0, "start", p...)
	rename(n.Dev, "renamed0")
	r.expect(1, "monitor", p...)
	r.expect(0, "stop", p...)
	rename("renamed0", n.Dev)
	holdsNothing(t, n, f, spec)

	// The nic deleted: the address and the membership go with it, the
	// rules stay, naming a nic that is no more.
	r.expect(0, "start", p...)
	if err := n.IP("link", "del", n.Dev); err != nil {
		t.Fatal(err)
	}
	r.expect(0, "stop", p...)
	if got := nftRules(t, n); len(got) > 0 {
		t.Errorf("%s has rules after the stop:\n%s", n.Name, strings.Join(got, "\n"))
	}
	if left := filesIn(t, r.rsctmp); len(left) > 0 {
		t.Errorf("left in HA_RSCTMP: %v", left)
	}
}

// TestCloneAgentStopBesideOwnedTable: another process holds a table of
// the address's name flagged owner, which only it may change. Start
// fails, saying so; the stop of the instance, which holds nothing here,
// succeeds and leaves that table to its owner: a failed stop would get
// the node fenced for what another program did.
func TestCloneAgentStopBesideOwnedTable(t *testing.T) {
	f := cloneIPv4
	nodes, _, _ := cloneLab(t, f)
	n, spec := nodes[0], f.spec()
	name := clusterip.TableName(spec.IP)
	owner := exec.Command("ip", "netns", "exec", n.NS, "nft", "-i")
	in, err := owner.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); owner.Wait() })
	fmt.Fprintf(in, "add table ip %s { flags owner; }\nadd chain ip %s prerouting { type filter hook prerouting priority 0; }\n", name, name)
	if !eventually(10*time.Second, func() bool { return slices.Contains(nftRules(t, n), "flags owner") }) {
		t.Fatalf("nft -i made no owned table:\n%s", strings.Join(nftRules(t, n), "\n"))
	}
	r := floatip(t, n)
	if res := r.expect(1, "start", f.cloneParams(0)...); !strings.Contains(res.Stderr, "flagged owner") {
		t.Errorf("start's reason does not name the owned table:\n%s", res.Stderr)
	}
	r.expect(0, "stop", f.cloneParams(0)...)
	if hasAddr(t, n, f.ip.String()) || staticMember(t, n, spec.MAC) {
		t.Errorf("the stop left the address or the membership")
	}
	if !slices.Contains(nftRules(t, n), "flags owner") {
		t.Errorf("the owned table is gone:\n%s", strings.Join(nftRules(t, n), "\n"))
	}
}
