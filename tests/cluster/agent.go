//go:build linux

package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"
)

// Agent is the resource agent that the VIPs run under: floatip (the
// default) or heartbeat:IPaddr2 from resource-agents (-agent heartbeat),
// so that the two can be compared under the same cluster on the same
// machine. What heartbeat:IPaddr2 lacks, the scenarios skip or check
// differently, and say so in their output: a missing feature must never
// pass as if it had been tested.
type Agent struct {
	// Name is what -agent takes; Type is the resource's class, provider
	// and type for pcs.
	Name, Type string
	// Title names the agent in the headers and summaries: the type and,
	// for heartbeat:IPaddr2, the resource-agents version.
	Title string
	// ReloadAgent: the agent implements OCF 1.1's reload-agent, which the
	// upgrade and reload steps show.
	ReloadAgent bool
	// KillConnections: the agent has the kill_connections parameter,
	// which the service step sets.
	KillConnections bool
	// SplitBrainMonitor: the agent's depth-10 monitor (OCF_CHECK_LEVEL=10)
	// detects another node answering for the VIP.
	SplitBrainMonitor bool
	// NoAddress: the agent manages no address, as the bench's floor
	// agents (bench_floor.go): its resources get no ip parameter, and
	// there is nothing for the client to follow.
	NoAddress bool
}

// heartbeatAgent is where Debian's resource-agents installs IPaddr2; the
// nodes see it through the host's heartbeat provider, which privateAgents
// binds into their agents directory.
const heartbeatAgent = "/" + ocfDir + "/heartbeat/IPaddr2"

// agentByName returns the agent that -agent names.
func agentByName(name string) (*Agent, error) {
	switch name {
	case "floatip":
		return &Agent{Name: name, Type: "ocf:floatip:IPaddr2", Title: "ocf:floatip:IPaddr2",
			ReloadAgent: true, KillConnections: true, SplitBrainMonitor: true}, nil
	case "heartbeat":
		if _, err := os.Stat(stack.Path(heartbeatAgent)); err != nil {
			return nil, fmt.Errorf("-agent heartbeat: %w (apt-get install resource-agents)", err)
		}
		a := &Agent{Name: name, Type: "ocf:heartbeat:IPaddr2",
			Title: "ocf:heartbeat:IPaddr2 (resource-agents " + packageVersion("resource-agents") + ")"}
		if err := a.checkLacks(); err != nil {
			return nil, err
		}
		return a, nil
	}
	return nil, fmt.Errorf("-agent: no agent %q (have floatip, heartbeat)", name)
}

// metadata is the part of an OCF agent's meta-data that tells its
// features.
type metadata struct {
	Parameters []struct {
		Name string `xml:"name,attr"`
	} `xml:"parameters>parameter"`
	Actions []struct {
		Name  string `xml:"name,attr"`
		Depth string `xml:"depth,attr"`
	} `xml:"actions>action"`
}

// checkLacks reads heartbeat:IPaddr2's meta-data in the nodes' stack and checks
// that it lacks what the scenarios skip for it: should a later
// resource-agents add reload-agent, kill_connections or a deeper monitor,
// the skips would hide a test that could run, so the run fails instead.
func (a *Agent) checkLacks() error {
	r, err := stack.run([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT=/usr/lib/ocf"}, heartbeatAgent, "meta-data")
	if err != nil {
		return fmt.Errorf("%s meta-data: %w", heartbeatAgent, err)
	}
	if r.Code != 0 {
		return fmt.Errorf("%s meta-data exited %d: %s", heartbeatAgent, r.Code, strings.TrimSpace(r.Stderr))
	}
	return a.lacks([]byte(r.Stdout))
}

// lacks is checkLacks on the meta-data b.
func (a *Agent) lacks(b []byte) error {
	var md metadata
	if err := xml.Unmarshal(b, &md); err != nil {
		return fmt.Errorf("%s meta-data: %w", heartbeatAgent, err)
	}
	if len(md.Actions) == 0 || len(md.Parameters) == 0 {
		return fmt.Errorf("%s meta-data: no actions or parameters in %d bytes", heartbeatAgent, len(b))
	}
	for _, act := range md.Actions {
		switch {
		case act.Name == "reload-agent":
			return fmt.Errorf("%s now lists reload-agent: the skipped upgrade and reload steps could run", a.Title)
		case act.Name == "monitor" && act.Depth != "" && act.Depth != "0":
			return fmt.Errorf("%s now lists a monitor of depth %s: the split ring's check of an unreported split is out of date", a.Title, act.Depth)
		}
	}
	for _, p := range md.Parameters {
		if p.Name == "kill_connections" {
			return fmt.Errorf("%s now has kill_connections: the service step's moves without it are out of date", a.Title)
		}
	}
	return nil
}

// Floatip says whether the agent is floatip.
func (a *Agent) Floatip() bool { return a.Name == "floatip" }

// packageVersion is the version of a Debian package installed in the
// nodes' stack, without its epoch.
func packageVersion(pkg string) string {
	r, err := stack.run([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, "dpkg-query", "-W", "-f", "${Version}", pkg)
	if err != nil || r.Code != 0 || strings.TrimSpace(r.Stdout) == "" {
		return "unknown version"
	}
	v := strings.TrimSpace(r.Stdout)
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	return v
}
