package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/floatip/floatip/internal/announce"
	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/internal/probe"
	"github.com/floatip/floatip/internal/sender"
)

// Namespace is a network namespace: its netlink handle, and the sockets
// the agent opens in it. cmd/floatip hands its parts to the agent.
type Namespace struct {
	*netif.Handle
}

// Open returns the named network namespace ("" for the caller's own). A
// namespace that does not exist is an error matching netif.ErrNoNamespace.
func Open(namespace string) (*Namespace, error) {
	h, err := netif.Open(namespace)
	if err != nil {
		return nil, err
	}
	return &Namespace{h}, nil
}

// Announcer sends the announcements of one address on one link: the
// gratuitous ARP of announce.GARP or the Neighbor Advertisements of
// announce.NA, with the socket the background sender holds.
type Announcer interface {
	announce.Announcer
	File() (*os.File, error)
	Close() error
}

// Dial opens the announcer of ip on link: gratuitous ARP on a send-only
// packet socket for IPv4, Neighbor Advertisements for IPv6.
func (n *Namespace) Dial(link netif.Link, ip netip.Addr, to []netif.Neighbor) (Announcer, error) {
	var an Announcer
	err := n.Do(func() error {
		if ip.Is6() {
			c, err := announce.ListenNA(link, ip)
			if err != nil {
				return err
			}
			na, err := announce.NewNA(c, link.MAC, ip, to)
			if err != nil {
				c.Close()
				return err
			}
			an = na.AsRouter(forwards6(link.Name))
			return nil
		}
		c, err := announce.ListenLink(link)
		if err != nil {
			return err
		}
		if an, err = announce.NewGARP(c, link.MAC, ip, to); err != nil {
			c.Close()
		}
		return err
	})
	return an, err
}

// Probe asks the link for another holder of ip, in-process: an RFC 5227
// ARP probe for IPv4, a DAD Neighbor Solicitation for IPv6.
func (n *Namespace) Probe(ctx context.Context, link netif.Link, ip netip.Addr) (string, error) {
	listen, ask := probe.Listen, probe.ARP
	if ip.Is6() {
		listen, ask = probe.ListenIPv6, probe.NDP
	}
	var c net.PacketConn
	err := n.Do(func() (err error) {
		c, err = listen(link)
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	o := probe.Default
	if o.Own, err = n.MACs(); err != nil {
		return "", err
	}
	who, err := ask(ctx, c, link.MAC, ip, o)
	if who == nil {
		return "", err
	}
	return who.String(), err
}

// resolveWait bounds asking the link for a neighbour the table does not
// know: it delays the first announcement, and a neighbour that answers at
// all answers within milliseconds.
var resolveWait = probe.Options{Count: 2, Spacing: 50 * time.Millisecond, Wait: 150 * time.Millisecond}

// Resolve finds announce_to's neighbour ip in the neighbour table, or asks
// the link. IPv6 needs no MAC: the kernel resolves unicast advertisements.
func (n *Namespace) Resolve(ctx context.Context, link netif.Link, src, ip netip.Addr) (net.HardwareAddr, error) {
	mac, err := n.NeighborMAC(link, ip)
	if mac != nil || err != nil || ip.Is6() {
		return mac, err
	}
	c, err := n.arpSocket(link)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return probe.Resolve(ctx, c, link.MAC, src, ip, resolveWait)
}

func (n *Namespace) arpSocket(link netif.Link) (net.PacketConn, error) {
	var c net.PacketConn
	err := n.Do(func() (err error) {
		c, err = probe.Listen(link)
		return err
	})
	return c, err
}

// forwards6 says whether the node forwards IPv6 on the nic, which makes
// it a router whose advertisements set the Router flag. It reads the
// sysctl of the calling thread's network namespace; unreadable is no.
func forwards6(nic string) bool {
	b, err := os.ReadFile(filepath.Join("/proc/sys/net/ipv6/conf", nic, "forwarding"))
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// SpawnSelf returns the function that starts this binary again, detached,
// as the background sender. The sender gets the agent's environment
// without the meta attributes: its arguments name the address itself, and
// clone meta attributes would make it derive another.
func SpawnSelf(environ []string) func(args []string, hold ...*os.File) (int, error) {
	environ = slices.DeleteFunc(slices.Clone(environ), func(kv string) bool {
		return strings.HasPrefix(kv, "OCF_RESKEY_CRM_meta_")
	})
	// The sender runs in "/": a relative log file or state directory
	// must name for it what it names for the agent, not a file under
	// the root directory.
	for i, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if (k == "HA_LOGFILE" || k == "HA_RSCTMP") && v != "" && !filepath.IsAbs(v) {
			if abs, err := filepath.Abs(v); err == nil {
				environ[i] = k + "=" + abs
			}
		}
	}
	return func(args []string, hold ...*os.File) (int, error) {
		if sender.NetNSOf(args) != 0 && len(hold) <= 1 {
			// The sender of the namespace, if one runs, takes the burst:
			// one process for a wave of starts. Otherwise the one spawned
			// here serves this burst and listens for the next.
			var file *os.File
			if len(hold) == 1 {
				file = hold[0]
			}
			if pid, err := sender.Handover(args, environ, file); err == nil {
				return pid, nil
			}
			args = append(slices.Clone(args), sender.ShareFlag)
		}
		exe, err := os.Executable()
		if err != nil {
			return 0, fmt.Errorf("find own executable: %w", err)
		}
		if _, err := os.Stat(exe); errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("own executable %s is gone (upgraded?)", exe)
		}
		return sender.Spawn(append([]string{exe}, args...), environ, hold...)
	}
}
