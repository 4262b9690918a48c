//go:build linux

// Package failover is floatip's main scenario, shared by make demo and the
// tests: hosts A and B share a VIP, client M talks to it, the VIP moves from
// A to B, and M's neighbour entry must follow to B's MAC at once because B
// announced the move. It records a timeline of the move as M saw it.
package failover

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/floatip/floatip/tests/lab"
)

// The lab: three hosts on one bridge, the VIP on their subnet.
var (
	HostA = lab.HostSpec{Name: "a", Addr: netip.MustParsePrefix("198.18.0.1/24")}
	HostB = lab.HostSpec{Name: "b", Addr: netip.MustParsePrefix("198.18.0.2/24")}
	HostM = lab.HostSpec{Name: "m", Addr: netip.MustParsePrefix("198.18.0.3/24")}
	VIP   = netip.MustParseAddr("198.18.0.100")
)

// ProbeInterval is how often M pings the VIP during a move.
const ProbeInterval = 5 * time.Millisecond

// Agent is the resource agent that moves the VIP.
type Agent struct {
	Name string
	// Path is the agent executable: floatip's binary or heartbeat's
	// IPaddr2 script.
	Path string
	// Run runs the agent's actions in a host's namespace; nil runs them
	// through "ip netns exec", as an admin would by hand.
	Run func(ctx context.Context, h *lab.Host, env []string, argv ...string) (lab.Result, error)
}

// Heartbeat is ocf:heartbeat:IPaddr2 from Debian's resource-agents.
var Heartbeat = Agent{Name: "heartbeat:IPaddr2", Path: "/usr/lib/ocf/resource.d/heartbeat/IPaddr2"}

// Kind is how the VIP leaves A.
type Kind int

// The two moves.
const (
	// Graceful is what Pacemaker does to move a resource: stop on A, then
	// start on B.
	Graceful Kind = iota
	// HardFailure cuts A's link without a stop; B starts the VIP.
	HardFailure
)

func (k Kind) String() string {
	if k == HardFailure {
		return "hard failure: A's link cut, then start on B"
	}
	return "graceful move: stop on A, then start on B"
}

// Event is one moment of the timeline, as an offset from the move's start.
type Event struct {
	At   time.Duration
	What string
	// Lane is whose event it is, the row of the picture (WriteSVG).
	Lane Lane
}

// Lane is whose event an Event is.
type Lane int

// The lanes, from the top of the picture down.
const (
	// LaneA: stop on A, or A's link cut.
	LaneA Lane = iota
	// LaneB: start on B.
	LaneB
	// LaneEntry: M's neighbour entry for the VIP, and M's own requests
	// for it.
	LaneEntry
	// LaneAnnouncements: the announcements from B that M received.
	LaneAnnouncements
)

// Timeline is what happened during one move.
type Timeline struct {
	// Lab is the prefix of the lab's namespaces, all removed by Run.
	Lab    string
	Agent  string
	Kind   Kind
	Events []Event
	// MACA and MACB are the nics' MACs; Before and After M's neighbour
	// entry for the VIP before the move and at the end.
	MACA, MACB    net.HardwareAddr
	Before, After net.HardwareAddr
	// Flip is when M's entry first named MACB; negative if it never did.
	Flip time.Duration
	// FirstAnnouncement is when the first announcement from B reached M;
	// negative if none did.
	FirstAnnouncement time.Duration
	// Announcements counts the announcement frames from B that M saw.
	Announcements int
	// RequestsFromM counts M's own broadcast ARP requests for the VIP
	// before the flip: had M resolved the VIP itself, the flip would not
	// be the announcement's doing.
	RequestsFromM int
	// StartReturned is when start on B returned.
	StartReturned time.Duration
	// Agents is the part of Flip that the agents took: stop on A from
	// its call to its return, then start on B from its call to the flip.
	// The time between, the harness's or a cluster's, is not in it.
	// Negative when the move was no graceful one or M never flipped.
	Agents time.Duration
	// Probes and Lost count M's pings from the move's start on; LostAt
	// are when the lost ones were sent; Gap is the longest time M went
	// without an answer.
	Probes, Lost int
	LostAt       []time.Duration
	Gap          time.Duration
	// ReplyAfterMove says that pings sent after start on B returned were
	// answered, so traffic to the VIP reached B.
	ReplyAfterMove bool
}

// Run builds a lab, puts the VIP on A, makes M talk to it, moves it to B
// as kind says, and returns the timeline. The lab is removed before Run
// returns, also on error.
func Run(ctx context.Context, agent Agent, kind Kind) (tl *Timeline, err error) {
	l, err := lab.New(HostA, HostB, HostM)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := l.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	a, b, m := l.Host("a"), l.Host("b"), l.Host("m")
	rsctmp, err := os.MkdirTemp("", "floatip-failover-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(rsctmp)
	run := agent.Run
	if run == nil {
		run = func(ctx context.Context, h *lab.Host, env []string, argv ...string) (lab.Result, error) {
			return h.Run(ctx, env, argv...)
		}
	}
	op := func(h *lab.Host, action string) (lab.Result, error) {
		r, err := run(ctx, h, env(rsctmp, h), agent.Path, action)
		if err == nil && r.Code != 0 {
			err = fmt.Errorf("%s on %s exited %d: %s", action, h.Name, r.Code, strings.TrimSpace(r.Stderr))
		}
		return r, err
	}

	// The VIP on A, A's own burst over, M talking to it.
	if _, err := op(a, "start"); err != nil {
		return nil, err
	}
	// A late announcement from A would take M's entry back from B.
	if err := a.Idle(ctx, 10*time.Second); err != nil {
		return nil, fmt.Errorf("wait for A's burst to end: %w", err)
	}
	tl = &Timeline{Lab: l.Prefix, Agent: agent.Name, Kind: kind, MACA: a.MAC, MACB: b.MAC, Flip: -1, FirstAnnouncement: -1}
	if tl.Before, err = m.Learn(ctx, VIP); err != nil {
		return nil, err
	}
	if tl.Before.String() != a.MAC.String() {
		return nil, fmt.Errorf("client M's entry for the VIP is %s, not A's %s", tl.Before, a.MAC)
	}

	capture, err := m.Capture(0x0806)
	if err != nil {
		return nil, err
	}
	outgoing, err := m.CaptureOutgoing(0x0806)
	if err != nil {
		capture.Close()
		return nil, err
	}
	changes, stopWatch, err := m.WatchNeighbor(VIP)
	if err != nil {
		capture.Close()
		outgoing.Close()
		return nil, err
	}
	pinger, err := m.Ping(VIP, ProbeInterval)
	if err != nil {
		capture.Close()
		outgoing.Close()
		stopWatch()
		return nil, err
	}
	// Answered probes before the move, for the gap to start from.
	if !until(ctx, func() bool { return answered(pinger.Probes(), time.Time{}) }) {
		pinger.Close()
		capture.Close()
		outgoing.Close()
		stopWatch()
		return nil, errors.New("pings from M to the VIP on A were not answered")
	}

	t0 := time.Now()
	at := func(t time.Time) time.Duration { return t.Sub(t0) }
	add := func(lane Lane, t time.Time, format string, args ...any) {
		tl.Events = append(tl.Events, Event{at(t), fmt.Sprintf(format, args...), lane})
	}
	var stopped time.Duration
	if kind == Graceful {
		r, err := op(a, "stop")
		if err != nil {
			return nil, err
		}
		add(LaneA, r.Start, "stop on A called")
		add(LaneA, r.End, "stop on A returned")
		stopped = r.End.Sub(r.Start)
	} else {
		if err := l.Cut(a); err != nil {
			return nil, err
		}
		add(LaneA, t0, "A's link cut")
	}
	r, err := op(b, "start")
	if err != nil {
		return nil, err
	}
	add(LaneB, r.Start, "start on B called")
	add(LaneB, r.End, "start on B returned")
	tl.StartReturned = at(r.End)
	startCalled := at(r.Start)

	// Wait for the flip, for B's burst to end, and for a ping sent after
	// the move to be answered; then every frame of the burst is in the
	// capture, before a marker that B sends after it. A wait for what
	// does not come gives up after 5 s, and the timeline shows it.
	until(ctx, func() bool { return lab.FirstChangeTo(changes(), b.MAC) != nil })
	idle := b.Idle(ctx, 10*time.Second)
	until(ctx, func() bool { return answered(pinger.Probes(), r.End) })
	probes := pinger.Close()
	stopWatch()
	received, drained := capture.Drain(b, 5*time.Second)
	capture.Close()
	sent, sentDrained := outgoing.Drain(m, 5*time.Second)
	outgoing.Close()
	if err := errors.Join(idle, drained, sentDrained); err != nil {
		return nil, err
	}
	frames, mine := lab.DecodeARP(received), lab.DecodeARP(sent)

	tl.Agents = -1
	if c := lab.FirstChangeTo(changes(), b.MAC); c != nil {
		tl.Flip = at(c.Time)
		if kind == Graceful {
			tl.Agents = stopped + tl.Flip - startCalled
		}
		add(LaneEntry, c.Time, "M's neighbour entry for %s -> %s (B)", VIP, b.MAC)
	}
	for _, f := range frames {
		// An announcement names the VIP as sender and target; B's own
		// requests from the VIP (to answer M's pings) are not one.
		if f.Time.Before(t0) || f.SenderHW.String() != b.MAC.String() || f.SenderIP != VIP || f.TargetIP != VIP {
			continue
		}
		tl.Announcements++
		if tl.FirstAnnouncement < 0 {
			tl.FirstAnnouncement = at(f.Time)
		}
		add(LaneAnnouncements, f.Time, "M received %s from B (announcement %d)", opName(f), tl.Announcements)
	}
	for _, f := range mine {
		// Only a broadcast request could have B answer M; M's answers
		// to B's requests for M's own address name the VIP as their
		// target too.
		if !f.Time.Before(t0) && f.Op == 1 && f.EthDst.String() == "ff:ff:ff:ff:ff:ff" && f.TargetIP == VIP && (tl.Flip < 0 || at(f.Time) < tl.Flip) {
			tl.RequestsFromM++
			add(LaneEntry, f.Time, "M asked who has %s", VIP)
		}
	}
	tl.probes(probes, t0)
	slices.SortStableFunc(tl.Events, func(x, y Event) int { return int(x.At - y.At) })
	if tl.After, err = m.Neighbor(VIP); err != nil {
		return nil, err
	}
	if _, err := op(b, "stop"); err != nil {
		return nil, err
	}
	return tl, nil
}

// until polls cond for up to 5 s, and says whether it held.
func until(ctx context.Context, cond func() bool) bool {
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(ProbeInterval)
	}
	return true
}

// answered says that a probe sent after from had an answer, and that the
// pinger went on long enough after it for probes to count it (they leave
// out the last inFlight).
func answered(probes []lab.Probe, from time.Time) bool {
	if len(probes) == 0 {
		return false
	}
	end := probes[len(probes)-1].Sent.Add(-inFlight)
	for _, p := range probes {
		if p.Sent.After(from) && p.Sent.Before(end) && !p.Replied.IsZero() {
			return true
		}
	}
	return false
}

// inFlight is how long an answer may take: probes sent that recently are
// not counted lost yet.
const inFlight = 50 * time.Millisecond

// probes counts M's probes from t0 on and finds the longest time M went
// without an answer.
func (tl *Timeline) probes(probes []lab.Probe, t0 time.Time) {
	if len(probes) == 0 {
		return
	}
	// The last probes may still be in flight.
	end := probes[len(probes)-1].Sent.Add(-inFlight)
	var answers []time.Time
	for _, p := range probes {
		if p.Sent.After(end) {
			break
		}
		if !p.Replied.IsZero() {
			answers = append(answers, p.Replied)
		}
		if p.Sent.Before(t0) {
			continue
		}
		tl.Probes++
		if p.Replied.IsZero() {
			tl.Lost++
			tl.LostAt = append(tl.LostAt, p.Sent.Sub(t0))
		} else if p.Sent.After(t0.Add(tl.StartReturned)) {
			tl.ReplyAfterMove = true
		}
	}
	slices.SortFunc(answers, func(x, y time.Time) int { return x.Compare(y) })
	for i := 1; i < len(answers); i++ {
		tl.Gap = max(tl.Gap, answers[i].Sub(answers[i-1]))
	}
}

func opName(f lab.ARP) string {
	if f.Op == 1 {
		return "gratuitous ARP request"
	}
	return "gratuitous ARP reply"
}

func env(rsctmp string, h *lab.Host) []string {
	return []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"OCF_ROOT=/usr/lib/ocf",
		"OCF_RESOURCE_INSTANCE=vip",
		"OCF_RESKEY_CRM_meta_timeout=20000",
		"HA_RSCTMP=" + rsctmp + "/" + h.Name,
		"OCF_RESKEY_ip=" + VIP.String(),
		"OCF_RESKEY_cidr_netmask=24",
	}
}

// Print writes the timeline for a human.
func (tl *Timeline) Print(w interface{ Write([]byte) (int, error) }) {
	fmt.Fprintf(w, "\n%s with %s\n", tl.Kind, tl.Agent)
	fmt.Fprintf(w, "  A is %s, B is %s; M's entry for %s before the move: %s (A)\n", tl.MACA, tl.MACB, VIP, tl.Before)
	for _, e := range tl.Events {
		fmt.Fprintf(w, "  %+9.1f ms  %s\n", float64(e.At.Microseconds())/1000, e.What)
	}
	after := "A"
	if tl.After.String() == tl.MACB.String() {
		after = "B"
	}
	fmt.Fprintf(w, "  M's entry at the end: %s (%s)\n", tl.After, after)
	fmt.Fprintf(w, "  M's probes every %v from the move on: %d sent, %d lost; no answer for %.1f ms\n",
		ProbeInterval, tl.Probes, tl.Lost, float64(tl.Gap.Microseconds())/1000)
}
