package ocf

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// initTime is taken while the test binary initializes its packages, after
// the kernel created the process.
var initTime = time.Now()

func TestStartTicks(t *testing.T) {
	tail := " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 20 21\n"
	tests := []struct {
		name, stat string
		want       uint64
		err        bool
	}{
		{"plain", "17 (floatip)" + tail, 4242, false},
		{"spaces and parentheses in the name", "17 (a) b (c) d)" + tail, 4242, false},
		{"no name", "17 floatip" + tail, 0, true},
		{"short", "17 (floatip) S 1 2 3", 0, true},
		{"not a number", "17 (floatip) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x 20\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := startTicks([]byte(tt.stat))
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("start ticks (-want +got):\n%s", diff)
			}
		})
	}
}

// TestProcessStart: the kernel created this process before its packages
// initialized, and not long before.
func TestProcessStart(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Fatalf("Linux without /proc: %v", err)
	}
	got := ProcessStart()
	// The start time is floored to a tick, 10 ms.
	if got.After(initTime) {
		t.Errorf("process start %v after package init %v", got, initTime)
	}
	if initTime.Sub(got) > 30*time.Second {
		t.Errorf("process start %v before package init: %v is no process start", initTime.Sub(got), got)
	}
}

// TestContextSince: the deadline counts from the start given, so time
// spent before main (exec, a loaded node) is not lent to the action.
func TestContextSince(t *testing.T) {
	start := time.Now().Add(-300 * time.Millisecond)
	ctx, cancel := Env{Timeout: time.Second}.ContextSince(context.Background(), start)
	defer cancel()
	dl, ok := ctx.Deadline()
	if !ok {
		t.Fatal("no deadline")
	}
	if diff := cmp.Diff(start.Add(900*time.Millisecond), dl); diff != "" {
		t.Errorf("deadline (-want +got):\n%s", diff)
	}
	ctx, cancel = Env{}.ContextSince(context.Background(), start)
	defer cancel()
	if dl, ok := ctx.Deadline(); ok {
		t.Errorf("deadline %v without a timeout", dl)
	}
	// A process older than the whole timeout was not forked for this
	// operation: the timeout counts from now, not from long ago.
	before := time.Now()
	ctx, cancel = Env{Timeout: time.Second}.ContextSince(context.Background(), before.Add(-time.Hour))
	defer cancel()
	if dl, _ := ctx.Deadline(); dl.Before(before.Add(900 * time.Millisecond)) {
		t.Errorf("deadline %v before now + 900 ms, counted from an hour ago", dl.Sub(before))
	}
}

// TestContextSinceInsideTheMargin: a process that reaches main inside the
// margin, 950 ms into a 1 s timeout, still has 50 ms before the caller
// gives up: a stop takes a few. A deadline already past would fail it at
// once, and a failed stop gets the node fenced, so it gets half of what
// is left, and the other half to answer.
func TestContextSinceInsideTheMargin(t *testing.T) {
	now := time.Now()
	start := now.Add(-950 * time.Millisecond)
	ctx, cancel := Env{Timeout: time.Second}.ContextSince(context.Background(), start)
	defer cancel()
	dl, _ := ctx.Deadline()
	if end := start.Add(time.Second); !dl.After(now.Add(20*time.Millisecond)) || !dl.Before(end) {
		t.Errorf("deadline %v after the start, want between %v and %v: the 50 ms left, less time to answer", dl.Sub(start), now.Add(20*time.Millisecond).Sub(start), end.Sub(start))
	}
}
