//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// scenarios are the test's parts, in the order they run, by the names
// that -only takes. Each builds its own lab and removes it before the
// next starts, so that a run of one alone is a run of the same thing.
var scenarios = []part{
	{"two-node", run},
	{"quorum", quorumScenario},
	{"splitring", splitRingScenario},
	{"clone", cloneScenario},
}

type part struct {
	name string
	run  func(ctx context.Context, w io.Writer, binary string, ag *Agent) error
}

// runScenarios runs the scenarios that only names (a comma-separated
// list; all of them when empty) with the VIPs under agent ag, and prints
// how long each took.
func runScenarios(ctx context.Context, w io.Writer, binary, only string, ag *Agent) error {
	var want []string
	if only != "" {
		want = strings.Split(only, ",")
		for _, name := range want {
			if !slices.ContainsFunc(scenarios, func(s part) bool { return s.name == name }) {
				return fmt.Errorf("-only: no scenario %q (have two-node, quorum, splitring, clone)", name)
			}
		}
	}
	stack.PrintVersions(w)
	t0 := time.Now()
	var took []string
	for _, s := range scenarios {
		if want != nil && !slices.Contains(want, s.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		t := time.Now()
		if err := s.run(ctx, w, binary, ag); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		d := time.Since(t)
		took = append(took, fmt.Sprintf("%s %.1f s", s.name, d.Seconds()))
		fmt.Fprintf(w, "\nscenario %s passed in %.1f s\n", s.name, d.Seconds())
	}
	fmt.Fprintf(w, "\nall scenarios passed with %s in %.1f s: %s\n", ag.Title, time.Since(t0).Seconds(), strings.Join(took, ", "))
	return nil
}
