// The interfaces the agent consumes: the node, its kernel and the
// background sender's record.

package agent

import (
	"context"
	"net"
	"net/netip"
	"os"

	"github.com/floatip/floatip/internal/announce"
	"github.com/floatip/floatip/internal/clusterip"
	"github.com/floatip/floatip/internal/netif"
)

// Kernel is one network namespace as the agent sees it, one small
// interface per job: the links and routes findif reads, the floating
// address itself, what IPv6 adds to it, the inbound block that stop puts
// up, the sockets on the links, and the rest of the node. A consumer asks
// for the part it needs; cmd/floatip fills each part from internal/node,
// the tests from fakes, and the trace wraps each part (traced).
type Kernel struct {
	Links
	Addresses
	IPv6
	Inbound
	Wire
	Node
	Shared
	// Close releases the namespace's handle.
	Close func()
}

// Links are the interfaces and routes findif looks at.
type Links interface {
	LinkByName(name string) (netif.Link, error)
	LinkByIndex(index int) (netif.Link, error)
	// SetUp is "ip link set up".
	SetUp(l netif.Link) error
	// Routes are the main table's routes of a family.
	Routes(f netif.Family) ([]netif.Route, error)
	// FlushRouteCache is "ip route flush cache".
	FlushRouteCache(f netif.Family) error
}

// Addresses are the floating address itself and its neighbours on the
// link.
type Addresses interface {
	// AddrsOf returns the addresses equal to ip, on any link.
	AddrsOf(ip netip.Addr) ([]netif.Addr, error)
	// AddrOn returns the address p on link, nil when it is not there;
	// label is the label it should carry, "" for the link's name.
	AddrOn(link netif.Link, p netip.Prefix, label string) (*netif.Addr, error)
	// AddrsIn returns the IPv4 addresses of link in p's subnet with p's
	// prefix length, the primary and its secondaries (nil for IPv6).
	AddrsIn(link netif.Link, p netip.Prefix) ([]netif.Addr, error)
	AddAddr(l netif.Link, a netif.NewAddr) error
	DelAddr(l netif.Link, p netip.Prefix) error
}

// IPv6 is what an IPv6 address needs besides being added: its Duplicate
// Address Detection, and the address label of lvs_ipv6_addrlabel.
type IPv6 interface {
	// WaitDAD waits for the Duplicate Address Detection of an IPv6
	// address (netif.ErrDADFailed, netif.ErrTentative).
	WaitDAD(ctx context.Context, l netif.Link, p netip.Prefix) error
	// AddAddrLabel and DelAddrLabel are "ip addrlabel add/del".
	AddAddrLabel(p netip.Prefix, label uint32) error
	DelAddrLabel(p netip.Prefix, label uint32) error
}

// Inbound is stop's way of letting go of the address's connections: it
// blocks new ones, ends those there are, and lifts the block; the doctor
// asks whether it can end them.
type Inbound interface {
	// BlockInbound makes the node accept nothing more for ip, which stays
	// on l, so that stop can reset its connections without a client
	// reconnecting here meanwhile; UnblockInbound undoes it, and with
	// restore keeps ip usable on l (an address that stays).
	BlockInbound(l netif.Link, ip netip.Addr) error
	UnblockInbound(l netif.Link, ip netip.Addr, restore bool) error
	// Blocked says whether BlockInbound's block of ip is in place: monitor
	// must not take what a stop cut short left for a healthy address.
	Blocked(ip netip.Addr) (bool, error)
	// KillConnections ends the TCP connections whose local address is ip,
	// except listening sockets, and says how many it ended.
	KillConnections(ip netip.Addr) (int, error)
	// CanDestroySockets says whether KillConnections can work here.
	CanDestroySockets() (bool, error)
}

// Wire is what goes on the link: announcements and the questions asked
// of the neighbours.
type Wire interface {
	// Dial opens an announcer for ip on link that also announces to the
	// neighbours in to by unicast. It is called after the address is on
	// the link.
	Dial(link netif.Link, ip netip.Addr, to []netif.Neighbor) (Announcer, error)
	// Probe asks the link whether another host uses ip (run_arping, and
	// monitor at depth 10) and names it, by MAC where it can; "" when
	// none answered.
	Probe(ctx context.Context, link netif.Link, ip netip.Addr) (string, error)
	// Resolve finds the MAC of the neighbour ip on link, from the
	// neighbour table or by asking the link from src; nil when none is
	// known. For IPv6 it may return nil: the kernel resolves unicast
	// advertisements itself.
	Resolve(ctx context.Context, link netif.Link, src, ip netip.Addr) (net.HardwareAddr, error)
}

// Node is the rest of the node that the agent and the doctor consult.
type Node interface {
	// Sysctl reads a kernel setting by its dotted name, as sysctl(8)
	// names it (a dot in a nic name written as a slash).
	Sysctl(name string) (string, error)
	// SetSysctl writes a kernel setting named as Sysctl names it.
	SetSysctl(name, value string) error
	// NamespaceID is the network namespace's inode number, which names
	// it for as long as it lives: the files an address keeps in
	// HA_RSCTMP carry it, so that the same address in two namespaces
	// (two containers, two labs on one host) has two of each.
	NamespaceID() (uint64, error)
}

// Shared is the kernel's side of a load-shared address, a clone's
// (internal/clusterip): the buckets of source addresses this node
// accepts, the rules that drop the others, the ARP or ND rewrite and the
// link's membership of the cluster MAC.
type Shared interface {
	// AddBucket makes the node accept bucket b of s, creating or
	// repairing what the address needs; it may be repeated.
	AddBucket(s clusterip.Spec, b int) error
	// RemoveBucket stops accepting bucket b, and returns what is left;
	// with no bucket left it removes everything of s.
	RemoveBucket(s clusterip.Spec, b int) (clusterip.State, error)
	// RemoveShared removes everything of s, whatever buckets it holds.
	RemoveShared(s clusterip.Spec) error
	// InspectShared reports what the node holds of s.
	InspectShared(s clusterip.Spec) (clusterip.State, error)
	// CheckShared says what the kernel lacks to program s, changing
	// nothing (errors matching clusterip.ErrNoNFTables, ErrNoHash,
	// ErrNoARP); nil when it lacks nothing.
	CheckShared(s clusterip.Spec) error
}

// Announcer sends announcements of one address on one link.
type Announcer interface {
	announce.Announcer
	// File returns a duplicate of the socket for the background sender
	// to hold until it exits, nil when there is no need (see
	// announce.GARP.File).
	File() (*os.File, error)
	Close() error
}

// SenderRecord keeps the background sender of one address, so that the
// actions after the start that spawned it find it and end it.
type SenderRecord interface {
	// Writable says whether Record can keep a sender: the agent starts
	// none that it could not record.
	Writable() error
	// Record keeps pid as the address's sender.
	Record(pid int) error
	// Running returns the recorded sender's pid while it runs, else 0.
	Running() int
	// Stop ends the recorded sender, waits until it has exited (or ctx
	// ends), and forgets it; it reports whether a process was signalled.
	Stop(ctx context.Context) (bool, error)
	// Done forgets the calling process, a sender whose burst is over.
	Done()
}
