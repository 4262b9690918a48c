package probe

import (
	"fmt"
	"net"

	"github.com/mdlayher/packet"

	"github.com/floatip/floatip/internal/arpframe"
	"github.com/floatip/floatip/internal/netif"
)

// Listen opens a packet socket on link that sends frames and receives the
// link's ARP frames, for one probe.
func Listen(link netif.Link) (net.PacketConn, error) {
	ifi := link.Interface()
	c, err := packet.Listen(ifi, packet.Raw, int(arpframe.EtherType), nil)
	if err != nil {
		return nil, fmt.Errorf("open ARP socket on %s: %w", link.Name, err)
	}
	return c, nil
}

// ListenIPv6 opens a packet socket on link that sends whole frames and
// receives the link's IPv6 frames, for one NDP probe.
func ListenIPv6(link netif.Link) (net.PacketConn, error) {
	ifi := link.Interface()
	c, err := packet.Listen(ifi, packet.Raw, etherTypeIPv6, nil)
	if err != nil {
		return nil, fmt.Errorf("open IPv6 socket on %s: %w", link.Name, err)
	}
	return c, nil
}
