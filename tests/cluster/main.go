//go:build linux

// Command cluster is floatip's live cluster test (make cluster-test): two
// real Pacemaker+Corosync nodes and a client on one bridge, all in
// namespaces on this machine. It creates the VIP as ocf:floatip:IPaddr2
// with pcs, changes its announcement settings with a service ordered after
// it (reload-agent: nothing restarts), moves it with pcs resource move, pulls the plug on the node
// that holds it, fences the holder with pcs stonith fence, stops a node
// gracefully, and each time checks that the client's neighbour entry for
// the VIP follows to the new holder's MAC. Fencing is on throughout, with
// the lab's own fence agent, fence_lab (fence.go): after a death or a
// fencing, the survivor's fencer must report the node fenced before the
// VIP starts on the survivor. It prints how long each failover took and
// how much of it the agent ran, and exits non-zero when the VIP does not
// start, does not move, the node is not fenced first, or the client does
// not follow. Timings are printed, never asserted.
//
// With -agent heartbeat the VIPs run under ocf:heartbeat:IPaddr2
// (resource-agents) instead, with the same checks, so that the two agents'
// timings can be compared on one machine (agent.go). What that agent
// lacks (reload-agent, kill_connections, the depth-10 monitor) is skipped
// or checked for what is true of it, and the output says which.
//
// It needs root, corosync, pacemaker and pcs (make deps), and leaves
// nothing behind: namespaces, processes, mounts and its work directory go
// at the end, on failure and on Ctrl-C too.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/floatip/floatip/tests/lab"
)

// The lab: nodes n1 and n2 and client m on one bridge, the VIPs on their
// subnets. Only 198.18.0.0/15, the benchmarking range, and 2001:db8::/32,
// the documentation prefix, are used.
var (
	specs = []lab.HostSpec{
		{Name: "n1", Addr: netip.MustParsePrefix("198.18.0.1/24"), Addr6: netip.MustParsePrefix("2001:db8::1/64")},
		{Name: "n2", Addr: netip.MustParsePrefix("198.18.0.2/24"), Addr6: netip.MustParsePrefix("2001:db8::2/64")},
		{Name: "m", Addr: netip.MustParsePrefix("198.18.0.3/24"), Addr6: netip.MustParsePrefix("2001:db8::3/64")},
	}
	VIP = netip.MustParseAddr("198.18.0.100")
)

// The failovers.
const (
	kindMove  = "move"
	kindKill  = "hard kill"
	kindFence = "fence"
	kindStop  = "graceful stop"
)

// tokenMS is corosync's token timeout. Corosync adds the consensus
// timeout (1.2 times the token) before it declares a silent node lost, so
// a hard kill takes about 7s to fail over: the delay that dominates a real
// cluster's failover, and the one the agent cannot shorten.
const tokenMS = 3000

// corosyncConf is the nodes' corosync.conf: knet without crypto (nothing
// but the lab's bridge can reach it), two_node so that the survivor of a
// two-node cluster keeps quorum, logs to the node's private log file only
// (the nodes share the host's /dev/log).
func corosyncConf(nodes []*Node) string {
	return corosyncConfToken(nodes, tokenMS)
}

// corosyncConfToken is corosyncConf with a token timeout of tokenMS ms
// (the failover bench's tuned setups).
func corosyncConfToken(nodes []*Node, tokenMS int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "totem {\n\tversion: 2\n\tcluster_name: floatipct\n\ttransport: knet\n"+
		"\tcrypto_cipher: none\n\tcrypto_hash: none\n\ttoken: %d\n}\n", tokenMS)
	b.WriteString("nodelist {\n")
	for i, n := range nodes {
		fmt.Fprintf(&b, "\tnode {\n\t\tname: %s\n\t\tnodeid: %d\n\t\tring0_addr: %s\n\t}\n", n.Name, i+1, n.Host.Addr.Addr())
	}
	b.WriteString("}\nquorum {\n\tprovider: corosync_votequorum\n\ttwo_node: 1\n}\n")
	b.WriteString("logging {\n\tto_stderr: no\n\tto_syslog: no\n\tto_logfile: yes\n" +
		"\tlogfile: /var/log/corosync/corosync.log\n\ttimestamp: hires\n}\n")
	return b.String()
}

// Cluster is the lab and its two nodes.
type Cluster struct {
	Lab    *lab.Lab
	Nodes  []*Node
	Client *lab.Host
	// Power is the switch that the nodes' fence_lab asks to fence a node.
	Power *PowerSwitch
	// vip6 is set once vip6 runs colocated with vip (ipv6.go): each
	// failover then checks it too.
	vip6 bool
	// agent is the agent the VIPs run under.
	agent *Agent
	// ping is how often the bench's client pings each VIP that has not
	// moved yet during a failover; 0 is every 20 ms.
	ping time.Duration
}

// pingEvery is the bench client's interval between two pings of a VIP
// during a failover.
func (c *Cluster) pingEvery() time.Duration {
	if c.ping > 0 {
		return c.ping
	}
	return 20 * time.Millisecond
}

// other returns the node that is not n.
func (c *Cluster) other(n *Node) *Node {
	if c.Nodes[0] == n {
		return c.Nodes[1]
	}
	return c.Nodes[0]
}

func (c *Cluster) node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "node-init" {
		initMain(os.Args[2:])
	}
	// make cluster-bench: the bench has flags of its own (bench.go).
	if len(os.Args) > 1 && os.Args[1] == "bench" {
		benchMain(os.Args[2:])
	}
	// make failover-bench: Pacemaker against keepalived (failover_bench.go).
	if len(os.Args) > 1 && os.Args[1] == "failover-bench" {
		failoverBenchMain(os.Args[2:])
	}
	// make cluster-chaos: faults in a row (chaos.go).
	if len(os.Args) > 1 && os.Args[1] == "chaos" {
		chaosMain(os.Args[2:])
	}
	// The nodes' fenced runs this program as /usr/sbin/fence_lab.
	if filepath.Base(os.Args[0]) == fenceAgent {
		fenceAgentMain(os.Args[1:])
	}
	// ocf:heartbeat:anything runs it on the nodes as the service behind
	// the VIP (service.go).
	if filepath.Base(os.Args[0]) == webServer {
		webMain()
	}
	binary := flag.String("binary", "bin/floatip", "the floatip binary to install as the nodes' ocf:floatip:IPaddr2")
	only := flag.String("only", "", "run only these scenarios, comma-separated: two-node, quorum, splitring, clone (default all)")
	agentName := flag.String("agent", "floatip", "the VIPs' agent: floatip (ocf:floatip:IPaddr2) or heartbeat (ocf:heartbeat:IPaddr2, resource-agents)")
	setStack := stackFlags(flag.CommandLine)
	flag.Parse()
	if err := setStack(); err != nil {
		fmt.Fprintf(os.Stderr, "cluster-test: %v\n", err)
		os.Exit(2)
	}
	ag, err := agentByName(*agentName)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cluster-test: %v\n", err)
		os.Exit(2)
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "cluster-test: needs root, to create namespaces")
		os.Exit(1)
	}
	// Ctrl-C ends the current step; run then removes everything.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runScenarios(ctx, os.Stdout, *binary, *only, ag); err != nil {
		if ctx.Err() != nil {
			// What failed is only the step the interrupt cut short.
			fmt.Fprintln(os.Stderr, "\ncluster-test: interrupted; the nodes, namespaces and files are removed")
		} else {
			fmt.Fprintf(os.Stderr, "\ncluster-test FAILED: %v\n", err)
		}
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, binary string, ag *Agent) (err error) {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if binary, err = filepath.Abs(binary); err != nil {
		return err
	}
	if _, err := os.Stat(binary); err != nil {
		return fmt.Errorf("the agent: %w (make build)", err)
	}
	l, err := lab.New(specs...)
	if err != nil {
		return err
	}
	// Deferred in this order, they run in the reverse: the nodes die
	// first, then their directories go, then the namespaces.
	defer func() {
		err = errors.Join(err, l.Close())
		if left := lab.Leftovers(l.Prefix); len(left) > 0 {
			err = errors.Join(err, fmt.Errorf("namespaces left behind: %v", left))
		}
	}()
	work, err := os.MkdirTemp("", "floatip-cluster-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(work)) }()
	c := &Cluster{Lab: l, Client: l.Host("m"), agent: ag}
	for _, name := range []string{"n1", "n2"} {
		c.Nodes = append(c.Nodes, &Node{Name: name, Host: l.Host(name), Dir: filepath.Join(work, name), exe: exe})
	}
	// The switch closes after the nodes are dead: a node may fence the
	// other while they go.
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
	return c.scenario(ctx, w, binary)
}

// scenario is the test proper.
func (c *Cluster) scenario(ctx context.Context, w io.Writer, binary string) error {
	n1, n2 := c.Nodes[0], c.Nodes[1]
	fmt.Fprintf(w, "Nodes n1 (%s, %s) and n2 (%s, %s): %s (knet, token %d ms, two_node) and %s, stonith-enabled=true.\n",
		n1.Host.Addr.Addr(), n1.Host.MAC, n2.Host.Addr.Addr(), n2.Host.MAC, version("corosync", "-v"), tokenMS, version("pacemakerd", "--version"))
	as := "floatip as ocf:floatip:IPaddr2"
	if !c.agent.Floatip() {
		as = "the VIPs as " + c.agent.Title
	}
	fmt.Fprintf(w, "Each node has its own network, mount, UTS, IPC and PID namespaces, a private /run, /dev/shm, /etc/corosync,\n"+
		"/var/lib/pacemaker and logs, and %s. Client m (%s) pings the VIP %s every %v\n"+
		"during each failover. Times from the daemons' logs come in coarse ticks of a few ms.\n", as, c.Client.Addr.Addr(), VIP, probeInterval)

	t := time.Now()
	conf := corosyncConf(c.Nodes)
	for _, n := range c.Nodes {
		if err := n.prepare(conf, binary); err != nil {
			return err
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
	// crm_attribute rather than pcs for the two properties: each pcs
	// call costs seconds of Python start-up, and pcs's part is the
	// resource commands. stonith-enabled is true by default; set, it
	// says so in the CIB.
	for _, args := range [][]string{
		{"crm_attribute", "--type", "crm_config", "--name", "stonith-enabled", "--update", "true"},
		// What pcs cluster setup sets: a running VIP stays where it is.
		{"crm_attribute", "--type", "rsc_defaults", "--name", "resource-stickiness", "--update", "1"},
	} {
		if _, err := n1.MustExec(ctx, args...); err != nil {
			return err
		}
	}

	// With fencing on and no device, Pacemaker starts no resource: the
	// device comes first.
	if err := c.fencing(ctx, w); err != nil {
		return err
	}

	// The VIP starts under a floatip of before reload-agent, which the
	// upgrade step then replaces.
	if c.agent.ReloadAgent {
		for _, n := range c.Nodes {
			if err := installAgent(n, binary, true); err != nil {
				return err
			}
		}
	}
	holder, err := c.create(ctx, w)
	if err != nil {
		return err
	}
	if c.agent.ReloadAgent {
		if holder, err = c.upgrade(ctx, w, holder, binary); err != nil {
			return err
		}
		if err := c.reload(ctx, w, holder); err != nil {
			return err
		}
	} else {
		// Said, not passed: the steps show reload-agent, which this
		// agent does not have.
		fmt.Fprintf(w, "\nupgrade and reload: SKIPPED: %s implements OCF 1.0 only, with no reload-agent action\n"+
			"  (its meta-data lists none), so an update of any parameter restarts the VIP, and there is no reload to show\n", c.agent.Title)
	}
	if err := c.crmsh(ctx, w, holder); err != nil {
		return err
	}
	if holder, err = c.service(ctx, w, holder); err != nil {
		return err
	}
	if err := c.createVIP6(ctx, w, holder); err != nil {
		return err
	}
	var done []*Failover
	other := c.other(holder)
	f, err := c.failover(ctx, kindMove, "pcs resource move vip "+other.Name, holder, other, c.move(holder, other))
	if err != nil {
		return err
	}
	f.Print(w)
	done = append(done, f)

	holder, other = other, holder
	f, err = c.failover(ctx, kindKill, holder.Name+" dies: link cut, init SIGKILLed; "+other.Name+" fences it", holder, other, c.kill(holder))
	if err != nil {
		return err
	}
	f.Print(w)
	done = append(done, f)
	if err := c.reboot(ctx, w, holder, other); err != nil {
		return err
	}

	// The survivor holds the VIP: the node that came back fences it.
	holder, other = other, holder
	f, err = c.failover(ctx, kindFence, "pcs stonith fence "+holder.Name+" on "+other.Name, holder, other, c.fence(holder, other))
	if err != nil {
		return err
	}
	f.Print(w)
	done = append(done, f)
	if err := c.reboot(ctx, w, holder, other); err != nil {
		return err
	}

	holder, other = other, holder
	f, err = c.failover(ctx, kindStop, holder.Name+" stops: SIGTERM to pacemakerd, then corosync", holder, other, c.stop(holder))
	if err != nil {
		return err
	}
	f.Print(w)
	done = append(done, f)

	fmt.Fprintf(w, "\nSummary with %s: from the trigger until the client's entry named the new holder, and the agent's part of that\n", c.agent.Title)
	for _, f := range done {
		fenced := ""
		if f.Fenced > 0 {
			fenced = fmt.Sprintf("  (%s fenced at %s)", f.From.Name, ms(f.Fenced))
		}
		fmt.Fprintf(w, "  %-14s %s -> %s  %10s  agent %8s (%4.1f%%)%s\n", f.Name, f.From.Name, f.To.Name, ms(f.Followed), ms(f.Agent), f.Share(), fenced)
		if f.V6 != nil {
			fmt.Fprintln(w, f.V6.Summary(f))
		}
	}
	if !c.agent.Floatip() {
		fmt.Fprintf(w, "cluster-test passed with %s: with fencing on, the VIP started, moved and failed over 4 times,\n"+
			"each fenced node was fenced before the VIP started on the survivor, and the client followed each time,\n"+
			"for vip6 too; NOT TESTED, as the agent lacks them: reload-agent (upgrade and reload skipped) and kill_connections\n"+
			"(the service moves ran without it: see the service summary for what the client's connection did)\n", c.agent.Title)
		return nil
	}
	fmt.Fprintf(w, "cluster-test passed: with fencing on, the VIP started, reloaded without moving, moved and failed over 4 times,\n"+
		"each fenced node was fenced before the VIP started on the survivor, and the client followed each time,\n"+
		"for vip6 too; with kill_connections the old holder reset the client's connection and its reconnect reached the new one\n")
	return nil
}

// version is the first line of a tool's version output, in the nodes'
// stack.
func version(argv ...string) string {
	r, err := stack.run([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, argv...)
	if err != nil || r.Code != 0 {
		return argv[0] + " (unknown version)"
	}
	return versionLine(r.Stdout)
}

// versionLine is the first line of a version output, corosync's shortened.
func versionLine(out string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	return strings.NewReplacer("Corosync Cluster Engine, version", "Corosync", "'", "").Replace(line)
}

// shutdown kills whatever node still runs. Killing a node's init ends its
// PID namespace, and with it the mount namespace that holds every mount
// the node made.
func (c *Cluster) shutdown() error {
	var errs []error
	for _, n := range c.Nodes {
		errs = append(errs, n.Kill())
	}
	return errors.Join(errs...)
}

// dumpLogs writes the end of each node's logs, to tell why a run failed
// before its work directory goes.
func (c *Cluster) dumpLogs(w io.Writer) {
	for _, n := range c.Nodes {
		for _, p := range []string{"init.log", "corosync.out", "pacemakerd.out", "var/log/pacemaker/pacemaker.log"} {
			b, err := os.ReadFile(filepath.Join(n.Dir, p))
			if err != nil || len(b) == 0 {
				continue
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if p == "var/log/pacemaker/pacemaker.log" {
				var keep []string
				for _, l := range lines {
					if strings.Contains(l, "error") || (strings.Contains(l, "vip") || strings.Contains(l, "fenc")) && strings.Contains(l, "notice") {
						keep = append(keep, l)
					}
				}
				lines = keep
			}
			if len(lines) == 0 {
				continue
			}
			lines = lines[max(0, len(lines)-15):]
			fmt.Fprintf(w, "--- %s: %s (end)\n%s\n", n.Name, p, strings.Join(lines, "\n"))
		}
	}
}
