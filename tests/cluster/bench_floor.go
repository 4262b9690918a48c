//go:build linux

package main

// The bench's floor and its monitor intervals. A monitor of floatip costs
// the node a few ms of CPU; much of that is Pacemaker's own work per
// operation (execd forks and reaps the agent, the controller records the
// result) and the exec of a static binary, which any agent pays. The
// floor runs the same N resources under the cheapest agent there is, so
// that the part that is floatip's own is floatip's less the floor's.

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The floor agents, which -agents takes beside floatip and heartbeat.
const (
	// floorName is examples/dummy, a static Go agent on floatip's ocf
	// package whose monitor is one stat(2) of a state file: what a
	// monitor costs when the agent does nothing, on the same runtime as
	// floatip.
	floorName = "floor"
	// shellDummyName is Pacemaker's own ocf:pacemaker:Dummy, a shell
	// script: no floor (the shell and its forks cost more than floatip's
	// netlink dump), but what an agent costs for being a shell script.
	shellDummyName = "pacemaker-dummy"
	// floorAgent is the path of the floor in a node's agents directory:
	// provider floatip, which privateAgents keeps the node's own.
	floorAgent = "floatip/Dummy"
)

// benchAgentByName is agentByName with the floor agents, which only the
// bench runs: they hold no address, which cluster-test's scenarios need.
func benchAgentByName(name string) (*Agent, error) {
	switch name {
	case floorName:
		return &Agent{Name: name, Type: "ocf:floatip:Dummy", NoAddress: true,
			Title: "ocf:floatip:Dummy (examples/dummy, static Go, floatip's ocf package: the floor)"}, nil
	case shellDummyName:
		const script = "/" + ocfDir + "/pacemaker/Dummy"
		if _, err := os.Stat(script); err != nil {
			return nil, fmt.Errorf("-agents %s: %w (apt-get install pacemaker)", name, err)
		}
		return &Agent{Name: name, Type: "ocf:pacemaker:Dummy", NoAddress: true,
			Title: "ocf:pacemaker:Dummy (Pacemaker " + packageVersion("pacemaker") + "'s shell script)"}, nil
	case "floatip", "heartbeat":
		return agentByName(name)
	}
	return nil, fmt.Errorf("-agents: no agent %q (have %s, floatip, heartbeat, %s)", name, floorName, shellDummyName)
}

// parseIntervals reads -interval: one monitor interval or a
// comma-separated list, each a whole number of milliseconds (what
// Pacemaker keeps) and at least 1 s, none twice.
func parseIntervals(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("-interval %q: %w", s, err)
		}
		if d < time.Second || d%time.Millisecond != 0 {
			return nil, fmt.Errorf("-interval %q: %v is not a whole number of milliseconds from 1s on", s, d)
		}
		if slices.Contains(out, d) {
			return nil, fmt.Errorf("-interval %q: %v twice", s, d)
		}
		out = append(out, d)
	}
	return out, nil
}

// intervalSpec writes d as the CIB's interval attribute: Pacemaker reads
// "10s" and "1500ms", but not Go's "1m0s".
func intervalSpec(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// monitorIntervals reads, from the CIB's status section (cibadmin
// --query --scope status), the recurring monitors that node runs for each
// resource, by the interval the controller recorded with each result. A
// cancelled monitor's entry goes from the status, so after an interval
// change each resource must show the new interval alone.
func monitorIntervals(status, node string) (map[string][]time.Duration, error) {
	var doc struct {
		Nodes []struct {
			Uname     string `xml:"uname,attr"`
			Resources []struct {
				ID  string `xml:"id,attr"`
				Ops []struct {
					Operation string `xml:"operation,attr"`
					Interval  string `xml:"interval,attr"`
				} `xml:"lrm_rsc_op"`
			} `xml:"lrm>lrm_resources>lrm_resource"`
		} `xml:"node_state"`
	}
	if err := xml.Unmarshal([]byte(status), &doc); err != nil {
		return nil, fmt.Errorf("the CIB's status: %w", err)
	}
	out := map[string][]time.Duration{}
	for _, n := range doc.Nodes {
		if n.Uname != node {
			continue
		}
		for _, r := range n.Resources {
			for _, op := range r.Ops {
				ms, err := strconv.ParseInt(op.Interval, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("the CIB's status: %s's %s interval %q: %w", r.ID, op.Operation, op.Interval, err)
				}
				// Interval 0 is a probe or a one-off action.
				if op.Operation == "monitor" && ms > 0 {
					out[r.ID] = append(out[r.ID], time.Duration(ms)*time.Millisecond)
				}
			}
		}
	}
	return out, nil
}

// setInterval gives the n bench primitives, all on node on, the monitor
// interval iv in one cibadmin --replace of the resources section (from
// resources, the section as it was before the bench added its own): one
// CIB change, where N pcs resource update calls would take seconds each.
// It checks that each primitive's monitor now runs at iv alone, and that
// nothing restarted: an op's interval is no instance attribute.
func (c *Cluster) setInterval(ctx context.Context, w io.Writer, ag *Agent, n int, resources string, iv time.Duration, on *Node) error {
	vips, err := benchVIPs(n)
	if err != nil {
		return err
	}
	prims, err := primitivesXML(ag, vips, benchBits, iv)
	if err != nil {
		return err
	}
	doc, err := insertInto(resources, "resources", prims)
	if err != nil {
		return err
	}
	file := filepath.Join(on.Dir, "bench-resources.xml")
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		return fmt.Errorf("write the CIB's resources: %w", err)
	}
	r, err := on.MustExec(ctx, "cibadmin", "--replace", "--scope", "resources", "--xml-file", file)
	if err != nil {
		return err
	}
	if err := c.settle(ctx); err != nil {
		return err
	}
	settled := time.Since(r.Start)
	st, err := on.MustExec(ctx, "cibadmin", "--query", "--scope", "status")
	if err != nil {
		return err
	}
	got, err := monitorIntervals(st.Stdout, on.Name)
	if err != nil {
		return err
	}
	for i := range n {
		if id := benchID(i); !slices.Equal(got[id], []time.Duration{iv}) {
			return fmt.Errorf("after the interval change to %v, %s's monitors on %s run at %v", iv, id, on.Name, got[id])
		}
	}
	now := time.Now()
	for _, node := range c.Nodes {
		ops := readLog(filepath.Join(node.Dir, "var/log/pacemaker/pacemaker.log"), func(rd io.Reader) map[string][]AgentOp {
			return benchOps(rd, node.Name, r.Start, now)
		})
		if len(ops) > 0 {
			return fmt.Errorf("the interval change to %v started or stopped bench primitives on %s: %d of them", iv, node.Name, len(ops))
		}
	}
	fmt.Fprintf(w, "interval: the %d primitives' monitor set to %s in one cibadmin --replace --scope resources (%s); settled %.1f s after it,\n"+
		"  each primitive's one monitor on %s runs at %s (the CIB's status), none started or stopped\n",
		n, intervalSpec(iv), ms(r.End.Sub(r.Start)), settled.Seconds(), on.Name, intervalSpec(iv))
	return nil
}

// Steady is one steady-state window: each node's CPU with the N resources
// on n2 and monitored every Interval, over Window; Extra is that less the
// baseline's over as long, Cores Extra per second. Per node, n1 first.
type Steady struct {
	Interval, Window time.Duration
	CPU, Extra       []time.Duration
	Cores            []float64
}

// PerMonitor is the holder's extra CPU per monitor of one of n
// resources: everything the node spends for it, the agent's exec and
// Pacemaker's execd and controller alike.
func (s Steady) PerMonitor(n int) time.Duration {
	monitors := float64(n) * s.Window.Seconds() / s.Interval.Seconds()
	if monitors <= 0 || len(s.Extra) < 2 {
		return 0
	}
	return time.Duration(float64(s.Extra[1]) / monitors)
}

// steady measures the steady state of n resources on n2 monitored every
// iv, and checks after the window that they all still run there and that
// nothing failed.
func (c *Cluster) steady(ctx context.Context, w io.Writer, n int, iv time.Duration, base cpuUse, groups []*cpuGroup, window time.Duration) (Steady, error) {
	n2 := c.Nodes[1]
	// The monitors start with the starts, or with the interval change;
	// the window begins once the cluster is idle and each has run.
	if err := c.settle(ctx); err != nil {
		return Steady{}, err
	}
	if err := sleepCtx(ctx, iv+time.Second); err != nil {
		return Steady{}, err
	}
	u, err := cpuWindow(ctx, groups, window)
	if err != nil {
		return Steady{}, err
	}
	st := Steady{Interval: iv, Window: u.elapsed}
	fmt.Fprintf(w, "steady state: %d on n2 (n1 standby), each monitored every %s, over %.1f s; CPU less the baseline's (scaled to the same window):\n",
		n, intervalSpec(iv), u.elapsed.Seconds())
	for i, node := range c.Nodes {
		scaled := time.Duration(float64(base.cpu[i]) * u.elapsed.Seconds() / base.elapsed.Seconds())
		extra := u.cpu[i] - scaled
		st.CPU = append(st.CPU, u.cpu[i])
		st.Extra = append(st.Extra, extra)
		st.Cores = append(st.Cores, extra.Seconds()/u.elapsed.Seconds())
		fmt.Fprintf(w, "  %s: %.2f s CPU - %.2f s = %.2f s: %.4f cores\n", node.Name, u.cpu[i].Seconds(), scaled.Seconds(), extra.Seconds(), st.Cores[i])
	}
	fmt.Fprintf(w, "  n2's CPU per monitor: %s\n", ms(st.PerMonitor(n)))
	s, err := status(ctx, n2)
	if err != nil {
		return Steady{}, err
	}
	if f := s.FailureText(); f != "" {
		return Steady{}, fmt.Errorf("crm_mon shows failed actions: %s", f)
	}
	if !benchOn(n2.Name, n)(s) {
		return Steady{}, fmt.Errorf("after the window, not all %d run on n2", n)
	}
	return st, nil
}
