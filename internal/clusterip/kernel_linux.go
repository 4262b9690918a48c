package clusterip

import (
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// AddBucket makes the node accept the packets of bucket b of s: the first
// bucket of an address creates its table, with the rule that drops the
// other buckets' packets, the rewrite of the MAC the node announces when
// s asks for it, and joins the link to the cluster MAC; a bucket already
// there is left as it is, so that AddBucket may be repeated. A table whose
// rules are not those of s (another clone-max, seed, link or MAC, a rule
// missing or added by hand) is replaced by one that is, with the buckets
// it held that s still has. The table, its chains and rules come in one
// netlink batch, which the kernel applies whole or not at all.
func AddBucket(s Spec, b int) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if err := s.checkBucket(b); err != nil {
		return err
	}
	ifi, err := net.InterfaceByName(s.Link)
	if err != nil {
		return fmt.Errorf("find link %s: %w", s.Link, err)
	}
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open nftables: %w", kernelHint(err, ErrNoNFTables))
	}
	st, d, err := inspect(c, s)
	if err != nil {
		return err
	}
	t := tablesOf(s)
	if !st.Table || d.ipStale {
		if st.Table {
			c.DelTable(t.ip)
		}
		c.AddTable(t.ip)
		c.AddChain(t.prerouting)
		if !s.IP.Unmap().Is4() {
			c.AddRule(&nftables.Rule{Table: t.ip, Chain: t.prerouting, Exprs: neighborAdvertRule(s, ifi.Index)})
		}
		c.AddRule(&nftables.Rule{Table: t.ip, Chain: t.prerouting, Exprs: dropRule(s, ifi.Index)})
		kept := State{}
		for _, x := range append(st.Buckets, b) {
			if x <= s.Buckets && !kept.Has(x) {
				kept.Buckets = append(kept.Buckets, x)
				c.InsertRule(&nftables.Rule{Table: t.ip, Chain: t.prerouting, Exprs: bucketRule(s, ifi.Index, x), UserData: comment(bucketComment(x))})
			}
		}
		st.ND = false
	} else if !st.Has(b) {
		// At the head, before the drop rule.
		c.InsertRule(&nftables.Rule{Table: t.ip, Chain: t.prerouting, Exprs: bucketRule(s, ifi.Index, b), UserData: comment(bucketComment(b))})
	}
	if s.MangleND && !st.ND {
		c.AddChain(t.ndOut)
		for _, r := range ndMangleRules(s) {
			c.AddRule(&nftables.Rule{Table: t.ip, Chain: t.ndOut, Exprs: r})
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("add bucket %d of %s to table %s: %w", b, s.IP, t.ip.Name, kernelHint(err, ErrNoHash))
	}
	if d.arpStale {
		c.DelTable(t.arp)
		st.ARP = false
	}
	if s.MangleARP && !st.ARP {
		c.AddTable(t.arp)
		c.AddChain(t.out)
		c.AddRule(&nftables.Rule{Table: t.arp, Chain: t.out, Exprs: arpMangleRule(s)})
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("add arp table %s: %w", t.arp.Name, kernelHint(err, ErrNoARP))
	}
	if !st.Member {
		if err := multicast(unix.SIOCADDMULTI, s.Link, s.MAC); err != nil {
			return fmt.Errorf("join %s to %s: %w", s.Link, s.MAC, err)
		}
	}
	return nil
}

// RemoveBucket makes the node stop accepting bucket b of s, and returns
// what is left. When no bucket is left, it removes the tables and leaves
// the cluster MAC, as Remove does. A bucket that is not there is no error;
// a bucket there twice goes whole.
func RemoveBucket(s Spec, b int) (State, error) {
	if err := s.Validate(); err != nil {
		return State{}, err
	}
	// A bucket above s.Buckets is no error: when clone-max shrinks, the
	// instances Pacemaker stops have such buckets.
	if b < 1 {
		return State{}, fmt.Errorf("bucket %d: %w", b, ErrBucket)
	}
	c, err := nftables.New()
	if err != nil {
		return State{}, fmt.Errorf("open nftables: %w", kernelHint(err, ErrNoNFTables))
	}
	t := tablesOf(s)
	rules, err := bucketRules(c, t)
	if err != nil {
		return State{}, err
	}
	for _, r := range rules {
		if r.bucket == b {
			if err := c.DelRule(r.rule); err != nil {
				return State{}, fmt.Errorf("remove bucket %d of %s: %w", b, s.IP, err)
			}
		}
	}
	if err := c.Flush(); err != nil {
		return State{}, fmt.Errorf("remove bucket %d of %s: %w", b, s.IP, err)
	}
	st, _, err := inspect(c, s)
	if err != nil {
		return State{}, err
	}
	if len(st.Buckets) > 0 {
		return st, nil
	}
	if err := Remove(s); err != nil {
		return st, err
	}
	return State{}, nil
}

// Remove removes everything of s from the node, whatever buckets it
// holds: both tables and the link's membership of the cluster MAC. What is
// not there is no error.
func Remove(s Spec) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open nftables: %w", kernelHint(err, ErrNoNFTables))
	}
	st, _, err := inspect(c, s)
	if err != nil {
		return err
	}
	t := tablesOf(s)
	if st.Table {
		c.DelTable(t.ip)
	}
	if st.ARP {
		c.DelTable(t.arp)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("remove table %s: %w", t.ip.Name, kernelHint(err, nil))
	}
	if !st.Member {
		return nil
	}
	shared, err := macShared(c, s)
	if err != nil || shared {
		return err
	}
	if err := multicast(unix.SIOCDELMULTI, s.Link, s.MAC); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("leave %s on %s: %w", s.MAC, s.Link, err)
	}
	return nil
}

// Inspect reports what the node holds of s.
func Inspect(s Spec) (State, error) {
	c, err := nftables.New()
	if err != nil {
		return State{}, fmt.Errorf("open nftables: %w", kernelHint(err, ErrNoNFTables))
	}
	st, _, err := inspect(c, s)
	return st, err
}

// detail is what inspect finds stale, and so what AddBucket rebuilds.
type detail struct {
	// ipStale: the ip or ip6 table's rules are not those of the Spec
	// for the buckets it holds.
	ipStale bool
	// arpStale: the arp table is there but its rule is not the Spec's
	// (or the Spec rewrites no ARP).
	arpStale bool
}

func inspect(c *nftables.Conn, s Spec) (State, detail, error) {
	var st State
	var d detail
	t := tablesOf(s)
	// A link that is gone has no index: every rule of the table is
	// then stale.
	ifindex := 0
	if ifi, err := net.InterfaceByName(s.Link); err == nil {
		ifindex = ifi.Index
	}
	var err error
	if st.Table, err = hasChain(c, t.prerouting); err != nil {
		return State{}, d, err
	}
	if st.Table {
		rules, err := c.GetRules(t.ip, t.prerouting)
		if err != nil {
			return State{}, d, fmt.Errorf("read table %s: %w", t.ip.Name, kernelHint(err, ErrNoNFTables))
		}
		var want [][]expr.Any
		for _, r := range rules {
			if b, ok := parseBucketComment(ruleComment(r)); ok {
				st.Buckets = append(st.Buckets, b)
				want = append(want, bucketRule(s, ifindex, b))
			}
		}
		if !s.IP.Unmap().Is4() {
			want = append(want, neighborAdvertRule(s, ifindex))
		}
		want = append(want, dropRule(s, ifindex))
		d.ipStale = !sameRules(rules, want)
	}
	if st.ARP, err = hasChain(c, t.out); err != nil {
		return State{}, d, err
	}
	if st.ARP {
		rules, err := c.GetRules(t.arp, t.out)
		if err != nil {
			return State{}, d, fmt.Errorf("read arp table %s: %w", t.arp.Name, kernelHint(err, ErrNoNFTables))
		}
		d.arpStale = !s.MangleARP || !sameRules(rules, [][]expr.Any{arpMangleRule(s)})
	}
	if st.Table && !s.IP.Unmap().Is4() {
		if st.ND, err = hasChain(c, t.ndOut); err != nil {
			return State{}, d, err
		}
		if st.ND {
			rules, err := c.GetRules(t.ip, t.ndOut)
			if err != nil {
				return State{}, d, fmt.Errorf("read table %s: %w", t.ip.Name, kernelHint(err, ErrNoNFTables))
			}
			d.ipStale = d.ipStale || !s.MangleND || !sameRules(rules, ndMangleRules(s))
		}
	}
	st.Stale = d.ipStale || d.arpStale
	mcast, err := os.ReadFile("/proc/thread-self/net/dev_mcast")
	if err != nil {
		return State{}, d, fmt.Errorf("read link multicast memberships: %w", err)
	}
	st.Member = multicastMember(string(mcast), s.Link, s.MAC)
	if st.Member && !st.Table && !st.ARP {
		// Only then: it reads every shared address's tables.
		if st.Borrowed, err = macShared(c, s); err != nil {
			return State{}, d, err
		}
	}
	return st, d, nil
}

// sameRules says whether the kernel's rules are want, expression for
// expression.
func sameRules(rules []*nftables.Rule, want [][]expr.Any) bool {
	if len(rules) != len(want) {
		return false
	}
	for i, r := range rules {
		if !reflect.DeepEqual(r.Exprs, want[i]) {
			return false
		}
	}
	return true
}

// hasChain says whether the kernel holds ch in its table. It reads the
// family's chains, a dump, since a dump of a table's rules is as empty
// for a table that is not there as for an empty one.
func hasChain(c *nftables.Conn, ch *nftables.Chain) (bool, error) {
	chains, err := c.ListChainsOfTableFamily(ch.Table.Family)
	if err != nil {
		return false, fmt.Errorf("list chains: %w", kernelHint(err, ErrNoNFTables))
	}
	for _, x := range chains {
		if x.Table.Name == ch.Table.Name && x.Name == ch.Name {
			return true, nil
		}
	}
	return false, nil
}

type bucketRuleOf struct {
	rule   *nftables.Rule
	bucket int
}

// bucketRules lists the bucket rules of the address's chain, in order.
func bucketRules(c *nftables.Conn, t tables) ([]bucketRuleOf, error) {
	rules, err := c.GetRules(t.ip, t.prerouting)
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", t.ip.Name, kernelHint(err, ErrNoNFTables))
	}
	var out []bucketRuleOf
	for _, r := range rules {
		if b, ok := parseBucketComment(ruleComment(r)); ok {
			r.Table, r.Chain = t.ip, t.prerouting
			out = append(out, bucketRuleOf{rule: r, bucket: b})
		}
	}
	return out, nil
}

// kernelHint adds what the kernel probably lacks to an error whose errno
// says that a protocol, family or expression is unknown to it.
func kernelHint(err error, lacks error) error {
	switch {
	case errors.Is(err, unix.EPROTONOSUPPORT):
		return errors.Join(ErrNoNFTables, err)
	case errors.Is(err, unix.EAFNOSUPPORT), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOENT):
		return errors.Join(lacks, err)
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("%w (programming nftables needs CAP_NET_ADMIN, and a table flagged owner is changed only by the process that made it)", err)
	}
	return err
}
