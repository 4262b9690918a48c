package main

import (
	"fmt"

	"github.com/floatip/floatip/tests/failover"
	"github.com/floatip/floatip/tests/lab"
)

// The failover rows, from make demo's scenario.
const (
	rowFlip = "failover: stop on A -> M's entry holds B's MAC"
	rowGap  = "failover: longest time M got no answer"
	rowLost = "failover: M's probes lost (one every 5 ms)"
)

// failovers runs the graceful move of make demo (stop on A, start on B)
// with each agent in turn, each in a lab of its own, and records what
// client M saw: when its neighbour entry for the VIP named B, how long it
// went without an answer, and how many of its probes were lost.
func (b *bench) failovers() error {
	agents := [2]failover.Agent{{Name: "floatip", Path: b.o.binary}, {Name: "heartbeat:IPaddr2", Path: b.o.heartbeat}}
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
			b.sample(rowGap, millis, i, tl.Gap.Seconds())
			b.sample(rowLost, count, i, float64(tl.Lost))
		}
	}
	return nil
}
