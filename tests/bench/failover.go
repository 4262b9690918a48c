//go:build linux

package main

import (
	"context"
	"fmt"

	"github.com/vishvananda/netns"

	"github.com/floatip/floatip/tests/failover"
	"github.com/floatip/floatip/tests/lab"
)

// The failover rows, from make demo's scenario.
const (
	rowFlip   = "failover: stop on A -> M's entry holds B's MAC"
	rowAgents = "failover: of which the agents' (stop; start -> M)"
	rowGap    = "failover: longest time M got no answer"
	rowLost   = "failover: M's probes lost (one every 5 ms)"
)

// failovers runs the graceful move of make demo (stop on A, start on B)
// with each agent in turn, each in a lab of its own, and records what
// client M saw: when its neighbour entry for the VIP named B, how long it
// went without an answer, and how many of its probes were lost. The
// agents run as in the other rows, forked in the host's namespace: "ip
// netns exec", which make demo uses, adds 2-3 ms to each action, as much
// as a floatip action takes, and Pacemaker does without it.
func (b *bench) failovers() error {
	agents := [2]failover.Agent{{Name: "floatip", Path: b.o.binary}, {Name: "heartbeat:IPaddr2", Path: b.o.heartbeat}}
	for i := range agents {
		agents[i].Run = b.runOn
	}
	for rep := range b.o.failovers {
		progress("failover: %d/%d", rep, b.o.failovers)
		for k := range 2 {
			i := (rep + k) % 2
			tl, err := failover.Run(b.ctx, agents[i], failover.Graceful)
			if err != nil {
				return fmt.Errorf("%s: %w", agents[i].Name, err)
			}
			if left := lab.Leftovers(tl.Lab); len(left) > 0 {
				return fmt.Errorf("%s: failover left namespaces behind: %v", agents[i].Name, left)
			}
			if tl.Flip < 0 {
				return fmt.Errorf("%s: M's entry for the VIP never named B (lab %s)", agents[i].Name, tl.Lab)
			}
			b.sample(rowFlip, millis, i, tl.Flip.Seconds())
			b.sample(rowAgents, millis, i, tl.Agents.Seconds())
			b.sample(rowGap, millis, i, tl.Gap.Seconds())
			b.sample(rowLost, count, i, float64(tl.Lost))
		}
	}
	return nil
}

// runOn runs argv in host h's namespace as runIn does, for the failover
// scenario.
func (b *bench) runOn(ctx context.Context, h *lab.Host, env []string, argv ...string) (lab.Result, error) {
	ns, err := netns.GetFromName(h.NS)
	if err != nil {
		return lab.Result{}, fmt.Errorf("open namespace %s: %w", h.NS, err)
	}
	defer ns.Close()
	r, err := b.sp.runIn(ctx, ns, env, argv...)
	return lab.Result{Code: r.Code, Stdout: r.Stdout, Stderr: r.Stderr, Start: r.Launch, End: r.Exit}, err
}
