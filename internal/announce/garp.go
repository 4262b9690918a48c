package announce

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/packet"
)

var (
	broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	zeroMAC   = net.HardwareAddr{0, 0, 0, 0, 0, 0}
)

// etherTypeARP is the EtherType of ARP frames (IEEE 802 numbers).
const etherTypeARP = 0x0806

// GARPFrames returns the two Ethernet frames of an IPv4 announcement of ip
// from mac, as heartbeat's send_arp writes them: an ARP request and an ARP
// reply, both broadcast, with sender and target protocol address set to ip
// (RFC 5944 section 4.6). The request's target hardware address is zero,
// the reply's is mac. Some devices honour only one of the two forms
// (resource-agents PR #977, kube-vip #80), so a burst alternates them.
// The frames are not padded to the Ethernet minimum: the driver pads what
// goes on a wire, and send_arp's frames are 42 bytes on a veth too.
func GARPFrames(mac net.HardwareAddr, ip netip.Addr) ([2][]byte, error) {
	var out [2][]byte
	forms := [2]struct {
		op     arp.Operation
		target net.HardwareAddr
	}{
		{arp.OperationRequest, zeroMAC},
		{arp.OperationReply, mac},
	}
	for i, f := range forms {
		p, err := arp.NewPacket(f.op, mac, ip, f.target, ip)
		if err != nil {
			return out, fmt.Errorf("build ARP %s for %s: %w", f.op, ip, err)
		}
		payload, err := p.MarshalBinary()
		if err != nil {
			return out, fmt.Errorf("marshal ARP %s for %s: %w", f.op, ip, err)
		}
		b := make([]byte, 0, 14+len(payload))
		b = append(b, broadcast...)
		b = append(b, mac...)
		b = append(b, etherTypeARP>>8, etherTypeARP&0xff)
		out[i] = append(b, payload...)
	}
	return out, nil
}

// GARP announces one IPv4 address on one link.
type GARP struct {
	conn   net.PacketConn
	frames [2][]byte
}

// NewGARP returns a GARP that writes the announcements of ip from mac to
// conn, a raw packet socket bound to the link (see ListenLink) or a fake.
func NewGARP(conn net.PacketConn, mac net.HardwareAddr, ip netip.Addr) (*GARP, error) {
	frames, err := GARPFrames(mac, ip)
	if err != nil {
		return nil, err
	}
	return &GARP{conn: conn, frames: frames}, nil
}

// Plan is the shape of a burst of count announcements interval apart, as
// send_arp sends it: each announcement is a request and a reply, and the
// frames go out interval/2 apart.
func (g *GARP) Plan(count int, interval time.Duration) (frames int, spacing time.Duration) {
	return 2 * count, interval / 2
}

// Announce sends frame i of a burst: the requests are the even frames, the
// replies the odd ones.
func (g *GARP) Announce(i int) error {
	if _, err := g.conn.WriteTo(g.frames[i%2], &packet.Addr{HardwareAddr: broadcast}); err != nil {
		return fmt.Errorf("send gratuitous ARP: %w", err)
	}
	return nil
}

// Close closes the socket.
func (g *GARP) Close() error { return g.conn.Close() }
