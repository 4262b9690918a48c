//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"time"
)

// The features step measures what each opt-in feature of floatip, the
// ones beyond heartbeat:IPaddr2, adds to the action it slows:
// floatip with the feature against floatip with its default, one after the
// other in each repetition and in an order that alternates, so that the
// difference of the medians is the feature's cost and not the machine's
// mood. Only floatip runs here: IPaddr2 has none of these features.

// The addresses of the features step.
var (
	// vipDepth is on n alone for the whole step. The depth-10 monitor
	// probes the link for another holder, and x holds vipMonitor too:
	// on that address it would find a split brain and fail.
	vipDepth = netip.MustParseAddr("198.18.0.102")
	// vipFeature is the address the start and stop rows add and remove.
	vipFeature = netip.MustParseAddr("198.18.0.130")
	// vipNobody is on the lab's subnet and held by no host: announce_to
	// finds no entry for it, asks the wire, and gives up when nobody
	// answers.
	vipNobody = netip.MustParseAddr("198.18.0.250")
)

// quietStart are the parameters of the untimed start before a timed stop:
// the whole burst, one request and one reply, goes out before start
// returns. With the defaults a background sender would still be running,
// and stop would be timed killing it, where Pacemaker's stop usually
// comes long after the burst.
var quietStart = []string{"OCF_RESKEY_arp_count=1", "OCF_RESKEY_arp_interval=1", "OCF_RESKEY_arp_bg=false"}

// feature is one row of the features table: what turns the feature on,
// and how to time the action it costs, with env added to the defaults.
type feature struct {
	row string
	env []string
	// measure times the action once; on says the feature is in env, for
	// the checks that it really did its work.
	measure func(env []string, on bool) (time.Duration, error)
}

// featureRow is the samples of one feature: floatip with its default and
// with the feature on.
type featureRow struct {
	name       string
	base, with series
}

// featureTable is the features step's rows in the order they print.
type featureTable struct{ rows []*featureRow }

// print writes the table in the style of the main one; the added cost is
// the difference of the medians, so noise can make it slightly negative.
func (t *featureTable) print(w io.Writer) {
	cells := [][]string{{"feature (floatip alone)", "default median", "p95", "with it median", "p95", "added (medians)", "n"}}
	for _, r := range t.rows {
		cells = append(cells, []string{r.name,
			millis.format(r.base.median()), millis.format(r.base.p95()),
			millis.format(r.with.median()), millis.format(r.with.p95()),
			millis.signed(r.with.median() - r.base.median()), fmt.Sprint(min(len(r.base), len(r.with)))})
	}
	printCells(w, cells)
}

// features measures each feature -features times with it and as many
// without, on n, while p holds one end of the TCP connection that
// kill_connections has to end.
func (b *bench) features() (err error) {
	if b.o.features == 0 {
		return nil
	}
	ln, undo, err := b.featureSetup()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, undo()) }()
	stop := func(env []string, on bool) (time.Duration, error) { return b.timedStop(ln, env, on) }
	fs := []feature{
		{"monitor at depth 10 (OCF_CHECK_LEVEL=10, split-brain probe)", []string{"OCF_CHECK_LEVEL=10"}, b.timedMonitor},
		{"monitor, check_link_status=true", []string{"OCF_RESKEY_check_link_status=true"}, b.timedMonitor},
		{"start, run_arping=true", []string{"OCF_RESKEY_run_arping=true"}, b.timedStart},
		{"start, announce_to=p (in n's neighbour table)", []string{"OCF_RESKEY_announce_to=" + hostP.Addr.Addr().String()}, b.timedStart},
		{"start, announce_to=an address nobody holds (asked on the wire)", []string{"OCF_RESKEY_announce_to=" + vipNobody.String()}, b.timedStart},
		{"stop, kill_connections=true (1 established TCP connection)", []string{"OCF_RESKEY_kill_connections=true"}, stop},
	}
	for _, f := range fs {
		b.ft.rows = append(b.ft.rows, &featureRow{name: f.row})
	}
	for rep := range b.o.features {
		if rep%5 == 0 {
			progress("features: %d/%d", rep, b.o.features)
		}
		for fi, f := range fs {
			r := b.ft.rows[fi]
			for k := range 2 {
				on := (rep+k)%2 == 1
				var env []string
				if on {
					env = f.env
				}
				d, err := f.measure(env, on)
				if err != nil {
					return fmt.Errorf("%s (feature on: %t): %w", f.row, on, err)
				}
				if on {
					r.with = append(r.with, d.Seconds())
				} else {
					r.base = append(r.base, d.Seconds())
				}
			}
		}
	}
	return nil
}

// featureSetup puts vipDepth on n, makes p a permanent entry of n's
// neighbour table, so that announce_to=p never has to ask the wire, and
// listens for TCP in n on every address, so that connections to
// vipFeature can be made while it is up. undo removes all three, also
// what was done when featureSetup fails.
func (b *bench) featureSetup() (ln *net.TCPListener, undo func() error, err error) {
	var undos []func() error
	undo = func() error {
		var errs []error
		for i := len(undos) - 1; i >= 0; i-- {
			errs = append(errs, undos[i]())
		}
		return errors.Join(errs...)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, undo())
		}
	}()
	if err := b.n.IP("addr", "add", vipDepth.String()+"/24", "brd", "+", "dev", b.n.Dev); err != nil {
		return nil, nil, fmt.Errorf("add the depth-10 monitor's address: %w", err)
	}
	undos = append(undos, func() error { return b.n.IP("addr", "del", vipDepth.String()+"/24", "dev", b.n.Dev) })

	pAddr := hostP.Addr.Addr()
	if err := b.n.IP("neigh", "replace", pAddr.String(), "lladdr", b.p.MAC.String(), "dev", b.n.Dev, "nud", "permanent"); err != nil {
		return nil, nil, fmt.Errorf("make p a neighbour of n: %w", err)
	}
	undos = append(undos, func() error { return b.n.IP("neigh", "del", pAddr.String(), "dev", b.n.Dev) })
	mac, err := b.n.Neighbor(pAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("read n's neighbour entry for p: %w", err)
	}
	if mac.String() != b.p.MAC.String() {
		return nil, nil, fmt.Errorf("n's neighbour entry for p holds %v, want %s", mac, b.p.MAC)
	}

	err = b.n.Do(func() error {
		l, err := net.Listen("tcp4", "0.0.0.0:0")
		if err == nil {
			ln = l.(*net.TCPListener)
		}
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("listen in n: %w", err)
	}
	undos = append(undos, ln.Close)
	return ln, undo, nil
}

// timedMonitor times floatip's recurring monitor of vipDepth.
func (b *bench) timedMonitor(env []string, _ bool) (time.Duration, error) {
	r, err := b.op(floatip, b.nsN, "n", vipDepth, "monitor", "10000", 0, env...)
	return r.Wall(), err
}

// timedStart times floatip's start of vipFeature, until exit as execd
// waits for it, and then stops it again, untimed, with the same
// parameters, as Pacemaker passes them to every action.
func (b *bench) timedStart(env []string, _ bool) (time.Duration, error) {
	r, err := b.op(floatip, b.nsN, "n", vipFeature, "start", "0", 0, env...)
	if err != nil {
		return 0, err
	}
	if _, err := b.op(floatip, b.nsN, "n", vipFeature, "stop", "0", 0, env...); err != nil {
		return 0, err
	}
	return r.Wall(), nil
}

// timedStop starts vipFeature, untimed, opens a TCP connection from p to
// it, and times floatip's stop. With kill_connections on, the client must
// see its connection end, or the row would time a stop that ended none.
func (b *bench) timedStop(ln *net.TCPListener, env []string, on bool) (time.Duration, error) {
	env = append(append([]string{}, quietStart...), env...)
	if _, err := b.op(floatip, b.nsN, "n", vipFeature, "start", "0", 0, env...); err != nil {
		return 0, err
	}
	client, server, err := b.connect(ln, vipFeature)
	if err != nil {
		return 0, err
	}
	defer func() {
		// A reset instead of a FIN: neither end waits for the other, and
		// nothing of the connection outlives the repetition.
		for _, c := range []*net.TCPConn{client, server} {
			c.SetLinger(0)
			c.Close()
		}
	}()
	r, err := b.op(floatip, b.nsN, "n", vipFeature, "stop", "0", 0, env...)
	if err != nil {
		return 0, err
	}
	if on {
		client.SetReadDeadline(time.Now().Add(time.Second))
		var buf [1]byte
		if _, err := client.Read(buf[:]); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, fmt.Errorf("stop with kill_connections=true left the client's connection to %s open (read: %v)", vipFeature, err)
		}
	}
	return r.Wall(), nil
}

// connect opens a TCP connection from p to ip on ln's port, and returns
// both ends once it is established.
func (b *bench) connect(ln *net.TCPListener, ip netip.Addr) (client, server *net.TCPConn, err error) {
	to := netip.AddrPortFrom(ip, uint16(ln.Addr().(*net.TCPAddr).Port))
	var c net.Conn
	err = b.p.Do(func() (err error) {
		c, err = net.DialTimeout("tcp4", to.String(), 2*time.Second)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("connect from p to %s: %w", to, err)
	}
	client = c.(*net.TCPConn)
	if err := ln.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("accept on %s: %w", to, err)
	}
	s, err := ln.AcceptTCP()
	if err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("accept on %s: %w", to, err)
	}
	if got := s.LocalAddr().(*net.TCPAddr).AddrPort(); got.Addr().Unmap() != ip {
		client.Close()
		s.Close()
		return nil, nil, fmt.Errorf("accepted a connection to %s, want one to %s", got, to)
	}
	return client, s, nil
}
