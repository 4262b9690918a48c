//go:build linux

package labtest

import (
	"fmt"
	"net/netip"

	"github.com/floatip/floatip/tests/lab"
)

var (
	HostA6 = lab.HostSpec{Name: "a", Addr: HostA.Addr, Addr6: netip.MustParsePrefix("2001:db8::1/64")}
	HostM6 = lab.HostSpec{Name: "m", Addr: HostM.Addr, Addr6: netip.MustParsePrefix("2001:db8::3/64")}
	VIP6   = "2001:db8::100"
)

func DescribeNA(n lab.NA, h *lab.Host) string {
	name := func(s string) string {
		if s == h.MAC.String() {
			return "nic"
		}
		return s
	}
	return fmt.Sprintf("NA eth %s>%s %s>%s hop %d R=%v S=%v O=%v target %s tlla %s len %d",
		name(n.EthSrc.String()), n.EthDst, n.Src, n.Dst, n.HopLimit, n.Router, n.Solicited, n.Override, n.Target, name(n.TargetMAC.String()), n.Len)
}
