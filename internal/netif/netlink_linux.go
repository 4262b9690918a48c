package netif

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Handle talks to the kernel of one network namespace over rtnetlink.
type Handle struct {
	nl *netlink.Handle
	// ns is the namespace when it is not the caller's own; -1 otherwise.
	ns netns.NsHandle
}

// Open returns a Handle on the network namespace called name (as in
// /run/netns, what "ip netns" manages), or on the caller's own for "".
// The namespace is entered with setns(2) by the few calls that create
// sockets in it, never by executing "ip netns exec".
func Open(name string) (*Handle, error) {
	if name == "" {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return nil, fmt.Errorf("open rtnetlink: %w", err)
		}
		return &Handle{nl: h, ns: -1}, nil
	}
	ns, err := netns.GetFromName(name)
	// A name too long for a file name is no namespace either.
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENAMETOOLONG) {
		return nil, fmt.Errorf("network namespace %s: %w", name, ErrNoNamespace)
	}
	if err != nil {
		return nil, fmt.Errorf("open network namespace %s: %w", name, err)
	}
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("open rtnetlink in %s: %w", name, err)
	}
	return &Handle{nl: h, ns: ns}, nil
}

// Close releases the netlink socket and the namespace.
func (h *Handle) Close() {
	h.nl.Close()
	if h.ns != -1 {
		h.ns.Close()
	}
}

// NamespaceID is the identity of the handle's network namespace: the
// inode number of its nsfs file, which lsns and /proc/PID/ns/net
// ("net:[4026531840]") show. It names one namespace for as long as that
// namespace lives, whatever name /run/netns gives it; all namespaces are
// files of the one nsfs, so the inode alone tells them apart.
func (h *Handle) NamespaceID() (uint64, error) {
	var st unix.Stat_t
	if h.ns != -1 {
		if err := unix.Fstat(int(h.ns), &st); err != nil {
			return 0, fmt.Errorf("stat network namespace: %w", err)
		}
		return st.Ino, nil
	}
	// The calling thread's namespace, which Do leaves and returns to: a
	// thread locked here is not inside a Do.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return 0, fmt.Errorf("stat own network namespace: %w", err)
	}
	return st.Ino, nil
}

// Do runs f with the calling thread in the handle's namespace, so that the
// sockets f creates belong to it; a socket keeps its namespace for good.
func (h *Handle) Do(f func() error) error {
	if h.ns == -1 {
		return f()
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("read own network namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(h.ns); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter network namespace: %w", err)
	}
	ferr := f()
	if err := netns.Set(orig); err != nil {
		// The thread stays locked, so the runtime ends it with this
		// goroutine instead of reusing it in the wrong namespace.
		return errors.Join(ferr, fmt.Errorf("leave network namespace: %w", err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// LinkByName is "ip link show dev name".
func (h *Handle) LinkByName(name string) (Link, error) {
	l, err := h.nl.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return Link{}, fmt.Errorf("link %s: %w", name, ErrLinkNotFound)
		}
		return Link{}, fmt.Errorf("link %s: %w", name, err)
	}
	return linkOf(l), nil
}

// LinkByIndex is LinkByName for an interface index.
func (h *Handle) LinkByIndex(index int) (Link, error) {
	l, err := h.nl.LinkByIndex(index)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return Link{}, fmt.Errorf("link #%d: %w", index, ErrLinkNotFound)
		}
		return Link{}, fmt.Errorf("link #%d: %w", index, err)
	}
	return linkOf(l), nil
}

// operStates are the RFC 2863 operational states as ip link names them,
// which OperDown and the messages use. The netlink module's own names
// differ: "lower-layer-down", with dashes, would leave a VLAN whose
// parent lost its carrier unseen by check_link_status.
var operStates = map[netlink.LinkOperState]string{
	netlink.OperUnknown:        "UNKNOWN",
	netlink.OperNotPresent:     "NOTPRESENT",
	netlink.OperDown:           "DOWN",
	netlink.OperLowerLayerDown: "LOWERLAYERDOWN",
	netlink.OperTesting:        "TESTING",
	netlink.OperDormant:        "DORMANT",
	netlink.OperUp:             "UP",
}

// operState names s as ip link does; a state it does not know is UNKNOWN.
func operState(s netlink.LinkOperState) string {
	if name, ok := operStates[s]; ok {
		return name
	}
	return "UNKNOWN"
}

func linkOf(l netlink.Link) Link {
	a := l.Attrs()
	return Link{
		Name:         a.Name,
		Index:        a.Index,
		MAC:          a.HardwareAddr,
		Up:           a.Flags&net.FlagUp != 0,
		Carrier:      a.RawFlags&unix.IFF_LOWER_UP != 0,
		Loopback:     a.Flags&net.FlagLoopback != 0,
		OperState:    operState(a.OperState),
		HardwareType: hardwareType(a.EncapType),
		HardwareName: a.EncapType,
	}
}

// SetUp is "ip link set dev name up".
func (h *Handle) SetUp(link Link) error {
	if err := h.nl.LinkSetUp(nlLink(link)); err != nil {
		return fmt.Errorf("set %s up: %w", link.Name, err)
	}
	return nil
}

// nlLink names a link for the netlink package, which only reads its index
// and name for these requests.
func nlLink(l Link) netlink.Link {
	return &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: l.Index, Name: l.Name}}
}

func family(f Family) int {
	if f == IPv4 {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// maxDumpRetries bounds the retries of a dump that the kernel interrupted
// because the table changed under it (NLM_F_DUMP_INTR).
const maxDumpRetries = 5

// Routes is "ip -f inet|inet6 route show table main".
func (h *Handle) Routes(f Family) ([]Route, error) {
	// Each address brings a route of the local table: the kernel is asked
	// for the main table alone, which it filters only for a socket in
	// strict checking mode, so that a nic with 10,000 addresses does not
	// make findif read 10,000 routes. A kernel without that mode (before
	// 4.20) sends every table, and the netlink package skips the others.
	strict := h.nl.SetStrictCheck(true) == nil
	var list []netlink.Route
	var err error
	for range maxDumpRetries {
		list, err = h.nl.RouteListFiltered(family(f), &netlink.Route{Table: unix.RT_TABLE_MAIN}, 0)
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
		return nil, fmt.Errorf("list routes: %w", err)
	}
	out := make([]Route, 0, len(list))
	for _, r := range list {
		rt := Route{
			LinkIndex: r.LinkIndex,
			Metric:    r.Priority,
			Type:      RouteType(r.Type),
			Protocol:  uint8(r.Protocol),
			LinkScope: r.Scope == netlink.SCOPE_LINK,
		}
		if r.Dst != nil {
			rt.Dst = prefixOf(r.Dst.IP, r.Dst.Mask)
		}
		if ip, ok := netip.AddrFromSlice(r.Src); ok {
			rt.Src = ip.Unmap()
		}
		out = append(out, rt)
	}
	return out, nil
}

// prefixOf converts the netlink package's address and mask.
func prefixOf(ip net.IP, mask net.IPMask) netip.Prefix {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Prefix{}
	}
	ones, _ := mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones)
}

func ipNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), bits)}
}

// AddAddr is "ip addr add prefix [brd b] dev link [label l] [nodad]
// [noprefixroute] [preferred_lft n]".
func (h *Handle) AddAddr(link Link, a NewAddr) error {
	na := &netlink.Addr{IPNet: ipNet(a.Prefix), Label: a.Label}
	if a.Prefix.Addr().Is4() {
		// The netlink package computes a broadcast when none is given;
		// 0.0.0.0 tells it to send none, as ip addr add without brd.
		na.Broadcast = net.IPv4zero
		if a.Broadcast.IsValid() {
			na.Broadcast = a.Broadcast.AsSlice()
		}
		if a.Prefix.Addr().IsLoopback() {
			// The kernel refuses 127/8 in another scope; "ip addr add"
			// gives it scope host.
			na.Scope = unix.RT_SCOPE_HOST
		}
	}
	if a.NoDAD {
		na.Flags |= unix.IFA_F_NODAD
	}
	if a.NoPrefixRoute {
		na.Flags |= unix.IFA_F_NOPREFIXROUTE
	}
	if a.Prefix.Addr().Is6() && a.PreferredLifetime != Forever {
		na.PreferedLft = int(a.PreferredLifetime)
		na.ValidLft = Forever
	}
	add := func() error { return h.nl.AddrAdd(nlLink(link), na) }
	if a.Metric != 0 {
		// The netlink package has no IFA_RT_PRIORITY.
		add = func() error { return h.Do(func() error { return addAddrWithMetric(link.Index, na, a.Metric) }) }
	}
	if err := add(); err != nil {
		return fmt.Errorf("add %s to %s: %w", a.Prefix, link.Name, err)
	}
	return nil
}

// DelAddr is "ip addr del prefix dev link".
func (h *Handle) DelAddr(link Link, p netip.Prefix) error {
	na := &netlink.Addr{IPNet: ipNet(p)}
	if err := h.nl.AddrDel(nlLink(link), na); err != nil {
		return fmt.Errorf("delete %s from %s: %w", p, link.Name, err)
	}
	return nil
}

// FlushRouteCache is "ip route flush cache": it asks the kernel to drop its
// cached routes of the family.
func (h *Handle) FlushRouteCache(f Family) error {
	path := "/proc/sys/net/ipv4/route/flush"
	if f == IPv6 {
		path = "/proc/sys/net/ipv6/route/flush"
	}
	// The file acts on the namespace of the thread that opens it.
	if err := h.Do(func() error { return os.WriteFile(path, []byte("-1"), 0) }); err != nil {
		return fmt.Errorf("flush route cache: %w", err)
	}
	return nil
}

// usableNeigh are the neighbour states whose MAC can be used as it is.
const usableNeigh = netlink.NUD_REACHABLE | netlink.NUD_STALE | netlink.NUD_DELAY | netlink.NUD_PROBE | netlink.NUD_PERMANENT | netlink.NUD_NOARP

// NeighborMAC is "ip neigh show dev link to ip": the MAC the neighbour
// table holds for ip, nil when it holds none that is usable.
func (h *Handle) NeighborMAC(link Link, ip netip.Addr) (net.HardwareAddr, error) {
	list, err := h.nl.NeighList(link.Index, family(FamilyOf(ip)))
	if err != nil {
		return nil, fmt.Errorf("list neighbours of %s: %w", link.Name, err)
	}
	for _, n := range list {
		a, ok := netip.AddrFromSlice(n.IP)
		if ok && a.Unmap() == ip && n.State&usableNeigh != 0 && len(n.HardwareAddr) > 0 {
			return n.HardwareAddr, nil
		}
	}
	return nil, nil
}

// Sysctl reads /proc/sys/<name>, with name in sysctl's dotted form, as the
// handle's namespace sees it.
func (h *Handle) Sysctl(name string) (string, error) {
	var b []byte
	err := h.Do(func() (err error) {
		// sysctl(8)'s rule: dots separate the levels, and a slash stands
		// for a dot in a name such as the nic eth0.100.
		b, err = os.ReadFile("/proc/sys/" + strings.NewReplacer(".", "/", "/", ".").Replace(name))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("read %s: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// SetSysctl writes value to /proc/sys/<name>, with name as Sysctl takes
// it, in the handle's namespace.
func (h *Handle) SetSysctl(name, value string) error {
	err := h.Do(func() error {
		return os.WriteFile("/proc/sys/"+strings.NewReplacer(".", "/", "/", ".").Replace(name), []byte(value), 0)
	})
	if err != nil {
		return fmt.Errorf("set %s: %w", name, err)
	}
	return nil
}

// MACs lists the hardware addresses of the namespace's links.
func (h *Handle) MACs() ([]net.HardwareAddr, error) {
	links, err := h.nl.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var out []net.HardwareAddr
	for _, l := range links {
		if mac := l.Attrs().HardwareAddr; len(mac) > 0 {
			out = append(out, mac)
		}
	}
	return out, nil
}
