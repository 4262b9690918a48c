// Command supportmatrix prints docs/admin/support.md, the support matrix:
// the versions of the cluster stacks that CI tests floatip on, as found
// on this machine, and which suites CI runs on each. make support-matrix
// writes the page, and a test fails when the committed page differs from
// what this prints, so the page says what CI ran, not what someone
// remembered:
//
//	go run ./tools/supportmatrix -ci .ci/run -root debian13=/var/cache/floatip/debian13
//
// The versions come from each stack's dpkg database, read-only: this
// machine's for debian12, and for a rooted stack the root's (dpkg-query
// --admindir). The suites come from the make commands of the CI script.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// packages are the columns of the table: the cluster stack's packages
// that floatip meets, in the order an admin reads them.
var packages = []struct{ name, column string }{
	{"pacemaker", "Pacemaker"},
	{"corosync", "Corosync"},
	{"pcs", "pcs"},
	{"crmsh", "crmsh"},
	{"resource-agents", "resource-agents"},
}

// stack is one cluster stack of the matrix.
type stack struct {
	name  string // as make's STACK names it
	root  string // empty for this machine's own
	title string // "Debian 12"
	vers  map[string]string
	runs  []string // what CI runs on it, in the CI script's order
}

func main() {
	ci := flag.String("ci", ".ci/run", "the CI script whose make commands say what runs on each stack")
	var roots rootFlag
	flag.Var(&roots, "root", "name=dir: a stack whose packages are in the root dir (repeatable); debian12 is this machine")
	flag.Parse()
	if err := run(os.Stdout, *ci, roots); err != nil {
		fmt.Fprintln(os.Stderr, "supportmatrix:", err)
		os.Exit(1)
	}
}

// rootFlag is -root name=dir, repeated.
type rootFlag [][2]string

func (r *rootFlag) String() string { return fmt.Sprint(*r) }

func (r *rootFlag) Set(v string) error {
	name, dir, ok := strings.Cut(v, "=")
	if !ok || name == "" || dir == "" {
		return fmt.Errorf("want name=dir, got %q", v)
	}
	*r = append(*r, [2]string{name, dir})
	return nil
}

func run(w io.Writer, ci string, roots rootFlag) error {
	stacks := []*stack{{name: "debian12"}}
	for _, r := range roots {
		stacks = append(stacks, &stack{name: r[0], root: r[1]})
	}
	for _, s := range stacks {
		if err := s.read(); err != nil {
			return err
		}
	}
	if err := readCI(ci, stacks); err != nil {
		return err
	}
	return write(w, stacks)
}

// read fills in the stack's release and package versions from its root.
func (s *stack) read() error {
	root := s.root
	if root == "" {
		root = "/"
	}
	osr, err := os.ReadFile(filepath.Join(root, "etc/os-release"))
	if err != nil {
		return fmt.Errorf("read release of %s: %w", s.name, err)
	}
	fields := map[string]string{}
	for _, l := range strings.Split(string(osr), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			fields[k] = strings.Trim(v, `"`)
		}
	}
	s.title = fields["NAME"]
	if i := strings.Index(s.title, " GNU/Linux"); i > 0 {
		s.title = s.title[:i]
	}
	if s.title == "" || fields["VERSION_ID"] == "" {
		return fmt.Errorf("%s/etc/os-release of %s names no release", s.root, s.name)
	}
	s.title += " " + fields["VERSION_ID"]
	args := []string{"-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n"}
	if s.root != "" {
		args = append([]string{"--admindir", filepath.Join(s.root, "var/lib/dpkg")}, args...)
	}
	for _, p := range packages {
		args = append(args, p.name)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("dpkg-query", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("dpkg-query of %s: %w: %s", s.name, err, strings.TrimSpace(stderr.String()))
	}
	s.vers = map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) == 3 && strings.HasPrefix(f[2], "ii") {
			s.vers[f[0]] = f[1]
		}
	}
	for _, p := range packages {
		if s.vers[p.name] == "" {
			return fmt.Errorf("stack %s: %s is not installed", s.name, p.name)
		}
	}
	return nil
}

// suites says, in an admin's words, what each make target of the CI
// script runs.
var suites = map[string]string{
	"test":              "unit and namespace tests, parity with heartbeat:IPaddr2 4.12 and 4.18",
	"cluster-test":      "live cluster test (moves, fencing, quorum, split ring, IPv4 and IPv6, a TCP service, a load-shared clone on three nodes)",
	"cluster-bench-ci":  "cluster bench, 10 VIPs",
	"failover-bench-ci": "failover bench against keepalived, one run of each fault",
	"cluster-chaos":     "chaos run",
}

// toolTests is what make test runs on every stack it drives the tools of.
const toolTests = "crm_resource, pcs, crmsh and ocf-tester driving the agent"

// readCI reads the make commands of the CI script and gives each stack
// what runs on it: a command runs on STACK (debian12 by default); make
// test runs the tool tests on debian12 and on the stacks that
// FLOATIP_REQUIRE_STACKS names.
func readCI(path string, stacks []*stack) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	byName := map[string]*stack{}
	for _, s := range stacks {
		byName[s.name] = s
	}
	var required []string
	// errexit and exited: whether a failing command fails the script by
	// now (set -e), and whether the script has exited before this line.
	var errexit, exited bool
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 2 && fields[0] == "export" {
			if v, ok := strings.CutPrefix(fields[1], "FLOATIP_REQUIRE_STACKS="); ok {
				required = strings.Split(v, ",")
			}
			continue
		}
		if len(fields) > 1 && fields[0] == "set" {
			errexit = setsErrexit(errexit, fields[1:])
		}
		if len(fields) > 0 && fields[0] == "exit" && line == strings.TrimLeft(line, " \t") {
			exited = true
		}
		if len(fields) < 2 || fields[0] != "make" {
			continue
		}
		// The matrix says what CI ran and passed: a make command counts
		// only when its failure fails CI, and only when it surely runs.
		switch {
		case exited:
			return fmt.Errorf("%s:%d: make %s comes after the script's exit", path, n, fields[1])
		case !errexit:
			return fmt.Errorf("%s:%d: make %s runs before set -e: its failure would not fail CI", path, n, fields[1])
		case line != strings.TrimLeft(line, " \t"):
			return fmt.Errorf("%s:%d: make %s is indented, in a block that may not run it", path, n, fields[1])
		}
		target, vars := fields[1], map[string]string{}
		if strings.ContainsAny(line, ";&|<>()`#") {
			return fmt.Errorf("%s:%d: make %s is not a command alone (%q): only VAR=value arguments, so that its result is CI's", path, n, target, line)
		}
		for _, a := range fields[2:] {
			k, v, ok := strings.Cut(a, "=")
			if !ok || k == "" {
				return fmt.Errorf("%s:%d: make %s is followed by %q: only VAR=value arguments, so that its result is CI's", path, n, target, a)
			}
			vars[k] = v
		}
		what, ok := suites[target]
		if !ok {
			continue // stack-debian13 and the like: no suite
		}
		if d := vars["CHAOS_DURATION"]; d != "" {
			what += ", " + d
		}
		name := vars["STACK"]
		if name == "" {
			name = "debian12"
		}
		s := byName[name]
		if s == nil {
			return fmt.Errorf("%s: make %s runs on stack %s, which has no -root", path, target, name)
		}
		s.runs = append(s.runs, what)
		if target == "test" {
			s.runs = append(s.runs, toolTests)
			for _, r := range required {
				if o := byName[r]; o != nil && o != s {
					o.runs = append(o.runs, toolTests)
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for _, s := range stacks {
		if len(s.runs) == 0 {
			return fmt.Errorf("%s runs nothing on stack %s", path, s.name)
		}
	}
	return nil
}

// setsErrexit says whether errexit is on after set with args, from on
// before it: -e, or a cluster of short options with e in it (-euo
// pipefail), turns it on, and +e off.
func setsErrexit(on bool, args []string) bool {
	for _, a := range args {
		if len(a) > 1 && (a[0] == '-' || a[0] == '+') && a[1] != a[0] && strings.Contains(a[1:], "e") {
			on = a[0] == '-'
		}
	}
	return on
}

// upstream is a Debian version without its epoch and revision: 4.12.0
// of 1:4.12.0-2.
func upstream(v string) string {
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	if i := strings.LastIndex(v, "-"); i > 0 {
		v = v[:i]
	}
	return v
}

// table prints the table the README shows as well: one row a stack.
func table(w io.Writer, stacks []*stack) {
	head := []string{"stack"}
	for _, p := range packages {
		head = append(head, p.column)
	}
	head = append(head, "what CI runs on it")
	fmt.Fprintf(w, "| %s |\n", strings.Join(head, " | "))
	fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(head)))
	for _, s := range stacks {
		row := []string{s.title}
		for _, p := range packages {
			row = append(row, upstream(s.vers[p.name]))
		}
		row = append(row, strings.Join(s.runs, "; "))
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
}

func write(w io.Writer, stacks []*stack) error {
	var b bytes.Buffer
	b.WriteString(`# Support matrix

floatip needs only a Linux kernel. What is tested is the cluster
around it: on every change, CI (` + "`.ci/run`" + `) runs the suites below
on two cluster stacks, the test machine's own and a Debian 13 root in
which every node of the live labs runs its corosync, Pacemaker, pcs, crm
tools and agents. heartbeat:IPaddr2 of the test machine's
resource-agents runs beside floatip in the parity tests; the newest
upstream release's answers, measured by running it in the same labs, are
held as facts ([how parity is tested](../compatibility.md#how-parity-is-tested)).

`)
	table(&b, stacks)
	b.WriteString(`
The versions are upstream's, as each stack's packages carry them: a
stable update of the distribution changes its packages' revisions, not
these. This page is generated: ` + "`make support-matrix`" + ` reads the versions
from the stacks' dpkg databases and the suites from the CI script, and
` + "`TestSupportMatrix`" + ` fails when the page, or the README's table,
differs from what it finds. Other distributions are not tested: floatip
uses none of their packages, so what matters there is their Pacemaker
release. What changes between Pacemaker 2 and 3 for an admin is in
[create the VIP](resources.md#pacemaker-2-and-3); how the stacks are
built and run, in the [live cluster test](../dev/cluster-test.md).
`)
	_, err := w.Write(b.Bytes())
	return err
}
