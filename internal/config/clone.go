package config

import (
	"net"
	"strconv"

	"github.com/floatip/floatip/internal/clusterip"
	"github.com/floatip/floatip/ocf"
)

// Clone is one instance of a load-shared address, IPaddr2's clone mode:
// every node holds the address, and a hash of each packet's source
// address picks the one node that accepts it (internal/clusterip).
type Clone struct {
	// Bucket is the instance's bucket, the clone number plus 1, as
	// IPaddr2 numbers them.
	Bucket int
	// Buckets is clone_max, the number of buckets.
	Buckets int
	// Seed is clusterip_hash_seed; SeedSet false: derive it from the
	// address, as IPaddr2 does, once its netmask and broadcast address
	// are known.
	Seed    uint32
	SeedSet bool
	// MAC is the mac parameter, the cluster MAC; nil: derive it, as
	// the seed.
	MAC net.HardwareAddr
	// Mangle is clusterip_mac_mangle: the nodes announce the cluster MAC
	// in their ARP (IPv4) or neighbour advertisements (IPv6).
	Mangle bool
}

// maxBuckets is the largest clone_max of a load-shared address: one
// bucket for each clone number that the meta attribute clone may have
// (16 bits, see parseClone).
const maxBuckets = 1 << 16

// parseClone reads the clone's meta attributes and the clusterip
// parameters. An anonymous clone of the address (clone_max above 1
// without unique_clone_address) is a load-shared address, Clone; the
// clusterip parameters of any other resource are only checked for their
// form, as IPaddr2 ignores them.
func (c *Config) parseClone(p *parser, meta map[string]string, uniqueClone, mangle bool) error {
	cloneMax := 1
	if s, ok := meta["clone_max"]; ok && s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return invalid("", "meta attribute clone_max [%s] is not a positive integer", printable(s))
		}
		cloneMax = n
	}
	if uniqueClone && !ocf.IsTrue(meta["globally_unique"]) {
		return invalid("unique_clone_address", "unique_clone_address makes sense only with meta globally_unique set")
	}
	if cloneMax > 1 && c.LVSSupport {
		return invalid("lvs_support", "lvs_support and a load-shared clone of the address do not go together")
	}
	switch h := p.text("clusterip_hash"); h {
	case "", "sourceip", "sourceip-sourceport", "sourceip-sourceport-destport":
		// Accepted as IPaddr2 4.x accepts it; the nftables rules of
		// resource-agents' main branch hash the source address alone,
		// and so does floatip.
	default:
		return invalid("clusterip_hash", "clusterip_hash [%s] is not sourceip, sourceip-sourceport or sourceip-sourceport-destport", printable(h))
	}
	switch f := p.text("clusterip_firewall"); f {
	case "", "auto", "nft", "iptables":
		// Every one means the same nf_tables rules, over netlink.
	default:
		return invalid("clusterip_firewall", "clusterip_firewall [%s] is not auto, nft or iptables", printable(f))
	}
	if cloneMax == 1 || uniqueClone {
		return nil
	}
	if cloneMax > maxBuckets {
		// The kernel's hash modulus has 32 bits: a larger clone_max
		// would wrap, to 1 for 4294967297, and every node would accept
		// every packet.
		return invalid("", "meta attribute clone_max [%d] is more than %d instances of a load-shared address", cloneMax, maxBuckets)
	}
	cl := &Clone{Buckets: cloneMax, Bucket: 1, Mangle: mangle}
	if s := meta["clone"]; s != "" {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil || s[0] == '+' {
			return invalid("", "meta attribute clone [%s] is not a clone instance number", printable(s))
		}
		cl.Bucket = int(n) + 1
	}
	if s := p.text("clusterip_hash_seed"); s != "" {
		seed, ok := clusterip.ParseSeed(s)
		switch {
		case !ok:
			return invalid("clusterip_hash_seed", "clusterip_hash_seed [%s] is not a decimal, 0x hexadecimal or 0 octal number of 32 bits", printable(s))
		case seed == 0:
			return invalid("clusterip_hash_seed", "clusterip_hash_seed 0 is refused: the kernel would pick another random seed on each node")
		}
		cl.Seed, cl.SeedSet = seed, true
	}
	if s := p.text("mac"); s != "" {
		mac, err := net.ParseMAC(s)
		if err != nil || len(mac) != 6 || mac[0]&1 == 0 {
			return invalid("mac", "mac [%s] is not a multicast Ethernet MAC (the first octet odd)", printable(s))
		}
		cl.MAC = mac
	}
	c.Clone = cl
	// Every node holds the address: another node answering the ARP
	// probe or the Duplicate Address Detection is no collision here.
	c.RunArping, c.NoDAD = false, true
	// The background sender would announce the node's own MAC: start
	// sends the burst of the cluster MAC itself.
	c.ArpBackground = false
	return nil
}
