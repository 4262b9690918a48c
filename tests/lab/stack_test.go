//go:build linux

package lab

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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
