package tests

import (
	"slices"
	"strings"
	"testing"
)

// TestStopWhereTheAddressIs: a more specific route through another nic
// makes findif pick that nic after start. floatip's stop still removes
// the address from the nic that holds it, and its monitor fails naming
// where the address is. heartbeat:IPaddr2 (4.12 here; 4.18 and upstream's
// main answer the same) says 7 to the monitor and 0 to the stop, and
// leaves the address on the node: Pacemaker would then start it on a
// second node while this one still answers for it.
func TestStopWhereTheAddressIs(t *testing.T) {
	l := newLab(t, hostA)
	h := l.Host("a")
	if err := h.IP("link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"); err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{"eth1", "eth1p"} {
		if err := h.IP("link", "set", dev, "up"); err != nil {
			t.Fatal(err)
		}
	}
	p := []string{"ip=" + vip, "arp_bg=false", "arp_count=1"}
	recurring := append(slices.Clone(p), "OCF_RESKEY_CRM_meta_interval=10000")
	probe := append(slices.Clone(p), "OCF_RESKEY_CRM_meta_interval=0")
	want := []vipAddr{{Prefix: vip + "/24", Broadcast: "198.18.0.255", Label: "eth0"}}
	for _, tc := range []struct {
		agent   *agentRunner
		monitor int
		left    []vipAddr
	}{
		{floatip(t, h), 1, nil},
		{heartbeat(t, h), 7, want},
	} {
		a := tc.agent
		a.expect(0, "start", p...)
		if got := vipOn(t, h, vip); !slices.Equal(got, want) {
			t.Fatalf("after start: %+v, want %+v", got, want)
		}
		if err := h.IP("route", "add", "198.18.0.0/25", "dev", "eth1"); err != nil {
			t.Fatal(err)
		}
		r := a.expect(tc.monitor, "monitor", recurring...)
		if tc.monitor == 1 && !strings.Contains(r.Stderr, "ocf-exit-reason:"+vip+" is on eth0 as "+vip+"/24, not on eth1 as "+vip+"/25") {
			t.Errorf("monitor's reason: %s", r.Stderr)
		}
		a.expect(tc.monitor, "monitor", probe...)
		a.expect(0, "stop", p...)
		if got := vipOn(t, h, vip); !slices.Equal(got, tc.left) {
			t.Errorf("%s: after stop: %+v, want %+v", a.path, got, tc.left)
		}
		// The next agent starts from a clean node.
		if len(tc.left) > 0 {
			if err := h.IP("addr", "del", vip+"/24", "dev", "eth0"); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.IP("route", "del", "198.18.0.0/25", "dev", "eth1"); err != nil {
			t.Fatal(err)
		}
	}
}
