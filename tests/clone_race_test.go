package tests

import (
	"fmt"
	"github.com/floatip/floatip/tests/internal/labtest"
	"net"
	"strings"
	"sync"
	"testing"
)

// TestCloneConcurrentSharedMAC: two load-shared addresses with one
// cluster MAC on one nic, the stop of one and the start of the other at
// the same moment, as Pacemaker runs them when it moves both, over and
// over. The stop that leaves the MAC and the start that finds the nic
// already joined must not interleave: the started address must keep
// the membership, else its clients reach no node. Each round ends
// consistent: the started address runs with table, rules, membership
// and address (monitor 0), the stopped one holds nothing, and the last
// stop removes the membership.
func TestCloneConcurrentSharedMAC(t *testing.T) {
	nodes, _, _ := labtest.CloneLab(t, labtest.CloneIPv4)
	n := nodes[0]
	r := labtest.Floatip(t, n)
	r.Thread = true
	const mac = "01:00:5e:00:00:07"
	hw, _ := net.ParseMAC(mac)
	params := func(ip string, instance int) []string {
		return []string{"ip=" + ip, "cidr_netmask=24", "mac=" + mac, "clusterip_mac_mangle=false", "arp_count=1",
			fmt.Sprintf("OCF_RESKEY_CRM_meta_clone=%d", instance), "OCF_RESKEY_CRM_meta_clone_max=2",
			"OCF_RESKEY_CRM_meta_clone_node_max=2", "OCF_RESKEY_CRM_meta_globally_unique=true"}
	}
	addrs := [2][]string{params("198.18.0.100", 0), params("198.18.0.101", 1)}
	if res := r.Run("start", addrs[0]...); res.Code != 0 {
		t.Fatalf("start 198.18.0.100: %d\n%s", res.Code, res.Stderr)
	}
	const rounds = 100
	broken := 0
	for i := 0; i < rounds && broken < 3; i++ {
		up, down := addrs[(i+1)%2], addrs[i%2]
		var wg sync.WaitGroup
		var stop, start int
		wg.Add(2)
		go func() { defer wg.Done(); stop = r.Run("stop", down...).Code }()
		go func() { defer wg.Done(); start = r.Run("start", up...).Code }()
		wg.Wait()
		if stop != 0 || start != 0 {
			t.Fatalf("round %d: stop %s = %d, start %s = %d", i, down[0], stop, up[0], start)
		}
		if res := r.Run("monitor", up...); res.Code != 0 || !labtest.StaticMember(t, n, hw) {
			broken++
			t.Errorf("round %d: after the stop of %s and the start of %s at once, monitor = %d, member of %s: %v\n%s\n%s",
				i, down[0], up[0], res.Code, mac, labtest.StaticMember(t, n, hw), strings.Join(labtest.ExitReasons(res.Stderr), "\n"), strings.Join(labtest.NFTRules(t, n), "\n"))
			// Repair, so that the next round starts from a running address.
			r.Run("start", up...)
		}
		if res := r.Run("monitor", down...); res.Code != 7 {
			t.Errorf("round %d: monitor of the stopped %s = %d, want 7", i, down[0], res.Code)
		}
	}
	for _, p := range addrs {
		if res := r.Run("stop", p...); res.Code != 0 {
			t.Errorf("stop %s: %d\n%s", p[0], res.Code, res.Stderr)
		}
	}
	if got := labtest.NFTRules(t, n); len(got) > 0 || labtest.StaticMember(t, n, hw) {
		t.Errorf("the last stops left rules or the membership of %s:\n%s", mac, strings.Join(got, "\n"))
	}
}

// TestCloneConcurrentInstances: the instances of one load-shared address
// on one node (clone-node-max 3), started all at once and stopped all at
// once, as Pacemaker does when the node takes over the others' buckets
// and when it leaves, over and over. After the starts, the node accepts
// every bucket once, with the membership and the address (each
// instance's monitor 0); after the stops, it holds nothing.
func TestCloneConcurrentInstances(t *testing.T) {
	f := labtest.CloneIPv4
	nodes, _, _ := labtest.CloneLab(t, f)
	n := nodes[0]
	spec := f.Spec()
	r := labtest.Floatip(t, n)
	r.Thread = true
	var instances [3][]string
	for i := range instances {
		instances[i] = []string{"ip=" + f.IP.Addr().String(), "clusterip_mac_mangle=true", "arp_count=1",
			fmt.Sprintf("OCF_RESKEY_CRM_meta_clone=%d", i), "OCF_RESKEY_CRM_meta_clone_max=3",
			"OCF_RESKEY_CRM_meta_clone_node_max=3", "OCF_RESKEY_CRM_meta_globally_unique=true"}
	}
	all := func(action string) {
		t.Helper()
		var wg sync.WaitGroup
		codes := make([]int, len(instances))
		for i, p := range instances {
			wg.Add(1)
			go func() { defer wg.Done(); codes[i] = r.Run(action, p...).Code }()
		}
		wg.Wait()
		for i, c := range codes {
			if c != 0 {
				t.Fatalf("%s of instance %d: %d", action, i, c)
			}
		}
	}
	for round := range 15 {
		all("start")
		for i, p := range instances {
			if res := r.Run("monitor", p...); res.Code != 0 {
				t.Fatalf("round %d: monitor of instance %d after the starts at once = %d\n%s\n%s",
					round, i, res.Code, strings.Join(labtest.ExitReasons(res.Stderr), "\n"), strings.Join(labtest.NFTRules(t, n), "\n"))
			}
		}
		if got := strings.Count(strings.Join(labtest.NFTRules(t, n), "\n"), "comment \"cip-node-"); got != 3 {
			t.Fatalf("round %d: %d bucket rules after the starts at once, want 3:\n%s", round, got, strings.Join(labtest.NFTRules(t, n), "\n"))
		}
		all("stop")
		labtest.HoldsNothing(t, n, f, spec)
		if t.Failed() {
			t.Fatalf("round %d: the stops at once left something", round)
		}
	}
}
