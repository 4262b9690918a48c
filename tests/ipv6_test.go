package tests

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/floatip/floatip/tests/lab"
)

var (
	hostA6 = lab.HostSpec{Name: "a", Addr: hostA.Addr, Addr6: netip.MustParsePrefix("2001:db8::1/64")}
	hostM6 = lab.HostSpec{Name: "m", Addr: hostM.Addr, Addr6: netip.MustParsePrefix("2001:db8::3/64")}
	vip6   = "2001:db8::100"
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

func describeNA(n lab.NA, h *lab.Host) string {
	name := func(s string) string {
		if s == h.MAC.String() {
			return "nic"
		}
		return s
	}
	return fmt.Sprintf("NA eth %s>%s %s>%s hop %d R=%v S=%v O=%v target %s tlla %s len %d",
		name(n.EthSrc.String()), n.EthDst, n.Src, n.Dst, n.HopLimit, n.Router, n.Solicited, n.Override, n.Target, name(n.TargetMAC.String()), n.Len)
}

// TestIPv6DADFailure: another node holds the address, so DAD fails; start
// fails with the reason, as IPaddr2 does, and leaves nothing behind.
func TestIPv6DADFailure(t *testing.T) {
	for _, name := range []string{"floatip", "heartbeat"} {
		t.Run(name, func(t *testing.T) {
			l := newLab(t, hostA6, hostM6)
			a, m := l.Host("a"), l.Host("m")
			if err := m.IP("addr", "add", vip6+"/64", "dev", m.Dev, "nodad"); err != nil {
				t.Fatal(err)
			}
			r := floatip(t, a)
			if name == "heartbeat" {
				r = heartbeat(t, a)
			}
			res := r.expect(1, "start", "ip="+vip6, "cidr_netmask=64")
			if name == "floatip" && !strings.Contains(res.Stderr, "ocf-exit-reason:IPv6 address collision "+vip6+" [DAD]") {
				t.Errorf("exit reason: %s", res.Stderr)
			}
			if got := vip6On(t, a, vip6); len(got) != 0 {
				t.Errorf("left %v", got)
			}
			r.expect(7, "monitor", "ip="+vip6, "cidr_netmask=64")
		})
	}
}

// TestIPv6AddrLabel: lvs_ipv6_addrlabel adds an RFC 6724 policy entry for
// the address at start and removes it at stop, as IPaddr2's
// "ip addrlabel add/del" do.
func TestIPv6AddrLabel(t *testing.T) {
	for _, agent := range []string{"floatip", "heartbeat"} {
		t.Run(agent, func(t *testing.T) {
			l := newLab(t, hostA6)
			h := l.Host("a")
			r := floatip(t, h)
			if agent == "heartbeat" {
				r = heartbeat(t, h)
			}
			p := []string{"ip=" + vip6, "cidr_netmask=64", "nodad=true", "lvs_ipv6_addrlabel=true", "lvs_ipv6_addrlabel_value=77", "arp_count=1"}
			entry := "prefix " + vip6 + "/128 label 77"
			r.expect(0, "start", p...)
			if got := addrLabels(t, h); !strings.Contains(got, entry) {
				t.Errorf("after start, addrlabel list lacks %q:\n%s", entry, got)
			}
			r.expect(0, "stop", p...)
			if got := addrLabels(t, h); strings.Contains(got, vip6) {
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
