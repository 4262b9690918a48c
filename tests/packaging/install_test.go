package packaging

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/floatip/floatip/tests/internal/labtest"
)

// makeEnv is the environment for a make run by a test. A test runs under
// make test, whose MAKEFLAGS (a jobserver's file descriptors among them)
// would reach the inner make without the descriptors.
func makeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != "MAKEFLAGS" && name != "MFLAGS" && name != "MAKELEVEL" {
			env = append(env, kv)
		}
	}
	return env
}

// runMake runs make in the repository with the given targets and
// variables, and fails the test if make fails.
func runMake(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(labtest.NeedTool(t, "make"), append([]string{"-C", "../.."}, args...)...)
	cmd.Env = makeEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// checkStatic fails the test unless path is a statically linked ELF
// executable with mode 0755.
func checkStatic(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("%s has mode %v, want 0755", path, fi.Mode().Perm())
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked", path)
		}
	}
}

// TestMakeInstall: make install puts the binary in sbin, the man page and
// the bash completion, and the agent in the floatip provider directory as
// a symlink to it that holds in the installed system (so not into
// DESTDIR); make uninstall removes them all and the provider directory.
func TestMakeInstall(t *testing.T) {
	dest := t.TempDir()
	// BIN out of the work tree, so that the test leaves nothing there.
	bin := filepath.Join(t.TempDir(), "floatip")
	runMake(t, "install", "DESTDIR="+dest, "BIN="+bin)

	sbin := filepath.Join(dest, "usr/sbin/floatip")
	providerDir := filepath.Join(dest, "usr/lib/ocf/resource.d/floatip")
	agent := filepath.Join(providerDir, "IPaddr2")
	checkStatic(t, sbin)
	man := filepath.Join(dest, "usr/share/man/man8/floatip.8")
	if b, err := os.ReadFile(man); err != nil || !strings.HasPrefix(string(b), ".TH FLOATIP 8") {
		t.Errorf("%s: not the man page (%v)", man, err)
	}
	completion := filepath.Join(dest, "usr/share/bash-completion/completions/floatip")
	checkCompletion(t, completion)
	if target, err := os.Readlink(agent); err != nil || target != "/usr/sbin/floatip" {
		t.Errorf("%s: symlink to %q (%v), want /usr/sbin/floatip", agent, target, err)
	}
	out, err := exec.Command(sbin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "floatip ") {
		t.Errorf("installed floatip version: %q, %v", out, err)
	}

	runMake(t, "uninstall", "DESTDIR="+dest)
	for _, p := range []string{sbin, agent, providerDir, man, completion} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("make uninstall left %s (%v)", p, err)
		}
	}
}

// The paths the package installs.
const (
	debBinary = "/usr/sbin/floatip"
	debAgent  = "/usr/lib/ocf/resource.d/floatip/IPaddr2"
)

// TestDebPackage: make deb builds a package with no dependency that holds
// the binary and the agent symlink (TestDebContents checks the rest);
// installed with dpkg -i into this very system, Pacemaker finds
// ocf:floatip:IPaddr2, and dpkg --purge takes all of it away again.
func TestDebPackage(t *testing.T) {
	labtest.NeedRoot(t)
	dpkg := labtest.NeedTool(t, "dpkg")
	crm := labtest.NeedTool(t, "crm_resource")
	// The test installs into the real system, so it must not replace a
	// floatip that is there already and then remove it.
	if debInstalled(t) {
		t.Fatal("the floatip package is installed on this machine: the test would remove it; dpkg --purge floatip first")
	}
	for _, p := range []string{debBinary, debAgent, pkgMan, pkgCompletion} {
		if _, err := os.Lstat(p); err == nil {
			t.Fatalf("%s exists (make install?): the test would overwrite it and remove it; make uninstall first", p)
		}
	}

	out := t.TempDir()
	runMake(t, "deb", "PKG_DIR="+out, "BIN="+filepath.Join(t.TempDir(), "floatip"))
	debs, _ := filepath.Glob(filepath.Join(out, "floatip_*.deb"))
	if len(debs) != 1 {
		t.Fatalf("make deb made %v, want one floatip_*.deb", debs)
	}
	deb := debs[0]

	fields, err := exec.Command("dpkg-deb", "--field", deb, "Package", "Depends", "Pre-Depends", "Recommends").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(fields)); got != "Package: floatip" {
		t.Errorf("control fields %q, want the package floatip with no dependency", got)
	}
	contents, err := exec.Command("dpkg-deb", "--contents", deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"." + debBinary, "." + debAgent + " -> " + pkgAgentLink, "." + pkgMan, "." + pkgCompletion, "./usr/share/doc/floatip/copyright"} {
		if !strings.Contains(string(contents), want) {
			t.Errorf("the package does not hold %s:\n%s", want, contents)
		}
	}

	// Registered before dpkg -i, so that a half-done install goes too.
	t.Cleanup(func() {
		if debInstalled(t) {
			if out, err := exec.Command(dpkg, "--purge", "floatip").CombinedOutput(); err != nil {
				t.Errorf("dpkg --purge floatip: %v\n%s", err, out)
			}
		}
	})
	if out, err := exec.Command(dpkg, "-i", deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	checkStatic(t, debBinary)
	if resolved, err := filepath.EvalSymlinks(debAgent); err != nil || resolved != debBinary {
		t.Errorf("%s resolves to %q (%v), want %s", debAgent, resolved, err, debBinary)
	}
	env := labtest.ToolEnv(t)
	if r := labtest.RunTool(t, nil, nil, env, crm, "--list-agents", "ocf:floatip"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "IPaddr2" {
		t.Errorf("--list-agents ocf:floatip after dpkg -i: exit %d, stdout %q, want IPaddr2\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if r := labtest.RunTool(t, nil, nil, env, crm, "--show-metadata", "ocf:floatip:IPaddr2"); r.Code != 0 || !strings.Contains(r.Stdout, `<resource-agent name="IPaddr2"`) {
		t.Errorf("--show-metadata ocf:floatip:IPaddr2: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	if out, err := exec.Command(dpkg, "--purge", "floatip").CombinedOutput(); err != nil {
		t.Fatalf("dpkg --purge floatip: %v\n%s", err, out)
	}
	for _, p := range []string{debBinary, debAgent, filepath.Dir(debAgent), pkgMan, pkgCompletion, "/usr/share/doc/floatip"} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("dpkg --purge left %s (%v)", p, err)
		}
	}
	if r := labtest.RunTool(t, nil, nil, env, crm, "--list-agents", "ocf:floatip"); r.Code == 0 {
		t.Errorf("--list-agents ocf:floatip after dpkg --purge still succeeds: %q", r.Stdout)
	}
}

// debInstalled tells whether dpkg knows the floatip package in any state
// but not-installed (half-installed and config-files count).
func debInstalled(t *testing.T) bool {
	t.Helper()
	out, err := exec.Command("dpkg-query", "--show", "--showformat=${db:Status-Status}", "floatip").Output()
	if err != nil {
		// dpkg-query exits 1 for a package it has never heard of.
		return false
	}
	s := strings.TrimSpace(string(out))
	return s != "" && s != "not-installed"
}
