package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

func TestStartMonitorStop(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	a := labtest.Floatip(t, l.Host("a"))
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24"}
	probe := append(slices.Clone(p), "OCF_RESKEY_CRM_meta_interval=0")
	recurring := append(slices.Clone(p), "OCF_RESKEY_CRM_meta_interval=10000")

	a.Expect(7, "monitor", probe...)
	a.Expect(7, "monitor", recurring...)
	a.Expect(0, "start", p...)
	a.Expect(0, "monitor", recurring...)
	a.Expect(0, "monitor", probe...)
	if st := a.Expect(0, "status", p...); st.Stdout != "running\n" {
		t.Errorf("status printed %q", st.Stdout)
	}
	a.Expect(0, "start", p...)
	want := []labtest.VIPAddr{{Prefix: labtest.VIP + "/24", Broadcast: "198.18.0.255", Label: "eth0"}}
	if got := labtest.VIPOn(t, l.Host("a"), labtest.VIP); !slices.Equal(got, want) {
		t.Errorf("after two starts: %+v, want %+v", got, want)
	}
	a.Expect(0, "stop", p...)
	if got := labtest.VIPOn(t, l.Host("a"), labtest.VIP); len(got) != 0 {
		t.Errorf("after stop: %+v", got)
	}
	a.Expect(7, "monitor", recurring...)
	a.Expect(0, "stop", p...)
	if st := a.Expect(7, "status", p...); st.Stdout != "stopped\n" {
		t.Errorf("status printed %q", st.Stdout)
	}
	if left, _ := os.ReadDir(a.Rsctmp); len(left) != 0 {
		t.Errorf("left in HA_RSCTMP: %v", left)
	}
	if s := labtest.Announcers(); len(s) != 0 {
		t.Errorf("announcers left running: %v", s)
	}
}

// TestStopEndsTheBurst: stop during a long background burst ends the
// sender, removes its pid file, and no frame follows.
func TestStopEndsTheBurst(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	a := labtest.Floatip(t, l.Host("a"))
	capture, err := l.Host("m").Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	p := []string{"ip=" + labtest.VIP, "arp_count=100", "arp_interval=40"}
	a.Expect(0, "start", p...)
	// The burst is under way once its first frames reach M.
	capture.Until(func(fs []lab.Frame) bool { return len(lab.DecodeARP(fs)) >= 3 }, 5*time.Second)
	if len(labtest.Announcers()) != 1 {
		t.Fatalf("announcers running: %v", labtest.Announcers())
	}
	pidfile := filepath.Join(a.Rsctmp, "floatip-announce-"+labtest.Key(t, l.Host("a"), labtest.VIP)+".pid")
	if _, err := os.Stat(pidfile); err != nil {
		t.Fatalf("no pid file during the burst: %v", err)
	}
	stop := a.Expect(0, "stop", p...)
	// Any frame the sender sent after stop is in what M received before a
	// marker sent from A once no sender runs.
	labtest.BurstOver(t, l.Host("a"))
	frames := lab.DecodeARP(labtest.Drain(t, capture, l.Host("a")))
	if len(frames) < 3 || len(frames) >= 200 {
		t.Errorf("%d frames, want a burst cut short by stop", len(frames))
	}
	for _, f := range frames {
		if f.Time.After(stop.End) {
			t.Errorf("frame after stop returned: %s", f)
		}
	}
	if s := labtest.Announcers(); len(s) != 0 {
		t.Errorf("announcers left running: %v", s)
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("pid file left: %v", err)
	}
}

// TestFirstFrameBeforeStartReturns: a peer receives the first
// announcement before start has returned, by the kernel's timestamps.
func TestFirstFrameBeforeStartReturns(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	r := labtest.Floatip(t, l.Host("a"))
	c, err := l.Host("m").Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	start := r.Expect(0, "start", "ip="+labtest.VIP)
	c.Until(func(fs []lab.Frame) bool { return len(lab.DecodeARP(fs)) > 0 }, 5*time.Second)
	frames := lab.DecodeARP(c.Close())
	if len(frames) == 0 || !frames[0].Time.Before(start.End) {
		t.Errorf("first of %d frames did not arrive before start returned", len(frames))
	}
	r.Expect(0, "stop", "ip="+labtest.VIP)
}

// TestProbeWithoutNic: a node that lacks the nic is a node where the
// address does not run.
func TestProbeWithoutNic(t *testing.T) {
	l := labtest.NewLab(t, lab.HostSpec{Name: "a"})
	a := labtest.Floatip(t, l.Host("a"))
	a.Expect(7, "monitor", "ip="+labtest.VIP, "nic=eth7", "OCF_RESKEY_CRM_meta_interval=0")
	a.Expect(7, "monitor", "ip="+labtest.VIP, "OCF_RESKEY_CRM_meta_interval=0")
	a.Expect(0, "stop", "ip="+labtest.VIP, "nic=eth7")
	a.Expect(0, "stop", "ip="+labtest.VIP)
	if r := a.Expect(5, "start", "ip="+labtest.VIP, "nic=eth7", "cidr_netmask=24"); !strings.Contains(r.Stderr, "ocf-exit-reason:Invalid interface name [eth7]") {
		t.Errorf("start reason: %s", r.Stderr)
	}
}

// TestAddressRemovedBehindOurBack: monitor reports what the kernel has, and
// the next start puts the address back.
func TestAddressRemovedBehindOurBack(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	a := labtest.Floatip(t, h)
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "arp_bg=false", "arp_count=1"}
	a.Expect(0, "start", p...)
	if err := h.IP("addr", "del", labtest.VIP+"/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	a.Expect(7, "monitor", p...)
	a.Expect(0, "start", p...)
	a.Expect(0, "monitor", p...)
	a.Expect(0, "stop", p...)
}

// TestRunArping: with run_arping, start probes the link first and refuses
// an address another host answers for, naming that host's MAC.
func TestRunArping(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	a, m := l.Host("a"), l.Host("m")
	r := labtest.Floatip(t, a)
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "run_arping=true"}
	if err := m.IP("addr", "add", labtest.VIP+"/24", "dev", m.Dev); err != nil {
		t.Fatal(err)
	}
	res := r.Expect(1, "start", p...)
	if want := "ocf-exit-reason:IPv4 address collision " + labtest.VIP + " [DAD]: " + m.MAC.String(); !strings.Contains(res.Stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
	}
	if got := labtest.VIPOn(t, a, labtest.VIP); len(got) != 0 {
		t.Errorf("added despite the collision: %+v", got)
	}
	if err := m.IP("addr", "del", labtest.VIP+"/24", "dev", m.Dev); err != nil {
		t.Fatal(err)
	}
	r.Expect(0, "start", p...)
	r.Expect(0, "monitor", p...)
	r.Expect(0, "stop", p...)
}

// TestNetworkNamespace runs the agent outside the lab, naming host a's
// namespace in network_namespace: the address, the announcements and the
// background sender all happen in that namespace, entered in-process.
func TestNetworkNamespace(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	a, m := l.Host("a"), l.Host("m")
	c, err := m.Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	rsctmp := t.TempDir()
	run := func(want int, action string, params ...string) {
		t.Helper()
		cmd := exec.Command(labtest.Binary, action)
		cmd.Env = labtest.OCFEnv(rsctmp, params...)
		out, err := cmd.CombinedOutput()
		code := cmd.ProcessState.ExitCode()
		if err != nil && code < 0 {
			t.Fatal(err)
		}
		if code != want {
			t.Errorf("%s %v = %d, want %d: %s", action, params, code, want, out)
		}
	}
	p := []string{"ip=" + labtest.VIP, "network_namespace=" + a.NS}
	run(7, "monitor", p...)
	run(0, "start", p...)
	run(0, "monitor", p...)
	labtest.BurstOver(t, a)
	if got := labtest.VIPOn(t, a, labtest.VIP); len(got) != 1 || got[0].Prefix != labtest.VIP+"/24" {
		t.Errorf("host a has %+v", got)
	}
	frames := lab.DecodeARP(labtest.Drain(t, c, a))
	if len(frames) != 10 || frames[0].SenderHW.String() != a.MAC.String() {
		t.Errorf("M saw %d frames (want 10 from %s): %v", len(frames), a.MAC, frames)
	}
	run(0, "stop", p...)
	if got := labtest.VIPOn(t, a, labtest.VIP); len(got) != 0 {
		t.Errorf("left %+v", got)
	}
	// A namespace missing on this node: the address cannot be here, and
	// start fails with OCF_ERR_INSTALLED, so that Pacemaker tries another
	// node rather than ban the resource from all (OCF_ERR_CONFIGURED).
	// IPaddr2 (4.12 here; 4.18 and upstream main alike) exits 255 for
	// every action, the code of the ip netns exec it runs itself under,
	// stop included.
	missing := []string{"ip=" + labtest.VIP, "network_namespace=" + l.Prefix + "-nowhere"}
	hb := labtest.Heartbeat(t, a)
	for _, tt := range []struct {
		action string
		env    []string
		want   int
	}{
		{"monitor", []string{"OCF_RESKEY_CRM_meta_interval=0"}, 7},
		{"monitor", []string{"OCF_RESKEY_CRM_meta_interval=10000"}, 7},
		{"stop", nil, 0},
		{"start", nil, 5},
		{"validate-all", nil, 5},
	} {
		run(tt.want, tt.action, append(tt.env, missing...)...)
		hb.Expect(255, tt.action, append(tt.env, missing...)...)
	}
}

// TestLVSSupport: with lvs_support, start takes the address off the
// loopback, where an LVS real server keeps it, and stop puts it back, as
// IPaddr2 does.
func TestLVSSupport(t *testing.T) {
	for _, agent := range []string{"floatip", "heartbeat"} {
		t.Run(agent, func(t *testing.T) {
			l := labtest.NewLab(t, labtest.HostA)
			h := l.Host("a")
			if err := h.IP("addr", "add", labtest.VIP+"/32", "dev", "lo"); err != nil {
				t.Fatal(err)
			}
			r := labtest.Floatip(t, h)
			if agent == "heartbeat" {
				r = labtest.Heartbeat(t, h)
			}
			p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "lvs_support=true"}
			r.Expect(0, "start", p...)
			if on := onLoopback(t, h); on {
				t.Error("the loopback still holds the address after start")
			}
			if got := labtest.VIPOn(t, h, labtest.VIP); len(got) != 1 {
				t.Errorf("eth0 holds %+v", got)
			}
			r.Expect(0, "stop", p...)
			if on := onLoopback(t, h); !on {
				t.Error("the loopback did not get the address back at stop")
			}
		})
	}
}

func onLoopback(t *testing.T, h *lab.Host) bool {
	t.Helper()
	nh, err := h.Handle()
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	lo, err := nh.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := nh.AddrList(lo, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if a.IPNet.String() == labtest.VIP+"/32" {
			return true
		}
	}
	return false
}
