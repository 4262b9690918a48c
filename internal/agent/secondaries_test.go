package agent

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/ocf"
)

// TestStopKeepsTheSubnetsOtherAddresses: two addresses in one subnet on
// a nic without an address of its own there: the first is the kernel's
// primary, the second its secondary, and with promote_secondaries=0 (a
// new namespace's default) removing the primary removes the secondary
// too. Stop removes its own address alone, setting promote_secondaries on
// the nic while it does and restoring it after; IPaddr2 takes the other
// address with it.
func TestStopKeepsTheSubnetsOtherAddresses(t *testing.T) {
	const promote = "net.ipv4.conf.eth0.promote_secondaries"
	tests := []struct {
		name    string
		sysctls map[string]string
		failSet error
		// stop is the address stop removes; the other one is started too.
		stop   string
		writes []string
		// kept is whether the other address stays.
		kept bool
	}{
		{name: "the primary goes, promote_secondaries=0", stop: "198.18.0.100",
			writes: []string{promote + "=1", promote + "=0"}, kept: true},
		{name: "the primary goes, all.promote_secondaries=1", stop: "198.18.0.100",
			sysctls: map[string]string{"net.ipv4.conf.all.promote_secondaries": "1"}, kept: true},
		{name: "the primary goes, eth0's promote_secondaries=1", stop: "198.18.0.100",
			sysctls: map[string]string{promote: "1"}, kept: true},
		{name: "the secondary goes", stop: "198.18.0.101", kept: true},
		{name: "the setting cannot be changed", stop: "198.18.0.100", failSet: errors.New("read-only file system"),
			writes: []string{promote + "=1"}, kept: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			// eth0's own address is in another subnet.
			h.k.addrs = []netif.Addr{{Prefix: netip.MustParsePrefix("198.19.0.1/24"), LinkIndex: 2}}
			h.k.sysctls, h.k.failSetSysctl = tt.sysctls, tt.failSet
			p := []string{"OCF_RESKEY_nic=eth0", "OCF_RESKEY_cidr_netmask=24", "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1"}
			if st := h.run(t, "start", append(p, "OCF_RESKEY_ip=198.18.0.100", "OCF_RESKEY_iflabel=a")...); st != ocf.Success {
				t.Fatalf("start .100 = %v", st)
			}
			if st := h.run(t, "start", append(p, "OCF_RESKEY_ip=198.18.0.101", "OCF_RESKEY_iflabel=b")...); st != ocf.Success {
				t.Fatalf("start .101 = %v", st)
			}
			other := "198.18.0.101"
			if tt.stop == other {
				other = "198.18.0.100"
			}
			ip := netip.MustParseAddr(other)
			var before []netif.Addr
			for _, a := range h.k.addrs {
				if a.Prefix.Addr() == ip {
					before = append(before, a)
				}
			}
			if st := h.run(t, "stop", append(p, "OCF_RESKEY_ip="+tt.stop)...); st != ocf.Success {
				t.Fatalf("stop = %v: %s", st, h.stderr.String())
			}
			got, _ := h.k.AddrsOf(ip)
			if tt.kept {
				// The same address, now the subnet's primary.
				for i := range before {
					before[i].Flags &^= netif.FlagSecondary
				}
				if !slices.Equal(got, before) {
					t.Errorf("%s after stop: %+v, want %+v", other, got, before)
				}
			} else if len(got) != 0 {
				t.Errorf("%s after stop: %+v, want it gone with its primary", other, got)
			}
			if !slices.Equal(h.k.sysctlWrites, tt.writes) {
				t.Errorf("sysctl writes %q, want %q", h.k.sysctlWrites, tt.writes)
			}
			if tt.failSet != nil && !strings.Contains(h.stderr.String(), "removing 198.18.0.100/24 from eth0 takes 198.18.0.101/24 with it") {
				t.Errorf("the lost address is not logged: %s", h.stderr.String())
			}
		})
	}
}
