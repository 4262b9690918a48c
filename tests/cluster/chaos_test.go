//go:build linux

package main

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/floatip/floatip/tests/lab"
)

func TestSplitOpKey(t *testing.T) {
	for _, tc := range []struct {
		key, rsc, op string
		ok           bool
	}{
		{"vip_monitor_10000", "vip", "monitor", true},
		{"vip2_start_0", "vip2", "start", true},
		{"my_vip_stop_0", "my_vip", "stop", true},
		{"vip_monitor", "", "", false},
		{"monitor_0", "", "", false},
		{"vip_monitor_x", "", "", false},
	} {
		rsc, op, ok := splitOpKey(tc.key)
		if diff := cmp.Diff([]any{tc.rsc, tc.op, tc.ok}, []any{rsc, op, ok}); diff != "" {
			t.Errorf("splitOpKey(%q) (-want +got):\n%s", tc.key, diff)
		}
	}
}

func TestExplained(t *testing.T) {
	allowed := []allowedFailure{
		{"vip", "n1", []string{"monitor"}},
		{"vip2", "n2", nil},
		{"", "n3", nil},
	}
	for _, tc := range []struct {
		key, node string
		want      bool
	}{
		{"vip_monitor_10000", "n1", true},
		{"vip_start_0", "n1", false},
		{"vip_monitor_10000", "n2", false},
		{"vip2_start_0", "n2", true},
		{"vip2_stop_0", "n2", true},
		{"fence-lab_monitor_60000", "n3", true},
		{"fence-lab_monitor_60000", "n1", false},
		{"garbage", "n3", false},
	} {
		if got := explained(allowed, tc.key, tc.node); got != tc.want {
			t.Errorf("explained(%s on %s) = %v, want %v", tc.key, tc.node, got, tc.want)
		}
	}
}

func TestFollowedAt(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	oldMAC, newMAC := net.HardwareAddr{2, 0, 0x5e, 0, 0, 1}, net.HardwareAddr{2, 0, 0x5e, 0, 0, 2}
	for _, tc := range []struct {
		name    string
		changes []lab.NeighborChange
		want    time.Time
	}{
		{"never", []lab.NeighborChange{{Time: at(1), MAC: oldMAC}}, time.Time{}},
		{"once", []lab.NeighborChange{{Time: at(1), MAC: oldMAC}, {Time: at(5), MAC: newMAC}, {Time: at(9), MAC: newMAC}}, at(5)},
		{"pulled back and forth", []lab.NeighborChange{{Time: at(5), MAC: newMAC}, {Time: at(7), MAC: oldMAC}, {Time: at(12), MAC: newMAC}}, at(12)},
		// A failed entry has no MAC: it pulls the client nowhere.
		{"failed in between", []lab.NeighborChange{{Time: at(5), MAC: newMAC}, {Time: at(7)}, {Time: at(9), MAC: newMAC}}, at(5)},
	} {
		if got := followedAt(tc.changes, newMAC); !got.Equal(tc.want) {
			t.Errorf("%s: followedAt = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestLongestGap(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	probes := []lab.Probe{
		{Sent: at(-20), Replied: at(-19)},
		{Sent: at(0), Replied: at(1)},
		{Sent: at(20)},
		{Sent: at(40)},
		{Sent: at(60), Replied: at(61)},
		{Sent: at(80), Replied: at(81)},
	}
	if got, want := longestGap(probes, t0), 60*time.Millisecond; got != want {
		t.Errorf("longestGap = %v, want %v", got, want)
	}
	// From since to the first answer counts too.
	if got, want := longestGap(probes[2:], t0), 61*time.Millisecond; got != want {
		t.Errorf("longestGap without the early answers = %v, want %v", got, want)
	}
	if !answeredAfter(probes, at(50)) {
		t.Error("answeredAfter(50 ms) = false; the probes at 60 and 80 ms were answered")
	}
	if answeredAfter(probes[:4], at(10)) {
		t.Error("answeredAfter(10 ms) = true; no probe after it was answered")
	}
}

func TestParseFaults(t *testing.T) {
	all, err := parseFaults("")
	if err != nil || len(all) != len(faults) {
		t.Fatalf(`parseFaults("") = %d faults, %v; want all %d`, len(all), err, len(faults))
	}
	got, err := parseFaults("move,kill")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"move", "kill"}, []string{got[0].name, got[1].name}); diff != "" {
		t.Errorf("parseFaults(move,kill) (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"nosuch", "move,move", "move,"} {
		if _, err := parseFaults(bad); err == nil {
			t.Errorf("parseFaults(%q) = nil error", bad)
		}
	}
}

// TestDraw: each bag of len(faults) draws holds every fault once, and the
// seed alone decides the order.
func TestDraw(t *testing.T) {
	draws := func(seed uint64, n int) []string {
		ch := &chaos{rng: rand.New(rand.NewPCG(seed, seed)), cfg: chaosConfig{faults: faults}}
		var out []string
		for range n {
			out = append(out, ch.draw().name)
		}
		return out
	}
	a := draws(7, 3*len(faults))
	for i := 0; i < len(a); i += len(faults) {
		bag := slices.Sorted(slices.Values(a[i : i+len(faults)]))
		if diff := cmp.Diff(slices.Sorted(slices.Values(faultNames())), bag); diff != "" {
			t.Errorf("bag %d is not every fault once (-want +got):\n%s", i/len(faults), diff)
		}
	}
	if diff := cmp.Diff(a, draws(7, len(a))); diff != "" {
		t.Errorf("seed 7 drew another order the second time (-first +second):\n%s", diff)
	}
	if slices.Equal(a, draws(8, len(a))) {
		t.Error("seeds 7 and 8 drew the same order")
	}
}

// TestAnnouncers reads a procfs made of files: only the processes of the
// node's PID namespace that announce the address count.
func TestAnnouncers(t *testing.T) {
	dir := t.TempDir()
	mk := func(pid, ns string, args ...string) {
		p := filepath.Join(dir, pid)
		if err := os.MkdirAll(filepath.Join(p, "ns"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("pid:["+ns+"]", filepath.Join(p, "ns/pid")); err != nil {
			t.Fatal(err)
		}
		var cmdline []byte
		for _, a := range args {
			cmdline = append(append(cmdline, a...), 0)
		}
		if err := os.WriteFile(filepath.Join(p, "cmdline"), cmdline, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	agent := "/usr/lib/ocf/resource.d/floatip/IPaddr2"
	mk("10", "1", "/sbin/init")
	mk("11", "1", agent, "announce", "--background-sender", "1", "--ip", "198.18.0.100", "--nic", "eth0")
	mk("12", "1", agent, "announce", "--background-sender", "1", "--ip", "198.18.0.101", "--nic", "eth0")
	mk("13", "2", agent, "announce", "--background-sender", "1", "--ip", "198.18.0.100", "--nic", "eth0")
	mk("14", "1", agent) // an action: not an announcer
	mk("15", "1", "/usr/libexec/heartbeat/send_arp", "-i", "200", "-c", "5", "-p", "/run/resource-agents/send_arp-198.18.0.100", "-I", "eth0", "-m", "auto", "198.18.0.100")
	mk("self", "1")
	floatip := &Agent{Name: "floatip"}
	heartbeat := &Agent{Name: "heartbeat"}
	for _, tc := range []struct {
		ag   *Agent
		ip   string
		want []int
	}{
		{floatip, "198.18.0.100", []int{11}},
		{floatip, "198.18.0.101", []int{12}},
		{floatip, "198.18.0.102", nil},
		{heartbeat, "198.18.0.100", []int{15}},
	} {
		procs, err := announcers(dir, 10, tc.ag, netip.MustParseAddr(tc.ip))
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, p := range procs {
			got = append(got, p.pid)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s %s: announcers (-want +got):\n%s", tc.ag.Name, tc.ip, diff)
		}
	}
}
