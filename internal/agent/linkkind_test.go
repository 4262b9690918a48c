package agent

import (
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/floatip/floatip/internal/netif"
)

func TestLinkKindError(t *testing.T) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	tests := []struct {
		name string
		link netif.Link
		want string // "" for no error
	}{
		{"ethernet", netif.Link{Name: "eth0", MAC: mac, HardwareType: 1, HardwareName: "ether"}, ""},
		{"loopback by type", netif.Link{Name: "lo", HardwareType: 772, HardwareName: "loopback"}, ""},
		{"loopback by flag", netif.Link{Name: "lo", Loopback: true, HardwareType: 772, HardwareName: "loopback"}, ""},
		{"infiniband", netif.Link{Name: "ipoib0", HardwareType: 32, HardwareName: "infiniband"},
			"nic [ipoib0] is an infiniband link (ARPHRD 32): floatip announces only on Ethernet"},
		{"tun device", netif.Link{Name: "tun0", HardwareType: 65534, HardwareName: "none"},
			"nic [tun0] has no link layer (ARPHRD 65534): floatip announces only on Ethernet"},
		{"ipip tunnel", netif.Link{Name: "tunl0", HardwareType: 768, HardwareName: "ipip"},
			"nic [tunl0] is an ipip link (ARPHRD 768): floatip announces only on Ethernet"},
		{"gre tunnel", netif.Link{Name: "gre0", HardwareType: 778, HardwareName: "gre"},
			"nic [gre0] is a gre link (ARPHRD 778): floatip announces only on Ethernet"},
		{"ppp", netif.Link{Name: "ppp0", HardwareType: 512, HardwareName: "ppp"},
			"nic [ppp0] is a ppp link (ARPHRD 512): floatip announces only on Ethernet"},
		{"type the netlink package does not name", netif.Link{Name: "ip6gre0", HardwareType: 823, HardwareName: "unknown823"},
			"nic [ip6gre0] is an unknown823 link (ARPHRD 823): floatip announces only on Ethernet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := linkKindError(tt.link); err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("linkKindError(%+v) (-want +got):\n%s", tt.link, diff)
			}
		})
	}
}
