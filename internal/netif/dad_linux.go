package netif

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// errOverrun is a subscription that the kernel ended by dropping
// notifications its reader was too slow for (ENOBUFS).
var errOverrun = errors.New("address notifications dropped")

// WaitDAD waits until the IPv6 address p on link has finished Duplicate
// Address Detection (RFC 4862 section 5.4). It listens to the kernel's
// address notifications, subscribed before the current state is read, so
// no change is missed and nothing is polled.
//
// On a node whose addresses change faster than it reads (other VIPs
// starting, a container host), the kernel drops notifications and the
// subscription ends; the one that may have told how DAD ended can be among
// them. A new subscription reads the state again, until ctx ends.
func (h *Handle) WaitDAD(ctx context.Context, link Link, p netip.Prefix) error {
	for {
		if err := h.watchDAD(ctx, link, p); !errors.Is(err, errOverrun) {
			return err
		}
	}
}

func (h *Handle) watchDAD(ctx context.Context, link Link, p netip.Prefix) error {
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
	// Written by the subscription's goroutine before it closes ch, read
	// only once ch is closed.
	var lost error
	opts := netlink.AddrSubscribeOptions{ListExisting: true, ErrorCallback: func(err error) { lost = err }}
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
				switch {
				case lost == nil:
					return fmt.Errorf("watch addresses of %s: subscription ended", link.Name)
				case errors.Is(lost, unix.ENOBUFS) || strings.Contains(lost.Error(), unix.ENOBUFS.Error()):
					// The netlink package reports the read's error as text.
					return errOverrun
				}
				return fmt.Errorf("watch addresses of %s: subscription ended: %w", link.Name, lost)
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
