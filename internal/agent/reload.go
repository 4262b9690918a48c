package agent

import (
	"context"

	"github.com/floatip/floatip/ocf"
)

// reload is OCF 1.1's reload-agent: Pacemaker calls it instead of a
// restart when only reloadable parameters changed (metadata.Reloadable),
// those that shape the announcements and the checks. It validates them,
// never adds or removes the address, replaces a background sender that
// is still at work with a burst under the new settings, and else
// announces once, so that neighbours new in announce_to hear of the
// address now. The controller then keeps the new parameters for the next
// stop (controld_execd.c copies a successful reload-agent's parameters
// as it does a start's).
func (a *Agent) reload(ctx context.Context) ocf.Status {
	t, err := a.resolve(ReloadAgent)
	if err != nil {
		return a.statusFor(ReloadAgent, err)
	}
	defer t.k.Close()
	unlock, err := a.lock(ctx, t)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "%v", err)
	}
	defer unlock(false)
	ad, err := a.lookup(t)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to read the addresses: %v", err)
	}
	if ad == nil {
		// The scheduler expected success of a resource it believed
		// active; "not running" makes it a failed action, which it
		// recovers with a stop and a start (unpack.c treats 7 as a
		// failure for any operation but a probe or a monitor of a
		// stopped role). Adding the address here would hide that.
		return ocf.Fail(a.Log, ocf.NotRunning, "%s is not on %s: reload-agent does not add it", t.prefix, t.link.Name)
	}
	if st, ok := a.healthy(ctx, t, ad); !ok {
		return st
	}
	if t.link.Loopback {
		return ocf.Success
	}
	if t.cfg.Clone != nil {
		// A load-shared address is announced with the cluster MAC, and
		// has no background sender.
		a.announceShared(ctx, t, spec(t), 1, "reload")
		return ocf.Success
	}
	count := 1
	if a.sender(t.cfg.IP, t.netns).Running() != 0 {
		// The burst of start is still going, under the old settings:
		// a new one, under the new, takes its place.
		count = t.cfg.ArpCount
	}
	a.announce(ctx, t, count, "reload")
	return ocf.Success
}
