//go:build linux

package labtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/lab"
)

// The tests that drive the admins' tools (crm_resource, pcs, crmsh,
// ocf-tester) run them from each cluster stack, as subtests named by the
// stack: debian12, the machine's own (Pacemaker 2.1.5, pcs 0.11, crmsh
// 4.4, resource-agents 4.12), and debian13 (Pacemaker 3.0.0, pcs 0.12,
// crmsh 5, resource-agents 4.16), from the root that make stack-debian13
// builds. Without that root, debian13 skips, unless
// FLOATIP_REQUIRE_STACKS names it (make tool-test, CI).

// Debian13Root is where make stack-debian13 builds the Debian 13 root;
// FLOATIP_STACK_DEBIAN13 names another.
func Debian13Root() string {
	if r := os.Getenv("FLOATIP_STACK_DEBIAN13"); r != "" {
		return r
	}
	return "/var/cache/floatip/debian13"
}

// StackStamp is the file that make stack-debian13 writes last, once the
// root is complete.
const StackStamp = ".floatip-stack"

// RequiredStack tells whether FLOATIP_REQUIRE_STACKS (a comma-separated
// list) names the stack, which then must not skip.
func RequiredStack(name string) bool {
	return slices.Contains(strings.Split(os.Getenv("FLOATIP_REQUIRE_STACKS"), ","), name)
}

// EachStack runs f as a subtest per stack.
func EachStack(t *testing.T, f func(t *testing.T, s *lab.Stack)) {
	t.Helper()
	NeedRoot(t)
	t.Run("debian12", func(t *testing.T) {
		f(t, lab.NewStack(t, "debian12", ""))
	})
	t.Run("debian13", func(t *testing.T) {
		root := Debian13Root()
		if _, err := os.Stat(filepath.Join(root, StackStamp)); err != nil {
			if RequiredStack("debian13") {
				t.Fatalf("no Debian 13 stack at %s (%v), and FLOATIP_REQUIRE_STACKS=debian13 forbids skipping: run make stack-debian13", root, err)
			}
			t.Skipf("no Debian 13 stack at %s: make stack-debian13 builds it", root)
		}
		f(t, lab.NewStack(t, "debian13", root))
	})
}

// StackTool returns the path of a tool of the stack, and fails the test
// without it.
func StackTool(t *testing.T, s *lab.Stack, name string) string {
	t.Helper()
	p, err := s.LookPath(name)
	if err != nil {
		if s.Root == "" {
			t.Fatalf("%s is not installed: run make deps", name)
		}
		t.Fatalf("%v: run make stack-debian13", err)
	}
	return p
}

// StackProvider makes the binary an agent of the stack and returns its
// provider: on the machine's own, a provider of the test's own
// (InstallProvider); in a root, floatip, bound at the root's
// /usr/lib/ocf/resource.d/floatip/IPaddr2 for the tools run from it.
func StackProvider(t *testing.T, s *lab.Stack) string {
	t.Helper()
	if s.Root == "" {
		return InstallProvider(t)
	}
	s.Bind(Binary, filepath.Join(OCFProviders, "floatip", "IPaddr2"))
	return "floatip"
}

// RunTool runs argv, a tool of stack s (nil for the machine's own), in
// host h, or in the root namespace when h is nil (for commands after which
// the agent touches no network: meta-data and offline CIB edits). A
// non-zero exit is a Result, not a failure.
func RunTool(t *testing.T, s *lab.Stack, h *lab.Host, env []string, argv ...string) lab.Result {
	t.Helper()
	return RunWrapped(t, s, h, env, nil, argv...)
}

// RunWrapped runs argv as RunTool does, under wrap (such as strace), which
// runs on the machine, outside the stack's root and the host.
func RunWrapped(t *testing.T, s *lab.Stack, h *lab.Host, env, wrap []string, argv ...string) lab.Result {
	t.Helper()
	if s == nil {
		s = &lab.Stack{Name: "debian12"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := ""
	if h != nil {
		ns = h.NS
	}
	cmd := s.Command(ctx, ns, env, argv...)
	if len(wrap) > 0 {
		cmd = exec.CommandContext(ctx, wrap[0], append(slices.Clone(wrap[1:]), cmd.Args...)...)
		cmd.Env = env
	}
	res, err := lab.RunCmd(cmd)
	if err != nil {
		t.Fatalf("%s: %s: %v", s.Name, strings.Join(argv, " "), err)
	}
	return res
}
