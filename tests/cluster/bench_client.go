//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/lab"
)

// fleetWatch is the client's view of N VIPs at once: one neighbour-table
// subscription and one raw ICMP socket for all of them (lab's Ping and
// WatchNeighbor are one VIP each, and a hundred of each would load the
// machine that is being measured). A VIP is done once the client's entry
// for it names the MAC wanted and a ping to it was answered after that.
type fleetWatch struct {
	vips []netip.Addr
	idx  map[netip.Addr]int
	want net.HardwareAddr
	fd   int
	id   uint16

	stop    chan struct{}
	nlDone  chan struct{}
	wg      sync.WaitGroup
	closeMu sync.Once

	mu sync.Mutex
	// followed is when the entry first named want, answered when the
	// first echo reply came after that; zero until then.
	followed, answered []time.Time
	sent               int
	// dropped counts the kernel's deletions of a VIP's entry.
	dropped int
	// lost is when the subscription ended before Close, lostErr why:
	// with hundreds of VIPs in flux the kernel can overrun its socket
	// (ENOBUFS). From then on send polls the table instead (polled
	// counts the entries it found so).
	lost    time.Time
	lostErr error
	polled  int
	handle  *netlink.Handle
}

// watchFleet starts watching vips from host h: every interval it pings
// each VIP that is not done yet. Entries that name want already when it
// starts count as followed at once (ListExisting).
func watchFleet(h *lab.Host, vips []netip.Addr, want net.HardwareAddr, interval time.Duration) (*fleetWatch, error) {
	w := &fleetWatch{vips: vips, idx: map[netip.Addr]int{}, want: want, id: uint16(time.Now().UnixNano()),
		stop: make(chan struct{}), nlDone: make(chan struct{}),
		followed: make([]time.Time, len(vips)), answered: make([]time.Time, len(vips))}
	for i, v := range vips {
		w.idx[v] = i
	}
	ns, err := netns.GetFromName(h.NS)
	if err != nil {
		return nil, fmt.Errorf("client's namespace %s: %w", h.NS, err)
	}
	defer ns.Close()
	if w.handle, err = h.Handle(); err != nil {
		return nil, err
	}
	ch := make(chan netlink.NeighUpdate, 4096)
	opts := netlink.NeighSubscribeOptions{Namespace: &ns, ListExisting: true,
		// A failover of hundreds of VIPs changes hundreds of entries
		// within milliseconds; root may exceed rmem_max.
		ReceiveBufferSize: 8 << 20, ReceiveBufferForceSize: true,
		ErrorCallback: func(err error) {
			if errors.Is(err, netlink.ErrDumpInterrupted) {
				return // the subscription goes on
			}
			w.mu.Lock()
			if w.lostErr == nil {
				w.lostErr = err
			}
			w.mu.Unlock()
		}}
	if err := netlink.NeighSubscribeWithOptions(ch, w.nlDone, opts); err != nil {
		w.handle.Close()
		return nil, fmt.Errorf("watch %s's neighbour table: %w", h.Name, err)
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for u := range ch {
			w.neighbour(u)
		}
		select {
		case <-w.stop:
		default:
			w.mu.Lock()
			w.lost = time.Now()
			w.mu.Unlock()
		}
	}()
	if w.fd, err = h.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP); err != nil {
		close(w.nlDone)
		w.wg.Wait()
		w.handle.Close()
		return nil, err
	}
	// The receiver wakes up this often to see whether it is to stop.
	tv := unix.Timeval{Usec: 20_000}
	if err := unix.SetsockoptTimeval(w.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		w.Close()
		return nil, fmt.Errorf("ping socket: %w", err)
	}
	w.wg.Add(2)
	go w.receive()
	go w.send(interval)
	return w, nil
}

func (w *fleetWatch) neighbour(u netlink.NeighUpdate) {
	a, ok := netip.AddrFromSlice(u.IP)
	if !ok {
		return
	}
	i, ok := w.idx[a.Unmap()]
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case u.Type == unix.RTM_DELNEIGH:
		// The neighbour table's garbage collection: past gc_thresh1
		// entries it deletes old ones, and a VIP whose entry went
		// learns the new holder by ARP, not from its announcement.
		w.dropped++
	case u.Type == unix.RTM_NEWNEIGH && u.HardwareAddr.String() == w.want.String() && w.followed[i].IsZero():
		w.followed[i] = time.Now()
	}
}

func (w *fleetWatch) send(interval time.Duration) {
	defer w.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for seq := uint16(0); ; seq++ {
		w.mu.Lock()
		lost := !w.lost.IsZero()
		w.mu.Unlock()
		if lost {
			w.poll()
		}
		w.mu.Lock()
		var todo []int
		for i := range w.vips {
			if w.answered[i].IsZero() {
				todo = append(todo, i)
			}
		}
		w.sent += len(todo)
		w.mu.Unlock()
		for _, i := range todo {
			unix.Sendto(w.fd, icmpEcho(w.id, seq), 0, &unix.SockaddrInet4{Addr: w.vips[i].As4()})
		}
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
	}
}

// poll reads the client's table, for when the subscription was lost: an
// entry that names want counts as followed from now.
func (w *fleetWatch) poll() {
	neighs, err := w.handle.NeighList(0, netlink.FAMILY_V4)
	if err != nil {
		return // the next tick tries again
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range neighs {
		a, ok := netip.AddrFromSlice(e.IP)
		if !ok {
			continue
		}
		i, ok := w.idx[a.Unmap()]
		if ok && w.followed[i].IsZero() && e.HardwareAddr.String() == w.want.String() {
			w.followed[i] = now
			w.polled++
		}
	}
}

// Lost says when the neighbour subscription ended early and why, and how
// many entries the polls that replaced it found; zero when it did not.
func (w *fleetWatch) Lost() (at time.Time, polled int, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lost, w.polled, w.lostErr
}

// lostNote is Lost for the output, from t0 on: empty when the
// subscription lasted.
func (w *fleetWatch) lostNote(t0 time.Time) string {
	at, polled, err := w.Lost()
	if at.IsZero() {
		return ""
	}
	return fmt.Sprintf("the client's neighbour subscription ended at +%s (%v); from then on its table was polled at each ping round, which found %d entries",
		ms(at.Sub(t0)), err, polled)
}

func (w *fleetWatch) receive() {
	defer w.wg.Done()
	buf := make([]byte, 1500)
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		n, _, err := unix.Recvfrom(w.fd, buf, 0)
		if err != nil || n < 20 {
			continue
		}
		src, id, ok := echoReply(buf[:n])
		if !ok || id != w.id {
			continue
		}
		i, ok := w.idx[src]
		if !ok {
			continue
		}
		// A reply after the entry followed comes from the new holder:
		// the old one let the address go before the new one
		// announced it (Pacemaker stops before it starts).
		now := time.Now()
		w.mu.Lock()
		if !w.followed[i].IsZero() && w.answered[i].IsZero() {
			w.answered[i] = now
		}
		w.mu.Unlock()
	}
}

// icmpEcho is an ICMP echo request with no payload.
func icmpEcho(id, seq uint16) []byte {
	b := make([]byte, 8)
	b[0] = 8 // echo request
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	var sum uint32
	for i := 0; i < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(b[2:], ^uint16(sum))
	return b
}

// echoReply parses what a raw ICMP socket receives, an IPv4 header and
// the ICMP message, and returns the sender and id of an echo reply.
func echoReply(b []byte) (src netip.Addr, id uint16, ok bool) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return netip.Addr{}, 0, false
	}
	ihl := int(b[0]&0x0f) * 4
	if len(b) < ihl+8 || b[ihl] != 0 {
		return netip.Addr{}, 0, false
	}
	return netip.AddrFrom4([4]byte(b[12:16])), binary.BigEndian.Uint16(b[ihl+4:]), true
}

// Done counts the VIPs that are done.
func (w *fleetWatch) Done() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for i := range w.vips {
		if !w.answered[i].IsZero() {
			n++
		}
	}
	return n
}

// Wait waits until every VIP is done, and fails after d with the ones
// that are not.
func (w *fleetWatch) Wait(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	for w.Done() < len(w.vips) {
		if time.Now().After(deadline) {
			var left []string
			w.mu.Lock()
			for i, v := range w.vips {
				if w.answered[i].IsZero() {
					state := "its entry does not name " + w.want.String()
					if !w.followed[i].IsZero() {
						state = "no answer after its entry named " + w.want.String()
					}
					left = append(left, v.String()+" ("+state+")")
				}
			}
			w.mu.Unlock()
			n := len(left)
			if n > 5 {
				left = append(left[:5], fmt.Sprintf("and %d more", n-5))
			}
			return fmt.Errorf("the client: %d of %d VIPs not done within %v: %v", n, len(w.vips), d, left)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// Times returns, per VIP, when its entry followed and when it answered.
func (w *fleetWatch) Times() (followed, answered []time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Time(nil), w.followed...), append([]time.Time(nil), w.answered...)
}

// Sent is how many pings the client sent.
func (w *fleetWatch) Sent() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sent
}

// Dropped is how many entries for the VIPs the kernel deleted while the
// watch ran.
func (w *fleetWatch) Dropped() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}

// clientEntries counts the client's neighbour entries for vips that name
// a MAC. The kernel's neighbour limits (gc_thresh1-3) are, on many
// kernels, one setting for all namespaces that only the host's can
// change, and the bench changes nothing on the host: so it counts what
// the client kept instead, and says so.
func (c *Cluster) clientEntries(vips []netip.Addr) (int, error) {
	h, err := c.Client.Handle()
	if err != nil {
		return 0, err
	}
	defer h.Close()
	neighs, err := h.NeighList(0, netlink.FAMILY_V4)
	if err != nil {
		return 0, fmt.Errorf("the client's neighbour table: %w", err)
	}
	want := map[netip.Addr]bool{}
	for _, v := range vips {
		want[v] = true
	}
	n := 0
	for _, e := range neighs {
		a, ok := netip.AddrFromSlice(e.IP)
		if ok && want[a.Unmap()] && len(e.HardwareAddr) > 0 && e.State&(netlink.NUD_FAILED|netlink.NUD_INCOMPLETE) == 0 {
			want[a.Unmap()] = false
			n++
		}
	}
	return n, nil
}

// gcThresh reads the kernel's neighbour-table limits, as the client's
// table is under them: read only, never set.
func (c *Cluster) gcThresh() string {
	var out []string
	for _, k := range []string{"gc_thresh1", "gc_thresh2", "gc_thresh3"} {
		v := "?"
		if b, err := os.ReadFile("/proc/sys/net/ipv4/neigh/default/" + k); err == nil {
			v = strings.TrimSpace(string(b))
		}
		out = append(out, k+"="+v)
	}
	return strings.Join(out, " ")
}

// Close stops the pings and the subscription, once.
func (w *fleetWatch) Close() {
	w.closeMu.Do(func() {
		close(w.stop)
		close(w.nlDone)
		w.wg.Wait()
		unix.Close(w.fd)
		w.handle.Close()
	})
}
