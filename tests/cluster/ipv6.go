//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mdlayher/ndp"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/lab"
)

// VIP6 is the second VIP, an IPv6 one on the lab's 2001:db8::/64, which
// the nodes and the client have addresses on. It is colocated with vip,
// so every failover moves both and checks both.
var VIP6 = netip.MustParseAddr("2001:db8::100")

// createVIP6 makes vip6 with pcs, as an admin would, and colocates it
// with vip: a colocation rather than a group, so that Pacemaker starts and
// stops the two in parallel and the IPv4 timings stay what they were
// without vip6 (a group would stop vip6 before vip and start it after,
// adding vip6's stop, and the DAD in its start, to vip's failover). It
// checks that the client reaches vip6 at the holder's MAC.
func (c *Cluster) createVIP6(ctx context.Context, w io.Writer, holder *Node) error {
	n1 := c.Nodes[0]
	argv := []string{"pcs", "resource", "create", "vip6", c.agent.Type, "ip=" + VIP6.String(), "cidr_netmask=64", "op", "monitor", "interval=10s"}
	t0 := time.Now()
	if _, err := n1.MustExec(ctx, argv...); err != nil {
		return fmt.Errorf("create vip6: %w", err)
	}
	// Wherever the cluster put it first (it balances resources over the
	// nodes), the colocation brings it to vip.
	s, err := waitStatus(ctx, n1, 30*time.Second, "vip6 started", func(s *Status) bool { return len(s.RunningOn("vip6")) == 1 })
	if err != nil {
		return err
	}
	first := s.RunningOn("vip6")[0]
	coloc := []string{"pcs", "constraint", "colocation", "add", "vip6", "with", "vip", "INFINITY"}
	if _, err := n1.MustExec(ctx, coloc...); err != nil {
		return fmt.Errorf("colocate vip6 with vip: %w", err)
	}
	if _, err := n1.MustExec(ctx, "crm_resource", "--wait", "--timeout=60s"); err != nil {
		return fmt.Errorf("wait for vip6 to settle: %w", err)
	}
	if _, err := waitStatus(ctx, n1, 30*time.Second, "vip6 with vip on "+holder.Name, func(s *Status) bool {
		return slices.Equal(s.RunningOn("vip6"), []string{holder.Name}) && slices.Equal(s.RunningOn("vip"), []string{holder.Name})
	}); err != nil {
		return err
	}
	if err := hasAddr(holder, VIP6); err != nil {
		return err
	}
	mac, err := c.Client.Learn(ctx, VIP6)
	if err != nil {
		return fmt.Errorf("the client's entry for %s: %w", VIP6, err)
	}
	if mac.String() != holder.Host.MAC.String() {
		return fmt.Errorf("the client reaches %s at %s, not at %s's %s", VIP6, mac, holder.Name, holder.Host.MAC)
	}
	fmt.Fprintf(w, "\nipv6: %s (on n1)\n", strings.Join(argv, " "))
	var starts []string
	for _, n := range c.Nodes {
		for _, op := range readLog(filepath.Join(n.Dir, "var/log/pacemaker/pacemaker.log"), func(r io.Reader) []AgentOp {
			return agentOps(r, n.Name, "vip6", t0, time.Now())
		}) {
			if op.Action == "start" && !op.Returned.IsZero() {
				starts = append(starts, fmt.Sprintf("start on %s ran %s", n.Name, ms(op.Exec)))
			}
		}
	}
	fmt.Fprintf(w, "  vip6 started first on %s (%s; a start waits for DAD)\n", first, strings.Join(starts, ", "))
	fmt.Fprintf(w, "  %s: vip6 runs with vip on %s\n", strings.Join(coloc, " "), holder.Name)
	fmt.Fprintf(w, "  the client reaches %s at %s (%s); each failover below moves both VIPs and checks both\n", VIP6, mac, holder.Name)
	c.vip6 = true
	return nil
}

// rebootAddrs6 makes node n's IPv6 addresses what a rebooted machine has:
// its own, and no VIP. Setting the link down (the power switch does) has
// the kernel drop the link's IPv6 addresses, the node's own with the VIP,
// unlike IPv4's; the node's own comes back, without DAD as the lab made
// it.
func rebootAddrs6(n *Node) error {
	if hasAddr(n, VIP6) == nil {
		if err := n.Host.IP("addr", "del", VIP6.String()+"/64", "dev", n.Host.Dev); err != nil {
			return fmt.Errorf("remove %s from %s before its reboot: %w", VIP6, n.Name, err)
		}
	}
	own := ownAddr6(n)
	if !own.IsValid() {
		return nil
	}
	if err := n.Host.IP("addr", "replace", own.String(), "dev", n.Host.Dev, "nodad"); err != nil {
		return fmt.Errorf("give %s its %s again: %w", n.Name, own, err)
	}
	return nil
}

// ownAddr6 is node n's own IPv6 address in the lab.
func ownAddr6(n *Node) netip.Prefix {
	for _, s := range specs {
		if s.Name == n.Name {
			return s.Addr6
		}
	}
	return netip.Prefix{}
}

// Failover6 is what vip6's part of a failover looked like: it moves with
// vip by their colocation, and is checked as vip is.
type Failover6 struct {
	Events []Event
	// Followed is when the client's entry for VIP6 first named the new
	// holder's MAC; DAD is how long the new holder's kernel held VIP6
	// tentative, from its adding to the end of DAD.
	Followed, DAD time.Duration
	// Start is the agent's start of vip6 on the new holder, DAD included.
	Start time.Duration
	// NAs counts the new holder's unsolicited Neighbor Advertisements
	// that reached the client; Solicited says that the client followed
	// on an answer to its own solicitation rather than on them.
	NAs       int
	Solicited bool
	// Replies counts the echo replies from the new holder's MAC after
	// the client followed; Probes, Lost and Gap are as in Failover.
	Replies, Probes, Lost int
	Gap                   time.Duration
}

// watch6 is what the test watches of vip6 during a failover: at the
// client, the IPv6 frames it receives and sends (the new holder's NAs,
// the echo replies and their source MAC, its own solicitations), its
// neighbour entry for VIP6 and its pings; at the new holder, the frames it
// sends (its DAD probe) and its kernel's notifications about VIP6
// (tentative, then not).
type watch6 struct {
	from, to           *Node
	in, out, probe     *lab.Capture
	changes            func() []lab.NeighborChange
	stopWatch          func()
	pinger             *lab.Pinger
	addrs              *addrWatch
	closed             bool
	inF, outF, probeF  []lab.Frame
	probes             []lab.Probe
	tentative, settled time.Time
}

// watchVIP6 starts watching vip6 for a failover from one node to the
// other, after checking that the client reaches vip6 at from's MAC. It
// returns nil when there is no vip6; a nil watch does nothing.
func (c *Cluster) watchVIP6(ctx context.Context, name string, from, to *Node) (*watch6, error) {
	if !c.vip6 {
		return nil, nil
	}
	m := c.Client
	if mac, err := m.Learn(ctx, VIP6); err != nil {
		return nil, fmt.Errorf("%s: the client's entry for %s: %w", name, VIP6, err)
	} else if mac.String() != from.Host.MAC.String() {
		return nil, fmt.Errorf("%s: before it, the client's entry for %s is %s, not %s's %s", name, VIP6, mac, from.Name, from.Host.MAC)
	}
	w := &watch6{from: from, to: to}
	var err error
	if w.in, err = m.Capture(unix.ETH_P_IPV6); err == nil {
		if w.out, err = m.CaptureOutgoing(unix.ETH_P_IPV6); err == nil {
			if w.probe, err = to.Host.CaptureOutgoing(unix.ETH_P_IPV6); err == nil {
				if w.addrs, err = watchAddr(to.Host, VIP6); err == nil {
					if w.changes, w.stopWatch, err = m.WatchNeighbor(VIP6); err == nil {
						w.pinger, err = m.Ping(VIP6, probeInterval)
					}
				}
			}
		}
	}
	if err != nil {
		w.close()
		return nil, fmt.Errorf("%s: watch %s: %w", name, VIP6, err)
	}
	return w, nil
}

// close stops every watch, once.
func (w *watch6) close() {
	if w == nil || w.closed {
		return
	}
	w.closed = true
	if w.pinger != nil {
		w.probes = w.pinger.Close()
	}
	if w.stopWatch != nil {
		w.stopWatch()
	}
	if w.addrs != nil {
		w.tentative, w.settled = w.addrs.close()
	}
	for _, c := range []struct {
		c *lab.Capture
		f *[]lab.Frame
	}{{w.in, &w.inF}, {w.out, &w.outF}, {w.probe, &w.probeF}} {
		if c.c != nil {
			*c.f = c.c.Close()
		}
	}
}

// finish waits, after vip's part of failover f, for vip6's: the client's
// entry for VIP6 must follow to the new holder's MAC, the new holder must
// have sent unsolicited NAs that reached the client, the cluster must
// report vip6 on it and no longer on the old holder, after a fencing its
// start must come after the fencing, and the client's pings must come
// back from the new holder's MAC. A nil watch returns nil.
func (w *watch6) finish(ctx context.Context, c *Cluster, f *Failover) (*Failover6, error) {
	if w == nil {
		return nil, nil
	}
	to, from := w.to, w.from
	// The start waits for DAD (a second or two: the kernel delays its
	// probe by up to a second, then waits a second for an answer), so
	// vip6 follows later than vip.
	deadline := time.Now().Add(30 * time.Second)
	for lab.FirstChangeTo(w.changes(), to.Host.MAC) == nil {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: the client's neighbour entry for %s did not follow to %s (%s) within 30s of vip's", f.Name, VIP6, to.Name, to.Host.MAC)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	// The rest of the burst, for the count of NAs the timeline prints;
	// no check reads it. The answered ping and its echo reply that the
	// checks below want are waited for.
	time.Sleep(1200 * time.Millisecond)
	followed := lab.FirstChangeTo(w.changes(), to.Host.MAC).Time
	if !waitAnswered(ctx, w.pinger, followed, 10*time.Second) {
		return nil, fmt.Errorf("%s: the client's pings to %s got no answer within 10s after it followed to %s", f.Name, VIP6, to.Name)
	}
	w.in.Until(func(fs []lab.Frame) bool {
		for _, e := range decodeEchoReplies(fs) {
			if e.Src == VIP6 && !e.Time.Before(followed) {
				return true
			}
		}
		return false
	}, 5*time.Second)
	if _, err := waitStatus(ctx, to, 30*time.Second, f.Name+": vip6 started on "+to.Name, func(s *Status) bool {
		return slices.Equal(s.RunningOn("vip6"), []string{to.Name})
	}); err != nil {
		return nil, err
	}
	if err := hasAddr(to, VIP6); err != nil {
		return nil, err
	}
	dead := f.Name == kindKill || f.Name == kindFence
	if !dead && hasAddr(from, VIP6) == nil {
		return nil, fmt.Errorf("%s: %s is still on %s after vip6 moved to %s", f.Name, VIP6, from.Name, to.Name)
	}
	w.close()
	flip := lab.FirstChangeTo(w.changes(), to.Host.MAC)
	r := &Failover6{Followed: flip.Time.Sub(f.t0)}
	add := func(t time.Time, format string, args ...any) {
		r.Events = append(r.Events, Event{t.Sub(f.t0), fmt.Sprintf(format, args...)})
	}
	add(flip.Time, "client's neighbour entry for %s -> %s (%s)", VIP6, to.Host.MAC, to.Name)
	if !w.tentative.IsZero() {
		add(w.tentative, "%s's kernel has %s, tentative (DAD)", to.Name, VIP6)
	}
	if !w.settled.IsZero() {
		add(w.settled, "%s's kernel: DAD done, %s no longer tentative", to.Name, VIP6)
		if !w.tentative.IsZero() {
			r.DAD = w.settled.Sub(w.tentative)
		}
	}
	// The DAD probe: a Neighbor Solicitation for VIP6 from the
	// unspecified address (RFC 4862 section 5.4.2).
	for _, ns := range decodeNS(w.probeF) {
		if !ns.Time.Before(f.t0) && ns.Target == VIP6 && ns.Src.IsUnspecified() {
			add(ns.Time, "%s sent its DAD probe (NS for %s from ::)", to.Name, VIP6)
		}
	}
	var firstNA, solicitedNA time.Time
	for _, na := range lab.DecodeNA(w.inF) {
		if na.Time.Before(f.t0) || na.Target != VIP6 || na.EthSrc.String() != to.Host.MAC.String() {
			continue
		}
		if na.Solicited {
			if solicitedNA.IsZero() {
				solicitedNA = na.Time
				add(na.Time, "client received a solicited NA for %s from %s", VIP6, to.Name)
			}
			continue
		}
		if na.TargetMAC.String() != to.Host.MAC.String() || !na.Override {
			continue
		}
		if r.NAs++; r.NAs == 1 {
			firstNA = na.Time
		}
	}
	if r.NAs == 0 {
		return nil, fmt.Errorf("%s: no unsolicited Neighbor Advertisement for %s from %s (%s) reached the client", f.Name, VIP6, to.Name, to.Host.MAC)
	}
	add(firstNA, "client received the first of %d unsolicited NAs from %s (override)", r.NAs, to.Name)
	// Had the client resolved VIP6 itself, the answer and not the
	// announcement would have moved it.
	r.Solicited = !solicitedNA.IsZero() && solicitedNA.Before(firstNA) && !solicitedNA.After(flip.Time)
	for _, ns := range decodeNS(w.outF) {
		if !ns.Time.Before(f.t0) && ns.Time.Before(flip.Time) && ns.Target == VIP6 {
			add(ns.Time, "client solicited %s (to %s)", VIP6, ns.Dst)
		}
	}
	// The agent's operations on vip6; after a fencing the start must
	// follow it, as vip's must.
	var ops []AgentOp
	for range 25 {
		ops = nil
		for _, n := range []*Node{from, to} {
			ops = append(ops, readLog(filepath.Join(n.Dir, "var/log/pacemaker/pacemaker.log"), func(rd io.Reader) []AgentOp {
				return agentOps(rd, n.Name, "vip6", f.t0, time.Now())
			})...)
		}
		if complete(ops, to.Name, "start") && (dead || complete(ops, from.Name, "stop")) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	var start *AgentOp
	for i, op := range ops {
		add(op.Called, "vip6 %s on %s called", op.Action, op.Node)
		if !op.Returned.IsZero() {
			add(op.Returned, "vip6 %s on %s returned %d (agent ran %s)", op.Action, op.Node, op.Status, ms(op.Exec))
		}
		if op.Node == to.Name && op.Action == "start" && start == nil {
			start = &ops[i]
		}
	}
	if start == nil || start.Returned.IsZero() {
		return nil, fmt.Errorf("%s: no complete start of vip6 on %s in its log", f.Name, to.Name)
	}
	r.Start = start.Exec
	if dead && f.Fenced > 0 {
		// Both times come from the one log, to the millisecond.
		if fenced := f.t0.Add(f.Fenced); start.Called.Before(fenced) {
			return nil, fmt.Errorf("%s: vip6's start on %s was called at %s, before the fencing of %s succeeded at %s",
				f.Name, to.Name, start.Called.Format(logStamp), from.Name, fenced.Format(logStamp))
		}
	}
	// Echo replies from VIP6 after the client followed: they must come
	// from the new holder's MAC.
	var firstReply time.Time
	others := 0
	for _, e := range decodeEchoReplies(w.inF) {
		if e.Src != VIP6 || e.Time.Before(flip.Time) {
			continue
		}
		if e.EthSrc.String() != to.Host.MAC.String() {
			others++
			continue
		}
		if r.Replies++; r.Replies == 1 {
			firstReply = e.Time
		}
	}
	if r.Replies == 0 {
		return nil, fmt.Errorf("%s: after the client followed, no echo reply from %s came from %s's %s (%d from other MACs)", f.Name, VIP6, to.Name, to.Host.MAC, others)
	}
	if others > 0 {
		return nil, fmt.Errorf("%s: after the client followed to %s, %d echo replies from %s came from another MAC", f.Name, to.Name, others, VIP6)
	}
	add(firstReply, "client's first echo reply from %s after it followed, from %s's MAC", VIP6, to.Name)
	// Failover.probes counts from f's trigger on.
	counted := &Failover{t0: f.t0}
	if !counted.probes(w.probes, flip.Time) {
		return nil, fmt.Errorf("%s: the client's pings to %s got no answer after it followed to %s", f.Name, VIP6, to.Name)
	}
	r.Probes, r.Lost, r.Gap = counted.Probes, counted.Lost, counted.Gap
	slices.SortStableFunc(r.Events, func(x, y Event) int { return int(x.At - y.At) })
	return r, nil
}

// Print writes vip6's timeline under vip's, on the same clock.
func (r *Failover6) Print(w io.Writer, f *Failover) {
	if r == nil {
		return
	}
	fmt.Fprintf(w, "  vip6 %s, colocated with vip, from the same trigger:\n", VIP6)
	for _, e := range r.Events {
		fmt.Fprintf(w, "  %+10.1f ms  %s\n", float64(e.At.Microseconds())/1000, e.What)
	}
	how := "on the unsolicited NAs"
	if r.Solicited {
		how = "on an answer to its own solicitation"
	}
	fmt.Fprintf(w, "  the client followed vip6 to %s after %s, %s; vip6's start on %s ran %s, the kernel's DAD %s of it\n",
		f.To.Name, ms(r.Followed), how, f.To.Name, ms(r.Start), ms(r.DAD))
	fmt.Fprintf(w, "  client's pings to %s every %v from the trigger on: %d sent, %d lost; longest without an answer %s; %d replies from %s's MAC after it followed\n",
		VIP6, probeInterval, r.Probes, r.Lost, ms(r.Gap), r.Replies, f.To.Name)
}

// Summary is vip6's line in the run's summary.
func (r *Failover6) Summary(f *Failover) string {
	return fmt.Sprintf("  %-14s %s -> %s  %10s  (vip6 %s; its start %s, DAD %s)", "", f.From.Name, f.To.Name, ms(r.Followed), VIP6, ms(r.Start), ms(r.DAD))
}

// icmp6 is one ICMPv6 message of a captured frame, without extension
// headers (NDP and echo have none).
type icmp6 struct {
	Time     time.Time
	EthSrc   net.HardwareAddr
	Src, Dst netip.Addr
	Type     uint8
	Body     []byte
	ID, Seq  uint16
	Target   netip.Addr
}

func parseICMP6(f lab.Frame) (icmp6, bool) {
	b := f.Data
	if len(b) < 14+40+8 || binary.BigEndian.Uint16(b[12:14]) != unix.ETH_P_IPV6 || b[14+6] != unix.IPPROTO_ICMPV6 {
		return icmp6{}, false
	}
	m := icmp6{
		Time: f.Time, EthSrc: net.HardwareAddr(b[6:12]),
		Src: netip.AddrFrom16([16]byte(b[14+8 : 14+24])), Dst: netip.AddrFrom16([16]byte(b[14+24 : 14+40])),
		Type: b[14+40], Body: b[14+40:],
	}
	return m, true
}

// decodeNS decodes the Neighbor Solicitations among frames.
func decodeNS(frames []lab.Frame) []icmp6 {
	var out []icmp6
	for _, f := range frames {
		m, ok := parseICMP6(f)
		if !ok || m.Type != 135 { // Neighbor Solicitation
			continue
		}
		msg, err := ndp.ParseMessage(m.Body)
		if err != nil {
			continue
		}
		if ns, ok := msg.(*ndp.NeighborSolicitation); ok {
			m.Target = ns.TargetAddress
			out = append(out, m)
		}
	}
	return out
}

// decodeEchoReplies decodes the ICMPv6 echo replies among frames.
func decodeEchoReplies(frames []lab.Frame) []icmp6 {
	var out []icmp6
	for _, f := range frames {
		m, ok := parseICMP6(f)
		if !ok || m.Type != 129 || len(m.Body) < 8 {
			continue
		}
		m.ID, m.Seq = binary.BigEndian.Uint16(m.Body[4:6]), binary.BigEndian.Uint16(m.Body[6:8])
		out = append(out, m)
	}
	return out
}

// addrWatch follows a host's kernel notifications about one address: when
// it appeared tentative, and when DAD ended (the tentative flag gone).
type addrWatch struct {
	done               chan struct{}
	wg                 sync.WaitGroup
	mu                 sync.Mutex
	tentative, settled time.Time
	ns                 netns.NsHandle
	once               sync.Once
}

func watchAddr(h *lab.Host, ip netip.Addr) (*addrWatch, error) {
	ns, err := netns.GetFromName(h.NS)
	if err != nil {
		return nil, fmt.Errorf("open namespace %s: %w", h.NS, err)
	}
	a := &addrWatch{done: make(chan struct{}), ns: ns}
	ch := make(chan netlink.AddrUpdate, 64)
	if err := netlink.AddrSubscribeWithOptions(ch, a.done, netlink.AddrSubscribeOptions{Namespace: &ns, ErrorCallback: func(error) {}}); err != nil {
		ns.Close()
		return nil, fmt.Errorf("watch the addresses of %s: %w", h.Name, err)
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		for u := range ch {
			got, ok := netip.AddrFromSlice(u.LinkAddress.IP)
			if !ok || got.Unmap() != ip || !u.NewAddr {
				continue
			}
			now := time.Now()
			a.mu.Lock()
			if u.Flags&unix.IFA_F_TENTATIVE != 0 {
				if a.tentative.IsZero() {
					a.tentative = now
				}
			} else if !a.tentative.IsZero() && a.settled.IsZero() {
				a.settled = now
			}
			a.mu.Unlock()
		}
	}()
	return a, nil
}

func (a *addrWatch) close() (tentative, settled time.Time) {
	a.once.Do(func() {
		close(a.done)
		// The subscription closes ch once it has seen done.
		a.wg.Wait()
		a.ns.Close()
	})
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tentative, a.settled
}
