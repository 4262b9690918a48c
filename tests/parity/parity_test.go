package parity

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// parityCase is one parameter set that both agents get.
type parityCase struct {
	name   string
	params []string
	// v6 builds the lab with IPv6 addresses too; bare builds host a
	// without any address (no connected subnet).
	v6, bare bool
	// inNamespace runs the agents outside the lab, with
	// network_namespace naming host a's namespace.
	inNamespace bool
	// deliberate pins the steps where floatip differs on purpose (see
	// docs/compatibility.md): step -> {floatip, IPaddr2}. When
	// start differs, the addresses and frames are not compared.
	deliberate map[string][2]int
	// newer pins the steps where 4.12 answers what a later release
	// changed, and floatip follows 4.18 (docs/compatibility.md's table
	// has both columns): step -> {floatip and 4.18, 4.12}.
	newer map[string][2]int
	// refresh waits for each burst to end before the next step, so that
	// the monitors' refreshes are compared whole: IPaddr2 started under a
	// pipe returns only after its burst, floatip at once.
	refresh bool
}

// paritySteps is the sequence each agent runs, Pacemaker style.
var paritySteps = []struct {
	name, action string
	env          []string
}{
	{"validate-all", "validate-all", nil},
	{"probe", "monitor", []string{"OCF_RESKEY_CRM_meta_interval=0"}},
	{"start", "start", nil},
	{"monitor", "monitor", []string{"OCF_RESKEY_CRM_meta_interval=10000"}},
	{"probe after start", "monitor", []string{"OCF_RESKEY_CRM_meta_interval=0"}},
	{"stop", "stop", nil},
	{"stop again", "stop", nil},
	{"monitor after stop", "monitor", []string{"OCF_RESKEY_CRM_meta_interval=10000"}},
}

// findifInstalled is IPaddr2 4.17's answer when findif fails at start:
// OCF_ERR_INSTALLED where 4.12 says OCF_ERR_GENERIC.
var findifInstalled = map[string][2]int{"start": {5, 1}}

// findifRefuses is IPaddr2 4.17's answer when findif refuses the ip,
// cidr_netmask, broadcast or nic at start, where 4.12 says
// OCF_ERR_CONFIGURED; validate-all says that in both.
var findifRefuses = map[string][2]int{"start": {5, 6}}

// badStop is the deliberate difference for a parameter that stop does not
// need: IPaddr2 fails stop with OCF_ERR_CONFIGURED, floatip stops.
var badStop = map[string][2]int{"stop": {0, 6}, "stop again": {0, 6}}

var parityCases = []parityCase{
	{name: "ip only", params: []string{labtest.V4}},
	{name: "cidr_netmask", params: []string{labtest.V4, "cidr_netmask=24"}},
	{name: "nic", params: []string{labtest.V4, "nic=eth0"}},
	{name: "nic and cidr_netmask", params: []string{labtest.V4, "nic=eth0", "cidr_netmask=24"}},
	{name: "wider route, narrower prefix", params: []string{labtest.V4, "cidr_netmask=25"}},
	{name: "prefix 28", params: []string{labtest.V4, "cidr_netmask=28"}},
	{name: "prefix 32", params: []string{labtest.V4, "cidr_netmask=32"}},
	{name: "dotted quad netmask", params: []string{labtest.V4, "cidr_netmask=255.255.255.0"}},
	{name: "prefix wider than the route", params: []string{labtest.V4, "cidr_netmask=16"}, newer: findifInstalled},
	{name: "explicit broadcast", params: []string{labtest.V4, "broadcast=198.18.0.200"}},
	{name: "broadcast +", params: []string{labtest.V4, "broadcast=+", "cidr_netmask=25"}},
	{name: "broadcast -", params: []string{labtest.V4, "broadcast=-"}},
	{name: "iflabel", params: []string{labtest.V4, "iflabel=web"}},
	{name: "nic:label", params: []string{labtest.V4, "nic=eth0:db"}},
	{name: "outside every subnet, nic and prefix", params: []string{"ip=198.19.5.5", "nic=eth0", "cidr_netmask=24"}},
	{name: "short burst", params: []string{labtest.V4, "arp_count=4", "arp_interval=100"}},
	{name: "one announcement", params: []string{labtest.V4, "arp_count=1"}},
	{name: "foreground burst", params: []string{labtest.V4, "arp_count=3", "arp_bg=false"}},
	{name: "noprefixroute", params: []string{labtest.V4, "noprefixroute=true"}},
	{name: "flush_routes", params: []string{labtest.V4, "flush_routes=true"}},
	{name: "refresh at monitor", params: []string{labtest.V4, "arp_count=1", "arp_count_refresh=2"}, refresh: true},
	{name: "arp_sender send_arp", params: []string{labtest.V4, "arp_sender=send_arp"}},
	{name: "IPv6-only options on IPv4", params: []string{labtest.V4, "nodad=true", "preferred_lft=0"}},
	{name: "unique clone address", params: []string{labtest.V4, "unique_clone_address=true", "OCF_RESKEY_CRM_meta_clone=2",
		"OCF_RESKEY_CRM_meta_clone_max=3", "OCF_RESKEY_CRM_meta_globally_unique=true"}},
	{name: "network_namespace", params: []string{labtest.V4, "cidr_netmask=24"}, inNamespace: true},
	{name: "missing ip", params: nil},
	{name: "garbage ip", params: []string{"ip=abc"}, newer: findifRefuses},
	{name: "octet out of range", params: []string{"ip=300.1.1.1"}, newer: findifRefuses},
	// iproute2 reads 198.18.0 as 198.18.0.0, so IPaddr2's monitor finds a
	// route and says not running; floatip cannot read the address at all.
	{name: "three octets", params: []string{"ip=198.18.0"}, deliberate: map[string][2]int{"monitor": {1, 7}, "monitor after stop": {1, 7}}, newer: findifRefuses},
	{name: "prefix 33", params: []string{labtest.V4, "cidr_netmask=33"}, newer: findifRefuses},
	{name: "prefix 0", params: []string{labtest.V4, "cidr_netmask=0"}, newer: findifRefuses},
	{name: "unknown nic with prefix", params: []string{labtest.V4, "nic=eth9", "cidr_netmask=24"}, newer: findifRefuses},
	{name: "unknown nic", params: []string{labtest.V4, "nic=eth9"}, newer: findifRefuses},
	{name: "nic with shell characters", params: []string{labtest.V4, "nic=e;reboot", "cidr_netmask=24"}, newer: findifRefuses},
	{name: "outside every subnet", params: []string{"ip=198.19.5.5"}, newer: findifInstalled},
	{name: "no connected subnet", params: []string{labtest.V4}, bare: true, newer: findifInstalled},
	{name: "arp_count 0", params: []string{labtest.V4, "arp_count=0"}, deliberate: badStop},
	{name: "arp_count negative", params: []string{labtest.V4, "arp_count=-1"}, deliberate: badStop},
	{name: "arp_interval 0", params: []string{labtest.V4, "arp_interval=0"}, deliberate: badStop},
	{name: "arp_count not a number", params: []string{labtest.V4, "arp_count=abc"}, deliberate: badStop},
	{name: "garbage broadcast", params: []string{labtest.V4, "broadcast=garbage"}, newer: findifRefuses},
	{name: "label too long", params: []string{labtest.V4, "iflabel=abcdefghijk"}, deliberate: badStop},
	// 4.15.1: an IPv4 address ignores lvs_ipv6_addrlabel, on by default.
	{name: "lvs_ipv6_addrlabel on IPv4", params: []string{labtest.V4, "lvs_ipv6_addrlabel=true"}, newer: map[string][2]int{
		"validate-all": {0, 6}, "probe": {7, 6}, "start": {0, 6}, "monitor": {0, 6}, "probe after start": {0, 6}, "stop": {0, 6}, "stop again": {0, 6}, "monitor after stop": {7, 6}}},
	{name: "bad boolean", params: []string{labtest.V4, "noprefixroute=perhaps"}, deliberate: map[string][2]int{
		"validate-all": {6, 0}, "probe": {6, 7}, "start": {6, 0}, "monitor": {6, 0}, "probe after start": {6, 0}, "monitor after stop": {6, 7}}},
	{name: "IPv6", params: []string{labtest.V6, "cidr_netmask=64"}, v6: true},
	{name: "IPv6 prefix from the route", params: []string{labtest.V6}, v6: true},
	{name: "IPv6 non-canonical", params: []string{"ip=2001:DB8:0:0::0100", "cidr_netmask=64"}, v6: true},
	{name: "IPv6 /128", params: []string{labtest.V6, "cidr_netmask=128"}, v6: true},
	{name: "IPv6 nodad", params: []string{labtest.V6, "nodad=true"}, v6: true},
	{name: "IPv6 preferred_lft 0", params: []string{labtest.V6, "preferred_lft=0", "nodad=true"}, v6: true},
	{name: "IPv6 noprefixroute, short burst", params: []string{labtest.V6, "noprefixroute=true", "nodad=true", "arp_count=2", "arp_interval=100"}, v6: true},
	{name: "IPv6 background burst", params: []string{labtest.V6, "nodad=true", "arp_bg=true"}, v6: true},
	{name: "IPv6 nic", params: []string{labtest.V6, "nic=eth0", "nodad=true"}, v6: true},
	// The advertisements leave from the namespace's eth0 even when the
	// agent's own namespace has an eth0 too.
	{name: "IPv6 network_namespace", params: []string{labtest.V6, "cidr_netmask=64", "nodad=true"}, v6: true, inNamespace: true},
	{name: "IPv6 prefix 129", params: []string{labtest.V6, "cidr_netmask=129"}, v6: true, newer: findifRefuses},
	{name: "IPv6 link-local without nic", params: []string{"ip=fe80::100"}, v6: true, newer: findifRefuses},
	{name: "IPv6 lvs_support", params: []string{labtest.V6, "lvs_support=true"}, v6: true, deliberate: badStop},
}

// parityRun is what one agent did with one case.
type parityRun struct {
	codes  []string
	addrs  []string
	frames []string
}

// TestParity runs every case through paritySteps with heartbeat:IPaddr2 and
// with floatip, each in a fresh lab, and compares the exit codes, the
// address start adds, and every announcement a peer receives.
func TestParity(t *testing.T) {
	if len(parityCases) < 40 {
		t.Fatalf("%d parameter sets, the suite promises at least 40", len(parityCases))
	}
	for _, pc := range parityCases {
		t.Run(pc.name, func(t *testing.T) {
			t.Parallel()
			ours := runParity(t, pc, "floatip")
			theirs := runParity(t, pc, "heartbeat")
			for i, s := range paritySteps {
				want := theirs.codes[i]
				d, ok := pc.deliberate[s.name]
				if n, newer := pc.newer[s.name]; newer {
					d, ok = n, true
				}
				if ok {
					if theirs.codes[i] != fmt.Sprint(d[1]) {
						t.Errorf("%s: heartbeat:IPaddr2 exited %s, the pinned difference says %d", s.name, theirs.codes[i], d[1])
					}
					want = fmt.Sprint(d[0])
				}
				if ours.codes[i] != want {
					t.Errorf("%s: floatip exited %s, want %s (heartbeat:IPaddr2 %s)", s.name, ours.codes[i], want, theirs.codes[i])
				}
			}
			_, deliberate := pc.deliberate["start"]
			if _, newer := pc.newer["start"]; deliberate || newer {
				return
			}
			if !slices.Equal(ours.addrs, theirs.addrs) {
				t.Errorf("address after start:\nfloatip   %v\nheartbeat %v", ours.addrs, theirs.addrs)
			}
			if !slices.Equal(ours.frames, theirs.frames) {
				t.Errorf("announcements:\nfloatip:\n%s\nheartbeat:IPaddr2:\n%s", strings.Join(ours.frames, "\n"), strings.Join(theirs.frames, "\n"))
			}
		})
	}
}

func runParity(t *testing.T, pc parityCase, agent string) parityRun {
	a := lab.HostSpec{Name: "a", Addr: labtest.HostA.Addr}
	m := labtest.HostM
	if pc.v6 {
		a, m = labtest.HostA6, labtest.HostM6
	}
	if pc.bare {
		a = lab.HostSpec{Name: "a"}
	}
	l := labtest.NewLab(t, a, m)
	host := l.Host("a")
	r := labtest.Floatip(t, host)
	if agent == "heartbeat" {
		r = labtest.Heartbeat(t, host)
	}
	params := slices.Clone(pc.params)
	if pc.inNamespace {
		r.Host = nil
		params = append(params, "network_namespace="+host.NS)
	}
	arpc, err := l.Host("m").Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	nac, err := l.Host("m").Capture(0x86dd)
	if err != nil {
		t.Fatal(err)
	}
	var run parityRun
	for _, s := range paritySteps {
		res := r.Run(s.action, append(slices.Clone(params), s.env...)...)
		run.codes = append(run.codes, fmt.Sprint(res.Code))
		if s.name == "start" {
			run.addrs = addrSummary(t, host)
		}
		if s.name == "monitor" || pc.refresh && (s.name == "start" || s.name == "probe after start") {
			// The rest of the burst, or of a refresh, before the next
			// step can end it.
			labtest.BurstOver(t, host)
		}
	}
	for _, f := range lab.DecodeARP(labtest.Drain(t, arpc, host)) {
		if f.SenderIP == f.TargetIP {
			run.frames = append(run.frames, labtest.Describe(f, host))
		}
	}
	for _, n := range lab.DecodeNA(labtest.Drain(t, nac, host)) {
		if !n.Solicited {
			run.frames = append(run.frames, labtest.DescribeNA(n, host))
		}
	}
	if left := addrSummary(t, host); !slices.Equal(left, baseAddrs(a)) {
		t.Errorf("%s left the node with %v", agent, left)
	}
	return run
}

// addrSummary describes every global address on host a's nic.
func addrSummary(t *testing.T, h *lab.Host) []string {
	t.Helper()
	var out []string
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		addrs, err := h.Addrs(fam)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			if a.IP.IsLinkLocalUnicast() {
				continue
			}
			brd := ""
			if a.Broadcast != nil {
				brd = a.Broadcast.String()
			}
			out = append(out, fmt.Sprintf("%s brd=%s label=%s flags=%#x preferred=%d valid=%d",
				a.IPNet, brd, a.Label, a.Flags&^0x80, uint32(a.PreferedLft), uint32(a.ValidLft)))
		}
	}
	slices.Sort(out)
	return out
}

// baseAddrs is what addrSummary shows of a host before any agent ran.
func baseAddrs(s lab.HostSpec) []string {
	var out []string
	if s.Addr.IsValid() {
		out = append(out, fmt.Sprintf("%s brd=198.18.0.255 label=eth0 flags=0x0 preferred=%d valid=%d", s.Addr, uint32(0xffffffff), uint32(0xffffffff)))
	}
	if s.Addr6.IsValid() {
		out = append(out, fmt.Sprintf("%s brd= label= flags=0x2 preferred=%d valid=%d", s.Addr6, uint32(0xffffffff), uint32(0xffffffff)))
	}
	slices.Sort(out)
	return out
}
