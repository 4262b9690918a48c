package tests

import (
	"os"
	"os/exec"
	"testing"

	"github.com/floatip/floatip/tests/lab"
)

// ipaddr2Main is resource-agents' main branch IPaddr2, whose clone mode
// is built on nftables, and the library it runs with.
const (
	ipaddr2Main    = "/work/oracle/ipaddr2-main/IPaddr2"
	ipaddr2MainLib = "OCF_FUNCTIONS_DIR=/work/oracle/ipaddr2-main/lib"
)

// cloneParityStep is one action of a clone instance's life on one node.
type cloneParityStep struct {
	name, action string
	// instance is the clone number the step runs as; the resource's
	// instance is 0.
	instance int
	env      []string
}

var cloneParitySteps = []cloneParityStep{
	{"validate-all", "validate-all", 0, nil},
	{"probe", "monitor", 0, []string{"OCF_RESKEY_CRM_meta_interval=0"}},
	{"start", "start", 0, nil},
	{"monitor", "monitor", 0, []string{"OCF_RESKEY_CRM_meta_interval=10000"}},
	{"probe of instance 2 beside it", "monitor", 2, []string{"OCF_RESKEY_CRM_meta_interval=0"}},
	{"stop of instance 2 beside it", "stop", 2, nil},
	{"stop", "stop", 0, nil},
	{"stop again", "stop", 0, nil},
	{"monitor after stop", "monitor", 0, []string{"OCF_RESKEY_CRM_meta_interval=10000"}},
}

// TestCloneParityWithIPaddr2Main runs one instance of a load-shared clone
// with floatip and with IPaddr2 of resource-agents' main branch (with
// nft), one after the other on one node, and checks that floatip exits
// as IPaddr2 does but where docs/compatibility.md says otherwise (pinned
// here: step -> {floatip, IPaddr2}), and leaves nothing behind.
func TestCloneParityWithIPaddr2Main(t *testing.T) {
	if _, err := os.Stat("/tmp/oracle.ready"); err != nil {
		t.Skip("resource-agents' main branch IPaddr2 is not set up (/tmp/oracle.ready)")
	}
	// IPaddr2 answers 1 for an instance not on a node where another
	// instance runs; floatip 7, not running.
	beside := map[string][2]int{"probe of instance 2 beside it": {7, 1}}
	refused := func(floatipStop int) map[string][2]int {
		return map[string][2]int{"validate-all": {6, 6}, "probe": {6, 6}, "start": {6, 6}, "monitor": {6, 6},
			"probe of instance 2 beside it": {6, 6}, "stop of instance 2 beside it": {floatipStop, 6}, "stop": {floatipStop, 6},
			"stop again": {floatipStop, 6}, "monitor after stop": {6, 6}}
	}
	for _, tc := range []struct {
		name       string
		f          cloneFamily
		params     []string
		deliberate map[string][2]int
	}{
		{"IPv4 with the ARP rewrite", cloneIPv4, nil, beside},
		{"IPv4 without the ARP rewrite", cloneIPv4, []string{"clusterip_mac_mangle=false"}, beside},
		{"IPv4 seed and mac given", cloneIPv4, []string{"clusterip_hash_seed=0x1234", "mac=01:00:5e:01:02:03"}, beside},
		{"IPv6 without the rewrite", cloneIPv6, []string{"clusterip_mac_mangle=false"}, beside},
		// floatip rewrites neighbour advertisements; IPaddr2 refuses.
		{"IPv6 with the rewrite", cloneIPv6, nil, map[string][2]int{"validate-all": {0, 6}, "probe": {7, 6}, "start": {0, 6}, "monitor": {0, 6},
			"probe of instance 2 beside it": {7, 6}, "stop of instance 2 beside it": {0, 6}, "stop": {0, 6}, "stop again": {0, 6}, "monitor after stop": {7, 6}}},
		// floatip refuses seed 0, which netlink would leave out.
		{"seed 0", cloneIPv4, []string{"clusterip_hash_seed=0"}, map[string][2]int{"validate-all": {6, 0}, "probe": {6, 7}, "start": {6, 0}, "monitor": {6, 0},
			"probe of instance 2 beside it": {6, 1}, "monitor after stop": {6, 7}}},
		{"seed not a number", cloneIPv4, []string{"clusterip_hash_seed=0xzz"}, refused(0)},
		{"mac not multicast", cloneIPv4, []string{"mac=02:00:00:00:00:01"}, refused(0)},
		{"lvs_support", cloneIPv4, []string{"lvs_support=true"}, refused(0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes, _, _ := cloneLab(t, tc.f)
			n := nodes[0]
			codes := map[string][2]int{}
			for i, path := range []string{binary, ipaddr2Main} {
				r := &agentRunner{t: t, host: n, path: path, rsctmp: t.TempDir()}
				for _, s := range cloneParitySteps {
					params := append(tc.f.cloneParams(s.instance, "clusterip_firewall=nft", ipaddr2MainLib, "arp_bg=false"), tc.params...)
					res := r.run(s.action, append(params, s.env...)...)
					c := codes[s.name]
					c[i] = res.Code
					codes[s.name] = c
					if path == binary {
						checkReason(t, s.name, res)
					}
				}
				if path == binary {
					holdsNothing(t, n, tc.f, tc.f.spec())
				} else {
					resetShared(t, n, tc.f)
				}
			}
			t.Logf("exit codes {floatip, IPaddr2}: %v", codes)
			for _, s := range cloneParitySteps {
				c, want := codes[s.name], codes[s.name][1]
				if d, ok := tc.deliberate[s.name]; ok {
					if c[1] != d[1] {
						t.Errorf("%s: IPaddr2 exited %d, the pinned difference says %d", s.name, c[1], d[1])
					}
					want = d[0]
				}
				if c[0] != want {
					t.Errorf("%s: floatip exited %d, want %d (IPaddr2 %d)", s.name, c[0], want, c[1])
				}
			}
		})
	}
}

// resetShared removes what IPaddr2 left of f's shared address on n, and
// logs it: its stop leaves the rules when the address is gone.
func resetShared(t *testing.T, n *lab.Host, f cloneFamily) {
	t.Helper()
	if got := nftRules(t, n); len(got) > 0 {
		t.Logf("IPaddr2 left rules: %q", got)
		if out, err := exec.Command("ip", "netns", "exec", n.NS, "nft", "flush", "ruleset").CombinedOutput(); err != nil {
			t.Fatalf("nft flush ruleset: %v\n%s", err, out)
		}
	}
	for _, mac := range []string{f.spec().MAC.String(), "01:00:5e:01:02:03"} {
		exec.Command("ip", "-n", n.NS, "maddr", "del", mac, "dev", n.Dev).Run()
	}
	if hasAddr(t, n, f.ip.String()) {
		t.Logf("IPaddr2 left %s", f.ip)
		n.IP("addr", "del", f.ip.String(), "dev", n.Dev)
	}
}
