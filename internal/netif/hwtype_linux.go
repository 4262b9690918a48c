package netif

import (
	"strconv"
	"strings"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// hardwareType recovers the ARPHRD_* number of a link from the name the
// netlink package made of it: LinkAttrs keeps only that name, and the
// agent reports the number, which is what if_arp.h and bug reports use.
func hardwareType(encap string) uint16 {
	if n, ok := strings.CutPrefix(encap, "unknown"); ok {
		v, _ := strconv.ParseUint(n, 10, 16)
		return uint16(v)
	}
	// The types that the netlink package names; it writes "unknown<n>"
	// for the others.
	named := [...]uint16{
		0, unix.ARPHRD_ETHER, unix.ARPHRD_EETHER, unix.ARPHRD_AX25, unix.ARPHRD_PRONET,
		unix.ARPHRD_CHAOS, unix.ARPHRD_IEEE802, unix.ARPHRD_ARCNET, unix.ARPHRD_APPLETLK,
		unix.ARPHRD_DLCI, unix.ARPHRD_ATM, unix.ARPHRD_METRICOM, unix.ARPHRD_IEEE1394,
		unix.ARPHRD_INFINIBAND, unix.ARPHRD_SLIP, unix.ARPHRD_CSLIP, unix.ARPHRD_SLIP6,
		unix.ARPHRD_CSLIP6, unix.ARPHRD_RSRVD, unix.ARPHRD_ADAPT, unix.ARPHRD_ROSE,
		unix.ARPHRD_X25, unix.ARPHRD_HWX25, unix.ARPHRD_PPP, unix.ARPHRD_HDLC,
		unix.ARPHRD_LAPB, unix.ARPHRD_DDCMP, unix.ARPHRD_RAWHDLC, unix.ARPHRD_TUNNEL,
		unix.ARPHRD_TUNNEL6, unix.ARPHRD_FRAD, unix.ARPHRD_SKIP, unix.ARPHRD_LOOPBACK,
		unix.ARPHRD_LOCALTLK, unix.ARPHRD_FDDI, unix.ARPHRD_BIF, unix.ARPHRD_SIT,
		unix.ARPHRD_IPDDP, unix.ARPHRD_IPGRE, unix.ARPHRD_PIMREG, unix.ARPHRD_HIPPI,
		unix.ARPHRD_ASH, unix.ARPHRD_ECONET, unix.ARPHRD_IRDA, unix.ARPHRD_FCPP,
		unix.ARPHRD_FCAL, unix.ARPHRD_FCPL, unix.ARPHRD_FCFABRIC, unix.ARPHRD_FCFABRIC + 1,
		unix.ARPHRD_FCFABRIC + 2, unix.ARPHRD_FCFABRIC + 3, unix.ARPHRD_FCFABRIC + 4,
		unix.ARPHRD_FCFABRIC + 5, unix.ARPHRD_FCFABRIC + 6, unix.ARPHRD_FCFABRIC + 7,
		unix.ARPHRD_FCFABRIC + 8, unix.ARPHRD_FCFABRIC + 9, unix.ARPHRD_FCFABRIC + 10,
		unix.ARPHRD_FCFABRIC + 11, unix.ARPHRD_FCFABRIC + 12, unix.ARPHRD_IEEE802_TR,
		unix.ARPHRD_IEEE80211, unix.ARPHRD_IEEE80211_PRISM, unix.ARPHRD_IEEE80211_RADIOTAP,
		unix.ARPHRD_IEEE802154, unix.ARPHRD_NONE, unix.ARPHRD_VOID,
	}
	for _, t := range named {
		if encapName(t) == encap {
			return t
		}
	}
	return 0
}

// encapName is the netlink package's name for the hardware type t.
func encapName(t uint16) string {
	return (&nl.IfInfomsg{IfInfomsg: unix.IfInfomsg{Type: t}}).EncapType()
}
