package packaging

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/floatip/floatip/tests/internal/labtest"
)

// makeOut runs make -s in dir with args and returns its standard output,
// and fails the test if make fails.
func makeOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(labtest.NeedTool(t, "make"), append([]string{"-s", "-C", dir}, args...)...)
	cmd.Env = makeEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make %s in %s: %v\n%s%s", strings.Join(args, " "), dir, err, out, stderr.Bytes())
	}
	return string(out)
}

// makeVersion is the Makefile's VERSION in the tree at dir.
func makeVersion(t *testing.T, dir string) string {
	t.Helper()
	return strings.TrimSpace(makeOut(t, dir, "version"))
}

// debVersion is version as packaging/version.sh maps it for the packages.
func debVersion(t *testing.T, version string) string {
	t.Helper()
	out, err := exec.Command("../../packaging/version.sh", "deb", version).Output()
	if err != nil {
		t.Fatalf("version.sh deb %s: %v", version, err)
	}
	return strings.TrimSpace(string(out))
}

var describeSuffix = regexp.MustCompile(`\+(\d+)\.g([0-9a-f]+)$`)

// unmapVersion undoes version.sh deb for the versions that tags and git
// describe give, by its documented rules rather than by the script, so
// that a test that compares the two checks the script.
func unmapVersion(deb string) string {
	v := describeSuffix.ReplaceAllString(deb, "-$1-g$2")
	return strings.Replace(v, "~", "-", 1)
}

// buildPackages runs make with targets (deb, rpm) for the tree at dir, into
// a new directory that it returns; the binary is floatip in it.
func buildPackages(t *testing.T, dir string, targets ...string) string {
	t.Helper()
	out := t.TempDir()
	makeOut(t, dir, append(targets, "BIN="+filepath.Join(out, "floatip"), "PKG_DIR="+out)...)
	return out
}

// one is the single file that matches pattern.
func one(t *testing.T, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(pattern)
	if len(m) != 1 {
		t.Fatalf("%s matches %v, want one file", pattern, m)
	}
	return m[0]
}

func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out)
}

// checkVersions fails the test unless the binary, the .deb and the .rpm
// all carry version: the binary as it is, the packages as version.sh deb
// maps it (and that mapping undone gives version back), the RPM with
// Release 1. The meta-data's version attribute is the binary's version
// too, so that Pacemaker shows what runs.
func checkVersions(t *testing.T, version, bin, deb, rpm string) {
	t.Helper()
	if got := strings.TrimSpace(output(t, bin, "version")); got != "floatip "+version {
		t.Errorf("%s version = %q, want %q", bin, got, "floatip "+version)
	}
	want := debVersion(t, version)
	if strings.Contains(want, "-") || unmapVersion(want) != version {
		t.Errorf("version.sh deb %s = %s, which does not map back (%s) or has a dash", version, want, unmapVersion(want))
	}
	if got := strings.TrimSpace(output(t, "dpkg-deb", "-f", deb, "Version")); got != want {
		t.Errorf("dpkg-deb -f %s Version = %q, want %q", filepath.Base(deb), got, want)
	}
	labtest.NeedTool(t, "rpm")
	if got := output(t, "rpm", "-qp", "--qf", "%{VERSION}-%{RELEASE}", rpm); got != want+"-1" {
		t.Errorf("rpm -qp %s = %q, want %q", filepath.Base(rpm), got, want+"-1")
	}
	var md struct {
		XMLName xml.Name `xml:"resource-agent"`
		Version string   `xml:"version,attr"`
	}
	if err := xml.Unmarshal([]byte(output(t, bin, "meta-data")), &md); err != nil {
		t.Fatalf("meta-data: %v", err)
	}
	if md.Version != version {
		t.Errorf(`meta-data <resource-agent version=%q>, want %q`, md.Version, version)
	}
}

// builtVersion returns the version of bin, which make built for this tree,
// and fails the test unless it is the Makefile's VERSION: before, as it was
// before the build, or as it is now (somebody may commit while the
// packages are built).
func builtVersion(t *testing.T, bin, before string) string {
	t.Helper()
	got := strings.TrimSpace(output(t, bin, "version"))
	for _, v := range []string{before, makeVersion(t, "../..")} {
		if got == "floatip "+v {
			return v
		}
	}
	t.Fatalf("%s version = %q, want floatip %s (make version)", bin, got, before)
	return ""
}

// TestVersionAgreement: make deb rpm from this tree gives a binary, a .deb
// and an .rpm whose versions are the Makefile's VERSION.
func TestVersionAgreement(t *testing.T) {
	labtest.NeedTool(t, "dpkg-deb")
	before := makeVersion(t, "../..")
	out := buildPackages(t, "../..", "deb", "rpm")
	bin := filepath.Join(out, "floatip")
	checkVersions(t, builtVersion(t, bin, before), bin, one(t, filepath.Join(out, "floatip_*.deb")), one(t, filepath.Join(out, "floatip-*.rpm")))
}

// The files that both packages install, beside the binary and the agent.
const (
	pkgMan        = "/usr/share/man/man8/floatip.8.gz"
	pkgCompletion = "/usr/share/bash-completion/completions/floatip"
)

// TestDebContents: the .deb holds what Debian asks of a package and lintian
// says nothing against it (packaging/lintian-overrides says why for the
// rest): a DEP-5 copyright naming every Go module of the binary, the man
// page and the changelog compressed with gzip -9n, the bash completion.
func TestDebContents(t *testing.T) {
	labtest.NeedTool(t, "dpkg-deb")
	out := buildPackages(t, "../..", "deb")
	deb := one(t, filepath.Join(out, "floatip_*.deb"))
	root := t.TempDir()
	output(t, "dpkg-deb", "-x", deb, root)

	t.Run("lintian", func(t *testing.T) { checkLintian(t, deb) })
	t.Run("copyright", func(t *testing.T) {
		checkCopyright(t, filepath.Join(root, "usr/share/doc/floatip/copyright"), filepath.Join(root, debBinary))
	})
	t.Run("man page", func(t *testing.T) { checkMan(t, filepath.Join(root, pkgMan)) })
	t.Run("changelog", func(t *testing.T) {
		text := checkGzip9n(t, filepath.Join(root, "usr/share/doc/floatip/changelog.gz"))
		first, _, _ := strings.Cut(text, "\n")
		version := strings.TrimPrefix(strings.TrimSpace(output(t, filepath.Join(out, "floatip"), "version")), "floatip ")
		want := "floatip (" + debVersion(t, version) + ") "
		if !strings.HasPrefix(first, want) {
			t.Errorf("changelog starts %q, want %q...", first, want)
		}
		// A native package has changelog.gz alone.
		if _, err := os.Stat(filepath.Join(root, "usr/share/doc/floatip/changelog.Debian.gz")); err == nil {
			t.Error("the package has a changelog.Debian.gz too")
		}
	})
	t.Run("completion", func(t *testing.T) { checkCompletion(t, filepath.Join(root, pkgCompletion)) })
}

// checkLintian fails the test if lintian finds an error or a warning in deb.
func checkLintian(t *testing.T, deb string) {
	t.Helper()
	lintian := labtest.NeedTool(t, "lintian")
	cmd := exec.Command(lintian, "--info", "--display-experimental", "--pedantic", "--fail-on", "error,warning", deb)
	out, err := cmd.CombinedOutput()
	t.Logf("lintian %s:\n%s", filepath.Base(deb), out)
	if err != nil {
		t.Errorf("lintian %s: %v", filepath.Base(deb), err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "E: ") || strings.HasPrefix(l, "W: ") {
			t.Errorf("lintian: %s", l)
		}
	}
}

// checkCopyright fails the test unless path is a machine-readable
// debian/copyright (DEP-5) whose paragraphs name the Go standard library
// and every module that go version -m lists in bin.
func checkCopyright(t *testing.T, path, bin string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if !strings.HasPrefix(text, "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n") {
		t.Errorf("%s is no DEP-5 copyright file: %.80q", path, text)
	}
	// The Files fields, continuation lines included.
	var files []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	in := false
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "Files:"):
			files, in = append(files, strings.Fields(strings.TrimPrefix(l, "Files:"))...), true
		case in && strings.HasPrefix(l, " "):
			files = append(files, strings.Fields(l)...)
		default:
			in = false
		}
	}
	listed := map[string]bool{}
	for _, f := range files {
		listed[strings.TrimSuffix(f, "/*")] = true
	}
	mods := []string{"std"}
	for _, l := range strings.Split(output(t, "go", "version", "-m", bin), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "dep" {
			mods = append(mods, f[1])
		}
	}
	if len(mods) < 2 {
		t.Fatalf("go version -m %s lists no module", bin)
	}
	for _, m := range mods {
		if !listed[m] {
			t.Errorf("the copyright file has no Files paragraph for %s, which the binary holds", m)
		}
	}
	for _, lic := range []string{"Apache-2.0", "BSD-3-Clause", "Expat"} {
		if !strings.Contains(text, "\nLicense: "+lic+"\n ") {
			t.Errorf("the copyright file has no text of the license %s", lic)
		}
	}
}

// checkGzip9n fails the test unless path is gzip-compressed as gzip -9n
// does (no name, no time, maximum compression: what lintian and
// reproducible builds want), and returns its text.
func checkGzip9n(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// RFC 1952 2.3: FLG at 3 (FNAME is bit 3), MTIME at 4-7, XFL at 8 (2:
	// the slowest, best compression).
	if len(b) < 10 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("%s is not gzip", path)
	}
	if b[3]&0x08 != 0 || !bytes.Equal(b[4:8], []byte{0, 0, 0, 0}) || b[8] != 2 {
		t.Errorf("%s: FLG %#x, MTIME % x, XFL %d: not gzip -9n", path, b[3], b[4:8], b[8])
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

func checkMan(t *testing.T, path string) {
	t.Helper()
	if text := checkGzip9n(t, path); !strings.HasPrefix(text, ".TH FLOATIP 8") {
		t.Errorf("%s is not floatip(8): %.40q", path, text)
	}
}

// checkCompletion fails the test unless path is a bash script that bash
// can parse and that registers a completion for floatip.
func checkCompletion(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\s*complete\s.*\bfloatip\b`).Match(b) {
		t.Errorf("%s does not register a completion for floatip (complete ... floatip):\n%.300s", path, b)
	}
	if out, err := exec.Command(labtest.NeedTool(t, "bash"), "-n", path).CombinedOutput(); err != nil {
		t.Errorf("bash -n %s: %v\n%s", path, err, out)
	}
	// Loaded, it must define the completion without errors.
	script := "source " + path + " && complete -p floatip"
	if out, err := exec.Command("bash", "-c", script).CombinedOutput(); err != nil {
		t.Errorf("bash -c %q: %v\n%s", script, err, out)
	}
}

// The agent's symlink as the packages hold it: relative, as Debian Policy
// 10.5 asks within /usr.
const pkgAgentLink = "../../../../sbin/floatip"

// TestRpmPackage: make rpm builds an RPM that rpmlint passes (see
// packaging/rpmlint.toml), that requires nothing, that holds the paths of
// the .deb, and that installs into a scratch root with rpm --root, where
// the agent resolves to the binary and the binary's version is the
// Makefile's VERSION.
func TestRpmPackage(t *testing.T) {
	rpmTool := labtest.NeedTool(t, "rpm")
	before := makeVersion(t, "../..")
	out := buildPackages(t, "../..", "rpm")
	version := builtVersion(t, filepath.Join(out, "floatip"), before)
	rpm := one(t, filepath.Join(out, "floatip-*.rpm"))

	t.Run("rpmlint", func(t *testing.T) { checkRpmlint(t, rpm) })

	reqs := strings.Fields(output(t, rpmTool, "-qp", "--requires", rpm))
	for _, r := range reqs {
		// rpmlib(...) are features of rpm itself, not packages.
		if !strings.HasPrefix(r, "rpmlib(") && r != "<=" && r != ">=" && r != "=" && !regexp.MustCompile(`^[0-9.-]+$`).MatchString(r) {
			t.Errorf("the RPM requires %q", r)
		}
	}
	list := output(t, rpmTool, "-qlp", rpm)
	for _, p := range []string{debBinary, debAgent, pkgMan, pkgCompletion, "/usr/share/licenses/floatip/LICENSE", "/usr/share/licenses/floatip/copyright"} {
		if !strings.Contains(list, p+"\n") {
			t.Errorf("the RPM does not hold %s:\n%s", p, list)
		}
	}
	if lic := output(t, rpmTool, "-qp", "--qf", "%{LICENSE}", rpm); lic != "Apache-2.0" {
		t.Errorf("License %q, want Apache-2.0", lic)
	}
	if cl := output(t, rpmTool, "-qp", "--changelog", rpm); !strings.Contains(cl, "The first release.") {
		t.Errorf("the RPM's %%changelog lacks the first release:\n%s", cl)
	}

	root := t.TempDir()
	// The database inside the scratch root, wherever this rpm keeps its own
	// (Debian's puts it in ~/.rpmdb).
	db := []string{"--root", root, "--dbpath", "/var/lib/rpm"}
	output(t, rpmTool, append(db, "--initdb")...)
	if o, err := exec.Command(rpmTool, append(db, "-i", "--nodeps", "--noscripts", rpm)...).CombinedOutput(); err != nil {
		t.Fatalf("rpm -i: %v\n%s", err, o)
	}
	agent := filepath.Join(root, debAgent)
	if target, err := os.Readlink(agent); err != nil || target != pkgAgentLink {
		t.Errorf("%s: symlink to %q (%v), want %s", agent, target, err, pkgAgentLink)
	}
	resolved, err := filepath.EvalSymlinks(agent)
	if err != nil || resolved != filepath.Join(root, debBinary) {
		t.Errorf("%s resolves to %q (%v), want %s", agent, resolved, err, filepath.Join(root, debBinary))
	}
	checkStatic(t, filepath.Join(root, debBinary))
	checkMan(t, filepath.Join(root, pkgMan))
	checkCompletion(t, filepath.Join(root, pkgCompletion))
	// The agent, as Pacemaker runs it: through the symlink.
	if got := strings.TrimSpace(output(t, agent, "version")); got != "floatip "+version {
		t.Errorf("installed agent version = %q, want floatip %s (make version)", got, version)
	}
	if q := strings.TrimSpace(output(t, rpmTool, append(db, "-q", "floatip")...)); !strings.HasPrefix(q, "floatip-") {
		t.Errorf("rpm -q floatip in the scratch root: %q", q)
	}
}

// checkRpmlint fails the test unless rpmlint, with packaging/rpmlint.toml,
// finds neither errors nor warnings in rpm.
//
// rpmlint unpacks a package with "rpm2cpio | cpio -id", and nfpm writes
// absolute names into the cpio archive (/usr/sbin/floatip, where rpmbuild
// writes ./usr/sbin/floatip), which GNU cpio run as root extracts into the
// real /. A cpio first in PATH that adds --no-absolute-filenames keeps
// rpmlint in its own directory; the test checks that nothing landed.
func checkRpmlint(t *testing.T, rpm string) {
	t.Helper()
	rpmlint := labtest.NeedTool(t, "rpmlint")
	cpio := labtest.NeedTool(t, "cpio")
	wrap := t.TempDir()
	script := "#!/bin/sh\nexec " + cpio + " --no-absolute-filenames \"$@\"\n"
	if err := os.WriteFile(filepath.Join(wrap, "cpio"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	paths := []string{debBinary, debAgent, pkgMan, pkgCompletion, "/usr/share/licenses/floatip", "/usr/share/doc/floatip/CHANGELOG.md"}
	there := map[string]bool{}
	for _, p := range paths {
		_, err := os.Lstat(p)
		there[p] = err == nil
	}
	cmd := exec.Command(rpmlint, "-c", "../../packaging/rpmlint.toml", rpm)
	cmd.Env = append(os.Environ(), "PATH="+wrap+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	t.Logf("rpmlint %s:\n%s", filepath.Base(rpm), out)
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil && !there[p] {
			t.Errorf("rpmlint put %s into this system", p)
		}
	}
	if err != nil {
		t.Errorf("rpmlint %s: %v", filepath.Base(rpm), err)
	}
	if !regexp.MustCompile(`\b0 errors, 0 warnings\b`).Match(out) {
		t.Errorf("rpmlint found errors or warnings in %s", filepath.Base(rpm))
	}
	if regexp.MustCompile(`(?m): E: no-binary`).Match(out) {
		t.Error("rpmlint did not see the binary: it could not unpack the package")
	}
}
