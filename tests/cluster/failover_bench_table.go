//go:build linux

package main

import (
	"fmt"
	"strings"
	"time"
)

// fbTable is the bench's table: per setup and fault, the client's outage
// (first probe lost to the first answer from the new holder) and the time
// until its neighbour entry named the new holder, median and max over the
// runs that recovered, the frames the old holder sent for the VIP after
// the new one answered (all runs), the runs in which two MACs answered,
// and the runs that lost the VIP for good or ended with two holders.
func fbTable(results []*fbResult) string {
	var b strings.Builder
	wide := len("setup")
	for _, r := range results {
		wide = max(wide, len(r.Setup))
	}
	fmt.Fprintf(&b, "%-*s %-10s %4s | %9s %9s | %9s %9s | %6s %7s %5s %4s\n",
		wide, "setup", "fault", "runs", "outage", "max", "entry", "max", "old fr", "2 MACs", "lost", "2 on")
	fmt.Fprintf(&b, "%-*s %-10s %4s | %9s %9s | %9s %9s | %6s %7s %5s %4s\n",
		wide, "", "", "", "median", "", "median", "", "", "", "", "")
	for _, r := range results {
		var outages, follows []time.Duration
		old, two, lost := 0, 0, 0
		for _, o := range r.Runs {
			if !o.Recovered {
				lost++
				continue
			}
			outages = append(outages, o.Outage)
			if o.Followed >= 0 {
				follows = append(follows, o.Followed)
			}
			old += o.OldAfter
			if o.TwoMACs {
				two++
			}
		}
		od, fd := dist(outages), dist(follows)
		fmt.Fprintf(&b, "%-*s %-10s %4d | %9s %9s | %9s %9s | %6d %7d %5d %4d\n",
			wide, r.Setup, r.Fault, len(r.Runs), fbMS(od.N, od.Median), fbMS(od.N, od.Max), fbMS(fd.N, fd.Median), fbMS(fd.N, fd.Max),
			old, two, lost, r.TwoHolders)
	}
	return b.String()
}

// fbMS is a table cell: the time in ms, "-" when no run gave one.
func fbMS(n int, d time.Duration) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000)
}
