package agent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/floatip/floatip/internal/announce"
	"github.com/floatip/floatip/internal/config"
	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/ocf"
)

func (a *Agent) start(ctx context.Context) ocf.Status {
	t, err := a.resolve(Start)
	if err != nil {
		return a.statusFor(Start, err)
	}
	defer t.k.Close()
	unlock, err := a.lock(ctx, t)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "%v", err)
	}
	defer unlock(false)
	if t.cfg.Clone != nil {
		return a.startShared(ctx, t)
	}

	ad, err := a.lookup(t)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to read the addresses: %v", err)
	}
	on := ad != nil
	if t.cfg.CheckLinkStatus && t.link.OperDown() && (on || t.link.Up) {
		// A node whose link is down cannot serve the address: say so
		// before changing anything, with the code that keeps Pacemaker
		// from trying this node again (resource-agents #2047). A nic
		// that is only set down is brought up below, as IPaddr2 does.
		return ocf.Fail(a.Log, ocf.ErrInstalled, "IP %s available, but device has status down: %s is %s (check_link_status)", t.cfg.IP, t.link.Name, t.link.OperState)
	}
	if on && labelMissing(t, ad) {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "IP %s available, but label missing: it is on %s as %s, not %s", t.cfg.IP, t.link.Name, ad.Label, t.cfg.FullLabel(t.link.Name))
	}
	if on && t.cfg.Is6() {
		// A stop cut short by its timeout left the address blocked, and
		// perhaps without its local route. The kernel removes an IPv6
		// address's local route by identity, so one put back by hand
		// would outlive the address: start adds the address afresh,
		// which brings the kernel's own.
		if blocked, err := t.k.Blocked(t.cfg.IP); err != nil {
			a.Log.Warnf("could not tell whether %s is blocked: %v", t.cfg.IP, err)
		} else if blocked {
			a.Log.Infof("%s was left blocked by a stop cut short: adding it afresh", t.prefix)
			if err := t.k.DelAddr(t.link, t.prefix); err != nil && !errors.Is(err, syscall.EADDRNOTAVAIL) {
				return ocf.Fail(a.Log, ocf.ErrGeneric, "Unable to remove IP [%s] from interface [%s] to add it afresh: %v", t.cfg.IP, t.link.Name, err)
			}
			on = false
		}
	}
	// A stop cut short by its timeout may have left the address blocked:
	// a start makes it usable again.
	if err := t.k.UnblockInbound(t.link, t.cfg.IP, on); err != nil {
		if on {
			return ocf.Fail(a.Log, ocf.ErrGeneric, "%s is on %s but the node does not accept it: %v", t.cfg.IP, t.link.Name, err)
		}
		a.Log.Warnf("%v", err)
	}
	if on {
		a.Log.Infof("%s is already on %s: announcing it again", t.prefix, t.link.Name)
	} else if st, ok := a.add(ctx, t); !ok {
		return st
	}
	if t.link.Loopback {
		return ocf.Success
	}
	a.announce(ctx, t, t.cfg.ArpCount, "start")
	return ocf.Success
}

// add adds the address that is not on its nic yet: after an ARP probe
// for another holder when run_arping says so, with its broadcast, label,
// metric and lifetime, on a nic it brings up, and past Duplicate Address
// Detection. It reports false with the status when start must end.
func (a *Agent) add(ctx context.Context, t *target) (ocf.Status, bool) {
	if t.cfg.RunArping && !t.cfg.Is6() {
		who, err := t.k.Probe(ctx, t.link, t.cfg.IP)
		switch {
		case err != nil:
			a.Log.Warnf("could not probe for %s on %s: %v", t.cfg.IP, t.link.Name, err)
		case who != "":
			// Another host holds it: a collision, not a configuration
			// error (resource-agents #1163).
			return ocf.Fail(a.Log, ocf.ErrGeneric, "IPv4 address collision %s [DAD]: %s on %s answers for it", t.cfg.IP, who, t.link.Name), false
		}
	}
	if err := a.beforeAdd(t); err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to add %s: %v", t.cfg.IP, err), false
	}
	na := netif.NewAddr{
		Prefix:            t.prefix,
		NoPrefixRoute:     t.cfg.NoPrefixRoute,
		PreferredLifetime: netif.Forever,
	}
	if t.cfg.Is6() {
		if t.found.Route != nil {
			// The address's prefix route gets the metric of the
			// route findif chose (IPaddr2 4.16).
			na.Metric = uint32(t.found.Route.Metric)
		}
		na.NoDAD = t.cfg.NoDAD
		na.PreferredLifetime = t.cfg.PreferredLifetime
	} else {
		na.Label = t.cfg.FullLabel(t.link.Name)
		na.Broadcast = broadcastFor(t)
	}
	a.Log.Infof("Adding %s%s to device %s%s", t.prefix, brdText(na.Broadcast), t.link.Name, labelText(na.Label))
	if err := t.k.AddAddr(t.link, na); err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to add %s: %v", t.cfg.IP, err), false
	}
	if !t.link.Up {
		if st, ok := a.bringUp(t); !ok {
			return st, false
		}
	}
	if t.cfg.Is6() && !t.cfg.NoDAD {
		if st, ok := a.waitDAD(ctx, t); !ok {
			return st, false
		}
	}
	return ocf.Success, true
}

// bringUp sets the nic of a new address up, as IPaddr2 does. With
// check_link_status a nic that then has no carrier cannot serve the
// address: start takes it off again and fails, leaving the node as it was
// (but for the nic's admin state, as IPaddr2 leaves it).
func (a *Agent) bringUp(t *target) (ocf.Status, bool) {
	a.Log.Infof("Bringing device %s up", t.link.Name)
	if err := t.k.SetUp(t.link); err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to add %s: %v", t.cfg.IP, err), false
	}
	if !t.cfg.CheckLinkStatus || t.link.Loopback {
		return 0, true
	}
	l, err := t.k.LinkByIndex(t.link.Index)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to add %s: %v", t.cfg.IP, err), false
	}
	// The kernel sets the carrier flag at once but the operational state
	// later (linkwatch): right after "up" only the carrier tells.
	if l.Carrier {
		t.link = l
		return 0, true
	}
	if err := t.k.DelAddr(t.link, t.prefix); err != nil {
		a.Log.Errorf("Could not remove %s again: %v", t.prefix, err)
	}
	return ocf.Fail(a.Log, ocf.ErrInstalled, "IP %s available, but device has status down: %s has no carrier (check_link_status)", t.cfg.IP, t.link.Name), false
}

// labelMissing says whether the address on the nic lacks the label that
// iflabel asks for: IPaddr2 4.16 and later call that a partial start
// (OCF_ERR_GENERIC), since a service bound to the label would not find it.
func labelMissing(t *target, ad *netif.Addr) bool {
	return t.cfg.Label != "" && !t.cfg.Is6() && ad.Label != t.cfg.FullLabel(t.link.Name)
}

// beforeAdd prepares the node for a new address: LVS's loopback copy goes,
// and an IPv6 address gets its address label (both as IPaddr2 does; a
// label that cannot be added is only a warning there too).
func (a *Agent) beforeAdd(t *target) error {
	if t.cfg.LVSSupport {
		addrs, err := t.k.AddrsOf(t.cfg.IP)
		if err != nil {
			return err
		}
		if err := a.takeFromLoopback(t, addrs); err != nil {
			return err
		}
	}
	if t.cfg.LVSIPv6AddrLabel {
		if err := t.k.AddAddrLabel(netip.PrefixFrom(t.cfg.IP, 128), uint32(t.cfg.LVSIPv6AddrLabelValue)); err != nil {
			a.Log.Warnf("%v", err)
		}
	}
	return nil
}

// afterDel undoes beforeAdd once stop removed the address.
func (a *Agent) afterDel(t *target) {
	if t.cfg.LVSIPv6AddrLabel {
		if err := t.k.DelAddrLabel(netip.PrefixFrom(t.cfg.IP, 128), uint32(t.cfg.LVSIPv6AddrLabelValue)); err != nil {
			a.Log.Debugf("%v", err)
		}
	}
	if t.cfg.LVSSupport {
		if err := a.giveBackToLoopback(t); err != nil {
			a.Log.Errorf("Could not restore the loopback address %s: %v", t.cfg.IP, err)
		}
	}
}

// dadWait bounds the wait for Duplicate Address Detection; like IPaddr2,
// which polls ten times a second apart, start then goes on with a warning.
const dadWait = 10 * time.Second

// waitDAD waits for the kernel's Duplicate Address Detection of a new IPv6
// address. When another node holds the address, it removes it again and
// fails: start must not leave a duplicate behind.
func (a *Agent) waitDAD(ctx context.Context, t *target) (ocf.Status, bool) {
	ctx, cancel := context.WithTimeout(ctx, dadWait)
	defer cancel()
	err := t.k.WaitDAD(ctx, t.link, t.prefix)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, netif.ErrTentative):
		a.Log.Warnf("%s on %s is still tentative after %v: going on", t.prefix, t.link.Name, dadWait)
		return 0, true
	case errors.Is(err, netif.ErrDADFailed):
		if derr := t.k.DelAddr(t.link, t.prefix); derr != nil {
			a.Log.Errorf("Could not delete IPv6 address: %v", derr)
		}
		return ocf.Fail(a.Log, ocf.ErrGeneric, "IPv6 address collision %s [DAD]: another node on %s's link holds it", t.cfg.IP, t.link.Name), false
	}
	return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to add %s: %v", t.cfg.IP, err), false
}

// broadcastFor is the broadcast address the new address gets.
func broadcastFor(t *target) netip.Addr {
	switch t.cfg.BroadcastMode {
	case config.BroadcastExplicit:
		return t.cfg.Broadcast
	case config.BroadcastAllOnes:
		return netif.Broadcast(t.cfg.IP, t.prefix.Bits(), true)
	case config.BroadcastNetwork:
		return netif.Broadcast(t.cfg.IP, t.prefix.Bits(), false)
	}
	return t.found.Broadcast
}

func brdText(b netip.Addr) string {
	if !b.IsValid() {
		return ""
	}
	return " with broadcast address " + b.String()
}

func labelText(l string) string {
	if l == "" {
		return ""
	}
	return " (with label " + l + ")"
}

// announce sends a burst of count announcements: the first frame before
// it returns, the rest from a detached sender when arp_bg says so.
// Announcing is best effort, as in IPaddr2: a failure is logged and never
// fails the action, because the address itself is in place
// (resource-agents PR #958).
func (a *Agent) announce(ctx context.Context, t *target, count int, why string) {
	if count <= 0 {
		return
	}
	pf := a.sender(t.cfg.IP, t.netns)
	if why == "refresh" && pf.Running() != 0 {
		// The burst of start, or of the last refresh, is still going:
		// the first monitor after start would otherwise cut it short.
		a.Log.Debugf("refresh: a burst for %s is still being sent", t.cfg.IP)
		return
	}
	if _, err := pf.Stop(ctx); err != nil {
		a.Log.Warnf("stop the previous announcer of %s: %v", t.cfg.IP, err)
	}
	an, err := t.k.Dial(t.link, t.cfg.IP, a.neighbors(ctx, t))
	if err != nil {
		a.Log.Errorf("Could not announce %s on %s: %v", t.cfg.IP, t.link.Name, err)
		return
	}
	defer an.Close()
	frames, spacing := an.Plan(count, t.cfg.ArpInterval)
	now := frames
	if t.cfg.ArpBackground && a.Background != nil {
		now = 1
		if err := pf.Writable(); err != nil {
			// Nothing could end a sender that no file names, nor keep the
			// next start from adding a second: none is started.
			a.Log.Errorf("Could not start the background announcer of %s: %v: the other %d frames are not sent", t.cfg.IP, err, frames-1)
			frames = now
		}
	}
	r := announce.Burst(ctx, an, 0, now, spacing, false)
	a.logBurst(t, why, r, frames)
	if now == frames {
		return
	}
	// The sender takes over the socket, so that start does not wait for
	// the kernel to free it.
	var hold []*os.File
	if f, err := an.File(); err != nil {
		a.Log.Warnf("%v", err)
	} else if f != nil {
		defer f.Close()
		hold = append(hold, f)
	}
	a.spawning.Lock()
	defer a.spawning.Unlock()
	if a.quiet {
		// The action's deadline has passed and the process is exiting.
		return
	}
	pid, err := a.Background(a.senderArgs(t, count, now), hold...)
	if err != nil {
		a.Log.Errorf("Could not start the background announcer of %s: %v", t.cfg.IP, err)
		return
	}
	if err := pf.Record(pid); err != nil {
		a.Log.Warnf("%v", err)
	}
	a.Log.Infof("%s: background announcer %d sends the other %d frames, %v apart", why, pid, frames-now, spacing)
}

// neighbors resolves announce_to. A neighbour that cannot be found is
// logged and skipped: the broadcast announcements still go out.
func (a *Agent) neighbors(ctx context.Context, t *target) []netif.Neighbor {
	var out []netif.Neighbor
	for _, ip := range t.cfg.AnnounceTo {
		mac, err := t.k.Resolve(ctx, t.link, t.cfg.IP, ip)
		switch {
		case err != nil:
			a.Log.Warnf("announce_to %s: %v: skipped", ip, err)
		case mac == nil && ip.Is4():
			a.Log.Warnf("announce_to %s: no neighbour with that address answers on %s: skipped", ip, t.link.Name)
		default:
			out = append(out, netif.Neighbor{IP: ip, MAC: mac})
		}
	}
	return out
}

func (a *Agent) logBurst(t *target, why string, r announce.Report, frames int) {
	msg := fmt.Sprintf("%s: sent %d of %d announcement frames for %s on %s (%s)", why, r.Sent, frames, t.cfg.IP, t.link.Name, t.link.MAC)
	if !r.First.IsZero() {
		msg += ", the first at " + r.First.Format(time.RFC3339Nano)
	}
	if r.Failed > 0 {
		a.Log.Errorf("%s, %d failed: %v", msg, r.Failed, r.Err)
		return
	}
	a.Log.Infof("%s", msg)
}
