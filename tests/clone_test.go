package tests

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/floatip/floatip/internal/clusterip"
	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// TestCloneSharesAddressByBuckets: three nodes hold one address and
// buckets 1, 2 and 3 of it; thirty client addresses each get their
// answers from exactly one node, the one the kernel's hash names, and
// every node answers some. When bucket 3 moves from the third node to the
// first, the first answers its clients. For IPv6, which IPaddr2 cannot
// share, the nodes rewrite their neighbour advertisements.
func TestCloneSharesAddressByBuckets(t *testing.T) {
	for _, f := range []labtest.CloneFamily{labtest.CloneIPv4, labtest.CloneIPv6} {
		t.Run(f.Name, func(t *testing.T) { testCloneShares(t, f) })
	}
}

func testCloneShares(t *testing.T, f labtest.CloneFamily) {
	labtest.NeedTool(t, "nft")
	var specs []lab.HostSpec
	for i := 1; i <= 3; i++ {
		specs = append(specs, lab.HostSpec{Name: fmt.Sprintf("n%d", i)})
	}
	specs = append(specs, lab.HostSpec{Name: "c"})
	l := labtest.NewLab(t, specs...)
	nodes, client := l.Hosts[:3], l.Host("c")
	spec := f.Spec()
	addAddr := func(h *lab.Host, p netip.Prefix) {
		t.Helper()
		if err := h.IP(append([]string{"addr", "add", p.String(), "dev", h.Dev}, f.AddArgs...)...); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range nodes {
		addAddr(n, f.Prefix(i+1))
	}

	var sources []netip.Addr
	for i := 16; i < 46; i++ {
		sources = append(sources, f.Host(i))
		addAddr(client, f.Prefix(i))
	}

	servers := map[string]*echoServer{}
	for i, n := range nodes {
		addAddr(n, f.IP)
		if err := n.Do(func() error { return clusterip.AddBucket(spec, i+1) }); err != nil {
			t.Fatalf("add bucket %d on %s: %v", i+1, n.Name, err)
		}
		servers[n.Name] = startEcho(t, n, netip.AddrPortFrom(spec.IP, 7777))
	}
	// Adding a bucket again changes nothing.
	if err := nodes[0].Do(func() error { return clusterip.AddBucket(spec, 1) }); err != nil {
		t.Fatal(err)
	}

	// IPaddr2 has no IPv6 rewrite to compare with; TestCloneRulesIPv6AsIPaddr2
	// compares the rest of the IPv6 rules.
	if !spec.IP.Is6() {
		t.Run("rules as IPaddr2's", func(t *testing.T) {
			got := labtest.NFTRules(t, nodes[0])
			seed := fmt.Sprintf("0x%08x", spec.Seed)
			want := []string{
				"table ip IPaddr2_198_18_0_100 {",
				"chain prerouting {",
				"type filter hook prerouting priority mangle; policy accept;",
				`iif "eth0" ip daddr 198.18.0.100 jhash ip saddr mod 3 seed ` + seed + ` offset 1 1 meta pkttype set host accept comment "cip-node-1"`,
				`iif "eth0" ip daddr 198.18.0.100 drop`,
				"}", "}",
				"table arp IPaddr2_198_18_0_100 {",
				"chain output {",
				"type filter hook output priority filter; policy accept;",
				"arp saddr ip 198.18.0.100 arp saddr ether set " + spec.MAC.String(),
				"}", "}",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("nft list ruleset on %s (-want +got):\n%s", nodes[0].Name, diff)
			}
		})
	}

	owner := func(b int) string { return nodes[b-1].Name }
	answered := askAll(t, client, sources, spec.IP)
	spread := map[string]int{}
	for _, src := range sources {
		want := owner(spec.Bucket(src))
		if got := answered[src]; got != want {
			t.Errorf("%s was answered by %s, want %s (bucket %d)", src, got, want, spec.Bucket(src))
		}
		spread[answered[src]]++
	}
	t.Logf("answers per node: %v", spread)
	for _, n := range nodes {
		if spread[n.Name] == 0 {
			t.Errorf("%s answered none of %d sources", n.Name, len(sources))
		}
	}
	mac, err := client.Neighbor(spec.IP)
	if err != nil {
		t.Fatal(err)
	}
	if mac.String() != spec.MAC.String() {
		t.Errorf("client's neighbour entry for %s = %s, want the cluster MAC %s", spec.IP, mac, spec.MAC)
	}

	for _, n := range nodes {
		if !labtest.StaticMember(t, n, spec.MAC) {
			t.Errorf("ip maddr on %s does not show %s static", n.Name, spec.MAC)
		}
	}

	// Bucket 3 moves: the third node gives it up, its last, which takes
	// its table and membership with it (and the agent its address); the
	// first node adds it beside bucket 1.
	var left clusterip.State
	if err := nodes[2].Do(func() (err error) {
		left, err = clusterip.RemoveBucket(spec, 3)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !left.Empty() {
		t.Errorf("after its last bucket went, %s holds %+v", nodes[2].Name, left)
	}
	if got := labtest.NFTRules(t, nodes[2]); len(got) > 0 {
		t.Errorf("after its last bucket went, %s has rules:\n%s", nodes[2].Name, strings.Join(got, "\n"))
	}
	if labtest.StaticMember(t, nodes[2], spec.MAC) {
		t.Errorf("after its last bucket went, ip maddr on %s still shows %s", nodes[2].Name, spec.MAC)
	}
	if err := nodes[2].IP("addr", "del", f.IP.String(), "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].Do(func() error { return clusterip.AddBucket(spec, 3) }); err != nil {
		t.Fatal(err)
	}
	var st clusterip.State
	if err := nodes[0].Do(func() (err error) { st, err = clusterip.Inspect(spec); return err }); err != nil {
		t.Fatal(err)
	}
	if want := (clusterip.State{Table: true, Buckets: []int{3, 1}, ARP: spec.MangleARP, ND: spec.MangleND, Member: true}); !cmp.Equal(st, want) {
		t.Errorf("%s holds %+v, want %+v", nodes[0].Name, st, want)
	}

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

	// No node answered a source of another's bucket, before the move or
	// after.
	for name, s := range servers {
		for _, src := range s.seen() {
			b := spec.Bucket(src)
			if name != owner(b) && (b != 3 || name != nodes[0].Name) {
				t.Errorf("%s received a request from %s, of bucket %d", name, src, b)
			}
		}
	}
}

// echoServer answers every UDP datagram with its host's name, and records
// who sent one.
type echoServer struct {
	mu   sync.Mutex
	from []netip.Addr
}

func (s *echoServer) seen() []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.from)
}

// startEcho starts an echo server in the host on addr, until the test
// ends.
func startEcho(t *testing.T, h *lab.Host, addr netip.AddrPort) *echoServer {
	t.Helper()
	var pc *net.UDPConn
	if err := h.Do(func() (err error) {
		pc, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
		return err
	}); err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, h.Name, err)
	}
	s := &echoServer{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.from = append(s.from, from.Addr())
			s.mu.Unlock()
			pc.WriteToUDPAddrPort(append([]byte(h.Name+" "), buf[:n]...), from)
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	return s
}

// askAll asks dst's echo servers from each of the client's sources, until
// each has an answer, and returns which host answered each. It fails the
// test when a source gets no answer within 5 s, or answers from two hosts.
func askAll(t *testing.T, client *lab.Host, sources []netip.Addr, dst netip.Addr) map[netip.Addr]string {
	t.Helper()
	out := map[netip.Addr]string{}
	for _, src := range sources {
		var c *net.UDPConn
		if err := client.Do(func() (err error) {
			c, err = net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0)), net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 7777)))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		who, err := ask(c)
		c.Close()
		if err != nil {
			t.Fatalf("from %s: %v", src, err)
		}
		out[src] = who
	}
	return out
}

// ask sends a request on c every 100 ms until an answer comes, then
// reads what else comes until 100 ms pass without an answer, and returns
// the one host that answered.
func ask(c *net.UDPConn) (string, error) {
	hosts := map[string]bool{}
	buf := make([]byte, 64)
	deadline := time.Now().Add(5 * time.Second)
	for seq := 0; time.Now().Before(deadline); seq++ {
		if len(hosts) == 0 {
			if _, err := fmt.Fprintf(c, "%d", seq); err != nil {
				return "", err
			}
		}
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := c.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if len(hosts) > 0 {
				break
			}
			continue
		}
		if err != nil {
			return "", err
		}
		who, _, _ := strings.Cut(string(buf[:n]), " ")
		hosts[who] = true
	}
	switch names := slices.Sorted(maps.Keys(hosts)); len(names) {
	case 0:
		return "", errors.New("no answer in 5 s")
	case 1:
		return names[0], nil
	default:
		return "", fmt.Errorf("answers from %v, want one host", names)
	}
}

// TestCloneRulesIPv6AsIPaddr2: for an IPv6 address the table is ip6, with
// IPaddr2's rule that lets neighbour advertisements through; the last
// bucket's removal leaves nothing. ARP mangling is refused for IPv6, as
// IPaddr2 refuses it, before anything is made.
func TestCloneRulesIPv6AsIPaddr2(t *testing.T) {
	labtest.NeedTool(t, "nft")
	l := labtest.NewLab(t, lab.HostSpec{Name: "n1", Addr6: netip.MustParsePrefix("2001:db8::1/64")})
	n := l.Hosts[0]
	ip := netip.MustParseAddr("2001:db8::100")
	spec := clusterip.Spec{
		IP: ip, Link: "eth0", Buckets: 3,
		Seed: clusterip.DerivedSeed(ip, "64", ""),
		MAC:  clusterip.DerivedMAC(ip, "64", ""),
	}

	mangled := spec
	mangled.MangleARP = true
	if err := n.Do(func() error { return clusterip.AddBucket(mangled, 2) }); !errors.Is(err, clusterip.ErrMangleIPv6) {
		t.Errorf("AddBucket with ARP mangling for IPv6 = %v, want %v", err, clusterip.ErrMangleIPv6)
	}
	if got := labtest.NFTRules(t, n); len(got) > 0 {
		t.Errorf("a refused AddBucket left rules:\n%s", strings.Join(got, "\n"))
	}

	if err := n.Do(func() error { return clusterip.AddBucket(spec, 2) }); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"table ip6 IPaddr2_2001_db8__100 {",
		"chain prerouting {",
		"type filter hook prerouting priority mangle; policy accept;",
		fmt.Sprintf(`iif "eth0" ip6 daddr 2001:db8::100 jhash ip6 saddr mod 3 seed 0x%08x offset 1 2 meta pkttype set host accept comment "cip-node-2"`, spec.Seed),
		`iif "eth0" ip6 daddr 2001:db8::100 icmpv6 type nd-neighbor-advert accept`,
		`iif "eth0" ip6 daddr 2001:db8::100 drop`,
		"}", "}",
	}
	if diff := cmp.Diff(want, labtest.NFTRules(t, n)); diff != "" {
		t.Errorf("nft list ruleset (-want +got):\n%s", diff)
	}
	var st clusterip.State
	if err := n.Do(func() (err error) { st, err = clusterip.Inspect(spec); return err }); err != nil {
		t.Fatal(err)
	}
	if want := (clusterip.State{Table: true, Buckets: []int{2}, Member: true}); !cmp.Equal(st, want) {
		t.Errorf("Inspect = %+v, want %+v", st, want)
	}
	if err := n.Do(func() (err error) { st, err = clusterip.RemoveBucket(spec, 2); return err }); err != nil {
		t.Fatal(err)
	}
	if !st.Empty() {
		t.Errorf("after the last bucket went: %+v", st)
	}
	if got := labtest.NFTRules(t, n); len(got) > 0 {
		t.Errorf("after the last bucket went:\n%s", strings.Join(got, "\n"))
	}
	if err := n.Do(func() (err error) { st, err = clusterip.Inspect(spec); return err }); err != nil || !st.Empty() {
		t.Errorf("Inspect after the last bucket went = %+v, %v; want nothing", st, err)
	}
}

// TestCloneReplacesStaleTable: a table whose rules are not those of the
// instance's parameters (clone-max changed, the drop rule deleted by hand)
// is reported stale, which a monitor must see, and AddBucket replaces it
// with the right rules, keeping the buckets the node held. A bucket above
// clone-max, an instance that clone-max no longer has, is removed without
// an error.
func TestCloneReplacesStaleTable(t *testing.T) {
	labtest.NeedTool(t, "nft")
	l := labtest.NewLab(t, lab.HostSpec{Name: "n1"})
	n := l.Hosts[0]
	spec := labtest.CloneIPv4.Spec()
	if err := n.IP("addr", "add", labtest.CloneIPv4.IP.String(), "dev", n.Dev); err != nil {
		t.Fatal(err)
	}
	inspect := func(s clusterip.Spec) clusterip.State {
		t.Helper()
		var st clusterip.State
		if err := n.Do(func() (err error) { st, err = clusterip.Inspect(s); return err }); err != nil {
			t.Fatal(err)
		}
		return st
	}
	add := func(s clusterip.Spec, b int) {
		t.Helper()
		if err := n.Do(func() error { return clusterip.AddBucket(s, b) }); err != nil {
			t.Fatal(err)
		}
	}
	add(spec, 1)
	add(spec, 3)
	if st := inspect(spec); st.Stale {
		t.Fatalf("fresh table is stale: %+v", st)
	}

	wider := spec
	wider.Buckets = 4
	if st := inspect(wider); !st.Stale {
		t.Errorf("table of clone-max 3 read with clone-max 4 is not stale: %+v", st)
	}
	add(wider, 2)
	st := inspect(wider)
	slices.Sort(st.Buckets)
	if want := (clusterip.State{Table: true, Buckets: []int{1, 2, 3}, ARP: true, Member: true}); !cmp.Equal(st, want) {
		t.Errorf("after AddBucket with clone-max 4: %+v, want %+v", st, want)
	}
	var mods []string
	for _, line := range labtest.NFTRules(t, n) {
		if strings.Contains(line, "jhash") {
			mods = append(mods, strings.Fields(line[strings.Index(line, " mod "):])[1])
		}
	}
	if diff := cmp.Diff([]string{"4", "4", "4"}, mods); diff != "" {
		t.Errorf("moduli of the bucket rules (-want +got):\n%s", diff)
	}

	// The drop rule deleted by hand: every packet would be accepted.
	out, err := exec.Command("sh", "-c", "ip netns exec "+n.NS+" nft -a list chain ip "+clusterip.TableName(spec.IP)+
		" prerouting | sed -n 's/.* drop # handle \\([0-9]*\\)$/\\1/p'").Output()
	if err != nil || len(strings.TrimSpace(string(out))) == 0 {
		t.Fatalf("find the drop rule's handle: %v %q", err, out)
	}
	if out, err := exec.Command("ip", "netns", "exec", n.NS, "nft", "delete", "rule", "ip", clusterip.TableName(spec.IP), "prerouting", "handle", strings.TrimSpace(string(out))).CombinedOutput(); err != nil {
		t.Fatalf("delete the drop rule: %v\n%s", err, out)
	}
	if st := inspect(wider); !st.Stale {
		t.Errorf("table without its drop rule is not stale: %+v", st)
	}
	add(wider, 2)
	if st := inspect(wider); st.Stale {
		t.Errorf("AddBucket left a stale table: %+v", st)
	}
	if got := labtest.NFTRules(t, n); !slices.Contains(got, `iif "eth0" ip daddr 198.18.0.100 drop`) {
		t.Errorf("AddBucket did not restore the drop rule:\n%s", strings.Join(got, "\n"))
	}

	// clone-max shrinks to 2: the instance of bucket 3 is stopped with it.
	narrow := spec
	narrow.Buckets = 2
	var left clusterip.State
	if err := n.Do(func() (err error) { left, err = clusterip.RemoveBucket(narrow, 3); return err }); err != nil {
		t.Fatalf("RemoveBucket of bucket 3 with clone-max 2: %v", err)
	}
	slices.Sort(left.Buckets)
	if !slices.Equal(left.Buckets, []int{1, 2}) {
		t.Errorf("after bucket 3 went, the node holds buckets %v, want [1 2]", left.Buckets)
	}
}
