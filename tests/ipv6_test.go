package tests

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// vip6On describes the host's IPv6 addresses equal to ip: prefix, flags
// and lifetimes as ip -j addr shows them.
func vip6On(t *testing.T, h *lab.Host, ip string) []string {
	t.Helper()
	addrs, err := h.Addrs(netlink.FAMILY_V6)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range addrs {
		if a.IP.String() != ip {
			continue
		}
		var flags []string
		for _, f := range []struct {
			bit  int
			name string
		}{{0x02, "nodad"}, {0x08, "dadfailed"}, {0x20, "deprecated"}, {0x40, "tentative"}, {0x200, "noprefixroute"}} {
			if a.Flags&f.bit != 0 {
				flags = append(flags, f.name)
			}
		}
		out = append(out, fmt.Sprintf("%s flags=%v preferred=%d valid=%d", a.IPNet, flags, uint32(a.PreferedLft), uint32(a.ValidLft)))
	}
	return out
}

// TestIPv6DADFailure: another node holds the address, so DAD fails; start
// fails with the reason, as IPaddr2 does, and leaves nothing behind.
func TestIPv6DADFailure(t *testing.T) {
	for _, name := range []string{"floatip", "heartbeat"} {
		t.Run(name, func(t *testing.T) {
			l := labtest.NewLab(t, labtest.HostA6, labtest.HostM6)
			a, m := l.Host("a"), l.Host("m")
			if err := m.IP("addr", "add", labtest.VIP6+"/64", "dev", m.Dev, "nodad"); err != nil {
				t.Fatal(err)
			}
			r := labtest.Floatip(t, a)
			if name == "heartbeat" {
				r = labtest.Heartbeat(t, a)
			}
			res := r.Expect(1, "start", "ip="+labtest.VIP6, "cidr_netmask=64")
			if name == "floatip" && !strings.Contains(res.Stderr, "ocf-exit-reason:IPv6 address collision "+labtest.VIP6+" [DAD]") {
				t.Errorf("exit reason: %s", res.Stderr)
			}
			if got := vip6On(t, a, labtest.VIP6); len(got) != 0 {
				t.Errorf("left %v", got)
			}
			r.Expect(7, "monitor", "ip="+labtest.VIP6, "cidr_netmask=64")
		})
	}
}

// TestIPv6AddrLabel: lvs_ipv6_addrlabel adds an RFC 6724 policy entry for
// the address at start and removes it at stop, as IPaddr2's
// "ip addrlabel add/del" do.
func TestIPv6AddrLabel(t *testing.T) {
	for _, agent := range []string{"floatip", "heartbeat"} {
		t.Run(agent, func(t *testing.T) {
			l := labtest.NewLab(t, labtest.HostA6)
			h := l.Host("a")
			r := labtest.Floatip(t, h)
			if agent == "heartbeat" {
				r = labtest.Heartbeat(t, h)
			}
			p := []string{"ip=" + labtest.VIP6, "cidr_netmask=64", "nodad=true", "lvs_ipv6_addrlabel=true", "lvs_ipv6_addrlabel_value=77", "arp_count=1"}
			entry := "prefix " + labtest.VIP6 + "/128 label 77"
			r.Expect(0, "start", p...)
			if got := addrLabels(t, h); !strings.Contains(got, entry) {
				t.Errorf("after start, addrlabel list lacks %q:\n%s", entry, got)
			}
			r.Expect(0, "stop", p...)
			if got := addrLabels(t, h); strings.Contains(got, labtest.VIP6) {
				t.Errorf("after stop, addrlabel list still has the address:\n%s", got)
			}
		})
	}
}

func addrLabels(t *testing.T, h *lab.Host) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", h.NS, "addrlabel", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip addrlabel list: %v: %s", err, out)
	}
	return string(out)
}

// TestDADWaitSurvivesNotificationOverrun: while start waits for the DAD of
// a new IPv6 address, someone else adds and removes thousands of
// addresses, faster than start reads their notifications (strace slows
// its every read): the kernel drops some and says so (ENOBUFS). Start
// must still learn how DAD ended, succeed, and leave the address usable,
// as IPaddr2, which polls, does.
func TestDADWaitSurvivesNotificationOverrun(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA6)
	a := l.Host("a")
	r := labtest.FastFloatip(t, a)
	p := []string{"ip=" + labtest.VIP6, "cidr_netmask=64", "arp_bg=false", "arp_count=1"}
	t.Cleanup(func() { r.Run("stop", p...) })
	r.Wrap = []string{labtest.NeedTool(t, "strace"), "-f", "-qq", "-o", "/dev/null", "-e", "trace=recvfrom", "-e", "inject=recvfrom:delay_exit=20000"}

	nh, err := a.Handle()
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	eth0, err := nh.LinkByName(a.Dev)
	if err != nil {
		t.Fatal(err)
	}
	updates := make(chan netlink.AddrUpdate, 64)
	done := make(chan struct{})
	defer close(done)
	ns, err := netns.GetFromName(a.NS)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	if err := netlink.AddrSubscribeWithOptions(updates, done, netlink.AddrSubscribeOptions{Namespace: &ns}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd, err := r.Start(ctx, &stdout, &stderr, "start", p...)
	if err != nil {
		t.Fatal(err)
	}
	// Once the address is there, tentative, the churn begins.
	for added := false; !added; {
		select {
		case u := <-updates:
			added = u.NewAddr && u.LinkAddress.IP.String() == labtest.VIP6
		case <-ctx.Done():
			t.Fatal("the address did not appear")
		}
	}
	go func() {
		for range updates {
		}
	}()
	for i := 1; i <= 2000; i++ {
		other := &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP(fmt.Sprintf("2001:db8:ffff::%x", i)), Mask: net.CIDRMask(128, 128)}, Flags: unix.IFA_F_NODAD}
		if err := nh.AddrAdd(eth0, other); err != nil {
			t.Fatal(err)
		}
		if err := nh.AddrDel(eth0, other); err != nil {
			t.Fatal(err)
		}
	}
	err = cmd.Wait()
	if err != nil {
		t.Errorf("start: %v\n%s", err, stderr.String())
	}
	if got := vip6On(t, a, labtest.VIP6); len(got) != 1 || strings.Contains(got[0], "tentative") || strings.Contains(got[0], "dadfailed") {
		t.Errorf("after start: %q", got)
	}
	r.Wrap = nil
	r.Expect(0, "stop", p...)
	if got := vip6On(t, a, labtest.VIP6); len(got) != 0 {
		t.Errorf("after stop: %q", got)
	}
}
