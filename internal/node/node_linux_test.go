package node

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/floatip/floatip/internal/needroot"
	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/tests/lab"
)

var (
	specA = lab.HostSpec{Name: "a", Addr: netip.MustParsePrefix("198.18.0.1/24"), Addr6: netip.MustParsePrefix("2001:db8::1/64")}
	specM = lab.HostSpec{Name: "m", Addr: netip.MustParsePrefix("198.18.0.3/24"), Addr6: netip.MustParsePrefix("2001:db8::3/64")}
	vip   = netip.MustParseAddr("198.18.0.100")
	vip6  = netip.MustParseAddr("2001:db8::100")
)

// newNode builds hosts a and m on one bridge and opens a's namespace as
// the agent does; both go when the test ends.
func newNode(t *testing.T) (*Namespace, netif.Link, *lab.Host, *lab.Host) {
	t.Helper()
	needroot.Check(t)
	l, err := lab.New(specA, specM)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("remove lab: %v", err)
		}
	})
	a := l.Host("a")
	k, err := Open(a.NS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	link, err := k.LinkByName(a.Dev)
	if err != nil {
		t.Fatal(err)
	}
	return k, link, a, l.Host("m")
}

func TestOpenMissingNamespace(t *testing.T) {
	needroot.Check(t)
	if _, err := Open("floatip-no-such-namespace"); err == nil || !errors.Is(err, netif.ErrNoNamespace) {
		t.Errorf("Open of a missing namespace: %v, want ErrNoNamespace", err)
	}
}

// TestDialGARP: the announcer Dial opens in the namespace sends gratuitous
// ARP for the address from the link's MAC.
func TestDialGARP(t *testing.T) {
	k, link, a, m := newNode(t)
	c, err := m.Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	an, err := k.Dial(link, vip, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	if err := an.Announce(0); err != nil {
		t.Fatal(err)
	}
	c.Until(func(f []lab.Frame) bool { return len(f) > 0 }, 2*time.Second)
	frames := lab.DecodeARP(c.Close())
	if len(frames) != 1 || frames[0].SenderIP != vip || frames[0].TargetIP != vip || frames[0].SenderHW.String() != a.MAC.String() {
		t.Errorf("m received %v, want one gratuitous ARP for %s from %s", frames, vip, a.MAC)
	}
}

// TestDialNARouterFlag: the advertisements set the Router flag exactly
// when the namespace forwards IPv6 on the link.
func TestDialNARouterFlag(t *testing.T) {
	for _, forwarding := range []bool{false, true} {
		k, link, a, m := newNode(t)
		if forwarding {
			if err := a.Do(func() error {
				return os.WriteFile("/proc/sys/net/ipv6/conf/"+a.Dev+"/forwarding", []byte("1"), 0)
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := k.AddAddr(link, netif.NewAddr{Prefix: netip.PrefixFrom(vip6, 64), NoDAD: true, PreferredLifetime: netif.Forever}); err != nil {
			t.Fatal(err)
		}
		c, err := m.Capture(0x86dd)
		if err != nil {
			t.Fatal(err)
		}
		an, err := k.Dial(link, vip6, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := an.Announce(0); err != nil {
			t.Fatal(err)
		}
		an.Close()
		ours := func(frames []lab.Frame) []lab.NA {
			var got []lab.NA
			for _, n := range lab.DecodeNA(frames) {
				if n.Target == vip6 && !n.Solicited {
					got = append(got, n)
				}
			}
			return got
		}
		c.Until(func(f []lab.Frame) bool { return len(ours(f)) > 0 }, 2*time.Second)
		got := ours(c.Close())
		if len(got) != 1 || got[0].Router != forwarding || !got[0].Override {
			t.Errorf("forwarding=%v: m received %+v, want one advertisement with Router=%v", forwarding, got, forwarding)
		}
	}
}

// TestProbeAndResolve: Probe names another holder of the address by its
// MAC and finds none when nobody holds it; Resolve asks the link for a
// neighbour that the table does not know.
func TestProbeAndResolve(t *testing.T) {
	k, link, a, m := newNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if who, err := k.Probe(ctx, link, vip); err != nil || who != "" {
		t.Errorf("Probe with nobody holding %s = %q, %v", vip, who, err)
	}
	if err := m.IP("addr", "add", vip.String()+"/24", "dev", m.Dev); err != nil {
		t.Fatal(err)
	}
	if who, err := k.Probe(ctx, link, vip); err != nil || who != m.MAC.String() {
		t.Errorf("Probe with m holding %s = %q, %v; want %s", vip, who, err, m.MAC)
	}
	mac, err := k.Resolve(ctx, link, specA.Addr.Addr(), specM.Addr.Addr())
	if err != nil || mac.String() != m.MAC.String() {
		t.Errorf("Resolve(m) = %v, %v; want %s", mac, err, m.MAC)
	}
	if _, err := a.Neighbor(specM.Addr.Addr()); err != nil {
		t.Fatal(err)
	}
}

// TestSysctlOfDottedNic: a nic named like a VLAN (eth0.100) has its
// settings under /proc/sys/net/ipv4/conf/eth0.100; sysctl(8) names them
// net.ipv4.conf.eth0/100.arp_ignore.
func TestSysctlOfDottedNic(t *testing.T) {
	k, _, a, _ := newNode(t)
	for _, args := range [][]string{
		{"link", "add", "x0.100", "type", "veth", "peer", "name", "x1"},
		{"link", "set", "x0.100", "up"},
	} {
		if err := a.IP(args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Do(func() error {
		return os.WriteFile("/proc/sys/net/ipv4/conf/x0.100/arp_ignore", []byte("2"), 0)
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Sysctl("net.ipv4.conf.x0/100.arp_ignore"); err != nil || got != "2" {
		t.Errorf("Sysctl(net.ipv4.conf.x0/100.arp_ignore) = %q, %v; want 2", got, err)
	}
}

// TestAddrsInAndPromoteSecondaries: AddrsIn lists the subnet's primary and
// its secondaries on the link, telling them apart by their flags, and
// with promote_secondaries set through SetSysctl the kernel keeps the
// secondary when the primary goes.
func TestAddrsInAndPromoteSecondaries(t *testing.T) {
	k, link, a, _ := newNode(t)
	for _, p := range []string{"198.19.0.100/24", "198.19.0.101/24", "198.19.0.102/25"} {
		if err := a.IP("addr", "add", p, "dev", a.Dev); err != nil {
			t.Fatal(err)
		}
	}
	p100, p101 := netip.MustParsePrefix("198.19.0.100/24"), netip.MustParsePrefix("198.19.0.101/24")
	got, err := k.AddrsIn(link, p101)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Prefix != p100 || got[0].Flags&netif.FlagSecondary != 0 || got[1].Prefix != p101 || got[1].Flags&netif.FlagSecondary == 0 {
		t.Fatalf("AddrsIn(%s) = %+v, want the primary %s and the secondary %s", p101, got, p100, p101)
	}
	const name = "net.ipv4.conf.eth0.promote_secondaries"
	if err := k.SetSysctl(name, "1"); err != nil {
		t.Fatal(err)
	}
	if v, err := k.Sysctl(name); err != nil || v != "1" {
		t.Fatalf("%s = %q, %v after SetSysctl; want 1", name, v, err)
	}
	if err := k.DelAddr(link, p100); err != nil {
		t.Fatal(err)
	}
	got, err = k.AddrsIn(link, p101)
	if err != nil || len(got) != 1 || got[0].Prefix != p101 || got[0].Flags&netif.FlagSecondary != 0 {
		t.Errorf("after the primary went: %+v, %v; want %s, promoted", got, err, p101)
	}
}
