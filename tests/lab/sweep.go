//go:build linux

package lab

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// A lab's namespaces are named fip<pid>.<6 hex digits>-<host>, and its
// bridge's fip<pid>.<6 hex digits>-br, where pid is the process that made
// it. A test killed by go test -timeout runs no t.Cleanup and leaves its
// lab behind; the pid in the name lets the next lab's process tell such a
// lab from a live one, and sweep it.
var labName = regexp.MustCompile(`^fip([0-9]+)\.[0-9a-f]{6}-`)

// netnsDir is where ip netns keeps the namespaces' names.
const netnsDir = "/run/netns"

// prefix is the name prefix of a lab made by process pid.
func prefix(pid int, rnd []byte) string {
	return fmt.Sprintf("fip%d.%x", pid, rnd)
}

var sweepOnce sync.Once

// sweepAtStart sweeps the labs of dead processes once per process, when
// it makes its first lab. A failed sweep leaves them, and no harm to the
// new lab, whose names are its own: it is reported by Sweep's callers,
// not here.
func sweepAtStart() {
	sweepOnce.Do(func() { Sweep() })
}

// Sweep removes every lab whose process no longer runs: it ends the
// processes left in its namespaces (a killed test's agents and their
// background senders) and deletes the namespaces, which removes their
// veths, the bridge and /run/netns's files with them. It returns the
// namespaces it removed. Labs of a live process, and namespaces that are
// not a lab's, are left alone.
func Sweep() ([]string, error) {
	entries, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweep labs: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		m := labName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || alive(pid) {
			continue
		}
		killIn(e.Name())
		if err := ip("netns", "del", e.Name()); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, e.Name())
	}
	return removed, errors.Join(errs...)
}

// alive says whether process pid exists; one that cannot be signalled
// for lack of permission does.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// killIn kills the processes in the network namespace called name but
// the caller.
func killIn(name string) {
	h := &Host{NS: name}
	procs, _ := h.Processes()
	for _, p := range procs {
		pid, _, _ := strings.Cut(p, " ")
		if n, err := strconv.Atoi(pid); err == nil {
			syscall.Kill(n, syscall.SIGKILL)
		}
	}
}
