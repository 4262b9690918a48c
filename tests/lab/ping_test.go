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
	}{
		{"198.18.0.1", true},
		{"2001:db8::1", true},
		{"198.18.0.9", false},
		{"2001:db8::9", false},
	} {
		p, err := m.Ping(netip.MustParseAddr(tt.dst), 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		// An answer may wait for DAD of the lab's IPv6 addresses, about a
		// second: wait up to 3 s for one; a silence counts after 300 ms.
		answered := func() bool {
			for _, pr := range p.Probes() {
				if !pr.Replied.IsZero() {
					return true
				}
			}
			return false
		}
		deadline := time.Now().Add(300 * time.Millisecond)
		if tt.answered {
			deadline = time.Now().Add(3 * time.Second)
		}
		for !answered() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		replied := 0
		probes := p.Close()
		for _, pr := range probes {
			if !pr.Replied.IsZero() {
				replied++
			}
		}
		if got := replied > 0; got != tt.answered {
			t.Errorf("ping %s: %d of %d probes answered, want answered=%t", tt.dst, replied, len(probes), tt.answered)
		}
	}
}
