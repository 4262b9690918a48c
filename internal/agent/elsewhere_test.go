package agent

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/ocf"
)

// TestStopRemovesTheAddressWhereItIs: once the routes put the address
// elsewhere (a more specific route through another nic, or a prefix that
// changed), stop still removes it from where it is and monitor says that
// it is there but misplaced; IPaddr2's stop says 0 and leaves it, its
// monitor says 7. The LVS copy on the loopback stays, as it should.
func TestStopRemovesTheAddressWhereItIs(t *testing.T) {
	on24 := netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2, Flags: netif.FlagSecondary}
	lvs := netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/32"), LinkIndex: 1}
	tests := []struct {
		name   string
		env    []string
		routes []netif.Route
		addrs  []netif.Addr
		// monitor is the recurring monitor's answer, reason its words.
		monitor ocf.Status
		reason  string
		left    []netif.Addr
	}{
		{name: "a more specific route through another nic",
			routes:  []netif.Route{{Dst: netip.MustParsePrefix("198.18.0.0/25"), LinkIndex: 3, Type: netif.RouteUnicast, LinkScope: true, Protocol: 4}},
			addrs:   []netif.Addr{on24},
			monitor: ocf.ErrGeneric, reason: "198.18.0.100 is on eth0 as 198.18.0.100/24, not on eth1 as 198.18.0.100/25"},
		{name: "a more specific route on the nic given",
			env:     []string{"OCF_RESKEY_nic=eth0"},
			routes:  []netif.Route{{Dst: netip.MustParsePrefix("198.18.0.0/25"), LinkIndex: 2, Type: netif.RouteUnicast, LinkScope: true, Protocol: 4}},
			addrs:   []netif.Addr{on24},
			monitor: ocf.ErrGeneric, reason: "198.18.0.100 is on eth0 as 198.18.0.100/24, not on eth0 as 198.18.0.100/25"},
		{name: "no route left at all",
			env:     []string{"OCF_RESKEY_ip=198.18.0.100"},
			routes:  []netif.Route{},
			addrs:   []netif.Addr{on24},
			monitor: ocf.ErrGeneric, reason: "Unable to find nic or netmask"},
		{name: "the LVS copy stays",
			routes:  []netif.Route{{Dst: netip.MustParsePrefix("198.18.0.0/25"), LinkIndex: 3, Type: netif.RouteUnicast, LinkScope: true, Protocol: 4}},
			addrs:   []netif.Addr{on24, lvs},
			monitor: ocf.ErrGeneric, reason: "198.18.0.100 is on eth0",
			left: []netif.Addr{lvs}},
		{name: "a link-local address on another link is another address",
			env:     []string{"OCF_RESKEY_ip=fe80::100", "OCF_RESKEY_nic=eth0", "OCF_RESKEY_cidr_netmask=64"},
			addrs:   []netif.Addr{{Prefix: netip.MustParsePrefix("fe80::100/64"), LinkIndex: 3}},
			monitor: ocf.NotRunning,
			left:    []netif.Addr{{Prefix: netip.MustParsePrefix("fe80::100/64"), LinkIndex: 3}}},
		{name: "only the LVS copy",
			addrs:   []netif.Addr{lvs},
			monitor: ocf.NotRunning,
			left:    []netif.Addr{lvs}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.k.links[2].Up, h.k.links[2].Carrier, h.k.links[2].OperState = true, true, "UP"
			base := slices.Clone(h.k.addrs)
			h.k.addrs = append(h.k.addrs, tt.addrs...)
			if tt.routes != nil {
				h.k.routes = append(tt.routes, h.k.routes...)
				if len(tt.routes) == 0 {
					h.k.routes = nil
				}
			}
			env := append([]string{vip}, tt.env...)
			if st := h.run(t, "monitor", append(env, "OCF_RESKEY_CRM_meta_interval=10000")...); st != tt.monitor || !strings.Contains(h.reason(), tt.reason) {
				t.Errorf("monitor = %v, reason %q; want %v with %q", st, h.reason(), tt.monitor, tt.reason)
			}
			if st := h.run(t, "stop", env...); st != ocf.Success {
				t.Fatalf("stop = %v: %s", st, h.stderr.String())
			}
			if want := append(base, tt.left...); !slices.Equal(h.k.addrs, want) {
				t.Errorf("addresses after stop %+v, want %+v", h.k.addrs, want)
			}
			if st := h.run(t, "monitor", append(env, "OCF_RESKEY_CRM_meta_interval=0")...); st != ocf.NotRunning {
				t.Errorf("probe after stop = %v, want not running", st)
			}
		})
	}
}
