package netif

import (
	"encoding/binary"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// addAddrWithMetric is "ip addr add ... metric m" for an IPv6 address: the
// netlink package's AddrAdd cannot set IFA_RT_PRIORITY (Linux 4.18), the
// metric the kernel gives the address's prefix route. It runs in the
// calling thread's network namespace.
func addAddrWithMetric(index int, a *netlink.Addr, metric uint32) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	msg := nl.NewIfAddrmsg(unix.AF_INET6)
	msg.Index = uint32(index)
	ones, _ := a.Mask.Size()
	msg.Prefixlen = uint8(ones)
	req.AddData(msg)
	ip := a.IP.To16()
	req.AddData(nl.NewRtAttr(unix.IFA_LOCAL, ip))
	req.AddData(nl.NewRtAttr(unix.IFA_ADDRESS, ip))
	req.AddData(nl.NewRtAttr(unix.IFA_FLAGS, u32(uint32(a.Flags))))
	if a.ValidLft > 0 || a.PreferedLft > 0 {
		ci := nl.IfaCacheInfo{IfaCacheinfo: unix.IfaCacheinfo{Valid: uint32(a.ValidLft), Prefered: uint32(a.PreferedLft)}}
		req.AddData(nl.NewRtAttr(unix.IFA_CACHEINFO, ci.Serialize()))
	}
	req.AddData(nl.NewRtAttr(unix.IFA_RT_PRIORITY, u32(metric)))
	_, err := req.Execute(unix.NETLINK_ROUTE, 0)
	return err
}

func u32(v uint32) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, v)
	return b
}
