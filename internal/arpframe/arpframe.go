// Package arpframe builds and reads the Ethernet frames that carry ARP,
// for the announcements (gratuitous ARP) and the probes (RFC 5227, and
// the requests that find a neighbour's MAC) alike. Frames are not padded
// to Ethernet's 60 bytes, as heartbeat's send_arp does not pad them: the
// parity suite compares them byte for byte.
package arpframe

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
)

// EtherType is ARP's EtherType, for the packet sockets that receive ARP.
const EtherType = uint16(ethernet.EtherTypeARP)

// headerLen is the Ethernet header: destination, source, EtherType.
const headerLen = 14

// Broadcast is the Ethernet broadcast address, where gratuitous ARP and
// ARP requests go.
func Broadcast() net.HardwareAddr { return append(net.HardwareAddr{}, ethernet.Broadcast...) }

// NoMAC is the all-zero hardware address of a request's target, which the
// request asks for.
func NoMAC() net.HardwareAddr { return net.HardwareAddr{0, 0, 0, 0, 0, 0} }

// New is an Ethernet frame from mac to dst carrying an ARP packet with mac
// and ip as sender and targetMAC and targetIP as target.
func New(op arp.Operation, dst, mac net.HardwareAddr, ip netip.Addr, targetMAC net.HardwareAddr, targetIP netip.Addr) ([]byte, error) {
	p, err := arp.NewPacket(op, mac, ip, targetMAC, targetIP)
	if err != nil {
		return nil, fmt.Errorf("build ARP %s for %s: %w", op, ip, err)
	}
	payload, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("marshal ARP %s for %s: %w", op, ip, err)
	}
	b := make([]byte, 0, headerLen+len(payload))
	b = append(b, dst...)
	b = append(b, mac...)
	b = append(b, byte(ethernet.EtherTypeARP>>8), byte(ethernet.EtherTypeARP&0xff))
	return append(b, payload...), nil
}

// Parse reads the ARP packet of an Ethernet frame; false when the frame
// carries none.
func Parse(frame []byte) (*arp.Packet, bool) {
	if len(frame) < headerLen+28 || ethernet.EtherType(uint16(frame[12])<<8|uint16(frame[13])) != ethernet.EtherTypeARP {
		return nil, false
	}
	var p arp.Packet
	if err := p.UnmarshalBinary(frame[headerLen:]); err != nil {
		return nil, false
	}
	return &p, true
}
