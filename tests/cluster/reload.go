//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/floatip/floatip/tests/lab"
)

// reloadWatch polls a node every 5 ms for the VIP, to show that it never
// left the nic while the cluster applied an update.
type reloadWatch struct {
	stop   chan struct{}
	done   sync.WaitGroup
	mu     sync.Mutex
	polls  int
	absent int
}

func watchVIP(n *Node, ip netip.Addr) *reloadWatch {
	w := &reloadWatch{stop: make(chan struct{})}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
			err := hasAddr(n, ip)
			w.mu.Lock()
			w.polls++
			if err != nil {
				w.absent++
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *reloadWatch) close() (polls, absent int) {
	close(w.stop)
	w.done.Wait()
	return w.polls, w.absent
}

// update runs pcs resource update vip with args on the first node and
// waits until the holder's execd has run, for vip, one of the actions
// in want; it returns the operations of vip and of the dependent
// resource web that the holder ran from the update on.
func (c *Cluster) update(ctx context.Context, holder *Node, withWeb bool, want []string, args ...string) (vip, web []AgentOp, took time.Duration, err error) {
	return c.updateOf(ctx, holder, "vip", map[bool]string{true: "web"}[withWeb], want, args...)
}

// updateOf is update for resource rsc and its dependent dep ("" for none).
func (c *Cluster) updateOf(ctx context.Context, holder *Node, rsc, dep string, want []string, args ...string) (vip, web []AgentOp, took time.Duration, err error) {
	argv := append([]string{"pcs", "resource", "update", rsc}, args...)
	t0 := time.Now()
	if _, err := c.Nodes[0].MustExec(ctx, argv...); err != nil {
		return nil, nil, 0, err
	}
	log := filepath.Join(holder.Dir, "var/log/pacemaker/pacemaker.log")
	deadline := time.Now().Add(30 * time.Second)
	for {
		vip = readLog(log, func(r io.Reader) []AgentOp { return agentOps(r, holder.Name, rsc, t0, time.Now()) })
		done := false
		for _, op := range vip {
			for _, a := range want {
				done = done || op.Action == a && !op.Returned.IsZero()
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			return vip, nil, 0, fmt.Errorf("%s: %s ran none of %v within 30 s", strings.Join(argv, " "), holder.Name, want)
		}
		select {
		case <-ctx.Done():
			return nil, nil, 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Whatever else the transition does (a restart of web) is scheduled
	// with it: wait for the cluster to settle.
	if _, err := waitStatus(ctx, c.Nodes[0], 30*time.Second, rsc+" (and its dependent) started", func(s *Status) bool {
		return len(s.RunningOn(rsc)) == 1 && (dep == "" || len(s.RunningOn(dep)) == 1)
	}); err != nil {
		return nil, nil, 0, err
	}
	if dep != "" {
		web = readLog(log, func(r io.Reader) []AgentOp { return agentOps(r, holder.Name, dep, t0, time.Now()) })
	}
	vip = readLog(log, func(r io.Reader) []AgentOp { return agentOps(r, holder.Name, rsc, t0, time.Now()) })
	return vip, web, time.Since(t0), nil
}

// installAgent puts floatip in node n's provider directory, replacing
// what is there in one rename as a package upgrade does. With old, what
// goes there is a floatip as the nodes would have it before reload-agent:
// a wrapper that tells it its caller speaks OCF 1.0 only, so that it shows
// the 1.0 meta-data, without reloadable parameters.
func installAgent(n *Node, binary string, old bool) error {
	// Beside the agent, where the node's users reach it (the controller
	// runs meta-data as hacluster); Pacemaker lists no dot file.
	const real = "/" + ocfDir + "/floatip/.floatip"
	path := filepath.Join(n.Dir, ocfDir, "floatip/IPaddr2")
	tmp := path + ".new"
	if old {
		if err := copyFile(binary, filepath.Join(n.Dir, real), 0o755); err != nil {
			return err
		}
		script := "#!/bin/sh\nOCF_RA_VERSION_MINOR=0 exec " + real + ` "$@"` + "\n"
		if err := os.WriteFile(tmp, []byte(script), 0o755); err != nil {
			return err
		}
	} else if err := copyFile(binary, tmp, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// upgrade replaces the nodes' floatip of before reload-agent by this one
// under the running vip, and shows what the first update after it does:
// Pacemaker decides between reload and restart from the restart list it
// recorded with vip's last start, made from the meta-data of the agent of
// then, so that update restarts vip once; that start records the new
// list, and the updates after it reload.
func (c *Cluster) upgrade(ctx context.Context, w io.Writer, holder *Node, binary string) (*Node, error) {
	for _, n := range c.Nodes {
		if err := installAgent(n, binary, false); err != nil {
			return nil, err
		}
	}
	vipOps, _, took, err := c.update(ctx, holder, false, []string{"start"}, "arp_count=4")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "\nupgrade: floatip of before reload-agent replaced under the running vip on both nodes\n")
	fmt.Fprintf(w, "  pcs resource update vip arp_count=4: settled after %s\n", ms(took))
	printOps(w, "vip", vipOps)
	if ran(vipOps, "reload-agent") || !ran(vipOps, "start") {
		return nil, fmt.Errorf("the first update after the upgrade did not restart vip: %v", vipOps)
	}
	s, err := status(ctx, c.Nodes[0])
	if err != nil {
		return nil, err
	}
	if on := s.RunningOn("vip"); len(on) == 1 {
		holder = c.node(on[0])
	}
	return holder, nil
}

// reload shows OCF 1.1's reload-agent on the live cluster. With web, a
// service ordered after the VIP, an update of announcement settings runs
// reload-agent: the address never leaves the nic, web is not restarted,
// and the client receives the unicast announcement that announce_to now
// asks for. An update of cidr_netmask then restarts both, as before.
func (c *Cluster) reload(ctx context.Context, w io.Writer, holder *Node) error {
	for _, argv := range [][]string{
		{"pcs", "resource", "create", "web", "ocf:pacemaker:Dummy", "op", "monitor", "interval=10s"},
		{"pcs", "constraint", "colocation", "add", "web", "with", "vip", "INFINITY"},
		{"pcs", "constraint", "order", "start", "vip", "then", "start", "web"},
	} {
		if _, err := c.Nodes[0].MustExec(ctx, argv...); err != nil {
			return err
		}
	}
	if _, err := waitStatus(ctx, c.Nodes[0], 30*time.Second, "web started with vip", func(s *Status) bool {
		on := s.RunningOn("web")
		return len(on) == 1 && on[0] == holder.Name
	}); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nreload: web (ocf:pacemaker:Dummy) runs with vip on %s, started after it\n", holder.Name)

	capture, err := c.Client.Capture(0x0806)
	if err != nil {
		return err
	}
	var ours [2]updateSummary
	ours[0], err = c.measure(ctx, holder, "vip", "web", VIP, []string{"reload-agent", "start"}, "arp_count=3", "announce_to="+c.Client.Addr.Addr().String())
	frames := capture.Close()
	if err != nil {
		return err
	}
	unicast := 0
	for _, f := range lab.DecodeARP(frames) {
		if f.EthDst.String() == c.Client.MAC.String() && f.SenderIP == VIP && f.SenderHW.String() == holder.Host.MAC.String() {
			unicast++
		}
	}
	fmt.Fprintf(w, "  pcs resource update vip arp_count=3 announce_to=%s:\n    %s\n    the client received %d unicast announcement(s)\n",
		c.Client.Addr.Addr(), ours[0], unicast)
	u := ours[0]
	switch {
	case !ran(u.ops, "reload-agent") || ran(u.ops, "start") || ran(u.ops, "stop"):
		return fmt.Errorf("the update of reloadable parameters did not run reload-agent alone: %v", u.ops)
	case u.absent > 0:
		return fmt.Errorf("the address left %s %d times during reload-agent", holder.Name, u.absent)
	case u.lost > 0:
		return fmt.Errorf("the client lost %d of %d pings during reload-agent", u.lost, u.sent)
	case len(u.depOps) > 0:
		return fmt.Errorf("web was restarted by a reload of vip: %v", u.depOps)
	case unicast == 0:
		return fmt.Errorf("the client received no unicast announcement after announce_to named it")
	}

	if ours[1], err = c.measure(ctx, holder, "vip", "web", VIP, []string{"start"}, "cidr_netmask=25"); err != nil {
		return err
	}
	u = ours[1]
	fmt.Fprintf(w, "  pcs resource update vip cidr_netmask=25:\n    %s\n", u)
	if !ran(u.ops, "stop") || !ran(u.ops, "start") || !ran(u.depOps, "stop") || !ran(u.depOps, "start") {
		return fmt.Errorf("an update of cidr_netmask did not restart vip and web: vip %v, web %v", u.ops, u.depOps)
	}
	if err := c.compareHeartbeat(ctx, w, ours); err != nil {
		return err
	}
	for _, argv := range [][]string{
		{"pcs", "resource", "delete", "web"},
		{"pcs", "resource", "update", "vip", "cidr_netmask=24", "announce_to=", "arp_count=5"},
	} {
		if _, err := c.Nodes[0].MustExec(ctx, argv...); err != nil {
			return err
		}
	}
	_, err = waitStatus(ctx, c.Nodes[0], 30*time.Second, "vip alone", func(s *Status) bool {
		return len(s.RunningOn("vip")) == 1 && len(s.RunningOn("web")) == 0
	})
	return err
}

// updateSummary is what one update did to an address and the service
// ordered after it, seen from the holder and from the client.
type updateSummary struct {
	ops, depOps               []AgentOp
	took                      time.Duration
	polls, absent, sent, lost int
}

func (u updateSummary) String() string {
	var parts []string
	for _, op := range u.ops {
		parts = append(parts, fmt.Sprintf("%s %s", op.Action, ms(op.Exec)))
	}
	dep := "not restarted"
	if len(u.depOps) > 0 {
		dep = "restarted"
	}
	return fmt.Sprintf("%s; address absent at %d of %d polls; %d of %d pings lost; dependent %s; settled after %s",
		strings.Join(parts, ", "), u.absent, u.polls, u.lost, u.sent, dep, ms(u.took))
}

// measure runs an update of rsc, whose address is ip on holder, while the
// client pings ip every probeInterval and the holder is polled for it.
func (c *Cluster) measure(ctx context.Context, holder *Node, rsc, dep string, ip netip.Addr, want []string, args ...string) (updateSummary, error) {
	pinger, err := c.Client.Ping(ip, probeInterval)
	if err != nil {
		return updateSummary{}, err
	}
	watch := watchVIP(holder, ip)
	ops, depOps, took, err := c.updateOf(ctx, holder, rsc, dep, want, args...)
	polls, absent := watch.close()
	// The probes sent up to now count; those of them still in flight
	// have a second for their answers, a lost one gets none.
	end := time.Now()
	allAnswered := func() bool {
		for _, p := range pinger.Probes() {
			if p.Sent.Before(end) && p.Replied.IsZero() {
				return false
			}
		}
		return true
	}
	for deadline := end.Add(time.Second); !allAnswered() && time.Now().Before(deadline); {
		time.Sleep(probeInterval)
	}
	probes := pinger.Close()
	u := updateSummary{ops: ops, depOps: depOps, took: took, polls: polls, absent: absent}
	for _, p := range probes {
		if p.Sent.Before(end) {
			u.sent++
			if p.Replied.IsZero() {
				u.lost++
			}
		}
	}
	return u, err
}

// compareHeartbeat makes the same two updates with heartbeat:IPaddr2, an
// OCF 1.0 agent, on an address of its own with a service ordered after it,
// and prints both agents side by side: heartbeat restarts both times.
// announce_to is not one of its parameters, so its first update is of
// arp_count alone.
func (c *Cluster) compareHeartbeat(ctx context.Context, w io.Writer, ours [2]updateSummary) error {
	ip := netip.MustParseAddr("198.18.0.101")
	for _, argv := range [][]string{
		{"pcs", "resource", "create", "vip-hb", "ocf:heartbeat:IPaddr2", "ip=" + ip.String(), "cidr_netmask=24", "op", "monitor", "interval=10s"},
		{"pcs", "resource", "create", "web-hb", "ocf:pacemaker:Dummy", "op", "monitor", "interval=10s"},
		{"pcs", "constraint", "colocation", "add", "web-hb", "with", "vip-hb", "INFINITY"},
		{"pcs", "constraint", "order", "start", "vip-hb", "then", "start", "web-hb"},
	} {
		if _, err := c.Nodes[0].MustExec(ctx, argv...); err != nil {
			return err
		}
	}
	s, err := waitStatus(ctx, c.Nodes[0], 60*time.Second, "vip-hb and web-hb started", func(s *Status) bool {
		return len(s.RunningOn("vip-hb")) == 1 && len(s.RunningOn("web-hb")) == 1
	})
	if err != nil {
		return err
	}
	holder := c.node(s.RunningOn("vip-hb")[0])
	var theirs [2]updateSummary
	if theirs[0], err = c.measure(ctx, holder, "vip-hb", "web-hb", ip, []string{"start"}, "arp_count=3"); err != nil {
		return err
	}
	if theirs[1], err = c.measure(ctx, holder, "vip-hb", "web-hb", ip, []string{"start"}, "cidr_netmask=25"); err != nil {
		return err
	}
	fmt.Fprintf(w, "  the same updates with heartbeat:IPaddr2 (vip-hb %s on %s, web-hb after it):\n", ip, holder.Name)
	for i, what := range []string{"arp_count=3 (floatip: and announce_to)", "cidr_netmask=25"} {
		fmt.Fprintf(w, "    %s\n      floatip            %s\n      heartbeat:IPaddr2  %s\n", what, ours[i], theirs[i])
	}
	for i, u := range theirs {
		if !ran(u.ops, "stop") || !ran(u.ops, "start") {
			return fmt.Errorf("update %d of vip-hb did not restart it: %v", i+1, u.ops)
		}
	}
	for _, argv := range [][]string{{"pcs", "resource", "delete", "web-hb"}, {"pcs", "resource", "delete", "vip-hb"}} {
		if _, err := c.Nodes[0].MustExec(ctx, argv...); err != nil {
			return err
		}
	}
	return nil
}

func ran(ops []AgentOp, action string) bool {
	for _, op := range ops {
		if op.Action == action {
			return true
		}
	}
	return false
}

func printOps(w io.Writer, rsc string, ops []AgentOp) {
	if len(ops) == 0 {
		fmt.Fprintf(w, "    %s: no operation\n", rsc)
		return
	}
	for _, op := range ops {
		fmt.Fprintf(w, "    %s: %s exited %d after %s\n", rsc, op.Action, op.Status, ms(op.Exec))
	}
}
