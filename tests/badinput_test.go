package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// badCase is a bad parameter set or environment, run through badSteps by
// both agents.
type badCase struct {
	name   string
	params []string
	// action replaces badSteps with this one action.
	action string
	// deliberate pins the steps where floatip differs from
	// heartbeat:IPaddr2 as docs/compatibility.md says:
	// step -> {floatip, IPaddr2}.
	deliberate map[string][2]int
	// findif: a value that IPaddr2's findif refuses, which fails start
	// with OCF_ERR_INSTALLED since 4.17 where 4.12, the one run here,
	// says OCF_ERR_CONFIGURED; validate-all says the latter in both.
	findif bool
}

type badStep struct {
	name, action string
	env          []string
}

// badSteps is the life of a resource with a bad configuration under
// Pacemaker: pcs validates it, every node probes it, one starts it, a
// recurring monitor and a stop follow.
var badSteps = []badStep{
	{"validate-all", "validate-all", nil},
	{"probe", "monitor", []string{"OCF_RESKEY_CRM_meta_interval=0"}},
	{"start", "start", nil},
	{"monitor", "monitor", []string{"OCF_RESKEY_CRM_meta_interval=10000"}},
	{"stop", "stop", nil},
}

// stopAnyway is docs/compatibility.md's "stop when a parameter other than ip, nic,
// cidr_netmask or iflabel is invalid": IPaddr2 fails stop with
// OCF_ERR_CONFIGURED, floatip stops.
var stopAnyway = map[string][2]int{"stop": {0, 6}}

// notABoolean is docs/compatibility.md's "a boolean parameter with a value that is
// neither true nor false": IPaddr2 reads it as false, floatip refuses it
// (and stops anyway).
var notABoolean = map[string][2]int{"validate-all": {6, 0}, "probe": {6, 7}, "start": {6, 0}, "monitor": {6, 0}}

// cloneRefused is a load-shared clone that floatip refuses and stops
// anyway, where IPaddr2 4.12 wants the iptables CLUSTERIP target first.
var cloneRefused = map[string][2]int{"validate-all": {6, 5}, "probe": {6, 5}, "start": {6, 5}, "monitor": {6, 5}, "stop": {0, 5}}

// shellMarker stands for a file that a parameter reaching a shell would
// create; each case replaces it with a path of its own.
const shellMarker = "MARKER"

var (
	mask24    = "cidr_netmask=24"
	badLong   = strings.Repeat("a", 10<<10)
	badDigits = strings.Repeat("1", 10<<10)
)

var badCases = []badCase{
	// The address.
	{name: "no ip", params: nil},
	{name: "empty ip", params: []string{"ip="}},
	{name: "ip garbage", params: []string{"ip=abc"}, findif: true},
	{name: "ip octet 256", params: []string{"ip=198.18.0.256"}, findif: true},
	{name: "ip negative octet", params: []string{"ip=198.18.0.-1"}, findif: true},
	{name: "ip in hex", params: []string{"ip=0xc6120064"}, findif: true},
	{name: "ip five octets", params: []string{"ip=198.18.0.100.1"}, findif: true},
	{name: "ip 10 kB", params: []string{"ip=" + badLong}, findif: true},
	{name: "ip 10 kB of badDigits", params: []string{"ip=198.18.0." + badDigits}, findif: true},
	{name: "ip not UTF-8", params: []string{"ip=198.18.0.\xff"}, findif: true},
	{name: "ip shell", params: []string{"ip=$(touch " + shellMarker + ")"}, findif: true},
	{name: "IPv6 bad hex", params: []string{"ip=2001:db8::g"}, findif: true},
	{name: "IPv6 zone", params: []string{"ip=fe80::1%eth0", "nic=eth0"}, findif: true},
	{name: "ip 0.0.0.0", params: []string{"ip=0.0.0.0"}, findif: true},
	{name: "ip 255.255.255.255", params: []string{"ip=255.255.255.255"}, deliberate: map[string][2]int{"validate-all": {6, 1}, "start": {5, 1}}},
	{name: "ip multicast", params: []string{"ip=224.0.0.1", "nic=eth0", mask24}, deliberate: map[string][2]int{"validate-all": {6, 0}, "start": {5, 0}, "monitor": {1, 0}}},
	// Both agents take the network and broadcast addresses of the subnet:
	// the kernel accepts them, and stop removes them again.
	{name: "network address as VIP", params: []string{"ip=198.18.0.0", mask24}},
	{name: "broadcast address as VIP", params: []string{"ip=198.18.0.255", mask24}},
	{name: "broadcast address as VIP, prefix from the route", params: []string{"ip=198.18.0.255"}},
	// The prefix.
	{name: "cidr_netmask 0", params: []string{labtest.V4, "cidr_netmask=0"}, findif: true},
	{name: "cidr_netmask 33", params: []string{labtest.V4, "cidr_netmask=33"}, findif: true},
	{name: "cidr_netmask -1", params: []string{labtest.V4, "cidr_netmask=-1"}, findif: true},
	{name: "cidr_netmask garbage", params: []string{labtest.V4, "cidr_netmask=abc"}, findif: true},
	{name: "cidr_netmask 24.5", params: []string{labtest.V4, "cidr_netmask=24.5"}, findif: true},
	{name: "cidr_netmask huge", params: []string{labtest.V4, "cidr_netmask=99999999999"}, findif: true},
	{name: "cidr_netmask with holes", params: []string{labtest.V4, "cidr_netmask=255.0.255.0"}, findif: true},
	{name: "cidr_netmask 10 kB", params: []string{labtest.V4, "cidr_netmask=" + badDigits}, findif: true},
	{name: "IPv6 cidr_netmask 129", params: []string{labtest.V6, "cidr_netmask=129"}, findif: true},
	// The nic: names no kernel takes, and shell syntax that must reach no
	// shell.
	{name: "unknown nic", params: []string{labtest.V4, "nic=eth9"}, findif: true},
	{name: "nic $()", params: []string{labtest.V4, mask24, "nic=$(touch " + shellMarker + ")"}, findif: true},
	{name: "nic backquotes", params: []string{labtest.V4, mask24, "nic=`touch " + shellMarker + "`"}, findif: true},
	{name: "nic ;", params: []string{labtest.V4, mask24, "nic=eth0;touch " + shellMarker}, findif: true},
	{name: "nic |", params: []string{labtest.V4, mask24, "nic=eth0|touch"}, findif: true},
	{name: "nic &&", params: []string{labtest.V4, mask24, "nic=eth0&&touch"}, findif: true},
	{name: "nic glob", params: []string{labtest.V4, mask24, "nic=*"}, findif: true},
	{name: "nic 16 characters", params: []string{labtest.V4, mask24, "nic=abcdefghijklmnop"}, findif: true},
	{name: "nic 10 kB", params: []string{labtest.V4, mask24, "nic=" + badLong}, findif: true},
	{name: "nic ..", params: []string{labtest.V4, mask24, "nic=.."}, findif: true},
	// The announcements.
	{name: "arp_count 0", params: []string{labtest.V4, "arp_count=0"}, deliberate: stopAnyway},
	{name: "arp_count negative", params: []string{labtest.V4, "arp_count=-5"}, deliberate: stopAnyway},
	{name: "arp_count 1e3", params: []string{labtest.V4, "arp_count=1e3"}, deliberate: stopAnyway},
	{name: "arp_count beyond 64 bits", params: []string{labtest.V4, "arp_count=99999999999999999999"}, deliberate: stopAnyway},
	{name: "arp_count 10 kB", params: []string{labtest.V4, "arp_count=" + badDigits}, deliberate: stopAnyway},
	{name: "arp_count empty", params: []string{labtest.V4, "arp_count="}, deliberate: stopAnyway},
	{name: "arp_interval 0", params: []string{labtest.V4, "arp_interval=0"}, deliberate: stopAnyway},
	{name: "arp_interval negative", params: []string{labtest.V4, "arp_interval=-1"}, deliberate: stopAnyway},
	{name: "arp_interval garbage", params: []string{labtest.V4, "arp_interval=abc"}, deliberate: stopAnyway},
	{name: "arp_interval empty", params: []string{labtest.V4, "arp_interval="}, deliberate: stopAnyway},
	{name: "arp_sender unknown", params: []string{labtest.V4, "arp_sender=evil"}, deliberate: stopAnyway},
	{name: "arp_sender shell", params: []string{labtest.V4, "arp_sender=$(touch " + shellMarker + ")"}, deliberate: stopAnyway},
	// Booleans.
	{name: "nodad perhaps", params: []string{labtest.V4, "nodad=perhaps"}, deliberate: notABoolean},
	{name: "run_arping 2", params: []string{labtest.V4, "run_arping=2"}, deliberate: notABoolean},
	{name: "flush_routes yes2", params: []string{labtest.V4, "flush_routes=yes2"}, deliberate: notABoolean},
	{name: "unique_clone_address x", params: []string{labtest.V4, "unique_clone_address=x"}, deliberate: notABoolean},
	// Other parameters.
	{name: "preferred_lft empty", params: []string{labtest.V4, "preferred_lft="}, deliberate: stopAnyway},
	{name: "broadcast octet 300", params: []string{labtest.V4, "broadcast=300.1.1.1"}, findif: true},
	{name: "broadcast 10 kB", params: []string{labtest.V4, "broadcast=" + badLong}, findif: true},
	{name: "broadcast 0.0.0.0", params: []string{labtest.V4, "broadcast=0.0.0.0"}, findif: true},
	{name: "broadcast +-", params: []string{labtest.V4, "broadcast=+-"}, findif: true},
	// docs/compatibility.md: "stop when iflabel makes a label longer than 15 characters".
	{name: "iflabel 10 kB", params: []string{labtest.V4, "iflabel=" + badLong}, deliberate: stopAnyway},
	// The environment.
	{name: "meta clone_max garbage", params: []string{labtest.V4, "OCF_RESKEY_CRM_meta_clone_max=abc"}, deliberate: stopAnyway},
	{name: "meta clone_max 0", params: []string{labtest.V4, "OCF_RESKEY_CRM_meta_clone_max=0"}, deliberate: stopAnyway},
	// docs/compatibility.md: "a load-shared clone"; 4.12 builds it on
	// the iptables CLUSTERIP target, which the kernel no longer has,
	// floatip on nf_tables. Its stop leaves the node as it was.
	{name: "meta clone_max 2", params: []string{labtest.V4, "OCF_RESKEY_CRM_meta_clone_max=2"}, deliberate: map[string][2]int{
		"validate-all": {0, 5}, "probe": {7, 5}, "start": {0, 5}, "monitor": {0, 5}, "stop": {0, 5}}},
	// What a load-shared clone refuses (docs/admin/clone.md), where 4.12
	// wants the iptables binary and its CLUSTERIP target first;
	// TestCloneParityWithIPaddr2Main compares with the nftables IPaddr2.
	{name: "clone seed 0", params: []string{labtest.V4, "OCF_RESKEY_CRM_meta_clone_max=2", "clusterip_hash_seed=0"}, deliberate: cloneRefused},
	{name: "clone seed garbage", params: []string{labtest.V4, "OCF_RESKEY_CRM_meta_clone_max=2", "clusterip_hash_seed=0xzz"}, deliberate: cloneRefused},
	{name: "clone mac not multicast", params: []string{labtest.V4, "OCF_RESKEY_CRM_meta_clone_max=2", "mac=02:00:00:00:00:01"}, deliberate: cloneRefused},
	{name: "clone mac garbage", params: []string{labtest.V4, "OCF_RESKEY_CRM_meta_clone_max=2", "mac=$(touch " + shellMarker + ")"}, deliberate: cloneRefused},
	{name: "clone lvs_support", params: []string{labtest.V4, "OCF_RESKEY_CRM_meta_clone_max=2", "lvs_support=true"}, deliberate: stopAnyway},
	{name: "clone instance beyond clone_max", params: []string{labtest.V4, "OCF_RESKEY_CRM_meta_clone_max=2", "OCF_RESKEY_CRM_meta_clone=2"}, deliberate: map[string][2]int{"validate-all": {0, 5}, "probe": {7, 5}, "start": {6, 5}, "monitor": {7, 5}, "stop": {0, 5}}},
	// docs/compatibility.md: unique_clone_address with an IPv6 ip.
	{name: "unique clone IPv6", params: []string{labtest.V6, "unique_clone_address=true", "OCF_RESKEY_CRM_meta_globally_unique=true", "OCF_RESKEY_CRM_meta_clone_max=2", "OCF_RESKEY_CRM_meta_clone=1"},
		deliberate: map[string][2]int{"probe": {6, 7}, "monitor": {6, 1}}},
	{name: "meta timeout garbage", params: []string{labtest.V4, "OCF_RESKEY_CRM_meta_timeout=abc"}},
	{name: "meta interval garbage", params: []string{labtest.V4, "OCF_RESKEY_CRM_meta_interval=abc"}},
	{name: "OCF_CHECK_LEVEL garbage", params: []string{labtest.V4, "OCF_CHECK_LEVEL=abc"}},
	// docs/compatibility.md: network_namespace missing on this node.
	{name: "network_namespace missing", params: []string{labtest.V4, mask24, "network_namespace=fip-nowhere"}, deliberate: map[string][2]int{
		"validate-all": {5, 255}, "probe": {7, 255}, "start": {5, 255}, "monitor": {7, 255}, "stop": {0, 255}}},
	// A name longer than a file name can be names no namespace either.
	{name: "network_namespace too long", params: []string{labtest.V4, mask24, "network_namespace=" + strings.Repeat("n", 300)}, deliberate: map[string][2]int{
		"validate-all": {5, 255}, "probe": {7, 255}, "start": {5, 255}, "monitor": {7, 255}, "stop": {0, 255}}},
	// Actions.
	{name: "unknown action", params: []string{labtest.V4}, action: "promote"},
	{name: "unknown action, shell", params: []string{labtest.V4}, action: "$(touch " + shellMarker + ")"},
}

// TestBadInput runs every bad case through badSteps with floatip and with
// heartbeat:IPaddr2, in a lab host, and checks that floatip exits as
// IPaddr2 does (or as docs/compatibility.md says), prints
// exactly one short, printable exit reason when it fails, none when it
// does not, and leaves the host, its namespace and HA_RSCTMP as they were,
// and that no parameter reached a shell.
func TestBadInput(t *testing.T) {
	labtest.NeedRoot(t)
	if len(badCases) < 40 {
		t.Fatalf("%d bad cases, the suite promises at least 40", len(badCases))
	}
	// Each shard is a lab whose cases run one after the other, so that
	// what one case leaves cannot be blamed on another.
	const shards = 6
	for s := 0; s < shards; s++ {
		t.Run(fmt.Sprint("shard", s), func(t *testing.T) {
			t.Parallel()
			l := labtest.NewLab(t, labtest.HostA6)
			h := l.Host("a")
			for i := s; i < len(badCases); i += shards {
				bc := badCases[i]
				t.Run(bc.name, func(t *testing.T) { runBadCase(t, h, bc) })
			}
		})
	}
}

func runBadCase(t *testing.T, h *lab.Host, bc badCase) {
	mark := filepath.Join(t.TempDir(), "reached-a-shell")
	params := make([]string, len(bc.params))
	for i, p := range bc.params {
		params[i] = strings.ReplaceAll(p, shellMarker, mark)
	}
	steps := badSteps
	if bc.action != "" {
		steps = []badStep{{name: "action", action: strings.ReplaceAll(bc.action, shellMarker, mark)}}
	}
	before := labtest.HostState(t, h)
	codes := map[string][2]int{}
	for i, agent := range []string{"floatip", "heartbeat"} {
		r := labtest.FastFloatip(t, h)
		if agent == "heartbeat" {
			r = fastHeartbeat(t, h)
		}
		for _, s := range steps {
			res := r.Run(s.action, append(slices.Clone(params), s.env...)...)
			c := codes[s.name]
			c[i] = res.Code
			codes[s.name] = c
			if agent == "floatip" {
				labtest.CheckReason(t, s.name, res)
			}
		}
		labtest.CheckNothingLeft(t, h, before, r.Rsctmp)
	}
	for _, s := range steps {
		c := codes[s.name]
		want := c[1]
		if bc.findif && s.name == "start" && want == 6 {
			want = 5
		}
		if d, ok := bc.deliberate[s.name]; ok {
			if c[1] != d[1] {
				t.Errorf("%s: heartbeat:IPaddr2 exited %d, the pinned difference says %d", s.name, c[1], d[1])
			}
			want = d[0]
		}
		if c[0] != want {
			t.Errorf("%s: floatip exited %d, want %d (heartbeat:IPaddr2 %d)", s.name, c[0], want, c[1])
		}
	}
	if _, err := os.Stat(mark); err == nil {
		t.Errorf("a parameter reached a shell: %s exists", mark)
	}
}
