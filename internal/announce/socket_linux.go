package announce

import (
	"fmt"
	"net"

	"github.com/floatip/floatip/internal/netif"
	"github.com/mdlayher/packet"
)

// ListenLink opens a raw packet socket on link for sending whole Ethernet
// frames. It is bound to protocol 0, so the kernel queues no received frame
// on it (keepalived #1983: an ARP socket nobody reads fills its queue).
func ListenLink(link netif.Link) (net.PacketConn, error) {
	ifi := &net.Interface{Index: link.Index, Name: link.Name, HardwareAddr: link.MAC}
	c, err := packet.Listen(ifi, packet.Raw, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("open packet socket on %s: %w", link.Name, err)
	}
	return c, nil
}
