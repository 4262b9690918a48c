package agent

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/floatip/floatip/internal/netif"
)

// The kernel makes the first IPv4 address of a subnet on a nic its
// primary and the others its secondaries, and when the primary goes, the
// secondaries go with it unless promote_secondaries (the nic's or
// "all"'s) is set, which new namespaces and most distributions leave at
// 0. Two floating addresses in a subnet of which the nic has no address
// of its own are such a pair: stopping the first would silently drop the
// second (IPaddr2 does). Stop sets the nic's promote_secondaries for the
// one deletion and restores it after, so that the kernel promotes the
// secondary in place: the same address, label, broadcast, flags,
// lifetimes and routes, never absent, where re-adding it would leave a
// gap its clients see and lose routes that use it as their source. The
// setting stays as the admin chose it otherwise.

// promoteSecondaries is the kernel setting, with %s for the nic.
const promoteSecondaries = "net.ipv4.conf.%s.promote_secondaries"

// delAddr removes p from link at stop, leaving the other addresses of its
// subnet where they are. Stops of two addresses on one nic take turns
// here, so that neither restores the setting under the other's deletion.
func (a *Agent) delAddr(ctx context.Context, t *target, link netif.Link, p netip.Prefix) error {
	if !p.Addr().Is4() {
		// IPv6 has no secondaries: each address stands alone.
		return t.k.DelAddr(link, p)
	}
	unlock, err := a.lockNic(ctx, t, link)
	if err != nil {
		return err
	}
	defer unlock()
	restore := a.keepSecondaries(t, link, p)
	defer restore()
	return t.k.DelAddr(link, p)
}

// lockNic takes the lock of link's addresses in HA_RSCTMP, as lock takes
// an address's, and returns what releases it and removes its file. Without
// a usable HA_RSCTMP it goes on unlocked, as lock does.
func (a *Agent) lockNic(ctx context.Context, t *target, link netif.Link) (func(), error) {
	name := "floatip-nic-" + link.Name + ".lock"
	if t.cfg.NetworkNamespace != "" {
		name = "floatip-nic-" + t.cfg.NetworkNamespace + "-" + link.Name + ".lock"
	}
	path := filepath.Join(a.Env.RscTmp, name)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
		if err != nil {
			a.Log.Warnf("no lock for the addresses of %s: %v", link.Name, err)
			return func() {}, nil
		}
		if err := flock(ctx, f); err != nil {
			f.Close()
			return nil, fmt.Errorf("wait for the lock of %s's addresses: %w", link.Name, err)
		}
		if sameFile(f, path) {
			return func() {
				os.Remove(path)
				f.Close()
			}, nil
		}
		f.Close()
	}
}

// keepSecondaries sets promote_secondaries on link when p is the primary
// of other addresses there and the kernel would drop them with it, and
// returns what restores the setting.
func (a *Agent) keepSecondaries(t *target, link netif.Link, p netip.Prefix) func() {
	noop := func() {}
	addrs, err := t.k.AddrsIn(link, p)
	if err != nil {
		a.Log.Warnf("Could not read the other addresses of %s on %s: %v", p.Masked(), link.Name, err)
		return noop
	}
	primary := false
	var others []string
	for _, ad := range addrs {
		if ad.Prefix == p {
			primary = ad.Flags&netif.FlagSecondary == 0
		} else {
			others = append(others, ad.Prefix.String())
		}
	}
	if !primary || len(others) == 0 {
		return noop
	}
	name := netif.SysctlName(promoteSecondaries, link.Name)
	old, err := t.k.Sysctl(name)
	if err == nil && old != "0" {
		return noop
	}
	if all, err := t.k.Sysctl(netif.SysctlName(promoteSecondaries, "all")); err == nil && all != "0" {
		return noop
	}
	lost := strings.Join(others, ", ")
	if err != nil {
		a.Log.Errorf("Could not read %s: %v: removing %s from %s takes %s with it", name, err, p, link.Name, lost)
		return noop
	}
	if err := t.k.SetSysctl(name, "1"); err != nil {
		a.Log.Errorf("Could not set %s=1: %v: removing %s from %s takes %s with it", name, err, p, link.Name, lost)
		return noop
	}
	a.Log.Infof("%s is the primary of %s on %s: %s=1 while it goes, so that the kernel keeps them", p, lost, link.Name, name)
	return func() {
		if err := t.k.SetSysctl(name, old); err != nil {
			a.Log.Warnf("Could not restore %s=%s: %v", name, old, err)
		}
	}
}
