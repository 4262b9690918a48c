package netif

import (
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netns"
)

// crowd is n addresses on link 2 in 198.19.0.0/16 with the monitored
// address, 198.18.0.100/24, last: the worst place for a linear search.
func crowd(n int) []Addr {
	addrs := make([]Addr, 0, n+2)
	addrs = append(addrs, Addr{Prefix: netip.MustParsePrefix("198.18.0.1/24"), LinkIndex: 2, Broadcast: netip.MustParseAddr("198.18.0.255")})
	for i := range n {
		addrs = append(addrs, Addr{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 19, byte(i / 250), byte(i%250 + 1)}), 32), LinkIndex: 2})
	}
	return append(addrs, Addr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2, Broadcast: netip.MustParseAddr("198.18.0.255")})
}

// BenchmarkFindIf is the route lookup of every monitor that names no nic:
// a node's usual routes, and its addresses, few or many, which FindIf
// scans for the broadcast of the covering subnet.
func BenchmarkFindIf(b *testing.B) {
	routes := []Route{
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), LinkIndex: 2, Type: RouteUnicast},
		{Dst: netip.MustParsePrefix("198.18.0.0/24"), LinkIndex: 2, Src: netip.MustParseAddr("198.18.0.1"), Type: RouteUnicast, LinkScope: true},
		{Dst: netip.MustParsePrefix("198.18.1.0/24"), LinkIndex: 3, Src: netip.MustParseAddr("198.18.1.1"), Type: RouteUnicast, LinkScope: true},
		{Dst: netip.MustParsePrefix("198.19.0.0/16"), LinkIndex: 4, Type: RouteUnreachable},
	}
	q := Query{IP: netip.MustParseAddr("198.18.0.100"), PrefixLen: -1}
	b.ReportAllocs()
	for b.Loop() {
		f, err := FindIf(q, routes)
		if err != nil || f.LinkIndex != 2 || f.PrefixLen != 24 {
			b.Fatalf("FindIf = %+v, %v", f, err)
		}
	}
}

// BenchmarkAddrs is monitor's address lookup (AddrsOf: the kernel's dump,
// decoding only the matching message), in a namespace holding the nic's
// address and
// n others. It needs root, to create the namespace.
func BenchmarkAddrs(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root, to create a network namespace")
	}
	for _, n := range []int{0, 10000} {
		b.Run(fmt.Sprintf("others=%d", n), func(b *testing.B) {
			h := crowdedNamespace(b, crowd(n))
			defer h.Close()
			b.ReportAllocs()
			vip := netip.MustParseAddr("198.18.0.100")
			for b.Loop() {
				addrs, err := h.AddrsOf(vip)
				if err != nil || len(addrs) != 1 {
					b.Fatalf("AddrsOf: %d addresses, %v", len(addrs), err)
				}
			}
		})
	}
}

// BenchmarkAddrOn is monitor's question, the monitored address on its
// nic, asked of the kernel for that address alone: the other addresses
// must not change its cost.
func BenchmarkAddrOn(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root, to create a network namespace")
	}
	vip := netip.MustParsePrefix("198.18.0.100/24")
	for _, n := range []int{0, 10000} {
		b.Run(fmt.Sprintf("others=%d", n), func(b *testing.B) {
			h := crowdedNamespace(b, crowd(n))
			defer h.Close()
			lo, err := h.LinkByName("lo")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if a, err := h.AddrOn(lo, vip, ""); a == nil || err != nil {
					b.Fatalf("AddrOn = %v, %v", a, err)
				}
			}
		})
	}
}

// crowdedNamespace returns a Handle on a new network namespace whose
// loopback holds addrs, and removes the namespace when the benchmark ends.
func crowdedNamespace(b testing.TB, addrs []Addr) *Handle {
	b.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		b.Fatalf("read own network namespace: %v", err)
	}
	defer orig.Close()
	name := fmt.Sprintf("fipbench%d", os.Getpid())
	ns, err := netns.NewNamed(name)
	if err != nil {
		runtime.UnlockOSThread()
		b.Fatalf("create a network namespace: %v", err)
	}
	ns.Close()
	b.Cleanup(func() { netns.DeleteNamed(name) })
	if err := netns.Set(orig); err != nil {
		// This thread is in the new namespace: leaving it locked makes
		// the runtime end it with this goroutine.
		b.Fatalf("leave the new network namespace: %v", err)
	}
	runtime.UnlockOSThread()
	h, err := Open(name)
	if err != nil {
		b.Fatal(err)
	}
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.SetUp(lo)
	}
	for _, a := range addrs {
		if err != nil {
			break
		}
		err = h.AddAddr(lo, NewAddr{Prefix: a.Prefix, Broadcast: a.Broadcast, PreferredLifetime: Forever})
	}
	if err != nil {
		h.Close()
		b.Fatalf("fill the namespace: %v", err)
	}
	return h
}
