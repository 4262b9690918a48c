package netif

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Attributes of an address label message (linux/if_addrlabel.h), which
// golang.org/x/sys does not name.
const (
	ifalAddress = 1
	ifalLabel   = 2
)

// ifAddrLblMsg is struct ifaddrlblmsg: family, reserved, prefix length,
// flags, interface index (0: any) and sequence.
type ifAddrLblMsg struct {
	prefixLen uint8
}

func (m ifAddrLblMsg) Len() int { return 12 }

func (m ifAddrLblMsg) Serialize() []byte {
	b := make([]byte, 12)
	b[0] = unix.AF_INET6
	b[2] = m.prefixLen
	return b
}

// AddAddrLabel is "ip addrlabel add prefix p label label": an entry of the
// RFC 6724 policy table, which source address selection uses to keep an
// address with a label of its own from being chosen as a source.
func (h *Handle) AddAddrLabel(p netip.Prefix, label uint32) error {
	err := h.addrLabel(unix.RTM_NEWADDRLABEL, unix.NLM_F_CREATE|unix.NLM_F_EXCL, p, label)
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("add address label %d for %s: %w", label, p, err)
	}
	return nil
}

// DelAddrLabel is "ip addrlabel del prefix p label label".
func (h *Handle) DelAddrLabel(p netip.Prefix, label uint32) error {
	if err := h.addrLabel(unix.RTM_DELADDRLABEL, 0, p, label); err != nil {
		return fmt.Errorf("delete address label %d for %s: %w", label, p, err)
	}
	return nil
}

func (h *Handle) addrLabel(msg, flags int, p netip.Prefix, label uint32) error {
	req := nl.NewNetlinkRequest(msg, flags|unix.NLM_F_ACK)
	req.AddData(ifAddrLblMsg{prefixLen: uint8(p.Bits())})
	addr := p.Addr().As16()
	req.AddData(nl.NewRtAttr(ifalAddress, addr[:]))
	l := make([]byte, 4)
	binary.NativeEndian.PutUint32(l, label)
	req.AddData(nl.NewRtAttr(ifalLabel, l))
	// The request opens its own socket, which must belong to the handle's
	// namespace.
	return h.Do(func() error {
		_, err := req.Execute(unix.NETLINK_ROUTE, 0)
		return err
	})
}
