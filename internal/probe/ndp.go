package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"github.com/mdlayher/ndp"
)

const (
	etherTypeIPv6  = 0x86dd
	protoICMPv6    = 58
	ipv6HeaderLen  = 40
	ethHeaderLen   = 14
	ndpHopLimit    = 255 // RFC 4861 section 6.1.2
	ipv6VersionTOS = 0x60
)

// NSFrame is the Ethernet frame of a Neighbor Solicitation for ip as
// Duplicate Address Detection sends it (RFC 4862 section 5.4.2): from the
// unspecified address, to ip's solicited-node multicast group, without a
// source link-layer address. It is built whole because a socket cannot
// send from the unspecified address, and because this way the probe does
// not depend on a usable link-local address.
func NSFrame(mac net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	group, err := ndp.SolicitedNodeMulticast(ip)
	if err != nil {
		return nil, fmt.Errorf("probe %s: %w", ip, err)
	}
	body, err := ndp.MarshalMessage(&ndp.NeighborSolicitation{TargetAddress: ip})
	if err != nil {
		return nil, fmt.Errorf("build neighbor solicitation for %s: %w", ip, err)
	}
	src, dst := netip.IPv6Unspecified().As16(), group.As16()
	binary.BigEndian.PutUint16(body[2:], icmpv6Checksum(src, dst, body))

	g := group.As16()
	b := []byte{0x33, 0x33, g[12], g[13], g[14], g[15]} // RFC 2464 section 7
	b = append(b, mac...)
	b = append(b, etherTypeIPv6>>8, etherTypeIPv6&0xff)
	hdr := make([]byte, ipv6HeaderLen)
	hdr[0] = ipv6VersionTOS
	binary.BigEndian.PutUint16(hdr[4:], uint16(len(body)))
	hdr[6] = protoICMPv6
	hdr[7] = ndpHopLimit
	copy(hdr[8:24], src[:])
	copy(hdr[24:40], dst[:])
	return append(append(b, hdr...), body...), nil
}

// icmpv6Checksum is RFC 4443 section 2.3's checksum over the pseudo-header
// of RFC 8200 section 8.1 and the message.
func icmpv6Checksum(src, dst [16]byte, msg []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(src[:])
	add(dst[:])
	var l [8]byte
	binary.BigEndian.PutUint32(l[:4], uint32(len(msg)))
	l[7] = protoICMPv6
	add(l[:])
	add(msg)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// NAClaimant returns the MAC of another node that frame shows holding ip:
// a Neighbor Advertisement for ip whose Target Link-Layer Address is not
// mac (or, without that option, whose Ethernet source is not mac).
func NAClaimant(frame []byte, mac net.HardwareAddr, ip netip.Addr) net.HardwareAddr {
	const off = ethHeaderLen + ipv6HeaderLen
	if len(frame) < off+24 || binary.BigEndian.Uint16(frame[12:14]) != etherTypeIPv6 || frame[ethHeaderLen+6] != protoICMPv6 {
		return nil
	}
	m, err := ndp.ParseMessage(frame[off:])
	if err != nil {
		return nil
	}
	na, ok := m.(*ndp.NeighborAdvertisement)
	if !ok || na.TargetAddress != ip {
		return nil
	}
	who := net.HardwareAddr(frame[6:12])
	for _, o := range na.Options {
		if l, ok := o.(*ndp.LinkLayerAddress); ok && l.Direction == ndp.Target {
			who = l.Addr
		}
	}
	if bytes.Equal(who, mac) {
		return nil
	}
	return append(net.HardwareAddr{}, who...)
}

// NDP probes the link through conn, a packet socket that receives IPv6
// frames (see ListenIPv6), for another node that holds ip, and returns its
// MAC, or nil when none answered: a node that holds an address answers a
// DAD solicitation for it with an advertisement to all nodes.
func NDP(ctx context.Context, conn net.PacketConn, mac net.HardwareAddr, ip netip.Addr, o Options) (net.HardwareAddr, error) {
	frame, err := NSFrame(mac, ip)
	if err != nil {
		return nil, err
	}
	return ask(ctx, conn, frame, o, func(b []byte) net.HardwareAddr {
		if who := NAClaimant(b, mac, ip); who != nil && !o.own(who) {
			return who
		}
		return nil
	})
}
