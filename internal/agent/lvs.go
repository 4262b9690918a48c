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
	"github.com/floatip/floatip/internal/sender"
)

// LVS direct routing keeps the address on the real servers' loopback, as
// a /32 that answers no ARP. When this node becomes the director, start
// takes the address off the loopback (lvs_support) and stop puts it back;
// the file in HA_RSCTMP remembers that there was one, as IPaddr2 does.

// lvsPath is the file of the address in its namespace.
func (a *Agent) lvsPath(t *target) string {
	return filepath.Join(a.Env.RscTmp, "floatip-lvs-"+sender.Key(t.cfg.IP, t.netns))
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
		f, err := os.OpenFile(a.lvsPath(t), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
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
//
// An older floatip named the file by the address alone. A stop after an
// upgrade still finds it there, so that the real server gets its address
// back; that name never said which namespace it was for, and the first
// stop of the address with lvs_support takes it.
func (a *Agent) giveBackToLoopback(t *target) error {
	path := a.lvsPath(t)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && t.netns != 0 {
		path = filepath.Join(a.Env.RscTmp, "floatip-lvs-"+t.cfg.IP.String())
		b, err = os.ReadFile(path)
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return fmt.Errorf("%s: unreadable", path)
	}
	p, err := netip.ParsePrefix(f[0])
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
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
	return os.Remove(path)
}
