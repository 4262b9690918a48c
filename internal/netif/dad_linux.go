package netif

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// WaitDAD waits until the IPv6 address p on link has finished Duplicate
// Address Detection (RFC 4862 section 5.4). It listens to the kernel's
// address notifications, subscribed before the current state is read, so
// no change is missed and nothing is polled.
func (h *Handle) WaitDAD(ctx context.Context, link Link, p netip.Prefix) error {
	ch := make(chan netlink.AddrUpdate, 64)
	done := make(chan struct{})
	defer func() {
		close(done)
		// Let the subscription's goroutine finish its sends and exit.
		go func() {
			for range ch {
			}
		}()
	}()
	opts := netlink.AddrSubscribeOptions{ListExisting: true, ErrorCallback: func(error) {}}
	if h.ns != -1 {
		opts.Namespace = &h.ns
	}
	if err := netlink.AddrSubscribeWithOptions(ch, done, opts); err != nil {
		return fmt.Errorf("watch addresses of %s: %w", link.Name, err)
	}
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for DAD of %s on %s: %w", p, link.Name, ErrTentative)
		case u, ok := <-ch:
			if !ok {
				return fmt.Errorf("watch addresses of %s: subscription ended", link.Name)
			}
			if u.LinkIndex != link.Index || prefixOf(u.LinkAddress.IP, u.LinkAddress.Mask) != p {
				continue
			}
			f := AddrFlags(u.Flags)
			switch {
			case !u.NewAddr:
				return fmt.Errorf("wait for DAD of %s on %s: the address was removed", p, link.Name)
			case f&FlagDADFailed != 0:
				return fmt.Errorf("%s on %s: %w", p, link.Name, ErrDADFailed)
			case f&FlagTentative == 0:
				return nil
			}
		}
	}
}
