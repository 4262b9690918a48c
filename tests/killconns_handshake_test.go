package tests

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestKillConnectionsHalfOpen: a connection that the client holds as
// established while the server still holds it as a handshake (SYN-RECV:
// the handshake's last ACK has not arrived, or, as here, the listener
// defers accepting until the client sends, as Apache's httpd does by
// default on Linux and nginx with "deferred") is a connection on the
// address too. stop must reset it like the others; a request socket that
// SOCK_DESTROY drops goes without a reset, and the client keeps a
// connection to the old node.
func TestKillConnectionsHalfOpen(t *testing.T) {
	l := newLab(t, hostA, hostM)
	a, m := l.Host("a"), l.Host("m")
	ip := netip.MustParseAddr(vip)
	r := floatip(t, a)
	p := []string{"ip=" + vip, "cidr_netmask=24", "arp_bg=false", "arp_count=1", "kill_connections=true"}
	t.Cleanup(func() { r.run("stop", p...) })
	r.expect(0, "start", p...)

	var ln net.Listener
	if err := a.Do(func() (err error) {
		lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 30)
			}); err != nil {
				return err
			}
			return serr
		}}
		ln, err = lc.Listen(t.Context(), "tcp", ":8080")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })

	var conn net.Conn
	if err := m.Do(func() (err error) {
		conn, err = net.DialTimeout("tcp", netip.AddrPortFrom(ip, 8080).String(), 2*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	deadline := time.Now().Add(5 * time.Second)
	for on := connectionsOn(t, a, ip); len(on) != 1 || !strings.HasPrefix(on[0], "state 3 "); on = connectionsOn(t, a, ip) { // TCP_SYN_RECV
		if time.Now().After(deadline) {
			t.Fatalf("the server does not hold the connection as a handshake: %v", on)
		}
		time.Sleep(20 * time.Millisecond)
	}

	res := r.expect(0, "stop", p...)
	if err := conn.SetReadDeadline(time.Now().Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err := conn.Read(make([]byte, 1))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the client's connection after stop: %v, want a reset\nstop: %s", err, res.Stderr)
	}
}
