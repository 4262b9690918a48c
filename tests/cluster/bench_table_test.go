//go:build linux

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// steadyAt is a steady state at iv over 100 s with the holder's (n2's)
// extra CPU holder seconds and n1's other.
func steadyAt(iv time.Duration, holder, other float64) Steady {
	w := 100 * time.Second
	return Steady{Interval: iv, Window: w,
		Extra: []time.Duration{time.Duration(other * float64(time.Second)), time.Duration(holder * float64(time.Second))},
		Cores: []float64{other / w.Seconds(), holder / w.Seconds()}}
}

func TestPerMonitor(t *testing.T) {
	for _, c := range []struct {
		name string
		st   Steady
		n    int
		want time.Duration
	}{
		// 100 VIPs every 10 s over 100 s: 1000 monitors for 5 s.
		{"100 at 10s", steadyAt(10*time.Second, 5, 0), 100, 5 * time.Millisecond},
		{"100 at 2s", steadyAt(2*time.Second, 20, 0), 100, 4 * time.Millisecond},
		{"no window", Steady{Interval: time.Second, Extra: []time.Duration{0, time.Second}}, 10, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.st.PerMonitor(c.n); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func benchResults() []*benchResult {
	floor := &Agent{Name: floorName, Type: "ocf:floatip:Dummy", NoAddress: true}
	fl := &Agent{Name: "floatip", Type: "ocf:floatip:IPaddr2"}
	hb := &Agent{Name: "heartbeat", Type: "ocf:heartbeat:IPaddr2", Title: "ocf:heartbeat:IPaddr2 (resource-agents 4.12.0-2)"}
	s := time.Second
	return []*benchResult{
		{Agent: floor, N: 100, FirstStop: 1 * s, LastStart: 5 * s,
			Starts: Dist{Median: 10 * time.Millisecond}, Stops: Dist{Median: 20 * time.Millisecond},
			Steady: []Steady{steadyAt(10*s, 2, 0), steadyAt(2*s, 10, 0)}, Kill: &KillResult{Starts: 2 * s}},
		{Agent: fl, N: 100, FirstStop: 1 * s, LastStart: 6 * s, Failover: Dist{Median: 4 * s, Max: 6 * s},
			Starts: Dist{Median: 20 * time.Millisecond}, Stops: Dist{Median: 25 * time.Millisecond},
			Steady: []Steady{steadyAt(10*s, 5, 0.1), steadyAt(2*s, 25, 0.1)}, Kill: &KillResult{Rest: 2 * s, Starts: 2 * s}},
		{Agent: hb, N: 100, FirstStop: 1 * s, LastStart: 20 * s, Failover: Dist{Median: 10 * s, Max: 21 * s},
			Starts: Dist{Median: 60 * time.Millisecond}, Stops: Dist{Median: 50 * time.Millisecond},
			Steady: []Steady{steadyAt(10*s, 40, 0), steadyAt(2*s, 150, 0)}, Kill: &KillResult{Rest: 12 * s, Starts: 12 * s}},
	}
}

func TestSteadyRows(t *testing.T) {
	ms := time.Millisecond
	want := []steadyRow{
		{Label: "floor", N: 100, Interval: 10 * time.Second, Holder: 0.02, PerMonitor: 2 * ms},
		{Label: "floor", N: 100, Interval: 2 * time.Second, Holder: 0.1, PerMonitor: 2 * ms},
		{Label: "floatip", N: 100, Interval: 10 * time.Second, Holder: 0.05, Other: 0.001, PerMonitor: 5 * ms},
		{Label: "floatip - floor", N: 100, Interval: 10 * time.Second, Holder: 0.03, Other: 0.001, PerMonitor: 3 * ms},
		{Label: "floatip", N: 100, Interval: 2 * time.Second, Holder: 0.25, Other: 0.001, PerMonitor: 5 * ms},
		{Label: "floatip - floor", N: 100, Interval: 2 * time.Second, Holder: 0.15, Other: 0.001, PerMonitor: 3 * ms},
		{Label: "heartbeat 4.12.0-2", N: 100, Interval: 10 * time.Second, Holder: 0.4, PerMonitor: 40 * ms},
		{Label: "heartbeat 4.12.0-2", N: 100, Interval: 2 * time.Second, Holder: 1.5, PerMonitor: 30 * ms},
	}
	near := cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })
	if diff := cmp.Diff(want, steadyRows(benchResults()), near); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// Without the floor, no difference rows.
	if got := steadyRows(benchResults()[1:]); len(got) != 4 {
		t.Errorf("without the floor: %d rows, want 4", len(got))
	}
}

func TestHeadline(t *testing.T) {
	// Handoffs 5 s and 4 s; starts 20 and 10 ms, stops 25 and 20 ms; per
	// monitor at 10 s 5 and 2 ms.
	want := []string{"N=100, floatip / floor: handoff of all by standby 1.25x (target <= 1.25x: met); " +
		"execd median start 2.00x (target <= 1.50x: not met); execd median stop 1.25x (target <= 1.50x: met); " +
		"own cost per monitor at 10s 3.0 ms (target <= 1.0 ms: not met)"}
	if diff := cmp.Diff(want, headline(benchResults(), 100)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if got := headline(benchResults()[1:], 100); got != nil {
		t.Errorf("without the floor: %q", got)
	}
	for _, c := range []struct {
		r, limit float64
		want     string
	}{{1.25, 1.25, "met"}, {1.26, 1.25, "not met"}, {0, 1.25, "not met"}} {
		if got := within(c.r, c.limit); got != c.want {
			t.Errorf("within(%v, %v) = %q, want %q", c.r, c.limit, got, c.want)
		}
	}
}

func TestComparisons(t *testing.T) {
	got := comparisons(benchResults(), 100)
	want := []string{
		"N=100, heartbeat / floatip: standby failover of all 3.5x (target 3x: met), median 2.5x, from the 1st stop 4.0x; hard kill's rest 6.0x",
		// 0.40 / 0.05; less the floor's, (0.40-0.02)/(0.05-0.02).
		"  holder's cores at 10s: 8.0x (target 10x: not met); less the floor's, the agents' own: 12.7x",
		"  holder's cores at 2s: 6.0x (target 10x: not met); less the floor's, the agents' own: 9.3x",
		"  the agent's start 3.0x, stop 2.0x (execd medians)",
		"N=100, the floor (Pacemaker, an agent that does nothing): handoff of all by standby 4000.0 ms, floatip's 5000.0 ms, heartbeat's 19000.0 ms (1st stop called to last start returned)",
		"  after a hard kill, the survivor's starts of all 2000.0 ms, floatip's 2000.0 ms",
		"  per monitor at 10s: floatip 5.0 ms = the floor's 2.0 ms (40%) + floatip's own 3.0 ms",
		"  per monitor at 2s: floatip 5.0 ms = the floor's 2.0 ms (40%) + floatip's own 3.0 ms",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if got := comparisons(benchResults(), 10); len(got) != 0 {
		t.Errorf("an N that did not run: %q", got)
	}
	// floatip alone: nothing to compare.
	if got := comparisons(benchResults()[1:2], 100); len(got) != 0 {
		t.Errorf("floatip alone: %q", got)
	}
	var b strings.Builder
	printBenchTable(&b, benchResults(), "2 cores", "limits", "gc")
	for _, s := range []string{"floatip - floor", "target 10x: not met", "heartbeat 4.12.0-2", "floatip / floor: handoff"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("the table lacks %q:\n%s", s, b.String())
		}
	}
}
