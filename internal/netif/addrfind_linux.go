package netif

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"

	"golang.org/x/sys/unix"
)

// errDumpInterrupted is NLM_F_DUMP_INTR: the addresses changed during the
// dump, which must be read again.
var errDumpInterrupted = errors.New("address dump interrupted")

// AddrsOf returns the addresses equal to ip, on any link. It reads the
// kernel's address dump itself and decodes only the matching messages, so
// that a nic with ten thousand other addresses costs the kernel's dump
// (about 1.5 ms) rather than decoding all of them (about 30 ms with the
// netlink package's AddrList).
func (h *Handle) AddrsOf(ip netip.Addr) ([]Addr, error) {
	var out []Addr
	var err error
	for range maxDumpRetries {
		err = h.Do(func() error {
			out, err = dumpAddrsOf(ip)
			return err
		})
		if !errors.Is(err, errDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	return out, nil
}

// AddrOn returns the address p on link, or nil when link does not hold it:
// monitor's question, every 10 seconds. It asks the kernel for this one
// address, so that its cost does not grow with the addresses on the link
// (a dump of 10,000 costs milliseconds). IPv6 has RTM_GETADDR for one
// address. IPv4 has only the address ioctls, which find an address by
// its label: label is the one p should carry ("" for the link's name).
// When they cannot confirm p (another label, the same address with another
// prefix, or no such address) the dump decides. An IPv4 address the ioctls
// found carries its prefix, link and label, nothing else.
func (h *Handle) AddrOn(link Link, p netip.Prefix, label string) (*Addr, error) {
	var a *Addr
	err := h.Do(func() (err error) {
		if p.Addr().Is6() {
			a, err = getAddr6(link.Index, p.Addr())
			return err
		}
		if label == "" {
			label = link.Name
		}
		n, err := prefixByLabel(label, p.Addr())
		if err == nil && n == p.Bits() {
			a = &Addr{Prefix: p, LinkIndex: link.Index, Label: label}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("look up %s on %s: %w", p, link.Name, err)
	}
	if a != nil && a.Prefix == p && a.LinkIndex == link.Index {
		return a, nil
	}
	if p.Addr().Is6() {
		// The kernel holds an IPv6 address once per link: its answer is
		// final.
		return nil, nil
	}
	all, err := h.AddrsOf(p.Addr())
	if err != nil {
		return nil, err
	}
	for i, ad := range all {
		if ad.LinkIndex == link.Index && ad.Prefix == p {
			return &all[i], nil
		}
	}
	return nil, nil
}

// prefixByLabel returns the prefix length of the IPv4 address ip labelled
// label, or -1 when no such address exists. Given an address, the
// SIOCGIF* ioctls pick the one with both that label and that address
// (devinet_ioctl's "4.4BSD style" match), else the first with the label:
// SIOCGIFADDR's answer tells which.
func prefixByLabel(label string, ip netip.Addr) (int, error) {
	ifr, err := unix.NewIfreq(label)
	if err != nil {
		// A label too long for the kernel: no address carries it.
		return -1, nil
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fd)
	want := ip.AsSlice()
	ask := func(req uint) ([]byte, error) {
		if err := ifr.SetInet4Addr(want); err != nil {
			return nil, err
		}
		if err := unix.IoctlIfreq(fd, req, ifr); err != nil {
			return nil, err
		}
		return ifr.Inet4Addr()
	}
	got, err := ask(unix.SIOCGIFADDR)
	if errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ENODEV) {
		return -1, nil
	}
	if err != nil || string(got) != string(want) {
		return -1, err
	}
	mask, err := ask(unix.SIOCGIFNETMASK)
	if err != nil || len(mask) != 4 {
		return -1, err
	}
	m := binary.BigEndian.Uint32(mask)
	n := bits.LeadingZeros32(^m)
	if m<<n != 0 {
		// Not a prefix: the address went between the two questions.
		return -1, nil
	}
	return n, nil
}

// getAddr6 asks the kernel for the IPv6 address ip on the link with index
// link; nil when it is not there.
func getAddr6(link int, ip netip.Addr) (*Addr, error) {
	fd, err := rtnetlink()
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	req := request(unix.RTM_GETADDR, unix.NLM_F_REQUEST, unix.SizeofIfAddrmsg+unix.SizeofRtAttr+16)
	body := req[unix.SizeofNlMsghdr:]
	body[0] = unix.AF_INET6
	binary.NativeEndian.PutUint32(body[4:], uint32(link))
	attr := body[unix.SizeofIfAddrmsg:]
	binary.NativeEndian.PutUint16(attr, unix.SizeofRtAttr+16)
	binary.NativeEndian.PutUint16(attr[2:], unix.IFA_ADDRESS)
	copy(attr[unix.SizeofRtAttr:], ip.AsSlice())
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return nil, err
	}
	msgs, err := messages(buf[:n])
	if err != nil || len(msgs) == 0 {
		return nil, errors.Join(err, errors.New("empty netlink reply"))
	}
	switch m := msgs[0]; m.typ {
	case unix.NLMSG_ERROR:
		err := errnoOf(m.body)
		if errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ENODEV) {
			return nil, nil
		}
		return nil, err
	case unix.RTM_NEWADDR:
		if a, ok := decodeAddrIf(m.body, ip.AsSlice()); ok {
			return &a, nil
		}
	}
	return nil, nil
}

func dumpAddrsOf(ip netip.Addr) ([]Addr, error) {
	want := ip.AsSlice()
	return dumpAddrs(ip.Is6(), func(_ int, local []byte, _ int) bool { return string(local) == string(want) })
}

// AddrsIn returns the IPv4 addresses of link in p's subnet with p's
// prefix length: those the kernel ties to the subnet's primary address,
// which it removes with it unless promote_secondaries says otherwise.
// Their flags tell the primary (no FlagSecondary) from the secondaries.
func (h *Handle) AddrsIn(link Link, p netip.Prefix) ([]Addr, error) {
	if !p.Addr().Is4() {
		return nil, nil
	}
	subnet := p.Masked()
	match := func(index int, local []byte, bits int) bool {
		ip, ok := netip.AddrFromSlice(local)
		return ok && index == link.Index && bits == subnet.Bits() && netip.PrefixFrom(ip, bits).Masked() == subnet
	}
	var out []Addr
	var err error
	for range maxDumpRetries {
		err = h.Do(func() error {
			out, err = dumpAddrs(false, match)
			return err
		})
		if !errors.Is(err, errDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list the addresses of %s in %s: %w", link.Name, subnet, err)
	}
	return out, nil
}

// dumpAddrs dumps the addresses of a family and decodes those that match
// (see decodeAddr).
func dumpAddrs(v6 bool, match func(link int, local []byte, bits int) bool) ([]Addr, error) {
	fd, err := rtnetlink()
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	req := request(unix.RTM_GETADDR, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, unix.SizeofIfAddrmsg)
	req[unix.SizeofNlMsghdr] = unix.AF_INET
	if v6 {
		req[unix.SizeofNlMsghdr] = unix.AF_INET6
	}
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	return readAddrDump(func(b []byte) (int, error) {
		n, _, err := unix.Recvfrom(fd, b, 0)
		return n, err
	}, match)
}

// readAddrDump reads the replies to an address dump from recv, one read of
// the socket each, and returns the addresses that match (see decodeAddr).
// Only a dump read to its NLMSG_DONE without an error is an answer: an
// NLMSG_DONE that carries an errno (netlink_dump_done's dump_done_errno,
// when the kernel could not finish the dump) leaves the addresses unknown,
// not absent.
func readAddrDump(recv func([]byte) (int, error), match func(link int, local []byte, bits int) bool) ([]Addr, error) {
	var out []Addr
	interrupted := false
	buf := make([]byte, 1<<16)
	for {
		n, err := recv(buf)
		if err != nil {
			return nil, err
		}
		msgs, err := messages(buf[:n])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.flags&unix.NLM_F_DUMP_INTR != 0 {
				interrupted = true
			}
			switch m.typ {
			case unix.NLMSG_DONE:
				if err := errnoOf(m.body); err != nil {
					return nil, fmt.Errorf("finish address dump: %w", err)
				}
				if interrupted {
					return nil, errDumpInterrupted
				}
				return out, nil
			case unix.NLMSG_ERROR:
				if err := errnoOf(m.body); err != nil {
					return nil, err
				}
			case unix.RTM_NEWADDR:
				if a, ok := decodeAddr(m.body, match); ok {
					out = append(out, a)
				}
			}
		}
	}
}

// rtnetlink opens a route netlink socket in the calling thread's network
// namespace.
func rtnetlink() (int, error) {
	return unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
}

// request returns a netlink message of type typ with a zeroed body of n
// bytes for the caller to fill.
func request(typ, flags uint16, n int) []byte {
	req := make([]byte, unix.SizeofNlMsghdr+n)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], typ)
	binary.NativeEndian.PutUint16(req[6:], flags)
	binary.NativeEndian.PutUint32(req[8:], 1)
	return req
}

// message is one netlink message of a reply.
type message struct {
	typ, flags uint16
	body       []byte
}

// messages splits what one read of a netlink socket returned.
func messages(b []byte) ([]message, error) {
	var out []message
	for len(b) >= unix.SizeofNlMsghdr {
		l := int(binary.NativeEndian.Uint32(b))
		if l < unix.SizeofNlMsghdr || l > len(b) {
			return nil, errors.New("malformed netlink message")
		}
		out = append(out, message{
			typ:   binary.NativeEndian.Uint16(b[4:]),
			flags: binary.NativeEndian.Uint16(b[6:]),
			body:  b[unix.SizeofNlMsghdr:l],
		})
		b = b[min(nlmAlign(l), len(b)):]
	}
	return out, nil
}

// errnoOf is the error an NLMSG_ERROR or NLMSG_DONE body carries, a
// negative errno in its first four bytes; nil for an ack or a clean end.
func errnoOf(body []byte) error {
	if len(body) < 4 {
		return nil
	}
	if e := int32(binary.NativeEndian.Uint32(body)); e != 0 {
		return unix.Errno(-e)
	}
	return nil
}

func nlmAlign(l int) int { return (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// decodeAddrIf decodes an ifaddrmsg and its attributes when its local
// address (IFA_LOCAL for IPv4, IFA_ADDRESS for IPv6) is want.
func decodeAddrIf(b []byte, want []byte) (Addr, bool) {
	return decodeAddr(b, func(_ int, local []byte, _ int) bool { return string(local) == string(want) })
}

// decodeAddr decodes an ifaddrmsg and its attributes when match says yes
// to its link index, local address and prefix length.
func decodeAddr(b []byte, match func(link int, local []byte, bits int) bool) (Addr, bool) {
	if len(b) < unix.SizeofIfAddrmsg {
		return Addr{}, false
	}
	prefixLen, flags := int(b[1]), uint32(b[2])
	a := Addr{LinkIndex: int(binary.NativeEndian.Uint32(b[4:]))}
	// Slices into the message, converted only for the matching one: the
	// others cost no allocation.
	var local, address, label []byte
	a.PreferredLifetime, a.ValidLifetime = Forever, Forever
	for attrs := b[unix.SizeofIfAddrmsg:]; len(attrs) >= unix.SizeofRtAttr; {
		l := int(binary.NativeEndian.Uint16(attrs))
		if l < unix.SizeofRtAttr || l > len(attrs) {
			break
		}
		typ, v := binary.NativeEndian.Uint16(attrs[2:]), attrs[unix.SizeofRtAttr:l]
		attrs = attrs[min(nlmAlign(l), len(attrs)):]
		switch typ {
		case unix.IFA_LOCAL:
			local = v
		case unix.IFA_ADDRESS:
			address = v
		case unix.IFA_BROADCAST:
			a.Broadcast, _ = netip.AddrFromSlice(v)
		case unix.IFA_LABEL:
			label = v
		case unix.IFA_FLAGS:
			if len(v) >= 4 {
				flags = binary.NativeEndian.Uint32(v)
			}
		case unix.IFA_CACHEINFO:
			if len(v) >= 8 {
				a.PreferredLifetime = binary.NativeEndian.Uint32(v)
				a.ValidLifetime = binary.NativeEndian.Uint32(v[4:])
			}
		}
	}
	mine := local
	if mine == nil {
		mine = address
	}
	if !match(a.LinkIndex, mine, prefixLen) {
		return Addr{}, false
	}
	ip, _ := netip.AddrFromSlice(mine)
	a.Prefix = netip.PrefixFrom(ip, prefixLen)
	if len(label) > 0 && label[len(label)-1] == 0 {
		label = label[:len(label)-1]
	}
	a.Label = string(label)
	a.Flags = AddrFlags(flags)
	return a, true
}
