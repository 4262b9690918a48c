package announce

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/internal/arpframe"
	"github.com/floatip/floatip/internal/netif"
)

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
		{arp.OperationRequest, arpframe.NoMAC()},
		{arp.OperationReply, mac},
	}
	for i, f := range forms {
		b, err := arpframe.New(f.op, arpframe.Broadcast(), mac, ip, f.target, ip)
		if err != nil {
			return out, err
		}
		out[i] = b
	}
	return out, nil
}

// GARP announces one IPv4 address on one link.
type GARP struct {
	conn    net.PacketConn
	frames  [2][]byte
	unicast []unicastFrame
}

type unicastFrame struct {
	dst   net.HardwareAddr
	frame []byte
}

// NewGARP returns a GARP that writes the announcements of ip from mac to
// conn, a raw packet socket bound to the link (see ListenLink) or a fake.
// Each neighbour in to also gets, with each announcement, an ARP reply
// addressed to it alone (resource-agents #1117: some devices ignore
// gratuitous ARP sent to everyone).
func NewGARP(conn net.PacketConn, mac net.HardwareAddr, ip netip.Addr, to []netif.Neighbor) (*GARP, error) {
	frames, err := GARPFrames(mac, ip)
	if err != nil {
		return nil, err
	}
	g := &GARP{conn: conn, frames: frames}
	for _, n := range to {
		f, err := arpframe.New(arp.OperationReply, n.MAC, mac, ip, n.MAC, n.IP)
		if err != nil {
			return nil, err
		}
		g.unicast = append(g.unicast, unicastFrame{n.MAC, f})
	}
	return g, nil
}

// Plan is the shape of a burst of count announcements interval apart, as
// send_arp sends it: each announcement is a request and a reply, and the
// frames go out interval/2 apart.
func (g *GARP) Plan(count int, interval time.Duration) (frames int, spacing time.Duration) {
	return 2 * count, interval / 2
}

// Announce sends frame i of a burst: the requests are the even frames, the
// replies the odd ones. With each request go the unicast replies.
func (g *GARP) Announce(i int) error {
	if _, err := g.conn.WriteTo(g.frames[i%2], &packet.Addr{HardwareAddr: arpframe.Broadcast()}); err != nil {
		return fmt.Errorf("send gratuitous ARP: %w", err)
	}
	if i%2 != 0 {
		return nil
	}
	for _, u := range g.unicast {
		if _, err := g.conn.WriteTo(u.frame, &packet.Addr{HardwareAddr: u.dst}); err != nil {
			return fmt.Errorf("send ARP reply to %s: %w", u.dst, err)
		}
	}
	return nil
}

// File returns a duplicate of the socket for the background sender to
// inherit, or nil when the socket is not a file (a fake). The kernel frees
// a packet socket only after an RCU grace period (synchronize_net in
// packet_release, 5-15 ms here), and the process that drops the last
// reference waits for it: held by the sender, that wait leaves start,
// which Pacemaker waits for, for the sender, which nobody waits for.
func (g *GARP) File() (*os.File, error) {
	sc, ok := g.conn.(syscall.Conn)
	if !ok {
		return nil, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("duplicate packet socket: %w", err)
	}
	var fd int
	cerr := rc.Control(func(s uintptr) {
		fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	})
	if err = errors.Join(cerr, err); err != nil {
		return nil, fmt.Errorf("duplicate packet socket: %w", err)
	}
	return os.NewFile(uintptr(fd), "packet socket"), nil
}

// Close closes the socket.
func (g *GARP) Close() error { return g.conn.Close() }
