//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// crmsh asks the running cluster about vip with crmsh, as an admin of a
// SUSE cluster would, where the rest of the scenario drives pcs: crm
// resource locate must name the holder, and crm configure show must show
// vip as a primitive of the agent under test. Each node's crmsh is its
// stack's (4.4 on Debian 12, 5 on Debian 13).
func (c *Cluster) crmsh(ctx context.Context, w io.Writer, holder *Node) error {
	for _, n := range c.Nodes {
		r, err := n.MustExec(ctx, "crm", "resource", "locate", "vip")
		if err != nil {
			return err
		}
		if out := r.Stdout + r.Stderr; !strings.Contains(out, "is running on: "+holder.Name) {
			return fmt.Errorf("crm resource locate vip on %s: %q, want it running on %s", n.Name, strings.TrimSpace(out), holder.Name)
		}
	}
	r, err := holder.MustExec(ctx, "crm", "configure", "show", "vip")
	if err != nil {
		return err
	}
	// crmsh shortens the heartbeat provider's agents to their type.
	short := strings.TrimPrefix(c.agent.Type, "ocf:heartbeat:")
	if !strings.Contains(r.Stdout, "primitive vip "+short+" ") {
		return fmt.Errorf("crm configure show vip: %q, want a primitive of %s", strings.TrimSpace(r.Stdout), c.agent.Type)
	}
	v, _ := holder.Exec(ctx, "crm", "--version")
	fmt.Fprintf(w, "\ncrmsh (%s): crm resource locate vip says it runs on %s, on each node; crm configure show vip: %s\n",
		strings.TrimSpace(v.Stdout), holder.Name, firstLine(r.Stdout))
	return nil
}

// firstLine is s up to its first line break, without crmsh's mark that
// the line goes on.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSuffix(line, " \\")
}
