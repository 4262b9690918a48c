//go:build linux

package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestStackCommand: the machine's tools run as they are, a root's in a
// private mount namespace with the bound files named before the tool's
// argv, and either in the network namespace asked for.
func TestStackCommand(t *testing.T) {
	own := NewStack(t, "debian12", "")
	root := NewStack(t, "debian13", "/srv/root")
	root.Bind("/tmp/floatip", "/usr/lib/ocf/resource.d/floatip/IPaddr2")
	root.Bind("/tmp/floatip2", "/usr/lib/ocf/resource.d/floatip/IPaddr2")
	inRoot := []string{"unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", enterRoot, "sh", root.dir, "/srv/root", root.tag,
		"/tmp/floatip2", "/usr/lib/ocf/resource.d/floatip/IPaddr2", "--", "pcs", "--version"}
	tests := []struct {
		name  string
		stack *Stack
		ns    string
		want  []string
	}{
		{"own", own, "", []string{"pcs", "--version"}},
		{"own in a namespace", own, "fip-a", []string{"ip", "netns", "exec", "fip-a", "pcs", "--version"}},
		{"root", root, "", inRoot},
		{"root in a namespace", root, "fip-a", append([]string{"ip", "netns", "exec", "fip-a"}, inRoot...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := tt.stack.Command(context.Background(), tt.ns, []string{"PATH=/usr/bin"}, "pcs", "--version")
			if diff := cmp.Diff(tt.want, cmd.Args); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"PATH=/usr/bin"}, cmd.Env); diff != "" {
				t.Errorf("environment (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMounted: a mount whose source is the stack's tag counts, one whose
// source merely starts with it does not.
func TestMounted(t *testing.T) {
	info := filepath.Join(t.TempDir(), "mountinfo")
	lines := "22 1 0:21 / /proc rw,nosuid - proc proc rw\n" +
		"40 22 0:35 / /tmp/T/001 rw - tmpfs floatip-stack-0a0b rw\n" +
		"41 40 0:36 / / rw shared:7 - overlay floatip-stack-0c0d rw,lowerdir=/srv/root\n"
	if err := os.WriteFile(info, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	for tag, want := range map[string]bool{"floatip-stack-0a0b": true, "floatip-stack-0c0d": true, "floatip-stack-0a": false, "proc": true, "/proc": false} {
		if got := mounted(info, tag); got != want {
			t.Errorf("mounted(%s) = %v, want %v", tag, got, want)
		}
	}
}

// cleanupTB is a testing.TB whose cleanups and errors the test runs and
// reads itself, to see what a Stack's cleanup does at the end of a test.
type cleanupTB struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (c *cleanupTB) Helper()           {}
func (c *cleanupTB) Cleanup(f func())  { c.cleanups = append(c.cleanups, f) }
func (c *cleanupTB) Error(args ...any) { c.errors = append(c.errors, fmt.Sprint(args...)) }

func (c *cleanupTB) runCleanups() {
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
}

// TestStackEndsWhatOutlivesTheTest: a tool of a root that leaves a
// process behind keeps the stack's mount namespace, and its mounts,
// alive. The end of the test says so, and ends that process, so that
// neither outlives the test.
func TestStackEndsWhatOutlivesTheTest(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: a root's tools run in a mount namespace of their own")
	}
	root := os.Getenv("FLOATIP_STACK_DEBIAN13")
	if root == "" {
		root = "/var/cache/floatip/debian13"
	}
	if _, err := os.Stat(filepath.Join(root, ".floatip-stack")); err != nil {
		t.Skipf("no Debian 13 stack at %s: make stack-debian13 builds it", root)
	}
	defer func(w time.Duration) { unmountWait = w }(unmountWait)
	unmountWait = 200 * time.Millisecond

	tb := &cleanupTB{TB: t}
	s := NewStack(tb, "debian13", root)
	t.Cleanup(s.killHolders) // whatever the stack left, this test does not
	res, err := s.Run(context.Background(), "", []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, "sh", "-c", "sleep 300 </dev/null >/dev/null 2>&1 &")
	if err != nil || res.Code != 0 {
		t.Fatalf("run a tool that leaves a process: %+v, %v", res, err)
	}
	if len(s.holders()) == 0 {
		t.Fatal("no process holds the stack's mounts after the tool left one running")
	}
	tb.runCleanups()
	if len(tb.errors) == 0 {
		t.Error("the stack's cleanup did not report the process left running")
	}
	if held := s.holders(); len(held) > 0 {
		t.Errorf("processes %v still hold the stack's mounts after the test's end: %q", held, tb.errors)
	}
}
