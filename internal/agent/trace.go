package agent

import (
	"context"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/floatip/floatip/internal/clusterip"
	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/ocf"
)

// open opens the Kernel of the namespace ns, through traced when the
// action is traced (trace_ra), so that the trace shows every request and
// its answer.
func (a *Agent) open(ns string) (Kernel, error) {
	k, err := a.Open(ns)
	if !a.Trace {
		return k, err
	}
	a.Log.Debugf("kernel: Open(%q) = %v", ns, err)
	if err != nil {
		return Kernel{}, err
	}
	return traced(k, a.Log), nil
}

// traced is k, each of whose parts logs, at debug level, each request
// with its arguments and its answer. A request that may block (it takes a
// context) is logged when it starts, too: a trace that ends there shows
// where the action was stuck when its timeout came. Links are named by
// name, results shown whole.
func traced(k Kernel, log *ocf.Logger) Kernel {
	return Kernel{
		Links:     traceLinks{k.Links, log},
		Addresses: traceAddresses{k.Addresses, log},
		IPv6:      traceIPv6{k.IPv6, log},
		Inbound:   traceInbound{k.Inbound, log},
		Wire:      traceWire{k.Wire, log},
		Node:      traceNode{k.Node, log},
		Shared:    traceShared{k.Shared, log},
		Close: func() {
			k.Close()
			log.Debugf("kernel: Close()")
		},
	}
}

// The traced parts of a Kernel: each holds the part it traces (k) and the
// log; the compiler checks that each traces every request of its part.
type (
	traceLinks struct {
		k   Links
		log *ocf.Logger
	}
	traceAddresses struct {
		k   Addresses
		log *ocf.Logger
	}
	traceIPv6 struct {
		k   IPv6
		log *ocf.Logger
	}
	traceInbound struct {
		k   Inbound
		log *ocf.Logger
	}
	traceWire struct {
		k   Wire
		log *ocf.Logger
	}
	traceNode struct {
		k   Node
		log *ocf.Logger
	}
	traceShared struct {
		k   Shared
		log *ocf.Logger
	}
)

var (
	_ Links     = traceLinks{}
	_ Addresses = traceAddresses{}
	_ IPv6      = traceIPv6{}
	_ Inbound   = traceInbound{}
	_ Wire      = traceWire{}
	_ Node      = traceNode{}
	_ Shared    = traceShared{}
)

func (t traceLinks) LinkByName(name string) (netif.Link, error) {
	l, err := t.k.LinkByName(name)
	t.log.Debugf("kernel: LinkByName(%s) = %+v %v", name, l, err)
	return l, err
}

func (t traceLinks) LinkByIndex(index int) (netif.Link, error) {
	l, err := t.k.LinkByIndex(index)
	t.log.Debugf("kernel: LinkByIndex(%d) = %+v %v", index, l, err)
	return l, err
}

func (t traceAddresses) AddrsOf(ip netip.Addr) ([]netif.Addr, error) {
	as, err := t.k.AddrsOf(ip)
	t.log.Debugf("kernel: AddrsOf(%s) = %d address(es) %v: %+v", ip, len(as), err, as)
	return as, err
}

func (t traceAddresses) AddrsIn(link netif.Link, p netip.Prefix) ([]netif.Addr, error) {
	as, err := t.k.AddrsIn(link, p)
	t.log.Debugf("kernel: AddrsIn(%s, %s) = %d address(es) %v: %+v", link.Name, p, len(as), err, as)
	return as, err
}

func (t traceAddresses) AddrOn(link netif.Link, p netip.Prefix, label string) (*netif.Addr, error) {
	a, err := t.k.AddrOn(link, p, label)
	t.log.Debugf("kernel: AddrOn(%s, %s, %q) = %+v %v", link.Name, p, label, a, err)
	return a, err
}

func (t traceLinks) Routes(f netif.Family) ([]netif.Route, error) {
	rs, err := t.k.Routes(f)
	// The count and the error come first: a long table is cut at the
	// end of the line.
	t.log.Debugf("kernel: Routes(IPv%d) = %d route(s) %v: %+v", int(f), len(rs), err, rs)
	return rs, err
}

func (t traceAddresses) AddAddr(l netif.Link, a netif.NewAddr) error {
	err := t.k.AddAddr(l, a)
	t.log.Debugf("kernel: AddAddr(%s, %+v) = %v", l.Name, a, err)
	return err
}

func (t traceAddresses) DelAddr(l netif.Link, p netip.Prefix) error {
	err := t.k.DelAddr(l, p)
	t.log.Debugf("kernel: DelAddr(%s, %s) = %v", l.Name, p, err)
	return err
}

func (t traceInbound) BlockInbound(l netif.Link, ip netip.Addr) error {
	err := t.k.BlockInbound(l, ip)
	t.log.Debugf("kernel: BlockInbound(%s, %s) = %v", l.Name, ip, err)
	return err
}

func (t traceInbound) UnblockInbound(l netif.Link, ip netip.Addr, restore bool) error {
	err := t.k.UnblockInbound(l, ip, restore)
	t.log.Debugf("kernel: UnblockInbound(%s, %s, %v) = %v", l.Name, ip, restore, err)
	return err
}

func (t traceInbound) Blocked(ip netip.Addr) (bool, error) {
	b, err := t.k.Blocked(ip)
	t.log.Debugf("kernel: Blocked(%s) = %v %v", ip, b, err)
	return b, err
}

func (t traceLinks) SetUp(l netif.Link) error {
	err := t.k.SetUp(l)
	t.log.Debugf("kernel: SetUp(%s) = %v", l.Name, err)
	return err
}

func (t traceLinks) FlushRouteCache(f netif.Family) error {
	err := t.k.FlushRouteCache(f)
	t.log.Debugf("kernel: FlushRouteCache(IPv%d) = %v", int(f), err)
	return err
}

func (t traceIPv6) WaitDAD(ctx context.Context, l netif.Link, p netip.Prefix) error {
	t.log.Debugf("kernel: WaitDAD(%s, %s)%s ...", l.Name, p, deadline(ctx))
	err := t.k.WaitDAD(ctx, l, p)
	t.log.Debugf("kernel: WaitDAD(%s, %s) = %v", l.Name, p, err)
	return err
}

func (t traceIPv6) AddAddrLabel(p netip.Prefix, label uint32) error {
	err := t.k.AddAddrLabel(p, label)
	t.log.Debugf("kernel: AddAddrLabel(%s, %d) = %v", p, label, err)
	return err
}

func (t traceIPv6) DelAddrLabel(p netip.Prefix, label uint32) error {
	err := t.k.DelAddrLabel(p, label)
	t.log.Debugf("kernel: DelAddrLabel(%s, %d) = %v", p, label, err)
	return err
}

func (t traceWire) Dial(link netif.Link, ip netip.Addr, to []netif.Neighbor) (Announcer, error) {
	an, err := t.k.Dial(link, ip, to)
	t.log.Debugf("kernel: Dial(%s, %s, %+v) = %v", link.Name, ip, to, err)
	if err != nil {
		return nil, err
	}
	return traceAnnouncer{Announcer: an, log: t.log, what: link.Name + " " + ip.String()}, nil
}

func (t traceWire) Probe(ctx context.Context, link netif.Link, ip netip.Addr) (string, error) {
	t.log.Debugf("kernel: Probe(%s, %s)%s ...", link.Name, ip, deadline(ctx))
	who, err := t.k.Probe(ctx, link, ip)
	t.log.Debugf("kernel: Probe(%s, %s) = %q %v", link.Name, ip, who, err)
	return who, err
}

func (t traceWire) Resolve(ctx context.Context, link netif.Link, src, ip netip.Addr) (net.HardwareAddr, error) {
	t.log.Debugf("kernel: Resolve(%s, %s, %s)%s ...", link.Name, src, ip, deadline(ctx))
	mac, err := t.k.Resolve(ctx, link, src, ip)
	t.log.Debugf("kernel: Resolve(%s, %s, %s) = %q %v", link.Name, src, ip, mac.String(), err)
	return mac, err
}

func (t traceNode) Sysctl(name string) (string, error) {
	v, err := t.k.Sysctl(name)
	t.log.Debugf("kernel: Sysctl(%s) = %q %v", name, v, err)
	return v, err
}

func (t traceNode) SetSysctl(name, value string) error {
	err := t.k.SetSysctl(name, value)
	t.log.Debugf("kernel: SetSysctl(%s, %q) = %v", name, value, err)
	return err
}

func (t traceInbound) CanDestroySockets() (bool, error) {
	ok, err := t.k.CanDestroySockets()
	t.log.Debugf("kernel: CanDestroySockets() = %v %v", ok, err)
	return ok, err
}

func (t traceNode) NamespaceID() (uint64, error) {
	id, err := t.k.NamespaceID()
	t.log.Debugf("kernel: NamespaceID() = %d %v", id, err)
	return id, err
}

func (t traceInbound) KillConnections(ip netip.Addr) (int, error) {
	n, err := t.k.KillConnections(ip)
	t.log.Debugf("kernel: KillConnections(%s) = %d %v", ip, n, err)
	return n, err
}

// deadline says how long a blocking request may take at most.
func deadline(ctx context.Context) string {
	dl, ok := ctx.Deadline()
	if !ok {
		return ""
	}
	return " within " + time.Until(dl).Round(time.Millisecond).String()
}

// traceAnnouncer logs each frame an Announcer sends, and its answer.
type traceAnnouncer struct {
	Announcer
	log  *ocf.Logger
	what string // the link and address, for the log lines
}

func (t traceAnnouncer) Plan(count int, interval time.Duration) (int, time.Duration) {
	frames, spacing := t.Announcer.Plan(count, interval)
	t.log.Debugf("announcer %s: Plan(%d, %v) = %d %v", t.what, count, interval, frames, spacing)
	return frames, spacing
}

func (t traceAnnouncer) Announce(i int) error {
	err := t.Announcer.Announce(i)
	t.log.Debugf("announcer %s: Announce(%d) = %v", t.what, i, err)
	return err
}

func (t traceAnnouncer) File() (*os.File, error) {
	f, err := t.Announcer.File()
	t.log.Debugf("announcer %s: File() = %v %v", t.what, f != nil, err)
	return f, err
}

func (t traceAnnouncer) Close() error {
	err := t.Announcer.Close()
	t.log.Debugf("announcer %s: Close() = %v", t.what, err)
	return err
}

func (t traceShared) AddBucket(s clusterip.Spec, b int) error {
	err := t.k.AddBucket(s, b)
	t.log.Debugf("kernel: AddBucket(%+v, %d) = %v", s, b, err)
	return err
}

func (t traceShared) RemoveBucket(s clusterip.Spec, b int) (clusterip.State, error) {
	st, err := t.k.RemoveBucket(s, b)
	t.log.Debugf("kernel: RemoveBucket(%+v, %d) = %+v, %v", s, b, st, err)
	return st, err
}

func (t traceShared) RemoveShared(s clusterip.Spec) error {
	err := t.k.RemoveShared(s)
	t.log.Debugf("kernel: RemoveShared(%+v) = %v", s, err)
	return err
}

func (t traceShared) InspectShared(s clusterip.Spec) (clusterip.State, error) {
	st, err := t.k.InspectShared(s)
	t.log.Debugf("kernel: InspectShared(%+v) = %+v, %v", s, st, err)
	return st, err
}

func (t traceShared) CheckShared(s clusterip.Spec) error {
	err := t.k.CheckShared(s)
	t.log.Debugf("kernel: CheckShared(%+v) = %v", s, err)
	return err
}
