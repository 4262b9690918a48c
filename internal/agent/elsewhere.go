package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/ocf"
)

// The address can be on this node elsewhere than where its configuration
// puts it now: findif picks another nic once a more specific route
// appears, the prefix it gives changes with the routes, or no route is
// left at all. Stop removes it wherever it is, and monitor says that it
// is there, misplaced: a stop that says 0, or a probe that says "not
// running", while the node still answers for the address lets Pacemaker
// start it on a second node (IPaddr2 does both). The copy that LVS direct
// routing keeps on a loopback device is not one of these: it is meant to
// stay, and stop puts it back itself (lvs.go).

// elsewhere returns the copies of the address on the namespace's nics
// other than the one at t's nic and prefix, leaving out those on a
// loopback device that is not t's nic. A link-local address belongs to
// its link alone: the same one on another link is another address (a
// router's fe80::1 on each of its VLANs), so only t's nic is looked at.
func (a *Agent) elsewhere(t *target) ([]netif.Addr, error) {
	all, err := t.k.AddrsOf(t.cfg.IP)
	if err != nil {
		return nil, err
	}
	var out []netif.Addr
	for _, ad := range all {
		if t.cfg.IP.IsLinkLocalUnicast() && (ad.LinkIndex != t.link.Index || t.linkMissing) {
			continue
		}
		if ad.LinkIndex == t.link.Index && !t.linkMissing && !t.nowhere {
			if ad.Prefix == t.prefix {
				continue
			}
		} else if l, err := t.k.LinkByIndex(ad.LinkIndex); err == nil && l.Loopback {
			continue
		}
		out = append(out, ad)
	}
	return out, nil
}

// misplaced is monitor's answer when the address is not where its
// configuration puts it: OCF_ERR_GENERIC, naming where it is, when it is
// on another nic or with another prefix, so that Pacemaker stops it here
// (which removes it) instead of starting it on a second node.
func (a *Agent) misplaced(t *target) (ocf.Status, bool) {
	others, err := a.elsewhere(t)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to read the addresses: %v", err), false
	}
	if len(others) == 0 {
		return 0, true
	}
	return ocf.Fail(a.Log, ocf.ErrGeneric, "%s is on %s, not on %s as %s where the configuration and the routes now put it: stop removes it",
		t.cfg.IP, a.places(t, others), t.link.Name, t.prefix), false
}

// places names each address by nic and prefix, for a log line.
func (a *Agent) places(t *target, addrs []netif.Addr) string {
	var s []string
	for _, ad := range addrs {
		s = append(s, fmt.Sprintf("%s as %s", a.linkName(t, ad.LinkIndex), ad.Prefix))
	}
	return strings.Join(s, " and ")
}

// linkName names the link with index i, or says its index when it is gone.
func (a *Agent) linkName(t *target, i int) string {
	if i == t.link.Index && t.link.Name != "" {
		return t.link.Name
	}
	if l, err := t.k.LinkByIndex(i); err == nil {
		return l.Name
	}
	return fmt.Sprintf("link %d", i)
}

// remove takes the address off the node at stop: from its nic when on,
// and from wherever else it is (others, from elsewhere).
func (a *Agent) remove(ctx context.Context, t *target, on bool, others []netif.Addr) (ocf.Status, bool) {
	if on {
		if err := a.delAddr(ctx, t, t.link, t.prefix); errors.Is(err, syscall.EADDRNOTAVAIL) {
			// Gone between the dump and the delete (the kernel removes
			// secondaries with their primary): what stop wanted.
			a.Log.Infof("%s left %s before stop removed it", t.prefix, t.link.Name)
		} else if err != nil {
			return ocf.Fail(a.Log, ocf.ErrGeneric, "Unable to remove IP [%s] from interface [%s]: %v", t.cfg.IP, t.link.Name, err), false
		}
		a.Log.Infof("Removed %s from %s", t.prefix, t.link.Name)
	}
	for _, ad := range others {
		name := a.linkName(t, ad.LinkIndex)
		l := netif.Link{Name: name, Index: ad.LinkIndex}
		if err := a.delAddr(ctx, t, l, ad.Prefix); errors.Is(err, syscall.EADDRNOTAVAIL) {
			a.Log.Infof("%s left %s before stop removed it", ad.Prefix, name)
			continue
		} else if err != nil {
			return ocf.Fail(a.Log, ocf.ErrGeneric, "Unable to remove IP [%s] from interface [%s], where it is instead of where the configuration puts it: %v", t.cfg.IP, name, err), false
		}
		a.Log.Warnf("Removed %s from %s, where it was instead of where the configuration and the routes now put it", ad.Prefix, name)
	}
	return 0, true
}
