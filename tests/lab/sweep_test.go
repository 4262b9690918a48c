//go:build linux

package lab

import (
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/floatip/floatip/internal/needroot"
)

// TestSweep: a lab named as a dead process's (a pid above pid_max, which
// no process can have) is swept by the next process's first lab, its
// namespaces and the process left in one included; a lab of this live
// process is kept by a sweep.
func TestSweep(t *testing.T) {
	needroot.Check(t)
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	max, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	spec := HostSpec{Name: "a", Addr: netip.MustParsePrefix("198.18.0.1/24")}
	dead, err := newOf(max+1, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dead.Close() })
	// A killed test's agent, still running in its lab.
	left := startIn(t, dead.Host("a"))

	// This process's first lab, as far as the sweep knows.
	sweepOnce = sync.Once{}
	live, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.Close() })
	if !strings.HasPrefix(live.Prefix, "fip"+strconv.Itoa(os.Getpid())+".") {
		t.Errorf("lab prefix %q does not name this process %d", live.Prefix, os.Getpid())
	}
	if got := Leftovers(dead.Prefix); len(got) != 0 {
		t.Errorf("the dead process's lab is still there: %v", got)
	}
	if st, err := left.Process.Wait(); err != nil || st.Success() {
		t.Errorf("the process left in the dead lab was not killed: %v, %v", st, err)
	}

	removed, err := Sweep()
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(removed, func(ns string) bool { return strings.HasPrefix(ns, live.Prefix) }) {
		t.Errorf("the sweep removed the live process's lab: %v", removed)
	}
	if diff := cmp.Diff([]string{live.Prefix + "-a", live.Prefix + "-br"}, sorted(Leftovers(live.Prefix))); diff != "" {
		t.Errorf("the live process's lab (-want +got):\n%s", diff)
	}
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}

// startIn starts a process in h's namespace that runs for a minute,
// unless killed; the test kills it at its end in any case.
func startIn(t *testing.T, h *Host) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", h.NS, "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// It is in the namespace once ip has entered it and run sleep.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if procs, _ := h.Processes(); len(procs) > 0 && strings.Contains(procs[0], "sleep") {
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("sleep did not start in %s", h.NS)
		}
	}
}
