package tests

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// TestIPv6RouterFlag: a VIP that is the clients' IPv6 gateway lives on
// nodes that forward. floatip's advertisements then set the Router flag,
// so a client keeps the VIP as a router across a move, and its default
// route through the VIP works with the new holder. heartbeat's send_ua
// clears the flag: the client's entry stops being a router's.
func TestIPv6RouterFlag(t *testing.T) {
	hostB6 := lab.HostSpec{Name: "b", Addr: netip.MustParsePrefix("198.18.0.2/24"), Addr6: netip.MustParsePrefix("2001:db8::2/64")}
	for _, tc := range []struct {
		agent  string
		router bool
	}{{"floatip", true}, {"heartbeat", false}} {
		t.Run(tc.agent, func(t *testing.T) {
			l := labtest.NewLab(t, labtest.HostA6, hostB6, labtest.HostM6)
			a, b, m := l.Host("a"), l.Host("b"), l.Host("m")
			for _, h := range []*lab.Host{a, b} {
				if err := h.Do(func() error {
					return os.WriteFile("/proc/sys/net/ipv6/conf/"+h.Dev+"/forwarding", []byte("1"), 0)
				}); err != nil {
					t.Fatal(err)
				}
			}
			runner := func(h *lab.Host) *labtest.AgentRunner {
				if tc.agent == "heartbeat" {
					return labtest.Heartbeat(t, h)
				}
				return labtest.Floatip(t, h)
			}
			ra, rb := runner(a), runner(b)
			p := []string{"ip=" + labtest.VIP6, "cidr_netmask=64", "nodad=true", "arp_count=2", "arp_interval=50"}
			ra.Expect(0, "start", p...)
			learn6(t, m, labtest.VIP6)
			if err := m.IP("-6", "route", "add", "default", "via", labtest.VIP6, "dev", m.Dev); err != nil {
				t.Fatal(err)
			}
			ra.Expect(0, "stop", p...)
			rb.Expect(0, "start", p...)
			// M's entry follows once B's burst reached it: by then it
			// must name B, and carry the router flag as the agent set it.
			labtest.BurstOver(t, b)
			labtest.WaitFor(t, 5*time.Second, func() (bool, string) {
				entry := neigh6(t, m, labtest.VIP6)
				return strings.Contains(entry, "lladdr "+b.MAC.String()), fmt.Sprintf("M's entry after the move: %q, want B's MAC %s", entry, b.MAC)
			})
			entry := neigh6(t, m, labtest.VIP6)
			if got := strings.Contains(entry, " router"); got != tc.router {
				t.Errorf("M's entry after the move: %q; router flag %v, want %v", entry, got, tc.router)
			}
			out, err := exec.Command("ip", "-n", m.NS, "-6", "route", "get", "2001:db8:ffff::1").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "via "+labtest.VIP6) {
				t.Errorf("M's route beyond the gateway: %v: %s", err, out)
			}
			rb.Expect(0, "stop", p...)
		})
	}
}

// learn6 makes host h resolve ip: a datagram to it, then a wait for the
// neighbour entry (the lab's pinger speaks IPv4 only).
func learn6(t *testing.T, h *lab.Host, ip string) {
	t.Helper()
	for range 100 {
		if err := h.Do(func() error {
			c, err := net.Dial("udp6", net.JoinHostPort(ip, "9"))
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.Write([]byte("x"))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(neigh6(t, h, ip), "lladdr") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never resolved %s", h.Name, ip)
}

// neigh6 is host h's neighbour entry for ip as ip -6 neigh shows it.
func neigh6(t *testing.T, h *lab.Host, ip string) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", h.NS, "-6", "neigh", "show", ip).CombinedOutput()
	if err != nil {
		t.Fatalf("ip neigh show: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}
