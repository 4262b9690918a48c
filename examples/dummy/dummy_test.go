package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needRoot skips a test that needs root, or fails it when
// FLOATIP_REQUIRE_ROOT=1 (set by .ci/run, which runs as root) says that
// such tests must run, so that a green CI run has run them. It is the
// pattern of floatip's tests/, copied so that this example imports nothing
// of floatip but the ocf package.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("FLOATIP_REQUIRE_ROOT") == "1" {
		t.Fatal("this test needs root, and FLOATIP_REQUIRE_ROOT=1 forbids skipping it")
	}
	t.Skip("needs root: ocf-tester checks the agent's permissions by running meta-data as nobody (run make test as root)")
}

// buildAgent builds the agent into <root>/resource.d/example/Dummy, mode
// 755. Not under t.TempDir: its parent is private to root, and ocf-tester
// runs the agent as nobody.
func buildAgent(t *testing.T) string {
	t.Helper()
	root, err := os.MkdirTemp("", "dummy-ocf-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	dir := filepath.Join(root, "resource.d", "example")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := dir; d != filepath.Dir(root); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	agent := filepath.Join(dir, "Dummy")
	cmd := exec.Command("go", "build", "-trimpath", "-o", agent, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the agent: %v\n%s", err, out)
	}
	return agent
}

func TestOCFTester(t *testing.T) {
	needRoot(t)
	tester, err := exec.LookPath("ocf-tester")
	if err != nil {
		t.Fatal("ocf-tester is not installed: run make deps (Debian's resource-agents)")
	}
	agent := buildAgent(t)
	tests := []struct {
		name string
		opts func(dir string) []string
		pass bool
	}{
		{"default state file", func(string) []string { return nil }, true},
		{"state given", func(dir string) []string { return []string{"-o", "state=" + filepath.Join(dir, "sub", "db.state")} }, true},
		{"op_sleep", func(string) []string { return []string{"-o", "op_sleep=1"} }, true},
		// A configuration that cannot work must make ocf-tester fail:
		// it shows that a pass above is not a tester that passes all.
		{"relative state", func(string) []string { return []string{"-o", "state=db.state"} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rsctmp := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			args := append([]string{"-n", "db"}, tt.opts(rsctmp)...)
			cmd := exec.CommandContext(ctx, tester, append(args, agent)...)
			cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HA_RSCTMP=" + rsctmp}
			out, err := cmd.CombinedOutput()
			passed := err == nil && strings.Contains(string(out), "passed all tests")
			if passed != tt.pass {
				t.Errorf("ocf-tester passed %v, want %v (%v):\n%s", passed, tt.pass, err, out)
			}
			if tt.pass && strings.Contains(string(out), "* rc=") {
				t.Errorf("ocf-tester reported a failed check:\n%s", out)
			}
			// ocf-tester ends with a stop: nothing may be left.
			left, _ := filepath.Glob(filepath.Join(rsctmp, "*"))
			if sub, _ := filepath.Glob(filepath.Join(rsctmp, "sub", "*")); len(sub) > 0 {
				left = append(left, sub...)
			}
			for _, p := range left {
				if strings.HasSuffix(p, ".state") {
					t.Errorf("ocf-tester left %s", p)
				}
			}
		})
	}
}
