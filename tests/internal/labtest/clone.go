//go:build linux

package labtest

import (
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/floatip/floatip/internal/clusterip"
	"github.com/floatip/floatip/tests/lab"
)

// CloneFamily is the shared address of a clone test and how the lab's
// hosts are addressed in its family.
type CloneFamily struct {
	Name string
	// IP is the shared address, on every node; Broadcast is its
	// broadcast address, which IPaddr2 hashes with it.
	IP        netip.Prefix
	Broadcast string
	// Host is the address of the lab's nth host (n from 1); the
	// client's sources are hosts 16 to 45.
	Host func(n int) netip.Addr
	// AddArgs are what "ip addr add" needs beyond the address.
	AddArgs []string
}

var (
	CloneIPv4 = CloneFamily{
		Name: "IPv4", IP: netip.MustParsePrefix("198.18.0.100/24"), Broadcast: "198.18.0.255",
		Host:    func(n int) netip.Addr { return netip.AddrFrom4([4]byte{198, 18, 0, byte(n)}) },
		AddArgs: []string{"brd", "+"},
	}
	// An IPv6 address shared by several nodes must skip DAD, which
	// would find the other nodes' copies.
	CloneIPv6 = CloneFamily{
		Name: "IPv6", IP: netip.MustParsePrefix("2001:db8::100/64"),
		Host:    func(n int) netip.Addr { return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(n)}) },
		AddArgs: []string{"nodad"},
	}
)

// Spec is the shared address as IPaddr2 derives it for clone_max 3 (seed
// and MAC from its address, netmask and broadcast address), with the
// family's rewrite of the MAC the nodes announce.
func (f CloneFamily) Spec() clusterip.Spec {
	ip, bits := f.IP.Addr(), fmt.Sprint(f.IP.Bits())
	return clusterip.Spec{
		IP: ip, Link: "eth0", Buckets: 3,
		Seed:      clusterip.DerivedSeed(ip, bits, f.Broadcast),
		MAC:       clusterip.DerivedMAC(ip, bits, f.Broadcast),
		MangleARP: ip.Is4(),
		MangleND:  ip.Is6(),
	}
}

// Prefix is the nth host's address with the shared address's length.
func (f CloneFamily) Prefix(n int) netip.Prefix {
	return netip.PrefixFrom(f.Host(n), f.IP.Bits())
}

// NFTRules lists the host's nftables ruleset, a line a statement,
// without indentation.
func NFTRules(t *testing.T, h *lab.Host) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", h.NS, "nft", "list", "ruleset").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list ruleset in %s: %v\n%s", h.Name, err, out)
	}
	var lines []string
	for _, line := range strings.Split(string(out), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

// StaticMember says whether "ip maddr" shows the host's nic joined to mac
// by a static membership, one that no socket holds.
func StaticMember(t *testing.T, h *lab.Host, mac net.HardwareAddr) bool {
	t.Helper()
	out, err := exec.Command("ip", "-n", h.NS, "maddr", "show", "dev", h.Dev).CombinedOutput()
	if err != nil {
		t.Fatalf("ip maddr show in %s: %v\n%s", h.Name, err, out)
	}
	return strings.Contains(string(out), "link  "+mac.String()+" static")
}
