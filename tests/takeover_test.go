package tests

import (
	"strings"
	"testing"

	"github.com/floatip/floatip/tests/internal/labtest"
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
			l := labtest.NewLab(t, labtest.HostA)
			h := l.Host("a")
			p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", tt.param}
			labtest.Heartbeat(t, h).Expect(0, "start", p...)
			if !labtest.HasAddr(t, h, labtest.VIP+"/24") {
				t.Fatalf("heartbeat:IPaddr2 did not add %s", labtest.VIP)
			}
			f := labtest.Floatip(t, h)
			f.Expect(tt.monitor, "monitor", append(p, "OCF_RESKEY_CRM_meta_interval=10000")...)
			f.Expect(0, "stop", p...)
			if labtest.HasAddr(t, h, labtest.VIP+"/24") {
				t.Errorf("floatip's stop exited 0 and left %s on the nic", labtest.VIP)
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
		{"ip=" + labtest.VIP + " "},
		{"ip= " + labtest.VIP},
		{"ip=" + labtest.VIP, "cidr_netmask=24 "},
	} {
		t.Run(strings.Join(p, ","), func(t *testing.T) {
			l := labtest.NewLab(t, labtest.HostA)
			h := l.Host("a")
			labtest.Heartbeat(t, h).Expect(0, "start", p...)
			if !labtest.HasAddr(t, h, labtest.VIP+"/24") {
				t.Fatalf("heartbeat:IPaddr2 did not add %s", labtest.VIP)
			}
			labtest.Floatip(t, h).Expect(0, "stop", p...)
			if labtest.HasAddr(t, h, labtest.VIP+"/24") {
				t.Errorf("floatip's stop exited 0 and left %s on the nic", labtest.VIP)
			}
		})
	}
}
