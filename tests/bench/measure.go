//go:build linux

package main

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vishvananda/netns"

	"github.com/floatip/floatip/tests/lab"
)

// The names of the rows that layout puts in order.
const (
	rowMonWall   = "monitor, wall"
	rowMonCPU    = "monitor, CPU (user+sys)"
	rowProbe     = "probe (monitor, interval 0, not running), wall"
	rowStart     = "start, until exit (what execd waits for)"
	rowStartPipe = "start, until its stdout/stderr close"
	rowStartCPU  = "start, CPU (user+sys)"
	rowAnnounce  = "start -> first announcement at the peer"
	rowStop      = "stop, wall"
	rowStopCPU   = "stop, CPU (user+sys)"
	rowRSSMon    = "peak RSS, monitor"
	rowRSSStart  = "peak RSS, start"
)

// crowdRows names the rows of the monitor on the crowded nic.
func crowdRows(others int) (wall, cpu string) {
	n := fmt.Sprint(others)
	if len(n) > 3 {
		n = n[:len(n)-3] + "," + n[len(n)-3:]
	}
	return "monitor, " + n + " other addresses, wall", "monitor, " + n + " other addresses, CPU"
}

// layout adds the rows to t in the order they print, before any sample.
func layout(t *table, others int) {
	crowd, crowdCPU := crowdRows(others)
	for _, name := range []string{rowMonWall, rowMonCPU, crowd, crowdCPU, rowProbe,
		rowStart, rowStartPipe, rowStartCPU, rowAnnounce, rowStop, rowStopCPU,
		rowFlip, rowAgents, rowGap} {
		t.row(name, millis)
	}
	t.row(rowLost, count)
	for _, a := range procActions {
		t.row(procRow(a), count)
	}
	t.row(rowRSSMon, bytes)
	t.row(rowRSSStart, bytes)
	t.row(rowSizeOwn, bytes)
	t.row(rowSizeAll, bytes)
}

// sample appends v to agent i's series of the row, or to the floor's when
// i is -1.
func (b *bench) sample(name string, u unit, i int, v float64) {
	r := b.t.row(name, u)
	switch i {
	case floatip:
		r.fl = append(r.fl, v)
	case heartbeat:
		r.hb = append(r.hb, v)
	default:
		r.floor = append(r.floor, v)
		r.withFloor = true
	}
}

// monitors measures monitor on n and on the crowded x, the floor on both,
// and a probe on n, all interleaved: in each repetition the three programs
// run in an order that rotates, so that none always runs first.
func (b *bench) monitors() error {
	crowd, crowdCPU := crowdRows(b.o.others)
	floorSet := []int{-1, floatip, heartbeat}
	for rep := range b.o.count {
		if rep%25 == 0 {
			progress("monitor and probe: %d/%d", rep, b.o.count)
		}
		for k := range floorSet {
			i := floorSet[(rep+k)%len(floorSet)]
			r, err := b.monitor(i, b.nsN, "n")
			if err != nil {
				return err
			}
			b.sample(rowMonWall, millis, i, r.Wall().Seconds())
			b.sample(rowMonCPU, millis, i, r.CPUTime.Seconds())
			if i >= 0 {
				b.sample(rowRSSMon, bytes, i, r.MaxRSS)
			}
		}
		for k := range floorSet {
			i := floorSet[(rep+k)%len(floorSet)]
			r, err := b.monitor(i, b.nsX, "x")
			if err != nil {
				return err
			}
			b.sample(crowd, millis, i, r.Wall().Seconds())
			b.sample(crowdCPU, millis, i, r.CPUTime.Seconds())
		}
		for k := range 2 {
			i := (rep + k) % 2
			r, err := b.op(i, b.nsN, "n", vipProbe, "monitor", "0", 7)
			if err != nil {
				return err
			}
			b.sample(rowProbe, millis, i, r.Wall().Seconds())
		}
	}
	return nil
}

// monitor runs agent i's recurring monitor of the monitored address, or
// the floor program when i is -1.
func (b *bench) monitor(i int, ns netns.NsHandle, host string) (run, error) {
	if i < 0 {
		r, err := b.sp.runIn(b.ctx, ns, []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, b.floor)
		if err == nil && r.Code != 0 {
			err = fmt.Errorf("floor on %s: %w %d: %s", host, errCode, r.Code, r.Stderr)
		}
		return r, err
	}
	return b.op(i, ns, host, vipMonitor, "monitor", "10000", 0)
}

// cycles starts and stops an address with each agent in turn, timing
// both and the first announcement that reaches the peer, as the peer's
// kernel stamped it on arrival.
func (b *bench) cycles() error {
	capture, err := b.p.Capture(0x0806)
	if err != nil {
		return fmt.Errorf("capture on p: %w", err)
	}
	defer capture.Close()
	seen := 0
	for rep := range b.o.cycles {
		if rep%5 == 0 {
			progress("start and stop: %d/%d", rep, b.o.cycles)
		}
		for k := range 2 {
			i := (rep + k) % 2
			vip := vipStart[i]
			r, err := b.op(i, b.nsN, "n", vip, "start", "0", 0)
			if err != nil {
				return err
			}
			b.sample(rowStart, millis, i, r.Wall().Seconds())
			b.sample(rowStartPipe, millis, i, r.Closed.Sub(r.Launch).Seconds())
			b.sample(rowStartCPU, millis, i, r.CPUTime.Seconds())
			b.sample(rowRSSStart, bytes, i, r.MaxRSS)
			var first *lab.ARP
			first, seen = b.firstAnnouncement(capture, seen, vip, r.Launch)
			if first == nil {
				return fmt.Errorf("%s start of %s: no announcement reached the peer within 3 s", b.agents[i].name, vip)
			}
			b.sample(rowAnnounce, millis, i, first.Time.Sub(r.Launch).Seconds())
			// Stop as Pacemaker usually does, long after the burst:
			// IPaddr2's is over since its start's output closed, and
			// floatip's background sender must be gone too, or its stop
			// would be timed killing it.
			seen = b.burstOver(capture, seen, vip, r.Launch)
			s, err := b.op(i, b.nsN, "n", vip, "stop", "0", 0)
			if err != nil {
				return err
			}
			b.sample(rowStop, millis, i, s.Wall().Seconds())
			b.sample(rowStopCPU, millis, i, s.CPUTime.Seconds())
		}
	}
	return nil
}

// firstAnnouncement waits up to 3 s for the first gratuitous ARP for vip
// from n that the peer received after launch. Frames before index from
// belong to earlier starts; it returns the index to look from next time,
// which still covers the rest of this burst.
func (b *bench) firstAnnouncement(c *lab.Capture, from int, vip netip.Addr, launch time.Time) (*lab.ARP, int) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		frames := c.Frames()
		for _, f := range lab.DecodeARP(frames[from:]) {
			if f.SenderIP == vip && f.TargetIP == vip && f.SenderHW.String() == b.n.MAC.String() && !f.Time.Before(launch) {
				return &f, from
			}
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			return nil, len(frames)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// burstFrames is the frames of a start's burst with the default
// arp_count=5: a request and a reply each time.
const burstFrames = 10

// burstOver waits until the peer has received the whole burst for vip
// since launch, and a little more for its sender to exit; at most 2 s
// after launch. It returns the index to look from next time, as
// firstAnnouncement does.
func (b *bench) burstOver(c *lab.Capture, from int, vip netip.Addr, launch time.Time) int {
	deadline := launch.Add(2 * time.Second)
	for {
		frames := c.Frames()
		n := 0
		for _, f := range lab.DecodeARP(frames[from:]) {
			if f.SenderIP == vip && f.TargetIP == vip && !f.Time.Before(launch) {
				n++
			}
		}
		if n >= burstFrames || time.Now().After(deadline) || b.ctx.Err() != nil {
			time.Sleep(20 * time.Millisecond)
			return len(frames)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
