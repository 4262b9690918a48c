package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUpstream(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"1:4.12.0-2", "4.12.0"},
		{"2.1.5-1+deb12u1", "2.1.5"},
		{"5.0.0~rc1-1", "5.0.0~rc1"},
		{"0.12.0.2-1", "0.12.0.2"},
		{"3.0.0", "3.0.0"},
	} {
		if got := upstream(c.in); got != c.want {
			t.Errorf("upstream(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestReadCI: each make command lands on its STACK, make test's tool
// tests also on the stacks FLOATIP_REQUIRE_STACKS names, and a command
// on a stack without a root is an error.
func TestReadCI(t *testing.T) {
	ci := filepath.Join(t.TempDir(), "run")
	script := `set -euo pipefail
export FLOATIP_REQUIRE_STACKS=debian13
make stack-debian13
make test
make cluster-chaos CHAOS_DURATION=3m
make cluster-test STACK=debian13
`
	if err := os.WriteFile(ci, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	d12, d13 := &stack{name: "debian12"}, &stack{name: "debian13"}
	if err := readCI(ci, []*stack{d12, d13}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"debian12": {suites["test"], toolTests, suites["cluster-chaos"] + ", 3m"},
		"debian13": {toolTests, suites["cluster-test"]},
	}
	got := map[string][]string{"debian12": d12.runs, "debian13": d13.runs}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("suites (-want +got):\n%s", d)
	}
	if err := readCI(ci, []*stack{{name: "debian12"}}); err == nil {
		t.Errorf("a command on a stack without a root: no error")
	}
}

// TestReadCIRefusesWhatMayNotRun: a make command whose failure would not
// fail CI, or that may not run at all, cannot land in the matrix as what
// CI runs.
func TestReadCIRefusesWhatMayNotRun(t *testing.T) {
	for _, c := range []struct{ name, script string }{
		{"no set -e", "make test\n"},
		{"failure ignored", "set -e\nmake test\nmake cluster-chaos CHAOS_DURATION=3m || true\n"},
		{"in the background", "set -e\nmake test &\n"},
		{"in a block", "set -e\nif false; then\n  make cluster-test\nfi\nmake test\n"},
		{"after exit", "set -e\nmake test\nexit 0\nmake cluster-test\n"},
		{"a trailing command", "set -e\nmake test; true\n"},
		{"a trailing semicolon", "set -e\nmake test;\n"},
		{"set +e", "set -e\nset +e\nmake test\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ci := filepath.Join(t.TempDir(), "run")
			if err := os.WriteFile(ci, []byte(c.script), 0o644); err != nil {
				t.Fatal(err)
			}
			d12 := &stack{name: "debian12"}
			if err := readCI(ci, []*stack{d12}); err == nil {
				t.Errorf("no error; the matrix would say CI runs %q", d12.runs)
			}
		})
	}
}
