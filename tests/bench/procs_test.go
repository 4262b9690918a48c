//go:build linux

package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestParseTrace reads strace -f logs as the bench writes them: threads
// are not processes, and a clone interrupted by its child's exec counts
// once its resumed half, which strace pads, gives the child's pid.
func TestParseTrace(t *testing.T) {
	for _, c := range []struct {
		name  string
		log   string
		forks int
		execs []string
	}{
		{"threads only", `10 execve("/bin/a", ["a"], 0x7ff /* 3 vars */) = 0
10 clone(child_stack=0x1, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS, tls=0x2) = 11
`, 0, []string{"/bin/a"}},
		{"a vfork resumed after the child's exec", `10 execve("/bin/a", ["a", "start"], 0x7ff /* 3 vars */) = 0
10 clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD <unfinished ...>
12 execve("/bin/a", ["a", "announce"], 0x7ff /* 3 vars */ <unfinished ...>
10 <... clone resumed>)              = 12
12 <... execve resumed>)             = 0
`, 1, []string{"/bin/a", "/bin/a"}},
		{"a shell's fork and a failed exec", `20 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 21
21 execve("/usr/bin/ip", ["ip"], 0x5 /* 9 vars */) = -1 ENOENT (No such file or directory)
21 execve("/sbin/ip", ["ip"], 0x5 /* 9 vars */) = 0
`, 1, []string{"/sbin/ip"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "strace.out")
			if err := os.WriteFile(p, []byte(c.log), 0o600); err != nil {
				t.Fatal(err)
			}
			tr, err := parseTrace(p)
			if err != nil {
				t.Fatal(err)
			}
			if tr.forks != c.forks || !slices.Equal(tr.execs, c.execs) {
				t.Errorf("forks %d execs %q, want %d %q", tr.forks, tr.execs, c.forks, c.execs)
			}
		})
	}
}
