// Package clusterip shares one IP address among the nodes of a cluster, as
// IPaddr2's clone mode does: every node holds the address and joins its
// link to one multicast MAC, so that every node receives every packet to
// the address; a hash of the source address puts each packet into one of
// Buckets buckets, and a node accepts only the packets of the buckets it
// owns and drops the others. The kernel's CLUSTERIP target, which did this
// once, is gone since Linux 6.7; this package programs the same kind of
// nftables rules as resource-agents' IPaddr2 does now (a table per address,
// a jhash of the source, pkttype rewritten to host), over netlink, with no
// firewall binary.
//
// The kernel calls (AddBucket, RemoveBucket, Inspect, Remove) act on the
// caller's network namespace: run them inside netif.Handle.Do for another.
// They are not safe against a concurrent call for the same address on the
// same node: the caller serialises the instances of one node, as IPaddr2
// does with its lock.
package clusterip

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Spec is one shared address as every node programs it. All nodes must
// agree on IP, Buckets, Seed and MAC, or a packet is accepted by two nodes
// or by none.
type Spec struct {
	// IP is the shared address.
	IP netip.Addr
	// Link is the nic that receives the address's packets; the rules
	// match on its index, as IPaddr2's do.
	Link string
	// Buckets is the number of buckets sources are hashed into (the
	// clone's clone-max); a node owns buckets 1 to Buckets.
	Buckets int
	// Seed keys the hash; see DerivedSeed for IPaddr2's default.
	Seed uint32
	// MAC is the multicast MAC every node joins and the clients send
	// to; see DerivedMAC for IPaddr2's default.
	MAC net.HardwareAddr
	// MangleARP rewrites the sender MAC of the ARP the node sends from
	// IP to MAC (IPaddr2's clusterip_mac_mangle), so that clients learn
	// the multicast MAC rather than one node's own. IPv4 only.
	MangleARP bool
	// MangleND rewrites the link-layer address of the neighbour
	// advertisements the node sends for IP, and of the solicitations it
	// sends from IP, to MAC: the IPv6 counterpart of MangleARP, which
	// IPaddr2 lacks: without it a client learns one
	// node's own MAC and only that node's buckets are answered. IPv6
	// only. The nodes must hold the address without duplicate address
	// detection, which finds the other nodes' copies and fails.
	MangleND bool
}

// What the kernel may lack, named as its configuration names it, so that
// an error says what to enable or load.
var (
	ErrNoNFTables = errors.New("the kernel lacks nf_tables (CONFIG_NF_TABLES, with NF_TABLES_IPV4 and NF_TABLES_IPV6)")
	ErrNoHash     = errors.New("the kernel lacks the nftables hash expression (CONFIG_NFT_HASH, module nft_hash)")
	ErrNoARP      = errors.New("the kernel lacks the nftables arp family (CONFIG_NF_TABLES_ARP)")
)

// Errors of a Spec that no node could program.
var (
	ErrMangleIPv6   = errors.New("ARP mangling is for IPv4, not IPv6")
	ErrMangleIPv4   = errors.New("neighbour advertisement mangling is for IPv6, not IPv4")
	ErrNotMulticast = errors.New("cluster MAC is not a multicast MAC")
	ErrBucket       = errors.New("bucket out of range")
	// ErrSeedZero: a hash expression without a seed gets a random one
	// from the kernel, a different one on every node, and netlink
	// library this package uses leaves a seed of 0 out.
	ErrSeedZero = errors.New("hash seed 0 would be a random seed on each node")
)

// Validate says why s cannot be programmed, nil when it can.
func (s Spec) Validate() error {
	switch {
	case !s.IP.IsValid() || s.IP.Zone() != "":
		return fmt.Errorf("cluster IP %q is not an IPv4 or IPv6 address", s.IP)
	case s.Link == "":
		return errors.New("no link for the cluster IP")
	case s.Buckets < 1:
		return fmt.Errorf("%d buckets: %w", s.Buckets, ErrBucket)
	case len(s.MAC) != 6 || s.MAC[0]&1 == 0:
		return fmt.Errorf("%s: %w", s.MAC, ErrNotMulticast)
	case s.Seed == 0:
		return ErrSeedZero
	case s.MangleARP && !s.IP.Unmap().Is4():
		return ErrMangleIPv6
	case s.MangleND && s.IP.Unmap().Is4():
		return ErrMangleIPv4
	}
	return nil
}

// checkBucket says why b is no bucket of s, nil when it is.
func (s Spec) checkBucket(b int) error {
	if b < 1 || b > s.Buckets {
		return fmt.Errorf("bucket %d of 1 to %d: %w", b, s.Buckets, ErrBucket)
	}
	return nil
}

// TableName is the name of the nftables table of ip, the one IPaddr2 uses
// for it, so that either agent finds and removes the other's rules.
func TableName(ip netip.Addr) string {
	return "IPaddr2_" + strings.NewReplacer(".", "_", ":", "_").Replace(ip.Unmap().String())
}

// hashLine is the text whose MD5 IPaddr2 derives the seed and the MAC from:
// the address, the netmask and the broadcast address, as the shell joins
// words (an empty one is left out), with the newline echo ends it with.
func hashLine(ip netip.Addr, netmask, broadcast string) [md5.Size]byte {
	var words []string
	for _, w := range []string{ip.Unmap().String(), netmask, broadcast} {
		if w != "" {
			words = append(words, w)
		}
	}
	return md5.Sum([]byte(strings.Join(words, " ") + "\n"))
}

// DerivedSeed is the seed IPaddr2 uses when clusterip_hash_seed is empty,
// the first four bytes of the MD5 of the address, netmask and broadcast
// address. Every node computes the same seed from the same parameters.
func DerivedSeed(ip netip.Addr, netmask, broadcast string) uint32 {
	sum := hashLine(ip, netmask, broadcast)
	return uint32(sum[0])<<24 | uint32(sum[1])<<16 | uint32(sum[2])<<8 | uint32(sum[3])
}

// DerivedMAC is the cluster MAC IPaddr2 uses when mac is empty: six bytes
// of the same MD5, with the multicast bit set the way IPaddr2 sets it (an
// even low nibble of the first byte becomes 1), and 33:33 in front for
// IPv6, the prefix of IPv6 multicast MACs.
func DerivedMAC(ip netip.Addr, netmask, broadcast string) net.HardwareAddr {
	sum := hashLine(ip, netmask, broadcast)
	mac := net.HardwareAddr(append([]byte(nil), sum[:6]...))
	if mac[0]&1 == 0 {
		mac[0] = mac[0]&0xf0 | 1
	}
	if !ip.Unmap().Is4() {
		mac[0], mac[1] = 0x33, 0x33
	}
	return mac
}

// ParseSeed reads clusterip_hash_seed as IPaddr2 accepts it and nft,
// which IPaddr2 hands it to, reads it: decimal, hexadecimal after 0x, and
// octal after a leading 0 (010 is 8 to nft, and so to an IPaddr2 node,
// which must hash alike). It reports false for anything else (08, which
// nft refuses), and for a value that does not fit the kernel's 32 bits.
func ParseSeed(s string) (uint32, bool) {
	base, digits := 10, s
	if rest, ok := strings.CutPrefix(s, "0x"); ok {
		base, digits = 16, rest
	} else if len(s) > 1 && s[0] == '0' {
		base, digits = 8, s[1:]
	}
	if digits == "" || strings.ContainsAny(digits, "+-_") {
		return 0, false
	}
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

// bucketComment is the comment of a bucket's rule, IPaddr2's, by which a
// node lists and removes its buckets.
func bucketComment(b int) string {
	return "cip-node-" + strconv.Itoa(b)
}

// parseBucketComment reads a bucket's rule comment, false for any other.
func parseBucketComment(c string) (int, bool) {
	digits, ok := strings.CutPrefix(c, "cip-node-")
	if !ok {
		return 0, false
	}
	b, err := strconv.Atoi(digits)
	if err != nil || b < 1 || strconv.Itoa(b) != digits {
		return 0, false
	}
	return b, true
}

// State is what a node holds of one shared address.
type State struct {
	// Table says the address's ip or ip6 table is there, with its
	// chain.
	Table bool
	// Buckets are the buckets the node accepts, in the chain's order,
	// a bucket twice if two rules say it.
	Buckets []int
	// ARP says the arp table that rewrites the sender MAC is there.
	ARP bool
	// ND says the ip6 output chain that rewrites neighbour
	// advertisements is there.
	ND bool
	// Member says the link has joined the cluster MAC.
	Member bool
	// Borrowed says that the node holds nothing of the address but the
	// membership, and that another address's tables on the link need
	// it (one with the same cluster MAC): the membership is then that
	// address's, not a leftover of this one.
	Borrowed bool
	// Stale says the tables hold other rules than the Spec makes for
	// these buckets: another clone-max, seed, link, address or MAC, a
	// rule missing, a rule added by hand, a rewrite the Spec does not
	// ask for. The node may then accept what another node accepts, or
	// nothing; AddBucket replaces such a table.
	Stale bool
}

// Has says whether the node accepts bucket b.
func (st State) Has(b int) bool {
	for _, x := range st.Buckets {
		if x == b {
			return true
		}
	}
	return false
}

// Empty says the node holds nothing of the address (a borrowed
// membership is another address's).
func (st State) Empty() bool {
	return !st.Table && !st.ARP && !st.ND && (!st.Member || st.Borrowed) && !st.Stale && len(st.Buckets) == 0
}

// Bucket is the bucket the kernel's rules put a packet from src into: the
// kernel's jhash of the source address's bytes with the seed, scaled to
// s.Buckets, counted from 1. It lets a test, or a tool, say which node
// answers a client.
func (s Spec) Bucket(src netip.Addr) int {
	key := src.Unmap().AsSlice()
	h := jhash(key, s.Seed)
	return int(uint64(h)*uint64(s.Buckets)>>32) + 1
}

// multicastMember says whether dev_mcast, the text of the kernel's
// /proc/net/dev_mcast, shows link joined to mac by a static membership
// (one that "ip maddr add" or SIOCADDMULTI made, which no socket holds).
func multicastMember(devMcast, link string, mac net.HardwareAddr) bool {
	want := hex.EncodeToString(mac)
	for _, line := range strings.Split(devMcast, "\n") {
		// index, name, users, static users, address.
		f := strings.Fields(line)
		if len(f) == 5 && f[1] == link && f[4] == want && f[3] != "0" {
			return true
		}
	}
	return false
}
