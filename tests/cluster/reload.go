package main

import (
	"context"
	"fmt"
	"io"
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

func watchVIP(n *Node) *reloadWatch {
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
			err := hasVIP(n)
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
	argv := append([]string{"pcs", "resource", "update", "vip"}, args...)
	t0 := time.Now()
	if _, err := c.Nodes[0].MustExec(ctx, argv...); err != nil {
		return nil, nil, 0, err
	}
	log := filepath.Join(holder.Dir, "var/log/pacemaker/pacemaker.log")
	deadline := time.Now().Add(30 * time.Second)
	for {
		vip = readLog(log, func(r io.Reader) []AgentOp { return agentOps(r, holder.Name, "vip", t0, time.Now()) })
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
	if _, err := waitStatus(ctx, c.Nodes[0], 30*time.Second, "vip (and web) started", func(s *Status) bool {
		return len(s.RunningOn("vip")) == 1 && (!withWeb || len(s.RunningOn("web")) == 1)
	}); err != nil {
		return nil, nil, 0, err
	}
	web = readLog(log, func(r io.Reader) []AgentOp { return agentOps(r, holder.Name, "web", t0, time.Now()) })
	vip = readLog(log, func(r io.Reader) []AgentOp { return agentOps(r, holder.Name, "vip", t0, time.Now()) })
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
	pinger, err := c.Client.Ping(VIP, probeInterval)
	if err != nil {
		capture.Close()
		return err
	}
	watch := watchVIP(holder)
	vipOps, webOps, took, err := c.update(ctx, holder, true, []string{"reload-agent", "start"}, "arp_count=3", "announce_to="+c.Client.Addr.Addr().String())
	polls, absent := watch.close()
	// The last probes may still be in flight: their answers come within
	// a millisecond.
	time.Sleep(50 * time.Millisecond)
	probes := pinger.Close()
	frames := capture.Close()
	if err != nil {
		return err
	}
	lost := 0
	for _, p := range probes[:max(0, len(probes)-2)] {
		if p.Replied.IsZero() {
			lost++
		}
	}
	fmt.Fprintf(w, "  pcs resource update vip arp_count=3 announce_to=%s: settled after %s\n", c.Client.Addr.Addr(), ms(took))
	printOps(w, "vip", vipOps)
	printOps(w, "web", webOps)
	unicast := 0
	for _, f := range lab.DecodeARP(frames) {
		if f.EthDst.String() == c.Client.MAC.String() && f.SenderIP == VIP && f.SenderHW.String() == holder.Host.MAC.String() {
			unicast++
		}
	}
	fmt.Fprintf(w, "  the address was on %s at each of %d polls 5 ms apart: absent %d times; the client's pings every %v: %d sent, %d lost;\n"+
		"  the client received %d unicast announcement(s)\n", holder.Name, polls, absent, probeInterval, len(probes), lost, unicast)
	switch {
	case !ran(vipOps, "reload-agent") || ran(vipOps, "start") || ran(vipOps, "stop"):
		return fmt.Errorf("the update of reloadable parameters did not run reload-agent alone: %v", vipOps)
	case absent > 0:
		return fmt.Errorf("the address left %s %d times during reload-agent", holder.Name, absent)
	case lost > 0:
		return fmt.Errorf("the client lost %d of %d pings during reload-agent", lost, len(probes))
	case len(webOps) > 0:
		return fmt.Errorf("web was restarted by a reload of vip: %v", webOps)
	case unicast == 0:
		return fmt.Errorf("the client received no unicast announcement after announce_to named it")
	}

	vipOps, webOps, took, err = c.update(ctx, holder, true, []string{"start"}, "cidr_netmask=25")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  pcs resource update vip cidr_netmask=25: settled after %s\n", ms(took))
	printOps(w, "vip", vipOps)
	printOps(w, "web", webOps)
	if !ran(vipOps, "stop") || !ran(vipOps, "start") || !ran(webOps, "stop") || !ran(webOps, "start") {
		return fmt.Errorf("an update of cidr_netmask did not restart vip and web: vip %v, web %v", vipOps, webOps)
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
