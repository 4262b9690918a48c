package probe

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/floatip/floatip/internal/arpframe"
	"github.com/mdlayher/ndp"
)

var (
	us    = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	other = net.HardwareAddr{2, 0, 0, 0, 0, 9}
	vip   = netip.MustParseAddr("198.18.0.100")
)

func arpFrame(t *testing.T, op byte, sha net.HardwareAddr, spa netip.Addr, tha net.HardwareAddr, tpa netip.Addr) []byte {
	t.Helper()
	b := append(arpframe.Broadcast(), sha...)
	b = append(b, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, op)
	b = append(append(b, sha...), spa.AsSlice()...)
	return append(append(b, tha...), tpa.AsSlice()...)
}

func TestProbeFrame(t *testing.T) {
	got, err := ProbeFrame(us, vip)
	if err != nil {
		t.Fatal(err)
	}
	want := arpFrame(t, 1, us, netip.IPv4Unspecified(), arpframe.NoMAC(), vip)
	if !bytes.Equal(got, want) {
		t.Errorf("probe\n got % x\nwant % x", got, want)
	}
}

func TestClaimant(t *testing.T) {
	zero := netip.IPv4Unspecified()
	m := netip.MustParseAddr("198.18.0.3")
	tests := []struct {
		name  string
		frame []byte
		want  net.HardwareAddr
	}{
		{"reply from another host", arpFrame(t, 2, other, vip, us, zero), other},
		{"gratuitous ARP from another host", arpFrame(t, 1, other, vip, arpframe.NoMAC(), vip), other},
		{"another host probing too", arpFrame(t, 1, other, zero, arpframe.NoMAC(), vip), other},
		{"our own probe", arpFrame(t, 1, us, zero, arpframe.NoMAC(), vip), nil},
		{"someone asking for the VIP", arpFrame(t, 1, other, m, arpframe.NoMAC(), vip), nil},
		{"unrelated reply", arpFrame(t, 2, other, m, us, zero), nil},
		{"short", []byte{1, 2, 3}, nil},
		{"not ARP", append(make([]byte, 12), append([]byte{0x86, 0xdd}, make([]byte, 40)...)...), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Claimant(tt.frame, us, vip); got.String() != tt.want.String() {
				t.Errorf("Claimant = %v, want %v", got, tt.want)
			}
		})
	}
}

// fakeLink is a PacketConn that records what is written and, after a
// delay, delivers the answer frames.
type fakeLink struct {
	net.PacketConn
	mu       sync.Mutex
	written  [][]byte
	answers  chan []byte
	deadline time.Time
}

func (f *fakeLink) WriteTo(b []byte, _ net.Addr) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.written = append(f.written, append([]byte{}, b...))
	return len(b), nil
}

func (f *fakeLink) SetReadDeadline(t time.Time) error { f.deadline = t; return nil }

func (f *fakeLink) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case a := <-f.answers:
		return copy(b, a), nil, nil
	case <-time.After(time.Until(f.deadline)):
		return 0, nil, os.ErrDeadlineExceeded
	}
}

func TestARP(t *testing.T) {
	// Wide margins: under load a timer can fire late, and all probes must
	// still fit in the wait.
	o := Options{Count: 3, Spacing: 10 * time.Millisecond, Wait: 300 * time.Millisecond}
	t.Run("nobody answers", func(t *testing.T) {
		f := &fakeLink{answers: make(chan []byte, 4)}
		f.answers <- arpFrame(t, 1, us, netip.IPv4Unspecified(), arpframe.NoMAC(), vip) // our own, looped
		start := time.Now()
		who, err := ARP(context.Background(), f, us, vip, o)
		if err != nil || who != nil {
			t.Fatalf("ARP = %v, %v", who, err)
		}
		if len(f.written) != 3 {
			t.Errorf("%d probes, want 3", len(f.written))
		}
		if d := time.Since(start); d < o.Wait {
			t.Errorf("gave up after %v, before the wait of %v", d, o.Wait)
		}
	})
	t.Run("a host answers", func(t *testing.T) {
		f := &fakeLink{answers: make(chan []byte, 4)}
		f.answers <- arpFrame(t, 2, other, vip, us, netip.IPv4Unspecified())
		who, err := ARP(context.Background(), f, us, vip, o)
		if err != nil || who.String() != other.String() {
			t.Fatalf("ARP = %v, %v; want %v", who, err, other)
		}
		if len(f.written) != 1 {
			t.Errorf("%d probes after the answer, want 1", len(f.written))
		}
	})
	t.Run("the node's own other nic is no holder", func(t *testing.T) {
		f := &fakeLink{answers: make(chan []byte, 4)}
		f.answers <- arpFrame(t, 2, other, vip, us, netip.IPv4Unspecified())
		own := o
		own.Own = []net.HardwareAddr{other}
		if who, err := ARP(context.Background(), f, us, vip, own); err != nil || who != nil {
			t.Errorf("ARP = %v, %v; want no holder", who, err)
		}
	})
	t.Run("context deadline bounds it", func(t *testing.T) {
		f := &fakeLink{answers: make(chan []byte)}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := ARP(ctx, f, us, vip, Options{Count: 1, Wait: time.Hour}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v past a 30ms deadline", d)
		}
	})
}

func TestNSFrame(t *testing.T) {
	ip := netip.MustParseAddr("2001:db8::100")
	b, err := NSFrame(us, ip)
	if err != nil {
		t.Fatal(err)
	}
	wantDst := net.HardwareAddr{0x33, 0x33, 0xff, 0, 0x01, 0}
	if !bytes.Equal(b[:6], wantDst) || !bytes.Equal(b[6:12], us) || b[12] != 0x86 || b[13] != 0xdd {
		t.Errorf("Ethernet header % x", b[:14])
	}
	ip6 := b[14:54]
	group := netip.MustParseAddr("ff02::1:ff00:100").As16()
	if ip6[6] != 58 || ip6[7] != 255 || !bytes.Equal(ip6[8:24], make([]byte, 16)) || !bytes.Equal(ip6[24:40], group[:]) {
		t.Errorf("IPv6 header % x", ip6)
	}
	msg := b[54:]
	if msg[0] != 135 || len(msg) != 24 {
		t.Errorf("not a bare neighbor solicitation: % x", msg)
	}
	// A correct checksum sums, with the pseudo-header, to all ones.
	if got := icmpv6Checksum([16]byte{}, group, msg); got != 0 {
		t.Errorf("checksum does not verify: %#x", got)
	}
}

func naFrame(t *testing.T, from net.HardwareAddr, target netip.Addr, tlla net.HardwareAddr) []byte {
	t.Helper()
	var opts []ndp.Option
	if tlla != nil {
		opts = append(opts, &ndp.LinkLayerAddress{Direction: ndp.Target, Addr: tlla})
	}
	body, err := ndp.MarshalMessage(&ndp.NeighborAdvertisement{Override: true, TargetAddress: target, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	b := append(append([]byte{0x33, 0x33, 0, 0, 0, 1}, from...), 0x86, 0xdd)
	hdr := make([]byte, 40)
	hdr[0], hdr[6], hdr[7] = 0x60, 58, 255
	return append(append(b, hdr...), body...)
}

func TestNAClaimant(t *testing.T) {
	ip := netip.MustParseAddr("2001:db8::100")
	tests := []struct {
		name  string
		frame []byte
		want  net.HardwareAddr
	}{
		{"another node's advertisement", naFrame(t, other, ip, other), other},
		{"without the option, the frame's source", naFrame(t, other, ip, nil), other},
		{"our own", naFrame(t, us, ip, us), nil},
		{"another target", naFrame(t, other, netip.MustParseAddr("2001:db8::1"), other), nil},
		{"short", []byte{1, 2}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NAClaimant(tt.frame, us, ip); got.String() != tt.want.String() {
				t.Errorf("NAClaimant = %v, want %v", got, tt.want)
			}
		})
	}
}
