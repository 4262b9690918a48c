//go:build linux

package labtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/floatip/floatip/tests/lab"
	"github.com/vishvananda/netlink"
)

// VIPAddr is what a host has of the VIP: prefix, broadcast and label.
type VIPAddr struct {
	Prefix    string
	Broadcast string
	Label     string
}

func VIPOn(t *testing.T, h *lab.Host, ip string) []VIPAddr {
	t.Helper()
	addrs, err := h.Addrs(netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var out []VIPAddr
	for _, a := range addrs {
		if a.IP.String() != ip {
			continue
		}
		v := VIPAddr{Prefix: a.IPNet.String(), Label: a.Label}
		if a.Broadcast != nil {
			v.Broadcast = a.Broadcast.String()
		}
		out = append(out, v)
	}
	return out
}

// Announcers lists the running background senders of the test binary.
func Announcers() []string {
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 1 && args[0] == Binary && args[1] == "announce" {
			out = append(out, strings.Join(args, " "))
		}
	}
	return out
}

// Describe names a GARP frame in the terms both agents must agree on, with
// the sender's MAC shown as "nic" when it is the nic's own.
func Describe(f lab.ARP, h *lab.Host) string {
	name := func(mac string) string {
		if mac == h.MAC.String() {
			return "nic"
		}
		return mac
	}
	return fmt.Sprintf("%s eth %s>%s sender %s/%s target %s/%s len %d", f.Op,
		name(f.EthSrc.String()), f.EthDst, name(f.SenderHW.String()), f.SenderIP, name(f.TargetHW.String()), f.TargetIP, f.Len)
}
