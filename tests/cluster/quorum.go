//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/floatip/floatip/tests/lab"
)

// quorumScenario is three nodes with quorum: corosync on the ring,
// votequorum's plain majority (no two_node), no-quorum-policy=stop and
// fencing with fence_lab. It cuts the VIP holder's ring port while its LAN
// link stays up, so that the holder still reaches the client but no
// longer the cluster. The holder must lose quorum and stop the VIP, or be
// fenced; the majority must fence it before it starts the VIP on one of
// its own; the client must follow; the isolated node must send no ARP for
// the VIP after the new holder's first announcement; and once the
// isolated node is back, exactly one node's namespace has the address.
func quorumScenario(ctx context.Context, w io.Writer, binary string, ag *Agent) (err error) {
	rc, cleanup, err := newRingCluster([]string{"n1", "n2", "n3"}, ag)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil && ctx.Err() == nil {
			rc.dumpLogs(os.Stderr)
		}
		err = joinErr(err, cleanup())
	}()
	fmt.Fprintf(w, "\n=== quorum: three nodes, corosync on a ring of its own (%s), no two_node, no-quorum-policy=stop, fencing on, vip as %s\n", ringPrefix, ag.Title)
	rc.describeNodes(w)
	if err := rc.boot(ctx, w, ringConf(rc, false), binary,
		[2]string{"stonith-enabled", "true"}, [2]string{"no-quorum-policy", "stop"}, [2]string{"resource-stickiness", "1"}); err != nil {
		return err
	}
	if err := rc.fenceDevice(ctx, w); err != nil {
		return err
	}
	holder, err := rc.createVIP(ctx)
	if err != nil {
		return err
	}
	if mac, err := rc.Client.Learn(ctx, VIP); err != nil {
		return err
	} else if mac.String() != holder.Host.MAC.String() {
		return fmt.Errorf("quorum: the client reaches %s at %s, not at %s's %s", VIP, mac, holder.Name, holder.Host.MAC)
	}
	var majority []*Node
	for _, n := range rc.Nodes {
		if n != holder {
			majority = append(majority, n)
		}
	}
	fmt.Fprintf(w, "  vip runs on %s alone (by every node's addresses); the client reaches it at %s\n", holder.Name, holder.Host.MAC)

	cw, err := watchClient(rc.Client)
	if err != nil {
		return err
	}
	defer cw.close()
	poll := pollAddrs(rc.Nodes, VIP)
	defer poll.close()
	if !waitAnswered(ctx, cw.pinger, time.Time{}, 5*time.Second) {
		return fmt.Errorf("quorum: the client's pings to %s on %s got no answer within 5s before the cut", VIP, holder.Name)
	}

	tl := &timeline{t0: time.Now()}
	if err := rc.cutRing(holder); err != nil {
		return err
	}
	tl.add(time.Now(), "%s's ring port down (its LAN link stays up)", holder.Name)

	// The majority's own word first: vip started on one of its nodes.
	// The isolated holder dies when it is fenced, so only the majority
	// must stay alive.
	s, err := waitStatus(ctx, majority[0], 60*time.Second, "quorum: vip started on "+nodeNames(majority), func(s *Status) bool {
		on := s.RunningOn("vip")
		return len(on) == 1 && on[0] != holder.Name
	}, majority[1])
	if err != nil {
		return err
	}
	to := rc.node(s.RunningOn("vip")[0])
	deadline := time.Now().Add(30 * time.Second)
	for lab.FirstChangeTo(cw.changes(), to.Host.MAC) == nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("quorum: the client's neighbour entry for %s did not follow to %s (%s) within 30s", VIP, to.Name, to.Host.MAC)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	// The rest of the burst, and anything the isolated node still sends.
	// The check on the isolated node's ARPs below is bounded by this
	// time alone, not by an event: it could pass on a loaded machine
	// where the node sent late; only its fencing, later, ends it for
	// good.
	time.Sleep(1500 * time.Millisecond)
	if !waitAnswered(ctx, cw.pinger, lab.FirstChangeTo(cw.changes(), to.Host.MAC).Time, 10*time.Second) {
		return fmt.Errorf("quorum: the client's pings to %s got no answer within 10s after it followed to %s", VIP, to.Name)
	}
	in, _, probes := cw.close()
	changes, perr := poll.close()
	if perr != nil {
		return perr
	}
	flip := lab.FirstChangeTo(cw.changes(), to.Host.MAC)
	tl.add(flip.Time, "client's neighbour entry for %s -> %s (%s)", VIP, to.Host.MAC, to.Name)

	// The new holder's first announcement, and whatever the isolated
	// node sent for the VIP: a gratuitous ARP or an answer to the
	// client's request, either would pull the client back.
	var first time.Time
	var fromIsolated, after []lab.ARP
	nNew := 0
	for _, a := range lab.DecodeARP(in) {
		if a.Time.Before(tl.t0) || a.SenderIP != VIP {
			continue
		}
		switch a.SenderHW.String() {
		case to.Host.MAC.String():
			if a.TargetIP == VIP {
				if nNew++; nNew == 1 {
					first = a.Time
				}
			}
		case holder.Host.MAC.String():
			fromIsolated = append(fromIsolated, a)
		}
	}
	if first.IsZero() {
		return fmt.Errorf("quorum: the client received no gratuitous ARP for %s from %s", VIP, to.Name)
	}
	tl.add(first, "client received the first of %d gratuitous ARPs from %s", nNew, to.Name)
	for _, a := range fromIsolated {
		if a.Time.After(first) {
			after = append(after, a)
		}
	}
	if len(fromIsolated) > 0 {
		last := fromIsolated[len(fromIsolated)-1]
		tl.add(last.Time, "client received the last ARP for %s from %s (%s)", VIP, holder.Name, last.Op)
	}
	tl.addAddrs(changes)
	rc.markEvents(tl, rc.Nodes)
	ops := vipOps(rc.Nodes, tl.t0)
	tl.addOps(ops)
	fencedAt, err := rc.checkFenced(ctx, tl, holder, majority, to, ops)
	if err != nil {
		return err
	}
	f := &Failover{t0: tl.t0}
	answered := f.probes(probes, flip.Time)

	fmt.Fprintf(w, "\n  ring cut: %s loses the ring, keeps its LAN link (vip on %s, %s)\n", holder.Name, holder.Name, holder.Host.MAC)
	tl.print(w)
	stopped := "its own Pacemaker did not stop the VIP before it was fenced"
	for _, op := range ops {
		if op.Node == holder.Name && op.Action == "stop" && !op.Returned.IsZero() && op.Status == 0 && !op.Returned.After(fencedAt) {
			stopped = fmt.Sprintf("its own Pacemaker stopped the VIP for lack of quorum at %s, before it was fenced", ms(op.Returned.Sub(tl.t0)))
		}
	}
	fmt.Fprintf(w, "  %s: %s at %s\n", holder.Name, stopped, ms(fencedAt.Sub(tl.t0)))
	fmt.Fprintf(w, "  the client followed to %s after %s; %d ARPs for %s from %s reached it after the cut, %d of them after %s's first\n",
		to.Name, ms(flip.Time.Sub(tl.t0)), len(fromIsolated), VIP, holder.Name, len(after), to.Name)
	fmt.Fprintf(w, "  client's pings every %v from the cut on: %d sent, %d lost; longest without an answer %s\n",
		probeInterval, f.Probes, f.Lost, ms(f.Gap))
	if len(after) > 0 {
		return fmt.Errorf("quorum: the isolated %s sent %d ARPs for %s after %s's first announcement, the first %s", holder.Name, len(after), VIP, to.Name, after[0])
	}
	if !answered {
		return fmt.Errorf("quorum: the client's pings to %s got no answer after it followed to %s", VIP, to.Name)
	}

	// The fenced node boots again, as a fenced machine does, and rejoins:
	// the cluster must settle with the VIP where it is.
	if err := rc.rebootRing(ctx, w, holder, to); err != nil {
		return err
	}
	if err := rc.onlyHolder(to); err != nil {
		return fmt.Errorf("quorum: after %s rejoined: %w", holder.Name, err)
	}
	if mac, err := rc.Client.Learn(ctx, VIP); err != nil {
		return err
	} else if mac.String() != to.Host.MAC.String() {
		return fmt.Errorf("quorum: after %s rejoined, the client reaches %s at %s, not at %s's %s", holder.Name, VIP, mac, to.Name, to.Host.MAC)
	}
	fmt.Fprintf(w, "  settled: %s on %s alone by every node's addresses (%s); the client reaches it at %s\n",
		VIP, to.Name, nodeNames(rc.Nodes), to.Host.MAC)
	return nil
}

// checkFenced checks that a node of the majority fenced the isolated node
// through the lab's switch, that a fencer of the majority logged the
// fencing as done, and that the VIP's start on the new holder came after
// that. It returns when the fencing was confirmed, and adds the fencing's
// moments to the timeline.
func (rc *ringCluster) checkFenced(ctx context.Context, tl *timeline, isolated *Node, majority []*Node, to *Node, ops []AgentOp) (time.Time, error) {
	var result *FenceEvent
	for range 25 {
		result = nil
		var events []FenceEvent
		for _, n := range majority {
			log := filepath.Join(n.Dir, "var/log/pacemaker/pacemaker.log")
			events = append(events, readLog(log, func(r io.Reader) []FenceEvent {
				return fenceEvents(r, n.Name, isolated.Name, tl.t0, time.Now())
			})...)
		}
		for i, e := range events {
			if e.Result && (result == nil || e.Time.Before(result.Time)) {
				result = &events[i]
			}
		}
		if result != nil {
			for _, e := range events {
				tl.add(e.Time, "%s", e.What)
			}
			break
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if result == nil {
		return time.Time{}, fmt.Errorf("quorum: no fencer of %s logged the fencing of %s", nodeNames(majority), isolated.Name)
	}
	if !result.OK {
		return time.Time{}, fmt.Errorf("quorum: the fencing of %s failed: %s", isolated.Name, result.Line)
	}
	reqs := rc.Power.Requests(tl.t0)
	if len(reqs) == 0 {
		return time.Time{}, fmt.Errorf("quorum: the fencers say %s is fenced, but no fence_lab asked the switch", isolated.Name)
	}
	for _, r := range reqs {
		if r.Target != isolated.Name || !slices.ContainsFunc(majority, func(n *Node) bool { return n.Name == r.By }) {
			return time.Time{}, fmt.Errorf("quorum: fence_lab on %s asked to %s %s", r.By, r.Action, r.Target)
		}
		if r.Err != nil {
			return time.Time{}, fmt.Errorf("quorum: the switch failed to %s %s: %w", r.Action, r.Target, r.Err)
		}
		// The isolated node runs until it is fenced: nothing else
		// kills it.
		if !r.WasRunning {
			return time.Time{}, fmt.Errorf("quorum: %s was already dead when %s's fence_lab asked the switch", r.Target, r.By)
		}
		tl.add(r.At, "the switch got %s %s from %s's fence_lab", r.Action, r.Target, r.By)
		tl.add(r.Done, "the switch answered: %s still ran: powered off (LAN link down, init SIGKILLed)", r.Target)
	}
	i := slices.IndexFunc(ops, func(op AgentOp) bool { return op.Node == to.Name && op.Action == "start" })
	if i < 0 {
		return time.Time{}, fmt.Errorf("quorum: no start of vip on %s in its log", to.Name)
	}
	if ops[i].Called.Before(result.Time) {
		return time.Time{}, fmt.Errorf("quorum: vip's start on %s was called at %s, before the fencing of %s was confirmed at %s",
			to.Name, ops[i].Called.Format(logStamp), isolated.Name, result.Time.Format(logStamp))
	}
	return result.Time, nil
}

// fenceDevice creates fence-lab for every node with pcs and checks that
// every node's fencer has it for every other node.
func (rc *ringCluster) fenceDevice(ctx context.Context, w io.Writer) error {
	names := nodeNames(rc.Nodes)
	if _, err := rc.Nodes[0].MustExec(ctx, "pcs", "stonith", "create", "fence-lab", fenceAgent, "socket="+rc.Power.Socket, "pcmk_host_list="+names); err != nil {
		return err
	}
	if _, err := waitStatus(ctx, rc.Nodes[0], 30*time.Second, "fence-lab started", func(s *Status) bool { return len(s.RunningOn("fence-lab")) == 1 }); err != nil {
		return err
	}
	for _, n := range rc.Nodes {
		for _, o := range rc.Nodes {
			if o == n {
				continue
			}
			r, err := n.MustExec(ctx, "stonith_admin", "--list", o.Name)
			if err != nil {
				return err
			}
			if !strings.Contains(r.Stdout, "fence-lab") {
				return fmt.Errorf("%s's fencer has no device for %s: %q", n.Name, o.Name, strings.TrimSpace(r.Stdout))
			}
		}
	}
	fmt.Fprintf(w, "  fencing: pcs stonith create fence-lab fence_lab socket=... pcmk_host_list=\"%s\"; every node's fencer lists it for the others\n", names)
	return nil
}

// rebootRing boots node n again as a fenced machine comes back: without
// the VIP (a reboot loses its addresses; the test says whether it was
// still there), both links up, and waits until it is online and the
// cluster is idle with the VIP still on survivor.
func (rc *ringCluster) rebootRing(ctx context.Context, w io.Writer, n, survivor *Node) error {
	t := time.Now()
	left := "it had let the VIP go"
	if on, err := holds(n, VIP); err != nil {
		return err
	} else if on {
		left = "the VIP was still on its dark nic, removed as a reboot would"
		if err := n.Host.IP("addr", "del", VIP.String()+"/24", "dev", n.Host.Dev); err != nil {
			return err
		}
	}
	if err := rc.healRing(n); err != nil {
		return err
	}
	if err := n.Host.IP("link", "set", n.Host.Dev, "up"); err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		return err
	}
	var names []string
	for _, o := range rc.Nodes {
		names = append(names, o.Name)
	}
	if _, err := waitStatus(ctx, survivor, 90*time.Second, n.Name+" back online", bothOnline(names...), n); err != nil {
		return err
	}
	if _, err := survivor.MustExec(ctx, "crm_resource", "--wait", "--timeout=60s"); err != nil {
		return err
	}
	if _, err := waitStatus(ctx, survivor, 10*time.Second, "vip still on "+survivor.Name, vipOn(survivor.Name)); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n  reboot: %s (%s) back online and the cluster idle %.1f s after it was started again; vip stays on %s\n",
		n.Name, left, time.Since(t).Seconds(), survivor.Name)
	return nil
}

// joinErr is errors.Join that keeps a lone error as it is.
func joinErr(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return fmt.Errorf("%w; and then: %w", a, b)
}
