//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// checkLevelInterval is the depth-10 monitor's interval. Pacemaker tells
// a resource's recurring operations apart by name and interval, so it
// must differ from the ordinary monitor's 10s.
const checkLevelInterval = "11s"

// splitRingScenario is two nodes without fencing whose ring is cut while
// both LAN links stay up: each node sees the other gone, keeps quorum
// (two_node), and with stonith-enabled=false takes the other for stopped,
// so both run the VIP: a split brain. The VIP carries floatip's depth-10
// monitor (OCF_CHECK_LEVEL=10, an ARP probe for the VIP), which must
// report it on each node with the other node's MAC. Healing the ring must
// bring the cluster back to one holder, by Pacemaker's multiple-active
// policy (stop_start: stop it everywhere, start it on one), and the client
// must follow that holder.
//
// An agent without that monitor (heartbeat:IPaddr2, whose monitor checks
// only its own nic, whatever OCF_CHECK_LEVEL says) gets the same monitor
// configured, and the scenario shows what an admin then sees: both nodes
// hold the VIP, each one's crm_mon shows it started there and no failure,
// for two of the monitor's intervals; the heal must recover as above.
func splitRingScenario(ctx context.Context, w io.Writer, binary string, ag *Agent) (err error) {
	rc, cleanup, err := newRingCluster([]string{"n1", "n2"}, ag)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil && ctx.Err() == nil {
			rc.dumpLogs(os.Stderr)
		}
		err = joinErr(err, cleanup())
	}()
	fmt.Fprintf(w, "\n=== split ring: two nodes, corosync on a ring of its own (%s), two_node, stonith-enabled=false, vip as %s\n", ringPrefix, ag.Title)
	rc.describeNodes(w)
	// Without fencing nothing stops a node that lost its peer from
	// taking over its resources: the misconfiguration this scenario is
	// about, and the one the depth-10 monitor is there to catch.
	if err := rc.boot(ctx, w, ringConf(rc, true), binary,
		[2]string{"stonith-enabled", "false"}, [2]string{"resource-stickiness", "1"}); err != nil {
		return err
	}
	holder, err := rc.createVIP(ctx)
	if err != nil {
		return err
	}
	other := rc.Nodes[0]
	if other == holder {
		other = rc.Nodes[1]
	}
	opAdd := []string{"pcs", "resource", "op", "add", "vip", "monitor", "interval=" + checkLevelInterval, "OCF_CHECK_LEVEL=10"}
	if _, err := rc.Nodes[0].MustExec(ctx, opAdd...); err != nil {
		return err
	}
	// pcs puts OCF_CHECK_LEVEL in the operation's instance attributes,
	// where Pacemaker takes it from to set the agent's environment.
	xpath := fmt.Sprintf("//primitive[@id='vip']/operations/op[@name='monitor'][@interval='%s']/instance_attributes/nvpair[@name='OCF_CHECK_LEVEL'][@value='10']", checkLevelInterval)
	if _, err := rc.Nodes[0].MustExec(ctx, "cibadmin", "--query", "--xpath", xpath); err != nil {
		return fmt.Errorf("split ring: the depth-10 monitor is not in the CIB: %w", err)
	}
	if _, err := rc.Nodes[0].MustExec(ctx, "crm_resource", "--wait", "--timeout=60s"); err != nil {
		return err
	}
	if err := rc.onlyHolder(holder); err != nil {
		return err
	}
	if mac, err := rc.Client.Learn(ctx, VIP); err != nil {
		return err
	} else if mac.String() != holder.Host.MAC.String() {
		return fmt.Errorf("split ring: the client reaches %s at %s, not at %s's %s", VIP, mac, holder.Name, holder.Host.MAC)
	}
	fmt.Fprintf(w, "  vip on %s, with the depth-10 monitor: %s\n", holder.Name, strings.Join(opAdd, " "))
	if !rc.agent.SplitBrainMonitor {
		fmt.Fprintf(w, "  %s has no depth-10 split-brain check: its monitor ignores OCF_CHECK_LEVEL and checks only\n"+
			"  its own nic, so the split is expected to go unreported; the scenario shows that, and the recovery at the heal\n", rc.agent.Title)
	}

	poll := pollAddrs(rc.Nodes, VIP)
	defer poll.close()
	tl := &timeline{t0: time.Now()}
	if err := rc.cutRing(holder); err != nil {
		return err
	}
	tl.add(time.Now(), "%s's ring port down: the nodes lose each other, both LAN links stay up", holder.Name)

	if rc.agent.SplitBrainMonitor {
		if err := rc.reportedSplit(ctx, w, tl, poll, holder, other); err != nil {
			return err
		}
	} else if err := rc.unnoticedSplit(ctx, w, tl, poll, holder, other); err != nil {
		return err
	}

	// Heal: the partitions merge, and the DC finds vip active on both.
	cw, err := watchClient(rc.Client)
	if err != nil {
		return err
	}
	defer cw.close()
	heal := &timeline{t0: time.Now()}
	if err := rc.healRing(holder); err != nil {
		return err
	}
	heal.add(time.Now(), "%s's ring port up", holder.Name)
	if _, err := waitStatus(ctx, holder, 60*time.Second, "split ring: one cluster again, vip on one node", func(s *Status) bool {
		return bothOnline("n1", "n2")(s) && len(s.RunningOn("vip")) == 1
	}, other); err != nil {
		return err
	}
	if _, err := holder.MustExec(ctx, "crm_resource", "--wait", "--timeout=60s"); err != nil {
		return err
	}
	s, err := waitStatus(ctx, other, 10*time.Second, "split ring: both nodes agree on the holder", func(s *Status) bool {
		return bothOnline("n1", "n2")(s) && len(s.RunningOn("vip")) == 1
	})
	if err != nil {
		return err
	}
	final := rc.node(s.RunningOn("vip")[0])
	if s2, err := status(ctx, holder); err != nil {
		return err
	} else if !slices.Equal(s2.RunningOn("vip"), []string{final.Name}) {
		return fmt.Errorf("split ring: %s says vip runs on %v, %s says on %s", holder.Name, s2.RunningOn("vip"), other.Name, final.Name)
	}
	if err := rc.onlyHolder(final); err != nil {
		return fmt.Errorf("split ring: after the heal: %w", err)
	}
	// The client follows the last start's announcements; from the heal
	// on, its entry must end at the holder's MAC, and the holder answer.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cs := cw.changes()
		mac, err := rc.Client.Neighbor(VIP)
		if err != nil {
			return err
		}
		if mac.String() == final.Host.MAC.String() && (len(cs) == 0 || cs[len(cs)-1].MAC.String() == final.Host.MAC.String()) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("split ring: after the heal the client's entry for %s is %s, not %s's %s", VIP, mac, final.Name, final.Host.MAC)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A ping sent once the entry names the holder must be answered.
	answered := waitAnswered(ctx, cw.pinger, time.Now(), 5*time.Second)
	cw.close()
	if !answered {
		return fmt.Errorf("split ring: the client's pings to %s got no answer from %s after the heal", VIP, final.Name)
	}
	changes, perr := poll.close()
	if perr != nil {
		return perr
	}
	// Until the membership merges, each node goes on restarting the VIP
	// as during the split: counted, not listed. From the merge on, every
	// step is in the timeline.
	merged := time.Time{}
	for _, n := range rc.Nodes {
		for _, e := range logMarks(filepath.Join(n.Dir, "var/log/corosync/corosync.log"), n.Name,
			[]logMark{{"Members joined:", "joined"}}, heal.t0, false) {
			if merged.IsZero() || e.Time.Before(merged) {
				merged = e.Time
			}
		}
	}
	if merged.IsZero() {
		return fmt.Errorf("split ring: vip recovered, but no corosync log shows the membership merged")
	}
	loop := map[string]int{}
	healOps := vipOps(rc.Nodes, heal.t0)
	var afterOps []AgentOp
	for _, op := range healOps {
		if op.Called.Before(merged) {
			loop[op.Action]++
		} else {
			afterOps = append(afterOps, op)
		}
	}
	heal.addOps(afterOps)
	flips, flipsAfter := 0, 0
	for _, c := range cw.changes() {
		flips++
		if !c.Time.Before(merged) {
			flipsAfter++
		}
	}
	if cs := cw.changes(); len(cs) > 0 {
		last := cs[len(cs)-1]
		heal.add(last.Time, "client's neighbour entry for %s -> %s, its last change", VIP, last.MAC)
	}
	for _, c := range changes {
		if c.At.Before(merged) {
			continue
		}
		verb := "gone from"
		if c.Has {
			verb = "appeared on"
		}
		heal.add(c.At, "%s %s %s's namespace (netlink poll)", VIP, verb, c.Node)
	}
	rc.markEvents(heal, rc.Nodes)
	fmt.Fprintf(w, "\n  heal: %s's ring port up\n", holder.Name)
	heal.print(w)
	fmt.Fprintf(w, "  before the merge at %s the nodes went on: %d starts, %d stops; the client's entry changed %d times\n"+
		"  from the heal on, %d of them after the merge\n",
		ms(merged.Sub(heal.t0)), loop["start"], loop["stop"], flips, flipsAfter)
	// What the merged cluster found and did: Pacemaker's multiple-active
	// recovery (stop_start) when both still held the VIP at the merge;
	// nothing, or a plain stop, when one node's restart loop had just
	// let it go.
	state := map[string]bool{}
	for _, c := range changes {
		if !c.At.After(merged) {
			state[c.Node] = c.Has
		}
	}
	var heldAtMerge, did []string
	for _, n := range rc.Nodes {
		if state[n.Name] {
			heldAtMerge = append(heldAtMerge, n.Name)
		}
	}
	for _, op := range afterOps {
		did = append(did, op.Action+" on "+op.Node)
	}
	how := "nothing to do"
	if len(did) > 0 {
		how = strings.Join(did, ", ")
	}
	if len(heldAtMerge) == 2 && ran(afterOps, "start") {
		stopsOn := map[string]bool{}
		for _, op := range afterOps {
			if op.Action == "stop" {
				stopsOn[op.Node] = true
			}
		}
		if len(stopsOn) == 2 {
			how += ": the multiple-active policy's stop_start"
		}
	}
	fmt.Fprintf(w, "  at the merge, %s was on %v by the nodes' addresses; the merged cluster then ran: %s\n", VIP, heldAtMerge, how)
	if !rc.agent.SplitBrainMonitor {
		// Nothing restarted the VIP during the split, so both nodes
		// still held it at the merge, and only Pacemaker's
		// multiple-active policy can end the split brain: a stop on
		// each node, then one start.
		stopsOn := map[string]bool{}
		for _, op := range afterOps {
			if op.Action == "stop" && op.Status == 0 {
				stopsOn[op.Node] = true
			}
		}
		if len(heldAtMerge) != 2 || len(stopsOn) != 2 || !ran(afterOps, "start") {
			return fmt.Errorf("split ring: with %s, want the VIP on both nodes at the merge and the multiple-active policy's stop on both, then a start; held by %v, ran: %s",
				rc.agent.Title, heldAtMerge, how)
		}
	}
	fmt.Fprintf(w, "  recovered: vip on %s alone by both nodes' status and by every node's addresses; the client's entry is %s (%s)\n",
		final.Name, final.Host.MAC, final.Name)
	return nil
}

// copyChanges returns the address changes so far without stopping the
// poll.
func copyChanges(p *addrPoll) ([]addrChange, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.changes), p.err
}

var durationRE = regexp.MustCompile(`^(\d+)s$`)

// intervalMS is an interval in seconds ("11s") as Pacemaker names
// operations by it, in milliseconds ("11000").
func intervalMS(s string) string {
	m := durationRE.FindStringSubmatch(s)
	if m == nil {
		panic("intervalMS: " + s)
	}
	return m[1] + "000"
}

// reportedSplit waits, after the cut, for the split brain that floatip's
// depth-10 monitor reports: each node's crm_mon must list the failed
// monitor with the other node's MAC, both nodes must have held the VIP at
// once, and it prints the split's timeline and each node's restarts.
func (rc *ringCluster) reportedSplit(ctx context.Context, w io.Writer, tl *timeline, poll *addrPoll, holder, other *Node) error {
	// Each node reports the other as the second holder, in its own
	// partition's status.
	reasons := map[string]string{}
	deadline := time.Now().Add(60 * time.Second)
	for len(reasons) < 2 {
		if time.Now().After(deadline) {
			return fmt.Errorf("split ring: no split brain reported within 60s of the cut by %v (reported: %v)", nodeNames(rc.Nodes), reasons)
		}
		for _, n := range rc.Nodes {
			if _, ok := reasons[n.Name]; ok {
				continue
			}
			s, err := status(ctx, n)
			if err != nil {
				return err
			}
			peer := rc.Nodes[0]
			if peer == n {
				peer = rc.Nodes[1]
			}
			want := fmt.Sprintf("split brain: %s also answers for %s", peer.Host.MAC, VIP)
			for _, f := range s.Failures {
				if f.Node == n.Name && f.Op == "vip_monitor_"+intervalMS(checkLevelInterval) && strings.HasPrefix(f.ExitReason, want) {
					if on := s.Online(); !slices.Equal(on, []string{n.Name}) {
						return fmt.Errorf("split ring: %s reports the split brain but sees %v online", n.Name, on)
					}
					reasons[n.Name] = f.ExitReason
					tl.add(time.Now(), "%s's crm_mon lists the failed depth-10 monitor", n.Name)
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	splitChanges, _ := copyChanges(poll)
	both := bothHeld(splitChanges, "n1", "n2")
	if both.IsZero() {
		return fmt.Errorf("split ring: the split brain was reported, but the nodes' addresses never had %s on both at once", VIP)
	}
	tl.add(both, "%s on both nodes' namespaces at once (netlink poll)", VIP)
	splitOps := vipOps(rc.Nodes, tl.t0)
	if i := slices.IndexFunc(splitOps, func(op AgentOp) bool { return op.Node == other.Name && op.Action == "start" }); i >= 0 {
		tl.add(splitOps[i].Called, "start on %s called: it takes %s for stopped", other.Name, holder.Name)
	}
	rc.markEvents(tl, rc.Nodes)
	for _, n := range rc.Nodes {
		for _, e := range logMarks(filepath.Join(n.Dir, "var/log/pacemaker/pacemaker.log"), n.Name,
			[]logMark{{"split brain:", "controller: the depth-10 monitor failed: split brain"}}, tl.t0, false) {
			tl.add(e.Time, "%s", e.What)
		}
	}
	fmt.Fprintf(w, "\n  split: %s's ring port down (vip on %s, %s)\n", holder.Name, holder.Name, holder.Host.MAC)
	tl.print(w)
	for _, n := range rc.Nodes {
		fmt.Fprintf(w, "  crm_mon --one-shot on %s, failed resource actions:\n", n.Name)
		r, err := n.MustExec(ctx, "crm_mon", "--one-shot")
		if err != nil {
			return err
		}
		shown := 0
		for _, line := range strings.Split(r.Stdout, "\n") {
			if strings.Contains(line, "split brain") && shown < 2 {
				fmt.Fprintf(w, "    %s\n", strings.TrimSpace(line))
				shown++
			}
		}
		if shown == 0 {
			return fmt.Errorf("split ring: crm_mon --one-shot on %s does not show the split brain", n.Name)
		}
	}
	var starts, stops [2]int
	for _, op := range splitOps {
		i := slices.IndexFunc(rc.Nodes, func(n *Node) bool { return n.Name == op.Node })
		switch op.Action {
		case "start":
			starts[i]++
		case "stop":
			stops[i]++
		}
	}
	fmt.Fprintf(w, "  during the split: %s started vip %d times and stopped it %d times, %s %d and %d: each node\n"+
		"  restarts it after each failed monitor (on-fail=restart), and there is nowhere else to go\n",
		rc.Nodes[0].Name, starts[0], stops[0], rc.Nodes[1].Name, starts[1], stops[1])
	return nil
}

// splitHold is how long unnoticedSplit watches the split brain: two of
// the 11 s monitor's intervals and a little more, so that the monitor has
// run at least twice on each node while both held the VIP.
const splitHold = 24 * time.Second

// unnoticedSplit is the split for an agent without floatip's depth-10
// check. It waits until both nodes hold the VIP by their own addresses
// and each node's status has it started there alone, then for splitHold
// checks every second that this stays so and that neither node's crm_mon
// lists a failure: what is true for an agent whose monitor checks only
// its own nic. Each node's CIB must hold a result of the 11 s monitor, so
// that the monitor did run under the split and was not merely absent.
func (rc *ringCluster) unnoticedSplit(ctx context.Context, w io.Writer, tl *timeline, poll *addrPoll, holder, other *Node) error {
	deadline := time.Now().Add(60 * time.Second)
	var both time.Time
	for {
		changes, err := copyChanges(poll)
		if err != nil {
			return err
		}
		if both = bothHeld(changes, "n1", "n2"); !both.IsZero() && rc.selfHolders(ctx) == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("split ring: within 60s of the cut, the VIP was not on both nodes, each started there by its own status: %v", rc.selfHolders(ctx))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	tl.add(both, "%s on both nodes' namespaces at once (netlink poll)", VIP)
	splitOps := vipOps(rc.Nodes, tl.t0)
	if i := slices.IndexFunc(splitOps, func(op AgentOp) bool { return op.Node == other.Name && op.Action == "start" }); i >= 0 {
		tl.add(splitOps[i].Called, "start on %s called: it takes %s for stopped", other.Name, holder.Name)
	}
	// Watch for two monitor intervals: any failure, stop or loss of the
	// address on either node fails the scenario.
	watchFrom := time.Now()
	for time.Since(watchFrom) < splitHold {
		if err := rc.selfHolders(ctx); err != nil {
			return fmt.Errorf("split ring: %s after both nodes held the VIP: %w", ms(time.Since(both)), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	changes, err := copyChanges(poll)
	if err != nil {
		return err
	}
	for _, c := range changes {
		if c.At.After(both) && !c.Has {
			return fmt.Errorf("split ring: %s left %s at %s, during the split", VIP, c.Node, ms(c.At.Sub(tl.t0)))
		}
	}
	tl.add(time.Now(), "both still hold %s, %s after both had it; no crm_mon listed a failure in between", VIP, ms(time.Since(both)))
	monitor := "vip_monitor_" + intervalMS(checkLevelInterval)
	for _, n := range rc.Nodes {
		xpath := fmt.Sprintf("//node_state[@uname='%s']//lrm_rsc_op[@operation_key='%s'][@rc-code='0']", n.Name, monitor)
		if _, err := n.MustExec(ctx, "cibadmin", "--query", "--xpath", xpath); err != nil {
			return fmt.Errorf("split ring: %s's CIB has no successful %s on %s: %w", n.Name, monitor, n.Name, err)
		}
	}
	splitOps = vipOps(rc.Nodes, tl.t0)
	rc.markEvents(tl, rc.Nodes)
	fmt.Fprintf(w, "\n  split: %s's ring port down (vip on %s, %s)\n", holder.Name, holder.Name, holder.Host.MAC)
	tl.print(w)
	for _, n := range rc.Nodes {
		r, err := n.MustExec(ctx, "crm_mon", "--one-shot")
		if err != nil {
			return err
		}
		var shown []string
		for _, line := range strings.Split(r.Stdout, "\n") {
			if strings.Contains(line, "vip") || strings.Contains(line, "Failed") {
				shown = append(shown, strings.TrimSpace(line))
			}
		}
		if !strings.Contains(r.Stdout, "Failed Resource Actions") {
			shown = append(shown, "no failed resource actions")
		}
		fmt.Fprintf(w, "  crm_mon --one-shot on %s: %s\n", n.Name, strings.Join(shown, "; "))
	}
	var starts, stops [2]int
	for _, op := range splitOps {
		i := slices.IndexFunc(rc.Nodes, func(n *Node) bool { return n.Name == op.Node })
		switch op.Action {
		case "start":
			starts[i]++
		case "stop":
			stops[i]++
		}
	}
	mac, err := rc.Client.Neighbor(VIP)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  during the split: %s started vip %d times and stopped it %d times, %s %d and %d; the 11 s monitor\n"+
		"  (OCF_CHECK_LEVEL=10) returned ok on both nodes (each CIB has its result rc 0): the split brain went UNREPORTED\n"+
		"  for %s; the client's entry for %s is %s\n",
		rc.Nodes[0].Name, starts[0], stops[0], rc.Nodes[1].Name, starts[1], stops[1], ms(time.Since(both)), VIP, mac)
	return nil
}

// selfHolders checks the split brain as each node sees it: only itself
// online, vip started on itself alone, no failed action listed, and the
// address on its nic.
func (rc *ringCluster) selfHolders(ctx context.Context) error {
	for _, n := range rc.Nodes {
		s, err := status(ctx, n)
		if err != nil {
			return err
		}
		switch {
		case !slices.Equal(s.Online(), []string{n.Name}):
			return fmt.Errorf("%s sees %v online", n.Name, s.Online())
		case !slices.Equal(s.RunningOn("vip"), []string{n.Name}):
			return fmt.Errorf("%s's status has vip on %v", n.Name, s.RunningOn("vip"))
		case len(s.Failures) > 0:
			return fmt.Errorf("%s's crm_mon lists failures: %s", n.Name, s.FailureText())
		}
		if on, err := holds(n, VIP); err != nil {
			return err
		} else if !on {
			return fmt.Errorf("%s's status has vip started there, but %s is not on its nic", n.Name, VIP)
		}
	}
	return nil
}
