//go:build linux

package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/floatip/floatip/tests/lab"
)

// Stack is the cluster software the nodes run: the machine's own
// (debian12), or the one in a root of its own (debian13, which make
// stack-debian13 builds), so that floatip is proven under Pacemaker 3 on a
// machine that has Pacemaker 2. A node on a rooted stack runs with that
// root as its / (init.go, enterRoot): its corosync, Pacemaker, pcs, crm
// tools and agents, and every command the test runs on it, come from the
// root.
type Stack struct {
	Name string
	// Root is the stack's root directory; empty for the machine's own.
	Root string
}

// stacks are the stacks that -stack names.
var stacks = map[string]string{
	"debian12": "",
	"debian13": "/var/cache/floatip/debian13",
}

// stack is the nodes' stack, which -stack sets before anything runs.
var stack = Stack{Name: "debian12"}

// stackFlags defines -stack and -stack-root on fs, for each of the
// programs (test, bench, chaos); the function it returns sets stack from
// them once fs is parsed.
func stackFlags(fs *flag.FlagSet) func() error {
	name := fs.String("stack", "debian12", "the nodes' cluster stack: debian12 (this machine's own) or debian13 (Pacemaker 3, from the root that make stack-debian13 builds)")
	root := fs.String("stack-root", "", "the root of a -stack other than debian12 (default: where make stack-<name> builds it)")
	return func() error {
		st, err := stackByName(*name, *root)
		if err != nil {
			return err
		}
		stack = st
		return nil
	}
}

// stackByName returns the stack that -stack names, with its root at root
// when root is not empty, and checks that a rooted stack's root is
// complete (its stamp is written last).
func stackByName(name, root string) (Stack, error) {
	def, ok := stacks[name]
	if !ok {
		return Stack{}, fmt.Errorf("-stack: no stack %q (have debian12, debian13)", name)
	}
	s := Stack{Name: name, Root: def}
	if def == "" {
		return s, nil
	}
	if root != "" {
		s.Root = root
	}
	if _, err := os.Stat(filepath.Join(s.Root, ".floatip-stack")); err != nil {
		return Stack{}, fmt.Errorf("-stack %s: the root %s is not complete (make stack-%s): %w", name, s.Root, name, err)
	}
	return s, nil
}

// Command is argv as it runs in the stack on the host, outside any node:
// chrooted into a rooted stack, as is on the machine's own.
func (s Stack) Command(argv ...string) []string {
	if s.Root == "" {
		return argv
	}
	return append([]string{"chroot", s.Root}, argv...)
}

// Path is the host's path of path in the stack.
func (s Stack) Path(path string) string {
	return filepath.Join("/", s.Root, path)
}

// PrintVersions prints what the nodes run, before the results that it
// explains.
func (s Stack) PrintVersions(w io.Writer) {
	where := "this machine's own"
	if s.Root != "" {
		where = "the root " + s.Root
	}
	fmt.Fprintf(w, "Stack %s, from %s: %s, %s, pcs %s, crmsh %s, resource-agents %s, fence-agents %s.\n", s.Name, where,
		version("pacemakerd", "--version"), version("corosync", "-v"), version("pcs", "--version"),
		packageVersion("crmsh"), packageVersion("resource-agents"), fenceAgentsVersion())
}

// fenceAgentsVersion is the version of the fence agents: Debian 12 ships
// them as one package, fence-agents; Debian 13 splits them, and the root
// has fence-agents-common and the dummy agent only (debian13.sh).
func fenceAgentsVersion() string {
	for _, pkg := range []string{"fence-agents-common", "fence-agents"} {
		if v := packageVersion(pkg); v != "unknown version" {
			return v
		}
	}
	return "unknown version"
}

// IDs returns the uid of user u and the gid of group g in the stack, as
// its packages made them: a root's may differ from the machine's.
func (s Stack) IDs(u, g string) ([2]int, error) {
	uid, err := lookupID(s.Path("/etc/passwd"), u)
	if err != nil {
		return [2]int{}, fmt.Errorf("user %s (is pacemaker installed?): %w", u, err)
	}
	gid, err := lookupID(s.Path("/etc/group"), g)
	if err != nil {
		return [2]int{}, fmt.Errorf("group %s: %w", g, err)
	}
	return [2]int{uid, gid}, nil
}

// lookupID returns the third field, the numeric id, of name's line in a
// passwd or group file.
func lookupID(file, name string) (int, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) > 2 && fields[0] == name {
			return strconv.Atoi(fields[2])
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s: no %s", file, name)
}

// run runs argv in the stack on the host (Command).
func (s Stack) run(env []string, argv ...string) (lab.Result, error) {
	return lab.RunHere(context.Background(), env, s.Command(argv...)...)
}

// checkStack checks that what runs on the nodes is the stack's: each
// node's pacemakerd and corosync, as nsenter finds them there, must say the
// versions that the stack's own do. On a rooted stack, a node that ran the
// machine's would pass the scenarios on the wrong Pacemaker.
func checkStack(ctx context.Context, w io.Writer, nodes []*Node) error {
	var got []string
	for _, argv := range [][]string{{"pacemakerd", "--version"}, {"corosync", "-v"}} {
		want := version(argv...)
		for _, n := range nodes {
			r, err := n.MustExec(ctx, argv...)
			if err != nil {
				return err
			}
			if v := versionLine(r.Stdout); v != want {
				return fmt.Errorf("%s on %s says %q, the stack %s's %q", strings.Join(argv, " "), n.Name, v, stack.Name, want)
			}
		}
		got = append(got, want)
	}
	fmt.Fprintf(w, "  every node runs the stack's %s: %s (%s and %s on each)\n", stack.Name, strings.Join(got, " and "), "pacemakerd --version", "corosync -v")
	return nil
}
