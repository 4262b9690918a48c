package netif

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// tcpListen is TCP_LISTEN of the kernel's TCP states.
const tcpListen = 10

// KillConnections is "ss -K src ip" for TCP, without the listeners: it
// lists the TCP sockets whose local address is ip (sock_diag) and destroys
// each (SOCK_DESTROY, CONFIG_INET_DIAG_DESTROY), which resets the peer. An
// IPv4 connection may sit on an IPv6 socket, as ::ffff:ip, when the server
// listens on both families at once (Go, Java, nginx with ipv6only=off), so
// for IPv4 both families are searched. It returns how many it destroyed;
// on a kernel without socket destruction the error wraps unix.EOPNOTSUPP.
func (h *Handle) KillConnections(ip netip.Addr) (int, error) {
	families := []uint8{unix.AF_INET6}
	if ip.Is4() {
		families = []uint8{unix.AF_INET, unix.AF_INET6}
	}
	n := 0
	err := h.Do(func() error {
		var errs []error
		for _, family := range families {
			socks, err := netlink.SocketDiagTCP(family)
			if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
				errs = append(errs, fmt.Errorf("list TCP sockets: %w", err))
				continue
			}
			for _, s := range socks {
				local, ok := netip.AddrFromSlice(s.ID.Source)
				if !ok || local.Unmap() != ip || s.State == tcpListen {
					continue
				}
				if err := destroy(family, s); err != nil {
					errs = append(errs, fmt.Errorf("destroy %s:%d-%s:%d: %w", ip, s.ID.SourcePort, s.ID.Destination, s.ID.DestinationPort, err))
					continue
				}
				n++
			}
		}
		return errors.Join(errs...)
	})
	return n, err
}

// diagReq is struct inet_diag_req_v2 naming one socket.
type diagReq struct {
	family uint8
	id     netlink.SocketID
}

func (r diagReq) Len() int { return 56 }

func (r diagReq) Serialize() []byte {
	b := make([]byte, 56)
	b[0] = r.family
	b[1] = unix.IPPROTO_TCP
	binary.NativeEndian.PutUint32(b[4:], 0xffffffff) // every state
	binary.BigEndian.PutUint16(b[8:], r.id.SourcePort)
	binary.BigEndian.PutUint16(b[10:], r.id.DestinationPort)
	putAddr(b[12:28], r.id.Source, r.family)
	putAddr(b[28:44], r.id.Destination, r.family)
	binary.NativeEndian.PutUint32(b[44:], r.id.Interface)
	binary.NativeEndian.PutUint32(b[48:], r.id.Cookie[0])
	binary.NativeEndian.PutUint32(b[52:], r.id.Cookie[1])
	return b
}

// putAddr writes an address as inet_diag_sockid does: for AF_INET the
// IPv4 address in the first four bytes; for AF_INET6 all sixteen, also for
// an IPv4 address mapped into IPv6 (::ffff:a.b.c.d), as the socket has it.
func putAddr(b []byte, ip []byte, family uint8) {
	a, _ := netip.AddrFromSlice(ip)
	if family == unix.AF_INET {
		if a = a.Unmap(); a.Is4() {
			v4 := a.As4()
			copy(b, v4[:])
		}
		return
	}
	if a.Is4() {
		a = netip.AddrFrom16(a.As16())
	}
	s := a.As16()
	copy(b, s[:])
}

func destroy(family uint8, s *netlink.Socket) error {
	req := nl.NewNetlinkRequest(nl.SOCK_DESTROY, unix.NLM_F_ACK)
	req.AddData(diagReq{family: family, id: s.ID})
	_, err := req.Execute(unix.NETLINK_INET_DIAG, 0)
	return err
}

// CanDestroySockets says whether the kernel has socket destruction
// (CONFIG_INET_DIAG_DESTROY): destroying a socket that does not exist
// fails with ENOENT where it has, EOPNOTSUPP where it has not.
func (h *Handle) CanDestroySockets() (bool, error) {
	var err error
	derr := h.Do(func() error {
		err = destroy(unix.AF_INET, &netlink.Socket{ID: netlink.SocketID{
			Source: []byte{0, 0, 0, 0}, Destination: []byte{0, 0, 0, 0},
			Cookie: [2]uint32{nl.TCPDIAG_NOCOOKIE, nl.TCPDIAG_NOCOOKIE},
		}})
		return nil
	})
	switch {
	case derr != nil:
		return false, derr
	case err == nil, errors.Is(err, unix.ENOENT):
		return true, nil
	case errors.Is(err, unix.EOPNOTSUPP):
		return false, nil
	}
	return false, fmt.Errorf("try socket destruction: %w", err)
}
