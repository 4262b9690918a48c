package ocf

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns the two sides of a new pseudo-terminal: what is written
// to the terminal (the second) is read from the first.
func openPTY(t *testing.T) (ptm, pts *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pts.Close() })
	return ptm, pts
}

// TestExitReasonAtATerminal: run by hand at a terminal, the exit reason
// reads as a sentence after the agent's name; Pacemaker, which reads it
// from a pipe, still gets the ocf-exit-reason line (TestExitReason).
func TestExitReasonAtATerminal(t *testing.T) {
	ptm, pts := openPTY(t)
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
