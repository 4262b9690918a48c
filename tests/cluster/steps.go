//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/floatip/floatip/tests/lab"
)

// create makes the VIP with pcs, as the README tells admins to, waits for
// the cluster to start it, and checks that the client reaches it at the
// holder's MAC. It returns the holder.
func (c *Cluster) create(ctx context.Context, w io.Writer) (*Node, error) {
	argv := []string{"pcs", "resource", "create", "vip", c.agent.Type, "ip=" + VIP.String(), "cidr_netmask=24", "op", "monitor", "interval=10s"}
	n1 := c.Nodes[0]
	r, err := n1.MustExec(ctx, argv...)
	if err != nil {
		return nil, err
	}
	s, err := waitStatus(ctx, n1, 30*time.Second, "vip started", func(s *Status) bool { return len(s.RunningOn("vip")) == 1 })
	if err != nil {
		return nil, err
	}
	holder := c.node(s.RunningOn("vip")[0])
	if err := hasVIP(holder); err != nil {
		return nil, err
	}
	mac, err := c.Client.Learn(ctx, VIP)
	if err != nil {
		return nil, err
	}
	if mac.String() != holder.Host.MAC.String() {
		return nil, fmt.Errorf("the client reaches %s at %s, not at %s's %s", VIP, mac, holder.Name, holder.Host.MAC)
	}
	fmt.Fprintf(w, "\ncreate: %s (on n1)\n", strings.Join(argv, " "))
	fmt.Fprintf(w, "  pcs returned after %s; vip runs on %s", ms(r.End.Sub(r.Start)), holder.Name)
	// pcs returns once the CIB has the resource, before the start.
	ops := readLog(filepath.Join(holder.Dir, "var/log/pacemaker/pacemaker.log"), func(rd io.Reader) []AgentOp {
		return agentOps(rd, holder.Name, "vip", r.Start, time.Now())
	})
	for _, op := range ops {
		if op.Action == "start" && !op.Returned.IsZero() {
			fmt.Fprintf(w, ": the agent's start was called %s after pcs and ran %s", ms(op.Called.Sub(r.Start)), ms(op.Exec))
		}
	}
	fmt.Fprintf(w, "\n  the client reaches %s at %s (%s)\n", VIP, mac, holder.Name)
	return holder, nil
}

// move is the trigger of an admin's move: pcs resource move, which in pcs
// 0.11 adds a location constraint, waits for the move and removes the
// constraint again, so it returns seconds after the VIP has moved.
func (c *Cluster) move(from, to *Node) trigger {
	return command(from, "pcs", "resource", "move", "vip", to.Name)
}

// fence is the trigger of an admin's fencing of the holder from the other
// node: pcs stonith fence (stonith_admin --reboot underneath) returns once
// the fencer has the result.
func (c *Cluster) fence(target, from *Node) trigger {
	return command(from, "pcs", "stonith", "fence", target.Name)
}

// command is the trigger of an admin's command on node n, which runs
// while the failover is measured; the failover waits for its exit.
func command(n *Node, argv ...string) trigger {
	return func(ctx context.Context, f *Failover) (func() error, error) {
		type result struct {
			r   lab.Result
			err error
		}
		done := make(chan result, 1)
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		f.add(time.Now(), "%s called on %s", strings.Join(argv, " "), n.Name)
		go func() {
			r, err := n.MustExec(ctx, argv...)
			done <- result{r, err}
		}()
		return func() error {
			defer cancel()
			res := <-done
			if res.err != nil {
				return res.err
			}
			f.add(res.r.End, "%s returned", strings.Join(argv, " "))
			return nil
		}, nil
	}
}

// kill is the trigger of a node's sudden death: its link goes down, as a
// powered-off machine's switch port does, and SIGKILL ends every process
// of the node at once. The VIP stays on the dead node's nic, which no
// longer answers, as on a dead machine.
func (c *Cluster) kill(n *Node) trigger {
	return func(ctx context.Context, f *Failover) (func() error, error) {
		t := time.Now()
		// What the lab's power switch does when it fences a node.
		if _, err := n.powerOff(); err != nil {
			return nil, err
		}
		f.add(t, "%s's link cut and its init SIGKILLed", n.Name)
		return nil, nil
	}
}

// stop is the trigger of an admin's node shutdown.
func (c *Cluster) stop(n *Node) trigger {
	return func(ctx context.Context, f *Failover) (func() error, error) {
		f.add(time.Now(), "%s told to stop (SIGTERM to its init)", n.Name)
		if err := n.Stop(); err != nil {
			return nil, err
		}
		return func() error {
			if err := n.wait(90 * time.Second); err != nil {
				return err
			}
			if n.err != nil {
				return fmt.Errorf("node %s did not stop cleanly: %v: %s", n.Name, n.err, n.tail())
			}
			f.add(n.exited, "%s's pacemakerd and corosync exited", n.Name)
			return nil
		}, nil
	}
}

// reboot brings a killed node back as a rebooted machine comes back:
// without the VIP (a reboot loses its addresses), link up, corosync and
// Pacemaker started with the state they had on disk. It waits until the
// node is back in the cluster and the cluster is idle, with the VIP still
// on survivor (resource-stickiness keeps it there).
func (c *Cluster) reboot(ctx context.Context, w io.Writer, n, survivor *Node) error {
	t := time.Now()
	if hasVIP(n) == nil {
		if err := n.Host.IP("addr", "del", VIP.String()+"/24", "dev", n.Host.Dev); err != nil {
			return err
		}
	}
	if err := n.Host.IP("link", "set", n.Host.Dev, "up"); err != nil {
		return err
	}
	if err := rebootAddrs6(n); err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		return err
	}
	if _, err := waitStatus(ctx, survivor, 90*time.Second, n.Name+" back online", bothOnline("n1", "n2"), n); err != nil {
		return err
	}
	// The DC probes the VIP on the node that joined; let that finish.
	if _, err := survivor.MustExec(ctx, "crm_resource", "--wait", "--timeout=60s"); err != nil {
		return err
	}
	if _, err := waitStatus(ctx, survivor, 10*time.Second, "vip still on "+survivor.Name, vipOn(survivor.Name)); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nreboot: %s back online and the cluster idle %.1f s after it was started again; vip stays on %s\n",
		n.Name, time.Since(t).Seconds(), survivor.Name)
	return nil
}

// fencing creates the lab's fence device with pcs, as an admin would for
// any fence agent, and checks that both nodes' fencers have it as the
// device for the other node.
func (c *Cluster) fencing(ctx context.Context, w io.Writer) error {
	n1 := c.Nodes[0]
	var names []string
	for _, n := range c.Nodes {
		names = append(names, n.Name)
	}
	argv := []string{"pcs", "stonith", "create", "fence-lab", fenceAgent, "socket=" + c.Power.Socket,
		"pcmk_host_list=" + strings.Join(names, " ")}
	r, err := n1.MustExec(ctx, argv...)
	if err != nil {
		return err
	}
	s, err := waitStatus(ctx, n1, 30*time.Second, "fence-lab started", func(s *Status) bool { return len(s.RunningOn("fence-lab")) == 1 })
	if err != nil {
		return err
	}
	for _, n := range c.Nodes {
		other := c.other(n)
		// fenced registers the device on every node it may run on, not
		// only where it is started: the survivor of a death fences
		// with it even when the dead node ran it.
		r, err := n.MustExec(ctx, "stonith_admin", "--list", other.Name)
		if err != nil {
			return err
		}
		if !strings.Contains(r.Stdout, "fence-lab") {
			return fmt.Errorf("%s's fencer has no device for %s: %q", n.Name, other.Name, strings.TrimSpace(r.Stdout))
		}
	}
	// The device's first monitor, right after its start, is fence_lab
	// reaching the switch from inside a node.
	deadline := time.Now().Add(15 * time.Second)
	for c.Power.Monitors() == 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("fence-lab started, but no fence_lab asked the switch for a monitor within 15s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	shown := slices.Clone(argv)
	shown[len(shown)-1] = strings.Replace(shown[len(shown)-1], "=", `="`, 1) + `"`
	fmt.Fprintf(w, "\nfencing: %s (on n1)\n", strings.Join(shown, " "))
	fmt.Fprintf(w, "  pcs returned after %s; fence-lab started on %s, its monitor reached the lab's switch, and each\n"+
		"  node's fencer lists it for the other. fence_lab's off and reboot cut the node's link and SIGKILL its init.\n",
		ms(r.End.Sub(r.Start)), s.RunningOn("fence-lab")[0])
	return nil
}
