package ocf

import (
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/internal/ptytest"
)

// TestExitReasonAtATerminal: run by hand at a terminal, the exit reason
// reads as a sentence after the agent's name; Pacemaker, which reads it
// from a pipe, still gets the ocf-exit-reason line (TestExitReason).
func TestExitReasonAtATerminal(t *testing.T) {
	ptm, pts := ptytest.Open(t)
	l := NewLogger(Env{Instance: "vip"}, "floatip", 42, pts)
	l.ExitReason("cidr_netmask [%d] is not a prefix length", 99)
	if err := ptm.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	buf := make([]byte, 256)
	for !strings.Contains(got.String(), "\n") {
		n, err := ptm.Read(buf)
		if err != nil {
			t.Fatalf("read the terminal: %v (so far %q)", err, got.String())
		}
		got.Write(buf[:n])
	}
	// The terminal turns the line's end into \r\n.
	if want := "floatip(vip): cidr_netmask [99] is not a prefix length\r\n"; got.String() != want {
		t.Errorf("at a terminal: %q, want %q", got.String(), want)
	}
}
