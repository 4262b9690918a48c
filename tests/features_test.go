package tests

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// TestSplitBrain: a monitor at depth 10 asks the link whether another host
// also answers for the address, and names it.
func TestSplitBrain(t *testing.T) {
	for _, fam := range []struct {
		name, ip, prefix string
	}{{"IPv4", labtest.VIP, "24"}, {"IPv6", labtest.VIP6, "64"}} {
		t.Run(fam.name, func(t *testing.T) {
			l := labtest.NewLab(t, labtest.HostA6, labtest.HostM6)
			a, m := l.Host("a"), l.Host("m")
			r := labtest.Floatip(t, a)
			p := []string{"ip=" + fam.ip, "cidr_netmask=" + fam.prefix, "nodad=true", "arp_bg=false", "arp_count=1"}
			deep := append(p, "OCF_CHECK_LEVEL=10", "OCF_RESKEY_CRM_meta_interval=60000")
			r.Expect(0, "start", p...)
			r.Expect(0, "monitor", deep...)
			if err := m.IP("addr", "add", fam.ip+"/"+fam.prefix, "dev", m.Dev, "nodad"); err != nil {
				t.Fatal(err)
			}
			res := r.Expect(1, "monitor", deep...)
			if want := "ocf-exit-reason:split brain: " + m.MAC.String() + " also answers for " + fam.ip; !strings.Contains(res.Stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
			}
			r.Expect(0, "monitor", p...) // depth 0 does not look
			if err := m.IP("addr", "del", fam.ip+"/"+fam.prefix, "dev", m.Dev); err != nil {
				t.Fatal(err)
			}
			r.Expect(0, "monitor", deep...)
			r.Expect(0, "stop", p...)
		})
	}
}

// TestAnnounceTo: the neighbour named in announce_to receives unicast
// replies addressed to its own MAC, and the broadcast burst too.
func TestAnnounceTo(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	a, m := l.Host("a"), l.Host("m")
	c, err := m.Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	r := labtest.Floatip(t, a)
	p := []string{"ip=" + labtest.VIP, "arp_count=3", "arp_interval=50", "announce_to=" + labtest.HostM.Addr.Addr().String()}
	r.Expect(0, "start", p...)
	labtest.BurstOver(t, a)
	var unicast, broadcast int
	for _, f := range lab.DecodeARP(labtest.Drain(t, c, a)) {
		switch {
		case f.SenderIP != netipOf(labtest.VIP):
		case f.EthDst.String() == m.MAC.String() && f.TargetIP == labtest.HostM.Addr.Addr() && f.TargetHW.String() == m.MAC.String():
			unicast++
		case f.EthDst.String() == "ff:ff:ff:ff:ff:ff" && f.TargetIP == netipOf(labtest.VIP):
			broadcast++
		}
	}
	if unicast != 3 || broadcast != 6 {
		t.Errorf("M got %d unicast and %d broadcast announcements, want 3 and 6", unicast, broadcast)
	}
	r.Expect(0, "stop", p...)
}

// TestKillConnections: a client with a connection to the address sees it
// end at stop with kill_connections, and hang without.
// TestKillConnections: with kill_connections, stop resets the address's
// TCP connections, also an IPv4 one that a dual-stack server holds on an
// IPv6 socket as ::ffff:<ip> (Go's net.Listen("tcp"), Java, nginx with
// ipv6only=off).
func TestKillConnections(t *testing.T) {
	for _, tt := range []struct {
		name    string
		kill    bool
		network string
	}{
		{"killed", true, "tcp4"},
		{"killed dual-stack", true, "tcp"},
		{"left", false, "tcp4"},
	} {
		kill := tt.kill
		t.Run(tt.name, func(t *testing.T) {
			l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
			a, m := l.Host("a"), l.Host("m")
			r := labtest.Floatip(t, a)
			p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "arp_bg=false", "arp_count=1"}
			if kill {
				p = append(p, "kill_connections=true")
			}
			r.Expect(0, "start", p...)
			var ln net.Listener
			if err := a.Do(func() (err error) { ln, err = net.Listen(tt.network, ":8080"); return err }); err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					defer c.Close()
				}
			}()
			var conn net.Conn
			if err := m.Do(func() (err error) { conn, err = net.Dial("tcp4", labtest.VIP+":8080"); return err }); err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			res := r.Expect(0, "stop", p...)
			conn.SetReadDeadline(time.Now().Add(time.Second))
			_, err := conn.Read(make([]byte, 1))
			ended := err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
			if ended != kill {
				t.Errorf("kill_connections=%v: the client's read ended with %v", kill, err)
			}
			if kill && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
				t.Errorf("the client saw %v, want a reset or end of stream", err)
			}
			if kill && !strings.Contains(res.Stderr, "Ended 1 TCP connection(s)") {
				t.Errorf("stop did not report the ended connection: %s", res.Stderr)
			}
		})
	}
}

// TestCheckLinkStatus: with check_link_status, on by default, a link
// without carrier makes the monitor say not running and start refuse it;
// check_link_status=false does not look.
func TestCheckLinkStatus(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	a := l.Host("a")
	r := labtest.Floatip(t, a)
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "nic=eth0", "arp_bg=false", "arp_count=1", "check_link_status=true"}
	r.Expect(0, "start", p...)
	r.Expect(0, "monitor", p...)
	if err := l.Cut(a); err != nil {
		t.Fatal(err)
	}
	// The monitor reads the operational state, which the kernel sets a
	// while after the carrier (linkwatch).
	labtest.WaitFor(t, 5*time.Second, func() (bool, string) {
		state := linkOf(t, a).Attrs().OperState
		return state == netlink.OperDown || state == netlink.OperLowerLayerDown, "eth0 is still " + state.String()
	})
	if res := r.Expect(7, "monitor", p...); !strings.Contains(res.Stderr, "WARNING: IP "+labtest.VIP+" available, but device has status down") {
		t.Errorf("monitor warning: %s", res.Stderr)
	}
	r.Expect(7, "monitor", "ip="+labtest.VIP, "cidr_netmask=24", "nic=eth0")
	r.Expect(0, "monitor", "ip="+labtest.VIP, "cidr_netmask=24", "nic=eth0", "check_link_status=false")
	r.Expect(0, "stop", p...)
	if res := r.Expect(5, "start", p...); !strings.Contains(res.Stderr, "ocf-exit-reason:IP "+labtest.VIP+" available, but device has status down") {
		t.Errorf("start reason: %s", res.Stderr)
	}
	if got := labtest.VIPOn(t, a, labtest.VIP); len(got) != 0 {
		t.Errorf("start without link left %+v", got)
	}
}

// TestCheckLinkStatusStacked: a nic stacked on another (a macvlan here; a
// VLAN alike) whose lower nic lost its carrier is in state
// LOWERLAYERDOWN, which check_link_status refuses as it refuses DOWN: the
// monitor says not running and start refuses the address.
func TestCheckLinkStatusStacked(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	a := l.Host("a")
	if err := a.Macvlan("mv0", kindMAC(a)); err != nil {
		t.Fatal(err)
	}
	r := labtest.Floatip(t, a)
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "nic=mv0", "arp_bg=false", "arp_count=1"}
	r.Expect(0, "start", p...)
	r.Expect(0, "monitor", p...)
	if err := l.Cut(a); err != nil {
		t.Fatal(err)
	}
	nh, err := a.Handle()
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	labtest.WaitFor(t, 5*time.Second, func() (bool, string) {
		link, err := nh.LinkByName("mv0")
		if err != nil {
			t.Fatal(err)
		}
		state := link.Attrs().OperState
		return state == netlink.OperLowerLayerDown, "mv0 is " + state.String()
	})
	if res := r.Expect(7, "monitor", p...); !strings.Contains(res.Stderr, "mv0 is LOWERLAYERDOWN") {
		t.Errorf("monitor warning: %s", res.Stderr)
	}
	r.Expect(0, "stop", p...)
	if res := r.Expect(5, "start", p...); !strings.Contains(res.Stderr, "ocf-exit-reason:IP "+labtest.VIP+" available, but device has status down: mv0 is LOWERLAYERDOWN") {
		t.Errorf("start reason: %s", res.Stderr)
	}
	if got := labtest.VIPOn(t, a, labtest.VIP); len(got) != 0 {
		t.Errorf("start without link left %+v", got)
	}
}

// TestMonitorDADFailed: an IPv6 address whose DAD failed is on the nic but
// useless; monitor says so instead of success.
func TestMonitorDADFailed(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA6, labtest.HostM6)
	a, m := l.Host("a"), l.Host("m")
	if err := m.IP("addr", "add", labtest.VIP6+"/64", "dev", m.Dev, "nodad"); err != nil {
		t.Fatal(err)
	}
	if err := a.IP("addr", "add", labtest.VIP6+"/64", "dev", a.Dev); err != nil {
		t.Fatal(err)
	}
	// DAD sends one probe and waits a second for an answer, M's.
	labtest.WaitFor(t, 10*time.Second, func() (bool, string) {
		addrs, err := a.Addrs(netlink.FAMILY_V6)
		if err != nil {
			t.Fatal(err)
		}
		for _, ad := range addrs {
			if ad.IP.String() == netip.MustParseAddr(labtest.VIP6).String() {
				return ad.Flags&unix.IFA_F_DADFAILED != 0, fmt.Sprintf("%s has flags %#x, not dadfailed", labtest.VIP6, ad.Flags)
			}
		}
		return false, labtest.VIP6 + " is not on a"
	})
	r := labtest.Floatip(t, a)
	res := r.Expect(1, "monitor", "ip="+labtest.VIP6, "cidr_netmask=64")
	if !strings.Contains(res.Stderr, "ocf-exit-reason:IPv6 address collision "+labtest.VIP6+" [DAD]") {
		t.Errorf("reason: %s", res.Stderr)
	}
	r.Expect(0, "stop", "ip="+labtest.VIP6, "cidr_netmask=64")
}

func netipOf(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestSenderSocketsReceiveNothing: the background sender holds two packet
// sockets, its own and the one start handed over so as not to wait for the
// kernel to free it, and both are bound to protocol 0, so the kernel
// queues no received frame on them (keepalived #1983).
func TestSenderSocketsReceiveNothing(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	a := l.Host("a")
	r := labtest.Floatip(t, a)
	p := []string{"ip=" + labtest.VIP, "arp_count=100", "arp_interval=40"}
	r.Expect(0, "start", p...)
	t.Cleanup(func() { r.Run("stop", p...) })
	b, err := os.ReadFile(filepath.Join(r.Rsctmp, "floatip-announce-"+labtest.Key(t, a, labtest.VIP)+".pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.Fields(string(b))[0]
	// packetSockets lists the sender's packet sockets as
	// /proc/net/packet has them: sk RefCnt Type Proto Iface R Rmem User Inode.
	packetSockets := func() [][]string {
		inodes := map[string]bool{}
		fds, _ := filepath.Glob("/proc/" + pid + "/fd/*")
		for _, fd := range fds {
			if target, err := os.Readlink(fd); err == nil && strings.HasPrefix(target, "socket:[") {
				inodes[strings.Trim(target[len("socket:"):], "[]")] = true
			}
		}
		table, err := os.ReadFile("/proc/" + pid + "/net/packet")
		if err != nil {
			t.Fatal(err)
		}
		var out [][]string
		for _, line := range strings.Split(string(table), "\n")[1:] {
			if f := strings.Fields(line); len(f) >= 9 && inodes[f[8]] {
				out = append(out, f)
			}
		}
		return out
	}
	// The sender opens its own socket once it runs: wait for both.
	labtest.WaitFor(t, 5*time.Second, func() (bool, string) {
		n := len(packetSockets())
		return n >= 2, fmt.Sprintf("found %d packet sockets of sender %s, want 2: its own and start's", n, pid)
	})
	// M sends ARP traffic that a socket bound to ARP would queue: once M
	// has an answer, its ARP request reached every packet socket on A.
	ping, err := l.Host("m").Ping(netipOf(labtest.VIP), 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	labtest.WaitFor(t, 5*time.Second, func() (bool, string) {
		return answered(ping.Probes(), time.Time{}) > 0, "M's pings of the VIP were not answered"
	})
	ping.Close()
	socks := packetSockets()
	for _, f := range socks {
		if f[3] != "0000" || f[6] != "0" {
			t.Errorf("sender's packet socket: proto %s, %s bytes queued; want 0000 and 0", f[3], f[6])
		}
	}
	if len(socks) != 2 {
		t.Errorf("found %d packet sockets of sender %s, want 2: its own and start's", len(socks), pid)
	}
}

// TestDoctor: floatip doctor passes a sound node and names a planted
// sysctl that would hide the address, with its fix.
func TestDoctor(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	a := l.Host("a")
	r := labtest.Floatip(t, a)
	if res := r.Expect(0, "doctor", "ip="+labtest.VIP); !strings.Contains(res.Stdout, "OK    neighbours   no other host answers for "+labtest.VIP) {
		t.Errorf("doctor on a sound node:\n%s", res.Stdout)
	}
	ctx := context.Background()
	if res, err := a.Run(ctx, nil, "sysctl", "-qw", "net.ipv4.conf.eth0.arp_ignore=8"); err != nil || res.Code != 0 {
		t.Fatalf("plant arp_ignore: %v %+v", err, res)
	}
	res := r.Expect(3, "doctor", "ip="+labtest.VIP)
	for _, want := range []string{"FAIL  sysctl       net.ipv4.conf.eth0.arp_ignore=8", "fix: sysctl -w net.ipv4.conf.eth0.arp_ignore=0"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, res.Stdout)
		}
	}
}

// TestSplitBrainIgnoresOwnNics: a node whose other nic is on the same link
// answers its own probe (Linux answers ARP for any of its addresses on any
// nic); that is not another holder.
func TestSplitBrainIgnoresOwnNics(t *testing.T) {
	l := labtest.NewLab(t, lab.HostSpec{Name: "a"})
	a := l.Host("a")
	for _, args := range [][]string{
		{"link", "add", "x0", "type", "veth", "peer", "name", "x1"},
		{"link", "set", "x0", "up"},
		{"link", "set", "x1", "up"},
		{"addr", "add", "198.18.0.1/24", "dev", "x0"},
	} {
		if err := a.IP(args...); err != nil {
			t.Fatal(err)
		}
	}
	r := labtest.Floatip(t, a)
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "nic=x0", "arp_bg=false", "arp_count=1"}
	r.Expect(0, "start", p...)
	r.Expect(0, "monitor", append(p, "OCF_CHECK_LEVEL=10", "OCF_RESKEY_CRM_meta_interval=60000")...)
	r.Expect(0, "stop", p...)
	r.Expect(0, "start", append(p, "run_arping=true")...)
	r.Expect(0, "stop", p...)
}
