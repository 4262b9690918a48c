package tests

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// together runs the functions at once and waits for all of them.
func atOnce(fs ...func()) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f()
		}()
	}
	close(start)
	wg.Wait()
}

// senders lists the background senders running in the host.
func sendersIn(t *testing.T, h *lab.Host) []string {
	var out []string
	for _, p := range labtest.ProcsIn(t, h) {
		if strings.Contains(p, " announce ") {
			out = append(out, p)
		}
	}
	return out
}

// TestConcurrentStarts runs two starts of one VIP at once, 20 times, each
// with a background burst: both succeed, the address is there once, at
// most one sender runs and the pid file names it, and a stop leaves
// nothing.
func TestConcurrentStarts(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	before := labtest.HostState(t, h)
	r := labtest.FastFloatip(t, h)
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24"}
	for round := 0; round < 20; round++ {
		var a, b lab.Result
		start := append(slices.Clone(p), "arp_count=5", "arp_interval=200")
		atOnce(func() { a = r.Run("start", start...) }, func() { b = r.Run("start", start...) })
		if a.Code != 0 || b.Code != 0 {
			t.Fatalf("round %d: starts exited %d and %d:\n%s\n%s", round, a.Code, b.Code, a.Stderr, b.Stderr)
		}
		if got := labtest.VIPOn(t, h, labtest.VIP); len(got) != 1 {
			t.Fatalf("round %d: %+v", round, got)
		}
		// A sender that the second start ended may take a moment to go.
		labtest.Eventually(time.Second, func() bool { return len(sendersIn(t, h)) <= 1 })
		if s := sendersIn(t, h); len(s) > 1 {
			t.Errorf("round %d: %d senders: %q", round, len(s), s)
		} else if len(s) == 1 && !strings.HasPrefix(s[0], fmt.Sprint(labtest.SenderPid(t, r))+" ") {
			t.Errorf("round %d: the pid file does not name the running sender %q", round, s[0])
		}
		r.Expect(0, "stop", p...)
		r.Expect(7, "monitor", p...)
	}
	labtest.CheckNothingLeft(t, h, before, r.Rsctmp)
}

// TestConcurrentStartStop runs a start and a stop of one VIP at once, 30
// times. The lock orders them; whichever ran second decides the final
// state, and what each logged says which one that was: a stop that
// removed the address ran after the start, a stop that found nothing ran
// before it.
func TestConcurrentStartStop(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	before := labtest.HostState(t, h)
	r := labtest.FastFloatip(t, h)
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24"}
	orders := map[string]int{}
	for round := 0; round < 30; round++ {
		var start, stop lab.Result
		atOnce(func() { start = r.Run("start", append(slices.Clone(p), labtest.QuietBurst...)...) }, func() { stop = r.Run("stop", p...) })
		if start.Code != 0 || stop.Code != 0 {
			t.Fatalf("round %d: start %d, stop %d:\n%s\n%s", round, start.Code, stop.Code, start.Stderr, stop.Stderr)
		}
		present := labtest.VIPsOn(t, h, netlink.FAMILY_V4)[labtest.VIP+"/24"]
		switch {
		case strings.Contains(stop.Stderr, "Removed "+labtest.VIP):
			orders["start, then stop"]++
			if present {
				t.Errorf("round %d: stop removed the address after start, yet it is there", round)
			}
		case strings.Contains(stop.Stderr, "nothing to stop"):
			orders["stop, then start"]++
			if !present {
				t.Errorf("round %d: start ran last, yet the address is missing:\n%s", round, start.Stderr)
			}
		default:
			t.Errorf("round %d: stop said neither:\n%s", round, stop.Stderr)
		}
		r.Expect(0, "stop", p...)
		if s := labtest.ProcsIn(t, h); len(s) != 0 {
			t.Errorf("round %d: processes left %q", round, s)
		}
	}
	t.Logf("orders seen: %v", orders)
	labtest.CheckNothingLeft(t, h, before, r.Rsctmp)
}

// TestConcurrentMonitors runs 20 monitors of one VIP at once, running and
// then stopped: every one answers right.
func TestConcurrentMonitors(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	before := labtest.HostState(t, h)
	r := labtest.FastFloatip(t, h)
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "OCF_RESKEY_CRM_meta_interval=10000"}
	monitors := func(want int) {
		fs := make([]func(), 20)
		for i := range fs {
			fs[i] = func() { r.Expect(want, "monitor", p...) }
		}
		atOnce(fs...)
	}
	r.Expect(0, "start", append(slices.Clone(p), labtest.QuietBurst...)...)
	monitors(0)
	r.Expect(0, "stop", p...)
	monitors(7)
	labtest.CheckNothingLeft(t, h, before, r.Rsctmp)
}

// TestHundredVIPsAtOnce starts 100 VIPs on one nic at once, each with a
// background burst, then monitors them all at once, stops them all at once
// while their bursts still run, and monitors them again: every operation
// answers right, and nothing is left.
func TestHundredVIPsAtOnce(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	before, sockets := labtest.HostState(t, h), labtest.SocketsIn(t, h)
	r := labtest.FastFloatip(t, h)
	const n = 100
	params := func(i int) []string {
		return []string{fmt.Sprintf("ip=198.18.0.%d", 100+i), "cidr_netmask=24", "OCF_RESKEY_CRM_meta_interval=10000"}
	}
	all := func(f func(i int)) {
		fs := make([]func(), n)
		for i := range fs {
			fs[i] = func() { f(i) }
		}
		atOnce(fs...)
	}
	all(func(i int) { r.Expect(0, "start", append(params(i), "arp_count=5", "arp_interval=200")...) })
	on := labtest.VIPsOn(t, h, netlink.FAMILY_V4)
	for i := 0; i < n; i++ {
		if !on[fmt.Sprintf("198.18.0.%d/24", 100+i)] {
			t.Errorf("198.18.0.%d missing after the starts", 100+i)
		}
	}
	all(func(i int) { r.Expect(0, "monitor", params(i)...) })
	all(func(i int) { r.Expect(0, "stop", params(i)...) })
	all(func(i int) { r.Expect(7, "monitor", params(i)...) })
	checkClean(t, h, before, sockets, r.Rsctmp)
}
