//go:build linux

package main

// The chaos run (make cluster-chaos; "go run ./tests/cluster chaos"):
// faults in a row on a three-node cluster with fencing and quorum, each
// followed by the checks that nothing was lost. The faults are drawn from
// a seeded generator, in bags that hold each fault once, so that any run
// of as many rounds as there are faults has each of them and a seed
// repeats a run's sequence. After each fault the run waits, bounded, for
// the cluster to settle and then checks on the machine itself, not on
// Pacemaker's word: exactly one node has each VIP, on the LAN nic with its
// prefix; the client's entry names that node's MAC and its pings are
// answered; no node that does not hold a VIP has the agent's announcer,
// pid file or lock for it; and the failed actions left are those the fault
// explains. It stops at the first broken check, with the seed and the
// round.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/floatip/floatip/tests/lab"
)

// chaosVIP is one of the run's VIPs: its resource, address and
// cidr_netmask (the LAN's).
type chaosVIP struct {
	ID   string
	IP   netip.Addr
	Bits int
}

// Prefix is the VIP as the agent puts it on the nic.
func (v chaosVIP) Prefix() netip.Prefix { return netip.PrefixFrom(v.IP, v.Bits) }

// chaosVIPs are on the LAN's subnets, each a primitive of its own, so
// that Pacemaker spreads them and a fault often hits a node with one.
var chaosVIPs = []chaosVIP{
	{"vip", netip.MustParseAddr("198.18.0.100"), 24},
	{"vip2", netip.MustParseAddr("198.18.0.101"), 24},
	{"vip6", netip.MustParseAddr("2001:db8::100"), 64},
}

// chaosConfig is what the chaos run's flags ask for.
type chaosConfig struct {
	binary string
	rounds int
	seed   uint64
	// duration, when above 0, starts no round after it has passed.
	duration time.Duration
	faults   []*fault
	agent    *Agent
	// keepLogs, when set, is where a failed run copies the nodes' logs.
	keepLogs string
}

// chaosMain is main for "chaos".
func chaosMain(args []string) {
	fs := flag.NewFlagSet("chaos", flag.ExitOnError)
	binary := fs.String("binary", "bin/floatip", "the floatip binary to install as the nodes' ocf:floatip:IPaddr2")
	rounds := fs.Int("rounds", 40, "how many faults, one after the other")
	seed := fs.Uint64("seed", 0, "the seed of the faults' order and targets (0: a new one, printed)")
	duration := fs.Duration("duration", 0, "start no round after this much time (0: no limit)")
	faultsFlag := fs.String("faults", "", "the faults to draw from, comma-separated (default all: "+strings.Join(faultNames(), ",")+")")
	agentName := fs.String("agent", "floatip", "the VIPs' agent: floatip or heartbeat")
	keepLogs := fs.String("keep-logs", "", "on failure, copy the nodes' logs into this directory")
	setStack := stackFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: cluster chaos [flags]\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nThe faults:\n")
		for _, f := range faults {
			fmt.Fprintf(fs.Output(), "  %-8s %s\n", f.name, f.help)
		}
	}
	fs.Parse(args)
	cfg := chaosConfig{binary: *binary, rounds: *rounds, seed: *seed, duration: *duration, keepLogs: *keepLogs}
	err := setStack()
	if err == nil {
		cfg.faults, err = parseFaults(*faultsFlag)
	}
	if err == nil {
		cfg.agent, err = agentByName(*agentName)
	}
	if err == nil && cfg.rounds < 1 {
		err = fmt.Errorf("-rounds %d: want at least 1", cfg.rounds)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "cluster-chaos: %v\n", err)
		os.Exit(2)
	}
	if cfg.seed == 0 {
		cfg.seed = rand.Uint64()
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "cluster-chaos: needs root, to create namespaces")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	t := time.Now()
	if err := chaosRun(ctx, os.Stdout, cfg); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(os.Stderr, "\ncluster-chaos: interrupted (seed %d); the nodes, namespaces and files are removed\n", cfg.seed)
		} else {
			fmt.Fprintf(os.Stderr, "\ncluster-chaos FAILED after %.0f s: %v\n", time.Since(t).Seconds(), err)
		}
		stop()
		os.Exit(1)
	}
	fmt.Printf("\ncluster-chaos passed in %.0f s (seed %d)\n", time.Since(t).Seconds(), cfg.seed)
	os.Exit(0)
}

// chaos is the run's state: the cluster, the generator and where the
// rounds are.
type chaos struct {
	*ringCluster
	w   io.Writer
	rng *rand.Rand
	cfg chaosConfig
	bag []*fault
}

// chaosRun builds the three-node ring lab, boots it with fencing and
// quorum, creates the VIPs and runs the rounds; it removes everything at
// the end, on failure and Ctrl-C too.
func chaosRun(ctx context.Context, w io.Writer, cfg chaosConfig) (err error) {
	binary, err := filepath.Abs(cfg.binary)
	if err != nil {
		return fmt.Errorf("-binary: %w", err)
	}
	if _, err := os.Stat(binary); err != nil {
		return fmt.Errorf("the agent: %w (make build)", err)
	}
	rc, cleanup, err := newRingCluster([]string{"n1", "n2", "n3"}, cfg.agent)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil && ctx.Err() == nil {
			rc.dumpLogs(os.Stderr)
			if cfg.keepLogs != "" {
				err = joinErr(err, keepNodeLogs(rc.Nodes, cfg.keepLogs))
			}
		}
		err = joinErr(err, cleanup())
	}()
	ch := &chaos{ringCluster: rc, w: w, rng: rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15)), cfg: cfg}
	fmt.Fprintf(w, "chaos: %d rounds, seed %d (-seed %d repeats them), faults: %s\n", cfg.rounds, cfg.seed, cfg.seed, faultList(cfg.faults))
	stack.PrintVersions(w)
	fmt.Fprintf(w, "three nodes, corosync on a ring of its own (%s), no-quorum-policy=stop, fencing with fence_lab, VIPs as %s:", ringPrefix, cfg.agent.Title)
	for _, v := range chaosVIPs {
		fmt.Fprintf(w, " %s %s", v.ID, v.Prefix())
	}
	fmt.Fprintln(w)
	rc.describeNodes(w)
	if err := rc.boot(ctx, w, ringConf(rc, false), binary,
		[2]string{"stonith-enabled", "true"}, [2]string{"no-quorum-policy", "stop"}, [2]string{"resource-stickiness", "1"}); err != nil {
		return err
	}
	if err := rc.fenceDevice(ctx, w); err != nil {
		return err
	}
	if err := ch.createVIPs(ctx); err != nil {
		return err
	}
	placed, err := ch.settle(ctx, 60*time.Second)
	if err != nil {
		return err
	}
	if err := ch.check(ctx, &round{placed: placed}); err != nil {
		return fmt.Errorf("before the first fault: %w", err)
	}
	fmt.Fprintf(w, "  VIPs placed: %s; every check holds\n\n", placement(placed))

	start := time.Now()
	var done []*round
	for i := 1; i <= cfg.rounds; i++ {
		if cfg.duration > 0 && time.Since(start) > cfg.duration {
			fmt.Fprintf(w, "-duration %v reached: no round after %d\n", cfg.duration, i-1)
			break
		}
		r := &round{n: i, fault: ch.draw()}
		err := ch.play(ctx, r)
		fmt.Fprintln(w, r.line(cfg.rounds))
		if err != nil {
			return fmt.Errorf("round %d (%s), seed %d: %w", i, r.fault.name, cfg.seed, err)
		}
		done = append(done, r)
	}
	printChaosSummary(w, done, time.Since(start))
	return nil
}

// draw returns the next fault: a bag holds each fault once, in an order
// the generator shuffles, and is refilled when empty.
func (ch *chaos) draw() *fault {
	if len(ch.bag) == 0 {
		ch.bag = slices.Clone(ch.cfg.faults)
		ch.rng.Shuffle(len(ch.bag), func(i, j int) { ch.bag[i], ch.bag[j] = ch.bag[j], ch.bag[i] })
	}
	f := ch.bag[0]
	ch.bag = ch.bag[1:]
	return f
}

// createVIPs creates the VIPs with pcs, as an admin would.
func (ch *chaos) createVIPs(ctx context.Context) error {
	for _, v := range chaosVIPs {
		if _, err := ch.Nodes[0].MustExec(ctx, "pcs", "resource", "create", v.ID, ch.agent.Type, "ip="+v.IP.String(),
			"cidr_netmask="+strconv.Itoa(v.Bits), "op", "monitor", "interval=10s"); err != nil {
			return err
		}
	}
	return nil
}

// round is one fault and what came of it.
type round struct {
	n     int
	fault *fault
	t0    time.Time
	// what says what the fault did, to whom.
	what string
	// placed is each VIP's holder, by Pacemaker's word, before the fault
	// (then after it, once settled).
	placed, before map[string]string
	// want is where a VIP must be after the fault, away where it must
	// not, when the fault says.
	want, away map[string]string
	// allowed are the failed actions the fault explains.
	allowed []allowedFailure
	// fenced are the nodes the switch powered off during the round, and
	// rebooted those the round started again.
	fenced, rebooted []string
	settled          time.Duration
	moves            []vipMove
	failures         []string
}

// allowedFailure is a failed action that a fault explains: an operation
// of resource rsc (any when empty) on node.
type allowedFailure struct {
	rsc, node string
	ops       []string
}

// allow says that the fault explains failed ops (any when none) of
// resource rsc on node.
func (r *round) allow(rsc, node string, ops ...string) {
	r.allowed = append(r.allowed, allowedFailure{rsc, node, ops})
}

// vipMove is what the client saw of a VIP that moved in a round, or was lost.
type vipMove struct {
	id, from, to string
	// followed is when the client's entry named the new holder for good,
	// from the fault on; gap the longest time its pings went unanswered.
	// A VIP that stayed where it was (from == to) is one the client lost
	// for a while.
	followed, gap time.Duration
}

// line is the round's report.
func (r *round) line(rounds int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "round %2d/%d  %-8s %-34s", r.n, rounds, r.fault.name, r.what)
	if r.settled > 0 {
		fmt.Fprintf(&b, " settled %5.1f s", r.settled.Seconds())
	}
	for _, m := range r.moves {
		if m.from == m.to {
			fmt.Fprintf(&b, "; %s stayed on %s (pings lost %.1f s)", m.id, m.to, m.gap.Seconds())
			continue
		}
		fmt.Fprintf(&b, "; %s %s->%s client followed %.1f s (pings lost %.1f s)", m.id, m.from, m.to, m.followed.Seconds(), m.gap.Seconds())
	}
	if len(r.fenced) > 0 {
		fmt.Fprintf(&b, "; fenced %s", strings.Join(r.fenced, ","))
	}
	if len(r.failures) > 0 {
		fmt.Fprintf(&b, "; explained failures: %s", strings.Join(r.failures, ", "))
	}
	return b.String()
}

// play runs one round: the fault, the reboot of any node that is down,
// the wait for the cluster to settle, and the checks.
func (ch *chaos) play(ctx context.Context, r *round) error {
	r.before = ch.lastPlaced()
	r.placed = r.before
	watch, err := ch.watchClients()
	if err != nil {
		return err
	}
	defer watch.close()
	// Answered pings before the fault, for the gaps to start from; a VIP
	// that runs nowhere has none to wait for.
	for _, p := range watch.pingers {
		waitAnswered(ctx, p, time.Time{}, 2*time.Second)
	}
	r.t0 = time.Now()
	if err := r.fault.run(ctx, ch, r); err != nil {
		return err
	}
	placed, err := ch.recoverAndSettle(ctx, r, 3*time.Minute)
	if err != nil {
		return err
	}
	r.settled = time.Since(r.t0)
	r.placed = placed
	for id, want := range r.want {
		if placed[id] != want {
			return fmt.Errorf("%s runs on %s after the fault, want on %s", id, placed[id], want)
		}
	}
	for id, not := range r.away {
		if placed[id] == not {
			return fmt.Errorf("%s still runs on %s after the fault", id, not)
		}
	}
	if err := ch.check(ctx, r); err != nil {
		return err
	}
	if err := ch.followed(ctx, r, watch); err != nil {
		return err
	}
	return ch.failedActions(ctx, r)
}

// lastPlaced is each VIP's holder by every node's addresses, as the last
// check left them.
func (ch *chaos) lastPlaced() map[string]string {
	out := map[string]string{}
	for _, v := range chaosVIPs {
		if on, err := holders(ch.Nodes, v.IP); err == nil && len(on) == 1 {
			out[v.ID] = on[0]
		}
	}
	return out
}

// recover boots again every node that is down, as a fenced or stopped
// machine comes back: without the VIPs (a reboot loses its addresses),
// its LAN and ring links up.
func (ch *chaos) recover(ctx context.Context, r *round) error {
	for _, req := range ch.Power.Requests(r.t0) {
		if !slices.Contains(r.fenced, req.Target) {
			r.fenced = append(r.fenced, req.Target)
		}
	}
	for _, n := range ch.Nodes {
		if n.Running() {
			continue
		}
		for _, v := range chaosVIPs {
			if hasAddr(n, v.IP) == nil {
				if err := n.Host.IP("addr", "del", v.Prefix().String(), "dev", n.Host.Dev); err != nil {
					return fmt.Errorf("remove %s from %s before its reboot: %w", v.IP, n.Name, err)
				}
			}
		}
		if err := ch.healRing(n); err != nil {
			return err
		}
		if err := ch.Lab.Restore(n.Host); err != nil {
			return err
		}
		if err := n.Host.IP("link", "set", n.Host.Dev, "up"); err != nil {
			return err
		}
		// The power switch set the nic down, which drops its IPv6
		// addresses; the node's own comes back with the boot.
		if err := n.Host.IP("addr", "replace", n.Host.Addr6.String(), "dev", n.Host.Dev, "nodad"); err != nil {
			return err
		}
		if err := n.Start(); err != nil {
			return err
		}
		r.rebooted = append(r.rebooted, n.Name)
	}
	return nil
}

// recoverAndSettle boots the nodes that are down and waits for the
// cluster to settle, again when a node goes down meanwhile (a fencing
// that the fault led to), until d has passed.
func (ch *chaos) recoverAndSettle(ctx context.Context, r *round, d time.Duration) (map[string]string, error) {
	deadline := time.Now().Add(d)
	for {
		if err := ch.recover(ctx, r); err != nil {
			return nil, err
		}
		placed, err := ch.settle(ctx, time.Until(deadline))
		// A node fenced meanwhile fails the settling's commands in it
		// before its init's end is seen: give that a moment.
		if err != nil {
			if err := sleep(ctx, 2*time.Second); err != nil {
				return nil, err
			}
		}
		if err == nil {
			// A fencing in the last moments shows in the next look.
			if ch.allRunning() {
				return placed, nil
			}
		} else if ch.allRunning() || time.Now().After(deadline) {
			return nil, err
		}
	}
}

// anyRunning is the first node that runs, nil when none does.
func (ch *chaos) anyRunning() *Node {
	for _, n := range ch.Nodes {
		if n.Running() {
			return n
		}
	}
	return nil
}

func (ch *chaos) allRunning() bool {
	return !slices.ContainsFunc(ch.Nodes, func(n *Node) bool { return !n.Running() })
}

// settle waits until every node is online, the cluster has no action left
// to run, and each VIP runs on one node, and returns where they run.
func (ch *chaos) settle(ctx context.Context, d time.Duration) (map[string]string, error) {
	deadline := time.Now().Add(d)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	names := strings.Fields(nodeNames(ch.Nodes))
	n := ch.anyRunning()
	if n == nil {
		return nil, errors.New("no node runs")
	}
	placedAll := func(s *Status) bool {
		if !bothOnline(names...)(s) {
			return false
		}
		for _, v := range chaosVIPs {
			if len(s.RunningOn(v.ID)) != 1 {
				return false
			}
		}
		return true
	}
	for {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the cluster did not settle within %v: its state kept changing", d)
		}
		if _, err := waitStatus(ctx, n, time.Until(deadline), "all nodes online, each VIP on one node", placedAll, ch.Nodes...); err != nil {
			return nil, fmt.Errorf("the cluster did not settle: %w", err)
		}
		// crm_resource --wait returns once the DC has no transition
		// left; a status taken after it is the settled one.
		if _, err := n.MustExec(ctx, "crm_resource", "--wait", "--timeout="+strconv.Itoa(int(max(time.Until(deadline), time.Second).Seconds()))+"s"); err != nil {
			return nil, fmt.Errorf("the cluster did not settle: %w", err)
		}
		// Settled is what stays: the same look twice, 2 s apart, as a
		// fencing the DC has yet to decide would change it.
		first, err := ch.look(ctx, n, placedAll)
		if err != nil || first == nil {
			continue
		}
		if err := sleep(ctx, 2*time.Second); err != nil {
			return nil, err
		}
		if again, err := ch.look(ctx, n, placedAll); err == nil && maps.Equal(first, again) {
			return first, nil
		}
	}
}

// look is where each VIP runs by node n's crm_mon, nil when a node is
// offline or a VIP is not on one node.
func (ch *chaos) look(ctx context.Context, n *Node, placedAll func(*Status) bool) (map[string]string, error) {
	s, err := status(ctx, n)
	if err != nil || !placedAll(s) {
		return nil, err
	}
	out := map[string]string{}
	for _, v := range chaosVIPs {
		out[v.ID] = s.RunningOn(v.ID)[0]
	}
	return out, nil
}

// check checks what must hold once the cluster has settled, on the nodes
// themselves: each VIP on its holder alone, on the LAN nic with its
// prefix, and nothing of the agent's for a VIP on a node without it.
func (ch *chaos) check(ctx context.Context, r *round) error {
	for _, v := range chaosVIPs {
		want := r.placed[v.ID]
		on, err := holders(ch.Nodes, v.IP)
		if err != nil {
			return err
		}
		if !slices.Equal(on, []string{want}) {
			return fmt.Errorf("%s (%s) is on %v by the nodes' own addresses; Pacemaker says on %s", v.ID, v.IP, on, want)
		}
		if err := onNic(ch.node(want), v); err != nil {
			return err
		}
		for _, n := range ch.Nodes {
			if n.Name == want {
				continue
			}
			if left := leftovers(n, ch.agent, v.IP); len(left) > 0 {
				return fmt.Errorf("%s does not hold %s but has %s", n.Name, v.ID, strings.Join(left, ", "))
			}
		}
	}
	return nil
}

// onNic checks that v is on node n's LAN nic with its prefix length.
func onNic(n *Node, v chaosVIP) error {
	h, err := n.Host.Handle()
	if err != nil {
		return err
	}
	defer h.Close()
	family := netlink.FAMILY_V4
	if v.IP.Is6() {
		family = netlink.FAMILY_V6
	}
	ip, bits := v.IP, v.Bits
	addrs, err := h.AddrList(nil, family)
	if err != nil {
		return fmt.Errorf("the addresses of %s: %w", n.Name, err)
	}
	for _, a := range addrs {
		if !a.IP.Equal(net.IP(ip.AsSlice())) {
			continue
		}
		l, err := h.LinkByIndex(a.LinkIndex)
		if err != nil {
			return fmt.Errorf("the nic of %s on %s: %w", ip, n.Name, err)
		}
		ones, _ := a.Mask.Size()
		if l.Attrs().Name != n.Host.Dev || ones != bits {
			return fmt.Errorf("%s is on %s as %s/%d on %s, want /%d on %s", ip, n.Name, ip, ones, l.Attrs().Name, bits, n.Host.Dev)
		}
		return nil
	}
	return fmt.Errorf("%s is not on %s", ip, n.Name)
}

// leftovers lists what the agent left for ip on node n: its announcer,
// its pid file or its lock. The node's files are read through its init's
// root, as the node's private /run is a mount of its own.
func leftovers(n *Node, ag *Agent, ip netip.Addr) []string {
	if !n.Running() {
		return nil
	}
	root := fmt.Sprintf("/proc/%d/root", n.pid)
	var out []string
	var netns syscall.Stat_t
	syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", n.pid), &netns)
	for _, f := range agentFiles(ag, ip, netns.Ino) {
		if _, err := os.Lstat(filepath.Join(root, f)); err == nil {
			out = append(out, f)
		}
	}
	procs, _ := announcers("/proc", n.pid, ag, ip)
	for _, p := range procs {
		out = append(out, fmt.Sprintf("announcer process %d (%s)", p.pid, p.cmdline))
	}
	return out
}

// agentFiles are the files in HA_RSCTMP that an agent keeps for ip while
// it holds it: floatip's lock and background sender's pid file, named by
// the address and the inode of the node's network namespace, netns;
// IPaddr2's send_arp pid file.
func agentFiles(ag *Agent, ip netip.Addr, netns uint64) []string {
	dir := "run/resource-agents"
	if !ag.Floatip() {
		return []string{dir + "/send_arp-" + ip.String()}
	}
	key := fmt.Sprintf("%s@net%d", ip, netns)
	return []string{dir + "/floatip-" + key + ".lock", dir + "/floatip-announce-" + key + ".pid"}
}

// proc is a process as announcers finds it.
type proc struct {
	pid     int
	cmdline string
}

// announcers lists the processes in the PID namespace of process init
// (in the procfs at procfs) that announce ip: floatip's background sender
// ("announce --background-sender ... --ip IP") or IPaddr2's send_arp,
// whose arguments hold the address.
func announcers(procfs string, init int, ag *Agent, ip netip.Addr) ([]proc, error) {
	ns, err := os.Readlink(filepath.Join(procfs, strconv.Itoa(init), "ns/pid"))
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(procfs)
	if err != nil {
		return nil, err
	}
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink(filepath.Join(procfs, e.Name(), "ns/pid")); err != nil || l != ns {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procfs, e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if isAnnouncer(args, ag, ip) {
			out = append(out, proc{pid, strings.Join(args, " ")})
		}
	}
	return out, nil
}

// isAnnouncer says whether a process with args announces ip for agent ag.
func isAnnouncer(args []string, ag *Agent, ip netip.Addr) bool {
	if len(args) == 0 || !slices.Contains(args, ip.String()) {
		return false
	}
	if !ag.Floatip() {
		return filepath.Base(args[0]) == "send_arp"
	}
	return slices.Contains(args, "--background-sender")
}

// clientWatch is the client's view of every VIP during a round: its
// neighbour entries' changes and pings every 20 ms.
type clientWatches struct {
	changes map[string]func() []lab.NeighborChange
	pingers map[string]*lab.Pinger
	stops   []func()
	probes  map[string][]lab.Probe
}

func (ch *chaos) watchClients() (*clientWatches, error) {
	cw := &clientWatches{changes: map[string]func() []lab.NeighborChange{}, pingers: map[string]*lab.Pinger{}}
	for _, v := range chaosVIPs {
		changes, stop, err := ch.Client.WatchNeighbor(v.IP)
		if err != nil {
			cw.close()
			return nil, err
		}
		cw.changes[v.ID] = changes
		cw.stops = append(cw.stops, stop)
		p, err := ch.Client.Ping(v.IP, 20*time.Millisecond)
		if err != nil {
			cw.close()
			return nil, err
		}
		cw.pingers[v.ID] = p
	}
	return cw, nil
}

// close stops the watches, once, and keeps the probes.
func (cw *clientWatches) close() {
	if cw.probes != nil {
		return
	}
	cw.probes = map[string][]lab.Probe{}
	for id, p := range cw.pingers {
		cw.probes[id] = p.Close()
	}
	for _, stop := range cw.stops {
		stop()
	}
}

// followed waits, bounded, until the client's entry for each VIP names
// its holder's MAC and a ping sent after that is answered, and records
// when the client followed each VIP that moved.
func (ch *chaos) followed(ctx context.Context, r *round, cw *clientWatches) error {
	deadline := time.Now().Add(60 * time.Second)
	for _, v := range chaosVIPs {
		holder := ch.node(r.placed[v.ID])
		// since is when the entry was first seen naming the holder.
		var since time.Time
		for {
			mac, err := ch.Client.Neighbor(v.IP)
			if err != nil {
				return err
			}
			switch {
			case mac.String() != holder.Host.MAC.String():
				since = time.Time{}
			case since.IsZero():
				since = time.Now()
			}
			if !since.IsZero() && answeredAfter(cw.pingers[v.ID].Probes(), since) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the client's entry for %s (%s) is %v, not %s's %s, or its pings go unanswered, 60 s after the cluster settled",
					v.ID, v.IP, mac, holder.Name, holder.Host.MAC)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	cw.close()
	for _, v := range chaosVIPs {
		from, to := r.before[v.ID], r.placed[v.ID]
		m := vipMove{id: v.ID, from: from, to: to, gap: longestGap(cw.probes[v.ID], r.t0)}
		// A VIP that stayed counts when the client lost it a while
		// (its address deleted, its cable out).
		if from == to && m.gap < time.Second {
			continue
		}
		if c := followedAt(cw.changes[v.ID](), ch.node(to).Host.MAC); from != to && !c.IsZero() {
			m.followed = c.Sub(r.t0)
		}
		r.moves = append(r.moves, m)
	}
	return nil
}

// answeredAfter says whether a ping sent after t has its answer.
func answeredAfter(probes []lab.Probe, t time.Time) bool {
	for _, p := range slices.Backward(probes) {
		if p.Sent.Before(t) {
			return false
		}
		if !p.Replied.IsZero() {
			return true
		}
	}
	return false
}

// followedAt is when the client's entry came to name mac for good: the
// first change to mac after the last change to another MAC; zero when it
// never named mac.
func followedAt(changes []lab.NeighborChange, mac net.HardwareAddr) time.Time {
	var at time.Time
	for _, c := range changes {
		switch {
		case c.MAC.String() == mac.String():
			if at.IsZero() {
				at = c.Time
			}
		case len(c.MAC) > 0:
			at = time.Time{}
		}
	}
	return at
}

// longestGap is the longest time without an answered ping from since on:
// between two answers, or from since to the first.
func longestGap(probes []lab.Probe, since time.Time) time.Duration {
	var gap time.Duration
	last := since
	for _, p := range probes {
		if p.Replied.IsZero() || p.Replied.Before(since) {
			continue
		}
		gap = max(gap, p.Replied.Sub(last))
		last = p.Replied
	}
	return gap
}

// failedActions checks that every failed action crm_mon lists is one the
// fault explains, then clears them as an admin would (crm_resource
// --cleanup) and waits for the cluster to settle again with the VIPs where
// they were.
func (ch *chaos) failedActions(ctx context.Context, r *round) error {
	n := ch.anyRunning()
	if n == nil {
		return errors.New("no node runs")
	}
	s, err := status(ctx, n)
	if err != nil {
		return err
	}
	for _, f := range s.Failures {
		text := fmt.Sprintf("%s on %s (%s)", f.Op, f.Node, strings.TrimSpace(f.Status+" "+f.ExitReason))
		if !explained(r.allowed, f.Op, f.Node) {
			return fmt.Errorf("failed action the fault does not explain: %s", text)
		}
		r.failures = append(r.failures, text)
	}
	if len(s.Failures) == 0 {
		return nil
	}
	if _, err := n.MustExec(ctx, "crm_resource", "--cleanup"); err != nil {
		return err
	}
	placed, err := ch.settle(ctx, time.Minute)
	if err != nil {
		return fmt.Errorf("after crm_resource --cleanup: %w", err)
	}
	for id, on := range placed {
		if on != r.placed[id] {
			return fmt.Errorf("crm_resource --cleanup moved %s from %s to %s", id, r.placed[id], on)
		}
	}
	if s, err = status(ctx, n); err != nil {
		return err
	}
	if len(s.Failures) > 0 {
		return fmt.Errorf("failed actions after crm_resource --cleanup: %s", s.FailureText())
	}
	return nil
}

// explained says whether the failed operation opKey (crm_mon's
// "vip_monitor_10000") on node is one of allowed.
func explained(allowed []allowedFailure, opKey, node string) bool {
	rsc, op, ok := splitOpKey(opKey)
	if !ok {
		return false
	}
	return slices.ContainsFunc(allowed, func(a allowedFailure) bool {
		return a.node == node && (a.rsc == "" || a.rsc == rsc) && (len(a.ops) == 0 || slices.Contains(a.ops, op))
	})
}

// splitOpKey splits Pacemaker's operation key, RSC_OP_INTERVALMS, where
// the resource's id may hold underscores.
func splitOpKey(key string) (rsc, op string, ok bool) {
	i := strings.LastIndexByte(key, '_')
	if i < 0 {
		return "", "", false
	}
	if _, err := strconv.Atoi(key[i+1:]); err != nil {
		return "", "", false
	}
	j := strings.LastIndexByte(key[:i], '_')
	if j <= 0 {
		return "", "", false
	}
	return key[:j], key[j+1 : i], true
}

// placement prints where each VIP runs.
func placement(placed map[string]string) string {
	var out []string
	for _, v := range chaosVIPs {
		out = append(out, v.ID+" on "+placed[v.ID])
	}
	return strings.Join(out, ", ")
}

// printChaosSummary prints, per fault, how many rounds it had and how
// long the cluster took to settle and the client to follow.
func printChaosSummary(w io.Writer, done []*round, took time.Duration) {
	fmt.Fprintf(w, "\nSummary: %d rounds in %.0f s; after each, every check held\n", len(done), took.Seconds())
	fmt.Fprintf(w, "  %-22s %6s %14s %14s %16s\n", "fault", "rounds", "settled median", "settled max", "client followed max")
	var names []string
	by := map[string][]*round{}
	for _, r := range done {
		if _, ok := by[r.fault.name]; !ok {
			names = append(names, r.fault.name)
		}
		by[r.fault.name] = append(by[r.fault.name], r)
	}
	slices.Sort(names)
	for _, name := range names {
		var settled []time.Duration
		var followed time.Duration
		moved := false
		for _, r := range by[name] {
			settled = append(settled, r.settled)
			for _, m := range r.moves {
				if m.from != m.to {
					followed, moved = max(followed, m.followed), true
				}
			}
		}
		slices.Sort(settled)
		f := "(none moved)"
		if moved {
			f = fmt.Sprintf("%.1f s", followed.Seconds())
		}
		fmt.Fprintf(w, "  %-22s %6d %12.1f s %12.1f s %16s\n", name, len(settled), settled[len(settled)/2].Seconds(), settled[len(settled)-1].Seconds(), f)
	}
}

// keepNodeLogs copies each node's logs into dir/NODE before the work
// directory goes.
func keepNodeLogs(nodes []*Node, dir string) error {
	for _, n := range nodes {
		for _, p := range []string{"init.log", "corosync.out", "pacemakerd.out", "var/log/pacemaker/pacemaker.log", "var/log/corosync/corosync.log"} {
			b, err := os.ReadFile(filepath.Join(n.Dir, p))
			if err != nil {
				continue
			}
			dst := filepath.Join(dir, n.Name, filepath.Base(p))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(os.Stderr, "the nodes' logs are in %s\n", dir)
	return nil
}
