// stop and how it ends the connections on the address before it goes.

package agent

import (
	"context"
	"slices"

	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/ocf"
)

func (a *Agent) stop(ctx context.Context) ocf.Status {
	t, err := a.resolve(Stop)
	if err != nil {
		return a.statusFor(Stop, err)
	}
	defer t.k.Close()
	unlock, err := a.lock(ctx, t)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "%v", err)
	}
	removeLock := false
	defer func() { unlock(removeLock) }()
	if t.cfg.Clone != nil {
		var st ocf.Status
		st, removeLock = a.stopShared(ctx, t)
		return st
	}

	pf := a.sender(t.cfg.IP, t.netns)
	// Stop waits until the sender has exited: it must not announce the
	// address after it is gone.
	if stopped, err := pf.Stop(ctx); err != nil {
		a.Log.Warnf("Could not stop the announcer of %s: %v", t.cfg.IP, err)
	} else if stopped {
		a.Log.Infof("stopped the background announcer of %s", t.cfg.IP)
	}
	on, err := a.served(t)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to read the addresses: %v", err)
	}
	others, err := a.elsewhere(t)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to read the addresses: %v", err)
	}
	if !on && len(others) == 0 {
		a.Log.Infof("%s is not on this node's nics: nothing to stop", t.cfg.IP)
		// What a stop cut short by its timeout may have left.
		a.unblock(t)
		removeLock = true
		return ocf.Success
	}
	blocked := false
	// door is the nic whose local route of the address endConnections
	// replaces: where the address is.
	door := t.link
	if !on {
		door = netif.Link{Name: a.linkName(t, others[0].LinkIndex), Index: others[0].LinkIndex}
	}
	if t.cfg.KillConnections {
		blocked = a.endConnections(t, door)
	}
	if st, ok := a.remove(ctx, t, on, others); !ok {
		if blocked {
			a.reopen(t, door)
		}
		return st
	}
	// Also without kill_connections: a stop cut short may have left the
	// address blocked, and the blackhole would keep this node from
	// reaching the address on its next holder. Before LVS's loopback
	// copy comes back, which needs its address to be local again.
	a.unblock(t)
	a.afterDel(t)
	if t.cfg.FlushRoutes {
		if err := t.k.FlushRouteCache(netif.FamilyOf(t.cfg.IP)); err != nil {
			a.Log.Warnf("%v", err)
		}
	}
	removeLock = true
	return ocf.Success
}

// killRounds bounds the rounds of endConnections: with the node no longer
// accepting, the second finds none; without, clients that reconnect at
// once would keep it going.
const killRounds = 5

// endConnections resets the address's TCP connections before the address
// goes, so that clients reconnect to the new holder at once instead of
// retransmitting into the void. First the node stops accepting anything
// for the address: a client that reconnects the instant it is reset would
// otherwise complete a new handshake here, in the moment before the
// address leaves, and hang with it. Then it resets until a look finds no
// connection left. It reports whether inbound packets are blocked, which
// stop must undo.
func (a *Agent) endConnections(t *target, door netif.Link) bool {
	blocked := true
	if err := t.k.BlockInbound(door, t.cfg.IP); err != nil {
		a.Log.Warnf("Could not stop accepting connections to %s before ending them: %v", t.cfg.IP, err)
		blocked = false
	}
	total := 0
	for round := 1; ; round++ {
		n, err := t.k.KillConnections(t.cfg.IP)
		total += n
		if err != nil {
			a.Log.Warnf("Could not end the TCP connections of %s: %v", t.cfg.IP, err)
			break
		}
		if n == 0 {
			break
		}
		if round == killRounds {
			a.Log.Warnf("New TCP connections to %s kept arriving: ended %d in %d rounds", t.cfg.IP, total, round)
			break
		}
	}
	a.Log.Infof("Ended %d TCP connection(s) of %s", total, t.cfg.IP)
	return blocked
}

// reopen undoes endConnections when stop could not remove the address:
// its local route on door comes back if the address is still there.
func (a *Agent) reopen(t *target, door netif.Link) {
	restore := true
	if addrs, err := t.k.AddrsOf(t.cfg.IP); err == nil {
		restore = slices.ContainsFunc(addrs, func(ad netif.Addr) bool { return ad.LinkIndex == door.Index })
	}
	if err := t.k.UnblockInbound(door, t.cfg.IP, restore); err != nil {
		a.Log.Errorf("%s stays on %s but accepts nothing: %v", t.cfg.IP, door.Name, err)
	}
}

// unblock removes what endConnections put in place once the address is
// gone. A failure leaves a blackhole for an address this node no longer
// holds, which the next start removes: worth a warning, not a failed stop.
func (a *Agent) unblock(t *target) {
	if err := t.k.UnblockInbound(t.link, t.cfg.IP, false); err != nil {
		a.Log.Warnf("%v", err)
	}
}
