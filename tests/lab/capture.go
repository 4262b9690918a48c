//go:build linux

package lab

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ndp"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Frame is a frame a host received, with the kernel's receive time.
type Frame struct {
	Time time.Time
	Data []byte
}

// Capture records the frames of one EtherType that reach a host's nic,
// timestamped by the kernel (SO_TIMESTAMPNS), so that the times can be
// compared with when a command in another host returned.
type Capture struct {
	fd       int
	proto    uint16
	host     *Host
	outgoing bool
	mu       sync.Mutex
	frames   []Frame
	stop     chan struct{}
	done     chan struct{}
	// arrived has a token after each new frame, for Until.
	arrived chan struct{}
}

// Capture starts capturing frames of EtherType proto (e.g. 0x0806 for ARP;
// ETH_P_ALL for every frame)
// received on the host's nic; frames the host sends are left out.
func (h *Host) Capture(proto uint16) (*Capture, error) {
	return h.capture(proto, false)
}

// CaptureOutgoing is Capture for the frames the host sends.
func (h *Host) CaptureOutgoing(proto uint16) (*Capture, error) {
	return h.capture(proto, true)
}

func (h *Host) capture(proto uint16, outgoing bool) (*Capture, error) {
	nh, err := h.Handle()
	if err != nil {
		return nil, err
	}
	link, err := nh.LinkByName(h.Dev)
	nh.Close()
	if err != nil {
		return nil, err
	}
	// The kernel hands a host's outgoing frames to the packet sockets
	// of every protocol (ETH_P_ALL) alone: such a capture keeps the
	// frames of proto itself.
	bind := proto
	if outgoing {
		bind = unix.ETH_P_ALL
	}
	fd, err := h.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(bind)))
	if err != nil {
		return nil, err
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(bind), Ifindex: link.Attrs().Index}
	tv := unix.Timeval{Usec: 50_000}
	for _, err := range []error{
		unix.Bind(fd, sa),
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1),
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv),
	} {
		if err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("capture on %s: %w", h.Name, err)
		}
	}
	c := &Capture{fd: fd, proto: proto, host: h, outgoing: outgoing, stop: make(chan struct{}), done: make(chan struct{}), arrived: make(chan struct{}, 1)}
	go c.loop()
	return c, nil
}

// Socket opens a socket inside the host's namespace (a socket keeps the
// namespace it was created in), close-on-exec.
func (h *Host) Socket(domain, typ, proto int) (int, error) {
	fd := -1
	err := h.Do(func() (err error) {
		fd, err = unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
		return err
	})
	if err != nil {
		return -1, fmt.Errorf("socket in %s: %w", h.NS, err)
	}
	return fd, nil
}

// Do runs f on a thread inside the host's namespace, so that the sockets
// f opens (net.Listen, net.Dial) belong to the host.
func (h *Host) Do(f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return err
	}
	defer orig.Close()
	ns, err := netns.GetFromName(h.NS)
	if err != nil {
		return err
	}
	defer ns.Close()
	if err := netns.Set(ns); err != nil {
		return err
	}
	ferr := f()
	if err := netns.Set(orig); err != nil {
		// This thread is in the wrong namespace: never let it run
		// anything else.
		runtime.Goexit()
	}
	return ferr
}

// htons puts v in network byte order, as packet(7) wants the protocol.
func htons(v uint16) uint16 {
	return binary.NativeEndian.Uint16(binary.BigEndian.AppendUint16(nil, v))
}

func (c *Capture) loop() {
	defer close(c.done)
	buf := make([]byte, 2048)
	oob := make([]byte, 256)
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		n, oobn, _, from, err := unix.Recvmsg(c.fd, buf, oob, 0)
		if err != nil {
			continue // the receive timeout, to look at c.stop
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); !ok || (ll.Pkttype == unix.PACKET_OUTGOING) != c.outgoing {
			continue
		}
		if n < 14 || c.proto != unix.ETH_P_ALL && binary.BigEndian.Uint16(buf[12:14]) != c.proto {
			continue
		}
		f := Frame{Time: time.Now(), Data: append([]byte{}, buf[:n]...)}
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
					ts := *(*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
					f.Time = time.Unix(ts.Unix())
				}
			}
		}
		c.mu.Lock()
		c.frames = append(c.frames, f)
		c.mu.Unlock()
		select {
		case c.arrived <- struct{}{}:
		default:
		}
	}
}

// Until returns once done says that the frames so far are what the test
// waits for, or when timeout has passed, so that a test reads the capture
// as soon as what it expects is there rather than after a guessed sleep.
func (c *Capture) Until(done func([]Frame) bool, timeout time.Duration) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !done(c.Frames()) {
		select {
		case <-c.arrived:
		case <-deadline.C:
			return
		}
	}
}

// Drain returns every frame the capture has received up to now, none of
// those still on their way left out: it sends a marker frame of the
// capture's EtherType from host from, which takes the same path as the
// frames from before it, and waits for the marker to arrive. A test that
// checks that something did NOT happen (no frame after stop, no more than
// a burst) reads the frames before the marker rather than after a guessed
// sleep. For a capture of outgoing frames, from is the capturing host.
// The marker is not among the frames returned, nor are any after it.
func (c *Capture) Drain(from *Host, timeout time.Duration) ([]Frame, error) {
	marker, err := c.sendMarker(from)
	if err != nil {
		return nil, err
	}
	var at int
	c.Until(func(fs []Frame) bool {
		at = markerIndex(fs, marker)
		return at >= 0
	}, timeout)
	if at < 0 {
		return nil, fmt.Errorf("drain capture on %s: the marker from %s did not arrive within %v", c.host.Name, from.Name, timeout)
	}
	return c.Frames()[:at], nil
}

func markerIndex(fs []Frame, marker []byte) int {
	for i, f := range fs {
		if len(f.Data) >= len(marker) && string(f.Data[:len(marker)]) == string(marker) {
			return i
		}
	}
	return -1
}

// sendMarker sends, from host from to the capturing host, a frame of the
// capture's EtherType that no host acts on and that no other frame
// equals: an ARP packet of an unknown hardware type, which arp_rcv drops,
// or an IPv6 packet with no next header (RFC 8200, 59), which a bridge's
// netfilter still finds well formed.
func (c *Capture) sendMarker(from *Host) ([]byte, error) {
	var nonce [8]byte
	binary.NativeEndian.PutUint64(nonce[:], uint64(time.Now().UnixNano()))
	frame := append(append([]byte{}, c.host.MAC...), from.MAC...)
	frame = binary.BigEndian.AppendUint16(frame, c.proto)
	switch c.proto {
	case 0x0806:
		frame = append(frame, 0xff, 0xff, 0x08, 0x00, 8, 4, 0, 1)
		frame = append(frame, nonce[:]...)
	case 0x86dd:
		frame = append(frame, 0x60, 0, 0, 0, 0, 0, 59, 1)
		src := netip.MustParseAddr("2001:db8::").As16()
		copy(src[8:], nonce[:])
		frame = append(frame, src[:]...)
		dst := netip.MustParseAddr("ff02::1").As16()
		frame = append(frame, dst[:]...)
	default:
		return nil, fmt.Errorf("drain capture on %s: no marker for EtherType %#04x", c.host.Name, c.proto)
	}
	fd, err := from.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	nh, err := from.Handle()
	if err != nil {
		return nil, err
	}
	link, err := nh.LinkByName(from.Dev)
	nh.Close()
	if err != nil {
		return nil, err
	}
	to := &unix.SockaddrLinklayer{Ifindex: link.Attrs().Index, Halen: 6}
	copy(to.Addr[:], c.host.MAC)
	if err := unix.Sendto(fd, frame, 0, to); err != nil {
		return nil, fmt.Errorf("send marker from %s: %w", from.Name, err)
	}
	return frame, nil
}

// Frames returns the frames captured so far.
func (c *Capture) Frames() []Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Frame{}, c.frames...)
}

// Close stops the capture and returns every frame it saw.
func (c *Capture) Close() []Frame {
	close(c.stop)
	<-c.done
	unix.Close(c.fd)
	return c.Frames()
}

// ARP is a captured ARP frame, decoded.
type ARP struct {
	Time     time.Time
	EthDst   net.HardwareAddr
	EthSrc   net.HardwareAddr
	Op       arp.Operation
	SenderHW net.HardwareAddr
	SenderIP netip.Addr
	TargetHW net.HardwareAddr
	TargetIP netip.Addr
	Len      int
}

// String is a tcpdump-like line.
func (a ARP) String() string {
	return fmt.Sprintf("%s > %s %s sender %s/%s target %s/%s (%d bytes)",
		a.EthSrc, a.EthDst, a.Op, a.SenderHW, a.SenderIP, a.TargetHW, a.TargetIP, a.Len)
}

// DecodeARP decodes the ARP frames among frames and skips the rest.
func DecodeARP(frames []Frame) []ARP {
	var out []ARP
	for _, f := range frames {
		if len(f.Data) < 14+28 || binary.BigEndian.Uint16(f.Data[12:14]) != 0x0806 {
			continue
		}
		var p arp.Packet
		if err := p.UnmarshalBinary(f.Data[14:]); err != nil {
			continue
		}
		out = append(out, ARP{
			Time: f.Time, EthDst: net.HardwareAddr(f.Data[0:6]), EthSrc: net.HardwareAddr(f.Data[6:12]),
			Op: p.Operation, SenderHW: p.SenderHardwareAddr, SenderIP: p.SenderIP,
			TargetHW: p.TargetHardwareAddr, TargetIP: p.TargetIP, Len: len(f.Data),
		})
	}
	return out
}

// NA is a captured Neighbor Advertisement, decoded.
type NA struct {
	Time                        time.Time
	EthDst, EthSrc              net.HardwareAddr
	Src, Dst                    netip.Addr
	HopLimit                    int
	Router, Solicited, Override bool
	Target                      netip.Addr
	TargetMAC                   net.HardwareAddr
	Len                         int
}

// DecodeNA decodes the Neighbor Advertisements among IPv6 frames and skips
// the rest.
func DecodeNA(frames []Frame) []NA {
	var out []NA
	for _, f := range frames {
		b := f.Data
		if len(b) < 14+40+24 || binary.BigEndian.Uint16(b[12:14]) != 0x86dd || b[14+6] != 58 {
			continue
		}
		m, err := ndp.ParseMessage(b[14+40:])
		if err != nil {
			continue
		}
		na, ok := m.(*ndp.NeighborAdvertisement)
		if !ok {
			continue
		}
		d := NA{
			Time: f.Time, EthDst: net.HardwareAddr(b[0:6]), EthSrc: net.HardwareAddr(b[6:12]),
			Src: netip.AddrFrom16([16]byte(b[14+8 : 14+24])), Dst: netip.AddrFrom16([16]byte(b[14+24 : 14+40])),
			HopLimit: int(b[14+7]), Router: na.Router, Solicited: na.Solicited, Override: na.Override,
			Target: na.TargetAddress, Len: len(b),
		}
		for _, o := range na.Options {
			if l, ok := o.(*ndp.LinkLayerAddress); ok && l.Direction == ndp.Target {
				d.TargetMAC = l.Addr
			}
		}
		out = append(out, d)
	}
	return out
}
