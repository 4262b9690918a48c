package agent

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"

	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

// benchKernel is a node whose eth0 holds the monitored address behind n
// others. It implements what monitor calls; the embedded Kernel, nil,
// stands for the rest, so that a benchmark calling anything else panics
// rather than measuring a fake (if monitor starts calling a new method,
// implement it here).
type benchKernel struct {
	Kernel
	addrs  []netif.Addr
	routes []netif.Route
	// vip and ofVIP are the monitored address and AddrsOf's answer for it.
	vip   netip.Addr
	ofVIP []netif.Addr
}

func newBenchKernel(others int) *benchKernel {
	k := &benchKernel{
		routes: []netif.Route{{Dst: netip.MustParsePrefix("198.18.0.0/24"), LinkIndex: 2, Src: netip.MustParseAddr("198.18.0.1"), Type: netif.RouteUnicast, LinkScope: true}},
	}
	k.addrs = append(k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.1/24"), LinkIndex: 2, Broadcast: netip.MustParseAddr("198.18.0.255")})
	for i := range others {
		k.addrs = append(k.addrs, netif.Addr{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 19, byte(i / 250), byte(i%250 + 1)}), 32), LinkIndex: 2})
	}
	// Last, where a linear match finds it latest.
	k.addrs = append(k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2, Broadcast: netip.MustParseAddr("198.18.0.255")})
	vip := netip.MustParseAddr("198.18.0.100")
	k.ofVIP, _ = k.AddrsOf(vip)
	k.vip = vip
	return k
}

var benchLink = netif.Link{Name: "eth0", Index: 2, Up: true, Carrier: true, MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}}

func (k *benchKernel) LinkByName(name string) (netif.Link, error) {
	if name != benchLink.Name {
		return netif.Link{}, netif.ErrLinkNotFound
	}
	return benchLink, nil
}

func (k *benchKernel) LinkByIndex(i int) (netif.Link, error) {
	if i != benchLink.Index {
		return netif.Link{}, netif.ErrLinkNotFound
	}
	return benchLink, nil
}

// AddrsOf answers as the kernel's dump does once netif has filtered it:
// the addresses equal to ip. It scans the node's list, a cost that
// netif.BenchmarkAddrs measures against a real kernel; here it is kept out
// of the timing by answering from a list filtered beforehand.
func (k *benchKernel) AddrsOf(ip netip.Addr) ([]netif.Addr, error) {
	if ip == k.vip {
		return k.ofVIP, nil
	}
	var out []netif.Addr
	for _, a := range k.addrs {
		if a.Prefix.Addr() == ip {
			out = append(out, a)
		}
	}
	return out, nil
}

// AddrOn answers as the kernel does for one address: with the address
// or nil, whatever else the node holds.
func (k *benchKernel) AddrOn(l netif.Link, p netip.Prefix, label string) (*netif.Addr, error) {
	for i, a := range k.ofVIP {
		if a.LinkIndex == l.Index && a.Prefix == p {
			return &k.ofVIP[i], nil
		}
	}
	return nil, nil
}

func (k *benchKernel) Routes(netif.Family) ([]netif.Route, error) { return k.routes, nil }

func (k *benchKernel) Close() {}

// benchAgent is the agent of a recurring monitor of 198.18.0.100/24,
// configured as Pacemaker would run it, logging nowhere.
func benchAgent(b *testing.B, k fake) *Agent {
	b.Helper()
	md := metadata.Declared()
	e := ocf.ParseEnv([]string{"OCF_RESOURCE_INSTANCE=vip", "HA_RSCTMP=" + b.TempDir(),
		"OCF_RESKEY_CRM_meta_interval=10000", "OCF_RESKEY_ip=198.18.0.100", "OCF_RESKEY_cidr_netmask=24"})
	params := md.Defaults()
	for name, v := range e.Params {
		params[name] = v
	}
	return &Agent{
		Open:     func(string) (Kernel, error) { return kernelOf(k), nil },
		Log:      ocf.NewLogger(e, "IPaddr2", 1, io.Discard),
		Env:      e,
		Params:   params,
		Defaults: md.Defaults(),
		Root:     true,
		Stdout:   io.Discard,
	}
}

// BenchmarkServed is monitor's match of the address against what the
// kernel answered, alone. The answer holds the monitored address only, so
// the other addresses on the nic must cost nothing here.
func BenchmarkServed(b *testing.B) {
	for _, n := range []int{0, 10000} {
		b.Run(fmt.Sprintf("others=%d", n), func(b *testing.B) {
			a := benchAgent(b, newBenchKernel(n))
			t, err := a.resolve(Monitor)
			if err != nil {
				b.Fatalf("resolve: %v", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if on, err := a.served(t); !on || err != nil {
					b.Fatalf("served = %v, %v", on, err)
				}
			}
		})
	}
}

// BenchmarkMonitor is the whole monitor action over a kernel that answers
// at once: parameters, findif, and the match. The real cost adds the
// process start and the netlink dumps (make bench measures those).
func BenchmarkMonitor(b *testing.B) {
	for _, n := range []int{0, 10000} {
		b.Run(fmt.Sprintf("others=%d", n), func(b *testing.B) {
			a := benchAgent(b, newBenchKernel(n))
			monitor := a.Handlers()["monitor"]
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if st := monitor(ctx); st != ocf.Success {
					b.Fatalf("monitor = %v", st)
				}
			}
		})
	}
}
