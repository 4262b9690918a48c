package agent

import (
	"fmt"

	"github.com/floatip/floatip/internal/netif"
)

// linkKindError says why floatip will not put its address on l, nil when
// it will. floatip tells the clients of a move in Ethernet frames
// (gratuitous ARP, unsolicited NA), so on a link of another type the
// address would come up while every client kept its stale entry: an
// InfiniBand nic (resource-agents #654) or a tun device (#1985) gets a
// configuration error instead. Loopback passes, since an address there
// (LVS direct routing) is never announced.
func linkKindError(l netif.Link) error {
	switch {
	case l.Loopback, l.HardwareType == netif.HardwareEther, l.HardwareType == netif.HardwareLoopback:
		return nil
	case l.HardwareName == "none":
		// ARPHRD_NONE: tun devices and the like have no link layer at all.
		return fmt.Errorf("nic [%s] has no link layer (ARPHRD %d): floatip announces only on Ethernet", l.Name, l.HardwareType)
	}
	name := l.HardwareName
	if name == "" {
		name = "unknown"
	}
	return fmt.Errorf("nic [%s] is %s %s link (ARPHRD %d): floatip announces only on Ethernet",
		l.Name, article(name), name, l.HardwareType)
}

// article is the indefinite article for a hardware type's name, by its
// first letter: "an infiniband", "a gre".
func article(name string) string {
	switch name[0] {
	case 'a', 'e', 'i', 'o', 'u':
		return "an"
	}
	return "a"
}
