package tests

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// soakWorkers is how many agents run at once in the load tests: enough to
// keep two cores busy while others wait for the kernel.
const soakWorkers = 4

// parallel runs f(i) for i in [0, n) on soakWorkers goroutines.
func soakParallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for w := 0; w < soakWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// checkClean is labtest.CheckNothingLeft plus the namespace's sockets.
func checkClean(t *testing.T, h *lab.Host, before, sockets []string, rsctmp string) {
	t.Helper()
	labtest.CheckNothingLeft(t, h, before, rsctmp)
	if after := labtest.SocketsIn(t, h); !slices.Equal(sockets, after) {
		t.Errorf("sockets in the namespace: before %v, after %v", sockets, after)
	}
}

// TestSoakStartStop runs 1,000 start/stop cycles, on 10 VIPs at once, 100
// cycles each; one cycle in ten leaves the burst to the background sender,
// which stop must end. Every start must put the address there and every
// stop take it away, and at the end nothing may be left: no address,
// process, socket or file.
func TestSoakStartStop(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	r := labtest.FastFloatip(t, h)
	before, sockets := labtest.HostState(t, h), labtest.SocketsIn(t, h)
	const vips, cycles = 10, 100
	var done atomic.Int64
	began := time.Now()
	soakParallel(vips, func(v int) {
		ip := fmt.Sprintf("198.18.0.%d", 10+v)
		p := []string{"ip=" + ip, "cidr_netmask=24"}
		for c := 0; c < cycles && !t.Failed(); c++ {
			start := append(slices.Clone(p), labtest.QuietBurst...)
			if c%10 == 0 {
				start = append(slices.Clone(p), "arp_count=3", "arp_interval=100")
			}
			r.Expect(0, "start", start...)
			if !labtest.VIPsOn(t, h, netlink.FAMILY_V4)[ip+"/24"] {
				t.Errorf("cycle %d: %s not there after start", c, ip)
			}
			r.Expect(0, "stop", p...)
			if labtest.VIPsOn(t, h, netlink.FAMILY_V4)[ip+"/24"] {
				t.Errorf("cycle %d: %s still there after stop", c, ip)
			}
			done.Add(1)
		}
	})
	if got := done.Load(); got != vips*cycles {
		t.Errorf("%d cycles completed, want %d", got, vips*cycles)
	}
	t.Logf("%d start/stop cycles in %v", done.Load(), time.Since(began).Round(time.Millisecond))
	checkClean(t, h, before, sockets, r.Rsctmp)
}

// TestSoakMonitors runs 10,000 monitors, half of a running VIP (0) and
// half of a stopped one (7), four at a time, and checks every answer and
// that nothing is left.
func TestSoakMonitors(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	r := labtest.FastFloatip(t, h)
	before, sockets := labtest.HostState(t, h), labtest.SocketsIn(t, h)
	up := []string{"ip=198.18.0.100", "cidr_netmask=24", "OCF_RESKEY_CRM_meta_interval=10000"}
	down := []string{"ip=198.18.0.101", "cidr_netmask=24", "OCF_RESKEY_CRM_meta_interval=10000"}
	r.Expect(0, "start", append(slices.Clone(up), labtest.QuietBurst...)...)
	const monitors = 10000
	var wrong atomic.Int64
	began := time.Now()
	soakParallel(monitors, func(i int) {
		p, want := up, 0
		if i%2 == 1 {
			p, want = down, 7
		}
		if res := r.Run("monitor", p...); res.Code != want {
			if wrong.Add(1) <= 5 {
				t.Errorf("monitor %d of %v = %d, want %d: %s", i, p, res.Code, want, res.Stderr)
			}
		}
	})
	t.Logf("%d monitors in %v, %d wrong", monitors, time.Since(began).Round(time.Millisecond), wrong.Load())
	if wrong.Load() > 0 {
		t.Errorf("%d of %d monitors answered wrong", wrong.Load(), monitors)
	}
	r.Expect(0, "stop", up...)
	checkClean(t, h, before, sockets, r.Rsctmp)
}

// TestThousandVIPs starts 1,000 VIPs on one nic, monitors each, and stops
// them all: the kernel must hold exactly those 1,000 addresses after the
// starts and none of them after the stops.
func TestThousandVIPs(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	r := labtest.FastFloatip(t, h)
	// The node has an address of its own in the VIPs' subnet, as nodes
	// do. Without one, the first VIP started becomes the subnet's primary
	// address, and removing it makes the kernel remove all the others
	// with it (promote_secondaries is off), for IPaddr2 as for floatip.
	if err := h.IP("addr", "add", "198.18.4.1/22", "brd", "+", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	before, sockets := labtest.HostState(t, h), labtest.SocketsIn(t, h)
	const n = 1000
	vips := make([]string, n)
	a := netip.MustParseAddr("198.18.4.1")
	for i := range vips {
		a = a.Next()
		vips[i] = a.String()
	}
	params := func(i int) []string { return []string{"ip=" + vips[i], "nic=eth0", "cidr_netmask=22"} }
	began := time.Now()
	soakParallel(n, func(i int) { r.Expect(0, "start", append(params(i), labtest.QuietBurst...)...) })
	on := labtest.VIPsOn(t, h, netlink.FAMILY_V4)
	missing := 0
	for _, v := range vips {
		if !on[v+"/22"] {
			missing++
		}
	}
	if missing > 0 || len(on) != n+2 {
		t.Errorf("after %d starts: %d addresses on eth0, %d VIPs missing", n, len(on), missing)
	}
	soakParallel(n, func(i int) { r.Expect(0, "monitor", params(i)...) })
	soakParallel(n, func(i int) { r.Expect(0, "stop", params(i)...) })
	soakParallel(n/10, func(i int) { r.Expect(7, "monitor", params(i*10)...) })
	t.Logf("%d VIPs started, monitored and stopped in %v", n, time.Since(began).Round(time.Millisecond))
	checkClean(t, h, before, sockets, r.Rsctmp)
}
