//go:build linux

package failover

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// graceful is a timeline as a graceful move records it, with a lost probe.
func graceful() *Timeline {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	tl := &Timeline{Agent: "floatip", Kind: Graceful, Flip: ms(8.3), FirstAnnouncement: ms(8.2), StartReturned: ms(9.2),
		Probes: 231, Lost: 1, LostAt: []time.Duration{ms(5.1)}, Gap: ms(10.2)}
	tl.Events = []Event{
		{ms(0.1), "stop on A called", LaneA},
		{ms(4.5), "stop on A returned", LaneA},
		{ms(4.5), "start on B called", LaneB},
		{ms(8.2), "M received gratuitous ARP request from B (announcement 1)", LaneAnnouncements},
		{ms(8.3), "M's neighbour entry for 198.18.0.100 -> 02:00:5e:7a:00:02 (B) <&>", LaneEntry},
		{ms(9.2), "start on B returned", LaneB},
		{ms(110.4), "M received gratuitous ARP reply from B (announcement 2)", LaneAnnouncements},
		{ms(913.3), "M received gratuitous ARP reply from B (announcement 10)", LaneAnnouncements},
	}
	return tl
}

// hard is a timeline of a hard failure, without a lost probe.
func hard() *Timeline {
	tl := &Timeline{Agent: "floatip", Kind: HardFailure, Flip: 6 * time.Millisecond, StartReturned: 7 * time.Millisecond, Probes: 200}
	tl.Events = []Event{
		{0, "A's link cut", LaneA},
		{2 * time.Millisecond, "start on B called", LaneB},
		{6 * time.Millisecond, "M's neighbour entry for 198.18.0.100 -> 02:00:5e:4d:00:02 (B)", LaneEntry},
		{7 * time.Millisecond, "start on B returned", LaneB},
	}
	return tl
}

// svgMark is a mark of the picture as the test reads it back.
type svgMark struct {
	class, title string
	at           time.Duration
	x            float64
}

// readSVG parses doc as XML to its end, checks that its root is an SVG
// document, and returns its marks in document order.
func readSVG(t *testing.T, doc []byte) []svgMark {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var marks []svgMark
	var cur *svgMark
	root := true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is no XML: %v\n%s", err, doc)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if root && (el.Name.Local != "svg" || el.Name.Space != "http://www.w3.org/2000/svg") {
				t.Fatalf("the root is %v, not svg", el.Name)
			}
			root = false
			attr := map[string]string{}
			for _, a := range el.Attr {
				attr[a.Name.Local] = a.Value
			}
			if c := attr["class"]; c == "event" || c == "lost" {
				us, err := strconv.ParseInt(attr["data-at-us"], 10, 64)
				x, err2 := strconv.ParseFloat(attr["x1"], 64)
				if err != nil || err2 != nil {
					t.Fatalf("a mark without its time or place: %v", el)
				}
				marks = append(marks, svgMark{class: c, at: time.Duration(us) * time.Microsecond, x: x})
				cur = &marks[len(marks)-1]
			}
		case xml.CharData:
			if cur != nil {
				cur.title += string(el)
			}
		case xml.EndElement:
			if el.Name.Local == "line" {
				cur = nil
			}
		}
	}
	return marks
}

// TestWriteSVG: the picture is XML, an SVG document, and puts each event
// and each lost probe on the time axis at its own time, later ones to the
// right, with its text as its title.
func TestWriteSVG(t *testing.T) {
	tls := []*Timeline{graceful(), hard()}
	var out bytes.Buffer
	if err := WriteSVG(&out, tls); err != nil {
		t.Fatal(err)
	}
	marks := readSVG(t, out.Bytes())
	var want, got []string
	for _, tl := range tls {
		for _, e := range tl.Events {
			want = append(want, "event "+e.At.Truncate(time.Microsecond).String()+" "+e.What)
		}
		for _, l := range tl.LostAt {
			want = append(want, "lost "+l.Truncate(time.Microsecond).String())
		}
	}
	for _, m := range marks {
		s := m.class + " " + m.at.String()
		if m.class == "event" {
			// The title begins with the offset, as Print shows it.
			_, what, _ := bytes.Cut([]byte(m.title), []byte(" ms "))
			s += " " + string(what)
		}
		got = append(got, s)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("marks (-want +got):\n%s", diff)
	}
	// Within a panel the events come in time order: x must follow.
	events := marks[:len(tls[0].Events)]
	for i, m := range events {
		if m.x < plotLeft || m.x > plotRight {
			t.Errorf("%q at x=%.1f, off the axis [%d, %d]", m.title, m.x, plotLeft, plotRight)
		}
		if i > 0 {
			p := events[i-1]
			if m.at > p.at && m.x <= p.x || m.at == p.at && m.x != p.x {
				t.Errorf("%q (%v) at x=%.1f, but %q (%v) at x=%.1f", m.title, m.at, m.x, p.title, p.at, p.x)
			}
		}
	}
}

// TestAxis: the axis is linear to its split and after it, grows with time
// throughout, and fits the burst; without a long tail it is one scale.
func TestAxis(t *testing.T) {
	a := newAxis([]*Timeline{graceful()})
	if a.split != 20*time.Millisecond || a.end != 920*time.Millisecond {
		t.Errorf("axis split %v end %v, want 20ms and 920ms", a.split, a.end)
	}
	prev := a.x(0)
	for d := 50 * time.Microsecond; d <= a.end; d += 50 * time.Microsecond {
		if x := a.x(d); x <= prev {
			t.Fatalf("x(%v) = %.3f, not right of x(%v) = %.3f", d, x, d-50*time.Microsecond, prev)
		} else {
			prev = x
		}
	}
	if a.x(0) != plotLeft || a.x(a.end) != plotRight || a.x(2*a.end) != plotRight {
		t.Errorf("the axis spans %.1f to %.1f (beyond: %.1f), want %d to %d", a.x(0), a.x(a.end), a.x(2*a.end), plotLeft, plotRight)
	}
	if one := newAxis([]*Timeline{hard()}); one.split != one.end {
		t.Errorf("a timeline without a tail gets two scales: split %v end %v", one.split, one.end)
	}
}

// TestCommittedPicture: the picture of a run that the docs show is an SVG
// document whose events lie along the axis in time order.
func TestCommittedPicture(t *testing.T) {
	doc, err := os.ReadFile("../../docs/admin/failover-timeline.svg")
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	var prev svgMark
	for _, m := range readSVG(t, doc) {
		if m.class != "event" {
			continue
		}
		// A panel's events are in time order; the next panel starts over.
		if events > 0 && m.at > prev.at && m.x <= prev.x {
			t.Errorf("%q at x=%.1f, left of the earlier %q at x=%.1f", m.title, m.x, prev.title, prev.x)
		}
		events++
		prev = m
	}
	if events == 0 {
		t.Error("the picture has no events")
	}
}
