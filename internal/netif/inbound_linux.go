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
// address on link, to put back. The source matters: for an IPv4 address the
// kernel names the primary address of its subnet, and when the address
// goes it deletes the route by that source, so a route with another would
// outlive the address.
func (h *Handle) localRoute(link Link, ip netip.Addr) (*netlink.Route, error) {
	r := &netlink.Route{
		LinkIndex: link.Index,
		Table:     unix.RT_TABLE_LOCAL,
		Type:      unix.RTN_LOCAL,
		Dst:       ipNet(netip.PrefixFrom(ip, ip.BitLen())),
		Protocol:  unix.RTPROT_KERNEL,
	}
	if ip.Is4() {
		src, err := h.primaryOf(link, ip)
		if err != nil {
			return nil, err
		}
		r.Scope = netlink.SCOPE_HOST
		r.Src = src.AsSlice()
	}
	return r, nil
}

// primaryOf is the primary address of the subnet of the IPv4 address ip
// on link: ip itself, unless it is a secondary.
func (h *Handle) primaryOf(link Link, ip netip.Addr) (netip.Addr, error) {
	addrs, err := h.nl.AddrList(nlLink(link), netlink.FAMILY_V4)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("list the addresses of %s: %w", link.Name, err)
	}
	for _, a := range addrs {
		p := prefixOf(a.IP, a.Mask)
		if p.Addr() != ip || a.Flags&unix.IFA_F_SECONDARY == 0 {
			continue
		}
		for _, b := range addrs {
			q := prefixOf(b.IP, b.Mask)
			if b.Flags&unix.IFA_F_SECONDARY == 0 && q.Bits() == p.Bits() && p.Masked().Contains(q.Addr()) {
				return q.Addr(), nil
			}
		}
	}
	return ip, nil
}

// routesTo lists the local table's routes of type typ to ip. For a socket
// in strict checking mode (4.20 and later) the kernel filters its dump by
// table and type, so that monitor, which asks every 10 seconds, does not
// read the local route of every address of a node with ten thousand; an
// older kernel sends every route, and the netlink package skips the others.
func (h *Handle) routesTo(ip netip.Addr, typ int) ([]netlink.Route, error) {
	strict := h.nl.SetStrictCheck(true) == nil
	var list []netlink.Route
	var err error
	for range maxDumpRetries {
		list, err = h.nl.RouteListFiltered(family(FamilyOf(ip)),
			&netlink.Route{Table: unix.RT_TABLE_LOCAL, Type: typ},
			netlink.RT_FILTER_TABLE|netlink.RT_FILTER_TYPE)
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if strict {
		if serr := h.nl.SetStrictCheck(false); serr != nil && err == nil {
			err = fmt.Errorf("strict checking: %w", serr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list the local table's routes to %s: %w", ip, err)
	}
	out := list[:0]
	for _, r := range list {
		if r.Dst == nil {
			continue
		}
		if d, ok := netip.AddrFromSlice(r.Dst.IP); ok && d.Unmap() == ip && prefixOf(r.Dst.IP, r.Dst.Mask).IsSingleIP() {
			out = append(out, r)
		}
	}
	return out, nil
}

// hasLocalRoute says whether the local table holds a local route of ip on
// link: the kernel's, which a restore must not double (for IPv6 a second
// route, with the default metric, is no duplicate to the kernel, and stays
// when the address goes).
func (h *Handle) hasLocalRoute(link Link, ip netip.Addr) (bool, error) {
	list, err := h.routesTo(ip, unix.RTN_LOCAL)
	if err != nil {
		return false, err
	}
	for _, r := range list {
		if r.LinkIndex == link.Index {
			return true, nil
		}
	}
	return false, nil
}

// Blocked says whether the blackhole of BlockInbound for ip is in the
// local table: a stop is under way, or one was cut short.
func (h *Handle) Blocked(ip netip.Addr) (bool, error) {
	list, err := h.routesTo(ip, unix.RTN_BLACKHOLE)
	if err != nil {
		return false, err
	}
	for _, r := range list {
		if r.Priority == blockMetric {
			return true, nil
		}
	}
	return false, nil
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
		if err := h.restoreLocal(link, ip); err != nil {
			return fmt.Errorf("restore the local route of %s: %w", ip, err)
		}
	}
	return h.delBlackhole(ip)
}

// restoreLocal puts the local route of ip on link back, unless the kernel
// has it or will add it itself.
func (h *Handle) restoreLocal(link Link, ip netip.Addr) error {
	if on, err := h.hasLocalRoute(link, ip); err != nil || on {
		return err
	}
	if ip.Is6() {
		// An IPv6 address in DAD has no local route yet: the kernel adds
		// it when DAD passes. One added by hand would accept the address
		// before that, and outlive it.
		var a *Addr
		if err := h.Do(func() (err error) { a, err = getAddr6(link.Index, ip); return err }); err != nil {
			return err
		}
		if a != nil && a.Flags&FlagTentative != 0 {
			return nil
		}
	}
	r, err := h.localRoute(link, ip)
	if err != nil {
		return err
	}
	if err := h.nl.RouteAdd(r); err != nil && !errors.Is(err, unix.EEXIST) {
		return err
	}
	return nil
}

func (h *Handle) delBlackhole(ip netip.Addr) error {
	if err := h.nl.RouteDel(anyScope(hostRoute(ip))); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("delete the blackhole for %s from the local table: %w", ip, err)
	}
	return nil
}
