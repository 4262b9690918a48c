//go:build linux

package labtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/lab"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// HostState describes everything of a host that an agent could change: its
// links and whether they are up, every address with its flags, and the
// main routing table. Two calls compare equal when nothing changed.
func HostState(t *testing.T, h *lab.Host) []string {
	t.Helper()
	nh, err := h.Handle()
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	links, err := nh.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range links {
		a := l.Attrs()
		out = append(out, fmt.Sprintf("link %s up=%v", a.Name, a.Flags&unix.IFF_UP != 0))
		addrs, err := nh.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			t.Fatal(err)
		}
		for _, ad := range addrs {
			brd := ""
			if ad.Broadcast != nil {
				brd = ad.Broadcast.String()
			}
			// Without the tentative bit, which a fresh IPv6 link-local
			// address loses on its own.
			out = append(out, fmt.Sprintf("addr %s %s brd=%s label=%s flags=%#x", a.Name, ad.IPNet, brd, ad.Label, ad.Flags&^unix.IFA_F_TENTATIVE))
		}
	}
	routes, err := nh.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		out = append(out, "route "+r.String())
	}
	slices.Sort(out)
	return out
}

// NSInode names a host's network namespace as the kernel does.
func NSInode(t *testing.T, h *lab.Host) (dev, ino uint64) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join("/run/netns", h.NS), &st); err != nil {
		t.Fatal(err)
	}
	return st.Dev, st.Ino
}

// ProcsIn lists the processes in the host's network namespace, as
// "pid cmdline", but for the test itself (whose threads enter the
// namespace to start agents there). The agent and its background sender are the only
// processes that ever run there, so after an operation and the end of its
// burst the list must be empty.
func ProcsIn(t *testing.T, h *lab.Host) []string {
	t.Helper()
	out, err := h.Processes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// SocketsIn counts the sockets of each kind that exist in the host's
// namespace (the kernel's own included), from the namespace's
// /proc/net tables. A socket an agent leaves open, in a process that
// lingers or was passed on to another, shows here.
func SocketsIn(t *testing.T, h *lab.Host) []string {
	t.Helper()
	var out []string
	err := InNetns(h, func() error {
		for _, table := range []string{"packet", "netlink", "raw", "raw6", "udp", "udp6", "tcp", "tcp6", "unix"} {
			b, err := os.ReadFile("/proc/thread-self/net/" + table)
			if err != nil {
				return err
			}
			n := strings.Count(string(b), "\n") - 1
			out = append(out, fmt.Sprintf("%s=%d", table, n))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FilesIn lists what a directory holds, HA_RSCTMP after the operations.
func FilesIn(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// CheckNothingLeft fails the test when the host differs from before, when
// a process still runs in its namespace once the background bursts had
// time to end, or when dir (HA_RSCTMP) holds anything.
func CheckNothingLeft(t *testing.T, h *lab.Host, before []string, dir string) {
	t.Helper()
	if after := HostState(t, h); !slices.Equal(before, after) {
		t.Errorf("the host changed:\nbefore %q\nafter  %q", before, after)
	}
	if !Eventually(3*time.Second, func() bool { return len(ProcsIn(t, h)) == 0 }) {
		t.Errorf("processes left in the namespace: %q", ProcsIn(t, h))
	}
	if left := FilesIn(t, dir); len(left) != 0 {
		t.Errorf("left in HA_RSCTMP: %q", left)
	}
}

// InNetns runs f on an OS thread that has entered the host's network
// namespace; a process started there is in that namespace. The thread goes
// back to its own namespace afterwards, or never runs anything else.
func InNetns(h *lab.Host, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		ns, err := netns.GetFromName(h.NS)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter %s: %w", h.NS, err)
			return
		}
		errc <- f()
		if netns.Set(orig) != nil {
			// Still locked: the thread ends with this goroutine.
			return
		}
		runtime.UnlockOSThread()
	}()
	return <-errc
}

// FastFloatip and fastHeartbeat return runners that start the agent from
// a thread inside the namespace instead of through "ip netns exec", which
// costs a process and a mount namespace per call: these tests run the
// agents thousands of times. Neither agent needs the /sys that "ip netns
// exec" mounts for the namespace: they read the kernel's state over
// netlink (floatip) or with ip (IPaddr2).
func FastFloatip(t *testing.T, h *lab.Host) *AgentRunner {
	r := Floatip(t, h)
	r.Thread = true
	return r
}

// Start starts an action and returns the command, already running.
func (r *AgentRunner) Start(ctx context.Context, stdout, stderr *bytes.Buffer, action string, params ...string) (*exec.Cmd, error) {
	argv := append(slices.Clone(r.Wrap), r.Path, action)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = OCFEnv(r.Rsctmp, params...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd, InNetns(r.Host, cmd.Start)
}

// RunThread runs an action to its end from a thread in the namespace.
// Safe for concurrent use.
func (r *AgentRunner) RunThread(action string, params ...string) lab.Result {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	res := lab.Result{Start: time.Now()}
	cmd, err := r.Start(ctx, &stdout, &stderr, action, params...)
	if err == nil {
		err = cmd.Wait()
	}
	res.End = time.Now()
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	case err != nil:
		r.T.Errorf("%s %s: %v", filepath.Base(r.Path), action, err)
		res.Code = -1
	}
	return res
}

// ExitReasons returns the ocf-exit-reason lines of an agent's stderr.
func ExitReasons(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "ocf-exit-reason:") {
			out = append(out, l)
		}
	}
	return out
}
