//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
)

// KillResult is the failover of all N after a hard kill of their holder,
// split where the agent's part begins: Detect is from the kill until the
// survivor's execd called its first start of a VIP (corosync's token and
// consensus timeouts, the scheduler, the fencing), Fenced when the
// survivor's fencer logged the fencing OK; Rest is from that first start
// until the last VIP answered the client, and PerVIP the same per VIP.
// Starts is from that first start until the last start returned, from the
// survivor's log: what an agent with no address has instead of Rest.
// Kept and Dropped are the client's entries, as in benchResult.
type KillResult struct {
	Detect, Fenced, Rest, Starts time.Duration
	PerVIP                       Dist
	Kept, Dropped                int
}

// benchKill brings the VIPs back to n1 (out of standby), kills n1 as
// cluster-test's hard kill does (link down, SIGKILL to its init), and
// measures the failover to n2, which must fence n1 first. n1 stays dead:
// the caller deletes the VIPs and then boots it again (benchReboot).
func (c *Cluster) benchKill(ctx context.Context, w io.Writer, ag *Agent, vips []netip.Addr) (*KillResult, error) {
	n1, n2 := c.Nodes[0], c.Nodes[1]
	n := len(vips)
	client := !ag.NoAddress
	if _, err := n1.MustExec(ctx, "pcs", "node", "unstandby", n1.Name); err != nil {
		return nil, err
	}
	// The location preference for n1 outweighs the stickiness: all N go
	// back.
	if _, err := waitStatus(ctx, n2, moveTimeout(n), "all VIPs back on n1", benchOn(n1.Name, n), n1); err != nil {
		return nil, err
	}
	if err := c.settle(ctx); err != nil {
		return nil, err
	}
	res := &KillResult{}
	var fw *fleetWatch
	if client {
		back, err := watchFleet(c.Client, vips, n1.Host.MAC, 100*time.Millisecond)
		if err != nil {
			return nil, err
		}
		err = back.Wait(ctx, 30*time.Second)
		back.Close()
		if err != nil {
			return nil, fmt.Errorf("before the hard kill: %w", err)
		}
		if res.Kept, err = c.clientEntries(vips); err != nil {
			return nil, err
		}
		if fw, err = watchFleet(c.Client, vips, n2.Host.MAC, c.pingEvery()); err != nil {
			return nil, err
		}
		defer fw.Close()
		time.Sleep(100 * time.Millisecond)
	}
	t0 := time.Now()
	if _, err := n1.powerOff(); err != nil {
		return nil, err
	}
	timeout := 30*time.Second + moveTimeout(n)
	var answered []time.Time
	var lostNote string
	if client {
		if err := fw.Wait(ctx, timeout); err != nil {
			if note := fw.lostNote(t0); note != "" {
				err = fmt.Errorf("%w; %s", err, note)
			}
			return nil, fmt.Errorf("hard kill: %w", err)
		}
		lostNote = fw.lostNote(t0)
		fw.Close()
		_, answered = fw.Times()
		res.Dropped = fw.Dropped()
	} else if _, err := waitStatus(ctx, n2, timeout, "all started on n2", benchOn(n2.Name, n)); err != nil {
		return nil, fmt.Errorf("hard kill: %w", err)
	}
	if _, err := waitStatus(ctx, n2, 60*time.Second, "all VIPs started on n2", benchOn(n2.Name, n)); err != nil {
		return nil, err
	}
	if err := vipsOn(n2, vips, client); err != nil {
		return nil, err
	}

	log := filepath.Join(n2.Dir, "var/log/pacemaker/pacemaker.log")
	now := time.Now()
	events := readLog(filepath.Join(n2.Dir, "var/log/corosync/corosync.log"), func(r io.Reader) []LogEvent {
		return membershipEvents(r, n2.Name, t0, now)
	})
	var fenced time.Time
	for _, e := range readLog(log, func(r io.Reader) []FenceEvent { return fenceEvents(r, n2.Name, n1.Name, t0, now) }) {
		events = append(events, LogEvent{e.Time, e.What})
		if e.Result && fenced.IsZero() {
			if !e.OK {
				return nil, fmt.Errorf("hard kill: n2's fencing of n1 failed: %s", e.Line)
			}
			fenced = e.Time
		}
	}
	if fenced.IsZero() {
		return nil, fmt.Errorf("hard kill: n2's log shows no fencing of n1")
	}
	starts := readLog(log, func(r io.Reader) map[string][]AgentOp { return benchOps(r, n2.Name, t0, now) })
	var first, last time.Time
	for i := range vips {
		op := findOp(starts[benchID(i)], "start")
		if op == nil || op.Status != 0 {
			return nil, fmt.Errorf("hard kill: no successful start of %s on n2 in its log", benchID(i))
		}
		// Both from n2's one log, to its millisecond.
		if op.Called.Before(fenced) {
			return nil, fmt.Errorf("hard kill: %s's start on n2 was called at %s, before n1 was fenced at %s",
				benchID(i), op.Called.Format(logStamp), fenced.Format(logStamp))
		}
		if first.IsZero() || op.Called.Before(first) {
			first = op.Called
		}
		last = maxTime(last, op.Returned)
	}
	res.Detect, res.Fenced, res.Starts = first.Sub(t0), fenced.Sub(t0), last.Sub(first)
	events = append(events,
		LogEvent{first, "the first start on n2 called (execd's log)"},
		LogEvent{last, "the last start on n2 returned (execd's log)"})
	if client {
		var per []time.Duration
		for _, a := range answered {
			per = append(per, a.Sub(first))
		}
		res.PerVIP = dist(per)
		res.Rest = res.PerVIP.Max
		events = append(events, LogEvent{first.Add(res.Rest), "the last VIP answered the client from n2"})
	}
	slices.SortStableFunc(events, func(a, b LogEvent) int { return a.Time.Compare(b.Time) })
	fmt.Fprintf(w, "hard kill: n1 (all %d) dies: link cut, init SIGKILLed; n2 fences it and takes them over\n", n)
	for _, e := range events {
		fmt.Fprintf(w, "  %10s  %s\n", "+"+ms(e.Time.Sub(t0)), e.What)
	}
	fmt.Fprintf(w, "  detection (kill -> n2's first start, fencing included) %s; n2's starts, first called to last returned, %s\n",
		ms(res.Detect), ms(res.Starts))
	if client {
		fmt.Fprintf(w, "  per VIP from the first start until it answered from n2: median %s, p95 %s, max %s;\n"+
			"  the client: entries for %d of the %d VIPs at the kill, %d deleted by the kernel during the failover\n",
			ms(res.PerVIP.Median), ms(res.PerVIP.P95), ms(res.PerVIP.Max), res.Kept, n, res.Dropped)
		if lostNote != "" {
			fmt.Fprintf(w, "  %s\n", lostNote)
		}
	}
	fmt.Fprintf(w, "  Pacemaker's load throttle (the controllers' load notes since the kill): %s\n", c.throttle(t0))
	return res, nil
}

// benchReboot boots the killed n1 again as a rebooted machine comes back:
// without the VIPs that its dark nic kept, link up.
func (c *Cluster) benchReboot(ctx context.Context, w io.Writer, vips []netip.Addr) error {
	n1, n2 := c.Nodes[0], c.Nodes[1]
	t := time.Now()
	h, err := n1.Host.Handle()
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(n1.Host.Dev)
	if err != nil {
		return fmt.Errorf("n1's nic: %w", err)
	}
	addrs, err := h.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("n1's addresses: %w", err)
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && slices.Contains(vips, ip.Unmap()) {
			if err := h.AddrDel(link, &a); err != nil {
				return fmt.Errorf("remove %s from n1 before its reboot: %w", a.IP, err)
			}
		}
	}
	if err := n1.Host.IP("link", "set", n1.Host.Dev, "up"); err != nil {
		return err
	}
	if err := n1.Start(); err != nil {
		return err
	}
	if _, err := waitStatus(ctx, n2, 90*time.Second, "n1 back online", bothOnline("n1", "n2"), n1); err != nil {
		return err
	}
	if err := c.settle(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "reboot: n1 back online and the cluster idle %.1f s after it was started again\n", time.Since(t).Seconds())
	return nil
}
