// The cluster MAC's membership of the link: joined with the first
// address's table, left with the last one that may need it.

package clusterip

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"unsafe"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// macShared says whether the tables of another shared address on s.Link
// may need the link's membership of s.MAC. The kernel keeps one static
// membership of a MAC however often it is added, and drops it at the
// first removal: the last stop of one of two addresses with the same
// cluster MAC would cut the other's clients off. The rewrite rules of an
// address name its MAC; the tables of one that rewrites nothing do not,
// and it keeps the membership too.
func macShared(c *nftables.Conn, s Spec) (bool, error) {
	ifi, err := net.InterfaceByName(s.Link)
	if err != nil {
		// No link, no membership to keep.
		return false, nil
	}
	chains, err := c.ListChains()
	if err != nil {
		return false, fmt.Errorf("list chains: %w", kernelHint(err, ErrNoNFTables))
	}
	type use struct {
		onLink bool
		macs   []net.HardwareAddr
	}
	// By table name: an address's ip and arp tables have the same.
	uses := map[string]*use{}
	iif := binaryutil.NativeEndian.PutUint32(uint32(ifi.Index))
	for _, ch := range chains {
		name := ch.Table.Name
		if name == TableName(s.IP) || !strings.HasPrefix(name, "IPaddr2_") {
			continue
		}
		rules, err := c.GetRules(ch.Table, ch)
		if err != nil {
			return false, fmt.Errorf("read table %s: %w", name, kernelHint(err, ErrNoNFTables))
		}
		u := uses[name]
		if u == nil {
			u = &use{}
			uses[name] = u
		}
		for _, r := range rules {
			for i, e := range r.Exprs {
				switch e := e.(type) {
				case *expr.Immediate:
					if len(e.Data) == 6 {
						u.macs = append(u.macs, e.Data)
					}
				case *expr.Meta:
					if cmp, ok := next(r.Exprs, i).(*expr.Cmp); ok && e.Key == expr.MetaKeyIIF && bytes.Equal(cmp.Data, iif) {
						u.onLink = true
					}
				}
			}
		}
	}
	for _, u := range uses {
		if u.onLink && (len(u.macs) == 0 || slices.ContainsFunc(u.macs, func(m net.HardwareAddr) bool { return bytes.Equal(m, s.MAC) })) {
			return true, nil
		}
	}
	return false, nil
}

// next is the expression after the ith of e, nil for none.
func next(e []expr.Any, i int) expr.Any {
	if i+1 < len(e) {
		return e[i+1]
	}
	return nil
}

// ifreqHW is struct ifreq with a hardware address, the argument of
// SIOCADDMULTI and SIOCDELMULTI.
type ifreqHW struct {
	name   [unix.IFNAMSIZ]byte
	family uint16
	data   [14]byte
	_      [8]byte // the rest of the ifreq union
}

// multicast adds (SIOCADDMULTI) or removes (SIOCDELMULTI) link's static
// membership of mac. This is what "ip maddr add" does: rtnetlink has no
// message for it, and a packet socket's PACKET_ADD_MEMBERSHIP lasts only
// as long as the socket, while this one lasts until removed, the link
// goes or the namespace does.
func multicast(req uint, link string, mac net.HardwareAddr) error {
	var ifr ifreqHW
	if len(link) >= len(ifr.name) {
		return fmt.Errorf("link name %q too long", link)
	}
	copy(ifr.name[:], link)
	ifr.family = unix.AF_UNSPEC
	copy(ifr.data[:], mac)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open socket: %w", err)
	}
	defer unix.Close(fd)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(&ifr))); errno != 0 {
		return errno
	}
	return nil
}

// Check says whether the kernel can program s, without changing anything:
// it sends what AddBucket would make, under a table name of its own,
// together with that table's removal, in one netlink batch, which the
// kernel validates whole (loading the modules it needs) and applies as a
// no-op. The error matches ErrNoNFTables, ErrNoHash or ErrNoARP when the
// kernel lacks that part; nil means it has all s needs.
func Check(s Spec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open nftables: %w", kernelHint(err, ErrNoNFTables))
	}
	t := tablesOf(s)
	name := fmt.Sprintf("floatip_check_%d", os.Getpid())
	t.ip.Name, t.arp.Name = name, name
	c.AddTable(t.ip)
	c.AddChain(t.prerouting)
	c.AddRule(&nftables.Rule{Table: t.ip, Chain: t.prerouting, Exprs: bucketRule(s, 1, 1)})
	c.DelTable(t.ip)
	if err := c.Flush(); err != nil {
		return fmt.Errorf("try a hash rule: %w", kernelHint(err, ErrNoHash))
	}
	if !s.MangleARP {
		return nil
	}
	c.AddTable(t.arp)
	c.AddChain(t.out)
	c.AddRule(&nftables.Rule{Table: t.arp, Chain: t.out, Exprs: arpMangleRule(s)})
	c.DelTable(t.arp)
	if err := c.Flush(); err != nil {
		return fmt.Errorf("try an arp table: %w", kernelHint(err, ErrNoARP))
	}
	return nil
}
