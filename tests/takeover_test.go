package tests

import (
	"strings"
	"testing"
)

// TestTakeOverIPaddr2sLabels: a resource moved from heartbeat:IPaddr2 to
// floatip keeps its configuration, and the address IPaddr2 added stays on
// the nic until floatip stops it. The kernel and IPaddr2 take any bytes as
// a label; floatip's monitor must see the address as running and its stop
// must remove it, or the address ends on two nodes.
func TestTakeOverIPaddr2sLabels(t *testing.T) {
	for _, tt := range []struct {
		name, param string
		monitor     int
	}{
		{"UTF-8 iflabel", "iflabel=\u00e9t\u00e9", 0},
		{"UTF-8 label in nic", "nic=eth0:\u00e9", 0},
		// floatip refuses to add it (docs/compatibility.md), and still
		// stops it.
		{"iflabel with a tab", "iflabel=a\tb", 6},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t, hostA)
			h := l.Host("a")
			p := []string{"ip=" + vip, "cidr_netmask=24", tt.param}
			heartbeat(t, h).expect(0, "start", p...)
			if !hasAddr(t, h, vip+"/24") {
				t.Fatalf("heartbeat:IPaddr2 did not add %s", vip)
			}
			f := floatip(t, h)
			f.expect(tt.monitor, "monitor", append(p, "OCF_RESKEY_CRM_meta_interval=10000")...)
			f.expect(0, "stop", p...)
			if hasAddr(t, h, vip+"/24") {
				t.Errorf("floatip's stop exited 0 and left %s on the nic", vip)
			}
		})
	}
}

// TestTakeOverIPaddr2sSpacedAddress: heartbeat:IPaddr2 4.12 (Debian 12)
// adds an address written with a space before or after it, or with a
// space after its cidr_netmask. floatip
// refuses to start it (docs/compatibility.md), but its stop must remove
// the address that IPaddr2 left there.
func TestTakeOverIPaddr2sSpacedAddress(t *testing.T) {
	for _, p := range [][]string{
		// Without cidr_netmask: findif of 4.12 fails on "198.18.0.100 /24".
		{"ip=" + vip + " "},
		{"ip= " + vip},
		{"ip=" + vip, "cidr_netmask=24 "},
	} {
		t.Run(strings.Join(p, ","), func(t *testing.T) {
			l := newLab(t, hostA)
			h := l.Host("a")
			heartbeat(t, h).expect(0, "start", p...)
			if !hasAddr(t, h, vip+"/24") {
				t.Fatalf("heartbeat:IPaddr2 did not add %s", vip)
			}
			floatip(t, h).expect(0, "stop", p...)
			if hasAddr(t, h, vip+"/24") {
				t.Errorf("floatip's stop exited 0 and left %s on the nic", vip)
			}
		})
	}
}
