//go:build linux

package labtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/lab"
)

// The tests wait on a condition or an event, never for a guessed time: a
// sleep long enough on an idle machine is too short on a loaded CI runner,
// and a test that fails then is a flaky test.

// PollInterval is how often Eventually and WaitFor look again: short
// next to what they wait for, long next to what looking costs.
const PollInterval = 10 * time.Millisecond

// Eventually polls cond until it holds or d has passed, and says whether
// it held.
func Eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(PollInterval)
	}
}

// WaitFor polls cond until it holds, and fails the test when timeout has
// passed first, with what cond last said of the state it saw.
func WaitFor(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	var last string
	if !Eventually(timeout, func() bool {
		var ok bool
		ok, last = cond()
		return ok
	}) {
		t.Fatalf("waited %v in vain: %s", timeout, last)
	}
}

// BurstOver waits until the background burst of the agent run in h has
// ended: no process left in h's namespace, and no floatip sender, which
// with network_namespace runs outside it. After it, every frame of the
// burst has been sent.
func BurstOver(t *testing.T, h *lab.Host) {
	t.Helper()
	if err := h.Idle(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, 10*time.Second, func() (bool, string) {
		s := Announcers()
		return len(s) == 0, fmt.Sprintf("senders still run: %q", s)
	})
}

// Drain returns the frames c received, none still in flight from host
// from left out (see lab.Capture.Drain), and closes c.
func Drain(t *testing.T, c *lab.Capture, from *lab.Host) []lab.Frame {
	t.Helper()
	frames, err := c.Drain(from, 5*time.Second)
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	return frames
}
