// A load-shared address, IPaddr2's clone mode: every node holds the
// address, and each instance of the clone owns one bucket of the hash of
// source addresses (internal/clusterip).

package agent

import (
	"cmp"
	"context"
	"errors"
	"os"
	"strconv"

	"github.com/floatip/floatip/internal/clusterip"
	"github.com/floatip/floatip/internal/config"
	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/ocf"
)

// spec is the shared address of t as every node programs it: the seed and
// the MAC the parameters give, or derived as IPaddr2 derives them, from
// the address, its prefix length and its broadcast address as findif
// gives them.
func spec(t *target) clusterip.Spec {
	cl := t.cfg.Clone
	s := clusterip.Spec{
		IP: t.cfg.IP, Link: t.link.Name, Buckets: cl.Buckets,
		Seed: cl.Seed, MAC: cl.MAC,
		MangleARP: cl.Mangle && !t.cfg.Is6(),
		MangleND:  cl.Mangle && t.cfg.Is6(),
	}
	netmask, brd := strconv.Itoa(t.prefix.Bits()), hashBroadcast(t)
	if !cl.SeedSet {
		s.Seed = clusterip.DerivedSeed(t.cfg.IP, netmask, brd)
	}
	if s.MAC == nil {
		s.MAC = clusterip.DerivedMAC(t.cfg.IP, netmask, brd)
	}
	return s
}

// hashBroadcast is the broadcast address as IPaddr2 writes it into the
// text it hashes: the parameter's own text, else the one findif found,
// "" for IPv6 or none.
func hashBroadcast(t *target) string {
	switch t.cfg.BroadcastMode {
	case config.BroadcastExplicit:
		return t.cfg.Broadcast.String()
	case config.BroadcastAllOnes:
		return "+"
	case config.BroadcastNetwork:
		return "-"
	}
	if t.found.Broadcast.IsValid() {
		return t.found.Broadcast.String()
	}
	return ""
}

// sharedFailure is the status of a failed call to the kernel's Shared
// part: a kernel that lacks what clone mode needs cannot run the clone
// on this node (OCF_ERR_INSTALLED), and the reason names the part.
func (a *Agent) sharedFailure(t *target, what string, err error) ocf.Status {
	if lacks := lacking(err); lacks != nil {
		return ocf.Fail(a.Log, ocf.ErrInstalled, "cannot share %s: %v", t.cfg.IP, lacks)
	}
	return ocf.Fail(a.Log, ocf.ErrGeneric, "%s %s: %v", what, t.cfg.IP, oneLine(err))
}

// lacking is what err says the kernel lacks for clone mode, nil when it
// says no such thing.
func lacking(err error) error {
	for _, lacks := range []error{clusterip.ErrNoNFTables, clusterip.ErrNoHash, clusterip.ErrNoARP} {
		if errors.Is(err, lacks) {
			return lacks
		}
	}
	return nil
}

// oneLine is err's text on one line: errors.Join puts a newline between.
func oneLine(err error) string {
	b := []byte(err.Error())
	for i, c := range b {
		if c == '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}

// startShared starts the instance of a load-shared address: the node
// accepts the instance's bucket (the first instance on the node creates
// the table, the rewrite and the membership), holds the address (without
// DAD, which would find the other nodes'), and announces it with the
// cluster MAC, as IPaddr2 does. A start cut short leaves what the next
// start completes, and the next stop removes.
func (a *Agent) startShared(ctx context.Context, t *target) ocf.Status {
	s, b := spec(t), t.cfg.Clone.Bucket
	if t.link.Loopback {
		return a.onLoopbackShared(t)
	}
	if b > s.Buckets {
		return ocf.Fail(a.Log, ocf.ErrConfigured, "clone instance %d has no bucket: clone_max is %d", b-1, s.Buckets)
	}
	// On the nic's lock, as removeBucket says why.
	unlock, err := a.lockNic(ctx, t, t.link)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "%v", err)
	}
	err = t.k.AddBucket(s, b)
	unlock()
	if err != nil {
		return a.sharedFailure(t, "Failed to add bucket "+strconv.Itoa(b)+" of", err)
	}
	ad, err := a.lookup(t)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to read the addresses: %v", err)
	}
	if ad == nil {
		if st, ok := a.add(ctx, t); !ok {
			a.undoBucket(ctx, t, s, b)
			return st
		}
	}
	a.Log.Infof("%s accepts bucket %d of %d on %s, cluster MAC %s", t.cfg.IP, b, s.Buckets, t.link.Name, s.MAC)
	a.announceShared(ctx, t, s, t.cfg.ArpCount, "start")
	return ocf.Success
}

// undoBucket removes the bucket a failed start added.
func (a *Agent) undoBucket(ctx context.Context, t *target, s clusterip.Spec, b int) {
	unlock, err := a.lockNic(ctx, t, t.link)
	if err != nil {
		a.Log.Errorf("Could not remove bucket %d of %s again: %v", b, t.cfg.IP, err)
		return
	}
	defer unlock()
	if _, err := t.k.RemoveBucket(s, b); err != nil {
		a.Log.Errorf("Could not remove bucket %d of %s again: %v", b, t.cfg.IP, err)
	}
}

// announceShared announces the address with the cluster MAC as the
// sender's, so that clients send to the MAC every node receives. The
// whole burst goes from here: the background sender would announce the
// node's own MAC.
func (a *Agent) announceShared(ctx context.Context, t *target, s clusterip.Spec, count int, why string) {
	if t.link.Loopback {
		return
	}
	shared := *t
	shared.link.MAC = s.MAC
	a.announce(ctx, &shared, count, why)
}

// stopShared stops the instance: the node no longer accepts its bucket,
// and when no bucket is left, the last instance on the node removes the
// table, the rewrite, the membership and the address. An instance whose
// bucket is not here, on a node where other instances run, changes
// nothing; on a node where none runs, it removes what a start or stop
// cut short left.
func (a *Agent) stopShared(ctx context.Context, t *target) (ocf.Status, bool) {
	if t.linkMissing || t.nowhere {
		moved, err := a.relocateShared(t)
		if err != nil {
			return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to read the addresses: %v", err), false
		}
		if !moved && t.link.Name == "" {
			a.Log.Infof("%s has no link here: nothing to stop", t.cfg.IP)
			return ocf.Success, true
		}
	}
	st, status, done := a.removeBucket(ctx, t)
	if done {
		return status, false
	}
	if len(st.Buckets) > 0 {
		a.Log.Infof("removed bucket %d of %s; buckets %v stay on this node", t.cfg.Clone.Bucket, t.cfg.IP, st.Buckets)
		return ocf.Success, false
	}
	if err := a.delShared(t); err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Unable to remove IP [%s] from interface [%s]: %v", t.cfg.IP, t.link.Name, err), false
	}
	return ocf.Success, true
}

// removeBucket is the part of a stop that changes the tables and the
// membership, and returns what is left of the address on the node; done
// says the stop ends there, with status. It holds the nic's lock: the
// membership of a cluster MAC is the nic's, which the kernel does not
// count, and the last stop of one address leaves it only when no other
// address's table on the nic needs it. A start of another address with
// the same MAC that ran between that look and the leaving would find
// the nic joined, not join it again, and lose it a moment later; stops
// and starts of load-shared addresses on one nic take turns here (those
// of one address already do, on the address's lock).
func (a *Agent) removeBucket(ctx context.Context, t *target) (st clusterip.State, status ocf.Status, done bool) {
	unlock, err := a.lockNic(ctx, t, t.link)
	if err != nil {
		return st, ocf.Fail(a.Log, ocf.ErrGeneric, "%v", err), true
	}
	defer unlock()
	s, b := spec(t), t.cfg.Clone.Bucket
	st, err = t.k.InspectShared(s)
	if err != nil {
		return st, a.sharedFailure(t, "Failed to read the rules of", err), true
	}
	switch {
	case st.Has(b):
		if st, err = t.k.RemoveBucket(s, b); err != nil {
			return st, a.sharedFailure(t, "Failed to remove bucket "+strconv.Itoa(b)+" of", err), true
		}
	case len(st.Buckets) > 0:
		a.Log.Infof("bucket %d of %s is not on this node: nothing to stop", b, t.cfg.IP)
		return st, ocf.Success, true
	case !st.Empty():
		a.Log.Infof("removing the rules of %s that a start or stop cut short left", t.cfg.IP)
		err := t.k.RemoveShared(s)
		if errors.Is(err, os.ErrPermission) {
			// The stop read the tables, so it may change them: the
			// kernel refuses a table flagged owner, another process's,
			// which holds nothing of this instance. Failing the stop
			// would get the node fenced for it.
			a.Log.Warnf("left the table of %s's name to the process that owns it: %v", t.cfg.IP, oneLine(err))
			return st, ocf.Success, false
		}
		if err != nil {
			return st, a.sharedFailure(t, "Failed to remove the rules of", err), true
		}
	}
	return st, ocf.Success, false
}

// relocateShared points t at the nic that holds the address when its
// own nic is gone or the routes no longer place it: a nic renamed after
// the start keeps the address, the membership and the rules, which name
// it by index, and goes on accepting the bucket. It says whether it
// found one; without one, the rules may still be there, naming a nic
// that was deleted, and a stop removes them by the address's name.
func (a *Agent) relocateShared(t *target) (bool, error) {
	all, err := t.k.AddrsOf(t.cfg.IP)
	if err != nil {
		return false, err
	}
	for _, ad := range all {
		l, err := t.k.LinkByIndex(ad.LinkIndex)
		if err != nil || l.Loopback {
			continue
		}
		a.Log.Infof("%s is on %s, not on %s: the nic was renamed or the routes changed", t.cfg.IP, l.Name, cmp.Or(t.cfg.NIC, "the nic the routes give"))
		t.link, t.prefix, t.linkMissing, t.nowhere = l, ad.Prefix, false, false
		// The broadcast address the start hashed, for the derived MAC.
		t.found = netif.Found{LinkIndex: l.Index, PrefixLen: ad.Prefix.Bits(), Broadcast: ad.Broadcast}
		return true, nil
	}
	return false, nil
}

// delShared removes the address of the last instance, if it is there.
func (a *Agent) delShared(t *target) error {
	if t.linkMissing {
		return nil
	}
	on, err := a.served(t)
	if err != nil || !on {
		return err
	}
	a.Log.Infof("IP status = ok, removing %s from %s: no bucket of it is left on this node", t.prefix, t.link.Name)
	return t.k.DelAddr(t.link, t.prefix)
}

// monitorShared says whether the instance runs here: its bucket, the
// table's rules as the parameters make them, the rewrite they ask for,
// the membership and the address all in place (0). An instance whose
// bucket is not here is not running (7), also beside other instances;
// a node that holds some of it but not all, or rules of other
// parameters, has a partial or stale setup (1), which a stop removes
// and a start repairs.
func (a *Agent) monitorShared(ctx context.Context, t *target) ocf.Status {
	if t.linkMissing || t.nowhere {
		moved, err := a.relocateShared(t)
		if err != nil {
			return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to read the addresses: %v", err)
		}
		if !moved {
			return ocf.NotRunning
		}
		return ocf.Fail(a.Log, ocf.ErrGeneric, "%s is on %s, not where the configuration and the routes now put it: stop removes it", t.cfg.IP, t.link.Name)
	}
	s, b := spec(t), t.cfg.Clone.Bucket
	st, err := t.k.InspectShared(s)
	if err != nil {
		return a.sharedFailure(t, "Failed to read the rules of", err)
	}
	on, err := a.served(t)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to read the addresses: %v", err)
	}
	if !st.Has(b) {
		if len(st.Buckets) > 0 || st.Empty() && !on {
			return ocf.NotRunning
		}
		return ocf.Fail(a.Log, ocf.ErrGeneric, "%s is partly set up without bucket %d (%s): a start or stop was cut short", t.cfg.IP, b, missing(st, s, on))
	}
	if m := missing(st, s, on); m != "" {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "bucket %d of %s is accepted, but %s", b, t.cfg.IP, m)
	}
	if t.cfg.ArpCountRefresh > 0 {
		a.announceShared(ctx, t, s, t.cfg.ArpCountRefresh, "refresh")
	}
	return ocf.Success
}

// missing names what a node that accepts a bucket of s lacks, "" for
// nothing.
func missing(st clusterip.State, s clusterip.Spec, on bool) string {
	switch {
	case !on:
		return "the address is not on " + s.Link
	case !st.Table:
		return "its table is missing"
	case st.Stale:
		return "its rules are not those of its parameters (clone_max, seed, MAC, nic or rewrite changed)"
	case !st.Member:
		return s.Link + " has not joined the cluster MAC " + s.MAC.String()
	case s.MangleARP && !st.ARP:
		return "the ARP rewrite to the cluster MAC is missing"
	case s.MangleND && !st.ND:
		return "the neighbour advertisement rewrite to the cluster MAC is missing"
	}
	return ""
}

// checkShared is validate-all's look at the kernel: whether it has
// nf_tables, its hash and, for the ARP rewrite, its arp family.
func (a *Agent) checkShared(t *target) ocf.Status {
	if t.linkMissing || t.nowhere {
		return ocf.Success
	}
	if t.link.Loopback {
		return a.onLoopbackShared(t)
	}
	err := t.k.CheckShared(spec(t))
	if errors.Is(err, os.ErrPermission) {
		// validate-all runs without root too (pcs, crm_resource):
		// what it cannot ask, start finds out.
		a.Log.Warnf("could not ask the kernel whether it can share %s: %v", t.cfg.IP, oneLine(err))
		return ocf.Success
	}
	if err != nil {
		return a.sharedFailure(t, "Failed to check the kernel for", err)
	}
	return ocf.Success
}

// onLoopbackShared refuses a load-shared address on the loopback device,
// where no client reaches it.
func (a *Agent) onLoopbackShared(t *target) ocf.Status {
	return ocf.Fail(a.Log, ocf.ErrConfigured, "%s is on the loopback device: a load-shared address needs an Ethernet link", t.cfg.IP)
}
