package tests

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// sharedVIPs are the addresses of the wave of starts in these tests.
func sharedVIPs(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("198.18.0.%d", 110+i))
	}
	return out
}

// pidOf returns the pid that the pid file of ip's sender in h names, 0
// for none.
func pidOf(t *testing.T, r *labtest.AgentRunner, h *lab.Host, ip string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.Rsctmp, "floatip-announce-"+labtest.Key(t, h, ip)+".pid"))
	if err != nil {
		return 0
	}
	var pid int
	fmt.Sscan(string(b), &pid)
	return pid
}

// framesOf counts the announcements of each address among frames.
func framesOf(frames []lab.ARP) map[string]int {
	n := map[string]int{}
	for _, f := range frames {
		n[f.SenderIP.String()]++
	}
	return n
}

// TestSharedSender: a wave of starts on one nic hands its bursts to one
// background sender (fewer processes than starts), every address still
// gets its whole burst on the wire, and a stop during the shared burst
// ends that address's burst alone: no frame of it after stop returned,
// while the others' go on to their end.
func TestSharedSender(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	h := l.Host("a")
	r := labtest.Floatip(t, h)
	c, err := l.Host("m").Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	const count = 30 // 60 frames, 100 ms apart: 6 s
	vips := sharedVIPs(5)
	params := func(ip string) []string {
		return []string{"ip=" + ip, "cidr_netmask=24", "arp_count=30", "arp_interval=200"}
	}
	t.Cleanup(func() {
		for _, ip := range vips {
			r.Run("stop", params(ip)...)
		}
	})
	var pids []int
	for i, ip := range vips {
		r.Expect(0, "start", params(ip)...)
		pids = append(pids, pidOf(t, r, h, ip))
		if i == 0 {
			// The next start finds the sender once it listens.
			listening(t, h)
		}
	}
	procs := slices.Compact(slices.Sorted(slices.Values(pids)))
	if slices.Contains(procs, 0) || len(procs) >= len(vips) {
		t.Errorf("%d starts recorded the senders %v: want fewer processes than starts", len(vips), pids)
	}
	stopped := vips[1]
	stop := r.Expect(0, "stop", params(stopped)...)
	if !slices.ContainsFunc(procs, running) {
		t.Errorf("the stop of %s ended the shared sender %v", stopped, procs)
	}

	labtest.BurstOver(t, h)
	frames := lab.DecodeARP(labtest.Drain(t, c, h))
	for _, f := range frames {
		if f.SenderIP.String() == stopped && f.Time.After(stop.End) {
			t.Errorf("a frame of %s after its stop returned: %s", stopped, f)
		}
	}
	n := framesOf(frames)
	for _, ip := range vips {
		if ip == stopped {
			if n[ip] >= 2*count {
				t.Errorf("%s: %d frames, want its burst cut short by its stop", ip, n[ip])
			}
			continue
		}
		if n[ip] != 2*count {
			t.Errorf("%s: %d frames on the wire, want its whole burst of %d", ip, n[ip], 2*count)
		}
	}
	// Each burst ended on its own and forgot its sender.
	for _, ip := range vips {
		if pid := pidOf(t, r, h, ip); pid != 0 {
			t.Errorf("the pid file of %s names %d after its burst", ip, pid)
		}
	}
}

// senderSockets lists the shared senders' sockets in h's namespace.
func senderSockets(t *testing.T, h *lab.Host) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := h.Run(ctx, nil, "cat", "/proc/net/unix")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(res.Stdout, "\n") {
		if i := strings.Index(line, "@floatip-sender"); i >= 0 {
			out = append(out, line[i:])
		}
	}
	return out
}

// listening waits until a sender listens in h's namespace.
func listening(t *testing.T, h *lab.Host) {
	t.Helper()
	labtest.WaitFor(t, 5*time.Second, func() (bool, string) {
		return len(senderSockets(t, h)) > 0, "no sender listens"
	})
}

// TestSharedSenderKilled: a shared sender killed with SIGKILL leaves
// nothing behind (its socket goes with it), and the next start spawns a
// new one, which sends its whole burst.
func TestSharedSenderKilled(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	h := l.Host("a")
	r := labtest.Floatip(t, h)
	vips := sharedVIPs(3)
	params := func(ip, count string) []string {
		return []string{"ip=" + ip, "cidr_netmask=24", "arp_count=" + count, "arp_interval=200"}
	}
	t.Cleanup(func() {
		for _, ip := range vips {
			r.Run("stop", params(ip, "1")...)
		}
	})
	r.Expect(0, "start", params(vips[0], "100")...)
	listening(t, h)
	r.Expect(0, "start", params(vips[1], "100")...)
	old := pidOf(t, r, h, vips[0])
	if old == 0 || pidOf(t, r, h, vips[1]) != old {
		t.Fatalf("the two starts recorded senders %d and %d: want one shared", old, pidOf(t, r, h, vips[1]))
	}
	if got := senderSockets(t, h); len(got) != 1 {
		t.Errorf("sender sockets %v while it runs: want one", got)
	}
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	labtest.WaitFor(t, 5*time.Second, func() (bool, string) {
		return !running(old), fmt.Sprintf("the sender %d runs on after SIGKILL", old)
	})
	// The thread group leader is a zombie before the last of the
	// sender's threads has exited and closed the socket.
	labtest.WaitFor(t, 5*time.Second, func() (bool, string) {
		got := senderSockets(t, h)
		return len(got) == 0, fmt.Sprintf("the killed sender left its socket %v", got)
	})

	c, err := l.Host("m").Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	r.Expect(0, "start", params(vips[2], "5")...)
	pid := pidOf(t, r, h, vips[2])
	if pid == 0 || pid == old {
		t.Errorf("the start after the kill recorded sender %d (the killed one was %d): want a new one", pid, old)
	}
	for _, ip := range vips[:2] {
		r.Expect(0, "stop", params(ip, "1")...)
	}
	labtest.BurstOver(t, h)
	n := 0
	for _, f := range lab.DecodeARP(labtest.Drain(t, c, h)) {
		if f.SenderIP == netip.MustParseAddr(vips[2]) {
			n++
		}
	}
	if n != 10 {
		t.Errorf("%s: %d frames after the kill, want its whole burst of 10", vips[2], n)
	}
	if got := senderSockets(t, h); len(got) != 0 {
		t.Errorf("sender sockets %v left after the bursts", got)
	}
}

// TestSharedSenderPerNamespace: the starts of two namespaces, run from
// the root namespace with network_namespace (where their senders'
// sockets meet), each get a sender of their own, even for the same
// address; another start in the first namespace shares the first one's.
func TestSharedSenderPerNamespace(t *testing.T) {
	var hosts []*lab.Host
	for range 2 {
		hosts = append(hosts, labtest.NewLab(t, labtest.HostA, labtest.HostM).Host("a"))
	}
	rsctmp := t.TempDir()
	r := &labtest.AgentRunner{T: t, Path: labtest.Binary, Rsctmp: rsctmp}
	params := func(h *lab.Host, ip string) []string {
		return []string{"ip=" + ip, "cidr_netmask=24", "arp_count=50", "arp_interval=200", "network_namespace=" + h.NS}
	}
	t.Cleanup(func() {
		for _, h := range hosts {
			for _, ip := range sharedVIPs(2) {
				r.Run("stop", params(h, ip)...)
			}
		}
	})
	ip := sharedVIPs(1)[0]
	r.Expect(0, "start", params(hosts[0], ip)...)
	first := pidOf(t, r, hosts[0], ip)
	// Once it listens, a start anywhere could reach it.
	_, ino := labtest.NSInode(t, hosts[0])
	labtest.WaitFor(t, 5*time.Second, func() (bool, string) {
		b, _ := os.ReadFile("/proc/net/unix")
		return strings.Contains(string(b), fmt.Sprintf("@floatip-sender-net%d\n", ino)), "the first sender does not listen"
	})
	r.Expect(0, "start", params(hosts[1], ip)...)
	second := pidOf(t, r, hosts[1], ip)
	if first == 0 || second == 0 || first == second || !running(first) || !running(second) {
		t.Errorf("the same address in two namespaces recorded senders %d and %d: want one each, running", first, second)
	}
	other := sharedVIPs(2)[1]
	r.Expect(0, "start", params(hosts[0], other)...)
	if got := pidOf(t, r, hosts[0], other); got != first {
		t.Errorf("another start in the first namespace recorded sender %d, want the shared %d", got, first)
	}
}
