//go:build linux

package lab

import (
	"net/netip"
	"testing"
	"time"

	"github.com/floatip/floatip/internal/needroot"
)

// TestPing: a Pinger counts the answers of an address of either family,
// and none of an address that nobody holds.
func TestPing(t *testing.T) {
	needroot.Check(t)
	l, err := New(
		HostSpec{Name: "a", Addr: netip.MustParsePrefix("198.18.0.1/24"), Addr6: netip.MustParsePrefix("2001:db8::1/64")},
		HostSpec{Name: "m", Addr: netip.MustParsePrefix("198.18.0.2/24"), Addr6: netip.MustParsePrefix("2001:db8::2/64")},
	)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	m := l.Host("m")
	for _, tt := range []struct {
		dst      string
		answered bool
		// marker is an address that answers, pinged alongside dst when
		// dst must not: its answers reach the pinger of dst's socket too,
		// which must not count them, and once the marker has three,
		// dst's pings had their chance.
		marker string
	}{
		{"198.18.0.1", true, ""},
		{"2001:db8::1", true, ""},
		{"198.18.0.9", false, "198.18.0.1"},
		{"2001:db8::9", false, "2001:db8::1"},
	} {
		p, err := m.Ping(netip.MustParseAddr(tt.dst), 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		wait, want := p, 1
		if !tt.answered {
			if wait, err = m.Ping(netip.MustParseAddr(tt.marker), 20*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			want = 3
		}
		for deadline := time.Now().Add(5 * time.Second); replied(wait.Probes()) < want && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		if wait != p {
			if n := replied(wait.Close()); n < want {
				t.Fatalf("ping %s: %d answers in 5 s, want %d", tt.marker, n, want)
			}
		}
		probes := p.Close()
		if got := replied(probes) > 0; got != tt.answered {
			t.Errorf("ping %s: %d of %d probes answered, want answered=%t", tt.dst, replied(probes), len(probes), tt.answered)
		}
	}
}

func replied(probes []Probe) int {
	n := 0
	for _, pr := range probes {
		if !pr.Replied.IsZero() {
			n++
		}
	}
	return n
}
