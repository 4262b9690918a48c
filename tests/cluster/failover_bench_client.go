//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/lab"
)

// fbWatch is the failover bench's client: it sends an echo request to the
// VIP every probeInterval from a raw socket, and reads the answers, with
// the MAC that sent each, from a packet capture of the client's nic,
// beside the ARP frames it receives and its neighbour entry for the VIP.
// A ping alone cannot tell which node answered; the capture can.
//
// The probes go to the one MAC of the client's neighbour entry, so a
// node that holds the VIP beside it is silent to them. Every fbARPEvery
// the client also broadcasts an ARP request for the VIP, from an address
// and MAC of an observer (fbObserver), which every holder answers: two
// MACs in one round are two holders, and the client's own entry is left
// alone, as the replies are not addressed to it.
type fbWatch struct {
	id        uint16
	fd        int
	arpFd     int
	ifindex   int
	ip, arp   *lab.Capture
	changes   func() []lab.NeighborChange
	stopNeigh func()

	mu      sync.Mutex
	sent    []time.Time // by sequence number
	arpSent []time.Time

	stop chan struct{}
	wg   sync.WaitGroup
}

// watchProbes starts the client m's probes and captures.
func watchProbes(m *lab.Host) (*fbWatch, error) {
	w := &fbWatch{id: uint16(time.Now().UnixNano()), fd: -1, arpFd: -1, stop: make(chan struct{})}
	var err error
	if w.ip, err = m.Capture(unix.ETH_P_IP); err == nil {
		if w.arp, err = m.Capture(unix.ETH_P_ARP); err == nil {
			if w.changes, w.stopNeigh, err = m.WatchNeighbor(VIP); err == nil {
				w.fd, err = m.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			}
		}
	}
	if err == nil {
		var link *netlink.LinkAttrs
		if link, err = m.Link(m.Dev); err == nil {
			w.ifindex = link.Index
			w.arpFd, err = m.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		}
	}
	if err == nil {
		// The answers are read from the capture: the socket's own queue
		// is never read, so it is kept small and allowed to overflow.
		err = unix.SetsockoptInt(w.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4096)
	}
	if err != nil {
		w.close()
		return nil, fmt.Errorf("the client's watch of %s: %w", VIP, err)
	}
	w.wg.Add(1)
	go w.send()
	return w, nil
}

func (w *fbWatch) send() {
	defer w.wg.Done()
	t := time.NewTicker(probeInterval)
	defer t.Stop()
	to := &unix.SockaddrInet4{Addr: VIP.As4()}
	bcast := &unix.SockaddrLinklayer{Ifindex: w.ifindex, Protocol: binary.NativeEndian.Uint16(binary.BigEndian.AppendUint16(nil, unix.ETH_P_ARP)), Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	request := fbARPRequest()
	every := int(fbARPEvery / probeInterval)
	for seq := uint16(0); ; seq++ {
		w.mu.Lock()
		w.sent = append(w.sent, time.Now())
		w.mu.Unlock()
		unix.Sendto(w.fd, icmpEcho(w.id, seq), 0, to)
		if int(seq)%every == 0 {
			w.mu.Lock()
			w.arpSent = append(w.arpSent, time.Now())
			w.mu.Unlock()
			unix.Sendto(w.arpFd, request, 0, bcast)
		}
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
	}
}

// sample is what the client saw so far.
func (w *fbWatch) sample(t0 time.Time, old net.HardwareAddr) fbSample {
	w.mu.Lock()
	sent, arpSent := slices.Clone(w.sent), slices.Clone(w.arpSent)
	w.mu.Unlock()
	s := fbSample{T0: t0, Old: old.String(), Sent: sent, ARPSent: arpSent, End: time.Now(), Neigh: w.changes()}
	s.Replies, s.Claims, s.Adverts = decodeIPv4(w.ip.Frames(), w.id)
	for _, a := range lab.DecodeARP(w.arp.Frames()) {
		if a.SenderIP != VIP {
			continue
		}
		f := fbFrame{At: a.Time, MAC: a.EthSrc.String()}
		s.Claims = append(s.Claims, f)
		if a.TargetIP == fbObserver && a.TargetHW.String() == fbObserverMAC.String() {
			s.ARPReplies = append(s.ARPReplies, f)
		}
	}
	slices.SortFunc(s.Claims, func(a, b fbFrame) int { return a.At.Compare(b.At) })
	return s
}

// close stops the probes and captures; the sample taken before stays.
func (w *fbWatch) close() {
	select {
	case <-w.stop:
		return
	default:
	}
	close(w.stop)
	w.wg.Wait()
	for _, fd := range []int{w.fd, w.arpFd} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	if w.stopNeigh != nil {
		w.stopNeigh()
	}
	for _, c := range []*lab.Capture{w.ip, w.arp} {
		if c != nil {
			c.Close()
		}
	}
}

// The observer whose ARP requests for the VIP the client sends: an
// address of the lab's subnet that no host has, and a MAC of its own.
var (
	fbObserver    = netip.MustParseAddr("198.18.0.250")
	fbObserverMAC = net.HardwareAddr{0x06, 0x00, 0x5e, 0x00, 0x00, 0xfa}
)

// fbARPEvery is how often the client asks who holds the VIP.
const fbARPEvery = 20 * time.Millisecond

// fbARPRequest is the observer's broadcast ARP request for the VIP.
func fbARPRequest() []byte {
	b := make([]byte, 0, 42)
	b = append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	b = append(b, fbObserverMAC...)
	b = binary.BigEndian.AppendUint16(b, unix.ETH_P_ARP)
	b = append(b, 0, 1, 8, 0, 6, 4, 0, 1) // Ethernet, IPv4, a request
	b = append(b, fbObserverMAC...)
	b = append(b, fbObserver.AsSlice()...)
	b = append(b, 0, 0, 0, 0, 0, 0)
	return append(b, VIP.AsSlice()...)
}

// fbReply is an echo reply from the VIP: to which probe, when, from which
// MAC.
type fbReply struct {
	Seq uint16
	At  time.Time
	MAC string
}

// fbFrame is a frame that speaks for the VIP (an ARP frame with the VIP as
// its sender, an IPv4 packet from the VIP) and the MAC that sent it.
type fbFrame struct {
	At  time.Time
	MAC string
}

// fbAdvert is a VRRP advertisement (IP protocol 112).
type fbAdvert struct {
	At  time.Time
	MAC string
	// Dst and TTL are the IPv4 header's: VRRP's group, 224.0.0.18,
	// and 255, which tells a receiver the advert was not routed.
	Dst      netip.Addr
	TTL      int
	Version  int
	VRID     int
	Priority int
	// Interval is the advertisement interval the frame states, in
	// centiseconds (VRRPv3's Max Adver Int).
	Interval int
}

// decodeIPv4 sorts the client's IPv4 frames into the echo replies to its
// probes (identifier id), the frames sent from the VIP, and the VRRP
// advertisements.
func decodeIPv4(frames []lab.Frame, id uint16) (replies []fbReply, claims []fbFrame, adverts []fbAdvert) {
	for _, f := range frames {
		b := f.Data
		if len(b) < 14+20 || binary.BigEndian.Uint16(b[12:14]) != unix.ETH_P_IP || b[14]>>4 != 4 {
			continue
		}
		ihl := int(b[14]&0x0f) * 4
		if ihl < 20 || len(b) < 14+ihl+8 {
			continue
		}
		mac := net.HardwareAddr(b[6:12]).String()
		src := netip.AddrFrom4([4]byte(b[14+12 : 14+16]))
		l4 := b[14+ihl:]
		switch b[14+9] {
		case unix.IPPROTO_ICMP:
			if src != VIP {
				continue
			}
			claims = append(claims, fbFrame{At: f.Time, MAC: mac})
			if l4[0] == 0 && binary.BigEndian.Uint16(l4[4:6]) == id {
				replies = append(replies, fbReply{Seq: binary.BigEndian.Uint16(l4[6:8]), At: f.Time, MAC: mac})
			}
		case 112: // VRRP
			adverts = append(adverts, fbAdvert{At: f.Time, MAC: mac, Dst: netip.AddrFrom4([4]byte(b[14+16 : 14+20])), TTL: int(b[14+8]), Version: int(l4[0] >> 4), VRID: int(l4[1]),
				Priority: int(l4[2]), Interval: int(binary.BigEndian.Uint16(l4[4:6]) & 0x0fff)})
		default:
			if src == VIP {
				claims = append(claims, fbFrame{At: f.Time, MAC: mac})
			}
		}
	}
	return replies, claims, adverts
}

// fbSample is what the client saw around one fault.
type fbSample struct {
	// T0 is the fault; Old the MAC of the VIP's holder before it.
	T0  time.Time
	Old string
	// Sent is when each probe was sent, by sequence number; End is when
	// the sample was taken, so that the probes of the last inFlight may
	// not have had their answer yet.
	Sent    []time.Time
	End     time.Time
	Replies []fbReply
	// Claims are the frames that speak for the VIP, sorted by time.
	Claims  []fbFrame
	Adverts []fbAdvert
	// ARPSent is when each of the observer's ARP requests went;
	// ARPReplies are the answers to them.
	ARPSent    []time.Time
	ARPReplies []fbFrame
	Neigh      []lab.NeighborChange
	// Effect is when the fault had taken effect, as far as the bench
	// knows (the cut, the kill done); zero for T0.
	Effect time.Time
	// Same: the fault may leave the VIP where it was (a flap), and the
	// outage ends at the first answer from any node.
	Same bool
}

// fbOutcome is one fault's figures, from the client.
type fbOutcome struct {
	// Recovered: a probe after the first lost one had its answer. When
	// false, the VIP was lost for good (within the bench's wait) and
	// the figures below are meaningless.
	Recovered bool
	// Outage is from the first probe lost to the first answer from the
	// new holder (0 when no probe was lost); Lost counts the lost probes.
	Outage time.Duration
	Lost   int
	// New is the MAC that answered last: the new holder, or the old one
	// again after a flap.
	New string
	// Followed is from the fault until the client's neighbour entry first
	// named New; -1 when New is Old (the entry had no need to change) or
	// it never did.
	Followed time.Duration
	// OldAfter counts the frames for the VIP that the old holder sent
	// after the new one's first answer.
	OldAfter int
	// TwoMACs: a probe was answered from two MACs, the old holder
	// answered after the new one had, or BothARP.
	TwoMACs bool
	// BothARP counts the observer's ARP requests for the VIP, from the
	// fault on, that two MACs answered: two holders, even when the
	// client's probes reached only one of them.
	BothARP int
	// Answerers are the MACs that answered the probes from the fault on,
	// in turn: [new] for a clean failover.
	Answerers []string
	// Still names the nodes whose answers came in the last seconds
	// before the bench gave up on a run that did not recover: none for
	// a lost VIP, two for two holders.
	Still []string
}

// settled says whether the client's last probes, over the last d but
// those still in flight, were all answered, and from one MAC.
func (s fbSample) settled(d time.Duration) (mac string, ok bool) {
	end := s.End.Add(-inFlight)
	by := map[uint16]string{}
	for _, r := range s.Replies {
		by[r.Seq] = r.MAC
	}
	n := 0
	for seq := len(s.Sent) - 1; seq >= 0; seq-- {
		t := s.Sent[seq]
		if t.After(end) {
			continue
		}
		if t.Before(end.Add(-d)) {
			break
		}
		m, answered := by[uint16(seq)]
		if !answered || mac != "" && m != mac {
			return "", false
		}
		mac = m
		n++
	}
	return mac, n > 0 && !s.Sent[0].After(end.Add(-d))
}

// answering is the MACs that answered the probes sent over the last d
// but those still in flight, in the order of their first answer there.
func (s fbSample) answering(d time.Duration) []string {
	end := s.End.Add(-inFlight)
	var macs []string
	for _, r := range s.Replies {
		if int(r.Seq) >= len(s.Sent) {
			continue
		}
		if t := s.Sent[r.Seq]; !t.After(end) && !t.Before(end.Add(-d)) && !slices.Contains(macs, r.MAC) {
			macs = append(macs, r.MAC)
		}
	}
	return macs
}

// answeredBy says whether a probe sent after t had its answer from a MAC
// that isn't not, "" for any MAC.
func (s fbSample) answeredBy(t time.Time, not string) bool {
	for _, r := range s.Replies {
		if int(r.Seq) < len(s.Sent) && s.Sent[r.Seq].After(t) && r.MAC != not {
			return true
		}
	}
	return false
}

// outage finds the gap in the answers to the probes of window that the
// fault made: from its first lost probe to the first answer after it
// from the new holder (from any node after a flap). An answer from the
// old holder, or after a flap an answer to a probe sent before the link
// went down, shows that a loss before it was not the fault's. No gap is a
// recovery without an outage; a gap that no answer ended is none.
func (s fbSample) outage(window []int, newMAC string) (recovered bool, d time.Duration) {
	effect := s.Effect
	if effect.IsZero() {
		effect = s.T0
	}
	bySeq := map[int][]fbReply{}
	for _, r := range s.Replies {
		bySeq[int(r.Seq)] = append(bySeq[int(r.Seq)], r)
	}
	gap := -1
	for _, seq := range window {
		var first *fbReply
		for i, r := range bySeq[seq] {
			if (s.Same || r.MAC == newMAC) && (first == nil || r.At.Before(first.At)) {
				first = &bySeq[seq][i]
			}
		}
		switch {
		case len(bySeq[seq]) == 0:
			if gap < 0 {
				gap = seq
			}
		case gap < 0:
		case first == nil || s.Same && s.Sent[seq].Before(effect):
			gap = -1 // the old holder still answered
		default:
			return true, first.At.Sub(s.Sent[gap])
		}
	}
	return gap < 0, 0
}

// analyse reads one fault's figures from the sample.
func (s fbSample) analyse() fbOutcome {
	o := fbOutcome{Followed: -1}
	macs := map[uint16][]string{}
	for _, r := range s.Replies {
		if !slices.Contains(macs[r.Seq], r.MAC) {
			macs[r.Seq] = append(macs[r.Seq], r.MAC)
		}
	}
	end := s.End.Add(-inFlight)
	var window []int // the probes of the fault, by sequence number
	for seq, t := range s.Sent {
		if t.Before(s.T0.Add(-probeInterval)) || t.After(end) {
			continue
		}
		window = append(window, seq)
		if len(macs[uint16(seq)]) == 0 {
			o.Lost++
		}
		if len(macs[uint16(seq)]) > 1 {
			o.TwoMACs = true
		}
	}
	o.BothARP = s.bothARP()
	o.TwoMACs = o.TwoMACs || o.BothARP > 0
	var after []fbReply
	for _, r := range s.Replies {
		if int(r.Seq) < len(s.Sent) && !s.Sent[r.Seq].Before(s.T0) {
			after = append(after, r)
		}
	}
	if len(after) == 0 {
		return o
	}
	slices.SortStableFunc(after, func(a, b fbReply) int { return a.At.Compare(b.At) })
	for _, r := range after {
		if n := len(o.Answerers); n == 0 || o.Answerers[n-1] != r.MAC {
			o.Answerers = append(o.Answerers, r.MAC)
		}
	}
	o.New = after[len(after)-1].MAC
	o.Recovered, o.Outage = s.outage(window, o.New)
	if o.New == s.Old {
		return o
	}
	for _, c := range s.Neigh {
		if !c.Time.Before(s.T0) && c.MAC.String() == o.New {
			o.Followed = c.Time.Sub(s.T0)
			break
		}
	}
	var newFirst time.Time
	for _, r := range s.Replies {
		if r.MAC == o.New && r.At.After(s.T0) && (newFirst.IsZero() || r.At.Before(newFirst)) {
			newFirst = r.At
		}
	}
	for _, c := range s.Claims {
		if c.MAC == s.Old && c.At.After(newFirst) {
			o.OldAfter++
		}
	}
	for _, r := range s.Replies {
		if r.MAC == s.Old && r.At.After(newFirst) {
			o.TwoMACs = true
		}
	}
	return o
}

// bothARP counts the observer's ARP requests sent from the fault on that
// two MACs answered, each reply taken as the answer to the last request
// sent before it.
func (s fbSample) bothARP() int {
	n := 0
	for i, t := range s.ARPSent {
		next := s.End
		if i+1 < len(s.ARPSent) {
			next = s.ARPSent[i+1]
		}
		if t.Before(s.T0) {
			continue
		}
		var macs []string
		for _, r := range s.ARPReplies {
			if !r.At.Before(t) && r.At.Before(next) && !slices.Contains(macs, r.MAC) {
				macs = append(macs, r.MAC)
			}
		}
		if len(macs) > 1 {
			n++
		}
	}
	return n
}
