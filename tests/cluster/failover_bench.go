//go:build linux

package main

// The failover bench (make failover-bench; "go run ./tests/cluster
// failover-bench"): the failover a client feels, with the VIP under
// Pacemaker (floatip or heartbeat:IPaddr2, corosync's default token and a
// tuned one) and under keepalived (VRRPv3, two advertisement intervals),
// one setup after the other on one lab: two nodes and a client on one
// bridge. Each fault runs -reps times per setup: a graceful move, a hard
// kill of the holder, a cut of its link, a 300 ms flap of its link. The
// client probes the VIP every 5 ms and records which MAC answered, its
// neighbour entry for the VIP and the frames for the VIP. The times are
// printed, never asserted; the run fails when a setup loses the VIP for
// good (no answer from another node within 30 s of the fault) or ends a
// fault with the VIP on two nodes.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/lab"
)

// The faults.
const (
	fbMove = "graceful"
	fbKill = "hard-kill"
	fbCut  = "link-cut"
	fbFlap = "flap-300ms"
)

var fbFaults = []string{fbMove, fbKill, fbCut, fbFlap}

// fbFlapDown is how long the flap takes the holder's link down.
const fbFlapDown = 300 * time.Millisecond

// fbLostAfter is how long the bench waits for the VIP to answer from a
// node after a fault before it counts the VIP as lost for good.
const fbLostAfter = 30 * time.Second

// fbStable is how long every probe must be answered, from one MAC, for
// the failover to count as over.
const fbStable = 2 * time.Second

// fbNode is a node as the bench's faults see it, whatever runs on it.
type fbNode struct {
	Name string
	Host *lab.Host
}

// fbSetup is one way of running the VIP on the lab's two nodes.
type fbSetup interface {
	// Name is the setup's line in the table.
	Name() string
	// Up starts the setup and returns once the VIP runs on one node.
	Up(ctx context.Context, w io.Writer) error
	// Holder waits until the setup is at rest, with every node back,
	// and returns the node that holds the VIP.
	Holder(ctx context.Context) (*fbNode, error)
	// Move moves the VIP from a running holder to the other node as an
	// admin would, and returns a function that waits for the admin's
	// command to end.
	Move(ctx context.Context, from, to *fbNode) (wait func() error, err error)
	// Kill kills the holder: its daemons SIGKILLed and its link cut.
	Kill(ctx context.Context, n *fbNode) error
	// Check is called once the client has followed a fault, before the
	// setup recovers: a setup with fencing checks that it fenced.
	Check(ctx context.Context, fault string, from *fbNode, t0 time.Time) (string, error)
	// Down stops the setup and removes what it put on the nodes.
	Down() error
}

// fbConfig is what the bench's flags ask for.
type fbConfig struct {
	binary string
	reps   int
	setups []string
	faults []string
	tuned  int
	// monitor is the VIP's monitor interval under Pacemaker.
	monitor time.Duration
}

// fbSetupNames are the setups -setups names, in the order they run.
var fbSetupNames = []string{"keepalived-1", "keepalived-0.1", "floatip-3000", "floatip-tuned", "heartbeat-3000", "heartbeat-tuned",
	"floatip-tuned-2ring", "heartbeat-tuned-2ring", "floatip-tuned-ping"}

// failoverBenchMain is main for "failover-bench".
func failoverBenchMain(args []string) {
	fs := flag.NewFlagSet("failover-bench", flag.ExitOnError)
	binary := fs.String("binary", "bin/floatip", "the floatip binary to install as the nodes' ocf:floatip:IPaddr2")
	reps := fs.Int("reps", 5, "how many times each fault runs per setup")
	setups := fs.String("setups", strings.Join(fbSetupNames, ","), "the setups, comma-separated: "+strings.Join(fbSetupNames, ", "))
	faults := fs.String("faults", strings.Join(fbFaults, ","), "the faults, comma-separated: "+strings.Join(fbFaults, ", "))
	tuned := fs.Int("tuned-token", 1000, "corosync's token in ms for the *-tuned setups")
	monitor := fs.Duration("monitor", 10*time.Second, "the VIP's monitor interval under Pacemaker (whole seconds)")
	setStack := stackFlags(fs)
	fs.Parse(args)
	cfg := fbConfig{binary: *binary, reps: *reps, tuned: *tuned, monitor: *monitor}
	err := setStack()
	for _, s := range strings.Split(*setups, ",") {
		if s = strings.TrimSpace(s); !slices.Contains(fbSetupNames, s) {
			err = errors.Join(err, fmt.Errorf("-setups: no setup %q (have %s)", s, strings.Join(fbSetupNames, ", ")))
		}
		cfg.setups = append(cfg.setups, s)
	}
	for _, f := range strings.Split(*faults, ",") {
		if f = strings.TrimSpace(f); !slices.Contains(fbFaults, f) {
			err = errors.Join(err, fmt.Errorf("-faults: no fault %q (have %s)", f, strings.Join(fbFaults, ", ")))
		}
		cfg.faults = append(cfg.faults, f)
	}
	if *reps < 1 || *tuned < 500 || *monitor < time.Second || *monitor%time.Second != 0 {
		err = errors.Join(err, errors.New("-reps must be at least 1, -tuned-token at least 500 and -monitor whole seconds"))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "failover-bench: %v\n", err)
		os.Exit(2)
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "failover-bench: needs root, to create namespaces")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	t := time.Now()
	fmt.Printf("%s %s\n", filepath.Base(os.Args[0]), strings.Join(os.Args[1:], " "))
	err = fbRun(ctx, os.Stdout, cfg)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "\nfailover-bench: interrupted; the nodes, namespaces and files are removed")
		} else {
			fmt.Fprintf(os.Stderr, "\nfailover-bench FAILED after %.0f s: %v\n", time.Since(t).Seconds(), err)
		}
		stop()
		os.Exit(1)
	}
	fmt.Printf("\nfailover-bench done in %.0f s\n", time.Since(t).Seconds())
	os.Exit(0)
}

// fbRun builds the lab, runs each setup on it in turn, prints the table,
// and removes everything, on failure and Ctrl-C too.
func fbRun(ctx context.Context, w io.Writer, cfg fbConfig) (err error) {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if cfg.binary, err = filepath.Abs(cfg.binary); err != nil {
		return err
	}
	if _, err := os.Stat(cfg.binary); err != nil {
		return fmt.Errorf("the agent: %w (make build)", err)
	}
	l, err := lab.New(specs...)
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, l.Close())
		if left := lab.Leftovers(l.Prefix); len(left) > 0 {
			err = errors.Join(err, fmt.Errorf("namespaces left behind: %v", left))
		}
	}()
	work, err := os.MkdirTemp("", "floatip-fbench-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(work)) }()
	nodes := []*fbNode{{"n1", l.Host("n1")}, {"n2", l.Host("n2")}}
	if err := crossCable(nodes); err != nil {
		return err
	}
	fmt.Fprintf(w, "Lab: nodes n1 (%s) and n2 (%s), client m (%s) on one bridge; the VIP %s/24 on eth0.\n"+
		"The client sends an echo request to the VIP every %v and reads which MAC answers from a capture of its nic;\n"+
		"every %v it also asks by ARP, from the observer %s (%s), which nodes hold the VIP.\n",
		nodes[0].Host.MAC, nodes[1].Host.MAC, l.Host("m").Addr.Addr(), VIP, probeInterval, fbARPEvery, fbObserver, fbObserverMAC)
	b := &fbBench{lab: l, client: l.Host("m"), nodes: nodes, cfg: cfg}
	var results []*fbResult
	var failed []string
	for _, name := range cfg.setups {
		s, err := b.setup(name, exe, filepath.Join(work, name))
		if err != nil {
			return err
		}
		res, err := b.runSetup(ctx, w, s)
		results = append(results, res...)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			fmt.Fprintf(w, "  %s FAILED: %v\n", s.Name(), err)
			failed = append(failed, fmt.Sprintf("%s: %v", s.Name(), err))
		}
		// The table so far: a long run that is cut short keeps it.
		fmt.Fprintf(w, "\n%s", fbTable(res))
	}
	fmt.Fprintf(w, "\nAll setups:\n%s", fbTable(results))
	return fbVerdict(results, failed)
}

// fbVerdict is the bench's exit: nil when every run of every setup
// recovered and ended with one holder, else an error whose first line
// names the first failure (setups that failed to run, then runs), for CI's
// log, and whose next lines name the others.
func fbVerdict(results []*fbResult, setupErrs []string) error {
	failed := slices.Clone(setupErrs)
	for _, r := range results {
		failed = append(failed, r.failures()...)
	}
	switch len(failed) {
	case 0:
		return nil
	case 1:
		return errors.New(failed[0])
	}
	return fmt.Errorf("%s\n  and %d more:\n  %s", failed[0], len(failed)-1, strings.Join(failed[1:], "\n  "))
}

// fbBench is the lab the setups share.
type fbBench struct {
	lab    *lab.Lab
	client *lab.Host
	nodes  []*fbNode
	cfg    fbConfig
}

func (b *fbBench) setup(name, exe, dir string) (fbSetup, error) {
	switch name {
	case "keepalived-1":
		return &keepalivedSetup{b: b, advert: "1", dir: dir}, nil
	case "keepalived-0.1":
		return &keepalivedSetup{b: b, advert: "0.1", dir: dir}, nil
	}
	agent, token, _ := strings.Cut(name, "-")
	token, rings, _ := strings.Cut(token, "-")
	ag, err := agentByName(agent)
	if err != nil {
		return nil, err
	}
	t := tokenMS
	if token == "tuned" {
		t = b.cfg.tuned
	}
	return &pacemakerSetup{b: b, agent: ag, token: t, exe: exe, dir: dir, cable: rings == "2ring", ping: rings == "ping"}, nil
}

// The cross cable: a second link between the two nodes alone, 198.19.0.1
// and .2/24, for the setups whose corosync has a second ring (knet link 1)
// there, as production clusters have a dedicated cluster network. A cut
// of the holder's LAN link then leaves the cluster whole.
const cableDev = "cable"

func cableAddr(i int) string { return fmt.Sprintf("198.19.0.%d", i+1) }

func crossCable(nodes []*fbNode) error {
	steps := [][]string{{"-n", nodes[0].Host.NS, "link", "add", cableDev, "type", "veth", "peer", "name", cableDev, "netns", nodes[1].Host.NS}}
	for i, n := range nodes {
		steps = append(steps,
			[]string{"-n", n.Host.NS, "addr", "add", cableAddr(i) + "/24", "dev", cableDev},
			[]string{"-n", n.Host.NS, "link", "set", cableDev, "up"})
	}
	for _, st := range steps {
		if err := ipCmd(st...); err != nil {
			return fmt.Errorf("the cross cable: %w", err)
		}
	}
	return nil
}

func (b *fbBench) other(n *fbNode) *fbNode {
	if b.nodes[0] == n {
		return b.nodes[1]
	}
	return b.nodes[0]
}

// fbResult is one setup's runs of one fault.
type fbResult struct {
	Setup, Fault string
	Runs         []fbOutcome
	// TwoHolders counts the runs that ended with the VIP on both nodes:
	// at the end of the fault, or once the setup was at rest again.
	TwoHolders int
}

func (r *fbResult) failures() []string {
	var out []string
	for i, o := range r.Runs {
		if o.Recovered && (o.Lost > 0 || r.Fault == fbMove) {
			continue
		}
		var why string
		switch {
		case o.Recovered:
			// A kill, a cut or a flap of the holder's link costs the
			// client tens of probes at least (a 300 ms flap about 60):
			// none lost, and the fault did not happen.
			why = "the fault cost the client no probe: it did not take effect"
		case len(o.Still) == 0:
			why = fmt.Sprintf("the VIP was lost for good (no answer within %v)", fbLostAfter)
		case len(o.Still) == 1:
			why = fmt.Sprintf("the VIP did not settle on another node within %v (%s answered last)", fbLostAfter, o.Still[0])
		default:
			why = fmt.Sprintf("two holders: %s still answered for the VIP %v after the fault", strings.Join(o.Still, " and "), fbLostAfter)
		}
		out = append(out, fmt.Sprintf("%s, %s #%d: %s", r.Setup, r.Fault, i+1, why))
	}
	if r.TwoHolders > 0 {
		out = append(out, fmt.Sprintf("%s, %s: %d runs ended with the VIP on both nodes", r.Setup, r.Fault, r.TwoHolders))
	}
	return out
}

// runSetup brings a setup up, runs each fault -reps times, and takes it
// down again.
func (b *fbBench) runSetup(ctx context.Context, w io.Writer, s fbSetup) (res []*fbResult, err error) {
	fmt.Fprintf(w, "\n== %s\n", s.Name())
	defer func() {
		err = errors.Join(err, s.Down())
		// Whatever the setup left on the nodes' nics goes, and their
		// links come back, for the next setup.
		for _, n := range b.nodes {
			err = errors.Join(err, b.lab.Restore(n.Host), n.Host.IP("link", "set", n.Host.Dev, "up"), dropVIP(n.Host))
		}
	}()
	if err := s.Up(ctx, w); err != nil {
		return nil, err
	}
	for _, fault := range b.cfg.faults {
		r := &fbResult{Setup: s.Name(), Fault: fault}
		res = append(res, r)
		for i := range b.cfg.reps {
			o, two, err := b.fault(ctx, w, s, fault, i+1)
			if err != nil {
				return res, fmt.Errorf("%s #%d: %w", fault, i+1, err)
			}
			r.Runs = append(r.Runs, o)
			if two {
				r.TwoHolders++
			}
		}
	}
	return res, nil
}

// fault runs one fault and returns what the client saw, and whether the
// VIP was on both nodes at the end of the fault or once the setup was at
// rest again.
func (b *fbBench) fault(ctx context.Context, w io.Writer, s fbSetup, fault string, rep int) (fbOutcome, bool, error) {
	holder, err := s.Holder(ctx)
	if err != nil {
		return fbOutcome{}, false, err
	}
	other := b.other(holder)
	cw, err := watchProbes(b.client)
	if err != nil {
		return fbOutcome{}, false, err
	}
	defer cw.close()
	// Before the fault, the holder answers the probes and the
	// observer's ARP requests, so that both are known to work.
	if err := poll(ctx, 10*time.Second, func() (bool, error) {
		sm := cw.sample(time.Now(), holder.Host.MAC)
		mac, ok := sm.settled(200 * time.Millisecond)
		arp := slices.ContainsFunc(sm.ARPReplies, func(f fbFrame) bool { return f.MAC == holder.Host.MAC.String() })
		return ok && arp && mac == holder.Host.MAC.String(), nil
	}, func() error {
		return fmt.Errorf("the VIP did not answer the probes and ARP requests from %s (%s) before the fault", holder.Name, holder.Host.MAC)
	}); err != nil {
		return fbOutcome{}, false, err
	}

	t0 := time.Now()
	var wait func() error
	after := t0 // answers to probes sent after this end the fault
	// effect is when the fault had surely taken effect: an answer to a
	// probe sent before it shows that a loss was not the fault's.
	var effect time.Time
	switch fault {
	case fbMove:
		wait, err = s.Move(ctx, holder, other)
	case fbKill:
		err = s.Kill(ctx, holder)
		effect = time.Now()
	case fbCut:
		err = b.lab.Cut(holder.Host)
		effect = time.Now()
	case fbFlap:
		if err = b.lab.Cut(holder.Host); err == nil {
			effect = time.Now()
			time.Sleep(fbFlapDown)
			// The flap must have taken the holder's carrier: one that
			// did not would pass as a flap ridden out.
			if err = cutTookEffect(holder); err == nil {
				err = b.lab.Restore(holder.Host)
			}
			after = time.Now()
		}
	}
	if err != nil {
		return fbOutcome{}, false, err
	}
	// Over once a probe sent after the fault (after the flap) had its
	// answer from another node (from any node, after a flap) and the
	// answers have been steady for fbStable since.
	not := holder.Host.MAC.String()
	if fault == fbFlap {
		not = ""
	}
	lost := false
	err = poll(ctx, fbLostAfter, func() (bool, error) {
		sm := cw.sample(t0, holder.Host.MAC)
		if !sm.answeredBy(after, not) {
			return false, nil
		}
		mac, ok := sm.settled(fbStable)
		return ok && mac != not, nil
	}, func() error { lost = true; return nil })
	if err != nil {
		return fbOutcome{}, false, err
	}
	sm := cw.sample(t0, holder.Host.MAC)
	sm.Same, sm.Effect = fault == fbFlap, effect
	o := sm.analyse()
	if lost {
		// Not over at the deadline: no answer, answers from the old
		// holder alone, or from two MACs (two holders).
		o.Recovered = false
		for _, m := range sm.answering(fbStable) {
			o.Still = append(o.Still, b.nodeOf(m))
		}
	}
	cw.close()
	// The VIP must be on one node at the end of the fault, before the
	// setup's return to rest (a Pacemaker cleanup) can take a second
	// holder away unseen. A nic that is up counts, with its carrier or
	// not: a cut node's VIP is back on the LAN with its link.
	var on []string
	poll(ctx, fbStable, func() (bool, error) {
		on = b.holders()
		return len(on) < 2, nil
	}, func() error { return nil })
	two := len(on) > 1
	if two {
		fmt.Fprintf(w, "  TWO HOLDERS at the end of the %s: the VIP is on %v\n", fault, on)
	}
	var errs []error
	if wait != nil {
		errs = append(errs, wait())
	}
	note, err := s.Check(ctx, fault, holder, t0)
	errs = append(errs, err)
	if fault == fbCut {
		errs = append(errs, cutTookEffect(holder), b.lab.Restore(holder.Host))
	}
	if err := errors.Join(errs...); err != nil {
		return o, false, err
	}
	var by []string
	for _, m := range o.Answerers {
		by = append(by, b.nodeOf(m))
	}
	fmt.Fprintf(w, "  %-10s #%d %s -> %s: %s; answers from %s%s\n", fault, rep, holder.Name, b.nodeOf(o.New), o, strings.Join(by, ", then "), note)
	// At rest again: the VIP must be on one node only.
	if _, err := s.Holder(ctx); err != nil {
		return o, false, err
	}
	if on := b.holders(); len(on) > 1 {
		fmt.Fprintf(w, "  TWO HOLDERS at rest: the VIP is on %v\n", on)
		two = true
	}
	return o, two, nil
}

// holders names the nodes that have the VIP on a nic that is up.
func (b *fbBench) holders() []string {
	var on []string
	for _, n := range b.nodes {
		if vipOnNic(n.Host) {
			on = append(on, n.Name)
		}
	}
	return on
}

func (b *fbBench) nodeOf(mac string) string {
	for _, n := range b.nodes {
		if n.Host.MAC.String() == mac {
			return n.Name
		}
	}
	if mac == "" {
		return "nobody"
	}
	return mac
}

// String is a fault's line in the log.
func (o fbOutcome) String() string {
	if !o.Recovered && len(o.Still) > 1 {
		return fmt.Sprintf("TWO HOLDERS: %s still answered after %v", strings.Join(o.Still, " and "), fbLostAfter)
	}
	if !o.Recovered {
		return fmt.Sprintf("LOST: no steady answer within %v (%d probes lost)", fbLostAfter, o.Lost)
	}
	s := fmt.Sprintf("outage %s, %d probes lost", ms(o.Outage), o.Lost)
	if o.Followed >= 0 {
		s += ", entry followed after " + ms(o.Followed)
	}
	if o.OldAfter > 0 {
		s += fmt.Sprintf(", %d frames from the old holder after", o.OldAfter)
	}
	if o.TwoMACs {
		s += ", TWO MACs answered"
	}
	if o.BothARP > 0 {
		s += fmt.Sprintf(" (both nodes answered %d ARP requests for the VIP)", o.BothARP)
	}
	return s
}

// cutTookEffect says why not when node n's nic still has its carrier,
// which a cut of its port on the bridge takes.
func cutTookEffect(n *fbNode) error {
	link, err := n.Host.Link(n.Host.Dev)
	if err != nil {
		return fmt.Errorf("the cut of %s's link: %w", n.Name, err)
	}
	if link.RawFlags&unix.IFF_LOWER_UP != 0 {
		return fmt.Errorf("the cut of %s's link did not take effect: %s still has its carrier", n.Name, n.Host.Dev)
	}
	return nil
}

// vipOnNic says whether host h's nic holds the VIP and is up: a dead node's
// dark nic may keep it, and no one can reach it there.
func vipOnNic(h *lab.Host) bool {
	link, err := h.Link(h.Dev)
	if err != nil || link.Flags&net.FlagUp == 0 {
		return false
	}
	addrs, err := h.Addrs(0)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(addrs, func(a netlink.Addr) bool { return a.IP.Equal(net.IP(VIP.AsSlice())) })
}

// dropVIP removes the VIP from host h's nic, as a reboot would.
func dropVIP(h *lab.Host) error {
	addrs, err := h.Addrs(0)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if a.IP.Equal(net.IP(VIP.AsSlice())) {
			ones, _ := a.Mask.Size()
			return h.IP("addr", "del", fmt.Sprintf("%s/%d", VIP, ones), "dev", h.Dev)
		}
	}
	return nil
}
