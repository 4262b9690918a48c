package agent

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/ocf"
)

// TestNewerReleases pins what IPaddr2 4.13 to 4.18 changed, as floatip
// implements it (the tests/ parity suite holds 4.18's own answers).
func TestNewerReleases(t *testing.T) {
	withLabel := func(k *fakeKernel) {
		k.addrs = append(k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2, Label: "eth0"})
	}
	infiniband := func(k *fakeKernel) { k.links[1].HardwareType, k.links[1].HardwareName = 32, "infiniband" }
	quiet := []string{"OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1"}
	tests := []struct {
		name   string
		setup  func(*fakeKernel)
		action string
		env    []string
		want   ocf.Status
		reason string
		// added is the address start adds, if it must add one.
		added *netif.NewAddr
		// log must appear on stderr; notLog must not.
		log, notLog string
	}{
		{name: "127/8 goes to lo", action: "start", env: []string{"OCF_RESKEY_ip=127.0.0.3"}, want: ocf.Success,
			added: &netif.NewAddr{Prefix: netip.MustParsePrefix("127.0.0.3/8"), PreferredLifetime: netif.Forever}},
		{name: "127/8 with a prefix", action: "start", env: []string{"OCF_RESKEY_ip=127.0.0.3", "OCF_RESKEY_cidr_netmask=32"}, want: ocf.Success,
			added: &netif.NewAddr{Prefix: netip.MustParsePrefix("127.0.0.3/32"), PreferredLifetime: netif.Forever}},
		{name: "127/8 probe", action: "monitor", env: []string{"OCF_RESKEY_ip=127.0.0.3"}, want: ocf.NotRunning},
		{name: "127/8 on another nic", action: "start", env: []string{"OCF_RESKEY_ip=127.0.0.3", "OCF_RESKEY_nic=eth0"}, want: ocf.ErrInstalled, reason: "Unable to find nic or netmask"},
		{name: "proto kernel matches", action: "start", env: append([]string{vip, "OCF_RESKEY_proto=kernel"}, quiet...), want: ocf.Success},
		{name: "proto by number", action: "validate-all", env: []string{vip, "OCF_RESKEY_proto=2"}, want: ocf.Success},
		{name: "proto static matches nothing", action: "start", env: []string{vip, "OCF_RESKEY_proto=static"}, want: ocf.ErrInstalled, reason: "Unable to find nic or netmask"},
		{name: "proto static probe", action: "monitor", env: []string{vip, "OCF_RESKEY_proto=static"}, want: ocf.NotRunning},
		{name: "proto unknown", action: "validate-all", env: []string{vip, "OCF_RESKEY_proto=nosuch"}, want: ocf.ErrConfigured, reason: "proto [nosuch] is not a route protocol"},
		{name: "label missing at start", setup: withLabel, action: "start", env: []string{vip, "OCF_RESKEY_iflabel=web"}, want: ocf.ErrGeneric,
			reason: "IP 198.18.0.100 available, but label missing"},
		{name: "label missing at monitor", setup: withLabel, action: "monitor", env: []string{vip, "OCF_RESKEY_iflabel=web", "OCF_RESKEY_CRM_meta_interval=10000"}, want: ocf.ErrGeneric,
			reason: "IP 198.18.0.100 available, but label missing"},
		{name: "IPv6 takes the route's metric", action: "start", env: append([]string{"OCF_RESKEY_ip=2001:db8::100", "OCF_RESKEY_nodad=true"}, quiet...), want: ocf.Success,
			added: &netif.NewAddr{Prefix: netip.MustParsePrefix("2001:db8::100/64"), NoDAD: true, PreferredLifetime: netif.Forever, Metric: 256}},
		{name: "IPv6 with nic and prefix and no route has no metric", action: "start",
			env:   append([]string{"OCF_RESKEY_ip=2001:db8:5::100", "OCF_RESKEY_nic=eth0", "OCF_RESKEY_cidr_netmask=64", "OCF_RESKEY_nodad=true"}, quiet...),
			want:  ocf.Success,
			added: &netif.NewAddr{Prefix: netip.MustParsePrefix("2001:db8:5::100/64"), NoDAD: true, PreferredLifetime: netif.Forever}},
		{name: "lvs_ipv6_addrlabel is ignored for IPv4", action: "validate-all", env: []string{vip, "OCF_RESKEY_lvs_ipv6_addrlabel=true"}, want: ocf.Success},
		{name: "unknown parameter named, value never", action: "validate-all", env: []string{vip, "OCF_RESKEY_frobnicate=s3cret"}, want: ocf.Success,
			log: "WARNING: unknown parameter frobnicate is ignored", notLog: "s3cret"},
		{name: "meta attributes are not unknown parameters", action: "validate-all", env: []string{vip, "OCF_RESKEY_CRM_meta_timeout=20000"}, want: ocf.Success,
			notLog: "unknown parameter"},
		{name: "nor what Pacemaker passes with every operation", action: "validate-all", env: []string{vip, "OCF_RESKEY_crm_feature_set=3.16.2", "OCF_RESKEY_trace_dir=/tmp"}, want: ocf.Success,
			notLog: "unknown parameter"},
		{name: "clusterip names of upstream main", action: "validate-all", env: []string{vip, "OCF_RESKEY_clusterip_hash_seed=7", "OCF_RESKEY_clusterip_firewall=nft"}, want: ocf.Success,
			notLog: "unknown parameter"},
		{name: "clusterip_firewall unknown", action: "validate-all", env: []string{vip, "OCF_RESKEY_clusterip_firewall=pf"}, want: ocf.ErrConfigured, reason: "clusterip_firewall [pf]"},
		{name: "not Ethernet at start", setup: infiniband, action: "start", env: []string{vip}, want: ocf.ErrConfigured, reason: "nic [eth0] is an infiniband link"},
		{name: "not Ethernet at validate-all", setup: infiniband, action: "validate-all", env: []string{vip}, want: ocf.ErrConfigured, reason: "nic [eth0] is an infiniband link"},
		{name: "not Ethernet at a probe", setup: infiniband, action: "monitor", env: []string{vip}, want: ocf.NotRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if tt.setup != nil {
				tt.setup(h.k)
			}
			st := h.run(t, tt.action, tt.env...)
			if st != tt.want || !strings.HasPrefix(h.reason(), tt.reason) {
				t.Errorf("%s = %v, reason %q; want %v, %q\n%s", tt.action, st, h.reason(), tt.want, tt.reason, h.stderr.String())
			}
			if tt.added != nil {
				if diff := cmp.Diff([]netif.NewAddr{*tt.added}, h.k.added, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
					t.Errorf("added (-want +got):\n%s", diff)
				}
			}
			if !strings.Contains(h.stderr.String(), tt.log) || tt.notLog != "" && strings.Contains(h.stderr.String(), tt.notLog) {
				t.Errorf("log: want %q, not %q:\n%s", tt.log, tt.notLog, h.stderr.String())
			}
		})
	}
}
