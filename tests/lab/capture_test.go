//go:build linux

package lab

import (
	"net/netip"
	"testing"
	"time"

	"github.com/floatip/floatip/internal/needroot"
)

// TestCapture: a capture of outgoing frames sees the ARP requests a host
// sends, a capture of received frames sees them on the peer, and Drain
// returns them once its marker, of ARP or IPv6, arrived.
func TestCapture(t *testing.T) {
	needroot.Check(t)
	l, err := New(
		HostSpec{Name: "a", Addr: netip.MustParsePrefix("198.18.0.1/24")},
		HostSpec{Name: "m", Addr: netip.MustParsePrefix("198.18.0.2/24")},
	)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, m := l.Host("a"), l.Host("m")
	out, err := m.CaptureOutgoing(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	in, err := a.Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	in6, err := a.Capture(0x86dd)
	if err != nil {
		t.Fatal(err)
	}
	defer in6.Close()
	// M asks who has an address nobody holds.
	nobody := netip.MustParseAddr("198.18.0.9")
	p, err := m.Ping(nobody, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	asked := func(fs []Frame) bool {
		for _, f := range DecodeARP(fs) {
			if f.TargetIP == nobody && f.SenderHW.String() == m.MAC.String() {
				return true
			}
		}
		return false
	}
	out.Until(asked, 5*time.Second)
	p.Close()
	for _, tt := range []struct {
		name string
		c    *Capture
		from *Host
		want bool
	}{
		{"M's outgoing ARP", out, m, true},
		{"A's received ARP", in, m, true},
		{"A's received IPv6", in6, m, false},
	} {
		frames, err := tt.c.Drain(tt.from, 5*time.Second)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := asked(frames); got != tt.want {
			t.Errorf("%s: M's request for %s among the %d frames: %t, want %t", tt.name, nobody, len(frames), got, tt.want)
		}
	}
}
