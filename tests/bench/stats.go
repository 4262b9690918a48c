//go:build linux

package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// unit says how a row's values print.
type unit int

const (
	millis unit = iota // durations, stored in seconds
	count
	bytes
)

// series is the samples of one measurement for one program.
type series []float64

// quantile is the q-quantile by the nearest-rank method, so that it is
// always a value that was measured; NaN when there is none.
func (s series) quantile(q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	v := slices.Clone(s)
	slices.Sort(v)
	i := int(math.Ceil(q*float64(len(v)))) - 1
	return v[max(i, 0)]
}

func (s series) median() float64 { return s.quantile(0.5) }
func (s series) p95() float64    { return s.quantile(0.95) }

// row is one line of the table: a measurement of floatip and of IPaddr2,
// and for the monitor rows the floor measured beside them.
type row struct {
	name      string
	unit      unit
	fl, hb    series
	floor     series
	withFloor bool
}

// table is the rows in the order they print.
type table struct{ rows []*row }

// row returns the row called name, adding it at the end if it is new.
func (t *table) row(name string, u unit) *row {
	for _, r := range t.rows {
		if r.name == name {
			return r
		}
	}
	r := &row{name: name, unit: u}
	t.rows = append(t.rows, r)
	return r
}

// get returns the row called name, or an empty one, whose medians are NaN.
func (t *table) get(name string) *row {
	for _, r := range t.rows {
		if r.name == name {
			return r
		}
	}
	return &row{name: name}
}

// ratio is IPaddr2's median over floatip's: how many times floatip is
// cheaper or faster.
func (r *row) ratio() float64 { return r.hb.median() / r.fl.median() }

// overFloor is floatip's median over the floor's.
func (r *row) overFloor() float64 { return r.fl.median() / r.floor.median() }

func (u unit) format(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case u == millis:
		ms := v * 1000
		switch {
		case ms < 10:
			return fmt.Sprintf("%.2f ms", ms)
		case ms < 100:
			return fmt.Sprintf("%.1f ms", ms)
		}
		return fmt.Sprintf("%.0f ms", ms)
	case u == bytes:
		return fmt.Sprintf("%.1f MB", v/1e6)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func times(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case math.IsInf(v, 1):
		return "inf"
	case v < 10:
		return fmt.Sprintf("%.2fx", v)
	}
	return fmt.Sprintf("%.1fx", v)
}

// signed is v with its sign always written, for a difference that noise
// can make negative.
func (u unit) signed(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v < 0:
		return "-" + u.format(-v)
	}
	return "+" + u.format(v)
}

// print writes the table: names aligned left, values right.
func (t *table) print(w io.Writer) {
	cells := [][]string{{"measurement", "floatip median", "p95", "IPaddr2 median", "p95", "IPaddr2/floatip", "floor median", "floatip/floor", "n"}}
	for _, r := range t.rows {
		floor, over := "", ""
		if r.withFloor {
			floor, over = r.unit.format(r.floor.median()), times(r.overFloor())
		}
		ratio := r.ratio()
		if r.fl.median() == 0 && r.hb.median() == 0 {
			ratio = 1
		}
		cells = append(cells, []string{r.name,
			r.unit.format(r.fl.median()), r.unit.format(r.fl.p95()),
			r.unit.format(r.hb.median()), r.unit.format(r.hb.p95()),
			times(ratio), floor, over, fmt.Sprint(min(len(r.fl), len(r.hb)))})
	}
	printCells(w, cells)
}

// printCells writes cells as columns, the first row being the header:
// the first column aligned left, the others right.
func printCells(w io.Writer, cells [][]string) {
	width := make([]int, len(cells[0]))
	for _, c := range cells {
		for i, v := range c {
			width[i] = max(width[i], len(v))
		}
	}
	for _, c := range cells {
		var b strings.Builder
		fmt.Fprintf(&b, "%-*s", width[0], c[0])
		for i := 1; i < len(c); i++ {
			fmt.Fprintf(&b, "  %*s", width[i], c[i])
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
