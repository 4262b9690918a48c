package announce

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/mdlayher/ndp"
	"golang.org/x/net/ipv6"

	"github.com/floatip/floatip/internal/netif"
)

// allNodes is the link-local all-nodes multicast group (RFC 4291), where
// unsolicited Neighbor Advertisements go.
var allNodes = netip.MustParseAddr("ff02::1")

// NAConn is the part of *ndp.Conn that NA uses.
type NAConn interface {
	WriteTo(m ndp.Message, cm *ipv6.ControlMessage, dst netip.Addr) error
	Close() error
}

// NA announces one IPv6 address on one link with unsolicited Neighbor
// Advertisements (RFC 4861 section 7.2.6): to all nodes, Override set so
// that neighbours replace the link-layer address they cached, Solicited
// clear, with the Target Link-Layer Address option. This is the message
// heartbeat's send_ua sends; Router is set only by AsRouter.
type NA struct {
	conn NAConn
	msg  *ndp.NeighborAdvertisement
	to   []netip.Addr
}

// NewNA returns an NA that sends the advertisements of ip from mac on
// conn (see ListenNA) or a fake. Each neighbour in to also gets each
// advertisement addressed to it alone.
func NewNA(conn NAConn, mac net.HardwareAddr, ip netip.Addr, to []netif.Neighbor) (*NA, error) {
	if !ip.Is6() || ip.Is4In6() {
		return nil, fmt.Errorf("neighbor advertisement for %s: not an IPv6 address", ip)
	}
	n := &NA{conn: conn, msg: &ndp.NeighborAdvertisement{
		Override:      true,
		TargetAddress: ip,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: mac}},
	}}
	for _, nb := range to {
		n.to = append(n.to, nb.IP)
	}
	return n, nil
}

// AsRouter sets the Router flag of the advertisements when router is true:
// a node that forwards IPv6 must say so, or the neighbours that use the
// address as their gateway stop treating it as a router (RFC 4861
// section 7.2.5; keepalived #200, #1330). heartbeat's send_ua never sets
// it.
func (n *NA) AsRouter(router bool) *NA {
	n.msg.Router = router
	return n
}

// Plan is the shape of a burst as send_ua sends it: count advertisements,
// interval apart.
func (n *NA) Plan(count int, interval time.Duration) (frames int, spacing time.Duration) {
	return count, interval
}

// Announce sends one advertisement; all frames of a burst are the same.
func (n *NA) Announce(int) error {
	if err := n.conn.WriteTo(n.msg, nil, allNodes); err != nil {
		return fmt.Errorf("send neighbor advertisement: %w", err)
	}
	for _, dst := range n.to {
		if err := n.conn.WriteTo(n.msg, nil, dst); err != nil {
			return fmt.Errorf("send neighbor advertisement to %s: %w", dst, err)
		}
	}
	return nil
}

// File returns nil: an ICMPv6 socket is freed at once, so the background
// sender has nothing to take over (see GARP.File).
func (n *NA) File() (*os.File, error) { return nil, nil }

// Close closes the socket.
func (n *NA) Close() error { return n.conn.Close() }
