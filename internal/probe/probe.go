// Package probe asks the link whether another host already uses an
// address, before floatip takes it (run_arping) and, later, while it holds
// it. For IPv4 it is the ARP probe of RFC 5227: a request with sender
// protocol address 0.0.0.0, so that no neighbour learns anything from it.
package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/packet"

	"github.com/floatip/floatip/internal/arpframe"
)

// Options shape a probe.
type Options struct {
	// Count probes go out Spacing apart; the answers are awaited until
	// Wait after the first.
	Count   int
	Spacing time.Duration
	Wait    time.Duration
	// Own are the MACs of this node's other nics. Linux answers ARP for
	// any of its addresses on any nic (arp_ignore=0), so a node with two
	// nics on one link answers its own probe: never another holder.
	Own []net.HardwareAddr
}

// own says whether mac is one of the node's own.
func (o Options) own(mac net.HardwareAddr) bool {
	for _, m := range o.Own {
		if bytes.Equal(m, mac) {
			return true
		}
	}
	return false
}

// Default is a short probe: a host on the link answers an ARP request in
// well under a millisecond, so three probes over half a second find it
// without the seconds of RFC 5227's PROBE_MIN/PROBE_MAX, which are meant
// for links where frames are lost in bulk.
var Default = Options{Count: 3, Spacing: 100 * time.Millisecond, Wait: 500 * time.Millisecond}

// ProbeFrame is the Ethernet frame of an RFC 5227 ARP probe for ip from
// mac: a broadcast request, sender protocol address 0.0.0.0, target
// hardware address zero.
func ProbeFrame(mac net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	return arpframe.New(arp.OperationRequest, arpframe.Broadcast(), mac, netip.IPv4Unspecified(), arpframe.NoMAC(), ip)
}

// Claimant returns the MAC of another host that frame shows using ip: an
// ARP packet with ip as sender protocol address (a reply to the probe, a
// gratuitous ARP, a request of its own), or another host's probe for ip
// (RFC 5227 section 2.1.1: two hosts probing at once both back off). A
// frame from mac itself is not a claim.
func Claimant(frame []byte, mac net.HardwareAddr, ip netip.Addr) net.HardwareAddr {
	p, ok := arpframe.Parse(frame)
	if !ok || bytes.Equal(p.SenderHardwareAddr, mac) {
		return nil
	}
	probing := p.Operation == arp.OperationRequest && p.SenderIP.IsUnspecified() && p.TargetIP == ip
	if p.SenderIP == ip || probing {
		return p.SenderHardwareAddr
	}
	return nil
}

// ARP probes the link through conn, a packet socket that receives ARP
// frames (see Listen), and returns the MAC of a host that uses ip, or nil
// when none answered. It returns early at the first claim.
func ARP(ctx context.Context, conn net.PacketConn, mac net.HardwareAddr, ip netip.Addr, o Options) (net.HardwareAddr, error) {
	frame, err := ProbeFrame(mac, ip)
	if err != nil {
		return nil, err
	}
	return ask(ctx, conn, frame, o, func(b []byte) net.HardwareAddr {
		if who := Claimant(b, mac, ip); who != nil && !o.own(who) {
			return who
		}
		return nil
	})
}

// Resolve asks the link for the MAC of target with ARP requests from src
// (an address of ours on the link), for neighbours the neighbour table
// does not know; nil when none answered.
func Resolve(ctx context.Context, conn net.PacketConn, mac net.HardwareAddr, src, target netip.Addr, o Options) (net.HardwareAddr, error) {
	frame, err := arpframe.New(arp.OperationRequest, arpframe.Broadcast(), mac, src, arpframe.NoMAC(), target)
	if err != nil {
		return nil, err
	}
	return ask(ctx, conn, frame, o, func(b []byte) net.HardwareAddr {
		r, ok := arpframe.Parse(b)
		if !ok || r.SenderIP != target || bytes.Equal(r.SenderHardwareAddr, mac) {
			return nil
		}
		return r.SenderHardwareAddr
	})
}

// ask sends frame o.Count times to its own Ethernet destination and reads
// the link until match names a MAC or the wait is over.
func ask(ctx context.Context, conn net.PacketConn, frame []byte, o Options, match func([]byte) net.HardwareAddr) (net.HardwareAddr, error) {
	start := time.Now()
	end := start.Add(o.Wait)
	if d, ok := ctx.Deadline(); ok && d.Before(end) {
		end = d
	}
	next := start
	buf := make([]byte, 1500)
	for sent := 0; ; {
		now := time.Now()
		if sent < o.Count && !now.Before(next) {
			if _, err := conn.WriteTo(frame, &packet.Addr{HardwareAddr: net.HardwareAddr(frame[:6])}); err != nil {
				return nil, fmt.Errorf("send probe: %w", err)
			}
			sent++
			next = next.Add(o.Spacing)
		}
		if !now.Before(end) {
			return nil, nil
		}
		until := end
		if sent < o.Count && next.Before(until) {
			until = next
		}
		if err := conn.SetReadDeadline(until); err != nil {
			return nil, fmt.Errorf("read answers: %w", err)
		}
		n, _, err := conn.ReadFrom(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read answers: %w", err)
		}
		if who := match(buf[:n]); who != nil {
			return who, nil
		}
	}
}
