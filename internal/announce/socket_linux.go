package announce

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
	"golang.org/x/net/ipv6"

	"github.com/floatip/floatip/internal/netif"
)

// ListenLink opens a raw packet socket on link for sending whole Ethernet
// frames. It is bound to protocol 0, so the kernel queues no received frame
// on it (keepalived #1983: an ARP socket nobody reads fills its queue).
func ListenLink(link netif.Link) (net.PacketConn, error) {
	ifi := link.Interface()
	c, err := packet.Listen(ifi, packet.Raw, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("open packet socket on %s: %w", link.Name, err)
	}
	return c, nil
}

// ListenNA opens an ICMPv6 socket on link with ip, which must be on the
// link and past Duplicate Address Detection, as its source address, so the
// advertisements come from the address they announce, as send_ua's do. Its
// ICMPv6 filter blocks every type: the socket only sends.
func ListenNA(link netif.Link, ip netip.Addr) (*ndp.Conn, error) {
	// The ndp package sends to ff02::1 with the interface's name as the
	// zone, which Go resolves in the namespace of whichever thread
	// sends: with network_namespace that is not the nic's, and a nic of
	// the same name there has another index, which the kernel refuses
	// (EINVAL). The index as the zone means the same in every namespace.
	ifi := link.Interface()
	ifi.Name = strconv.Itoa(link.Index)
	c, _, err := ndp.Listen(ifi, ndp.Addr(ip.String()))
	if err != nil {
		return nil, fmt.Errorf("open ICMPv6 socket on %s from %s: %w", link.Name, ip, err)
	}
	var f ipv6.ICMPFilter
	f.SetAll(true)
	if err := c.SetICMPFilter(&f); err != nil {
		c.Close()
		return nil, fmt.Errorf("filter ICMPv6 socket on %s: %w", link.Name, err)
	}
	return c, nil
}
