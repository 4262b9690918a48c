//go:build linux

package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The targets that the bench's summary measures floatip against:
// heartbeat:IPaddr2's figure over floatip's. They are printed as met or
// not, never asserted: a live cluster's timings vary with the machine.
const (
	// targetCores: the holder's steady-state CPU at least 10 times lower.
	targetCores = 10.0
	// targetFailover: the failover of all N by standby at least 3 times
	// shorter.
	targetFailover = 3.0
)

// The headline targets: floatip's figures over the floor's (Pacemaker with
// an agent that does nothing), at or below which floatip adds next to
// nothing to what Pacemaker itself needs. Printed as met or not.
const (
	// limitHandoff bounds the handoff of all N by standby.
	limitHandoff = 1.25
	// limitAction bounds execd's start and stop medians.
	limitAction = 1.5
	// limitOwnMonitor bounds floatip's own cost per monitor (less the
	// floor's) at limitInterval.
	limitOwnMonitor = time.Millisecond
	limitInterval   = 10 * time.Second
)

// steadyRow is one line of the steady-state table.
type steadyRow struct {
	Label    string
	N        int
	Interval time.Duration
	// Holder and Other are n2's and n1's cores.
	Holder, Other float64
	PerMonitor    time.Duration
}

// steadyRows are the steady-state lines, per N and interval in the
// results' order; after floatip's, when the floor ran at the same N and
// interval, floatip's less the floor's: the part of the cost that is
// floatip's own.
func steadyRows(results []*benchResult) []steadyRow {
	var out []steadyRow
	for _, r := range results {
		for _, st := range r.Steady {
			row := steadyRow{Label: short(r.Agent), N: r.N, Interval: st.Interval, Holder: st.Cores[1], Other: st.Cores[0], PerMonitor: st.PerMonitor(r.N)}
			out = append(out, row)
			if !r.Agent.Floatip() {
				continue
			}
			if fl := findSteady(results, floorName, r.N, st.Interval); fl != nil {
				out = append(out, steadyRow{Label: "floatip - floor", N: r.N, Interval: st.Interval,
					Holder: row.Holder - fl.Cores[1], Other: row.Other - fl.Cores[0], PerMonitor: row.PerMonitor - fl.PerMonitor(r.N)})
			}
		}
	}
	return out
}

// findSteady is agent name's steady state at n resources and interval
// iv, nil when it did not run.
func findSteady(results []*benchResult, name string, n int, iv time.Duration) *Steady {
	for _, r := range results {
		if r.Agent.Name != name || r.N != n {
			continue
		}
		for i := range r.Steady {
			if r.Steady[i].Interval == iv {
				return &r.Steady[i]
			}
		}
	}
	return nil
}

// findResult is agent name's result at n, nil when it did not run.
func findResult(results []*benchResult, name string, n int) *benchResult {
	for _, r := range results {
		if r.Agent.Name == name && r.N == n {
			return r
		}
	}
	return nil
}

// handoff is Pacemaker's handoff of all N at the failover by standby:
// from the first stop called to the last start returned.
func (r *benchResult) handoff() time.Duration { return r.LastStart - r.FirstStop }

// comparisons are the summary's lines for one N: heartbeat:IPaddr2's
// figures over floatip's, against the targets, and how much of floatip's
// figures the floor (Pacemaker with an agent that does nothing) accounts
// for.
func comparisons(results []*benchResult, n int) []string {
	fl := findResult(results, "floatip", n)
	hb := findResult(results, "heartbeat", n)
	floor := findResult(results, floorName, n)
	var out []string
	if fl != nil && hb != nil {
		total := ratioOf(hb.Failover.Max, fl.Failover.Max)
		line := fmt.Sprintf("N=%d, heartbeat / floatip: standby failover of all %s (target %.0fx: %s), median %s, from the 1st stop %s",
			n, fmtRatio(total), targetFailover, met(total, targetFailover), ratio(hb.Failover.Median, fl.Failover.Median),
			ratio(hb.Failover.Max-hb.FirstStop, fl.Failover.Max-fl.FirstStop))
		if hb.Kill != nil && fl.Kill != nil {
			line += fmt.Sprintf("; hard kill's rest %s", ratio(hb.Kill.Rest, fl.Kill.Rest))
		}
		out = append(out, line)
		for _, st := range fl.Steady {
			h := findSteady(results, "heartbeat", n, st.Interval)
			if h == nil {
				continue
			}
			cores := 0.0
			if st.Cores[1] > 0 {
				cores = h.Cores[1] / st.Cores[1]
			}
			line := fmt.Sprintf("  holder's cores at %s: %s (target %.0fx: %s)", intervalSpec(st.Interval), fmtRatio(cores), targetCores, met(cores, targetCores))
			if f := findSteady(results, floorName, n, st.Interval); f != nil && st.Cores[1]-f.Cores[1] > 0 {
				line += fmt.Sprintf("; less the floor's, the agents' own: %.1fx", (h.Cores[1]-f.Cores[1])/(st.Cores[1]-f.Cores[1]))
			}
			out = append(out, line)
		}
		out = append(out, fmt.Sprintf("  the agent's start %s, stop %s (execd medians)", ratio(hb.Starts.Median, fl.Starts.Median), ratio(hb.Stops.Median, fl.Stops.Median)))
	}
	if fl != nil && floor != nil {
		line := fmt.Sprintf("N=%d, the floor (Pacemaker, an agent that does nothing): handoff of all by standby %s, floatip's %s",
			n, ms(floor.handoff()), ms(fl.handoff()))
		if hb != nil {
			line += fmt.Sprintf(", heartbeat's %s", ms(hb.handoff()))
		}
		out = append(out, line+" (1st stop called to last start returned)")
		if floor.Kill != nil && fl.Kill != nil {
			out = append(out, fmt.Sprintf("  after a hard kill, the survivor's starts of all %s, floatip's %s", ms(floor.Kill.Starts), ms(fl.Kill.Starts)))
		}
		for _, st := range fl.Steady {
			if f := findSteady(results, floorName, n, st.Interval); f != nil {
				own := st.PerMonitor(n) - f.PerMonitor(n)
				share := 0.0
				if st.PerMonitor(n) > 0 {
					share = 100 * float64(f.PerMonitor(n)) / float64(st.PerMonitor(n))
				}
				out = append(out, fmt.Sprintf("  per monitor at %s: floatip %s = the floor's %s (%.0f%%) + floatip's own %s",
					intervalSpec(st.Interval), ms(st.PerMonitor(n)), ms(f.PerMonitor(n)), share, ms(own)))
			}
		}
	}
	return out
}

// headline is the summary's first line for one N: floatip against the
// floor, each figure with its limit, met or not; nothing when either did
// not run.
func headline(results []*benchResult, n int) []string {
	fl := findResult(results, "floatip", n)
	floor := findResult(results, floorName, n)
	if fl == nil || floor == nil {
		return nil
	}
	handoff := ratioOf(fl.handoff(), floor.handoff())
	line := fmt.Sprintf("N=%d, floatip / floor: handoff of all by standby %.2fx (target <= %.2fx: %s)",
		n, handoff, limitHandoff, within(handoff, limitHandoff))
	for _, a := range []struct {
		name     string
		fl, base time.Duration
	}{{"start", fl.Starts.Median, floor.Starts.Median}, {"stop", fl.Stops.Median, floor.Stops.Median}} {
		r := ratioOf(a.fl, a.base)
		line += fmt.Sprintf("; execd median %s %.2fx (target <= %.2fx: %s)", a.name, r, limitAction, within(r, limitAction))
	}
	f, b := findSteady(results, "floatip", n, limitInterval), findSteady(results, floorName, n, limitInterval)
	if f != nil && b != nil {
		own := f.PerMonitor(n) - b.PerMonitor(n)
		verdict := "met"
		if own > limitOwnMonitor {
			verdict = "not met"
		}
		line += fmt.Sprintf("; own cost per monitor at %s %s (target <= %s: %s)", intervalSpec(limitInterval), ms(own), ms(limitOwnMonitor), verdict)
	}
	return []string{line}
}

// within says whether ratio r is at or below limit; a ratio that could not
// be taken (a figure missing) meets nothing.
func within(r, limit float64) string {
	if r > 0 && r <= limit {
		return "met"
	}
	return "not met"
}

// met says whether ratio r reaches target.
func met(r, target float64) string {
	if r >= target {
		return "met"
	}
	return "not met"
}

func ratioOf(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func fmtRatio(r float64) string {
	if r <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1fx", r)
}

// printBenchTable prints the results: the failovers, the steady states,
// and per N the comparisons; facts are the machine's, as the run began.
func printBenchTable(w io.Writer, results []*benchResult, facts, limits, gc string) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintf(w, "\nResults (%s)\n", facts)
	fmt.Fprintf(w, "failover: pcs node standby of the holder, per VIP until the client's entry named the survivor and the VIP answered.\n"+
		"%s\nthe kernel's neighbour limits, which the client's table is under: %s\n\n", limits, gc)
	fmt.Fprintf(w, "%-18s %5s %8s | %-55s | %-32s\n", "", "", "", "standby failover, per VIP from pcs", "hard kill")
	fmt.Fprintf(w, "%-18s %5s %8s | %10s %10s %10s %10s %10s | %10s %10s %10s\n", "agent", "N", "started",
		"median", "p95", "max=total", "1st stop+", "handoff", "detect", "rest", "starts")
	for _, r := range results {
		median, p95, total, first := "-", "-", "-", "-"
		if !r.Agent.NoAddress {
			median, p95, total, first = ms(r.Failover.Median), ms(r.Failover.P95), ms(r.Failover.Max), ms(r.Failover.Max-r.FirstStop)
		}
		detect, rest, starts := "-", "-", "-"
		if r.Kill != nil {
			detect, starts = ms(r.Kill.Detect), ms(r.Kill.Starts)
			if !r.Agent.NoAddress {
				rest = ms(r.Kill.Rest)
			}
		}
		fmt.Fprintf(w, "%-18s %5d %8s | %10s %10s %10s %10s %10s | %10s %10s %10s\n", short(r.Agent), r.N, secs(r.Started),
			median, p95, total, first, ms(r.handoff()), detect, rest, starts)
	}
	fmt.Fprintf(w, "(started: cibadmin to all N started on n1; 1st stop+: from the holder's first stop (execd) to the last VIP answering,\n"+
		"the total less pcs's own start-up; handoff: the holder's first stop called to the survivor's last start returned (execd);\n"+
		"hard kill: detect is the kill to the survivor's first start, fencing included, rest from that start to the last VIP\n"+
		"answering the client, starts from it to the last start returned; the floor holds no address, so it has no client figures)\n\n")

	fmt.Fprintf(w, "steady state: the holder's (n2's) and the other node's (n1's) CPU with the N monitored, less the no-VIP baseline's, per second\n")
	fmt.Fprintf(w, "%-18s %5s %8s | %10s %10s | %11s\n", "agent", "N", "interval", "n2 (VIPs)", "n1", "per monitor")
	for _, row := range steadyRows(results) {
		fmt.Fprintf(w, "%-18s %5d %8s | %10.4f %10.4f | %11s\n", row.Label, row.N, intervalSpec(row.Interval), row.Holder, row.Other, ms(row.PerMonitor))
	}
	fmt.Fprintf(w, "(per monitor: n2's extra CPU over the monitors the window held, N x window / interval: the agent and Pacemaker's work for it)\n\n")
	var seen []int
	for _, r := range results {
		if slices.Contains(seen, r.N) {
			continue
		}
		seen = append(seen, r.N)
		for _, l := range append(headline(results, r.N), comparisons(results, r.N)...) {
			fmt.Fprintln(w, l)
		}
	}
}

// short names an agent in the tables; the headers give the full types.
func short(a *Agent) string {
	switch {
	case a.Floatip():
		return "floatip"
	case a.Name == floorName || a.Name == shellDummyName:
		return a.Name
	}
	return "heartbeat " + strings.Trim(strings.TrimPrefix(a.Title, "ocf:heartbeat:IPaddr2 (resource-agents"), " ()")
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func ratio(a, b time.Duration) string { return fmtRatio(ratioOf(a, b)) }
