//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/floatip/floatip/tests/lab"
)

// probeInterval is how often the client pings the VIP during a failover.
const probeInterval = 5 * time.Millisecond

// Event is one moment of a failover, as an offset from its trigger.
type Event struct {
	At   time.Duration
	What string
}

// Failover is what one move of the VIP looked like from the client and
// from the nodes' logs.
type Failover struct {
	// Name is the kind ("move", "hard kill", "graceful stop"), Trigger
	// what set it off.
	Name, Trigger string
	From, To      *Node
	Events        []Event
	// Followed is when the client's neighbour entry for the VIP first
	// named To's MAC.
	Followed time.Duration
	// Fenced is when the survivor's fencer logged that From was fenced,
	// in a hard kill or a fencing; 0 in the others. StartAfterFence is how much later
	// the survivor's execd ran the VIP's start.
	Fenced, StartAfterFence time.Duration
	// Agent is how long the agent ran before the client followed: the
	// stop on From (execd's measure) and the start on To up to the
	// moment the client followed, as the start sends its first
	// announcement before it returns. Parts tells it per operation.
	Agent time.Duration
	Parts []string
	// Probes and Lost count the client's pings from the trigger on; Gap
	// is the longest time without an answer.
	Probes, Lost int
	Gap          time.Duration
	// V6 is vip6's part of the failover, nil without vip6.
	V6 *Failover6

	t0 time.Time
	// ops are the agent's operations that the logs show.
	ops []AgentOp
}

func (f *Failover) add(t time.Time, format string, args ...any) {
	f.Events = append(f.Events, Event{t.Sub(f.t0), fmt.Sprintf(format, args...)})
}

// trigger sets a failover off and returns a function that waits for the
// trigger's own end (a command's exit, a node's shutdown), or nil.
type trigger func(ctx context.Context, f *Failover) (finish func() error, err error)

// failover moves the VIP from one node to the other by trigger and
// measures, from the client, when its neighbour entry for the VIP follows
// to the new holder's MAC. It fails when the client does not follow, when
// the cluster does not report the VIP on the new holder, or when the
// client gets no answer from the VIP after the move.
func (c *Cluster) failover(ctx context.Context, name, what string, from, to *Node, trig trigger) (*Failover, error) {
	m := c.Client
	if mac, err := m.Learn(ctx, VIP); err != nil {
		return nil, err
	} else if mac.String() != from.Host.MAC.String() {
		return nil, fmt.Errorf("%s: before it, the client's entry for the VIP is %s, not %s's %s", name, mac, from.Name, from.Host.MAC)
	}
	w, err := watchClient(m)
	if err != nil {
		return nil, err
	}
	defer w.close()
	w6, err := c.watchVIP6(ctx, name, from, to)
	if err != nil {
		return nil, err
	}
	defer w6.close()
	// Answered probes before the trigger, for the gap to start from.
	if !waitAnswered(ctx, w.pinger, time.Time{}, 5*time.Second) || w6 != nil && !waitAnswered(ctx, w6.pinger, time.Time{}, 5*time.Second) {
		return nil, fmt.Errorf("%s: before it, the client's pings to the VIPs on %s got no answer within 5s", name, from.Name)
	}

	f := &Failover{Name: name, Trigger: what, From: from, To: to, Followed: -1, t0: time.Now()}
	finish, err := trig(ctx, f)
	if err != nil {
		return nil, err
	}
	// A hard kill takes corosync's token timeout plus its consensus
	// timeout (about 7s) to notice; a minute is plenty for any of them.
	deadline := time.Now().Add(60 * time.Second)
	for lab.FirstChangeTo(w.changes(), to.Host.MAC) == nil {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: the client's neighbour entry for %s did not follow to %s (%s) within 60s", name, VIP, to.Name, to.Host.MAC)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	// The rest of the burst, for the count of announcements the timeline
	// prints; no check reads it. The answered ping the check below wants
	// is waited for.
	time.Sleep(1200 * time.Millisecond)
	if !waitAnswered(ctx, w.pinger, lab.FirstChangeTo(w.changes(), to.Host.MAC).Time, 10*time.Second) {
		return nil, fmt.Errorf("%s: the client's pings to %s got no answer within 10s after it followed to %s", name, VIP, to.Name)
	}
	if finish != nil {
		if err := finish(); err != nil {
			return nil, err
		}
	}
	if _, err := waitStatus(ctx, to, 30*time.Second, name+": vip started on "+to.Name, vipOn(to.Name)); err != nil {
		return nil, err
	}
	if err := hasVIP(to); err != nil {
		return nil, err
	}
	// A dead node keeps the address on its dark nic; any other must have
	// let it go, or the VIP would be on two nodes.
	dead := name == kindKill || name == kindFence
	if !dead && hasVIP(from) == nil {
		return nil, fmt.Errorf("%s: %s is still on %s after the VIP moved to %s", name, VIP, from.Name, to.Name)
	}

	in, out, probes := w.close()
	flip := lab.FirstChangeTo(w.changes(), to.Host.MAC)
	f.Followed = flip.Time.Sub(f.t0)
	f.add(flip.Time, "client's neighbour entry for %s -> %s (%s)", VIP, to.Host.MAC, to.Name)
	f.frames(lab.DecodeARP(in), lab.DecodeARP(out), flip.Time)
	f.logs(ctx, !dead, flip.Time)
	if dead {
		for _, e := range readLog(filepath.Join(to.Dir, "var/log/corosync/corosync.log"), func(r io.Reader) []LogEvent {
			return membershipEvents(r, to.Name, f.t0, time.Now())
		}) {
			f.add(e.Time, "%s", e.What)
		}
		if err := c.fenced(ctx, f); err != nil {
			return nil, err
		}
	}
	if !f.probes(probes, flip.Time) {
		return nil, fmt.Errorf("%s: the client's pings to %s got no answer after it followed to %s", name, VIP, to.Name)
	}
	if f.V6, err = w6.finish(ctx, c, f); err != nil {
		return nil, err
	}
	slices.SortStableFunc(f.Events, func(x, y Event) int { return int(x.At - y.At) })
	return f, nil
}

// clientWatch is what the test watches on the client during a failover:
// the ARP frames it receives and sends, its neighbour entry for the VIP,
// and its pings to the VIP.
type clientWatch struct {
	in, out   *lab.Capture
	changes   func() []lab.NeighborChange
	stopWatch func()
	pinger    *lab.Pinger
	closed    bool
	inFrames  []lab.Frame
	outFrames []lab.Frame
	probes    []lab.Probe
}

func watchClient(m *lab.Host) (*clientWatch, error) {
	w := &clientWatch{}
	var err error
	if w.in, err = m.Capture(0x0806); err == nil {
		if w.out, err = m.CaptureOutgoing(0x0806); err == nil {
			if w.changes, w.stopWatch, err = m.WatchNeighbor(VIP); err == nil {
				w.pinger, err = m.Ping(VIP, probeInterval)
			}
		}
	}
	if err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// inFlight is how long a ping's answer may take: Failover.probes does
// not count the probes sent that recently, lost or not.
const inFlight = 50 * time.Millisecond

// waitAnswered waits until a probe of p sent after from had its answer
// and p went on for inFlight after it, so that Failover.probes counts it,
// or until timeout; it says which. A test that needs answered pings
// before or after an event waits for them with it, not for a guessed
// time.
func waitAnswered(ctx context.Context, p *lab.Pinger, from time.Time, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		probes := p.Probes()
		if n := len(probes); n > 0 {
			end := probes[n-1].Sent.Add(-inFlight)
			for _, pr := range probes {
				if pr.Sent.After(from) && pr.Sent.Before(end) && !pr.Replied.IsZero() {
					return true
				}
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(probeInterval):
		}
	}
}

// close stops every watch, once, and returns what they saw.
func (w *clientWatch) close() (in, out []lab.Frame, probes []lab.Probe) {
	if !w.closed {
		w.closed = true
		if w.pinger != nil {
			w.probes = w.pinger.Close()
		}
		if w.stopWatch != nil {
			w.stopWatch()
		}
		if w.in != nil {
			w.inFrames = w.in.Close()
		}
		if w.out != nil {
			w.outFrames = w.out.Close()
		}
	}
	return w.inFrames, w.outFrames, w.probes
}

// frames adds the new holder's announcements that reached the client and
// the client's own broadcast requests for the VIP before it followed: had
// the client resolved the VIP itself, the move would not be the
// announcement's doing.
func (f *Failover) frames(in, out []lab.ARP, followed time.Time) {
	var first time.Time
	n := 0
	for _, a := range in {
		if a.Time.Before(f.t0) || a.SenderHW.String() != f.To.Host.MAC.String() || a.SenderIP != VIP || a.TargetIP != VIP {
			continue
		}
		if n++; n == 1 {
			first = a.Time
		}
	}
	if n > 0 {
		f.add(first, "client received the first of %d gratuitous ARPs from %s", n, f.To.Name)
	}
	for _, a := range out {
		if !a.Time.Before(f.t0) && a.Time.Before(followed) && a.TargetIP == VIP && a.EthDst.String() == "ff:ff:ff:ff:ff:ff" {
			f.add(a.Time, "client broadcast who-has %s", VIP)
		}
	}
}

// logs adds the agent's operations from the nodes' Pacemaker logs and
// counts the agent's time until the client followed. Pacemaker may write a
// line a little after the fact, so it reads again for a while until the
// start on the new holder is there.
func (f *Failover) logs(ctx context.Context, stopExpected bool, followed time.Time) {
	var ops []AgentOp
	for range 25 {
		ops = nil
		for _, n := range []*Node{f.From, f.To} {
			ops = append(ops, readLog(filepath.Join(n.Dir, "var/log/pacemaker/pacemaker.log"), func(r io.Reader) []AgentOp {
				return agentOps(r, n.Name, "vip", f.t0, time.Now())
			})...)
		}
		if complete(ops, f.To.Name, "start") && (!stopExpected || complete(ops, f.From.Name, "stop")) {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	f.ops = ops
	for _, op := range ops {
		f.add(op.Called, "%s on %s called", op.Action, op.Node)
		if op.Returned.IsZero() {
			continue
		}
		f.add(op.Returned, "%s on %s returned %d (agent ran %s)", op.Action, op.Node, op.Status, ms(op.Exec))
		switch {
		case !op.Called.Before(followed):
			// After the client followed: not part of the failover.
		case op.Returned.After(followed):
			part := followed.Sub(op.Called)
			f.Agent += part
			f.Parts = append(f.Parts, fmt.Sprintf("%s on %s %s of its %s", op.Action, op.Node, ms(part), ms(op.Exec)))
		default:
			f.Agent += op.Exec
			f.Parts = append(f.Parts, fmt.Sprintf("%s on %s %s", op.Action, op.Node, ms(op.Exec)))
		}
	}
}

func complete(ops []AgentOp, node, action string) bool {
	return slices.ContainsFunc(ops, func(o AgentOp) bool {
		return o.Node == node && o.Action == action && !o.Returned.IsZero()
	})
}

// probes counts the client's pings from the trigger on, finds the longest
// time without an answer, and says whether pings sent after the client
// followed were answered.
func (f *Failover) probes(probes []lab.Probe, followed time.Time) bool {
	if len(probes) == 0 {
		return false
	}
	// The last probes may still be in flight.
	end := probes[len(probes)-1].Sent.Add(-inFlight)
	var answers []time.Time
	answeredAfter := false
	for _, p := range probes {
		if p.Sent.After(end) {
			break
		}
		if !p.Replied.IsZero() {
			answers = append(answers, p.Replied)
		}
		if p.Sent.Before(f.t0) {
			continue
		}
		f.Probes++
		if p.Replied.IsZero() {
			f.Lost++
		} else if p.Sent.After(followed) {
			answeredAfter = true
		}
	}
	slices.SortFunc(answers, func(x, y time.Time) int { return x.Compare(y) })
	for i := 1; i < len(answers); i++ {
		f.Gap = max(f.Gap, answers[i].Sub(answers[i-1]))
	}
	return answeredAfter
}

// hasVIP checks that the VIP is on node n's nic.
func hasVIP(n *Node) error { return hasAddr(n, VIP) }

// hasAddr checks that ip is on node n's nic.
func hasAddr(n *Node, ip netip.Addr) error {
	family := netlink.FAMILY_V4
	if ip.Is6() {
		family = netlink.FAMILY_V6
	}
	addrs, err := n.Host.Addrs(family)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if a.IP.Equal(net.IP(ip.AsSlice())) {
			return nil
		}
	}
	return fmt.Errorf("the cluster says %s runs on %s, but it is not on its %s", ip, n.Name, n.Host.Dev)
}

// Print writes the failover's timeline and its share of agent time.
func (f *Failover) Print(w io.Writer) {
	fmt.Fprintf(w, "\n%s: %s (vip on %s, %s)\n", f.Name, f.Trigger, f.From.Name, f.From.Host.MAC)
	for _, e := range f.Events {
		fmt.Fprintf(w, "  %+10.1f ms  %s\n", float64(e.At.Microseconds())/1000, e.What)
	}
	if f.Fenced > 0 {
		fmt.Fprintf(w, "  %s's fencer confirmed %s fenced after %s; the VIP's start was called %s after that\n",
			f.To.Name, f.From.Name, ms(f.Fenced), ms(f.StartAfterFence))
	}
	fmt.Fprintf(w, "  the client followed to %s after %s; %s\n", f.To.Name, ms(f.Followed), f.AgentShare())
	fmt.Fprintf(w, "  client's pings every %v from the trigger on: %d sent, %d lost; longest without an answer %s\n",
		probeInterval, f.Probes, f.Lost, ms(f.Gap))
	f.V6.Print(w, f)
}

// AgentShare says how much of the failover the agent's operations took.
func (f *Failover) AgentShare() string {
	if len(f.Parts) == 0 {
		return "no agent operation found in the logs"
	}
	return fmt.Sprintf("the agent ran %s of it (%s), %.1f%%",
		ms(f.Agent), strings.Join(f.Parts, " + "), f.Share())
}

// Share is the agent's part of the failover in percent.
func (f *Failover) Share() float64 {
	return 100 * float64(f.Agent) / float64(f.Followed)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}
