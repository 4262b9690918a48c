//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The bench charges each node's CPU to a cpuacct cgroup of its own
// (cgroup v1). The node's init is born in it (inCgroup), before it forks
// corosync and Pacemaker, so that every process of the node (daemons,
// agents, the agents' children and the orphans the init reaps) is
// counted, and nothing else: the test's own commands on a node go through
// nsenter, which stays in the test's cgroup.
const (
	cpuacctRoot = "/sys/fs/cgroup/cpuacct"
	// groupPrefix starts the name of every cgroup the bench makes:
	// groupPrefix<lab>-<node>.
	groupPrefix = "floatip-bench-"
)

// cpuGroup is one node's cpuacct cgroup.
type cpuGroup struct {
	Dir string
}

// newCPUGroup makes the cgroup cpuacctRoot/name.
func newCPUGroup(name string) (*cpuGroup, error) {
	if _, err := os.Stat(filepath.Join(cpuacctRoot, "cpuacct.usage")); err != nil {
		return nil, fmt.Errorf("the bench needs cgroup v1's cpuacct at %s: %w", cpuacctRoot, err)
	}
	dir := filepath.Join(cpuacctRoot, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", dir, err)
	}
	return &cpuGroup{Dir: dir}, nil
}

// Usage is the CPU time that the cgroup's processes have used since it
// was made, exited ones included: cpuacct charges as the tasks run.
func (g *cpuGroup) Usage() (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join(g.Dir, "cpuacct.usage"))
	if err != nil {
		return 0, fmt.Errorf("cgroup %s: %w", g.Dir, err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cgroup %s: cpuacct.usage: %w", g.Dir, err)
	}
	return time.Duration(ns), nil
}

// Procs lists the PIDs in the cgroup, in the host's PID namespace.
func (g *cpuGroup) Procs() ([]int, error) {
	b, err := os.ReadFile(filepath.Join(g.Dir, "cgroup.procs"))
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", g.Dir, err)
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			out = append(out, pid)
		}
	}
	return out, nil
}

// Remove deletes the cgroup once its processes are gone. A killed node's
// processes take a moment to be reaped, so it retries for a while.
func (g *cpuGroup) Remove() error {
	var err error
	for range 100 {
		if err = os.Remove(g.Dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	procs, _ := g.Procs()
	return fmt.Errorf("remove cgroup %s (processes %v still in it): %w", g.Dir, procs, err)
}

// staleGroups finds the bench's cgroups under root that no process is in,
// and those that some process still is in. The bench removes its cgroups
// when it ends, also on failure and Ctrl-C; one killed by SIGKILL cannot,
// and leaves them, empty once its nodes are gone. A busy one is a bench
// that still runs, or the nodes of a killed one: not the caller's to
// remove.
func staleGroups(root string) (stale, busy []string, err error) {
	dirs, err := filepath.Glob(filepath.Join(root, groupPrefix+"*"))
	if err != nil {
		return nil, nil, err
	}
	for _, d := range dirs {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			continue
		}
		procs, err := (&cpuGroup{Dir: d}).Procs()
		if err != nil {
			return nil, nil, err
		}
		if len(procs) == 0 {
			stale = append(stale, d)
		} else {
			busy = append(busy, fmt.Sprintf("%s (processes %v)", d, procs))
		}
	}
	return stale, busy, nil
}

// removeStaleGroups removes the empty bench cgroups that a killed bench
// left (staleGroups) and says which it removed, and which it left because
// processes are in them. Live runs take turns (CONTRIBUTING), so an empty
// one is never a bench's that is about to move its nodes in.
func removeStaleGroups(w io.Writer, root string) error {
	stale, busy, err := staleGroups(root)
	if err != nil {
		return fmt.Errorf("stale bench cgroups: %w", err)
	}
	for _, d := range stale {
		// rmdir: a cgroup goes with its control files in it.
		if err := os.Remove(d); err != nil {
			return fmt.Errorf("remove the stale cgroup %s: %w", d, err)
		}
		fmt.Fprintf(w, "removed %s: empty, left by a bench that was killed\n", d)
	}
	for _, b := range busy {
		fmt.Fprintf(w, "left %s alone: a bench's nodes still run in it\n", b)
	}
	return nil
}

// inCgroup makes cmd, the node's boot, start in the node's cgroup: a
// shell that writes its own PID into cgroup.procs and then execs cmd, so
// that ip netns exec, unshare and the init are born in it, and every
// process the init forks after them. The init cannot join it itself: ip
// netns exec mounts a fresh /sys in a mount namespace of its own, where
// the host's cgroup mounts are gone. The exec keeps the PID, which Start
// looks for the init under.
func (n *Node) inCgroup(cmd *exec.Cmd) {
	if n.cgroup == "" {
		return
	}
	cmd.Args = append([]string{"sh", "-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, n.cgroup}, cmd.Args...)
	cmd.Path = "/bin/sh"
}
