//go:build linux

package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Status is what "crm_mon --output-as=xml" says about the cluster, as
// seen from one node.
type Status struct {
	DC struct {
		Present bool   `xml:"present,attr"`
		Name    string `xml:"name,attr"`
	} `xml:"summary>current_dc"`
	Nodes []struct {
		Name   string `xml:"name,attr"`
		Online bool   `xml:"online,attr"`
	} `xml:"nodes>node"`
	Resources []struct {
		ID     string `xml:"id,attr"`
		Agent  string `xml:"resource_agent,attr"`
		Role   string `xml:"role,attr"`
		Failed bool   `xml:"failed,attr"`
		Nodes  []struct {
			Name string `xml:"name,attr"`
		} `xml:"node"`
	} `xml:"resources>resource"`
	Failures []struct {
		Op         string `xml:"op_key,attr"`
		Node       string `xml:"node,attr"`
		ExitReason string `xml:"exitreason,attr"`
		Status     string `xml:"status,attr"`
	} `xml:"failures>failure"`
}

// status runs crm_mon on node n.
func status(ctx context.Context, n *Node) (*Status, error) {
	r, err := n.MustExec(ctx, "crm_mon", "--one-shot", "--inactive", "--output-as=xml")
	if err != nil {
		return nil, err
	}
	var s Status
	if err := xml.Unmarshal([]byte(r.Stdout), &s); err != nil {
		return nil, fmt.Errorf("crm_mon on %s: %w", n.Name, err)
	}
	return &s, nil
}

// Online lists the online nodes.
func (s *Status) Online() []string {
	var out []string
	for _, n := range s.Nodes {
		if n.Online {
			out = append(out, n.Name)
		}
	}
	return out
}

// RunningOn lists the nodes where resource id is started.
func (s *Status) RunningOn(id string) []string {
	for _, r := range s.Resources {
		if r.ID == id && r.Role == "Started" {
			var out []string
			for _, n := range r.Nodes {
				out = append(out, n.Name)
			}
			return out
		}
	}
	return nil
}

// FailureText describes the failed operations crm_mon lists, "" when none.
func (s *Status) FailureText() string {
	var out []string
	for _, f := range s.Failures {
		out = append(out, fmt.Sprintf("%s on %s: %s %s", f.Op, f.Node, f.Status, f.ExitReason))
	}
	return strings.Join(out, "; ")
}

// waitStatus asks node n for the cluster's status until ok accepts it, and
// fails after d, with the last status described by what. It fails at once
// when n or a node of alive is no longer running.
func waitStatus(ctx context.Context, n *Node, d time.Duration, what string, ok func(*Status) bool, alive ...*Node) (*Status, error) {
	deadline := time.Now().Add(d)
	var last *Status
	var lastErr error
	for {
		for _, a := range append([]*Node{n}, alive...) {
			if !a.Running() {
				return nil, fmt.Errorf("%s: node %s ended: %v: %s", what, a.Name, a.err, a.tail())
			}
		}
		s, err := status(ctx, n)
		if err == nil {
			if ok(s) {
				return s, nil
			}
			last, lastErr = s, nil
		} else {
			lastErr = err
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if lastErr != nil {
		return nil, fmt.Errorf("%s: not within %v: %w", what, d, lastErr)
	}
	return nil, fmt.Errorf("%s: not within %v: online %v, DC %q, vip on %v, failures %q",
		what, d, last.Online(), last.DC.Name, last.RunningOn("vip"), last.FailureText())
}

// bothOnline accepts a status where every named node is online and a DC
// is elected.
func bothOnline(names ...string) func(*Status) bool {
	return func(s *Status) bool {
		on := s.Online()
		for _, n := range names {
			if !slices.Contains(on, n) {
				return false
			}
		}
		return s.DC.Present
	}
}

// vipOn accepts a status where the VIP runs on node name alone.
func vipOn(name string) func(*Status) bool {
	return func(s *Status) bool {
		return slices.Equal(s.RunningOn("vip"), []string{name})
	}
}
