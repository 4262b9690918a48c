//go:build linux

package lab

import (
	"fmt"
	"net"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The helpers below give a host's address a nic other than its veth, as
// the nodes of a cluster have them: a bridge, a macvlan or a bond over
// eth0, or a device that is no Ethernet at all. They all work inside the
// host's namespace, where deleting the namespace removes what they made.

// Bridge puts the host's eth0 into a new bridge name, with the MAC mac,
// and moves the host's address onto the bridge, as on a node that hosts
// virtual machines.
func (h *Host) Bridge(name string, mac net.HardwareAddr) error {
	steps := [][]string{
		{"link", "add", name, "address", mac.String(), "type", "bridge"},
		{"link", "set", h.Dev, "master", name},
		{"link", "set", name, "up"},
	}
	if err := h.steps(steps); err != nil {
		return err
	}
	return h.MoveAddr(name)
}

// Macvlan adds a macvlan name in bridge mode on the host's eth0, with the
// MAC mac, and moves the host's address onto it, as on a node whose
// containers have their own MACs.
func (h *Host) Macvlan(name string, mac net.HardwareAddr) error {
	steps := [][]string{
		{"link", "add", name, "link", h.Dev, "address", mac.String(), "type", "macvlan", "mode", "bridge"},
		{"link", "set", name, "up"},
	}
	if err := h.steps(steps); err != nil {
		return err
	}
	return h.MoveAddr(name)
}

// Bond makes the host's eth0 the one slave of a new active-backup bond
// name and moves the host's address onto it. The error of the first step
// says when the kernel has no bonding.
func (h *Host) Bond(name string) error {
	steps := [][]string{
		{"link", "add", name, "type", "bond", "mode", "active-backup", "miimon", "100"},
		{"link", "set", h.Dev, "down"},
		{"link", "set", h.Dev, "master", name},
		{"link", "set", name, "up"},
	}
	if err := h.steps(steps); err != nil {
		return err
	}
	return h.MoveAddr(name)
}

// MoveAddr moves the host's own IPv4 address from eth0 to dev, so that the
// connected route, and findif, point at dev.
func (h *Host) MoveAddr(dev string) error {
	return h.steps([][]string{
		{"addr", "del", h.Addr.String(), "dev", h.Dev},
		{"addr", "add", h.Addr.String(), "brd", "+", "dev", dev},
	})
}

func (h *Host) steps(steps [][]string) error {
	for _, st := range steps {
		if err := h.IP(st...); err != nil {
			return err
		}
	}
	return nil
}

// AddTun creates a persistent tun device name in the host's namespace
// (what "ip tuntap add mode tun" makes: ARPHRD_NONE, no link layer) and
// then gives it the hardware type hwType with TUNSETLINK, so that a test
// can have a link that the kernel reports as, say, InfiniBand
// (ARPHRD_INFINIBAND, 32) without the hardware. The device is left down.
func (h *Host) AddTun(name string, hwType uint16) error {
	err := h.Do(func() error {
		// The device goes to the namespace of the thread that opens the
		// clone device, this one.
		f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		fd := int(f.Fd())
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			return fmt.Errorf("TUNSETIFF: %w", err)
		}
		if err := unix.IoctlSetInt(fd, unix.TUNSETPERSIST, 1); err != nil {
			return fmt.Errorf("TUNSETPERSIST: %w", err)
		}
		if hwType != unix.ARPHRD_NONE {
			if err := unix.IoctlSetInt(fd, unix.TUNSETLINK, int(hwType)); err != nil {
				return fmt.Errorf("TUNSETLINK %d: %w", hwType, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tun %s in %s: %w", name, h.Name, err)
	}
	return nil
}

// Link returns the attributes of the host's link dev.
func (h *Host) Link(dev string) (*netlink.LinkAttrs, error) {
	nh, err := h.Handle()
	if err != nil {
		return nil, err
	}
	defer nh.Close()
	link, err := nh.LinkByName(dev)
	if err != nil {
		return nil, err
	}
	return link.Attrs(), nil
}
