package packaging

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/floatip/floatip/tests/internal/labtest"
)

// git runs git in dir as a throwaway identity, with no configuration of
// this machine's user, and returns its standard output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(labtest.NeedTool(t, "git"), append([]string{"-C", dir,
		"-c", "user.name=floatip test", "-c", "user.email=test@example.com",
		"-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Env = append(makeEnv(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}

// copyFiles copies the files named (relative to src) into dst, keeping
// modes and symlinks.
func copyFiles(t *testing.T, src, dst string, names []string) {
	t.Helper()
	for _, n := range names {
		from, to := filepath.Join(src, n), filepath.Join(dst, n)
		fi, err := os.Lstat(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, to); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// versionTree makes a directory with what make version needs (the
// Makefile, packaging/version.sh) and a CHANGELOG.md whose newest release
// is 1.2.3.
func versionTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyFiles(t, "../..", dir, []string{"Makefile", "packaging/version.sh"})
	writeFile(t, filepath.Join(dir, "CHANGELOG.md"), "# Changelog\n\n## [Unreleased]\n\n## [1.2.3] - 2026-12-01\n\n- One.\n")
	return dir
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// commit commits every file of the repository at dir, with a file that
// makes each commit differ.
func commit(t *testing.T, dir, msg string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "commits"), msg+"\n")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", msg)
}

// TestVersionSources: VERSION comes from git describe, from CHANGELOG.md
// in a clone without tags, from the VERSION file without git, and from the
// command line; each case in a tree of its own.
func TestVersionSources(t *testing.T) {
	t.Run("no tag: the newest release and commits since it", func(t *testing.T) {
		dir := versionTree(t)
		git(t, dir, "init", "-q")
		commit(t, dir, "release 1.2.3")
		commit(t, dir, "two")
		commit(t, dir, "three")
		untagged := makeVersion(t, dir)
		if want := "1.2.3-2-g" + git(t, dir, "rev-parse", "--short", "HEAD"); untagged != want {
			t.Errorf("without tags: %q, want %q", untagged, want)
		}
		// The tag on the release commit gives the same version: a clone
		// with tags and one without agree.
		git(t, dir, "tag", "-a", "v1.2.3", "-m", "floatip 1.2.3", "HEAD~2")
		if tagged := makeVersion(t, dir); tagged != untagged {
			t.Errorf("with the tag v1.2.3: %q, without: %q", tagged, untagged)
		}
		git(t, dir, "tag", "-a", "v1.3.0-rc.1", "-m", "floatip 1.3.0-rc.1")
		if got := makeVersion(t, dir); got != "1.3.0-rc.1" {
			t.Errorf("on the tag v1.3.0-rc.1: %q", got)
		}
		// Tags that are no versions are not taken.
		commit(t, dir, "four")
		git(t, dir, "tag", "-a", "test-marker", "-m", "not a version")
		if got, want := makeVersion(t, dir), "1.3.0-rc.1-1-g"+git(t, dir, "rev-parse", "--short", "HEAD"); got != want {
			t.Errorf("after a tag test-marker: %q, want %q", got, want)
		}
	})
	t.Run("no tag, release not committed: every commit counts", func(t *testing.T) {
		dir := versionTree(t)
		changelog, err := os.ReadFile(filepath.Join(dir, "CHANGELOG.md"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "CHANGELOG.md"), "# Changelog\n")
		git(t, dir, "init", "-q")
		commit(t, dir, "one")
		commit(t, dir, "two")
		writeFile(t, filepath.Join(dir, "CHANGELOG.md"), string(changelog))
		if got, want := makeVersion(t, dir), "1.2.3-2-g"+git(t, dir, "rev-parse", "--short", "HEAD"); got != want {
			t.Errorf("%q, want %q", got, want)
		}
	})
	t.Run("VERSION file without git", func(t *testing.T) {
		dir := versionTree(t)
		writeFile(t, filepath.Join(dir, "VERSION"), "2.0.0-4-gabcdef1\n")
		if got := makeVersion(t, dir); got != "2.0.0-4-gabcdef1" {
			t.Errorf("%q, want the VERSION file's 2.0.0-4-gabcdef1", got)
		}
	})
	t.Run("a tarball unpacked in another repository", func(t *testing.T) {
		outer := t.TempDir()
		git(t, outer, "init", "-q")
		commit(t, outer, "outer")
		git(t, outer, "tag", "-a", "v7.7.7", "-m", "another project")
		dir := filepath.Join(outer, "floatip-2.0.0")
		copyFiles(t, "../..", dir, []string{"Makefile", "packaging/version.sh", "CHANGELOG.md"})
		writeFile(t, filepath.Join(dir, "VERSION"), "2.0.0\n")
		if got := makeVersion(t, dir); got != "2.0.0" {
			t.Errorf("%q, want the VERSION file's 2.0.0, not the outer repository's", got)
		}
	})
	t.Run("neither git nor VERSION", func(t *testing.T) {
		if got := makeVersion(t, versionTree(t)); got != "1.2.3+unknown" {
			t.Errorf("%q, want 1.2.3+unknown", got)
		}
	})
	t.Run("command line over environment", func(t *testing.T) {
		dir := versionTree(t)
		writeFile(t, filepath.Join(dir, "VERSION"), "2.0.0\n")
		if got := strings.TrimSpace(makeOut(t, dir, "version", "VERSION=3.1.4")); got != "3.1.4" {
			t.Errorf("make VERSION=3.1.4 version: %q", got)
		}
		t.Setenv("VERSION", "bogus")
		if got := makeVersion(t, dir); got != "2.0.0" {
			t.Errorf("with VERSION=bogus in the environment: %q, want 2.0.0", got)
		}
	})
}

// TestVersionOrder: the package versions that version.sh makes sort, for
// dpkg and for rpm, in the order of the builds: pre-releases before their
// release, builds after a tag after it and before the next release, a
// build with more commits after one with fewer.
func TestVersionOrder(t *testing.T) {
	dpkg := labtest.NeedTool(t, "dpkg")
	rpm := labtest.NeedTool(t, "rpm")
	ordered := []string{
		"0.9.0-alpha",
		"0.9.0-alpha.1",
		"0.9.0-beta",
		"0.9.0-rc.1",
		"0.9.0-rc.1-1-gaaaaaaa",
		"0.9.0-rc.1-12-gbbbbbbb",
		"0.9.0-rc.2",
		"0.9.0-rc.10",
		"0.9.0",
		"0.9.0-1-gccccccc",
		"0.9.0-2-gddddddd",
		"0.9.0-10-geeeeeee",
		"0.9.1-rc.1",
		"0.9.1",
		"0.10.0",
		"1.0.0",
	}
	var vs []string
	for _, v := range ordered {
		d := debVersion(t, v)
		if strings.Contains(d, "-") {
			t.Errorf("version.sh deb %s = %s: a dash (a Debian revision; forbidden in rpm's Version)", v, d)
		}
		vs = append(vs, d)
	}
	for i := 1; i < len(vs); i++ {
		a, b := vs[i-1], vs[i]
		if err := exec.Command(dpkg, "--compare-versions", a, "lt", b).Run(); err != nil {
			t.Errorf("dpkg: %s (from %s) does not sort before %s (from %s)", a, ordered[i-1], b, ordered[i])
		}
		// rpm's own comparison, of Version-Release as the packages have
		// them.
		out, err := exec.Command(rpm, "--eval", `%{lua: print(rpm.vercmp("`+a+`-1", "`+b+`-1"))}`).Output()
		if err != nil {
			t.Fatalf("rpm --eval: %v", err)
		}
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err != nil || n >= 0 {
			t.Errorf("rpm: %s-1 (from %s) does not sort before %s-1 (from %s): vercmp %q", a, ordered[i-1], b, ordered[i], out)
		}
	}
	for _, bad := range []string{"dev", "1.0", "v1", "1.0.0-rc/1", ""} {
		if err := exec.Command("../../packaging/version.sh", "deb", bad).Run(); err == nil {
			t.Errorf("version.sh deb %q succeeded", bad)
		}
	}
}

// workTree copies this work tree (the files git tracks or would track) into
// a new git repository, all committed, and returns its directory.
func workTree(t *testing.T) string {
	t.Helper()
	var names []string
	for _, n := range strings.Split(git(t, "../..", "ls-files", "-z", "--cached", "--others", "--exclude-standard"), "\x00") {
		if _, err := os.Lstat(filepath.Join("../..", n)); n != "" && err == nil {
			names = append(names, n)
		}
	}
	dir := t.TempDir()
	copyFiles(t, "../..", dir, names)
	git(t, dir, "init", "-q")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "the work tree")
	return dir
}

// tarFiles reads a .tar.gz into its regular files' contents by name.
func tarFiles(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = string(b)
		}
	}
}

// TestReleaseTarball: make tarball is git archive of HEAD with a VERSION
// file; a tree with changes is refused, unless RELEASE_DIRTY_OK=1, and then
// the tarball holds the changes.
func TestReleaseTarball(t *testing.T) {
	dir := versionTree(t)
	writeFile(t, filepath.Join(dir, ".gitignore"), "bin/\n")
	writeFile(t, filepath.Join(dir, "src/a.go"), "package a\n")
	git(t, dir, "init", "-q")
	commit(t, dir, "release 1.2.3")
	git(t, dir, "tag", "-a", "v1.2.3", "-m", "floatip 1.2.3")
	out := t.TempDir()

	makeOut(t, dir, "tarball", "RELEASE_DIR="+out)
	files := tarFiles(t, filepath.Join(out, "floatip-1.2.3.tar.gz"))
	var want []string
	for _, n := range strings.Split(git(t, dir, "ls-files"), "\n") {
		want = append(want, "floatip-1.2.3/"+n)
	}
	want = append(want, "floatip-1.2.3/VERSION")
	slices.Sort(want)
	var got []string
	for n := range files {
		got = append(got, n)
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tarball files (-want +got):\n%s", diff)
	}
	if v := files["floatip-1.2.3/VERSION"]; v != "1.2.3\n" {
		t.Errorf("VERSION holds %q", v)
	}

	writeFile(t, filepath.Join(dir, "src/a.go"), "package a // changed\n")
	writeFile(t, filepath.Join(dir, "src/new.go"), "package a\n")
	writeFile(t, filepath.Join(dir, "bin/ignored"), "x\n")
	cmd := exec.Command("make", "-s", "-C", dir, "tarball", "RELEASE_DIR="+out)
	cmd.Env = makeEnv()
	if o, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("make tarball in a tree with changes succeeded:\n%s", o)
	}
	makeOut(t, dir, "tarball", "RELEASE_DIR="+out, "RELEASE_DIRTY_OK=1")
	files = tarFiles(t, filepath.Join(out, "floatip-1.2.3.tar.gz"))
	if got := files["floatip-1.2.3/src/a.go"]; got != "package a // changed\n" {
		t.Errorf("the tarball's src/a.go is %q, not the changed file", got)
	}
	if _, ok := files["floatip-1.2.3/src/new.go"]; !ok {
		t.Error("the tarball lacks the new file src/new.go")
	}
	if _, ok := files["floatip-1.2.3/bin/ignored"]; ok {
		t.Error("the tarball holds bin/ignored, which .gitignore ignores")
	}
	if v := files["floatip-1.2.3/VERSION"]; v != "1.2.3\n" {
		t.Errorf("VERSION holds %q", v)
	}
}

// TestRelease: make release, in a copy of this work tree tagged v0.9.0
// (the newest release of CHANGELOG.md), makes for amd64 and arm64 static
// binaries, .deb and .rpm packages that lintian and rpmlint pass, and the
// source tarball, all of version 0.9.0 and all in SHA256SUMS; the tarball
// builds without git into a binary of that version.
func TestRelease(t *testing.T) {
	labtest.NeedTool(t, "dpkg-deb")
	labtest.NeedTool(t, "rpm")
	dir := workTree(t)
	const version = "0.9.0"
	git(t, dir, "tag", "-a", "v"+version, "-m", "floatip "+version)
	out := t.TempDir()
	makeOut(t, dir, "release", "RELEASE_DIR="+out)

	arches := map[string]struct {
		rpm     string
		machine elf.Machine
	}{
		"amd64": {"x86_64", elf.EM_X86_64},
		"arm64": {"aarch64", elf.EM_AARCH64},
	}
	want := []string{"SHA256SUMS", "floatip-" + version + ".tar.gz"}
	for arch, a := range arches {
		want = append(want, "floatip-"+version+"-linux-"+arch, "floatip_"+version+"_"+arch+".deb", "floatip-"+version+"-1."+a.rpm+".rpm")
	}
	slices.Sort(want)
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("make release made (-want +got):\n%s", diff)
	}

	t.Run("SHA256SUMS", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		sums := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			sum, name, ok := strings.Cut(l, "  ")
			if !ok {
				t.Fatalf("SHA256SUMS line %q", l)
			}
			sums[name] = sum
		}
		for _, n := range want {
			if n == "SHA256SUMS" {
				continue
			}
			f, err := os.ReadFile(filepath.Join(out, n))
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.Sum256(f)
			if sums[n] != hex.EncodeToString(h[:]) {
				t.Errorf("SHA256SUMS: %s is %q, the file's is %x", n, sums[n], h)
			}
		}
		if len(sums) != len(want)-1 {
			t.Errorf("SHA256SUMS lists %d files, want %d", len(sums), len(want)-1)
		}
	})

	for arch, a := range arches {
		bin := filepath.Join(out, "floatip-"+version+"-linux-"+arch)
		deb := filepath.Join(out, "floatip_"+version+"_"+arch+".deb")
		rpm := filepath.Join(out, "floatip-"+version+"-1."+a.rpm+".rpm")
		t.Run(arch, func(t *testing.T) {
			checkStatic(t, bin)
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			if f.Machine != a.machine {
				t.Errorf("%s is for %v", bin, f.Machine)
			}
			f.Close()
			if got := strings.TrimSpace(output(t, "dpkg-deb", "-f", deb, "Architecture")); got != arch {
				t.Errorf("%s: Architecture %q", deb, got)
			}
			if got := output(t, "rpm", "-qp", "--qf", "%{ARCH}", rpm); got != a.rpm {
				t.Errorf("%s: arch %q", rpm, got)
			}
			// The packages hold the very binary that the release has.
			root := t.TempDir()
			output(t, "dpkg-deb", "-x", deb, root)
			inDeb, err := os.ReadFile(filepath.Join(root, debBinary))
			if err != nil {
				t.Fatal(err)
			}
			released, err := os.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(inDeb, released) {
				t.Errorf("the .deb's %s is not %s", debBinary, filepath.Base(bin))
			}
			changelog := checkGzip9n(t, filepath.Join(root, "usr/share/doc/floatip/changelog.gz"))
			if first, _, _ := strings.Cut(changelog, "\n"); first != "floatip ("+version+") unstable; urgency=medium" {
				t.Errorf("a release's changelog starts %q", first)
			}
			checkLintian(t, deb)
			checkRpmlint(t, rpm)
			if arch == "amd64" {
				checkVersions(t, version, bin, deb, rpm)
			}
		})
	}

	t.Run("tarball builds without git", func(t *testing.T) {
		src := t.TempDir()
		cmd := exec.Command("tar", "-xzf", filepath.Join(out, "floatip-"+version+".tar.gz"), "-C", src)
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tar -x: %v\n%s", err, o)
		}
		top := filepath.Join(src, "floatip-"+version)
		if _, err := os.Stat(filepath.Join(top, ".git")); err == nil {
			t.Error("the tarball holds .git")
		}
		if got := makeVersion(t, top); got != version {
			t.Errorf("make version in the tarball: %q, want %s", got, version)
		}
		bin := filepath.Join(t.TempDir(), "floatip")
		makeOut(t, top, "build", "BIN="+bin)
		if got := strings.TrimSpace(output(t, bin, "version")); got != "floatip "+version {
			t.Errorf("built from the tarball: %q, want floatip %s", got, version)
		}
	})
}
