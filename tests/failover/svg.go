//go:build linux

package failover

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// The picture's geometry, in SVG user units.
const (
	svgWidth    = 960
	plotLeft    = 210 // where the time axis starts; the lanes' names are left of it
	plotRight   = 910
	panelHeight = 230
	laneHeight  = 28
	lanesTop    = 40 // the first lane, from the top of a panel
)

// laneNames are the rows of a panel, by their Lane, and the row of M's lost
// probes under them.
var laneNames = []string{
	LaneA:             "A",
	LaneB:             "B",
	LaneEntry:         "M's neighbour entry",
	LaneAnnouncements: "announcements M got",
}

// probeLane is the row of M's lost probes, under the lanes of the events.
const probeLane = LaneAnnouncements + 1

// axis maps an offset from the move's start to x. Most of what matters
// happens in the first milliseconds, and the burst goes on for most of a
// second: the axis is linear up to split over the first part of the
// plot, and linear again from split to end over the rest, so that the
// picture shows both. x grows with time throughout.
type axis struct {
	split, end time.Duration
}

// splitShare is the part of the plot's width before the split.
const splitShare = 0.6

// newAxis fits an axis to the timelines: split just after the last of
// the move's own moments (start returned, the flip, the last lost probe),
// end after the last event.
func newAxis(tls []*Timeline) axis {
	var move, last time.Duration
	for _, tl := range tls {
		move = max(move, tl.StartReturned, tl.Flip, tl.FirstAnnouncement)
		for _, l := range tl.LostAt {
			move = max(move, l)
		}
		for _, e := range tl.Events {
			last = max(last, e.At)
		}
		for _, l := range tl.LostAt {
			last = max(last, l)
		}
	}
	a := axis{split: niceCeil(move + move/2)}
	a.end = max(roundUp(last), a.split)
	if a.end <= a.split*2 {
		// Nothing worth a second scale: one linear axis.
		a.split = a.end
	}
	return a
}

// niceCeil rounds d up to 1, 2 or 5 times a power of ten ms, at least 1 ms.
func niceCeil(d time.Duration) time.Duration {
	ms := max(float64(d)/float64(time.Millisecond), 1)
	p := math.Pow(10, math.Floor(math.Log10(ms)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= ms {
			return time.Duration(m * p * float64(time.Millisecond))
		}
	}
	return time.Duration(10 * p * float64(time.Millisecond))
}

// roundUp rounds d up to a tenth of its power of ten ms: 1050 ms to
// 1100 ms, so that the burst fills the axis.
func roundUp(d time.Duration) time.Duration {
	ms := max(float64(d)/float64(time.Millisecond), 1)
	unit := math.Pow(10, math.Floor(math.Log10(ms))) / 10
	return time.Duration(math.Ceil(ms/unit) * unit * float64(time.Millisecond))
}

// x is the position of offset d on the axis; before 0 is 0, after end is
// end.
func (a axis) x(d time.Duration) float64 {
	d = min(max(d, 0), a.end)
	width := float64(plotRight - plotLeft)
	if a.split == a.end {
		return plotLeft + width*float64(d)/float64(a.end)
	}
	if d <= a.split {
		return plotLeft + splitShare*width*float64(d)/float64(a.split)
	}
	return plotLeft + splitShare*width + (1-splitShare)*width*float64(d-a.split)/float64(a.end-a.split)
}

// ticks are the labelled moments of the axis: five steps to the split,
// and after it the round moments of a step that makes about four and the
// end, each far enough from the one before for their labels not to
// overlap.
func (a axis) ticks() []time.Duration {
	var out []time.Duration
	step := a.split / 5
	for t := time.Duration(0); t <= a.split; t += step {
		out = append(out, t)
	}
	if a.split < a.end {
		step = niceCeil((a.end - a.split) / 4)
		for t := step; t <= a.end; t += step {
			if a.x(t)-a.x(a.split) > 60 {
				out = append(out, t)
			}
		}
		if a.x(a.end)-a.x(out[len(out)-1]) > 60 {
			out = append(out, a.end)
		}
	}
	return out
}

// WriteSVG draws the timelines, one panel each over a common time axis, as
// an SVG document: the agents' calls, M's neighbour entry and when it
// flipped to B, each announcement M received, and each of M's probes that
// got no answer. Every mark carries its event's text as its title, which
// a browser shows on hover.
func WriteSVG(w io.Writer, tls []*Timeline) error {
	a := newAxis(tls)
	var b strings.Builder
	height := panelHeight*len(tls) + 20
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, height, svgWidth, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", svgWidth, height)
	for i, tl := range tls {
		fmt.Fprintf(&b, `<g transform="translate(0,%d)">`+"\n", i*panelHeight)
		panel(&b, a, tl)
		b.WriteString("</g>\n")
	}
	text(&b, 10, float64(height-8), "", "Time from the start of the move, as client M saw it; each mark's title (hover) names its event.")
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// panel draws one timeline.
func panel(b *strings.Builder, a axis, tl *Timeline) {
	text(b, 10, 20, "bold", fmt.Sprintf("%s with %s", tl.Kind, tl.Agent))
	for lane := range probeLane + 1 {
		name := "M's probes lost"
		if lane < probeLane {
			name = laneNames[lane]
		}
		text(b, 10, laneY(lane)+4, "", name)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", plotLeft, laneY(lane), plotRight, laneY(lane))
	}
	bars(b, a, tl)
	for _, e := range tl.Events {
		mark(b, a, "event", e.At, e.Lane, eventColour(e), fmt.Sprintf("%+.1f ms %s", ms(e.At), e.What))
		if strings.HasSuffix(e.What, "link cut") {
			text(b, a.x(e.At)+5, laneY(e.Lane)+4, "", "link cut")
		}
	}
	for _, l := range tl.LostAt {
		mark(b, a, "lost", l, probeLane, "#d33", fmt.Sprintf("%+.1f ms a probe of M got no answer", ms(l)))
	}
	summary := fmt.Sprintf("%d of %d probes lost, no answer for %.1f ms", tl.Lost, tl.Probes, ms(tl.Gap))
	text(b, plotLeft, laneY(probeLane)+22, "", summary)
	axisLine(b, a, laneY(probeLane)+40)
}

// bars draws what lasts: the agents' calls, from called to returned, and
// M's neighbour entry, A's MAC until the flip and B's after it.
func bars(b *strings.Builder, a axis, tl *Timeline) {
	called := map[Lane]time.Duration{}
	for _, e := range tl.Events {
		switch {
		case strings.HasSuffix(e.What, " called"):
			called[e.Lane] = e.At
		case strings.HasSuffix(e.What, " returned"):
			bar(b, a, called[e.Lane], e.At, e.Lane, "#cfc", strings.Fields(e.What)[0])
		}
	}
	flip := tl.Flip
	if flip < 0 {
		flip = a.end
	}
	bar(b, a, 0, flip, LaneEntry, "#ddd", "A's MAC")
	if tl.Flip >= 0 {
		bar(b, a, tl.Flip, a.end, LaneEntry, "#bde", "B's MAC")
	}
}

// bar draws a box on lane from `from` to `to`, with label in it when it fits.
func bar(b *strings.Builder, a axis, from, to time.Duration, lane Lane, fill, label string) {
	x0, x1 := a.x(from), a.x(to)
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"/>`+"\n", x0, laneY(lane)-9, max(x1-x0, 1), 18, fill)
	if x1-x0 > float64(7*len(label)) {
		text(b, x0+4, laneY(lane)+4, "", label)
	}
}

// mark draws a moment on lane as a short vertical line, classed and
// titled, with its offset in microseconds as data-at-us.
func mark(b *strings.Builder, a axis, class string, at time.Duration, lane Lane, colour, title string) {
	x := a.x(at)
	fmt.Fprintf(b, `<line class="%s" data-at-us="%d" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"><title>%s</title></line>`+"\n",
		class, at.Microseconds(), x, laneY(lane)-11, x, laneY(lane)+11, colour, escape(title))
}

// axisLine draws the time axis at y, with its ticks, and a break where
// the scale changes.
func axisLine(b *strings.Builder, a axis, y float64) {
	fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="black"/>`+"\n", plotLeft, y, plotRight, y)
	for _, t := range a.ticks() {
		x := a.x(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", x, y, x, y+4)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%g ms</text>`+"\n", x, y+16, ms(t))
	}
	if a.split < a.end {
		x := a.x(a.split)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#999" stroke-dasharray="3,3"/>`+"\n", x, lanesTop-14, x, y)
		text(b, x+4, lanesTop-16, "", "scale changes")
	}
}

func eventColour(e Event) string {
	switch {
	case e.Lane == LaneAnnouncements:
		return "#2a7"
	case e.Lane == LaneEntry:
		return "#15c"
	case strings.Contains(e.What, "cut"):
		return "#d33"
	}
	return "#333"
}

// text writes s at x, y, escaped; weight is its font-weight, "" for normal.
func text(b *strings.Builder, x, y float64, weight, s string) {
	attr := ""
	if weight != "" {
		attr = ` font-weight="` + weight + `"`
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f"%s>%s</text>`+"\n", x, y, attr, escape(s))
}

// laneY is the middle of lane l, from the top of its panel.
func laneY(l Lane) float64 { return float64(lanesTop + laneHeight*int(l)) }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
