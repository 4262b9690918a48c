//go:build linux

// Command bench measures floatip against ocf:heartbeat:IPaddr2 side by
// side, in one run, in network namespaces of its own (make bench). Each
// measurement alternates the two agents repetition by repetition, so that
// whatever else the machine does weighs on both alike, and the table
// reports medians, 95th percentiles and their ratio: absolute times differ
// from machine to machine, ratios measured in one run carry over.
//
// The monitor rows also show the floor: a static Go
// program that starts, dumps the addresses once with vishvananda/netlink's
// AddrList and exits (tests/bench/floor). It is what a Go agent built the
// obvious way cannot beat; an agent that decodes less of the dump can, on
// a nic with many addresses.
//
// A second table shows what each of floatip's opt-in features
// adds to the action it slows, floatip with the feature against floatip
// with its default, alternating in the same way (tests/bench/features.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/failover"
)

// options are the command's flags.
type options struct {
	binary, heartbeat, goTool string
	count, cycles, failovers  int
	others                    int
	features                  int
}

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "bin/floatip", "the floatip binary")
	flag.StringVar(&o.heartbeat, "heartbeat", failover.Heartbeat.Path, "heartbeat's IPaddr2 script")
	flag.StringVar(&o.goTool, "go", "go", "the go command, to build the floor program")
	flag.IntVar(&o.count, "count", 100, "repetitions of each monitor and probe measurement, per agent")
	flag.IntVar(&o.cycles, "cycles", 25, "start/stop cycles per agent")
	flag.IntVar(&o.failovers, "failovers", 6, "failovers per agent (each builds a lab and takes 3-6 s)")
	flag.IntVar(&o.others, "others", 10000, "other addresses on the nic for the crowded monitor")
	flag.IntVar(&o.features, "features", 20, "repetitions of each floatip feature measurement, with the feature and without (0 skips them)")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: needs root, to create network namespaces")
		os.Exit(1)
	}
	if o.count < 1 || o.cycles < 1 || o.failovers < 0 || o.others < 0 || o.features < 0 {
		fmt.Fprintln(os.Stderr, "bench: -count and -cycles must be at least 1, -failovers, -others and -features not negative")
		os.Exit(2)
	}
	// An interrupt cancels the context: the running agent is killed and
	// every step returns, so that the deferred clean-ups remove the labs.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := runBench(ctx, o); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted: %w", err)
		}
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		stop()
		os.Exit(1)
	}
}

func runBench(ctx context.Context, o options) (err error) {
	began := time.Now()
	if o.binary, err = filepath.Abs(o.binary); err != nil {
		return fmt.Errorf("find the floatip binary: %w", err)
	}
	for _, p := range []string{o.binary, o.heartbeat} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("agent: %w", err)
		}
	}
	tmp, err := os.MkdirTemp("", "floatip-bench-")
	if err != nil {
		return fmt.Errorf("make a work directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, prog := range []string{"floor", "launch"} {
		if err := build(ctx, o.goTool, prog, filepath.Join(tmp, prog)); err != nil {
			return err
		}
	}

	printMachine(o)
	t := &table{}
	layout(t, o.others)
	b, err := newBench(ctx, o, tmp, t)
	if err != nil {
		return err
	}
	// Close removes the lab's namespaces whatever happened before, and
	// says so if it could not.
	defer func() { err = errors.Join(err, b.close()) }()
	for _, step := range []struct {
		name string
		fn   func() error
	}{
		{"monitor and probe", b.monitors},
		{"start and stop", b.cycles},
		{"processes and files", b.processes},
		{"features", b.features},
		// The failovers build labs of their own: this one goes first.
		{"failover", func() error { return errors.Join(b.close(), b.failovers()) }},
	} {
		progress("%s ...", step.name)
		if err := step.fn(); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
	}
	fmt.Println()
	t.print(os.Stdout)
	fmt.Println()
	printTargets(os.Stdout, t, o.others)
	if o.features > 0 {
		fmt.Println("\nWhat each opt-in feature adds to floatip's action: floatip with its default and with the feature, alternating:")
		b.ft.print(os.Stdout)
	}
	fmt.Printf("\nThe whole bench took %s; load average at the end %s.\n", time.Since(began).Round(time.Second), loadAverage())
	return nil
}

// build builds one of the bench's helper programs as floatip is built:
// static, stripped.
func build(ctx context.Context, goTool, prog, out string) error {
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./tests/bench/"+prog)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the %s program (run from the repository's root): %w: %s", prog, err, strings.TrimSpace(string(msg)))
	}
	return nil
}

// printMachine says what the numbers were measured on.
func printMachine(o options) {
	var u unix.Utsname
	kernel := "?"
	if unix.Uname(&u) == nil {
		kernel = unix.ByteSliceToString(u.Release[:])
	}
	cpu := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	ver := func(argv ...string) string {
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			return "?"
		}
		return strings.TrimSpace(string(out))
	}
	fmt.Printf("machine: %d CPUs (nproc), %s, kernel %s, %s; load average %s\n", runtime.NumCPU(), cpu, kernel, runtime.Version(), loadAverage())
	fmt.Printf("agents: %s (%s), heartbeat:IPaddr2 from resource-agents %s\n",
		o.binary, ver(o.binary, "version"), ver("dpkg-query", "-W", "-f", "${Version}", "resource-agents"))
	fmt.Printf("repetitions per agent: %d monitors and probes, %d start/stop cycles, %d failovers; the agents alternate\n",
		o.count, o.cycles, o.failovers)
	fmt.Printf("floatip's opt-in features: %d runs with each and %d without, alternating\n", o.features, o.features)
	fmt.Println("Agents run in the lab's namespace by a fork from a thread moved into it, without `ip netns exec`,")
	fmt.Println("also in the failovers, which are make demo's graceful move.")
}

// loadAverage is the 1-minute load average: whatever else runs on the
// machine slows IPaddr2's dozens of processes more than floatip's one, so
// a busy machine flatters the ratios.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// progress tells the person waiting what runs now.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// errCode is an agent answering other than the measurement expects, which
// would make the numbers meaningless.
var errCode = errors.New("unexpected exit code")
