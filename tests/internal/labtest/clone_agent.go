//go:build linux

package labtest

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/floatip/floatip/internal/clusterip"
	"github.com/floatip/floatip/tests/lab"
)

// CloneParams are the parameters and meta attributes Pacemaker gives
// instance n of a load-shared clone of f's address with clone-max 3 and
// clone-node-max 2, with the ARP (IPv4) or ND (IPv6) rewrite.
func (f CloneFamily) CloneParams(n int, more ...string) []string {
	return append([]string{"ip=" + f.IP.Addr().String(), "clusterip_mac_mangle=true",
		fmt.Sprintf("OCF_RESKEY_CRM_meta_clone=%d", n), "OCF_RESKEY_CRM_meta_clone_max=3",
		"OCF_RESKEY_CRM_meta_clone_node_max=2", "OCF_RESKEY_CRM_meta_globally_unique=true"}, more...)
}

// CloneLab is three nodes and a client on one link, each node with its
// own address in f's subnet (IPv4 with its broadcast address, which
// IPaddr2 hashes), the client with thirty sources.
func CloneLab(t *testing.T, f CloneFamily) (nodes []*lab.Host, client *lab.Host, sources []netip.Addr) {
	t.Helper()
	NeedTool(t, "nft")
	var specs []lab.HostSpec
	for i := 1; i <= 3; i++ {
		specs = append(specs, lab.HostSpec{Name: fmt.Sprintf("n%d", i)})
	}
	l := NewLab(t, append(specs, lab.HostSpec{Name: "c"})...)
	add := func(h *lab.Host, p netip.Prefix) {
		t.Helper()
		if err := h.IP(append([]string{"addr", "add", p.String(), "dev", h.Dev}, f.AddArgs...)...); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range l.Hosts[:3] {
		add(n, f.Prefix(i+1))
	}
	client = l.Host("c")
	for i := 16; i < 46; i++ {
		sources = append(sources, f.Host(i))
		add(client, f.Prefix(i))
	}
	return l.Hosts[:3], client, sources
}

// HoldsNothing fails the test unless node holds nothing of f's shared
// address: no nftables rules at all, no static membership of the
// cluster MAC, not the address.
func HoldsNothing(t *testing.T, n *lab.Host, f CloneFamily, spec clusterip.Spec) {
	t.Helper()
	if got := NFTRules(t, n); len(got) > 0 {
		t.Errorf("%s has rules:\n%s", n.Name, strings.Join(got, "\n"))
	}
	if StaticMember(t, n, spec.MAC) {
		t.Errorf("%s is still a member of %s", n.Name, spec.MAC)
	}
	if HasAddr(t, n, f.IP.String()) {
		t.Errorf("%s still holds %s", n.Name, f.IP.Addr())
	}
}
