package agent

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/floatip/floatip/internal/netif"
)

// LVS direct routing keeps the address on the real servers' loopback, as
// a /32 that answers no ARP. When this node becomes the director, start
// takes the address off the loopback (lvs_support) and stop puts it back;
// the file in HA_RSCTMP remembers that there was one, as IPaddr2 does.

func (a *Agent) lvsPath(ip netip.Addr) string {
	return filepath.Join(a.Env.RscTmp, "floatip-lvs-"+ip.String())
}

// takeFromLoopback removes ip/32 from the loopback devices, remembering
// each one, before start adds the address to the nic.
func (a *Agent) takeFromLoopback(t *target, addrs []netif.Addr) error {
	host := netip.PrefixFrom(t.cfg.IP, 32)
	for _, ad := range addrs {
		if ad.Prefix != host {
			continue
		}
		l, err := t.k.LinkByIndex(ad.LinkIndex)
		if err != nil {
			return err
		}
		if !l.Loopback {
			continue
		}
		a.Log.Infof("Removing conflicting loopback %s from %s.", host, l.Name)
		if err := os.MkdirAll(a.Env.RscTmp, 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(a.lvsPath(t.cfg.IP), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			return fmt.Errorf("remember the loopback address: %w", err)
		}
		_, werr := fmt.Fprintf(f, "%s %s\n", host, l.Name)
		if err := errors.Join(werr, f.Close()); err != nil {
			return fmt.Errorf("remember the loopback address: %w", err)
		}
		if err := t.k.DelAddr(l, host); err != nil {
			return err
		}
	}
	return nil
}

// giveBackToLoopback restores what takeFromLoopback removed, after stop
// took the address off the nic.
func (a *Agent) giveBackToLoopback(t *target) error {
	b, err := os.ReadFile(a.lvsPath(t.cfg.IP))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return fmt.Errorf("%s: unreadable", a.lvsPath(t.cfg.IP))
	}
	p, err := netip.ParsePrefix(f[0])
	if err != nil {
		return fmt.Errorf("%s: %w", a.lvsPath(t.cfg.IP), err)
	}
	l, err := t.k.LinkByName(f[1])
	if err != nil {
		return err
	}
	a.Log.Infof("Restoring loopback address %s on %s.", p, l.Name)
	na := netif.NewAddr{Prefix: p, Broadcast: netip.AddrFrom4([4]byte{255, 255, 255, 255}), PreferredLifetime: netif.Forever}
	if err := t.k.AddAddr(l, na); err != nil {
		return err
	}
	return os.Remove(a.lvsPath(t.cfg.IP))
}
