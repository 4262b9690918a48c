package agent

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/floatip/floatip/internal/announce"
	"github.com/floatip/floatip/internal/sender"
	"github.com/floatip/floatip/ocf"
)

// Announce is the announce action: it sends a burst for an address that is
// on its nic, in the foreground. An admin runs it by hand ("floatip
// announce --ip ..."). start runs it detached to send the rest of a burst
// whose first sent frames it sent itself; sent > 0 says how many.
func (a *Agent) Announce(ctx context.Context, sent int) ocf.Status {
	t, err := a.resolve("announce")
	if err != nil {
		return a.statusFor("announce", err)
	}
	defer t.k.Close()
	if sent > 0 {
		defer a.sender(t.cfg.IP).Done()
	}
	on, err := a.served(t)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to read the addresses: %v", err)
	}
	if !on {
		return ocf.Fail(a.Log, ocf.NotRunning, "%s is not on %s: not announcing it", t.prefix, t.link.Name)
	}
	an, err := t.k.Dial(t.link, t.cfg.IP, a.neighbors(ctx, t))
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Could not announce %s on %s: %v", t.cfg.IP, t.link.Name, err)
	}
	defer an.Close()
	// The background sender goes on only while the address is here: once a
	// stop or anything else has removed it, announcing it would pull the
	// neighbours' traffic to a node that no longer answers. The first
	// frame that finds it gone ends the burst.
	ctx, gone := context.WithCancel(ctx)
	defer gone()
	guarded := &whilePresent{Announcer: an, a: a, t: t, gone: gone}
	frames, spacing := an.Plan(t.cfg.ArpCount, t.cfg.ArpInterval)
	r := announce.Burst(ctx, guarded, sent, frames, spacing, sent > 0)
	a.logBurst(t, "announce", r, frames-sent)
	if r.Failed > 0 {
		return ocf.ErrGeneric
	}
	return ocf.Success
}

// sender returns the record of ip's background sender.
func (a *Agent) sender(ip netip.Addr) SenderRecord {
	if a.Senders != nil {
		return a.Senders(ip)
	}
	return sender.For(a.Env.RscTmp, ip)
}

// whilePresent announces only while the address is on the link, and
// calls gone when it is not.
type whilePresent struct {
	Announcer
	a    *Agent
	t    *target
	gone func()
}

func (w *whilePresent) Announce(i int) error {
	on, err := w.a.served(w.t)
	if err != nil {
		return err
	}
	if !on {
		w.gone()
		return fmt.Errorf("%s is no longer on %s", w.t.prefix, w.t.link.Name)
	}
	return w.Announcer.Announce(i)
}

// SenderArgs are the arguments of the detached sender that finishes a burst
// of count announcements of which start sent the first sent frames. They
// name the nic and prefix, so that the sender does not look for them again.
func SenderArgs(t *target, count, sent int) []string {
	return []string{
		"announce", "--background-sender", strconv.Itoa(sent),
		"--ip", t.cfg.IP.String(),
		// The address is already the clone's own: the environment's
		// unique_clone_address must not shift it again.
		"--unique_clone_address", "false",
		"--nic", t.link.Name,
		"--cidr_netmask", strconv.Itoa(t.prefix.Bits()),
		"--arp_count", strconv.Itoa(count),
		"--arp_interval", strconv.FormatInt(t.cfg.ArpInterval.Milliseconds(), 10),
	}
}
