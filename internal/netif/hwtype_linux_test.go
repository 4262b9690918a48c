package netif

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestHardwareType(t *testing.T) {
	tests := []struct {
		name  string
		encap string
		want  uint16
	}{
		{"ethernet", "ether", unix.ARPHRD_ETHER},
		{"loopback", "loopback", unix.ARPHRD_LOOPBACK},
		{"infiniband", "infiniband", unix.ARPHRD_INFINIBAND},
		{"tun device", "none", unix.ARPHRD_NONE},
		{"ipip tunnel", "ipip", unix.ARPHRD_TUNNEL},
		{"fibre channel fabric", "fcfb3", unix.ARPHRD_FCFABRIC + 3},
		{"type 0", "generic", 0},
		{"unnamed ip6gre", "unknown823", unix.ARPHRD_IP6GRE},
		{"unnamed can", "unknown280", unix.ARPHRD_CAN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, hardwareType(tt.encap)); diff != "" {
				t.Errorf("hardwareType(%q) (-want +got):\n%s", tt.encap, diff)
			}
		})
	}
}

// TestHardwareTypeRoundTrip holds hardwareType to the netlink package in
// go.mod: every type it names must come back from its name, so a type
// that a new version names is not lost as 0.
func TestHardwareTypeRoundTrip(t *testing.T) {
	for ty := 0; ty <= 0xffff; ty++ {
		name := encapName(uint16(ty))
		if got := hardwareType(name); got != uint16(ty) {
			t.Errorf("hardwareType(%q) = %d, want %d", name, got, ty)
		}
	}
}
