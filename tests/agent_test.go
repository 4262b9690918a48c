package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/floatip/floatip/tests/lab"
)

// vipAddr is what a host has of the VIP: prefix, broadcast and label.
type vipAddr struct {
	Prefix    string
	Broadcast string
	Label     string
}

func vipOn(t *testing.T, h *lab.Host, ip string) []vipAddr {
	t.Helper()
	addrs, err := h.Addrs(netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var out []vipAddr
	for _, a := range addrs {
		if a.IP.String() != ip {
			continue
		}
		v := vipAddr{Prefix: a.IPNet.String(), Label: a.Label}
		if a.Broadcast != nil {
			v.Broadcast = a.Broadcast.String()
		}
		out = append(out, v)
	}
	return out
}

// announcers lists the running background senders of the test binary.
func announcers() []string {
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 1 && args[0] == binary && args[1] == "announce" {
			out = append(out, strings.Join(args, " "))
		}
	}
	return out
}

func TestStartMonitorStop(t *testing.T) {
	l := newLab(t, hostA)
	a := floatip(t, l.Host("a"))
	p := []string{"ip=" + vip, "cidr_netmask=24"}
	probe := append(slices.Clone(p), "OCF_RESKEY_CRM_meta_interval=0")
	recurring := append(slices.Clone(p), "OCF_RESKEY_CRM_meta_interval=10000")

	a.expect(7, "monitor", probe...)
	a.expect(7, "monitor", recurring...)
	a.expect(0, "start", p...)
	a.expect(0, "monitor", recurring...)
	a.expect(0, "monitor", probe...)
	if st := a.expect(0, "status", p...); st.Stdout != "running\n" {
		t.Errorf("status printed %q", st.Stdout)
	}
	a.expect(0, "start", p...)
	want := []vipAddr{{Prefix: vip + "/24", Broadcast: "198.18.0.255", Label: "eth0"}}
	if got := vipOn(t, l.Host("a"), vip); !slices.Equal(got, want) {
		t.Errorf("after two starts: %+v, want %+v", got, want)
	}
	a.expect(0, "stop", p...)
	if got := vipOn(t, l.Host("a"), vip); len(got) != 0 {
		t.Errorf("after stop: %+v", got)
	}
	a.expect(7, "monitor", recurring...)
	a.expect(0, "stop", p...)
	if st := a.expect(7, "status", p...); st.Stdout != "stopped\n" {
		t.Errorf("status printed %q", st.Stdout)
	}
	if left, _ := os.ReadDir(a.rsctmp); len(left) != 0 {
		t.Errorf("left in HA_RSCTMP: %v", left)
	}
	if s := announcers(); len(s) != 0 {
		t.Errorf("announcers left running: %v", s)
	}
}

// TestStopEndsTheBurst: stop during a long background burst ends the
// sender, removes its pid file, and no frame follows.
func TestStopEndsTheBurst(t *testing.T) {
	l := newLab(t, hostA, hostM)
	a := floatip(t, l.Host("a"))
	capture, err := l.Host("m").Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	p := []string{"ip=" + vip, "arp_count=100", "arp_interval=40"}
	a.expect(0, "start", p...)
	// The burst is under way once its first frames reach M.
	capture.Until(func(fs []lab.Frame) bool { return len(lab.DecodeARP(fs)) >= 3 }, 5*time.Second)
	if len(announcers()) != 1 {
		t.Fatalf("announcers running: %v", announcers())
	}
	pidfile := filepath.Join(a.rsctmp, "floatip-announce-"+key(t, l.Host("a"), vip)+".pid")
	if _, err := os.Stat(pidfile); err != nil {
		t.Fatalf("no pid file during the burst: %v", err)
	}
	stop := a.expect(0, "stop", p...)
	// Any frame the sender sent after stop is in what M received before a
	// marker sent from A once no sender runs.
	burstOver(t, l.Host("a"))
	frames := lab.DecodeARP(drain(t, capture, l.Host("a")))
	if len(frames) < 3 || len(frames) >= 200 {
		t.Errorf("%d frames, want a burst cut short by stop", len(frames))
	}
	for _, f := range frames {
		if f.Time.After(stop.End) {
			t.Errorf("frame after stop returned: %s", f)
		}
	}
	if s := announcers(); len(s) != 0 {
		t.Errorf("announcers left running: %v", s)
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("pid file left: %v", err)
	}
}

// TestFirstFrameBeforeStartReturns: a peer receives the first
// announcement before start has returned, by the kernel's timestamps.
func TestFirstFrameBeforeStartReturns(t *testing.T) {
	l := newLab(t, hostA, hostM)
	r := floatip(t, l.Host("a"))
	c, err := l.Host("m").Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	start := r.expect(0, "start", "ip="+vip)
	c.Until(func(fs []lab.Frame) bool { return len(lab.DecodeARP(fs)) > 0 }, 5*time.Second)
	frames := lab.DecodeARP(c.Close())
	if len(frames) == 0 || !frames[0].Time.Before(start.End) {
		t.Errorf("first of %d frames did not arrive before start returned", len(frames))
	}
	r.expect(0, "stop", "ip="+vip)
}

// describe names a GARP frame in the terms both agents must agree on, with
// the sender's MAC shown as "nic" when it is the nic's own.
func describe(f lab.ARP, h *lab.Host) string {
	name := func(mac string) string {
		if mac == h.MAC.String() {
			return "nic"
		}
		return mac
	}
	return fmt.Sprintf("%s eth %s>%s sender %s/%s target %s/%s len %d", f.Op,
		name(f.EthSrc.String()), f.EthDst, name(f.SenderHW.String()), f.SenderIP, name(f.TargetHW.String()), f.TargetIP, f.Len)
}

// TestProbeWithoutNic: a node that lacks the nic is a node where the
// address does not run.
func TestProbeWithoutNic(t *testing.T) {
	l := newLab(t, lab.HostSpec{Name: "a"})
	a := floatip(t, l.Host("a"))
	a.expect(7, "monitor", "ip="+vip, "nic=eth7", "OCF_RESKEY_CRM_meta_interval=0")
	a.expect(7, "monitor", "ip="+vip, "OCF_RESKEY_CRM_meta_interval=0")
	a.expect(0, "stop", "ip="+vip, "nic=eth7")
	a.expect(0, "stop", "ip="+vip)
	if r := a.expect(5, "start", "ip="+vip, "nic=eth7", "cidr_netmask=24"); !strings.Contains(r.Stderr, "ocf-exit-reason:Invalid interface name [eth7]") {
		t.Errorf("start reason: %s", r.Stderr)
	}
}

// TestAddressRemovedBehindOurBack: monitor reports what the kernel has, and
// the next start puts the address back.
func TestAddressRemovedBehindOurBack(t *testing.T) {
	l := newLab(t, hostA)
	h := l.Host("a")
	a := floatip(t, h)
	p := []string{"ip=" + vip, "cidr_netmask=24", "arp_bg=false", "arp_count=1"}
	a.expect(0, "start", p...)
	if err := h.IP("addr", "del", vip+"/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	a.expect(7, "monitor", p...)
	a.expect(0, "start", p...)
	a.expect(0, "monitor", p...)
	a.expect(0, "stop", p...)
}

// TestRunArping: with run_arping, start probes the link first and refuses
// an address another host answers for, naming that host's MAC.
func TestRunArping(t *testing.T) {
	l := newLab(t, hostA, hostM)
	a, m := l.Host("a"), l.Host("m")
	r := floatip(t, a)
	p := []string{"ip=" + vip, "cidr_netmask=24", "run_arping=true"}
	if err := m.IP("addr", "add", vip+"/24", "dev", m.Dev); err != nil {
		t.Fatal(err)
	}
	res := r.expect(1, "start", p...)
	if want := "ocf-exit-reason:IPv4 address collision " + vip + " [DAD]: " + m.MAC.String(); !strings.Contains(res.Stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
	}
	if got := vipOn(t, a, vip); len(got) != 0 {
		t.Errorf("added despite the collision: %+v", got)
	}
	if err := m.IP("addr", "del", vip+"/24", "dev", m.Dev); err != nil {
		t.Fatal(err)
	}
	r.expect(0, "start", p...)
	r.expect(0, "monitor", p...)
	r.expect(0, "stop", p...)
}

// TestNetworkNamespace runs the agent outside the lab, naming host a's
// namespace in network_namespace: the address, the announcements and the
// background sender all happen in that namespace, entered in-process.
func TestNetworkNamespace(t *testing.T) {
	l := newLab(t, hostA, hostM)
	a, m := l.Host("a"), l.Host("m")
	c, err := m.Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	rsctmp := t.TempDir()
	run := func(want int, action string, params ...string) {
		t.Helper()
		cmd := exec.Command(binary, action)
		cmd.Env = ocfEnv(rsctmp, params...)
		out, err := cmd.CombinedOutput()
		code := cmd.ProcessState.ExitCode()
		if err != nil && code < 0 {
			t.Fatal(err)
		}
		if code != want {
			t.Errorf("%s %v = %d, want %d: %s", action, params, code, want, out)
		}
	}
	p := []string{"ip=" + vip, "network_namespace=" + a.NS}
	run(7, "monitor", p...)
	run(0, "start", p...)
	run(0, "monitor", p...)
	burstOver(t, a)
	if got := vipOn(t, a, vip); len(got) != 1 || got[0].Prefix != vip+"/24" {
		t.Errorf("host a has %+v", got)
	}
	frames := lab.DecodeARP(drain(t, c, a))
	if len(frames) != 10 || frames[0].SenderHW.String() != a.MAC.String() {
		t.Errorf("M saw %d frames (want 10 from %s): %v", len(frames), a.MAC, frames)
	}
	run(0, "stop", p...)
	if got := vipOn(t, a, vip); len(got) != 0 {
		t.Errorf("left %+v", got)
	}
	// A namespace missing on this node: the address cannot be here, and
	// start fails with OCF_ERR_INSTALLED, so that Pacemaker tries another
	// node rather than ban the resource from all (OCF_ERR_CONFIGURED).
	// IPaddr2 (4.12 here; 4.18 and upstream main alike) exits 255 for
	// every action, the code of the ip netns exec it runs itself under,
	// stop included.
	missing := []string{"ip=" + vip, "network_namespace=" + l.Prefix + "-nowhere"}
	hb := heartbeat(t, a)
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
		hb.expect(255, tt.action, append(tt.env, missing...)...)
	}
}

// TestLVSSupport: with lvs_support, start takes the address off the
// loopback, where an LVS real server keeps it, and stop puts it back, as
// IPaddr2 does.
func TestLVSSupport(t *testing.T) {
	for _, agent := range []string{"floatip", "heartbeat"} {
		t.Run(agent, func(t *testing.T) {
			l := newLab(t, hostA)
			h := l.Host("a")
			if err := h.IP("addr", "add", vip+"/32", "dev", "lo"); err != nil {
				t.Fatal(err)
			}
			r := floatip(t, h)
			if agent == "heartbeat" {
				r = heartbeat(t, h)
			}
			p := []string{"ip=" + vip, "cidr_netmask=24", "lvs_support=true"}
			r.expect(0, "start", p...)
			if on := onLoopback(t, h); on {
				t.Error("the loopback still holds the address after start")
			}
			if got := vipOn(t, h, vip); len(got) != 1 {
				t.Errorf("eth0 holds %+v", got)
			}
			r.expect(0, "stop", p...)
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
		if a.IPNet.String() == vip+"/32" {
			return true
		}
	}
	return false
}
