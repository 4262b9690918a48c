package netif

import (
	"fmt"
	"net/netip"
)

// Query is what FindIf looks for.
type Query struct {
	IP netip.Addr
	// LinkIndex restricts the search to one interface; 0 means any.
	LinkIndex int
	// PrefixLen is the prefix length the admin gave; -1 means take it from
	// the route.
	PrefixLen int
	// MatchProtocol restricts the search to the routes whose protocol
	// (rtm_protocol, "ip route ... proto") is Protocol.
	MatchProtocol bool
	Protocol      uint8
}

// Found is where the address belongs.
type Found struct {
	LinkIndex int
	PrefixLen int
	// Broadcast is the broadcast of the address that configures the
	// covering subnet (IPv4 only), which the caller fills in; invalid
	// when there is none.
	Broadcast netip.Addr
	// Route is the route that decided, nil when nic and prefix were both
	// given and no route covers the address.
	Route *Route
}

// FindIf chooses the interface and prefix length for an address from the
// main routing table, as resource-agents' findif does in its current form:
// among the routes whose destination covers the address (and the given
// prefix), on the given interface and of the given protocol if any, it
// takes the one with the lowest metric, then the most specific. Default
// routes and routes of type unreachable, blackhole and prohibit never match
// (resource-agents #1963, #1976, #2001), and an IPv4 route must be on the
// link (scope link), not behind a gateway. When nothing matches, an
// interface and prefix given together are used as they are. The broadcast
// address is left to the caller, which asks the kernel for the route's
// source address only when start needs it.
func FindIf(q Query, routes []Route) (Found, error) {
	var best *Route
	for i := range routes {
		r := &routes[i]
		if !candidate(q, r) {
			continue
		}
		if best == nil || r.Metric < best.Metric ||
			r.Metric == best.Metric && r.Dst.Bits() > best.Dst.Bits() {
			best = r
		}
	}
	if best == nil {
		if q.LinkIndex != 0 && q.PrefixLen >= 0 {
			return Found{LinkIndex: q.LinkIndex, PrefixLen: q.PrefixLen}, nil
		}
		return Found{}, fmt.Errorf("%w: looked for a route to %s%s%s", ErrNoRoute, q.IP, prefixText(q.PrefixLen), linkText(q.LinkIndex))
	}
	f := Found{LinkIndex: best.LinkIndex, PrefixLen: q.PrefixLen, Route: best}
	if f.PrefixLen < 0 {
		f.PrefixLen = best.Dst.Bits()
	}
	return f, nil
}

func candidate(q Query, r *Route) bool {
	switch {
	case r.Type == RouteUnreachable, r.Type == RouteBlackhole, r.Type == RouteProhibit:
		return false
	case !r.Dst.IsValid(), r.Dst.Bits() == 0, !r.Dst.Contains(q.IP):
		return false
	case q.IP.Is4() && !r.LinkScope:
		return false
	case q.PrefixLen >= 0 && r.Dst.Bits() > q.PrefixLen:
		return false
	case q.LinkIndex != 0 && r.LinkIndex != q.LinkIndex:
		return false
	case q.MatchProtocol && r.Protocol != q.Protocol:
		return false
	}
	return true
}

func prefixText(p int) string {
	if p < 0 {
		return ""
	}
	return fmt.Sprintf(" within a /%d or wider subnet", p)
}

func linkText(i int) string {
	if i == 0 {
		return ""
	}
	return " on the given nic"
}

// Broadcast computes the "+" (all host bits set) or "-" (none set)
// broadcast of "ip addr add brd +/-" for addr/bits.
func Broadcast(addr netip.Addr, bits int, allOnes bool) netip.Addr {
	b := addr.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	host := uint32(0xffffffff)
	if bits > 0 {
		host = 0xffffffff >> bits
	}
	if bits >= 32 {
		host = 0
	}
	if allOnes {
		v |= host
	} else {
		v &^= host
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
