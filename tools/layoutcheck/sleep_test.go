package main

import (
	"go/parser"
	"go/token"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSleeps: a sleep is allowed as the pause of a loop that ends on a
// condition, or with a marker that gives a reason; any other is a
// breach at its line.
func TestSleeps(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"sleep then assert", `
	time.Sleep(time.Second)
	check()`, []string{"x_test.go:4: time.Sleep outside a polling loop: wait on an event, or poll a condition with a deadline (//layoutcheck:sleep <reason> if it waits for nothing)"}},
		{"loop with a condition", `
	for deadline := time.Now().Add(time.Second); !done() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}`, nil},
		{"loop that returns", `
	for {
		if done() {
			return
		}
		time.Sleep(time.Millisecond)
	}`, nil},
		{"range that breaks", `
	for range 10 {
		if done() {
			break
		}
		time.Sleep(time.Millisecond)
	}`, nil},
		{"loop that only sleeps", `
	for range 10 {
		time.Sleep(time.Millisecond)
	}`, []string{"x_test.go:5: time.Sleep outside a polling loop: wait on an event, or poll a condition with a deadline (//layoutcheck:sleep <reason> if it waits for nothing)"}},
		{"return of a func literal is not the loop's", `
	for {
		go func() { return }()
		time.Sleep(time.Millisecond)
	}`, []string{"x_test.go:6: time.Sleep outside a polling loop: wait on an event, or poll a condition with a deadline (//layoutcheck:sleep <reason> if it waits for nothing)"}},
		{"func literal inside a polling loop", `
	for !done() {
		go func() { time.Sleep(time.Millisecond) }()
	}`, []string{"x_test.go:5: time.Sleep outside a polling loop: wait on an event, or poll a condition with a deadline (//layoutcheck:sleep <reason> if it waits for nothing)"}},
		{"marker on the line", `
	time.Sleep(time.Second) //layoutcheck:sleep a fault at a point in time`, nil},
		{"marker on the line before", `
	//layoutcheck:sleep a fault at a point in time
	time.Sleep(time.Second)`, nil},
		{"marker without a reason", `
	time.Sleep(time.Second) //layoutcheck:sleep`, []string{"x_test.go:4: //layoutcheck:sleep without a reason: say why this sleep waits for nothing"}},
		{"another package's Sleep", `
	clock.Sleep(time.Second)`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "package x\n\nfunc f() {" + tt.body + "\n}\n"
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "x_test.go", src, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, sleeps(fset, ".", f)); diff != "" {
				t.Errorf("breaches (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTestCode: the sleep rule reads tests and the test tree, but not
// product code nor the trees still pending.
func TestTestCode(t *testing.T) {
	tests := map[string]bool{
		"internal/agent/lock_test.go": true,
		"internal/agent/lock.go":      false,
		"tests/lab/capture.go":        true,
		"tests/agent_test.go":         true,
		"tests/cluster/main.go":       false,
		"cmd/floatip/main.go":         false,
	}
	got := map[string]bool{}
	for rel := range tests {
		got[rel] = testCode(rel)
	}
	if diff := cmp.Diff(tests, got); diff != "" {
		t.Errorf("testCode (-want +got):\n%s", diff)
	}
}
