package tests

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// TestKillConnectionsReconnectingClient: stop with kill_connections, again
// and again, against a client that reconnects the instant its connection
// is reset, as a service's client library does. After every stop no
// connection on the address is left on the node, neither in its sockets
// nor in the client's hands, and every connection that stop found ended
// with a reset: a client that reconnected to the old node in the moment
// between the reset and the address's removal would hang there. Also on a
// node that forwards, where a packet for an address that is not local is
// routed on rather than dropped.
func TestKillConnectionsReconnectingClient(t *testing.T) {
	for _, tt := range []struct {
		name    string
		specs   []lab.HostSpec
		vip     string
		netmask string
		forward bool
		stops   int
	}{
		{"IPv4", []lab.HostSpec{labtest.HostA, labtest.HostM}, labtest.VIP, "24", false, 50},
		{"IPv6", []lab.HostSpec{labtest.HostA6, labtest.HostM6}, labtest.VIP6, "64", false, 50},
		{"IPv4 forwarding", []lab.HostSpec{labtest.HostA, labtest.HostM}, labtest.VIP, "24", true, 10},
		{"IPv6 forwarding", []lab.HostSpec{labtest.HostA6, labtest.HostM6}, labtest.VIP6, "64", true, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := labtest.NewLab(t, tt.specs...)
			a, m := l.Host("a"), l.Host("m")
			if tt.forward {
				sysctl(t, a, "net.ipv4.ip_forward=1")
				sysctl(t, a, "net.ipv6.conf.all.forwarding=1")
			}
			ip := netip.MustParseAddr(tt.vip)
			r := labtest.Floatip(t, a)
			p := []string{"ip=" + tt.vip, "cidr_netmask=" + tt.netmask, "arp_bg=false", "arp_count=1", "nodad=true", "kill_connections=true"}
			t.Cleanup(func() { r.Run("stop", p...) })

			var ln net.Listener
			if err := a.Do(func() (err error) { ln, err = net.Listen("tcp", ":8080"); return err }); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					defer c.Close()
				}
			}()

			c := newReconnectingClient(t, m, netip.AddrPortFrom(ip, 8080))
			for i := 1; i <= tt.stops; i++ {
				r.Expect(0, "start", p...)
				if !c.waitOpen(true, 5*time.Second) {
					t.Fatalf("stop %d: the client did not connect after start", i)
				}
				before := c.snapshot()
				res := r.Expect(0, "stop", p...)
				if !c.waitOpen(false, 3*time.Second) {
					t.Fatalf("stop %d: the client still holds a connection to the old node 3 s after stop returned (stranded)\nstop: %s", i, res.Stderr)
				}
				after := c.snapshot()
				if after.resets == before.resets {
					t.Errorf("stop %d: the client's connection ended without a reset", i)
				}
				if after.otherEnds != before.otherEnds {
					t.Errorf("stop %d: a connection ended otherwise: %v", i, after.lastErr)
				}
				if left := connectionsOn(t, a, ip); len(left) > 0 {
					t.Fatalf("stop %d: connections on %s left on the node: %v\nstop: %s", i, ip, left, res.Stderr)
				}
			}
		})
	}
}

// connectionsOn lists the TCP sockets in h whose local address is ip,
// but for listeners, as "state local peer".
func connectionsOn(t *testing.T, h *lab.Host, ip netip.Addr) []string {
	t.Helper()
	var out []string
	err := h.Do(func() error {
		for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
			socks, err := netlink.SocketDiagTCP(family)
			if err != nil {
				return err
			}
			for _, s := range socks {
				local, _ := netip.AddrFromSlice(s.ID.Source)
				if local.Unmap() != ip || s.State == 10 { // TCP_LISTEN
					continue
				}
				out = append(out, fmt.Sprintf("state %d %s:%d %s:%d", s.State, local.Unmap(), s.ID.SourcePort, s.ID.Destination, s.ID.DestinationPort))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list the TCP sockets of %s: %v", h.Name, err)
	}
	return out
}

// reconnectingClient keeps one connection to a server open from a host,
// and opens the next the moment the last one ends.
type reconnectingClient struct {
	mu    sync.Mutex
	state clientState
	conn  net.Conn
	// changed is closed and replaced whenever state changes.
	changed chan struct{}
	done    chan struct{}
}

type clientState struct {
	open      bool
	resets    int
	otherEnds int
	lastErr   error
}

func newReconnectingClient(t *testing.T, h *lab.Host, to netip.AddrPort) *reconnectingClient {
	c := &reconnectingClient{changed: make(chan struct{}), done: make(chan struct{})}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		// The whole loop runs in the host's namespace: every dial opens
		// its socket there.
		err := h.Do(func() error {
			d := net.Dialer{Timeout: 100 * time.Millisecond}
			buf := make([]byte, 1)
			for {
				select {
				case <-c.done:
					return nil
				default:
				}
				conn, err := d.Dial("tcp", to.String())
				if err != nil {
					continue
				}
				c.update(func(s *clientState) { s.open = true })
				c.mu.Lock()
				c.conn = conn
				c.mu.Unlock()
				_, err = conn.Read(buf)
				conn.Close()
				c.update(func(s *clientState) {
					s.open = false
					if errors.Is(err, syscall.ECONNRESET) {
						s.resets++
					} else {
						s.otherEnds++
						s.lastErr = err
					}
				})
			}
		})
		if err != nil {
			t.Errorf("client: %v", err)
		}
	}()
	t.Cleanup(func() {
		close(c.done)
		c.mu.Lock()
		if c.conn != nil {
			// A connection that hangs would keep the loop in its read.
			c.conn.Close()
		}
		c.mu.Unlock()
		<-stopped
	})
	return c
}

func (c *reconnectingClient) update(f func(*clientState)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.state)
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *reconnectingClient) snapshot() clientState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// waitOpen waits until the client holds a connection (open) or holds
// none, and says whether that came before the timeout.
func (c *reconnectingClient) waitOpen(open bool, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		ok, changed := c.state.open == open, c.changed
		c.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-deadline:
			return false
		}
	}
}

// TestCutShortStop: a stop with kill_connections that its timeout cut
// short, after it blocked the address and before it removed it, leaves a
// blackhole in the local table and no local route. The next start makes
// the address usable again, whether the address is still there or not,
// and a stop of the absent address clears the blackhole.
func TestCutShortStop(t *testing.T) {
	for _, tt := range []struct {
		name    string
		spec    lab.HostSpec
		vip     string
		netmask string
	}{
		{"IPv4", labtest.HostA, labtest.VIP, "24"},
		{"IPv6", labtest.HostA6, labtest.VIP6, "64"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := labtest.NewLab(t, tt.spec)
			a := l.Host("a")
			r := labtest.Floatip(t, a)
			p := []string{"ip=" + tt.vip, "cidr_netmask=" + tt.netmask, "arp_bg=false", "arp_count=1", "nodad=true", "kill_connections=true"}
			t.Cleanup(func() { r.Run("stop", p...) })
			cutShort := func() {
				t.Helper()
				if err := a.IP("route", "add", "blackhole", tt.vip, "table", "local", "metric", "1"); err != nil {
					t.Fatal(err)
				}
				if err := a.IP("route", "del", "local", tt.vip, "dev", a.Dev, "table", "local"); err != nil {
					t.Fatal(err)
				}
			}
			r.Expect(0, "start", p...)
			cutShort()
			if diff := cmpRoutes([]string{"blackhole"}, localTable(t, a, tt.vip)); diff != "" {
				t.Fatalf("the cut-short stop's state (-want +got):\n%s", diff)
			}
			r.Expect(0, "start", p...)
			if diff := cmpRoutes([]string{"local"}, localTable(t, a, tt.vip)); diff != "" {
				t.Errorf("after a start on the address (-want +got):\n%s", diff)
			}
			cutShort()
			if err := a.IP("addr", "del", tt.vip+"/"+tt.netmask, "dev", a.Dev); err != nil {
				t.Fatal(err)
			}
			r.Expect(0, "stop", p...)
			if diff := cmpRoutes(nil, localTable(t, a, tt.vip)); diff != "" {
				t.Errorf("after a stop of the absent address (-want +got):\n%s", diff)
			}
			if err := a.IP("route", "add", "blackhole", tt.vip, "table", "local", "metric", "1"); err != nil {
				t.Fatal(err)
			}
			r.Expect(0, "start", p...)
			if diff := cmpRoutes([]string{"local"}, localTable(t, a, tt.vip)); diff != "" {
				t.Errorf("after a start of the absent address (-want +got):\n%s", diff)
			}
		})
	}
}

// localTable lists the types of the routes to ip in h's local table.
func localTable(t *testing.T, h *lab.Host, ip string) []string {
	t.Helper()
	nh, err := h.Handle()
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	a := netip.MustParseAddr(ip)
	family := netlink.FAMILY_V4
	if a.Is6() {
		family = netlink.FAMILY_V6
	}
	routes, err := nh.RouteListFiltered(family, &netlink.Route{Table: unix.RT_TABLE_LOCAL}, netlink.RT_FILTER_TABLE)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		if d, ok := netip.AddrFromSlice(r.Dst.IP); ok && d.Unmap() == a {
			switch r.Type {
			case unix.RTN_LOCAL:
				out = append(out, "local")
			case unix.RTN_BLACKHOLE:
				out = append(out, "blackhole")
			default:
				out = append(out, fmt.Sprintf("type %d", r.Type))
			}
		}
	}
	return out
}

func cmpRoutes(want, got []string) string { return cmp.Diff(want, got, cmpopts.EquateEmpty()) }
