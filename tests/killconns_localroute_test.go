package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/internal/labtest"
)

// TestStartKeepsOneLocalRoute: a start on an address that is already there
// (a second start, or one after a stop cut short) leaves exactly the one
// local route the kernel keeps for it, and after the stop none is left. A
// local route that outlives the address makes the node take the address
// for its own after it has moved: its own packets to it go nowhere, and
// packets routed to it are accepted here.
func TestStartKeepsOneLocalRoute(t *testing.T) {
	for _, tt := range []struct {
		name     string
		vip      string
		netmask  string
		cutShort bool
		kill     bool
	}{
		{"IPv4 twice", labtest.VIP, "24", false, true},
		{"IPv6 twice", labtest.VIP6, "64", false, true},
		{"IPv4 after a cut-short stop", labtest.VIP, "24", true, true},
		{"IPv6 after a cut-short stop", labtest.VIP6, "64", true, true},
		// The stop that follows does not block, as when kill_connections
		// was turned off meanwhile.
		{"IPv4 after a cut-short stop, then a plain stop", labtest.VIP, "24", true, false},
		{"IPv6 after a cut-short stop, then a plain stop", labtest.VIP6, "64", true, false},
		{"IPv4 /32 after a cut-short stop, then a plain stop", labtest.VIP, "32", true, false},
		// The address is the primary of its subnet on the nic.
		{"IPv4 primary after a cut-short stop, then a plain stop", "198.19.5.100", "24", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := labtest.NewLab(t, labtest.HostA6)
			a := l.Host("a")
			r := labtest.Floatip(t, a)
			p := []string{"ip=" + tt.vip, "cidr_netmask=" + tt.netmask, "nic=" + a.Dev, "arp_bg=false", "arp_count=1", "nodad=true", "kill_connections=true"}
			t.Cleanup(func() { r.Run("stop", p...) })
			r.Expect(0, "start", p...)
			if tt.cutShort {
				if err := a.IP("route", "add", "blackhole", tt.vip, "table", "local", "metric", "1"); err != nil {
					t.Fatal(err)
				}
				if err := a.IP("route", "del", "local", tt.vip, "dev", a.Dev, "table", "local"); err != nil {
					t.Fatal(err)
				}
			}
			r.Expect(0, "start", p...)
			if diff := cmpRoutes([]string{"local"}, localTable(t, a, tt.vip)); diff != "" {
				t.Errorf("after the second start (-want +got):\n%s", diff)
			}
			stop := p
			if !tt.kill {
				stop = append(p[:len(p):len(p)], "kill_connections=false")
			}
			r.Expect(0, "stop", stop...)
			if diff := cmpRoutes(nil, localTable(t, a, tt.vip)); diff != "" {
				t.Errorf("after stop (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMonitorSeesCutShortStop: what a stop cut short by its timeout leaves
// does not pass for healthy. An address that is still there but blocked
// accepts nothing, so monitor fails and the cluster recovers it (a stop
// and a start make it usable again). The blackhole of an address that
// has gone would keep the node from reaching the address on its new
// holder, and no start or stop may come to this node to remove it (a
// cleanup probes, finds the address absent, and starts it elsewhere), so
// monitor removes it.
func TestMonitorSeesCutShortStop(t *testing.T) {
	for _, tt := range []struct {
		name    string
		vip     string
		netmask string
	}{
		{"IPv4", labtest.VIP, "24"},
		{"IPv6", labtest.VIP6, "64"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := labtest.NewLab(t, labtest.HostA6)
			a := l.Host("a")
			r := labtest.Floatip(t, a)
			p := []string{"ip=" + tt.vip, "cidr_netmask=" + tt.netmask, "arp_bg=false", "arp_count=1", "nodad=true", "kill_connections=true"}
			t.Cleanup(func() { r.Run("stop", p...) })
			block := func() {
				t.Helper()
				if err := a.IP("route", "add", "blackhole", tt.vip, "table", "local", "metric", "1"); err != nil {
					t.Fatal(err)
				}
			}
			r.Expect(0, "start", p...)
			block()
			if err := a.IP("route", "del", "local", tt.vip, "dev", a.Dev, "table", "local"); err != nil {
				t.Fatal(err)
			}
			res := r.Expect(1, "monitor", p...)
			if !strings.Contains(res.Stderr, "ocf-exit-reason:") {
				t.Errorf("monitor of a blocked address gives no reason: %s", res.Stderr)
			}
			r.Expect(0, "stop", p...)
			r.Expect(0, "start", p...)
			r.Expect(0, "monitor", p...)

			block()
			if err := a.IP("addr", "del", tt.vip+"/"+tt.netmask, "dev", a.Dev); err != nil {
				t.Fatal(err)
			}
			r.Expect(7, "monitor", p...)
			if diff := cmpRoutes(nil, localTable(t, a, tt.vip)); diff != "" {
				t.Errorf("after monitor of the absent address (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStartOnTentativeAddress: a start on an IPv6 address that is still
// in DAD puts no local route of its own: the kernel adds the address's
// route when DAD ends and removes it when the address goes. One added by
// hand would make the node accept the address before DAD has passed, and
// stay after the address has gone.
func TestStartOnTentativeAddress(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA6, labtest.HostM6)
	a := l.Host("a")
	r := labtest.Floatip(t, a)
	p := []string{"ip=" + labtest.VIP6, "cidr_netmask=64", "arp_bg=false", "arp_count=1", "kill_connections=true"}
	t.Cleanup(func() { r.Run("stop", p...) })
	if err := a.IP("addr", "add", labtest.VIP6+"/64", "dev", a.Dev); err != nil {
		t.Fatal(err)
	}
	if got := vip6On(t, a, labtest.VIP6); len(got) != 1 || !strings.Contains(got[0], "tentative") {
		t.Fatalf("the address is not in DAD: %v", got)
	}
	r.Expect(0, "start", p...)
	if got := vip6On(t, a, labtest.VIP6); len(got) == 1 && strings.Contains(got[0], "tentative") {
		if diff := cmpRoutes(nil, localTable(t, a, labtest.VIP6)); diff != "" {
			t.Errorf("local routes of the address in DAD after start (-want +got):\n%s", diff)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for got := vip6On(t, a, labtest.VIP6); len(got) != 1 || strings.Contains(got[0], "tentative"); got = vip6On(t, a, labtest.VIP6) {
		if time.Now().After(deadline) {
			t.Fatalf("DAD did not end: %v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if diff := cmpRoutes([]string{"local"}, localTable(t, a, labtest.VIP6)); diff != "" {
		t.Errorf("local routes after DAD (-want +got):\n%s", diff)
	}
	r.Expect(0, "stop", p...)
	if diff := cmpRoutes(nil, localTable(t, a, labtest.VIP6)); diff != "" {
		t.Errorf("after stop (-want +got):\n%s", diff)
	}
}
