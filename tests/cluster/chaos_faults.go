//go:build linux

package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// fault is one kind of trouble the chaos run makes. run makes it happen
// to a target it draws, undoes what an admin or the hardware would undo
// (a cable plugged back, a node out of standby), and waits for what must
// come before the cluster can settle (a fencing, a monitor's failure); a
// node left down is booted again by the round.
type fault struct {
	name, help string
	run        func(ctx context.Context, ch *chaos, r *round) error
}

// faults are all of them, by the names -faults takes.
var faults = []*fault{
	{"kill", "hard kill of a node: its link cut and its init SIGKILLed; the others fence it", hardKill},
	{"linkcut", "a VIP holder's LAN cable pulled for 3 to 15 s, then plugged back", linkCut},
	{"ringcut", "a node's ring port cut: the majority fences it", ringCut},
	{"move", "pcs resource move of a VIP to another node", resourceMove},
	{"standby", "pcs node standby of a VIP holder, then unstandby", standby},
	{"restart", "a node stopped gracefully and started again", nodeRestart},
	{"execd", "kill -9 of pacemaker-execd on a VIP holder", execdKill},
	{"addrdel", "a VIP's address deleted by hand behind Pacemaker's back", addrDeleted},
	{"flap", "a VIP moved; its new holder's LAN port down 100 to 500 ms as the address appears", flapDuringStart},
}

func faultNames() []string {
	var out []string
	for _, f := range faults {
		out = append(out, f.name)
	}
	return out
}

// parseFaults reads -faults: names from faults, comma-separated; all of
// them when empty.
func parseFaults(s string) ([]*fault, error) {
	if s == "" {
		return faults, nil
	}
	var out []*fault
	for _, name := range strings.Split(s, ",") {
		i := slices.IndexFunc(faults, func(f *fault) bool { return f.name == name })
		if i < 0 {
			return nil, fmt.Errorf("-faults: no fault %q (have %s)", name, strings.Join(faultNames(), ", "))
		}
		if slices.Contains(out, faults[i]) {
			return nil, fmt.Errorf("-faults: %q twice", name)
		}
		out = append(out, faults[i])
	}
	return out, nil
}

func faultList(fs []*fault) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.name)
	}
	return strings.Join(out, ", ")
}

// pickVIP draws a VIP.
func (ch *chaos) pickVIP() chaosVIP {
	return chaosVIPs[ch.rng.IntN(len(chaosVIPs))]
}

// holderOf is the node that held v when the round began.
func (ch *chaos) holderOf(r *round, v chaosVIP) *Node {
	return ch.node(r.before[v.ID])
}

// pickNode draws a node: two times in three the holder of a VIP, where a
// fault does the most harm, else any node.
func (ch *chaos) pickNode(r *round) *Node {
	if ch.rng.IntN(3) < 2 {
		return ch.holderOf(r, ch.pickVIP())
	}
	return ch.Nodes[ch.rng.IntN(len(ch.Nodes))]
}

// pickOther draws a node other than n.
func (ch *chaos) pickOther(n *Node) *Node {
	var others []*Node
	for _, o := range ch.Nodes {
		if o != n {
			others = append(others, o)
		}
	}
	return others[ch.rng.IntN(len(others))]
}

// held names node n and the VIPs it held when the round began.
func held(r *round, n *Node) string {
	var ids []string
	for _, v := range chaosVIPs {
		if r.before[v.ID] == n.Name {
			ids = append(ids, v.ID)
		}
	}
	if len(ids) == 0 {
		return n.Name + " (no VIP)"
	}
	return n.Name + " (" + strings.Join(ids, ",") + ")"
}

// awayFrom says that the VIPs node n held must run elsewhere after the
// round.
func (r *round) awayFrom(n *Node) {
	for _, v := range chaosVIPs {
		if r.before[v.ID] == n.Name {
			if r.away == nil {
				r.away = map[string]string{}
			}
			r.away[v.ID] = n.Name
		}
	}
}

// allowVIPs says that the fault explains failed operations of the VIPs on
// node n.
func (r *round) allowVIPs(n *Node, ops ...string) {
	for _, v := range chaosVIPs {
		r.allow(v.ID, n.Name, ops...)
	}
}

func hardKill(ctx context.Context, ch *chaos, r *round) error {
	n := ch.pickNode(r)
	r.what = held(r, n)
	if _, err := n.powerOff(); err != nil {
		return err
	}
	r.awayFrom(n)
	return ch.waitFenced(ctx, r, n)
}

// waitFenced waits until the lab's switch has fenced n since the round
// began: the survivors must fence a node they lost before its VIPs start
// elsewhere, and it must stay down until then.
func (ch *chaos) waitFenced(ctx context.Context, r *round, n *Node) error {
	return poll(ctx, 90*time.Second, func() (bool, error) {
		for _, req := range ch.Power.Requests(r.t0) {
			if req.Target == n.Name && req.Err == nil && !req.Done.IsZero() {
				return true, nil
			}
		}
		return false, nil
	}, func() error { return fmt.Errorf("the cluster did not fence %s within 90 s", n.Name) })
}

func linkCut(ctx context.Context, ch *chaos, r *round) error {
	n := ch.holderOf(r, ch.pickVIP())
	hold := time.Duration(3+ch.rng.IntN(13)) * time.Second
	r.what = fmt.Sprintf("%s for %.0f s", held(r, n), hold.Seconds())
	if err := ch.Lab.Cut(n.Host); err != nil {
		return err
	}
	// A monitor that runs while the cable is out fails, and the start
	// on the same node then refuses the nic without carrier.
	r.allowVIPs(n)
	if err := sleep(ctx, hold); err != nil {
		return err
	}
	return ch.Lab.Restore(n.Host)
}

func ringCut(ctx context.Context, ch *chaos, r *round) error {
	n := ch.pickNode(r)
	r.what = held(r, n)
	if err := ch.cutRing(n); err != nil {
		return err
	}
	r.awayFrom(n)
	// The isolated node loses quorum and the majority fences it; the
	// round boots it again with its ring port back.
	return poll(ctx, 90*time.Second, func() (bool, error) { return !n.Running(), nil },
		func() error { return fmt.Errorf("%s, cut from the ring, was not fenced within 90 s", n.Name) })
}

func resourceMove(ctx context.Context, ch *chaos, r *round) error {
	v := ch.pickVIP()
	from := ch.holderOf(r, v)
	to := ch.pickOther(from)
	r.what = fmt.Sprintf("%s %s -> %s", v.ID, from.Name, to.Name)
	if _, err := from.MustExec(ctx, "pcs", "resource", "move", v.ID, to.Name); err != nil {
		return err
	}
	r.want = map[string]string{v.ID: to.Name}
	return nil
}

func standby(ctx context.Context, ch *chaos, r *round) error {
	n := ch.holderOf(r, ch.pickVIP())
	r.what = held(r, n)
	if _, err := n.MustExec(ctx, "pcs", "node", "standby", n.Name); err != nil {
		return err
	}
	if _, err := waitStatus(ctx, n, time.Minute, "no VIP on "+n.Name+" in standby", func(s *Status) bool {
		for _, v := range chaosVIPs {
			if on := s.RunningOn(v.ID); len(on) != 1 || on[0] == n.Name {
				return false
			}
		}
		return true
	}); err != nil {
		return err
	}
	r.awayFrom(n)
	_, err := n.MustExec(ctx, "pcs", "node", "unstandby", n.Name)
	return err
}

func nodeRestart(ctx context.Context, ch *chaos, r *round) error {
	n := ch.pickNode(r)
	r.what = held(r, n)
	if err := n.Stop(); err != nil {
		return err
	}
	if err := n.wait(90 * time.Second); err != nil {
		return err
	}
	if n.err != nil {
		return fmt.Errorf("%s did not stop cleanly: %v: %s", n.Name, n.err, n.tail())
	}
	// A node that stopped gracefully let its VIPs go: had it not, its
	// reboot would hide it.
	for _, v := range chaosVIPs {
		if hasAddr(n, v.IP) == nil {
			return fmt.Errorf("%s stopped gracefully but still has %s (%s)", n.Name, v.ID, v.IP)
		}
	}
	r.awayFrom(n)
	return nil
}

func execdKill(ctx context.Context, ch *chaos, r *round) error {
	n := ch.holderOf(r, ch.pickVIP())
	r.what = held(r, n)
	old, err := execdPID(ctx, n)
	if err != nil {
		return err
	}
	if _, err := n.MustExec(ctx, "kill", "-KILL", old); err != nil {
		return err
	}
	// The executor died under the node's resources: whatever Pacemaker
	// recorded of them on that node, it explains.
	r.allow("", n.Name)
	// Pacemaker reacts in two ways: pacemakerd starts a new executor at
	// once, and at times the controller, which lost an operation with the
	// old one, exits and the node is fenced (seen 4 s after the kill).
	// Watch for longer than the monitors' interval, so that the settling
	// does not see the state before the reaction.
	killed := time.Now()
	return poll(ctx, time.Minute, func() (bool, error) {
		if !n.Running() {
			return true, nil
		}
		if time.Since(killed) < 15*time.Second {
			return false, nil
		}
		pid, err := execdPID(ctx, n)
		return err == nil && pid != old, nil
	}, func() error { return fmt.Errorf("no new pacemaker-execd on %s within a minute", n.Name) })
}

// execdPID is the PID of node n's pacemaker-execd, in its PID namespace.
func execdPID(ctx context.Context, n *Node) (string, error) {
	res, err := n.MustExec(ctx, "pgrep", "-x", "pacemaker-execd")
	if err != nil {
		return "", err
	}
	pids := strings.Fields(res.Stdout)
	if len(pids) != 1 {
		return "", fmt.Errorf("pacemaker-execd on %s: %q", n.Name, res.Stdout)
	}
	return pids[0], nil
}

func addrDeleted(ctx context.Context, ch *chaos, r *round) error {
	v := ch.pickVIP()
	n := ch.holderOf(r, v)
	r.what = fmt.Sprintf("%s from %s", v.ID, n.Name)
	if err := n.Host.IP("addr", "del", v.Prefix().String(), "dev", n.Host.Dev); err != nil {
		return err
	}
	r.allow(v.ID, n.Name, "monitor")
	// The next monitor (10 s) finds it gone; the recovery puts it back.
	return poll(ctx, time.Minute, func() (bool, error) {
		on, err := holders(ch.Nodes, v.IP)
		return len(on) > 0, err
	}, func() error { return fmt.Errorf("%s did not come back within a minute of its deletion", v.ID) })
}

func flapDuringStart(ctx context.Context, ch *chaos, r *round) error {
	v := ch.pickVIP()
	from := ch.holderOf(r, v)
	to := ch.pickOther(from)
	down := time.Duration(100+ch.rng.IntN(400)) * time.Millisecond
	r.what = fmt.Sprintf("%s %s -> %s, down %d ms", v.ID, from.Name, to.Name, down.Milliseconds())
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	flapped := make(chan error, 1)
	go func() {
		flapped <- func() error {
			if err := poll(fctx, time.Minute, func() (bool, error) { return hasAddr(to, v.IP) == nil, nil }, func() error { return nil }); err != nil {
				return nil // the address never came: nothing to flap
			}
			if hasAddr(to, v.IP) != nil {
				return nil
			}
			if err := ch.Lab.Cut(to.Host); err != nil {
				return err
			}
			time.Sleep(down)
			return ch.Lab.Restore(to.Host)
		}()
	}()
	// The start's first monitor may see the link down and fail, and the
	// start on to again: pcs then says the move failed, which is the
	// fault's doing, not the test's.
	r.allowVIPs(to)
	res, err := from.Exec(ctx, "pcs", "resource", "move", v.ID, to.Name)
	if err != nil {
		return err
	}
	if res.Code != 0 {
		r.what += fmt.Sprintf(", pcs exited %d", res.Code)
	}
	// Let the flap end before the round looks.
	if err := sleep(ctx, 2*time.Second); err != nil {
		return err
	}
	cancel()
	if err := <-flapped; err != nil {
		return err
	}
	// pcs leaves its constraint when the move does not end on to.
	_, err = from.MustExec(ctx, "pcs", "resource", "clear", v.ID)
	return err
}

// poll calls done every 100 ms until it says so, fails with timeout()
// after d.
func poll(ctx context.Context, d time.Duration, done func() (bool, error), timeout func() error) error {
	deadline := time.Now().Add(d)
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return timeout()
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
