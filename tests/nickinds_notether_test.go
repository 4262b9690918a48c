package tests

import (
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/tests/internal/labtest"
)

// TestNicKindsHardwareType reads links of each kind through netif, as the
// agent does: the Ethernet kinds and loopback say so, a tun device and one
// that TUNSETLINK made InfiniBand do not, and an altname finds the real
// link.
func TestNicKindsHardwareType(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	a := l.Host("a")
	if err := a.IP("link", "property", "add", "dev", "eth0", "altname", kindAltname); err != nil {
		t.Fatal(err)
	}
	if err := a.IP("link", "add", "br0", "type", "bridge"); err != nil {
		t.Fatal(err)
	}
	if err := a.IP("link", "add", "mv0", "link", "eth0", "type", "macvlan"); err != nil {
		t.Fatal(err)
	}
	if err := a.AddTun("tun0", unix.ARPHRD_NONE); err != nil {
		t.Fatal(err)
	}
	if err := a.AddTun("ib0", unix.ARPHRD_INFINIBAND); err != nil {
		t.Fatal(err)
	}
	h, err := netif.Open(a.NS)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	type kind struct {
		Name         string
		HardwareType uint16
		HardwareName string
	}
	tests := []struct {
		nic  string
		want kind
	}{
		{"eth0", kind{"eth0", unix.ARPHRD_ETHER, "ether"}},
		{kindAltname, kind{"eth0", unix.ARPHRD_ETHER, "ether"}},
		{"br0", kind{"br0", unix.ARPHRD_ETHER, "ether"}},
		{"mv0", kind{"mv0", unix.ARPHRD_ETHER, "ether"}},
		{"lo", kind{"lo", unix.ARPHRD_LOOPBACK, "loopback"}},
		{"tun0", kind{"tun0", unix.ARPHRD_NONE, "none"}},
		{"ib0", kind{"ib0", unix.ARPHRD_INFINIBAND, "infiniband"}},
	}
	for _, tt := range tests {
		t.Run(tt.nic, func(t *testing.T) {
			link, err := h.LinkByName(tt.nic)
			if err != nil {
				t.Fatal(err)
			}
			got := kind{link.Name, link.HardwareType, link.HardwareName}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("LinkByName(%q) (-want +got):\n%s", tt.nic, diff)
			}
		})
	}
}

// TestNicKindsNotEthernet: a nic that is no Ethernet link, a tun device
// or one the kernel reports as InfiniBand (resource-agents #654, #1985),
// is a configuration error for start and validate-all, with the reason,
// whether the nic parameter names it or findif finds it, and start leaves
// nothing behind. A monitor finds the VIP not running and stop has nothing
// to do. heartbeat:IPaddr2 4.12 instead adds the VIP, fails to announce it
// ("Cannot find mac address") and exits 0.
func TestNicKindsNotEthernet(t *testing.T) {
	links := []struct {
		name   string
		nic    string
		hwType uint16
		reason string
	}{
		{"tun", "tun0", unix.ARPHRD_NONE,
			"ocf-exit-reason:nic [tun0] has no link layer (ARPHRD 65534): floatip announces only on Ethernet"},
		{"infiniband", "ib0", unix.ARPHRD_INFINIBAND,
			"ocf-exit-reason:nic [ib0] is an infiniband link (ARPHRD 32): floatip announces only on Ethernet"},
	}
	setups := []struct {
		name string
		// subnetOnNic moves host a's own address, and so the subnet's
		// route, from eth0 to the nic, as on a node whose cluster network
		// is that link.
		subnetOnNic bool
		// findif leaves the nic parameter out.
		findif bool
	}{
		{name: "nic, subnet on eth0"},
		{name: "nic, subnet on the nic", subnetOnNic: true},
		{name: "findif, subnet on the nic", subnetOnNic: true, findif: true},
	}
	steps := []struct {
		name, action string
		env          []string
		want         int
	}{
		{"validate-all", "validate-all", nil, 6},
		{"probe", "monitor", []string{"OCF_RESKEY_CRM_meta_interval=0"}, 7},
		{"start", "start", nil, 6},
		{"monitor", "monitor", []string{"OCF_RESKEY_CRM_meta_interval=10000"}, 7},
		{"stop", "stop", nil, 0},
	}
	// What heartbeat:IPaddr2 answers on every one of these.
	heartbeatCodes := map[string]int{"validate-all": 0, "probe": 7, "start": 0, "monitor": 0, "stop": 0}
	for _, ln := range links {
		for _, su := range setups {
			t.Run(ln.name+"/"+su.name, func(t *testing.T) {
				for _, agent := range []string{"floatip", "heartbeat"} {
					l := labtest.NewLab(t, labtest.HostA)
					a := l.Host("a")
					if err := a.AddTun(ln.nic, ln.hwType); err != nil {
						t.Fatal(err)
					}
					if err := a.IP("link", "set", ln.nic, "up"); err != nil {
						t.Fatal(err)
					}
					if su.subnetOnNic {
						if err := a.MoveAddr(ln.nic); err != nil {
							t.Fatal(err)
						}
					}
					r := labtest.Floatip(t, a)
					if agent == "heartbeat" {
						r = labtest.Heartbeat(t, a)
					}
					params := []string{"ip=" + labtest.VIP, "cidr_netmask=24"}
					if !su.findif {
						params = append(params, "nic="+ln.nic)
					}
					codes := map[string]int{}
					var afterStart, afterStop []string
					for _, s := range steps {
						res := r.Run(s.action, append(slices.Clone(params), s.env...)...)
						codes[s.name] = res.Code
						if agent == "floatip" && s.want == 6 {
							if got := labtest.ExitReasons(res.Stderr); !slices.Equal(got, []string{ln.reason}) {
								t.Errorf("floatip %s: exit reasons %q, want %q\n%s", s.name, got, ln.reason, res.Stderr)
							}
						}
						switch s.name {
						case "start":
							afterStart = kindVIPLinks(t, a)
						case "stop":
							afterStop = kindVIPLinks(t, a)
						}
					}
					if agent == "heartbeat" {
						t.Logf("heartbeat:IPaddr2 with %v: %v, VIP after start %v, after stop %v", params, codes, afterStart, afterStop)
						if diff := cmp.Diff(heartbeatCodes, codes); diff != "" {
							t.Errorf("heartbeat:IPaddr2's exit codes against the pinned ones (-want +got):\n%s", diff)
						}
						if len(afterStart) != 1 || len(afterStop) != 0 {
							t.Errorf("heartbeat:IPaddr2's VIP after start %v, after stop %v: pinned to be added and removed", afterStart, afterStop)
						}
						continue
					}
					want := map[string]int{}
					for _, s := range steps {
						want[s.name] = s.want
					}
					if diff := cmp.Diff(want, codes); diff != "" {
						t.Errorf("floatip's exit codes (-want +got):\n%s", diff)
					}
					if len(afterStart) != 0 {
						t.Errorf("floatip's failed start left the VIP: %v", afterStart)
					}
					if left, _ := os.ReadDir(r.Rsctmp); len(left) != 0 {
						t.Errorf("floatip left in HA_RSCTMP: %v", left)
					}
					if s := labtest.Announcers(); len(s) != 0 {
						t.Errorf("floatip announcers left running: %v", s)
					}
				}
			})
		}
	}
}
