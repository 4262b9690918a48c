package tests

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// nicKind is a kind of nic that host a's address can be on.
type nicKind struct {
	name string
	// build gives host a the nic and returns the name the nic parameter
	// gives and the name of the link the VIP must land on; they differ for
	// an altname.
	build func(t *testing.T, a *lab.Host) (nic, link string)
	// nicOnly: the kind is only reachable through the nic parameter,
	// findif alone finds the same link as the default veth.
	nicOnly bool
	// heartbeat pins the steps where heartbeat:IPaddr2 4.12 exits with
	// another code than floatip on this kind: step -> IPaddr2's code.
	heartbeat map[string]int
	// heartbeatLeaves pins that IPaddr2's stop leaves the VIP behind.
	heartbeatLeaves bool
}

// kindAltname is the alternative name the altname kind gives a's eth0.
const kindAltname = "vip-uplink-a"

// kindMAC is a MAC of the lab for a's stacked nic, distinct from eth0's so
// that the frames show which link sent them.
func kindMAC(a *lab.Host) net.HardwareAddr {
	mac := slices.Clone(a.MAC)
	mac[4] = 0x01
	return mac
}

var nicKinds = []nicKind{
	{name: "veth", build: func(t *testing.T, a *lab.Host) (string, string) { return "eth0", "eth0" }},
	{name: "bridge", build: func(t *testing.T, a *lab.Host) (string, string) {
		if err := a.Bridge("br0", kindMAC(a)); err != nil {
			t.Fatal(err)
		}
		return "br0", "br0"
	}},
	{name: "macvlan", build: func(t *testing.T, a *lab.Host) (string, string) {
		if err := a.Macvlan("mv0", kindMAC(a)); err != nil {
			t.Fatal(err)
		}
		return "mv0", "mv0"
	}},
	{name: "bond", build: func(t *testing.T, a *lab.Host) (string, string) {
		if err := a.Bond("bond0"); err != nil {
			if reason := kindNoBonding(err); reason != "" {
				t.Skip(reason)
			}
			t.Fatal(err)
		}
		return "bond0", "bond0"
	}},
	{
		name: "altname",
		build: func(t *testing.T, a *lab.Host) (string, string) {
			if err := a.IP("link", "property", "add", "dev", "eth0", "altname", kindAltname); err != nil {
				t.Fatal(err)
			}
			return kindAltname, "eth0"
		},
		nicOnly: true,
		// IPaddr2's ip_served compares the nic parameter with the names
		// "ip addr show" prints, which are never altnames: after its
		// start the address is there, but its monitor says not running,
		// a second start fails to add it again ("Address already
		// assigned") and its stop leaves it behind.
		heartbeat:       map[string]int{"start again": 1, "monitor": 7},
		heartbeatLeaves: true,
	},
}

// kindNoBonding returns why the kernel cannot make a bond, "" when err is no
// such reason.
func kindNoBonding(err error) string {
	if !strings.Contains(err.Error(), "Unknown device type") {
		return ""
	}
	var uts unix.Utsname
	unix.Uname(&uts)
	reason := fmt.Sprintf("kernel %s has no bonding driver (ip link add type bond: Unknown device type)", unix.ByteSliceToString(uts.Release[:]))
	if f, err := os.Open("/proc/config.gz"); err == nil {
		defer f.Close()
		if z, err := gzip.NewReader(f); err == nil {
			s := bufio.NewScanner(z)
			for s.Scan() {
				if l := s.Text(); strings.Contains(l, "CONFIG_BONDING") {
					reason += ": " + strings.TrimPrefix(l, "# ")
				}
			}
		}
	}
	if !slices.ContainsFunc([]string{"/sbin/modprobe", "/usr/sbin/modprobe"}, func(p string) bool {
		_, err := os.Stat(p)
		return err == nil
	}) {
		reason += ", and no modprobe to load it"
	}
	return reason
}

// kindSteps is what each agent runs on each kind, Pacemaker style.
var kindSteps = []struct {
	name, action string
	env          []string
	want         int
}{
	{"validate-all", "validate-all", nil, 0},
	{"probe", "monitor", []string{"OCF_RESKEY_CRM_meta_interval=0"}, 7},
	{"start", "start", nil, 0},
	{"start again", "start", nil, 0},
	{"monitor", "monitor", []string{"OCF_RESKEY_CRM_meta_interval=10000"}, 0},
	{"stop", "stop", nil, 0},
	{"monitor after stop", "monitor", []string{"OCF_RESKEY_CRM_meta_interval=10000"}, 7},
}

// kindRun is what one agent did on one kind.
type kindRun struct {
	codes map[string]int
	// started is where the VIP was after the second start ("link prefix
	// label"), stopped where it was after stop.
	started, stopped []string
	// garp says that M received a gratuitous ARP for the VIP from the
	// link's MAC, followed that M's entry for the VIP moved to it.
	garp, followed bool
}

// kindBogusMAC is what M's entry for the VIP names before the test: no host
// of the lab has it, so only an announcement can change it.
var kindBogusMAC = net.HardwareAddr{0x02, 0x00, 0x5e, 0xff, 0xff, 0xfe}

// TestNicKinds puts the VIP on a bridge, a macvlan, a bond, a veth and a
// nic named by its altname, with floatip and with heartbeat:IPaddr2:
// start, monitor and stop exit as on a plain veth, the address lands on the
// right link, and client M's existing neighbour entry follows the
// gratuitous ARP to the link's MAC.
func TestNicKinds(t *testing.T) {
	for _, kind := range nicKinds {
		for _, how := range []string{"nic", "findif"} {
			if how == "findif" && kind.nicOnly {
				continue
			}
			t.Run(kind.name+"/"+how, func(t *testing.T) {
				runs := map[string]kindRun{}
				for _, agent := range []string{"floatip", "heartbeat"} {
					runs[agent] = runNicKind(t, kind, how, agent)
				}
				checkNicKind(t, kind, runs["floatip"], runs["heartbeat"])
			})
		}
	}
}

func runNicKind(t *testing.T, kind nicKind, how, agent string) kindRun {
	t.Helper()
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	a, m := l.Host("a"), l.Host("m")
	nic, link := kind.build(t, a)
	params := []string{"ip=" + labtest.VIP, "cidr_netmask=24"}
	if how == "nic" {
		params = append(params, "nic="+nic)
	}
	attrs, err := a.Link(link)
	if err != nil {
		t.Fatal(err)
	}
	mac := attrs.HardwareAddr
	if err := m.IP("neigh", "replace", labtest.VIP, "lladdr", kindBogusMAC.String(), "dev", m.Dev, "nud", "stale"); err != nil {
		t.Fatal(err)
	}
	capture, err := m.Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	defer capture.Close()
	r := labtest.Floatip(t, a)
	if agent == "heartbeat" {
		r = labtest.Heartbeat(t, a)
	}
	run := kindRun{codes: map[string]int{}}
	for _, s := range kindSteps {
		res := r.Run(s.action, append(slices.Clone(params), s.env...)...)
		run.codes[s.name] = res.Code
		if res.Code != s.want {
			t.Logf("%s %s: exit %d\n%s", agent, s.name, res.Code, res.Stderr)
		}
		switch s.name {
		case "start":
			run.followed = labtest.Eventually(3*time.Second, func() bool {
				got, err := m.Neighbor(kindVIP)
				return err == nil && got.String() == mac.String()
			})
			// The capture's reader may see the frame after the kernel
			// has updated M's entry from it.
			run.garp = labtest.Eventually(time.Second, func() bool {
				return slices.ContainsFunc(lab.DecodeARP(capture.Frames()), func(f lab.ARP) bool {
					return f.SenderIP == kindVIP && f.SenderHW.String() == mac.String() && f.EthSrc.String() == mac.String()
				})
			})
		case "start again":
			run.started = kindVIPLinks(t, a)
		case "stop":
			run.stopped = kindVIPLinks(t, a)
		}
	}
	if agent == "floatip" {
		if left, _ := os.ReadDir(r.Rsctmp); len(left) != 0 {
			t.Errorf("floatip left in HA_RSCTMP: %v", left)
		}
		if s := labtest.Announcers(); len(s) != 0 {
			t.Errorf("floatip announcers left running: %v", s)
		}
	}
	t.Logf("%s with %v on %s (%s): %v, VIP after the starts %v, after stop %v, GARP from the link %v, M followed %v",
		agent, params, link, mac, run.codes, run.started, run.stopped, run.garp, run.followed)
	return run
}

var kindVIP = netip.MustParseAddr(labtest.VIP)

// kindVIPLinks says which links of h hold the VIP, as "link prefix label".
func kindVIPLinks(t *testing.T, h *lab.Host) []string {
	t.Helper()
	nh, err := h.Handle()
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	addrs, err := nh.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ad := range addrs {
		if ad.IP.String() != labtest.VIP {
			continue
		}
		l, err := nh.LinkByIndex(ad.LinkIndex)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s %s", l.Attrs().Name, ad.IPNet, ad.Label))
	}
	return out
}

func checkNicKind(t *testing.T, kind nicKind, fl, hb kindRun) {
	t.Helper()
	want := map[string]int{}
	for _, s := range kindSteps {
		want[s.name] = s.want
	}
	if diff := cmp.Diff(want, fl.codes); diff != "" {
		t.Errorf("floatip's exit codes (-want +got):\n%s", diff)
	}
	link := ""
	if len(fl.started) == 1 {
		link = strings.Fields(fl.started[0])[0]
	}
	if len(fl.started) != 1 || !strings.HasSuffix(fl.started[0], " "+labtest.VIP+"/24 "+link) {
		t.Errorf("floatip's VIP after start: %v, want it once, /24, labelled by its link", fl.started)
	}
	if len(fl.stopped) != 0 {
		t.Errorf("floatip's VIP after stop: %v", fl.stopped)
	}
	if !fl.garp || !fl.followed {
		t.Errorf("floatip: GARP from the link's MAC %v, M's entry followed %v", fl.garp, fl.followed)
	}

	hbWant := maps.Clone(want)
	maps.Copy(hbWant, kind.heartbeat)
	if diff := cmp.Diff(hbWant, hb.codes); diff != "" {
		t.Errorf("heartbeat:IPaddr2's exit codes against floatip's and the pinned differences (-want +got):\n%s", diff)
	}
	if left := len(hb.stopped) != 0; left != kind.heartbeatLeaves {
		t.Errorf("heartbeat:IPaddr2's VIP after stop: %v, pinned to be left behind: %v", hb.stopped, kind.heartbeatLeaves)
	}
	if len(kind.heartbeat) == 0 {
		if diff := cmp.Diff(fl.started, hb.started); diff != "" {
			t.Errorf("VIP after start, floatip against heartbeat:IPaddr2 (-floatip +IPaddr2):\n%s", diff)
		}
		if !hb.garp || !hb.followed {
			t.Errorf("heartbeat:IPaddr2: GARP from the link's MAC %v, M's entry followed %v", hb.garp, hb.followed)
		}
	}
}
