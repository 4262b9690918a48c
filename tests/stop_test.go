package tests

import (
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// TestStopWhereTheAddressIs: a more specific route through another nic
// makes findif pick that nic after start. floatip's stop still removes
// the address from the nic that holds it, and its monitor fails naming
// where the address is. heartbeat:IPaddr2 (4.12 here; 4.18 and upstream's
// main answer the same) says 7 to the monitor and 0 to the stop, and
// leaves the address on the node: Pacemaker would then start it on a
// second node while this one still answers for it.
func TestStopWhereTheAddressIs(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	if err := h.IP("link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"); err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{"eth1", "eth1p"} {
		if err := h.IP("link", "set", dev, "up"); err != nil {
			t.Fatal(err)
		}
	}
	p := []string{"ip=" + labtest.VIP, "arp_bg=false", "arp_count=1"}
	recurring := append(slices.Clone(p), "OCF_RESKEY_CRM_meta_interval=10000")
	probe := append(slices.Clone(p), "OCF_RESKEY_CRM_meta_interval=0")
	want := []labtest.VIPAddr{{Prefix: labtest.VIP + "/24", Broadcast: "198.18.0.255", Label: "eth0"}}
	for _, tc := range []struct {
		agent   *labtest.AgentRunner
		monitor int
		left    []labtest.VIPAddr
	}{
		{labtest.Floatip(t, h), 1, nil},
		{labtest.Heartbeat(t, h), 7, want},
	} {
		a := tc.agent
		a.Expect(0, "start", p...)
		if got := labtest.VIPOn(t, h, labtest.VIP); !slices.Equal(got, want) {
			t.Fatalf("after start: %+v, want %+v", got, want)
		}
		if err := h.IP("route", "add", "198.18.0.0/25", "dev", "eth1"); err != nil {
			t.Fatal(err)
		}
		r := a.Expect(tc.monitor, "monitor", recurring...)
		if tc.monitor == 1 && !strings.Contains(r.Stderr, "ocf-exit-reason:"+labtest.VIP+" is on eth0 as "+labtest.VIP+"/24, not on eth1 as "+labtest.VIP+"/25") {
			t.Errorf("monitor's reason: %s", r.Stderr)
		}
		a.Expect(tc.monitor, "monitor", probe...)
		a.Expect(0, "stop", p...)
		if got := labtest.VIPOn(t, h, labtest.VIP); !slices.Equal(got, tc.left) {
			t.Errorf("%s: after stop: %+v, want %+v", a.Path, got, tc.left)
		}
		// The next agent starts from a clean node.
		if len(tc.left) > 0 {
			if err := h.IP("addr", "del", labtest.VIP+"/24", "dev", "eth0"); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.IP("route", "del", "198.18.0.0/25", "dev", "eth1"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStopKeepsTheOtherVIP: two VIPs in one subnet on a nic that has no
// address of its own there. The first is the kernel's primary, the second
// its secondary, and with promote_secondaries=0 (a new namespace's
// default) removing the primary removes the secondary too. floatip's stop
// of the first leaves the second as it was, answering all along, and
// puts promote_secondaries back; heartbeat:IPaddr2's (4.12 here, 4.18
// the same) drops it. IPv6 has no secondaries: there the second stays
// with either agent.
func TestStopKeepsTheOtherVIP(t *testing.T) {
	l := labtest.NewLab(t,
		lab.HostSpec{Name: "a", Addr: netip.MustParsePrefix("198.19.0.1/24"), Addr6: netip.MustParsePrefix("2001:db8:1::1/64")},
		lab.HostSpec{Name: "m", Addr: netip.MustParsePrefix("198.18.0.3/24"), Addr6: netip.MustParsePrefix("2001:db8::3/64")})
	h, m := l.Host("a"), l.Host("m")
	const promote = "net.ipv4.conf.eth0.promote_secondaries"
	for _, tc := range []struct {
		name   string
		agent  func() (*labtest.AgentRunner, *labtest.AgentRunner)
		v6     bool
		second string
		kept   bool
	}{
		{"floatip", func() (*labtest.AgentRunner, *labtest.AgentRunner) {
			return labtest.Floatip(t, h), labtest.Floatip(t, h)
		}, false, "198.18.0.101", true},
		{"heartbeat", func() (*labtest.AgentRunner, *labtest.AgentRunner) {
			return labtest.Heartbeat(t, h), labtest.Heartbeat(t, h)
		}, false, "198.18.0.101", false},
		{"floatip IPv6", func() (*labtest.AgentRunner, *labtest.AgentRunner) {
			return labtest.Floatip(t, h), labtest.Floatip(t, h)
		}, true, "2001:db8::101", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, second := tc.agent()
			p := []string{"nic=eth0", "cidr_netmask=24", "arp_bg=false", "arp_count=1"}
			ips := []string{"198.18.0.100", "198.18.0.101"}
			family := netlink.FAMILY_V4
			if tc.v6 {
				p = []string{"nic=eth0", "cidr_netmask=64", "nodad=true", "arp_count=1"}
				ips = []string{"2001:db8::100", "2001:db8::101"}
				family = netlink.FAMILY_V6
			}
			first.Expect(0, "start", append(p, "ip="+ips[0], "iflabel=a")...)
			second.Expect(0, "start", append(p, "ip="+ips[1], "iflabel=b")...)
			t.Cleanup(func() {
				first.Run("stop", append(p, "ip="+ips[0])...)
				second.Run("stop", append(p, "ip="+ips[1])...)
			})
			before := addrOf(t, h, family, tc.second)
			if before == nil {
				t.Fatalf("%s is not on eth0 after start", tc.second)
			}
			if !tc.v6 && before.Flags&unixSecondary == 0 {
				t.Fatalf("%s is no secondary: the lab does not make the case (flags %#x)", tc.second, before.Flags)
			}
			ping, err := m.Ping(netip.MustParseAddr(tc.second), 5*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			var once sync.Once
			var probes []lab.Probe
			closePing := func() []lab.Probe { once.Do(func() { probes = ping.Close() }); return probes }
			defer closePing()
			if !labtest.Eventually(3*time.Second, func() bool { return answered(ping.Probes(), time.Time{}) > 0 }) {
				t.Fatalf("%s does not answer m before the stop", tc.second)
			}
			first.Expect(0, "stop", append(p, "ip="+ips[0])...)
			stopped := time.Now()
			after := addrOf(t, h, family, tc.second)
			if !tc.kept {
				if after != nil {
					t.Errorf("%s: %s is still there; IPaddr2's stop of its primary used to drop it", tc.name, tc.second)
				}
				return
			}
			if after == nil {
				t.Fatalf("%s: the stop of %s took %s with it", tc.name, ips[0], tc.second)
			}
			// The same address, now the primary: label, broadcast,
			// scope, lifetimes and the other flags as they were.
			b, a := *before, *after
			b.Flags &^= unixSecondary
			b.LinkIndex, a.LinkIndex = 0, 0
			if b.String() != a.String() || b.Label != a.Label || !b.Broadcast.Equal(a.Broadcast) || b.Scope != a.Scope || b.Flags != a.Flags || b.PreferedLft != a.PreferedLft || b.ValidLft != a.ValidLft {
				t.Errorf("%s changed: before %+v, after %+v", tc.second, b, a)
			}
			if !labtest.Eventually(3*time.Second, func() bool { return answered(ping.Probes(), stopped) > 0 }) {
				t.Errorf("%s does not answer m after the stop", tc.second)
			}
			if lost := lostBetweenAnswers(closePing()); lost > 0 {
				t.Errorf("m lost %d echo replies of %s between answered ones", lost, tc.second)
			}
			if !tc.v6 {
				if v := sysctlOf(t, h, promote); v != "0" {
					t.Errorf("%s = %s after the stop, want 0 as it was", promote, v)
				}
			}
		})
	}
}

// unixSecondary is IFA_F_SECONDARY.
const unixSecondary = 0x01

// addrOf returns the address ip on host h's eth0, nil when it is not there.
func addrOf(t *testing.T, h *lab.Host, family int, ip string) *netlink.Addr {
	t.Helper()
	addrs, err := h.Addrs(family)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if a.IP.String() == ip {
			return &a
		}
	}
	return nil
}

// answered counts the probes sent after since that got their reply.
func answered(ps []lab.Probe, since time.Time) int {
	n := 0
	for _, p := range ps {
		if p.Sent.After(since) && !p.Replied.IsZero() {
			n++
		}
	}
	return n
}

// lostBetweenAnswers counts the unanswered probes sent between the first
// and the last answered one: a gap in which the address did not answer.
func lostBetweenAnswers(ps []lab.Probe) int {
	first, last := -1, -1
	for i, p := range ps {
		if !p.Replied.IsZero() {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	n := 0
	for i := first + 1; i < last; i++ {
		if ps[i].Replied.IsZero() {
			n++
		}
	}
	return n
}

// sysctlOf reads a kernel setting, named as sysctl(8) names it, in host h.
func sysctlOf(t *testing.T, h *lab.Host, name string) string {
	t.Helper()
	var b []byte
	err := h.Do(func() (err error) {
		b, err = os.ReadFile("/proc/sys/" + strings.ReplaceAll(name, ".", "/"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
