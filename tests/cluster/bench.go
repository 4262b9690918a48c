//go:build linux

package main

// The bench (make cluster-bench; "go run ./tests/cluster bench"): N VIPs
// on the two-node lab, with fencing as cluster-test sets it up, under
// floatip and under heartbeat:IPaddr2, one agent after the other on the
// same cluster. For each agent it measures the failover of all N by
// "pcs node standby" of their holder, as the client sees it, and the CPU
// that each node spends with the N VIPs running and monitored at each
// -interval, less what it spends with none. The floor agent runs the same
// N resources under an agent that does nothing (bench_floor.go), for what
// Pacemaker itself costs. The figures are printed, never asserted; the run
// fails when a VIP does not start, does not move, the client does not
// follow, or crm_mon shows a failed action.

import (
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/lab"
)

// benchSpecs is the bench's lab: the hosts' addresses are /16, so that
// the VIPs above 198.18.0.0/24 (benchVIPs) are on a connected route of
// every host, client included, as a LAN's VIPs are.
var benchSpecs = []lab.HostSpec{
	{Name: "n1", Addr: netip.MustParsePrefix("198.18.0.1/16")},
	{Name: "n2", Addr: netip.MustParsePrefix("198.18.0.2/16")},
	{Name: "m", Addr: netip.MustParsePrefix("198.18.0.3/16")},
}

// benchBits is the VIPs' cidr_netmask: the LAN's.
const benchBits = 16

// benchConfig is what the bench's flags ask for.
type benchConfig struct {
	binary string
	// dummy is the floor agent's binary (examples/dummy), needed only
	// when the floor runs.
	dummy  string
	counts []int
	window time.Duration
	// intervals are the monitor intervals: the VIPs are created with the
	// first, and each further one is a steady-state window of its own.
	intervals []time.Duration
	agents    []*Agent
	// kill adds the failover after a hard kill of the holder.
	kill bool
	// actionLimit, when above 0, sets node-action-limit: how many actions
	// Pacemaker runs at once on a node, by default twice its cores.
	actionLimit int
	// batchLimit, when above 0, sets batch-limit: how many actions a
	// transition runs at once in the cluster, by default a limit the
	// controllers derive from their load.
	batchLimit int
	// options are further cluster options to set, name=value, such as
	// load-threshold, the CPU load from which the controllers throttle.
	options []string
	// ping is how often the client pings each VIP not yet moved during
	// a failover: its load on the machine, which the floor does not
	// have, weighs on Pacemaker's handoff of the agents that hold
	// addresses.
	ping time.Duration
}

// benchMain is main for "bench".
func benchMain(args []string) {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	binary := fs.String("binary", "bin/floatip", "the floatip binary to install as the nodes' ocf:floatip:IPaddr2")
	dummy := fs.String("dummy", "bin/dummy", "the floor agent, examples/dummy built static (CGO_ENABLED=0 go build -o bin/dummy ./examples/dummy), installed as ocf:floatip:Dummy")
	vips := fs.String("vips", "100", "how many VIPs, or a comma-separated list of counts to run one after the other (10,100)")
	window := fs.Duration("window", 120*time.Second, "the steady-state CPU window, with the VIPs and without")
	interval := fs.String("interval", "10s", "the VIPs' monitor interval, or a comma-separated list (10s,2s): each further one adds a steady-state window")
	agents := fs.String("agents", "floor,floatip,heartbeat", "the agents, in this order: floor (examples/dummy: Pacemaker's own cost), floatip, heartbeat, pacemaker-dummy (ocf:pacemaker:Dummy)")
	kill := fs.Bool("kill", true, "also fail the VIPs over by a hard kill of their holder, with fencing")
	actionLimit := fs.Int("node-action-limit", 0, "set Pacemaker's node-action-limit to this (0: leave it unset, its default of twice the cores)")
	batchLimit := fs.Int("batch-limit", 0, "set Pacemaker's batch-limit to this (0: leave it unset, its default of a limit by the nodes' load)")
	ping := fs.Duration("ping-interval", 20*time.Millisecond, "during a failover, how often the client pings each VIP that has not moved yet (100 VIPs at 20 ms: 5000 pings a second, a load the floor's resources, which hold no address, do not have)")
	options := fs.String("cluster-options", "", "further cluster options to set, name=value,... (load-threshold=400%: the CPU load from which Pacemaker throttles, by default 80%)")
	setStack := stackFlags(fs)
	fs.Parse(args)
	cfg := benchConfig{binary: *binary, dummy: *dummy, window: *window, kill: *kill, actionLimit: *actionLimit, batchLimit: *batchLimit, ping: *ping}
	err := setStack()
	if err == nil {
		cfg.counts, err = parseCounts(*vips)
	}
	if err == nil {
		cfg.intervals, err = parseIntervals(*interval)
	}
	if err == nil {
		cfg.options, err = parseOptions(*options)
	}
	if err == nil {
		for _, name := range strings.Split(*agents, ",") {
			var ag *Agent
			if ag, err = benchAgentByName(strings.TrimSpace(name)); err != nil {
				break
			}
			cfg.agents = append(cfg.agents, ag)
		}
	}
	if err == nil && *window < slices.Max(cfg.intervals) {
		err = fmt.Errorf("-window %v: want at least the longest -interval, %v", *window, slices.Max(cfg.intervals))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "cluster-bench: %v\n", err)
		os.Exit(2)
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "cluster-bench: needs root, to create namespaces and cgroups")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	t := time.Now()
	if err := benchRun(ctx, os.Stdout, cfg); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "\ncluster-bench: interrupted; the nodes, namespaces, cgroups and files are removed")
		} else {
			fmt.Fprintf(os.Stderr, "\ncluster-bench FAILED after %.0f s: %v\n", time.Since(t).Seconds(), err)
		}
		stop()
		os.Exit(1)
	}
	fmt.Printf("\ncluster-bench done in %.0f s\n", time.Since(t).Seconds())
	os.Exit(0)
}

// benchRun builds the lab as run does, with a cpuacct cgroup per node, and
// removes all of it at the end, on failure and Ctrl-C too.
func benchRun(ctx context.Context, w io.Writer, cfg benchConfig) (err error) {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("this program: %w", err)
	}
	binary, err := filepath.Abs(cfg.binary)
	if err != nil {
		return fmt.Errorf("-binary: %w", err)
	}
	if _, err := os.Stat(binary); err != nil {
		return fmt.Errorf("the agent: %w (make build)", err)
	}
	if slices.ContainsFunc(cfg.agents, func(a *Agent) bool { return a.Name == floorName }) {
		if cfg.dummy, err = filepath.Abs(cfg.dummy); err == nil {
			_, err = os.Stat(cfg.dummy)
		}
		if err != nil {
			return fmt.Errorf("the floor agent: %w (CGO_ENABLED=0 go build -o bin/dummy ./examples/dummy)", err)
		}
	} else {
		cfg.dummy = ""
	}
	if err := removeStaleGroups(w, cpuacctRoot); err != nil {
		return err
	}
	l, err := lab.New(benchSpecs...)
	if err != nil {
		return fmt.Errorf("the lab: %w", err)
	}
	// Deferred in this order, they run in the reverse: the nodes die,
	// then their cgroups, directories and namespaces go.
	defer func() {
		err = errors.Join(err, l.Close())
		if left := lab.Leftovers(l.Prefix); len(left) > 0 {
			err = errors.Join(err, fmt.Errorf("namespaces left behind: %v", left))
		}
	}()
	work, err := os.MkdirTemp("", "floatip-bench-")
	if err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	defer func() { err = errors.Join(err, os.RemoveAll(work)) }()
	c := &Cluster{Lab: l, Client: l.Host("m"), agent: cfg.agents[0], ping: cfg.ping}
	var groups []*cpuGroup
	for _, name := range []string{"n1", "n2"} {
		g, err := newCPUGroup(groupPrefix + l.Prefix + "-" + name)
		if err != nil {
			return err
		}
		groups = append(groups, g)
		defer func() { err = errors.Join(err, g.Remove()) }()
		c.Nodes = append(c.Nodes, &Node{Name: name, Host: l.Host(name), Dir: filepath.Join(work, name), exe: exe, cgroup: g.Dir})
	}
	if c.Power, err = c.servePower(work); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, c.Power.Close()) }()
	defer func() { err = errors.Join(err, c.shutdown()) }()
	defer func() {
		if err != nil && ctx.Err() == nil {
			c.dumpLogs(os.Stderr)
		}
	}()
	return c.bench(ctx, w, cfg, binary, groups)
}

// benchResult is one agent's figures at one N.
type benchResult struct {
	Agent *Agent
	N     int
	// Started is from the cibadmin call to crm_mon's showing all N
	// started.
	Started time.Duration
	// Failover is per VIP, from the trigger until the client's entry
	// named the survivor's MAC and the VIP answered a ping after that;
	// its Max is the total. Empty for an agent with no address (the
	// floor), which has nothing for the client to follow.
	Failover Dist
	// FirstStop is when execd called the first stop on the holder,
	// LastStart when the last start on the survivor returned, both from
	// the trigger; PcsReturned when pcs node standby returned. From
	// FirstStop to LastStart is Pacemaker's handoff with the agent's
	// actions in it, which the floor's shows with next to none.
	FirstStop, LastStart, PcsReturned time.Duration
	// Stops and Starts are execd's execution times of the agent.
	Stops, Starts Dist
	// Kept is how many of the N the client had an entry for when the
	// failover began, Dropped how many entries the kernel deleted while
	// it ran (its neighbour garbage collection).
	Kept, Dropped int
	// Steady is the steady state at each monitor interval, in -interval's
	// order.
	Steady []Steady
	// Kill is the hard kill's failover, nil without -kill.
	Kill *KillResult
}

// bench is the bench proper, on a lab that benchRun built.
func (c *Cluster) bench(ctx context.Context, w io.Writer, cfg benchConfig, binary string, groups []*cpuGroup) error {
	n1, n2 := c.Nodes[0], c.Nodes[1]
	facts := machineFacts()
	fmt.Fprintf(w, "cluster-bench: %s\n", facts)
	stack.PrintVersions(w)
	fmt.Fprintf(w, "Nodes n1 (%s, %s) and n2 (%s, %s): %s (knet, token %d ms, two_node) and %s, stonith-enabled=true,\n"+
		"fence_lab as in cluster-test. Client m (%s). VIPs %s and on, /%d. Each node's CPU: the cpuacct cgroup %s/floatip-bench-<lab>-<node>,\n"+
		"which the node's init is born in, before it forks corosync and Pacemaker (cpuacct.usage: every process of the node, agents included).\n",
		n1.Host.Addr.Addr(), n1.Host.MAC, n2.Host.Addr.Addr(), n2.Host.MAC, version("corosync", "-v"), tokenMS, version("pacemakerd", "--version"),
		c.Client.Addr.Addr(), "198.18.1.1", benchBits, cpuacctRoot)
	fmt.Fprintf(w, "During a failover the client pings each VIP that has not moved yet every %s.\n", c.pingEvery())
	t := time.Now()
	conf := corosyncConf(c.Nodes)
	for _, n := range c.Nodes {
		if err := n.prepare(conf, binary); err != nil {
			return fmt.Errorf("prepare %s: %w", n.Name, err)
		}
		if cfg.dummy != "" {
			if err := copyFile(cfg.dummy, filepath.Join(n.Dir, ocfDir, floorAgent), 0o755); err != nil {
				return fmt.Errorf("install the floor agent on %s: %w", n.Name, err)
			}
		}
		if err := n.Start(); err != nil {
			return err
		}
	}
	s, err := waitStatus(ctx, n1, 90*time.Second, "both nodes online with a DC", bothOnline("n1", "n2"), n2)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\ncluster up: n1 and n2 online, DC %s, %.1f s after the nodes started\n", s.DC.Name, time.Since(t).Seconds())
	if err := checkStack(ctx, w, c.Nodes); err != nil {
		return err
	}
	for i, n := range c.Nodes {
		procs, err := groups[i].Procs()
		if err != nil {
			return err
		}
		if !slices.Contains(procs, n.pid) {
			return fmt.Errorf("%s's init (%d) is not in its cgroup %s: %v", n.Name, n.pid, groups[i].Dir, procs)
		}
	}
	for _, args := range [][]string{
		{"crm_attribute", "--type", "crm_config", "--name", "stonith-enabled", "--update", "true"},
		{"crm_attribute", "--type", "rsc_defaults", "--name", "resource-stickiness", "--update", "1"},
	} {
		if _, err := n1.MustExec(ctx, args...); err != nil {
			return err
		}
	}
	for _, o := range []struct {
		name  string
		value int
	}{{"node-action-limit", cfg.actionLimit}, {"batch-limit", cfg.batchLimit}} {
		if o.value <= 0 {
			continue
		}
		if _, err := n1.MustExec(ctx, "crm_attribute", "--type", "crm_config", "--name", o.name, "--update", fmt.Sprint(o.value)); err != nil {
			return err
		}
	}
	for _, o := range cfg.options {
		name, value, _ := strings.Cut(o, "=")
		if _, err := n1.MustExec(ctx, "crm_attribute", "--type", "crm_config", "--name", name, "--update", value); err != nil {
			return err
		}
	}
	if err := c.fencing(ctx, w); err != nil {
		return err
	}
	limits, err := c.limits(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nPacemaker's limits on parallel actions: %s\n", limits)

	if err := c.settle(ctx); err != nil {
		return err
	}
	base, err := cpuWindow(ctx, groups, cfg.window)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nbaseline, no VIPs (fence-lab alone), over %.1f s:", base.elapsed.Seconds())
	for i, n := range c.Nodes {
		fmt.Fprintf(w, " %s %.2f s CPU (%.4f cores)", n.Name, base.cpu[i].Seconds(), base.cpu[i].Seconds()/base.elapsed.Seconds())
	}
	fmt.Fprintln(w)

	var results []*benchResult
	var runErr error
	for _, n := range cfg.counts {
		for _, ag := range cfg.agents {
			r, err := c.benchAgent(ctx, w, ag, n, base, groups, cfg)
			if err != nil {
				runErr = fmt.Errorf("%s, %d VIPs: %w", ag.Title, n, err)
				break
			}
			results = append(results, r)
		}
		if runErr != nil {
			break
		}
	}
	// What ran, also when a later part failed.
	printBenchTable(w, results, facts, limits, c.gcThresh())
	if runErr != nil {
		return runErr
	}
	s, err = status(ctx, n1)
	if err != nil {
		return err
	}
	if f := s.FailureText(); f != "" {
		return fmt.Errorf("crm_mon shows failed actions at the end: %s", f)
	}
	return nil
}

// machineFacts says what the figures were measured on.
func machineFacts() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	var u unix.Utsname
	kernel := "unknown kernel"
	if unix.Uname(&u) == nil {
		kernel = "Linux " + unix.ByteSliceToString(u.Release[:])
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = ", load average " + strings.Join(strings.Fields(string(b))[:3], " ") + " at the start"
	}
	return fmt.Sprintf("%d cores (%s), %s, %s%s", runtime.NumCPU(), model, kernel, runtime.Version(), load)
}

// settle waits until the cluster has nothing left to do.
func (c *Cluster) settle(ctx context.Context) error {
	_, err := c.up().MustExec(ctx, "crm_resource", "--wait", "--timeout=300s")
	return err
}

// up is a node that runs, n1 if it does: after a hard kill of n1, n2.
func (c *Cluster) up() *Node {
	for _, n := range c.Nodes {
		if n.Running() {
			return n
		}
	}
	return c.Nodes[0]
}

// cpuUse is each node's CPU time over a window.
type cpuUse struct {
	cpu     []time.Duration
	elapsed time.Duration
}

// cpuWindow measures each cgroup's CPU time over d, during which the test
// runs nothing on the nodes.
func cpuWindow(ctx context.Context, groups []*cpuGroup, d time.Duration) (cpuUse, error) {
	read := func() ([]time.Duration, time.Time, error) {
		var out []time.Duration
		for _, g := range groups {
			u, err := g.Usage()
			if err != nil {
				return nil, time.Time{}, err
			}
			out = append(out, u)
		}
		return out, time.Now(), nil
	}
	before, t0, err := read()
	if err != nil {
		return cpuUse{}, err
	}
	select {
	case <-ctx.Done():
		return cpuUse{}, ctx.Err()
	case <-time.After(d):
	}
	after, t1, err := read()
	if err != nil {
		return cpuUse{}, err
	}
	u := cpuUse{elapsed: t1.Sub(t0)}
	for i := range groups {
		u.cpu = append(u.cpu, after[i]-before[i])
	}
	return u, nil
}

// limits says how Pacemaker's batch-limit and node-action-limit are set:
// by the CIB, or else the default that the daemons' own meta-data give.
func (c *Cluster) limits(ctx context.Context) (string, error) {
	var out []string
	for _, o := range []struct{ name, daemon string }{
		{"batch-limit", "pacemaker-schedulerd"},
		{"node-action-limit", "pacemaker-controld"},
		{"load-threshold", "pacemaker-controld"},
	} {
		r, err := c.Nodes[0].Exec(ctx, "crm_attribute", "--type", "crm_config", "--name", o.name, "--query", "--quiet")
		if err != nil {
			return "", err
		}
		if v := strings.TrimSpace(r.Stdout); r.Code == 0 && v != "" {
			out = append(out, fmt.Sprintf("%s=%s (set in the CIB)", o.name, v))
			continue
		}
		def, desc := optionDefault(o.daemon, o.name)
		out = append(out, fmt.Sprintf("%s unset, so its default %s (%s metadata: %q)", o.name, def, o.daemon, desc))
	}
	return strings.Join(out, "; ") + fmt.Sprintf("; the nodes see %d cores", runtime.NumCPU()), nil
}

// optionDefault reads a cluster option's default and description from a
// Pacemaker daemon's meta-data.
func optionDefault(daemon, name string) (def, desc string) {
	r, err := lab.RunHere(context.Background(), []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, "/usr/lib/pacemaker/"+daemon, "metadata")
	if err != nil || r.Code != 0 {
		return "unknown", daemon + " metadata failed"
	}
	var md struct {
		Parameters []struct {
			Name    string `xml:"name,attr"`
			Short   string `xml:"shortdesc"`
			Long    string `xml:"longdesc"`
			Content struct {
				Default string `xml:"default,attr"`
			} `xml:"content"`
		} `xml:"parameters>parameter"`
	}
	if xml.Unmarshal([]byte(r.Stdout), &md) != nil {
		return "unknown", daemon + " metadata unreadable"
	}
	for _, p := range md.Parameters {
		if p.Name == name {
			desc := p.Short
			if len(p.Long) > len(desc) {
				desc = p.Long
			}
			return p.Content.Default, desc
		}
	}
	return "unknown", "not in " + daemon + "'s metadata"
}

// benchOn accepts a status where every one of the n bench primitives is
// started on node, and no other node runs one.
func benchOn(node string, n int) func(*Status) bool {
	return func(s *Status) bool {
		on := 0
		for _, r := range s.Resources {
			if !strings.HasPrefix(r.ID, benchPrefix) {
				continue
			}
			if r.Role != "Started" || len(r.Nodes) != 1 || r.Nodes[0].Name != node {
				return false
			}
			on++
		}
		return on == n
	}
}

// benchGone accepts a status with no bench primitive left.
func benchGone(s *Status) bool {
	for _, r := range s.Resources {
		if strings.HasPrefix(r.ID, benchPrefix) {
			return false
		}
	}
	return true
}

// benchAgent runs one agent with n VIPs: create them on n1, the client
// learns them, n1 goes standby (the failover), a steady-state window with
// the VIPs on n2 at each monitor interval, the hard kill, then the VIPs
// are deleted and n1 comes back.
func (c *Cluster) benchAgent(ctx context.Context, w io.Writer, ag *Agent, n int, base cpuUse, groups []*cpuGroup, cfg benchConfig) (*benchResult, error) {
	n1, n2 := c.Nodes[0], c.Nodes[1]
	res := &benchResult{Agent: ag, N: n}
	fmt.Fprintf(w, "\n=== %s, %d VIPs\n", ag.Title, n)
	if ag.NoAddress {
		fmt.Fprintf(w, "(resources that hold no address: the failovers are timed from the nodes' execd logs, with no client)\n")
	}
	vips, err := benchVIPs(n)
	if err != nil {
		return nil, err
	}
	prims, err := primitivesXML(ag, vips, benchBits, cfg.intervals[0])
	if err != nil {
		return nil, err
	}
	// The resources section without the bench's primitives, which a
	// change of their interval writes back with new ones.
	r, err := n1.MustExec(ctx, "cibadmin", "--query", "--scope", "resources")
	if err != nil {
		return nil, err
	}
	resources := r.Stdout
	r, err = n1.MustExec(ctx, "cibadmin", "--query", "--scope", "configuration")
	if err != nil {
		return nil, err
	}
	config, err := withVIPs(r.Stdout, prims, locationXML(n1.Name))
	if err != nil {
		return nil, err
	}
	// A file, not --xml-text: N primitives outgrow one argument's
	// 128 KiB. The node sees the host's /tmp, where its directory is.
	file := filepath.Join(n1.Dir, "bench-config.xml")
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		return nil, fmt.Errorf("write the CIB's configuration: %w", err)
	}
	r, err = n1.MustExec(ctx, "cibadmin", "--replace", "--scope", "configuration", "--xml-file", file)
	if err != nil {
		return nil, err
	}
	timeout := moveTimeout(n)
	if _, err := waitStatus(ctx, n1, timeout, fmt.Sprintf("%d VIPs started on n1", n), benchOn(n1.Name, n), n2); err != nil {
		return nil, err
	}
	res.Started = time.Since(r.Start)
	fmt.Fprintf(w, "create: %d primitives (op monitor interval=%s) and one location preference for n1 in one cibadmin --replace\n"+
		"  --scope configuration (%s); all %d started on n1 %.1f s after it\n", n, intervalSpec(cfg.intervals[0]), ms(r.End.Sub(r.Start)), n, res.Started.Seconds())

	if !ag.NoAddress {
		// The client starts from no entry for any VIP, as for each
		// agent, and pings each VIP until it answered from n1.
		if err := c.Client.IP("neigh", "flush", "dev", c.Client.Dev); err != nil {
			return nil, err
		}
		t := time.Now()
		learn, err := watchFleet(c.Client, vips, n1.Host.MAC, 100*time.Millisecond)
		if err != nil {
			return nil, err
		}
		err = learn.Wait(ctx, 30*time.Second)
		learn.Close()
		if err != nil {
			return nil, fmt.Errorf("before the failover: %w", err)
		}
		fmt.Fprintf(w, "client: m has an entry naming n1 (%s) for each of the %d VIPs, and each answered a ping (%.1f s)\n",
			n1.Host.MAC, n, time.Since(t).Seconds())
	}
	if err := c.settle(ctx); err != nil {
		return nil, err
	}

	if err := c.benchFailover(ctx, w, res, vips); err != nil {
		return nil, err
	}

	for i, iv := range cfg.intervals {
		if i > 0 {
			if err := c.setInterval(ctx, w, ag, n, resources, iv, n2); err != nil {
				return nil, err
			}
		}
		st, err := c.steady(ctx, w, n, iv, base, groups, cfg.window)
		if err != nil {
			return nil, err
		}
		res.Steady = append(res.Steady, st)
	}
	if !cfg.kill {
		return res, c.benchCleanup(ctx, w, vips, true)
	}
	// The kill, at the first interval as the failover by standby.
	if len(cfg.intervals) > 1 {
		if err := c.setInterval(ctx, w, ag, n, resources, cfg.intervals[0], n2); err != nil {
			return nil, err
		}
	}
	if res.Kill, err = c.benchKill(ctx, w, ag, vips); err != nil {
		return nil, err
	}
	// With n1 dead, so that its reboot does not pull the VIPs back.
	if err := c.benchCleanup(ctx, w, vips, false); err != nil {
		return nil, err
	}
	return res, c.benchReboot(ctx, w, vips)
}

// benchFailover puts n1 in standby and measures, from the client, when
// each VIP answers from n2; for an agent with no address, from n2's log
// when each resource started there.
func (c *Cluster) benchFailover(ctx context.Context, w io.Writer, res *benchResult, vips []netip.Addr) error {
	n1, n2 := c.Nodes[0], c.Nodes[1]
	client := !res.Agent.NoAddress
	var fw *fleetWatch
	if client {
		kept, err := c.clientEntries(vips)
		if err != nil {
			return err
		}
		res.Kept = kept
		if fw, err = watchFleet(c.Client, vips, n2.Host.MAC, c.pingEvery()); err != nil {
			return err
		}
		defer fw.Close()
	}
	t0 := time.Now()
	type result struct {
		r   lab.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := n1.MustExec(ctx, "pcs", "node", "standby", n1.Name)
		done <- result{r, err}
	}()
	timeout := moveTimeout(len(vips))
	var werr error
	if client {
		werr = fw.Wait(ctx, timeout)
	} else {
		_, werr = waitStatus(ctx, n2, timeout, "all started on n2", benchOn(n2.Name, len(vips)))
	}
	pr := <-done
	if pr.err != nil {
		return pr.err
	}
	if werr != nil {
		if client {
			if note := fw.lostNote(t0); note != "" {
				werr = fmt.Errorf("%w; %s", werr, note)
			}
		}
		return fmt.Errorf("failover: %w", werr)
	}
	res.PcsReturned = pr.r.End.Sub(t0)
	var lastFollow time.Duration
	if client {
		fw.Close()
		followed, answered := fw.Times()
		var per []time.Duration
		for i := range vips {
			per = append(per, answered[i].Sub(t0))
			lastFollow = max(lastFollow, followed[i].Sub(t0))
		}
		res.Failover = dist(per)
		res.Dropped = fw.Dropped()
	}

	if _, err := waitStatus(ctx, n2, 60*time.Second, "all VIPs started on n2", benchOn(n2.Name, len(vips))); err != nil {
		return err
	}
	if err := c.settle(ctx); err != nil {
		return err
	}
	// With no address, these check that the agent added none.
	if err := vipsOn(n2, vips, client); err != nil {
		return err
	}
	if err := vipsOn(n1, vips, false); err != nil {
		return err
	}
	now := time.Now()
	stops := readLog(filepath.Join(n1.Dir, "var/log/pacemaker/pacemaker.log"), func(r io.Reader) map[string][]AgentOp { return benchOps(r, n1.Name, t0, now) })
	starts := readLog(filepath.Join(n2.Dir, "var/log/pacemaker/pacemaker.log"), func(r io.Reader) map[string][]AgentOp { return benchOps(r, n2.Name, t0, now) })
	var stopExec, startExec []time.Duration
	var first, last time.Time
	for i := range vips {
		id := benchID(i)
		stop := findOp(stops[id], "stop")
		start := findOp(starts[id], "start")
		if stop == nil || start == nil {
			return fmt.Errorf("failover: no stop of %s on n1 or no start on n2 in their logs", id)
		}
		if stop.Status != 0 || start.Status != 0 {
			return fmt.Errorf("failover: %s's stop exited %d, its start %d", id, stop.Status, start.Status)
		}
		stopExec = append(stopExec, stop.Exec)
		startExec = append(startExec, start.Exec)
		if first.IsZero() || stop.Called.Before(first) {
			first = stop.Called
		}
		last = maxTime(last, start.Returned)
	}
	res.FirstStop, res.LastStart = first.Sub(t0), last.Sub(t0)
	res.Stops, res.Starts = dist(stopExec), dist(startExec)
	fmt.Fprintf(w, "failover: pcs node standby n1 (on n1), all %d n1 -> n2\n", len(vips))
	events := []Event{
		{res.FirstStop, "the first stop on n1 called (execd's log)"},
		{res.LastStart, "the last start on n2 returned (execd's log)"},
		{res.PcsReturned, "pcs node standby returned"},
	}
	if client {
		events = append(events, Event{lastFollow, "the last entry of the client named n2"},
			Event{res.Failover.Max, "the last VIP answered the client from n2"})
	}
	slices.SortStableFunc(events, func(a, b Event) int { return int(a.At - b.At) })
	for _, e := range events {
		fmt.Fprintf(w, "  %10s  %s\n", "+"+ms(e.At), e.What)
	}
	fmt.Fprintf(w, "  Pacemaker's handoff, from the first stop called to the last start returned: %s\n", ms(res.LastStart-res.FirstStop))
	if client {
		fmt.Fprintf(w, "  per VIP, from the trigger until the client's entry named n2 and it answered: median %s, p95 %s, max %s\n",
			ms(res.Failover.Median), ms(res.Failover.P95), ms(res.Failover.Max))
		fmt.Fprintf(w, "  the client: entries for %d of the %d VIPs at the trigger, %d deleted by the kernel during the failover; %d pings sent\n",
			res.Kept, len(vips), res.Dropped, fw.Sent())
		if note := fw.lostNote(t0); note != "" {
			fmt.Fprintf(w, "  %s\n", note)
		}
	}
	fmt.Fprintf(w, "  the agent under execd: stop median %s, p95 %s; start median %s, p95 %s\n",
		ms(res.Stops.Median), ms(res.Stops.P95), ms(res.Starts.Median), ms(res.Starts.P95))
	fmt.Fprintf(w, "  Pacemaker's load throttle (the controllers' load notes since the trigger): %s\n", c.throttle(t0))
	return nil
}

// throttle tells, per node, the controller's load notes from since on:
// each lowers the actions Pacemaker runs at once on the node.
func (c *Cluster) throttle(since time.Time) string {
	var out []string
	now := time.Now()
	for _, n := range c.Nodes {
		notes := readLog(filepath.Join(n.Dir, "var/log/pacemaker/pacemaker.log"), func(r io.Reader) map[string]int { return loadNotes(r, since, now) })
		out = append(out, n.Name+" "+describeNotes(notes))
	}
	return strings.Join(out, "; ")
}

func findOp(ops []AgentOp, action string) *AgentOp {
	for i := range ops {
		if ops[i].Action == action && !ops[i].Returned.IsZero() {
			return &ops[i]
		}
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// vipsOn checks by netlink that node n's nic has every one of vips (want)
// or none of them.
func vipsOn(n *Node, vips []netip.Addr, want bool) error {
	addrs, err := n.Host.Addrs(netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("%s's addresses: %w", n.Name, err)
	}
	have := map[netip.Addr]bool{}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			have[ip.Unmap()] = true
		}
	}
	var wrong []string
	for _, v := range vips {
		if have[v] != want {
			wrong = append(wrong, v.String())
		}
	}
	if len(wrong) == 0 {
		return nil
	}
	if len(wrong) > 5 {
		wrong = append(wrong[:5], fmt.Sprintf("and %d more", len(wrong)-5))
	}
	if want {
		return fmt.Errorf("%s lacks VIPs that crm_mon says it runs: %v", n.Name, wrong)
	}
	return fmt.Errorf("%s still has VIPs that moved away: %v", n.Name, wrong)
}

// benchCleanup deletes the bench's primitives and constraint (Pacemaker
// stops the orphans), checks that no running node keeps a VIP, and with
// unstandby takes n1 out of standby, so that the next agent starts from
// the same cluster.
func (c *Cluster) benchCleanup(ctx context.Context, w io.Writer, vips []netip.Addr, unstandby bool) error {
	on := c.up()
	t := time.Now()
	for _, argv := range [][]string{
		{"cibadmin", "--delete", "--xpath", "//rsc_location[@id='" + benchLocationID + "']"},
		// --force: cibadmin calls deleting all matches dangerous.
		{"cibadmin", "--delete-all", "--force", "--xpath", "//primitive[starts-with(@id,'" + benchPrefix + "')]"},
	} {
		if _, err := on.MustExec(ctx, argv...); err != nil {
			return err
		}
	}
	if _, err := waitStatus(ctx, on, moveTimeout(len(vips)), "the bench's VIPs deleted", benchGone); err != nil {
		return err
	}
	if err := c.settle(ctx); err != nil {
		return err
	}
	for _, n := range c.Nodes {
		if !n.Running() {
			continue // a dead node's dark nic keeps its VIPs until its reboot
		}
		if err := vipsOn(n, vips, false); err != nil {
			return fmt.Errorf("after the delete: %w", err)
		}
	}
	what := ""
	if unstandby {
		if _, err := on.MustExec(ctx, "pcs", "node", "unstandby", c.Nodes[0].Name); err != nil {
			return err
		}
		if err := c.settle(ctx); err != nil {
			return err
		}
		what = ", n1 out of standby"
	}
	fmt.Fprintf(w, "cleanup: the %d primitives deleted and stopped%s (%.1f s)\n", len(vips), what, time.Since(t).Seconds())
	return nil
}

// parseOptions reads -cluster-options: name=value pairs, comma-separated.
func parseOptions(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if name, value, ok := strings.Cut(f, "="); !ok || name == "" || value == "" {
			return nil, fmt.Errorf("-cluster-options %q: want name=value, not %q", s, f)
		}
		out = append(out, f)
	}
	return out, nil
}

// moveTimeout bounds a step that starts or moves all n: on 2 cores under
// load, Pacemaker's throttle runs one action at a time, and each takes
// longer the more resources the CIB holds (heartbeat:IPaddr2's 300 VIPs
// had not all moved after 3.5 minutes).
func moveTimeout(n int) time.Duration { return 60*time.Second + time.Duration(n)*2*time.Second }

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
