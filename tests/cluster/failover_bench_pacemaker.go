//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pacemakerSetup runs the VIP under Pacemaker on the lab's two nodes, as
// cluster-test does (fencing with fence_lab, two_node, stickiness 1, a
// monitor every 10 s), with agent and corosync's token of token ms; with
// cable, corosync has a second ring on the cross cable; with ping, each
// node's fencing is a topology level of fence_heuristics_ping (the client,
// as the LAN's gateway, must answer a ping) before fence_lab.
type pacemakerSetup struct {
	b        *fbBench
	agent    *Agent
	token    int
	cable    bool
	ping     bool
	exe, dir string
	c        *Cluster
	// dc is the DC before the fault, which the fault's line names with
	// the fencing it caused: who wins a fence race, and whether being
	// DC decides it.
	dc string
}

func (p *pacemakerSetup) Name() string {
	name := "floatip"
	if !p.agent.Floatip() {
		name = "IPaddr2"
	}
	name = fmt.Sprintf("%s token %d", name, p.token)
	if p.cable {
		name += " 2 rings"
	}
	if p.ping {
		name += " ping"
	}
	if m := p.b.cfg.monitor; m != 10*time.Second {
		name += fmt.Sprintf(" mon %v", m)
	}
	return name
}

// conf is the nodes' corosync.conf: cluster-test's, with the token, and
// with cable each node's ring1_addr on the cross cable.
func (p *pacemakerSetup) conf(nodes []*Node) string {
	conf := corosyncConfToken(nodes, p.token)
	if !p.cable {
		return conf
	}
	for i, n := range nodes {
		ring0 := fmt.Sprintf("ring0_addr: %s\n", n.Host.Addr.Addr())
		conf = strings.Replace(conf, ring0, ring0+"\t\tring1_addr: "+cableAddr(i)+"\n", 1)
	}
	return conf
}

func (p *pacemakerSetup) Up(ctx context.Context, w io.Writer) error {
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return err
	}
	c := &Cluster{Lab: p.b.lab, Client: p.b.client, agent: p.agent}
	for _, n := range p.b.nodes {
		c.Nodes = append(c.Nodes, &Node{Name: n.Name, Host: n.Host, Dir: filepath.Join(p.dir, n.Name), exe: p.exe})
	}
	var err error
	if c.Power, err = c.servePower(p.dir); err != nil {
		return err
	}
	p.c = c
	conf := p.conf(c.Nodes)
	for _, n := range c.Nodes {
		if err := n.prepare(conf, p.b.cfg.binary); err != nil {
			return err
		}
		if err := n.Start(); err != nil {
			return err
		}
	}
	n1 := c.Nodes[0]
	if _, err := waitStatus(ctx, n1, 90*time.Second, "both nodes online with a DC", bothOnline("n1", "n2"), c.Nodes[1]); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"crm_attribute", "--type", "crm_config", "--name", "stonith-enabled", "--update", "true"},
		{"crm_attribute", "--type", "rsc_defaults", "--name", "resource-stickiness", "--update", "1"},
	} {
		if _, err := n1.MustExec(ctx, args...); err != nil {
			return err
		}
	}
	if err := c.fencing(ctx, io.Discard); err != nil {
		return err
	}
	fencing := "fencing by fence_lab"
	if p.ping {
		if err := p.pingLevels(ctx); err != nil {
			return err
		}
		fencing = "fencing by fence_heuristics_ping (ping the client) then fence_lab, one topology level"
	}
	if _, err := c.create(ctx, io.Discard); err != nil {
		return err
	}
	// create's monitor runs every 10 s; pcs updates the one monitor
	// operation in place, with no restart.
	monitor := p.b.cfg.monitor
	if monitor != 10*time.Second {
		if _, err := n1.MustExec(ctx, "pcs", "resource", "update", "vip", "op", "monitor", fmt.Sprintf("interval=%ds", int(monitor.Seconds()))); err != nil {
			return err
		}
		if _, err := n1.MustExec(ctx, "crm_resource", "--wait", "--timeout=60s"); err != nil {
			return err
		}
	}
	rings := "one ring, on the LAN"
	if p.cable {
		rings = "two rings (knet links): the LAN and the cross cable"
	}
	running, err := p.corosync(ctx, n1)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s, %s; %s; corosync token %d ms, two_node, %s;\n"+
		"  %s;\n  %s; vip created with pcs, op monitor interval=%v, resource-stickiness=1\n",
		version("corosync", "-v"), version("pacemakerd", "--version"), p.agent.Title, p.token, rings, running, fencing, monitor)
	return nil
}

// corosync reads from node n's corosync the token and consensus it runs
// with, and waits for its knet links to the other node to connect (the
// LAN's, and the cable's with two rings), so that the setup is what its
// name says: a second ring that never came up would turn a LAN cut into
// a partition.
func (p *pacemakerSetup) corosync(ctx context.Context, n *Node) (string, error) {
	var got [2]int
	for i, key := range []string{"token", "consensus"} {
		r, err := n.MustExec(ctx, "corosync-cmapctl", "-g", "runtime.config.totem."+key)
		if err == nil {
			got[i], err = cmapU32(r.Stdout)
		}
		if err != nil {
			return "", fmt.Errorf("corosync's %s: %w", key, err)
		}
	}
	if want := [2]int{p.token, p.token * 6 / 5}; got != want {
		return "", fmt.Errorf("corosync runs token %d ms and consensus %d ms, not %d and %d (1.2 x token)", got[0], got[1], want[0], want[1])
	}
	want := []int{0}
	if p.cable {
		want = []int{0, 1}
	}
	var links []int
	err := poll(ctx, 30*time.Second, func() (bool, error) {
		r, err := n.Exec(ctx, "corosync-cfgtool", "-n")
		links = knetConnected(r.Stdout)
		return err == nil && slices.Equal(links, want), err
	}, func() error {
		return fmt.Errorf("corosync's knet links connected to the other node: %v, want %v", links, want)
	})
	return fmt.Sprintf("corosync runs token %d ms, consensus %d ms (read back), knet links %v connected", got[0], got[1], links), err
}

// cmapU32 reads the value of corosync-cmapctl -g's "key (u32) = value".
func cmapU32(out string) (int, error) {
	_, v, ok := strings.Cut(strings.TrimSpace(out), ") = ")
	if !ok {
		return 0, fmt.Errorf("corosync-cmapctl: no value in %q", strings.TrimSpace(out))
	}
	return strconv.Atoi(v)
}

// knetConnected is the ids of the links that corosync-cfgtool -n says
// are connected to the other node.
func knetConnected(out string) []int {
	var ids []int
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "LINK:" || !slices.Contains(f, "connected") {
			continue
		}
		if id, err := strconv.Atoi(f[1]); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// fbPingArgs are the fence_heuristics_ping device's parameters: one ping
// of the client with a 1 s timeout, so that a node that reaches the LAN
// goes on to fence at once, and a node cut from it gives up after 1 s.
func fbPingArgs(target string) []string {
	return []string{"ping_targets=" + target, "ping_count=1", "ping_good_count=1", "ping_timeout=1", "ping_interval=1"}
}

// pingLevels adds the fence_heuristics_ping device and, for each node, a
// fencing level of it and fence-lab: a node fences another only if it
// can ping the client, so that the node whose LAN link is cut loses the
// fence race of a one-ring two-node cluster.
func (p *pacemakerSetup) pingLevels(ctx context.Context) error {
	if _, err := os.Stat(stack.Path("/usr/sbin/fence_heuristics_ping")); err != nil {
		return fmt.Errorf("fence_heuristics_ping: %w (apt-get install fence-agents, in the stack's root too)", err)
	}
	n1 := p.c.Nodes[0]
	argv := append([]string{"pcs", "stonith", "create", "fence-ping", "fence_heuristics_ping"}, fbPingArgs(p.b.client.Addr.Addr().String())...)
	var names []string
	for _, n := range p.c.Nodes {
		names = append(names, n.Name)
	}
	argv = append(argv, "pcmk_host_list="+strings.Join(names, " "))
	if _, err := n1.MustExec(ctx, argv...); err != nil {
		return err
	}
	for _, n := range p.c.Nodes {
		if _, err := n1.MustExec(ctx, "pcs", "stonith", "level", "add", "1", n.Name, "fence-ping", "fence-lab"); err != nil {
			return err
		}
	}
	_, err := waitStatus(ctx, n1, 30*time.Second, "fence-ping started", func(s *Status) bool { return len(s.RunningOn("fence-ping")) == 1 })
	return err
}

// Holder boots the nodes a fault took down (as rebooted machines: no VIP,
// link up), waits for both online and the cluster idle, cleans up the
// failures a fault left, and waits until 2 s after that, so that the
// holder's announcements are over before the next fault.
func (p *pacemakerSetup) Holder(ctx context.Context) (*fbNode, error) {
	c := p.c
	for _, n := range c.Nodes {
		if n.Running() {
			continue
		}
		if err := errors.Join(dropVIP(n.Host), n.Host.IP("link", "set", n.Host.Dev, "up"), rebootAddrs6(n), n.Start()); err != nil {
			return nil, err
		}
	}
	n1 := c.Nodes[0]
	if _, err := waitStatus(ctx, n1, 120*time.Second, "both nodes back online", bothOnline("n1", "n2"), c.Nodes[1]); err != nil {
		return nil, err
	}
	if _, err := n1.MustExec(ctx, "crm_resource", "--wait", "--timeout=90s"); err != nil {
		return nil, err
	}
	s, err := status(ctx, n1)
	if err != nil {
		return nil, err
	}
	if len(s.Failures) > 0 {
		if _, err := n1.MustExec(ctx, "crm_resource", "--cleanup", "--resource", "vip"); err != nil {
			return nil, err
		}
		if _, err := n1.MustExec(ctx, "crm_resource", "--wait", "--timeout=90s"); err != nil {
			return nil, err
		}
	}
	s, err = waitStatus(ctx, n1, 30*time.Second, "vip started on one node", func(s *Status) bool { return len(s.RunningOn("vip")) == 1 })
	if err != nil {
		return nil, err
	}
	p.dc = s.DC.Name
	holder := c.node(s.RunningOn("vip")[0])
	if err := hasVIP(holder); err != nil {
		return nil, err
	}
	if err := sleep(ctx, 2*time.Second); err != nil {
		return nil, err
	}
	for _, n := range p.b.nodes {
		if n.Name == holder.Name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("no node %s", holder.Name)
}

func (p *pacemakerSetup) Move(ctx context.Context, from, to *fbNode) (func() error, error) {
	done := make(chan error, 1)
	n := p.c.node(from.Name)
	go func() {
		_, err := n.MustExec(ctx, "pcs", "resource", "move", "vip", to.Name)
		done <- err
	}()
	return func() error { return <-done }, nil
}

func (p *pacemakerSetup) Kill(ctx context.Context, n *fbNode) error {
	was, err := p.c.node(n.Name).powerOff()
	if err == nil && !was {
		err = fmt.Errorf("the hard kill of %s: it was not running", n.Name)
	}
	return err
}

// Check reports the fencing that the fault caused, and fails a hard
// kill whose node was not fenced: Pacemaker must fence a node it lost
// before it starts the VIP elsewhere.
func (p *pacemakerSetup) Check(ctx context.Context, fault string, from *fbNode, t0 time.Time) (string, error) {
	if fault != fbKill && fault != fbCut && fault != fbFlap {
		return "", nil
	}
	var reqs []FenceRequest
	wait := 2 * time.Second
	if fault == fbKill {
		wait = 30 * time.Second
	}
	poll(ctx, wait, func() (bool, error) {
		reqs = p.c.Power.Requests(t0)
		for _, r := range reqs {
			if r.Target == from.Name && !r.Done.IsZero() {
				return true, nil
			}
		}
		return false, nil
	}, func() error { return nil })
	var notes []string
	fenced := false
	for _, r := range reqs {
		notes = append(notes, fmt.Sprintf("%s fenced %s at %s", r.By, r.Target, ms(r.Done.Sub(t0))))
		fenced = fenced || r.Target == from.Name && r.Err == nil
	}
	if fault == fbKill && !fenced {
		return "", fmt.Errorf("%s was not fenced after its hard kill", from.Name)
	}
	if len(notes) == 0 {
		return "", nil
	}
	return fmt.Sprintf("; DC was %s; %s", p.dc, strings.Join(notes, ", ")), nil
}

func (p *pacemakerSetup) Down() error {
	if p.c == nil {
		return nil
	}
	err := p.c.shutdown()
	if p.c.Power != nil {
		err = errors.Join(err, p.c.Power.Close())
	}
	return err
}
