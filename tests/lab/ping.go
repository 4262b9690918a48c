//go:build linux

package lab

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Pinger sends ICMP (IPv4) or ICMPv6 echo requests from a host to one
// address at a steady pace and records which were answered, to measure how
// long a client loses the address while it moves.
type Pinger struct {
	fd      int
	dst     netip.Addr
	id      uint16
	mu      sync.Mutex
	sent    []time.Time
	replied map[uint16]time.Time
	stop    chan struct{}
	done    sync.WaitGroup
}

// Probe is one echo request and its fate.
type Probe struct {
	Sent    time.Time
	Replied time.Time // zero when lost
}

// Ping starts pinging dst from the host every interval.
func (h *Host) Ping(dst netip.Addr, interval time.Duration) (*Pinger, error) {
	family, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if dst.Is6() {
		family, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	fd, err := h.Socket(family, unix.SOCK_RAW, proto)
	if err != nil {
		return nil, err
	}
	tv := unix.Timeval{Usec: 20_000}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, err
	}
	p := &Pinger{fd: fd, dst: dst, id: uint16(time.Now().UnixNano()), replied: map[uint16]time.Time{}, stop: make(chan struct{})}
	p.done.Add(2)
	go p.send(interval)
	go p.receive()
	return p, nil
}

func (p *Pinger) send(interval time.Duration) {
	defer p.done.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	var to unix.Sockaddr = &unix.SockaddrInet6{Addr: p.dst.As16()}
	if p.dst.Is4() {
		to = &unix.SockaddrInet4{Addr: p.dst.As4()}
	}
	for seq := uint16(0); ; seq++ {
		p.mu.Lock()
		p.sent = append(p.sent, time.Now())
		p.mu.Unlock()
		unix.Sendto(p.fd, echo(p.dst.Is6(), p.id, seq), 0, to)
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
	}
}

func (p *Pinger) receive() {
	defer p.done.Done()
	buf := make([]byte, 1500)
	for {
		select {
		case <-p.stop:
			return
		default:
		}
		n, from, err := unix.Recvfrom(p.fd, buf, 0)
		if err != nil {
			continue
		}
		b, src, reply := buf[:n], netip.Addr{}, byte(0)
		switch sa := from.(type) {
		case *unix.SockaddrInet4:
			// An ICMP raw socket reads the IPv4 header too.
			if n < 20 || n < int(buf[0]&0x0f)*4 {
				continue
			}
			b, src = buf[int(buf[0]&0x0f)*4:n], netip.AddrFrom4(sa.Addr)
		case *unix.SockaddrInet6:
			// An ICMPv6 raw socket reads the message alone.
			src, reply = netip.AddrFrom16(sa.Addr), 129
		}
		if len(b) < 8 || b[0] != reply || src != p.dst || binary.BigEndian.Uint16(b[4:6]) != p.id {
			continue
		}
		seq := binary.BigEndian.Uint16(b[6:8])
		p.mu.Lock()
		if _, ok := p.replied[seq]; !ok {
			p.replied[seq] = time.Now()
		}
		p.mu.Unlock()
	}
}

// echo builds an ICMP echo request (RFC 792), or an ICMPv6 one (RFC 4443)
// whose checksum the kernel computes, as it does for every ICMPv6 raw
// socket (RFC 3542 section 3.1).
func echo(v6 bool, id, seq uint16) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	if v6 {
		b[0] = 128
		return b
	}
	b[0] = 8
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return b
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// Probes returns every probe so far.
func (p *Pinger) Probes() []Probe {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Probe, len(p.sent))
	for i, t := range p.sent {
		out[i] = Probe{Sent: t, Replied: p.replied[uint16(i)]}
	}
	return out
}

// Close stops pinging and returns every probe.
func (p *Pinger) Close() []Probe {
	close(p.stop)
	p.done.Wait()
	unix.Close(p.fd)
	return p.Probes()
}
