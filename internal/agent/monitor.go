package agent

import (
	"context"
	"fmt"

	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/ocf"
)

func (a *Agent) monitor(ctx context.Context) ocf.Status {
	t, err := a.resolve(Monitor)
	if err != nil {
		return a.statusFor(Monitor, err)
	}
	defer t.k.Close()
	if t.cfg.Clone != nil {
		return a.monitorShared(ctx, t)
	}
	ad, err := a.lookup(t)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to read the addresses: %v", err)
	}
	if ad == nil {
		if st, ok := a.misplaced(t); !ok {
			return st
		}
		if t.linkMissing {
			// Not running, as IPaddr2 answers, which also says why.
			a.Log.Infof("Invalid interface name [%s]: no such interface: not running here", t.link.Name)
		}
		a.clearBlock(t)
		return ocf.NotRunning
	}
	if st, ok := a.healthy(ctx, t, ad); !ok {
		return st
	}
	if blocked, err := t.k.Blocked(t.cfg.IP); err != nil {
		a.Log.Warnf("could not tell whether %s is blocked: %v", t.cfg.IP, err)
	} else if blocked {
		// Only a stop leaves it so, one under way or one cut short;
		// stop and start repair it.
		return ocf.Fail(a.Log, ocf.ErrGeneric, "%s is on %s but the node accepts nothing for it: a stop is under way or was cut short", t.cfg.IP, t.link.Name)
	}
	if t.cfg.ArpCountRefresh > 0 && !t.link.Loopback {
		a.announce(ctx, t, t.cfg.ArpCountRefresh, "refresh")
	}
	return ocf.Success
}

// clearBlock removes the block of an address that is gone, left by a stop
// cut short after it removed the address: it would keep the node from
// reaching the address on its new holder, and after a cleanup no start or
// stop of the address may come to this node, only probes.
func (a *Agent) clearBlock(t *target) {
	blocked, err := t.k.Blocked(t.cfg.IP)
	if err != nil || !blocked {
		return
	}
	a.Log.Infof("Removing the block of %s that a stop cut short left", t.cfg.IP)
	a.unblock(t)
}

// status is the legacy LSB-style check: monitor's answer, and a word on
// stdout.
func (a *Agent) status(context.Context) ocf.Status {
	t, err := a.resolve(Status)
	if err != nil {
		return a.statusFor(Status, err)
	}
	defer t.k.Close()
	on, err := a.served(t)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to read the addresses: %v", err)
	}
	if on {
		fmt.Fprintln(a.Stdout, "running")
		return ocf.Success
	}
	if st, ok := a.misplaced(t); !ok {
		return st
	}
	fmt.Fprintln(a.Stdout, "stopped")
	return ocf.NotRunning
}

// healthy checks what makes an address that is on its nic useless: DAD
// failed (kube-vip #523), no link when check_link_status asks, and at depth
// 10 another host answering for it (split brain: resource-agents #913,
// MetalLB #1890, kube-vip #1418).
func (a *Agent) healthy(ctx context.Context, t *target, ad *netif.Addr) (ocf.Status, bool) {
	if ad.Flags&netif.FlagDADFailed != 0 {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "IPv6 address collision %s [DAD]: another node on %s's link holds it", t.cfg.IP, t.link.Name), false
	}
	if t.cfg.CheckLinkStatus && t.link.OperDown() {
		// Not running, as upstream's IPaddr2 answers after 4.18
		// (resource-agents PR #2166; 4.17 and 4.18 say
		// OCF_ERR_INSTALLED): an ordinary failure, which the resource's
		// migration-threshold and failure-timeout govern, instead of a
		// ban from this node until an admin cleans it up.
		a.Log.Warnf("IP %s available, but device has status down: %s is %s (check_link_status)", t.cfg.IP, t.link.Name, t.link.OperState)
		return ocf.NotRunning, false
	}
	if labelMissing(t, ad) {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "IP %s available, but label missing: it is on %s as %s, not %s", t.cfg.IP, t.link.Name, ad.Label, t.cfg.FullLabel(t.link.Name)), false
	}
	if a.Env.CheckLevel >= 10 && !t.link.Loopback {
		who, err := t.k.Probe(ctx, t.link, t.cfg.IP)
		if err != nil {
			// Not knowing is not a split brain: failing here would move
			// the address for nothing.
			a.Log.Warnf("could not probe for another holder of %s: %v", t.cfg.IP, err)
			return 0, true
		}
		if who != "" {
			return ocf.Fail(a.Log, ocf.ErrGeneric, "split brain: %s also answers for %s on %s's link", who, t.cfg.IP, t.link.Name), false
		}
	}
	return 0, true
}
