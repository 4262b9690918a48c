package netif

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Link is what the agent needs to know of an interface.
type Link struct {
	Name  string
	Index int
	MAC   net.HardwareAddr
	// Up is IFF_UP: the admin brought it up.
	Up bool
	// Carrier is IFF_LOWER_UP: the link layer is up.
	Carrier  bool
	Loopback bool
	// OperState is the RFC 2863 operational state as "ip link" shows it
	// (UP, DOWN, LOWERLAYERDOWN, UNKNOWN, ...): what check_link_status
	// judges.
	OperState string
	// HardwareType is the link's ARPHRD_* type (linux/if_arp.h), what
	// "ip link" prints after "link/": floatip's announcements are
	// Ethernet frames, which a link of another type (InfiniBand, a tun
	// device, an IP tunnel) cannot carry.
	HardwareType uint16
	// HardwareName names HardwareType as the netlink package does
	// ("ether", "loopback", "infiniband", "none", "unknown823"); it is
	// empty in a Link that was not read from the kernel.
	HardwareName string
}

// OperDown is check_link_status's question, as IPaddr2 asks it: is the
// link's operational state DOWN or LOWERLAYERDOWN? A loopback device is
// UNKNOWN, never down. The agent and the doctor ask it alike.
func (l Link) OperDown() bool {
	return l.OperState == "DOWN" || l.OperState == "LOWERLAYERDOWN"
}

// SysctlName is the dotted name of the per-interface kernel setting
// format (with %s for the interface) of dev. A dot in the name (a VLAN,
// eth0.100) becomes a slash, as sysctl(8) writes it, so that it is not
// read as a separator.
func SysctlName(format, dev string) string {
	return fmt.Sprintf(format, strings.ReplaceAll(dev, ".", "/"))
}

// The hardware types the agent accepts (linux/if_arp.h), spelled out so
// that this file builds without x/sys/unix.
const (
	HardwareEther    uint16 = 1   // ARPHRD_ETHER
	HardwareLoopback uint16 = 772 // ARPHRD_LOOPBACK
)

// Interface is the link as package net describes it, for the socket
// packages (packet, ndp) that open sockets on it.
func (l Link) Interface() *net.Interface {
	return &net.Interface{Index: l.Index, Name: l.Name, HardwareAddr: l.MAC}
}

// Addr is an address configured on an interface.
type Addr struct {
	Prefix    netip.Prefix
	LinkIndex int
	// Label is the kernel's label ("eth0:vip"), IPv4 only.
	Label string
	// Broadcast is the IPv4 broadcast address; invalid when there is none.
	Broadcast netip.Addr
	Flags     AddrFlags
	// PreferredLifetime and ValidLifetime are in seconds; Forever means
	// infinite.
	PreferredLifetime uint32
	ValidLifetime     uint32
}

// Forever is the lifetime of an address that does not expire (the kernel's
// INFINITY_LIFE_TIME).
const Forever = 0xffffffff

// AddrFlags are the IFA_F_* flags of an address that floatip cares about.
type AddrFlags uint32

// The flags, with the values of linux/if_addr.h.
const (
	// FlagSecondary marks an IPv4 address that is not the first of its
	// subnet on its link (IFA_F_SECONDARY; for IPv6 the same bit is
	// IFA_F_TEMPORARY).
	FlagSecondary AddrFlags = 0x01
	FlagDADFailed AddrFlags = 0x08
	FlagTentative AddrFlags = 0x40
)

// NewAddr describes an address to add.
type NewAddr struct {
	Prefix netip.Prefix
	Label  string
	// Broadcast is set when valid; otherwise the address gets none, as
	// "ip addr add" without brd gives.
	Broadcast     netip.Addr
	NoDAD         bool
	NoPrefixRoute bool
	// PreferredLifetime in seconds, Forever for none. IPv6 only.
	PreferredLifetime uint32
	// Metric is the metric of the address's prefix route
	// (IFA_RT_PRIORITY, "ip addr add ... metric"); 0 leaves the kernel's
	// default.
	Metric uint32
}

// RouteType is the kernel's rtm_type of a route.
type RouteType int

// The route types findif distinguishes (linux/rtnetlink.h).
const (
	RouteUnicast     RouteType = 1
	RouteBlackhole   RouteType = 6
	RouteUnreachable RouteType = 7
	RouteProhibit    RouteType = 8
)

// Route is a route of the main table.
type Route struct {
	Dst       netip.Prefix
	LinkIndex int
	Src       netip.Addr
	Metric    int
	Type      RouteType
	// Protocol is the rtm_protocol: who added the route (2 the kernel,
	// 4 an admin, 16 a DHCP client, ...).
	Protocol uint8
	// LinkScope is scope link: the destination is on the link, not behind
	// a gateway. IPv4 findif considers only such routes.
	LinkScope bool
}

// Family is an address family.
type Family int

// The two families floatip manages.
const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// FamilyOf returns the family of ip.
func FamilyOf(ip netip.Addr) Family {
	if ip.Is4() {
		return IPv4
	}
	return IPv6
}

// Neighbor is a neighbour of the link and its link-layer address.
type Neighbor struct {
	IP  netip.Addr
	MAC net.HardwareAddr
}
