package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// small are limits small enough for testdata's trees to break them.
var small = Limits{Methods: 2, FileLines: 20, FuncLines: 5}

// TestCheck: each tree under testdata breaks one rule, and Check names
// that breach alone; ok breaks none, though its tests, tools, examples
// and the agent's own subpackage do what product code may not.
func TestCheck(t *testing.T) {
	tests := []struct {
		tree string
		want []string
	}{
		{"ok", nil},
		{"imports", []string{
			"internal/node/open.go:3: imports example.com/m/internal/agent: the kernel's side returns its own types, and cmd/floatip wires them into the agent",
		}},
		{"testimports", []string{
			"internal/node/node_test.go:3: imports example.com/m/internal/agent: the kernel's side returns its own types, and cmd/floatip wires them into the agent",
		}},
		{"fatinterface", []string{
			"internal/agent/kernel.go:4: interface Kernel has 3 methods, more than 2: split it by job, each consumer asking for what it needs",
		}},
		{"longfile", []string{
			"internal/node/long.go:1: 22 lines, more than 20: split the file by concern",
		}},
		{"longfunc", []string{
			"cmd/m/long.go:3: func long has 7 lines, more than 5: split it",
		}},
		{"generated", nil},
	}
	for _, tt := range tests {
		t.Run(tt.tree, func(t *testing.T) {
			got, err := Check(filepath.Join("testdata", tt.tree), small)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("breaches (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRunExitCode: a breach fails the run, so that make lint fails.
func TestRunExitCode(t *testing.T) {
	tests := []struct {
		tree string
		want int
	}{
		{"ok", 0},
		{"fatinterface", 1},
		{"no-such-tree", 2},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if got := run(filepath.Join("testdata", tt.tree), small, &stdout, &stderr); got != tt.want {
			t.Errorf("run(%s) = %d, want %d; stdout %q, stderr %q", tt.tree, got, tt.want, stdout.String(), stderr.String())
		}
	}
}

// TestDefault: the project's limits are the ones docs/dev/layout.md states.
func TestDefault(t *testing.T) {
	if want := (Limits{Methods: 8, FileLines: 450, FuncLines: 80}); Default != want {
		t.Errorf("Default = %+v, want %+v", Default, want)
	}
}
