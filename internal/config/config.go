// Package config turns the agent's parameters (OCF_RESKEY_* values, with the
// defaults of the meta-data filled in) into a validated Config. It reads each
// value as the type the meta-data gives it, so that the XML decides what a
// parameter is. It is pure:
// nothing here looks at the system, so every rule is tested without root.
// Checks that need the system (does the nic exist, which route covers the
// address) belong to the agent.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/floatip/floatip/internal/netif"
)

// ErrInvalid marks a parameter value that can never work; the agent reports
// it as OCF_ERR_CONFIGURED. Every error of Parse is an *Error that matches
// it.
var ErrInvalid = errors.New("invalid configuration")

// Error is an invalid parameter value.
type Error struct {
	// Param is the parameter at fault; "" for a meta attribute or a
	// combination of parameters.
	Param string
	// Reason is one line for the admin.
	Reason string
}

func (e *Error) Error() string { return e.Reason }

// Is makes every *Error match ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// maxLabel is IFNAMSIZ-1: the kernel stores an address label in 16 bytes
// with the terminating NUL.
const maxLabel = 15

// BroadcastMode says how the IPv4 broadcast address is chosen.
type BroadcastMode int

// The broadcast parameter's forms.
const (
	// BroadcastAuto ("") copies the broadcast of the address that
	// configures the covering subnet, or sets none when there is none.
	BroadcastAuto BroadcastMode = iota
	// BroadcastAllOnes ("+") sets all host bits, as "ip addr add brd +".
	BroadcastAllOnes
	// BroadcastNetwork ("-") clears all host bits, as "ip addr add brd -".
	BroadcastNetwork
	// BroadcastExplicit uses Config.Broadcast.
	BroadcastExplicit
)

// Config is a floating address configuration.
type Config struct {
	IP netip.Addr
	// NIC is the interface to use; "" means find it from the routes.
	NIC string
	// Label is the iflabel suffix (without "nic:"), from iflabel or the
	// nic:label form.
	Label string
	// PrefixLen is the prefix length; -1 means take it from the routes.
	PrefixLen int

	BroadcastMode BroadcastMode
	Broadcast     netip.Addr

	ArpInterval     time.Duration
	ArpCount        int
	ArpCountRefresh int
	// ArpBackground: start sends the first announcement itself and leaves
	// the rest of the burst to a detached sender.
	ArpBackground bool

	LVSSupport            bool
	LVSIPv6AddrLabel      bool
	LVSIPv6AddrLabelValue int
	FlushRoutes           bool
	RunArping             bool
	NoDAD                 bool
	NoPrefixRoute         bool
	// PreferredLifetime is the IPv6 preferred lifetime in seconds, or
	// netif.Forever, the kernel's value for none.
	PreferredLifetime uint32
	NetworkNamespace  string

	// Proto restricts findif to the routes of one routing protocol
	// (rtm_protocol); -1 means any.
	Proto int

	// CheckLinkStatus: a nic that is DOWN or LOWERLAYERDOWN does not serve
	// the address.
	CheckLinkStatus bool
	// AnnounceTo are neighbours that get unicast announcements too.
	AnnounceTo []netip.Addr
	// KillConnections ends the address's TCP connections at stop.
	KillConnections bool
	// Clone is the load-shared address of a cloned resource (clone_max
	// above 1 without unique_clone_address); nil for any other.
	Clone *Clone

	// Warnings say what Parse read, but not as heartbeat:IPaddr2 would
	// (a boolean of y), by parameter name: the agent logs them.
	Warnings []string
}

// Is6 says whether the address is IPv6. Like IPaddr2, the family follows
// from the text of ip: a colon makes it IPv6.
func (c *Config) Is6() bool { return c.IP.Is6() }

// FullLabel is the kernel's label for the address, "nic:label", or "".
func (c *Config) FullLabel(nic string) string {
	if c.Label == "" {
		return ""
	}
	return nic + ":" + c.Label
}

// CheckLabel fails when the label would not fit the kernel's label field on
// nic. It runs once the nic is known.
func (c *Config) CheckLabel(nic string) error {
	if l := c.FullLabel(nic); len(l) > maxLabel {
		return invalid("iflabel", "label [%s] is longer than %d characters", printable(l), maxLabel)
	}
	return nil
}

func invalid(param, format string, args ...any) error {
	return &Error{Param: param, Reason: fmt.Sprintf(format, args...)}
}

// Parse validates params, which must hold every parameter of the meta-data
// (defaults filled in for the ones Pacemaker did not pass), and meta, the
// resource's meta attributes (clone_max, clone, globally_unique). The error
// wraps ErrInvalid and says which parameter is wrong and why, in one line.
func Parse(params, meta map[string]string) (*Config, error) {
	return parse(newParser(params), meta)
}

func parse(p *parser, meta map[string]string) (*Config, error) {
	c := &Config{PrefixLen: -1}

	c.LVSSupport = p.boolean("lvs_support")
	c.LVSIPv6AddrLabel = p.boolean("lvs_ipv6_addrlabel")
	c.FlushRoutes = p.boolean("flush_routes")
	c.RunArping = p.boolean("run_arping")
	c.NoDAD = p.boolean("nodad")
	c.NoPrefixRoute = p.boolean("noprefixroute")
	uniqueClone := p.boolean("unique_clone_address")
	mangle := p.boolean("clusterip_mac_mangle")
	c.CheckLinkStatus = p.boolean("check_link_status")
	c.KillConnections = p.boolean("kill_connections")
	if p.err != nil {
		return nil, p.err
	}

	ip, err := parseIP(p.text("ip"), uniqueClone, meta)
	if err != nil {
		return nil, err
	}
	c.IP = ip

	if err := c.parseNIC(p.text("nic"), p.text("iflabel")); err != nil {
		return nil, err
	}
	if err := c.parsePrefix(p.text("cidr_netmask")); err != nil {
		return nil, err
	}
	if err := c.parseBroadcast(p.text("broadcast")); err != nil {
		return nil, err
	}
	if c.Proto, err = parseProto(p.text("proto")); err != nil {
		return nil, err
	}
	if err := c.parseAnnounce(p); err != nil {
		return nil, err
	}
	if err := c.parseIPv6(p); err != nil {
		return nil, err
	}
	if err := c.parseClone(p, meta, uniqueClone, mangle); err != nil {
		return nil, err
	}
	for _, f := range strings.Fields(p.text("announce_to")) {
		n, err := netip.ParseAddr(f)
		// No neighbour on the link holds the loopback, a broadcast or
		// multicast address, or the floating address: asking the link
		// for one would only delay every start.
		if err != nil || n.Zone() != "" || n.Is4() != c.IP.Is4() || n.IsMulticast() || n.IsUnspecified() ||
			n.IsLoopback() || n == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || n == c.IP {
			return nil, invalid("announce_to", "announce_to [%s] is not an %s neighbour address", printable(f), map[bool]string{true: "IPv4", false: "IPv6"}[c.IP.Is4()])
		}
		// Once each, however often the list names it.
		if !slices.Contains(c.AnnounceTo, n) {
			c.AnnounceTo = append(c.AnnounceTo, n)
		}
	}
	c.NetworkNamespace = p.text("network_namespace")
	if strings.ContainsAny(c.NetworkNamespace, "/\x00") || c.NetworkNamespace == "." || c.NetworkNamespace == ".." {
		return nil, invalid("network_namespace", "network_namespace %q is not a namespace name", c.NetworkNamespace)
	}
	c.Warnings = slices.Sorted(slices.Values(p.warnings))
	return c, nil
}

// parseIP reads ip. unique_clone_address adds the clone number to the last
// octet, as IPaddr2 does, so that each instance of a globally unique clone
// has its own address; an IPv6 address has no octet for it.
func parseIP(s string, uniqueClone bool, meta map[string]string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, invalid("ip", "IP address (the ip parameter) is mandatory")
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, invalid("ip", "IP address [%s] not valid", printable(s))
	}
	ip = ip.Unmap()
	switch {
	case ip.Is4() && strings.Contains(s, ":"):
		return netip.Addr{}, invalid("ip", "IP address [%s] not valid: an IPv4 address must be written as a dotted quad", printable(s))
	case ip.IsUnspecified(), ip.IsMulticast(), ip.Is4() && ip.As4()[0] == 0, ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return netip.Addr{}, invalid("ip", "IP address [%s] cannot be assigned to a host", s)
	}
	if uniqueClone && ip.Is6() {
		// The clone number goes into the last octet, which an IPv6
		// address does not have: every instance would hold the one
		// address. IPaddr2 refuses it too, with a garbled address.
		return netip.Addr{}, invalid("unique_clone_address", "unique_clone_address works only for IPv4 addresses, not %s: use one resource per IPv6 address", ip)
	}
	if uniqueClone {
		// Pacemaker numbers instances from 0; unset is 0, as IPaddr2
		// reads it. Any other text is no instance, and so no address:
		// a sign or a wrapped byte would name another host's.
		n := 0
		if s := meta["clone"]; s != "" {
			v, err := strconv.ParseUint(s, 10, 16)
			if err != nil || s[0] == '+' {
				return netip.Addr{}, invalid("ip", "meta attribute clone [%s] is not a clone instance number: unique_clone_address adds it to the address", printable(s))
			}
			n = int(v)
		}
		b := ip.As4()
		last := int(b[3]) + n
		if last > 255 {
			return netip.Addr{}, invalid("ip", "unique_clone_address: %s plus clone number %d is beyond the last octet", ip, n)
		}
		b[3] = byte(last)
		ip = netip.AddrFrom4(b)
	}
	return ip, nil
}

func (c *Config) parseNIC(nic, label string) error {
	// "nic:label" sets both, and wins over iflabel (IPaddr2 does the same).
	if n, l, ok := strings.Cut(nic, ":"); ok {
		nic, label = n, l
	}
	if nic != "" && !validIfName(nic) {
		return invalid("nic", "nic [%s] is not a valid interface name", printable(nic))
	}
	if !validLabel(label) {
		return invalid("iflabel", "iflabel [%s] is not valid", printable(label))
	}
	if c.IP.Is6() && nic == "" && c.IP.IsLinkLocalUnicast() {
		return invalid("nic", "the nic parameter is mandatory for a link-local address [%s]", c.IP)
	}
	c.NIC, c.Label = nic, label
	if nic != "" {
		return c.CheckLabel(nic)
	}
	return nil
}

// validIfName follows the kernel's dev_valid_name: 1 to 15 bytes, not "."
// or "..", no '/', ':' or white space.
func validIfName(s string) bool {
	if len(s) == 0 || len(s) > maxLabel || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b == '/' || b == ':' || b <= ' ' || b == 0x7f {
			return false
		}
	}
	return true
}

func (c *Config) parsePrefix(s string) error {
	if s == "" {
		return nil
	}
	bits := 32
	if c.IP.Is6() {
		bits = 128
	}
	if strings.Count(s, ".") == 3 && c.IP.Is4() {
		n, ok := dottedMask(s)
		if !ok {
			return invalid("cidr_netmask", "cidr_netmask [%s] is not a valid netmask", printable(s))
		}
		s = strconv.Itoa(n)
	}
	n, err := strconv.Atoi(s)
	if err != nil || len(s) > 3 || s[0] == '+' || s[0] == '-' || n < 1 || n > bits {
		return invalid("cidr_netmask", "cidr_netmask [%s] is not a prefix length from 1 to %d", printable(s), bits)
	}
	c.PrefixLen = n
	return nil
}

// dottedMask converts 255.255.255.0 to 24; a mask with holes is refused.
func dottedMask(s string) (int, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, false
	}
	b := a.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := 0
	for m&(1<<31) != 0 {
		ones++
		m <<= 1
	}
	return ones, m == 0
}

func (c *Config) parseBroadcast(s string) error {
	switch s {
	case "":
		c.BroadcastMode = BroadcastAuto
	case "+":
		c.BroadcastMode = BroadcastAllOnes
	case "-":
		c.BroadcastMode = BroadcastNetwork
	default:
		b, err := netip.ParseAddr(s)
		// As findif's check: no address in 0.0.0.0/8.
		if err != nil || !b.Is4() || c.IP.Is6() || b.As4()[0] == 0 {
			return invalid("broadcast", "broadcast [%s] is not an IPv4 address, + or -", printable(s))
		}
		c.BroadcastMode, c.Broadcast = BroadcastExplicit, b
	}
	return nil
}

func (c *Config) parseAnnounce(p *parser) error {
	interval := p.integer("arp_interval", 1)
	c.ArpInterval = time.Duration(interval) * time.Millisecond
	c.ArpCount = p.integer("arp_count", 1)
	c.ArpCountRefresh = p.integer("arp_count_refresh", 0)
	if p.err != nil {
		return p.err
	}
	switch p.value("arp_bg", "boolean") {
	case "":
		// IPaddr2's default: background for IPv4, whose burst start need
		// not wait for; foreground for IPv6.
		c.ArpBackground = c.IP.Is4()
	default:
		c.ArpBackground = p.boolean("arp_bg")
	}
	switch s := p.text("arp_sender"); s {
	case "", "send_arp", "iputils_arping", "libnet_arping", "ipoibarping":
		// Accepted: floatip always sends the frames itself.
	default:
		return invalid("arp_sender", "unrecognized arp_sender value: %s", printable(s))
	}
	return p.err
}

func (c *Config) parseIPv6(p *parser) error {
	switch {
	case c.IP.Is4():
		// Since resource-agents 4.15.1 an IPv4 address ignores it: it is
		// on by default, for IPv6.
		c.LVSIPv6AddrLabel = false
	case c.LVSSupport:
		return invalid("lvs_support", "IPv6 does not support lvs_support")
	}
	if c.IP.Is6() && c.LVSIPv6AddrLabel {
		// The kernel's label is 32 bits, all ones meaning none.
		v := p.value("lvs_ipv6_addrlabel_value", "integer")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || v == "" || v[0] < '0' || v[0] > '9' || n == 0xffffffff {
			return invalid("lvs_ipv6_addrlabel_value", "lvs_ipv6_addrlabel_value [%s] is not a label from 0 to 4294967294", printable(v))
		}
		c.LVSIPv6AddrLabelValue = int(n)
	}
	switch s := p.text("preferred_lft"); s {
	case "":
		return invalid("preferred_lft", "empty value is invalid for preferred_lft")
	case "forever", "infinity":
		c.PreferredLifetime = netif.Forever
	default:
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || n == 0xffffffff {
			return invalid("preferred_lft", "preferred_lft [%s] is not forever or a number of seconds", printable(s))
		}
		c.PreferredLifetime = uint32(n)
	}
	return nil
}
