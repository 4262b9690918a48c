package announce

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
	"golang.org/x/net/ipv6"

	"github.com/floatip/floatip/internal/netif"
)

var (
	mac = net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}
	vip = netip.MustParseAddr("198.18.0.100")
)

func TestGARPFrames(t *testing.T) {
	frames, err := GARPFrames(mac, vip)
	if err != nil {
		t.Fatal(err)
	}
	bcast := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	ip := []byte{198, 18, 0, 100}
	hdr := func(op byte) []byte {
		b := append([]byte{}, bcast...)                    // Ethernet destination
		b = append(b, mac...)                              // Ethernet source
		b = append(b, 0x08, 0x06)                          // EtherType ARP
		b = append(b, 0x00, 0x01, 0x08, 0x00, 6, 4, 0, op) // Ethernet/IPv4, op
		return b
	}
	zero := make([]byte, 6)
	request := append(append(append(append(hdr(1), mac...), ip...), zero...), ip...)
	reply := append(append(append(append(hdr(2), mac...), ip...), mac...), ip...)
	for i, want := range [][]byte{request, reply} {
		if len(want) != 42 || !bytes.Equal(frames[i], want) {
			t.Errorf("frame %d:\n got % x\nwant % x", i, frames[i], want)
		}
	}
	if _, err := GARPFrames(mac, netip.MustParseAddr("2001:db8::1")); err == nil {
		t.Error("IPv6 address accepted for ARP")
	}
}

// fakeConn records frames written to it and fails on demand.
type fakeConn struct {
	net.PacketConn
	dsts   []string
	frames [][]byte
	fail   error
}

func (c *fakeConn) WriteTo(b []byte, to net.Addr) (int, error) {
	if c.fail != nil {
		return 0, c.fail
	}
	c.frames = append(c.frames, append([]byte{}, b...))
	c.dsts = append(c.dsts, to.(*packet.Addr).HardwareAddr.String())
	return len(b), nil
}

func TestGARPAnnounce(t *testing.T) {
	c := &fakeConn{}
	g, err := NewGARP(c, mac, vip, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, d := g.Plan(5, 200*time.Millisecond); n != 10 || d != 100*time.Millisecond {
		t.Errorf("Plan(5, 200ms) = %d frames %v apart, want send_arp's 10 frames 100ms apart", n, d)
	}
	for i := range 4 {
		if err := g.Announce(i); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := GARPFrames(mac, vip)
	if len(c.frames) != 4 {
		t.Fatalf("wrote %d frames", len(c.frames))
	}
	for i, f := range c.frames {
		if !bytes.Equal(f, want[i%2]) {
			t.Errorf("frame %d is not the %s", i, [2]string{"request", "reply"}[i%2])
		}
	}
	c.fail = syscall.ENETDOWN
	if err := g.Announce(0); !errors.Is(err, syscall.ENETDOWN) {
		t.Errorf("err = %v, want ENETDOWN", err)
	}
}

type countAnnouncer struct {
	frames []int
	times  []time.Time
	fail   map[int]bool
}

func (c *countAnnouncer) Plan(count int, interval time.Duration) (int, time.Duration) {
	return count, interval
}

func (c *countAnnouncer) Announce(i int) error {
	c.frames = append(c.frames, i)
	c.times = append(c.times, time.Now())
	if c.fail[i] {
		return errors.New("no buffer space")
	}
	return nil
}

func TestBurst(t *testing.T) {
	tests := []struct {
		name      string
		from, to  int
		wait      bool
		fail      map[int]bool
		sent, bad int
	}{
		{"all sent", 0, 4, false, nil, 4, 0},
		{"one", 0, 1, false, nil, 1, 0},
		{"the rest, after a wait", 1, 4, true, nil, 3, 0},
		{"failures counted", 0, 3, false, map[int]bool{1: true}, 2, 1},
		{"all fail", 0, 2, false, map[int]bool{0: true, 1: true}, 0, 2},
		{"nothing to send", 3, 3, true, nil, 0, 0},
	}
	const spacing = 10 * time.Millisecond
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &countAnnouncer{fail: tt.fail}
			start := time.Now()
			r := Burst(context.Background(), a, tt.from, tt.to, spacing, tt.wait)
			if r.Sent != tt.sent || r.Failed != tt.bad || (r.Err != nil) != (tt.bad > 0) || r.First.IsZero() != (tt.sent == 0) {
				t.Errorf("report %+v, want sent %d failed %d", r, tt.sent, tt.bad)
			}
			if len(a.frames) != tt.to-tt.from {
				t.Fatalf("frames %v, want %d to %d", a.frames, tt.from, tt.to)
			}
			for i, f := range a.frames {
				if f != tt.from+i {
					t.Errorf("frame %d is %d", i, f)
				}
			}
			for i := 1; i < len(a.times); i++ {
				if d := a.times[i].Sub(a.times[i-1]); d < spacing {
					t.Errorf("gap %d is %v, want at least %v", i, d, spacing)
				}
			}
			if len(a.times) > 0 && tt.wait && a.times[0].Sub(start) < spacing {
				t.Errorf("first frame after %v, want a wait of %v", a.times[0].Sub(start), spacing)
			}
		})
	}
}

// cancelAfter cancels its context once it has sent n frames.
type cancelAfter struct {
	countAnnouncer
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Announce(i int) error {
	err := c.countAnnouncer.Announce(i)
	if len(c.frames) == c.n {
		c.cancel()
	}
	return err
}

// TestBurstStopsWithContext: the frame after the context ends is not sent.
func TestBurstStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := &cancelAfter{n: 3, cancel: cancel}
	r := Burst(ctx, a, 0, 1000, time.Millisecond, false)
	if r.Sent != 3 || len(a.frames) != 3 {
		t.Errorf("sent %d of 1000 (%d frames), want the 3 before the context ended", r.Sent, len(a.frames))
	}
}

type fakeNAConn struct {
	msgs []ndp.Message
	dsts []netip.Addr
}

func (c *fakeNAConn) WriteTo(m ndp.Message, _ *ipv6.ControlMessage, dst netip.Addr) error {
	c.msgs = append(c.msgs, m)
	c.dsts = append(c.dsts, dst)
	return nil
}
func (c *fakeNAConn) Close() error { return nil }

// TestNA checks the advertisement against what send_ua puts on the wire
// (captured from heartbeat:IPaddr2): type 136, Override only, the VIP as
// target, and the Target Link-Layer Address option, to ff02::1.
func TestNA(t *testing.T) {
	c := &fakeNAConn{}
	ip := netip.MustParseAddr("2001:db8::100")
	n, err := NewNA(c, mac, ip, nil)
	if err != nil {
		t.Fatal(err)
	}
	if frames, d := n.Plan(5, 200*time.Millisecond); frames != 5 || d != 200*time.Millisecond {
		t.Errorf("Plan(5, 200ms) = %d, %v; want send_ua's 5 advertisements 200ms apart", frames, d)
	}
	if err := n.Announce(0); err != nil {
		t.Fatal(err)
	}
	if len(c.msgs) != 1 || c.dsts[0] != netip.MustParseAddr("ff02::1") {
		t.Fatalf("sent %v to %v", c.msgs, c.dsts)
	}
	b, err := ndp.MarshalMessage(c.msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{136, 0, 0, 0, 0x20, 0, 0, 0}, ip.AsSlice()...)
	want = append(append(want, 2, 1), mac...)
	// Bytes 2 and 3 are the checksum, which the kernel fills in.
	b[2], b[3] = 0, 0
	if !bytes.Equal(b, want) {
		t.Errorf("advertisement\n got % x\nwant % x", b, want)
	}
	if _, err := NewNA(c, mac, vip, nil); err == nil {
		t.Error("IPv4 address accepted for an advertisement")
	}
}

// TestNAAsRouter: a node that forwards sets the Router flag (0x80), beside
// Override (0x20), and only then.
func TestNAAsRouter(t *testing.T) {
	for _, router := range []bool{true, false} {
		c := &fakeNAConn{}
		n, err := NewNA(c, mac, netip.MustParseAddr("2001:db8::100"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.AsRouter(router).Announce(0); err != nil {
			t.Fatal(err)
		}
		b, err := ndp.MarshalMessage(c.msgs[0])
		if err != nil {
			t.Fatal(err)
		}
		want := byte(0x20)
		if router {
			want |= 0x80
		}
		if b[4] != want {
			t.Errorf("AsRouter(%v): flags %#x, want %#x", router, b[4], want)
		}
	}
}

// TestGARPUnicast: announce_to adds, to each announcement, an ARP reply
// addressed to the neighbour alone, naming it as the target.
func TestGARPUnicast(t *testing.T) {
	c := &fakeConn{}
	gw := netif.Neighbor{IP: netip.MustParseAddr("198.18.0.254"), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 0xfe}}
	g, err := NewGARP(c, mac, vip, []netif.Neighbor{gw})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := g.Announce(i); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"ff:ff:ff:ff:ff:ff", gw.MAC.String(), "ff:ff:ff:ff:ff:ff"}; strings.Join(c.dsts, " ") != strings.Join(want, " ") {
		t.Fatalf("sent to %v, want %v", c.dsts, want)
	}
	var p arp.Packet
	if err := p.UnmarshalBinary(c.frames[1][14:]); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.frames[1][:6], gw.MAC) || p.Operation != arp.OperationReply || p.SenderIP != vip ||
		p.TargetIP != gw.IP || p.TargetHardwareAddr.String() != gw.MAC.String() {
		t.Errorf("unicast frame %+v", p)
	}
}

func TestNAUnicast(t *testing.T) {
	c := &fakeNAConn{}
	gw := netip.MustParseAddr("2001:db8::fe")
	n, err := NewNA(c, mac, netip.MustParseAddr("2001:db8::100"), []netif.Neighbor{{IP: gw}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Announce(0); err != nil {
		t.Fatal(err)
	}
	if len(c.dsts) != 2 || c.dsts[0] != allNodes || c.dsts[1] != gw {
		t.Errorf("sent to %v, want ff02::1 and %s", c.dsts, gw)
	}
}
