package tests

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// procState is field 3 of /proc/<pid>/stat ('R', 'S', 'T', 'Z'...); 0
// when the process is gone.
func procState(pid int) byte {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

// TestStopWaitsForTheSender: stop must not return while the background
// sender still runs, even one that does not act on SIGTERM (here it is
// stopped with SIGSTOP in the middle of a long burst, as a sender that is
// stuck or not scheduled would be): once stop returns, the sender has
// exited, and no announcement reaches the peer afterwards, even when the
// sender is continued.
func TestStopWaitsForTheSender(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	a, m := l.Host("a"), l.Host("m")
	c, err := m.Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := labtest.Floatip(t, a)
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24"}
	r.Expect(0, "start", append(p, "arp_count=200", "arp_interval=50")...)
	pid := labtest.SenderPid(t, r)
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	// The sender is sending: its frames come after start's first.
	c.Until(func(fs []lab.Frame) bool { return len(lab.DecodeARP(fs)) >= 3 }, 5*time.Second)
	if n := len(lab.DecodeARP(c.Frames())); n < 3 {
		t.Fatalf("M saw %d frames of the burst", n)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); procState(pid) != 'T'; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the sender %d did not stop: state %q", pid, procState(pid))
		}
	}

	r.Expect(0, "stop", p...)
	stopped := time.Now()
	// Gone, or a zombie that only waits for its parent (here pid 1 may
	// not reap orphans): it runs no more and holds no socket.
	if st := procState(pid); st != 0 && st != 'Z' && st != 'X' {
		t.Errorf("the sender %d is still there after stop, state %q", pid, st)
	}
	// A sender still there would go on now; one gone, as checked above,
	// holds no socket, so what could still come are frames on their way:
	// the marker from A, which takes their path, closes the window.
	syscall.Kill(pid, syscall.SIGCONT)
	frames, err := c.Drain(a, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if f.Time.After(stopped) {
			t.Errorf("M received announcements after stop returned: %v", lab.DecodeARP(frames))
			break
		}
	}
	if got := labtest.VIPOn(t, a, labtest.VIP); len(got) != 0 {
		t.Errorf("stop left %+v", got)
	}
}
