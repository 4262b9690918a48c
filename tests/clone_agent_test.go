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
	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// TestCloneAgentSharesAddress runs floatip as three instances of a
// load-shared clone on three nodes: every client source is answered by
// exactly the node whose bucket it hashes to, and the client learns the
// cluster MAC. The instance of node 3 moves to node 1 (clone-node-max
// 2), which then answers its bucket too; each stop removes its bucket,
// and the last on a node everything: no rules, no membership, no
// address, nothing in HA_RSCTMP.
func TestCloneAgentSharesAddress(t *testing.T) {
	for _, f := range []labtest.CloneFamily{labtest.CloneIPv4, labtest.CloneIPv6} {
		t.Run(f.Name, func(t *testing.T) { testCloneAgent(t, f) })
	}
}

func testCloneAgent(t *testing.T, f labtest.CloneFamily) {
	nodes, client, sources := labtest.CloneLab(t, f)
	spec := f.Spec()
	// floatip doctor finds what the clone needs on a node.
	if res := labtest.Floatip(t, nodes[0]).Run("doctor", f.CloneParams(0)...); !strings.Contains(res.Stdout, "OK    clone        the kernel can program the rules that share "+spec.IP.String()) ||
		!strings.Contains(res.Stdout, "is a load-shared address, which the clone's other nodes answer for too: not probed") {
		t.Errorf("floatip doctor of the clone, exit %d:\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	var agents []*labtest.AgentRunner
	servers := map[string]*echoServer{}
	for i, n := range nodes {
		r := labtest.Floatip(t, n)
		agents = append(agents, r)
		r.Expect(7, "monitor", f.CloneParams(i, "OCF_RESKEY_CRM_meta_interval=0")...)
		r.Expect(0, "start", f.CloneParams(i)...)
		servers[n.Name] = startEcho(t, n, netip.AddrPortFrom(spec.IP, 7777))
	}
	for i, r := range agents {
		r.Expect(0, "monitor", f.CloneParams(i)...)
	}
	// The probe of an instance on a node where another one runs.
	agents[0].Expect(7, "monitor", f.CloneParams(2, "OCF_RESKEY_CRM_meta_interval=0")...)
	if got, want := labtest.NFTRules(t, nodes[0]), fmt.Sprintf("seed 0x%08x offset 1 1 meta pkttype set host accept", spec.Seed); !slices.ContainsFunc(got, func(l string) bool {
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
	agents[2].Expect(0, "stop", f.CloneParams(2)...)
	labtest.HoldsNothing(t, nodes[2], f, spec)
	agents[0].Expect(0, "start", f.CloneParams(2)...)
	agents[0].Expect(0, "monitor", f.CloneParams(2)...)
	agents[0].Expect(0, "monitor", f.CloneParams(0)...)
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
	agents[0].Expect(0, "stop", f.CloneParams(0)...)
	if !labtest.HasAddr(t, nodes[0], f.IP.String()) {
		t.Errorf("the first of two stops on %s took the address", nodes[0].Name)
	}
	agents[0].Expect(0, "monitor", f.CloneParams(2)...)
	agents[0].Expect(7, "monitor", f.CloneParams(0)...)
	for _, x := range []struct {
		r *labtest.AgentRunner
		n int
	}{{agents[0], 2}, {agents[1], 1}} {
		x.r.Expect(0, "stop", f.CloneParams(x.n)...)
		x.r.Expect(0, "stop", f.CloneParams(x.n)...)
		x.r.Expect(7, "monitor", f.CloneParams(x.n)...)
	}
	for i, n := range nodes {
		labtest.HoldsNothing(t, n, f, spec)
		if left := labtest.FilesIn(t, agents[i].Rsctmp); len(left) > 0 {
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
	f := labtest.CloneIPv4
	nodes, _, _ := labtest.CloneLab(t, f)
	n, spec := nodes[0], f.Spec()
	r := labtest.Floatip(t, n)

	// The rules of bucket 1, no address: start was killed before it.
	if err := n.Do(func() error { return clusterip.AddBucket(spec, 1) }); err != nil {
		t.Fatal(err)
	}
	r.Expect(1, "monitor", f.CloneParams(0, "OCF_RESKEY_CRM_meta_interval=0")...)
	r.Expect(0, "start", f.CloneParams(0)...)
	r.Expect(0, "monitor", f.CloneParams(0)...)
	r.Expect(0, "stop", f.CloneParams(0)...)
	labtest.HoldsNothing(t, n, f, spec)

	// The table and membership, no bucket: a stop was killed after
	// removing it. The stop of an instance removes the rest.
	if err := n.Do(func() error { return clusterip.AddBucket(spec, 1) }); err != nil {
		t.Fatal(err)
	}
	deleteBucketRule(t, n, spec, 1)
	r.Expect(1, "monitor", f.CloneParams(0)...)
	r.Expect(0, "stop", f.CloneParams(0)...)
	labtest.HoldsNothing(t, n, f, spec)

	// A start SIGKILLed in its burst, once the rules and the address are
	// there (the burst of a load-shared address is start's own): the
	// next start and stop go through.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd, err := r.Start(ctx, &stdout, &stderr, "start", f.CloneParams(0, "arp_count=100", "arp_interval=1000")...)
	if err != nil {
		t.Fatal(err)
	}
	if !labtest.Eventually(10*time.Second, func() bool { return labtest.HasAddr(t, n, f.IP.String()) }) {
		t.Fatalf("start did not add %s: %s", f.IP, stderr.String())
	}
	cmd.Process.Kill()
	cmd.Wait()
	r.Expect(0, "start", f.CloneParams(0, "arp_count=1")...)
	r.Expect(0, "monitor", f.CloneParams(0)...)
	r.Expect(0, "stop", f.CloneParams(0)...)
	labtest.HoldsNothing(t, n, f, spec)
	if left := labtest.FilesIn(t, r.Rsctmp); len(left) > 0 {
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
			nodes, _, _ := labtest.CloneLab(t, labtest.CloneIPv4)
			n := nodes[0]
			r := labtest.Floatip(t, n)
			params := func(ip, mac string) []string {
				return []string{"ip=" + ip, "cidr_netmask=24", "mac=" + mac, "clusterip_mac_mangle=" + c.mangle,
					"OCF_RESKEY_CRM_meta_clone=0", "OCF_RESKEY_CRM_meta_clone_max=2", "OCF_RESKEY_CRM_meta_globally_unique=true"}
			}
			macA, _ := net.ParseMAC(c.macA)
			macB, _ := net.ParseMAC(c.macB)
			a, b := params("198.18.0.100", c.macA), params("198.18.0.101", c.macB)
			r.Expect(0, "start", a...)
			r.Expect(0, "start", b...)
			r.Expect(0, "stop", a...)
			if got := labtest.StaticMember(t, n, macA); got != c.keepsFirsts {
				t.Errorf("after the stop of 198.18.0.100, member of %s: %v, want %v", macA, got, c.keepsFirsts)
			}
			r.Expect(0, "monitor", b...)
			r.Expect(0, "stop", b...)
			if labtest.StaticMember(t, n, macA) || labtest.StaticMember(t, n, macB) {
				t.Errorf("the last stop left a membership:\n%s", strings.Join(labtest.NFTRules(t, n), "\n"))
			}
		})
	}
}

// TestCloneAgentNetworkNamespace: with network_namespace, an instance
// programs the rules, the membership and the address in the namespace it
// names, and nothing in the one it runs in (here another lab node's, not
// the host's); its stop removes it all there.
func TestCloneAgentNetworkNamespace(t *testing.T) {
	f := labtest.CloneIPv4
	nodes, _, _ := labtest.CloneLab(t, f)
	n, outside := nodes[0], nodes[1]
	spec := f.Spec()
	r := labtest.Floatip(t, outside)
	p := f.CloneParams(0, "network_namespace="+n.NS)
	r.Expect(0, "start", p...)
	r.Expect(0, "monitor", p...)
	if !labtest.HasAddr(t, n, f.IP.String()) || !labtest.StaticMember(t, n, spec.MAC) || len(labtest.NFTRules(t, n)) == 0 {
		t.Errorf("%s lacks the address, the membership or the rules:\n%s", n.Name, strings.Join(labtest.NFTRules(t, n), "\n"))
	}
	if got := labtest.NFTRules(t, outside); len(got) > 0 || labtest.StaticMember(t, outside, spec.MAC) {
		t.Errorf("the namespace floatip runs in got rules or the membership:\n%s", strings.Join(got, "\n"))
	}
	r.Expect(0, "stop", p...)
	labtest.HoldsNothing(t, n, f, spec)
	labtest.HoldsNothing(t, outside, f, spec)
}

// TestCloneAgentStopAfterNicRenamed: the nic an instance started on is
// renamed, or deleted, before its stop. The rules name the nic by its
// index and the address stays on it, so the renamed nic goes on
// accepting the bucket, which Pacemaker then starts on another node:
// monitor must not call it stopped, and stop must remove the address,
// the rules and the membership from where they are.
func TestCloneAgentStopAfterNicRenamed(t *testing.T) {
	f := labtest.CloneIPv4
	nodes, _, _ := labtest.CloneLab(t, f)
	n, spec := nodes[0], f.Spec()
	r := labtest.Floatip(t, n)
	p := f.CloneParams(0, "nic="+n.Dev, fmt.Sprintf("cidr_netmask=%d", f.IP.Bits()))
	rename := func(from, to string) {
		t.Helper()
		for _, args := range [][]string{{"link", "set", from, "down"}, {"link", "set", from, "name", to}, {"link", "set", to, "up"}} {
			if err := n.IP(args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.Expect(0, "start", p...)
	rename(n.Dev, "renamed0")
	r.Expect(1, "monitor", p...)
	r.Expect(0, "stop", p...)
	rename("renamed0", n.Dev)
	labtest.HoldsNothing(t, n, f, spec)

	// The nic deleted: the address and the membership go with it, the
	// rules stay, naming a nic that is no more.
	r.Expect(0, "start", p...)
	if err := n.IP("link", "del", n.Dev); err != nil {
		t.Fatal(err)
	}
	r.Expect(0, "stop", p...)
	if got := labtest.NFTRules(t, n); len(got) > 0 {
		t.Errorf("%s has rules after the stop:\n%s", n.Name, strings.Join(got, "\n"))
	}
	if left := labtest.FilesIn(t, r.Rsctmp); len(left) > 0 {
		t.Errorf("left in HA_RSCTMP: %v", left)
	}
}

// TestCloneAgentStopBesideOwnedTable: another process holds a table of
// the address's name flagged owner, which only it may change. Start
// fails, saying so; the stop of the instance, which holds nothing here,
// succeeds and leaves that table to its owner: a failed stop would get
// the node fenced for what another program did.
func TestCloneAgentStopBesideOwnedTable(t *testing.T) {
	f := labtest.CloneIPv4
	nodes, _, _ := labtest.CloneLab(t, f)
	n, spec := nodes[0], f.Spec()
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
	if !labtest.Eventually(10*time.Second, func() bool { return slices.Contains(labtest.NFTRules(t, n), "flags owner") }) {
		t.Fatalf("nft -i made no owned table:\n%s", strings.Join(labtest.NFTRules(t, n), "\n"))
	}
	r := labtest.Floatip(t, n)
	if res := r.Expect(1, "start", f.CloneParams(0)...); !strings.Contains(res.Stderr, "flagged owner") {
		t.Errorf("start's reason does not name the owned table:\n%s", res.Stderr)
	}
	r.Expect(0, "stop", f.CloneParams(0)...)
	if labtest.HasAddr(t, n, f.IP.String()) || labtest.StaticMember(t, n, spec.MAC) {
		t.Errorf("the stop left the address or the membership")
	}
	if !slices.Contains(labtest.NFTRules(t, n), "flags owner") {
		t.Errorf("the owned table is gone:\n%s", strings.Join(labtest.NFTRules(t, n), "\n"))
	}
}
