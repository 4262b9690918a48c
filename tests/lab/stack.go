//go:build linux

package lab

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Stack is a cluster stack whose tools a test runs (crm_resource, pcs,
// crmsh, ocf-tester): the machine's own, or one installed in a root
// directory, such as the Debian 13 root that make stack-debian13 builds,
// so that one test holds floatip to the tools of both.
//
// A tool of a root runs in a mount namespace of its own: an overlay with
// the root below and a tmpfs above, the machine's /dev, /proc and /sys
// bound in, the machine's /tmp too (where the tests keep their CIB files,
// HOME and HA_RSCTMP, so that a path means the same inside and out), the
// files given to Bind at their paths, and then chroot. The root is never
// written, and every mount goes with the namespace when the tool and
// whatever it left running have exited.
type Stack struct {
	// Name names the stack in subtests and messages: debian12, debian13.
	Name string
	// Root is the stack's root directory, "" for the machine's own.
	Root string
	// dir is the mount point of the tmpfs above the root, made empty in
	// the machine's /tmp and only ever mounted on in a private namespace.
	dir string
	// tag is the source of the stack's tmpfs and overlay mounts, by
	// which a mount table shows them: a chrooted process's table has no
	// mount point outside its root, but it has its root's overlay.
	tag   string
	binds [][2]string
}

// NewStack returns the stack called name, in root ("" for the machine's
// own). When the test ends, it fails the test if any process still has a
// mount of the stack (waiting a little for a tool's detached children),
// or if the test's own mount table holds one, and kills those processes.
func NewStack(tb testing.TB, name, root string) *Stack {
	tb.Helper()
	s := &Stack{Name: name, Root: root}
	if root == "" {
		return s
	}
	// TempDir's removal comes after the check, which was registered
	// later.
	s.dir = tb.TempDir()
	var rnd [4]byte
	rand.Read(rnd[:])
	s.tag = "floatip-stack-" + hex.EncodeToString(rnd[:])
	tb.Cleanup(func() {
		if err := s.waitUnmounted(unmountWait); err != nil {
			tb.Error(err)
			// Those processes are the test's, in the stack's mount
			// namespace: they go with the test, and the mounts with
			// them.
			s.killHolders()
			if err := s.waitUnmounted(5 * time.Second); err != nil {
				tb.Error(err)
			}
		}
	})
	return s
}

// unmountWait is how long the end of a test waits for a tool's detached
// children (the agent's background sender) to exit.
var unmountWait = 10 * time.Second

// Bind shows the machine's file at path inside the stack's root (which
// must be a root, not the machine's own), such as the agent under test at
// /usr/lib/ocf/resource.d/floatip/IPaddr2. A second Bind of a path
// replaces the first.
func (s *Stack) Bind(file, path string) {
	if s.Root == "" {
		panic("lab: Bind on the machine's own stack " + s.Name)
	}
	for i := range s.binds {
		if s.binds[i][1] == path {
			s.binds[i][0] = file
			return
		}
	}
	s.binds = append(s.binds, [2]string{file, path})
}

// LookPath finds a tool in the stack's /usr/sbin, /usr/bin, /sbin or
// /bin, and returns its path as the stack sees it.
func (s *Stack) LookPath(name string) (string, error) {
	for _, d := range []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(filepath.Join(s.Root, p)); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if s.Root == "" {
		return exec.LookPath(name)
	}
	return "", fmt.Errorf("look up %s in stack %s: not in %s", name, s.Name, s.Root)
}

// enterRoot is the shell script that builds the mount namespace of a
// root's tool and runs it: $1 the mount point, $2 the root, $3 the source
// that names the mounts, then pairs of a file and its path in the root up
// to "--", then the tool's argv. The tmpfs gives the overlay its upper and
// work directories, so that nothing of a run is left on disk. /tmp is
// bound without its submounts: the mount point is below it.
const enterRoot = `set -e
T=$1 ROOT=$2 TAG=$3
shift 3
mount -t tmpfs -o mode=0755 "$TAG" "$T"
mkdir "$T/upper" "$T/work" "$T/merged"
mount -t overlay -o "lowerdir=$ROOT,upperdir=$T/upper,workdir=$T/work" "$TAG" "$T/merged"
for d in /dev /proc /sys; do mount --rbind "$d" "$T/merged$d"; done
mount --bind /tmp "$T/merged/tmp"
while [ "$1" != -- ]; do
	dst=$T/merged$2
	mkdir -p "${dst%/*}"
	: >"$dst"
	mount --bind "$1" "$dst"
	shift 2
done
shift
exec chroot "$T/merged" "$@"
`

// Command returns the command that runs argv, a tool of the stack, with
// exactly env as its environment, in the network namespace ns ("" for the
// caller's). A root's tool is found by env's PATH inside the root.
func (s *Stack) Command(ctx context.Context, ns string, env []string, argv ...string) *exec.Cmd {
	args := argv
	if s.Root != "" {
		args = []string{"unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", enterRoot, "sh", s.dir, s.Root, s.tag}
		for _, b := range s.binds {
			args = append(args, b[0], b[1])
		}
		args = append(append(args, "--"), argv...)
	}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = env
	return cmd
}

// Run runs argv as Command does and returns what it printed. A non-zero
// exit is a Result, not an error.
func (s *Stack) Run(ctx context.Context, ns string, env []string, argv ...string) (Result, error) {
	return RunCmd(s.Command(ctx, ns, env, argv...))
}

// waitUnmounted waits until no process has a mount of the stack, the
// test's own included: a tool's detached child (the agent's background
// sender) keeps its namespace, and the mounts, until it exits.
func (s *Stack) waitUnmounted(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		held := s.holders()
		if len(held) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stack %s: mounts %s still held after %v by %s", s.Name, s.tag, timeout, strings.Join(held, ", "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killHolders kills the processes that hold a mount of the stack: each
// is in the stack's own mount namespace, so a tool's, started by the
// test. The test's own process is never one of them: it never enters
// that namespace.
func (s *Stack) killHolders() {
	for _, p := range s.holders() {
		if pid, err := strconv.Atoi(p); err == nil && pid != os.Getpid() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// holders lists the processes ("self" for the caller) whose mount table
// has a mount of the stack.
func (s *Stack) holders() []string {
	var out []string
	files, _ := filepath.Glob("/proc/[0-9]*/mountinfo")
	for _, f := range append([]string{"/proc/self/mountinfo"}, files...) {
		if mounted(f, s.tag) {
			out = append(out, strings.Split(f, "/")[2])
		}
	}
	return out
}

// mounted tells whether the mountinfo file lists a mount whose source is
// tag.
func mounted(mountinfo, tag string) bool {
	f, err := os.Open(mountinfo)
	if err != nil {
		return false // the process has exited
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// The source is the second field after the separator "-".
		_, after, ok := strings.Cut(sc.Text(), " - ")
		if fields := strings.Fields(after); ok && len(fields) > 1 && fields[1] == tag {
			return true
		}
	}
	return false
}
