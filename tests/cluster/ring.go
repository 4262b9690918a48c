//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/floatip/floatip/tests/lab"
)

// The scenarios of this file and of quorum.go and splitring.go run a
// cluster whose corosync has a network of its own, as production clusters
// have it: each node has a second nic, ring0, on a second bridge (the
// ring), with an address on 198.19.0.0/24, and corosync's ring0_addr is
// that address. The VIP and the client stay on the LAN bridge of the lab
// package. Cutting a node's ring port then splits the membership while
// every node still reaches the client: the case where a node that lost
// the cluster still answers for the VIP unless quorum or fencing stops it.

// ringDev is the nodes' nic on the ring.
const ringDev = "ring0"

// ringPrefix is the ring's subnet: node i (from 1) is 198.19.0.i.
var ringPrefix = netip.MustParsePrefix("198.19.0.0/24")

// ringCluster is a Cluster whose nodes also sit on the ring bridge.
type ringCluster struct {
	*Cluster
	// ringNS is the ring bridge's namespace, named with the lab's prefix
	// (random for each run, so that what a killed run left behind never
	// clashes with a new run's names).
	ringNS string
	ring   map[string]netip.Prefix
	work   string
}

// ringPort is node n's port on the ring bridge, in ringNS.
func ringPort(n *Node) string { return "r-" + n.Name }

// newRingCluster builds a lab with the named nodes and client m on the
// LAN bridge, a ring bridge with a ring0 nic in each node, the nodes'
// directories and the lab's power switch, for VIPs under agent ag, and
// starts no node. cleanup
// removes all of it (the nodes first, the namespaces last), also when
// building failed half-way.
func newRingCluster(names []string, ag *Agent) (rc *ringCluster, cleanup func() error, err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	var specs []lab.HostSpec
	for i, name := range append(slices.Clone(names), "m") {
		specs = append(specs, lab.HostSpec{Name: name,
			Addr:  netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, 0, byte(i + 1)}), 24),
			Addr6: netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i + 1)}), 64)})
	}
	l, err := lab.New(specs...)
	if err != nil {
		return nil, nil, fmt.Errorf("the LAN of the ring lab: %w", err)
	}
	rc = &ringCluster{Cluster: &Cluster{Lab: l, Client: l.Host("m"), agent: ag}, ringNS: l.Prefix + "-ring", ring: map[string]netip.Prefix{}}
	var closers []func() error
	cleanup = func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		return errors.Join(errs...)
	}
	closers = append(closers, func() error {
		var errs []error
		if _, err := os.Stat("/run/netns/" + rc.ringNS); err == nil {
			errs = append(errs, ipCmd("netns", "del", rc.ringNS))
		}
		errs = append(errs, l.Close())
		if left := lab.Leftovers(l.Prefix); len(left) > 0 {
			errs = append(errs, fmt.Errorf("namespaces left behind: %v", left))
		}
		return errors.Join(errs...)
	})
	fail := func(err error) (*ringCluster, func() error, error) {
		return nil, nil, errors.Join(err, cleanup())
	}
	steps := [][]string{
		{"netns", "add", rc.ringNS},
		{"-n", rc.ringNS, "link", "add", "br0", "type", "bridge"},
		{"-n", rc.ringNS, "link", "set", "br0", "up"},
	}
	if rc.work, err = os.MkdirTemp("", "floatip-ring-"); err != nil {
		return fail(err)
	}
	closers = append(closers, func() error { return os.RemoveAll(rc.work) })
	for i, name := range names {
		n := &Node{Name: name, Host: l.Host(name), Dir: filepath.Join(rc.work, name), exe: exe}
		rc.Nodes = append(rc.Nodes, n)
		// The LAN MAC with its fifth byte 1: 02:00:5e:xx:01:0i.
		mac := slices.Clone(n.Host.MAC)
		mac[4] = 1
		addr := netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 19, 0, byte(i + 1)}), ringPrefix.Bits())
		rc.ring[name] = addr
		steps = append(steps,
			[]string{"-n", n.Host.NS, "link", "add", ringDev, "address", mac.String(), "type", "veth", "peer", "name", ringPort(n), "netns", rc.ringNS},
			[]string{"-n", rc.ringNS, "link", "set", ringPort(n), "master", "br0", "up"},
			[]string{"-n", n.Host.NS, "link", "set", ringDev, "up"},
			[]string{"-n", n.Host.NS, "addr", "add", addr.String(), "dev", ringDev},
		)
	}
	for _, st := range steps {
		if err := ipCmd(st...); err != nil {
			return fail(fmt.Errorf("the ring: %w", err))
		}
	}
	if rc.Power, err = rc.servePower(rc.work); err != nil {
		return fail(err)
	}
	// The switch closes after the nodes are dead: a node may fence
	// another while they go.
	closers = append(closers, rc.Power.Close, rc.shutdown)
	return rc, cleanup, nil
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// cutRing takes node n's port on the ring bridge down: n's ring0 loses
// its carrier, its LAN link stays up.
func (rc *ringCluster) cutRing(n *Node) error {
	return ipCmd("-n", rc.ringNS, "link", "set", ringPort(n), "down")
}

// healRing brings node n's ring port up again.
func (rc *ringCluster) healRing(n *Node) error {
	return ipCmd("-n", rc.ringNS, "link", "set", ringPort(n), "up")
}

// ringConf is corosync.conf for the ring: each node's ring0_addr is its
// ring address. two_node only when asked: with three nodes, votequorum's
// plain majority decides.
func ringConf(rc *ringCluster, twoNode bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "totem {\n\tversion: 2\n\tcluster_name: floatipring\n\ttransport: knet\n"+
		"\tcrypto_cipher: none\n\tcrypto_hash: none\n\ttoken: %d\n}\n", tokenMS)
	b.WriteString("nodelist {\n")
	for i, n := range rc.Nodes {
		fmt.Fprintf(&b, "\tnode {\n\t\tname: %s\n\t\tnodeid: %d\n\t\tring0_addr: %s\n\t}\n", n.Name, i+1, rc.ring[n.Name].Addr())
	}
	b.WriteString("}\nquorum {\n\tprovider: corosync_votequorum\n")
	if twoNode {
		b.WriteString("\ttwo_node: 1\n")
	}
	b.WriteString("}\nlogging {\n\tto_stderr: no\n\tto_syslog: no\n\tto_logfile: yes\n" +
		"\tlogfile: /var/log/corosync/corosync.log\n\ttimestamp: hires\n}\n")
	return b.String()
}

// boot writes the nodes' directories with conf, starts them, waits for
// all of them online with a DC, and sets the cluster properties props
// (name, value pairs) with crm_attribute, which costs no pcs start-up.
func (rc *ringCluster) boot(ctx context.Context, w io.Writer, conf, binary string, props ...[2]string) error {
	t := time.Now()
	var names []string
	for _, n := range rc.Nodes {
		if err := n.prepare(conf, binary); err != nil {
			return err
		}
		if err := n.Start(); err != nil {
			return err
		}
		names = append(names, n.Name)
	}
	s, err := waitStatus(ctx, rc.Nodes[0], 90*time.Second, "all nodes online with a DC", bothOnline(names...), rc.Nodes[1:]...)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  cluster up: %s online, DC %s, %.1f s after the nodes started\n", strings.Join(names, ", "), s.DC.Name, time.Since(t).Seconds())
	if err := checkStack(ctx, w, rc.Nodes); err != nil {
		return err
	}
	for _, p := range props {
		typ := "crm_config"
		if p[0] == "resource-stickiness" {
			typ = "rsc_defaults"
		}
		if _, err := rc.Nodes[0].MustExec(ctx, "crm_attribute", "--type", typ, "--name", p[0], "--update", p[1]); err != nil {
			return err
		}
	}
	return nil
}

// createVIP creates the VIP as the two-node scenario does and waits until
// it runs on one node, which it returns, and which must be the one node
// whose namespace has the address.
func (rc *ringCluster) createVIP(ctx context.Context) (*Node, error) {
	if _, err := rc.Nodes[0].MustExec(ctx, "pcs", "resource", "create", "vip", rc.agent.Type, "ip="+VIP.String(),
		"cidr_netmask=24", "op", "monitor", "interval=10s"); err != nil {
		return nil, err
	}
	s, err := waitStatus(ctx, rc.Nodes[0], 30*time.Second, "vip started", func(s *Status) bool { return len(s.RunningOn("vip")) == 1 })
	if err != nil {
		return nil, err
	}
	holder := rc.node(s.RunningOn("vip")[0])
	if err := rc.onlyHolder(holder); err != nil {
		return nil, err
	}
	return holder, nil
}

// holders lists the nodes whose namespace has ip on any of its links,
// read with netlink in each node's namespace, not from Pacemaker.
func holders(nodes []*Node, ip netip.Addr) ([]string, error) {
	var out []string
	for _, n := range nodes {
		on, err := holds(n, ip)
		if err != nil {
			return nil, err
		}
		if on {
			out = append(out, n.Name)
		}
	}
	return out, nil
}

// holds says whether ip is on any link of node n's namespace.
func holds(n *Node, ip netip.Addr) (bool, error) {
	h, err := n.Host.Handle()
	if err != nil {
		return false, fmt.Errorf("the addresses of %s: %w", n.Name, err)
	}
	defer h.Close()
	family := netlink.FAMILY_V4
	if ip.Is6() {
		family = netlink.FAMILY_V6
	}
	addrs, err := h.AddrList(nil, family)
	if err != nil {
		return false, fmt.Errorf("the addresses of %s: %w", n.Name, err)
	}
	for _, a := range addrs {
		if a.IP.Equal(net.IP(ip.AsSlice())) {
			return true, nil
		}
	}
	return false, nil
}

// onlyHolder checks that want, and no other node, has the VIP.
func (rc *ringCluster) onlyHolder(want *Node) error {
	on, err := holders(rc.Nodes, VIP)
	if err != nil {
		return err
	}
	if !slices.Equal(on, []string{want.Name}) {
		return fmt.Errorf("%s is on %v by the nodes' own addresses, want on %s alone", VIP, on, want.Name)
	}
	return nil
}

// addrPoll polls every node's namespace for an address every 10 ms and
// keeps when each node gained and lost it, to tell from the kernels' word
// (not Pacemaker's) when a node let it go and whether two nodes held it
// at once.
type addrPoll struct {
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	mu   sync.Mutex
	// changes are the moments a node's holding changed; the first entry
	// of each node is its state when polling began.
	changes []addrChange
	err     error
}

type addrChange struct {
	At   time.Time
	Node string
	Has  bool
}

func pollAddrs(nodes []*Node, ip netip.Addr) *addrPoll {
	p := &addrPoll{stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		last := map[string]bool{}
		seen := map[string]bool{}
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			for _, n := range nodes {
				has, err := holds(n, ip)
				now := time.Now()
				p.mu.Lock()
				if err != nil && p.err == nil {
					p.err = err
				}
				if err == nil && (!seen[n.Name] || last[n.Name] != has) {
					p.changes = append(p.changes, addrChange{now, n.Name, has})
					seen[n.Name], last[n.Name] = true, has
				}
				p.mu.Unlock()
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// close stops the polling, once, and returns the changes.
func (p *addrPoll) close() ([]addrChange, error) {
	p.once.Do(func() { close(p.stop) })
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changes, p.err
}

// bothHeld returns the first moment from which the named nodes all held the
// address at once, zero when they never did.
func bothHeld(changes []addrChange, names ...string) time.Time {
	state := map[string]bool{}
	for _, c := range changes {
		state[c.Node] = c.Has
		all := true
		for _, n := range names {
			all = all && state[n]
		}
		if all {
			return c.At
		}
	}
	return time.Time{}
}

// timeline is a scenario's moments, as offsets from its trigger.
type timeline struct {
	t0     time.Time
	events []Event
}

func (tl *timeline) add(t time.Time, format string, args ...any) {
	tl.events = append(tl.events, Event{t.Sub(tl.t0), fmt.Sprintf(format, args...)})
}

func (tl *timeline) print(w io.Writer) {
	slices.SortStableFunc(tl.events, func(x, y Event) int { return int(x.At - y.At) })
	for _, e := range tl.events {
		fmt.Fprintf(w, "  %+10.1f ms  %s\n", float64(e.At.Microseconds())/1000, e.What)
	}
}

// logMark is a log line worth a place in a timeline: a line holding
// substr reads as what.
type logMark struct{ substr, what string }

// ringMarks are what corosync, votequorum and Pacemaker 2.1.5 log as a node
// loses or regains its peers and quorum.
var ringMarks = []logMark{
	{"has no active links", "corosync: knet has no link left to a peer"},
	{"A processor failed, forming new configuration", "corosync: token lost, forming a new membership"},
	{"Members left:", "corosync: new membership without the lost peer(s)"},
	{"Members joined:", "corosync: new membership with the peer(s) back"},
	{"This node is within the non-primary component", "corosync: votequorum: no quorum here"},
	{"This node is within the primary component", "corosync: votequorum: quorate"},
	{"Quorum lost", "controller: quorum lost"},
	{"lack of quorum", "scheduler: resource management disabled for lack of quorum"},
	{"is active on 2 nodes", "scheduler: vip is active on 2 nodes (attempting recovery)"},
}

// logMarks reads the lines of a node's log that hold one of marks, from
// since on; only the first line of each mark after since counts, unless
// every is set.
func logMarks(path, node string, marks []logMark, since time.Time, every bool) []LogEvent {
	return readLog(path, func(r io.Reader) []LogEvent {
		seen := map[string]bool{}
		var out []LogEvent
		logLines(r, since, time.Now(), func(t time.Time, line string) {
			for _, m := range marks {
				if strings.Contains(line, m.substr) && (every || !seen[m.substr]) {
					seen[m.substr] = true
					out = append(out, LogEvent{t, node + "'s " + m.what})
				}
			}
		})
		return out
	})
}

// markEvents adds the marks of every node's corosync and Pacemaker logs
// from the timeline's start on.
func (rc *ringCluster) markEvents(tl *timeline, nodes []*Node) {
	for _, n := range nodes {
		for _, p := range []string{"var/log/corosync/corosync.log", "var/log/pacemaker/pacemaker.log"} {
			for _, e := range logMarks(filepath.Join(n.Dir, p), n.Name, ringMarks, tl.t0, false) {
				tl.add(e.Time, "%s", e.What)
			}
		}
	}
}

// vipOps reads the agent's starts and stops of vip from every node's log
// from since on.
func vipOps(nodes []*Node, since time.Time) []AgentOp {
	var ops []AgentOp
	for _, n := range nodes {
		ops = append(ops, readLog(filepath.Join(n.Dir, "var/log/pacemaker/pacemaker.log"), func(r io.Reader) []AgentOp {
			return agentOps(r, n.Name, "vip", since, time.Now())
		})...)
	}
	return ops
}

// addOps puts the agent's operations in the timeline.
func (tl *timeline) addOps(ops []AgentOp) {
	for _, op := range ops {
		tl.add(op.Called, "%s on %s called", op.Action, op.Node)
		if !op.Returned.IsZero() {
			tl.add(op.Returned, "%s on %s returned %d (agent ran %s)", op.Action, op.Node, op.Status, ms(op.Exec))
		}
	}
}

// addAddrs puts the address changes after the first state of each node in
// the timeline.
func (tl *timeline) addAddrs(changes []addrChange) {
	seen := map[string]bool{}
	for _, c := range changes {
		if !seen[c.Node] {
			seen[c.Node] = true
			continue
		}
		verb := "gone from"
		if c.Has {
			verb = "appeared on"
		}
		tl.add(c.At, "%s %s %s's namespace (netlink poll)", VIP, verb, c.Node)
	}
}

// nodeNames lists the names of nodes.
func nodeNames(nodes []*Node) string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.Name)
	}
	return strings.Join(out, " ")
}

// describeNodes prints each node's LAN and ring addresses and MACs.
func (rc *ringCluster) describeNodes(w io.Writer) {
	for _, n := range rc.Nodes {
		fmt.Fprintf(w, "  %s: LAN %s %s, ring %s\n", n.Name, n.Host.Addr.Addr(), n.Host.MAC, rc.ring[n.Name].Addr())
	}
	fmt.Fprintf(w, "  client m: LAN %s %s\n", rc.Client.Addr.Addr(), rc.Client.MAC)
}
