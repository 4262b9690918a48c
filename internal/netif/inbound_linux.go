package netif

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The kernel decides whether a packet is for this host by its local
// routing table ("ip route show table local"), where it keeps a route of
// type local for every address; a socket may still send from an address
// as long as the address is in the address list. So a host that drops
// the local route of an address, while the address stays, accepts nothing
// more for it (no SYN, no ACK of a handshake, no ARP or NS answered) yet
// can still reset the connections it has on it. A blackhole route in the
// same table takes the local route's place: without it a forwarding host
// would route the packets on instead of dropping them.

// blockMetric ranks the blackhole behind the local route (metric 0), so
// that adding it changes nothing until the local route goes, and putting
// the local route back takes over before the blackhole is deleted.
const blockMetric = 1

func hostRoute(ip netip.Addr) *netlink.Route {
	return &netlink.Route{
		Table:    unix.RT_TABLE_LOCAL,
		Type:     unix.RTN_BLACKHOLE,
		Dst:      ipNet(netip.PrefixFrom(ip, ip.BitLen())),
		Priority: blockMetric,
	}
}

// anyScope makes a route to delete match routes of any scope, as "ip route
// del" does: the kernel compares the scope of a delete request unless it
// is RT_SCOPE_NOWHERE, and the local route's is host.
func anyScope(r *netlink.Route) *netlink.Route {
	r.Scope = netlink.SCOPE_NOWHERE
	return r
}

// localRoute is the local route of ip as the kernel makes it for an
// address on link, to put back; the kernel's own names the subnet's
// primary address as the source, ip itself serves as well.
func localRoute(link Link, ip netip.Addr) *netlink.Route {
	r := &netlink.Route{
		LinkIndex: link.Index,
		Table:     unix.RT_TABLE_LOCAL,
		Type:      unix.RTN_LOCAL,
		Dst:       ipNet(netip.PrefixFrom(ip, ip.BitLen())),
		Protocol:  unix.RTPROT_KERNEL,
	}
	if ip.Is4() {
		r.Scope = netlink.SCOPE_HOST
		r.Src = ip.AsSlice()
	}
	return r
}

// BlockInbound makes the kernel accept no more packets for ip while the
// address stays on link, so that the connections on it can be reset
// without a client reconnecting to this host in the meantime. It puts a
// blackhole for ip into the local table and then deletes ip's local route;
// UnblockInbound undoes both.
func (h *Handle) BlockInbound(link Link, ip netip.Addr) error {
	bh := hostRoute(ip)
	if err := h.nl.RouteAdd(bh); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add a blackhole for %s to the local table: %w", ip, err)
	}
	if err := h.nl.RouteDel(anyScope(&netlink.Route{
		LinkIndex: link.Index,
		Table:     unix.RT_TABLE_LOCAL,
		Type:      unix.RTN_LOCAL,
		Dst:       ipNet(netip.PrefixFrom(ip, ip.BitLen())),
	})); err != nil && !errors.Is(err, unix.ESRCH) {
		return errors.Join(fmt.Errorf("delete the local route of %s: %w", ip, err), h.delBlackhole(ip))
	}
	return nil
}

// UnblockInbound removes what BlockInbound put in place. With restore it
// first puts ip's local route on link back, for an address that stays
// (a stop that could not remove it, a start that finds it there); an
// address that is gone needs none, the kernel adds it with the address.
func (h *Handle) UnblockInbound(link Link, ip netip.Addr, restore bool) error {
	if restore {
		if err := h.nl.RouteAdd(localRoute(link, ip)); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("restore the local route of %s: %w", ip, err)
		}
	}
	return h.delBlackhole(ip)
}

func (h *Handle) delBlackhole(ip netip.Addr) error {
	if err := h.nl.RouteDel(anyScope(hostRoute(ip))); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("delete the blackhole for %s from the local table: %w", ip, err)
	}
	return nil
}
