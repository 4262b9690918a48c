//go:build linux

package main

import (
	"fmt"
	"io"
	"math"
)

// printTargets checks the medians of the run against floatip's
// performance targets (docs/dev/benchmarks.md).
// It reports; it never fails the run, since timings on a shared machine
// are no test.
func printTargets(w io.Writer, t *table, others int) {
	mon := t.get(rowMonWall)
	crowd, _ := crowdRows(others)
	flatness := t.get(crowd).fl.median() / mon.fl.median()
	maxRSS := math.Max(t.get(rowRSSMon).fl.median(), t.get(rowRSSStart).fl.median())
	spawned := 0.0
	// With arp_bg=true, the default, start forks the sender of the rest
	// of its burst by design; it is on its own line.
	for _, a := range []string{rowStartFg, "monitor", "stop"} {
		spawned = math.Max(spawned, t.get(procRow(a)).fl.median())
	}
	withSender := t.get(procRow("start")).fl.median()
	checks := []struct {
		what   string
		got    string
		target string
		ok     bool
	}{
		{"monitor wall time vs IPaddr2", times(mon.ratio()), ">= 12x", mon.ratio() >= 12},
		{"monitor CPU time vs IPaddr2", times(t.get(rowMonCPU).ratio()), ">= 15x", t.get(rowMonCPU).ratio() >= 15},
		{"monitor wall time vs the floor", times(mon.overFloor()), "<= 1.25x", mon.overFloor() <= 1.25},
		{"monitor wall time with the other addresses vs without", times(flatness), "<= 1.1x", flatness <= 1.1},
		{"start -> first announcement vs IPaddr2", times(t.get(rowAnnounce).ratio()), ">= 15x", t.get(rowAnnounce).ratio() >= 15},
		{"start (until exit) vs IPaddr2", times(t.get(rowStart).ratio()), ">= 10x", t.get(rowStart).ratio() >= 10},
		{"stop vs IPaddr2", times(t.get(rowStop).ratio()), ">= 10x", t.get(rowStop).ratio() >= 10},
		{"failover, stop on A -> M follows, vs IPaddr2", times(t.get(rowFlip).ratio()), ">= 10x", t.get(rowFlip).ratio() >= 10},
		{"processes spawned by start (arp_bg=false), monitor, stop", count.format(spawned), "0", spawned == 0},
		{"processes spawned by start with its background sender", count.format(withSender), "1, the sender", withSender <= 1},
		{"peak RSS", bytes.format(maxRSS), "< 12 MB", maxRSS < 12e6},
		{"binary size", bytes.format(t.get(rowSizeOwn).fl.median()), "< 6 MB", t.get(rowSizeOwn).fl.median() < 6e6},
	}
	fmt.Fprintln(w, "Performance targets, on this run's medians:")
	for _, c := range checks {
		mark := "met    "
		switch {
		case c.got == "-":
			// A row without samples, e.g. with -failovers 0.
			mark = "n/a    "
		case !c.ok:
			mark = "NOT met"
		}
		fmt.Fprintf(w, "  %s  %-58s %8s  (target %s)\n", mark, c.what, c.got, c.target)
	}
}
