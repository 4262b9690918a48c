package tests

import (
	endian "encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/lab"
)

// The parity suite for the IPaddr2 releases after 4.12 (DESIGN.md,
// "Reference behaviour"). TestParity compares floatip with Debian's 4.12
// live; 4.18 is not installed, so what it answers is held here as facts,
// measured by running the real 4.18 in a lab like the one each case builds.
//
// The facts are re-checked against the real 4.18 when FLOATIP_IPADDR2_418
// names a directory that holds it, built outside the repository (never
// commit it: IPaddr2 is GPL) from a resource-agents checkout:
//
//	git clone https://github.com/ClusterLabs/resource-agents ra
//	d=/work/oracle/ipaddr2-4.18; mkdir -p $d/lib
//	git -C ra show v4.18.0:heartbeat/IPaddr2 >$d/IPaddr2; chmod +x $d/IPaddr2
//	git -C ra show v4.18.0:heartbeat/findif.sh >$d/lib/findif.sh
//	cp /usr/lib/ocf/lib/heartbeat/ocf-* $d/lib/
//	FLOATIP_IPADDR2_418=$d go test -count=1 -run TestParity418 ./tests/ -v
//
// The suite runs that IPaddr2 with OCF_FUNCTIONS_DIR=$d/lib, so it takes
// Debian's ocf-shellfuncs and 4.18's findif.sh. With
// FLOATIP_PARITY418_RECORD=1 as well, the 4.18 and 4.12 runs print what
// they measured as Go literals for this table instead of failing, with the
// exit reasons seen, which is how the facts were written.

// change418 alters a case's lab: before the first step (setup) or between
// two steps (a hook step).
type change418 func(t *testing.T, l *lab.Lab, h *lab.Host)

// step418 is one step of a case: an agent action with the extra
// environment Pacemaker would give it, or, with hook set, a change of the
// lab between two actions (a link going down under a running VIP).
type step418 struct {
	name, action string
	env          []string
	hook         change418
}

// facts418 is what an agent did in one case: the exit code of each action
// step (hook steps have none), and the address summary (see summary418)
// right after the first start and after the last step.
type facts418 struct {
	codes      []int
	start, end []string
}

// case418 is one parameter set in one lab situation, with what
// heartbeat:IPaddr2 4.18 and 4.12 answered there.
type case418 struct {
	name   string
	params []string
	// v6 builds host a with the IPv6 lab address as well (hostA6).
	v6 bool
	// setup changes the lab before the first step; the summaries show
	// what the agent changed from the lab as it was then.
	setup []change418
	// steps is the step list; nil means steps418Default.
	steps []step418
	// traced says that IPaddr2 (either release) wrote a trace file under
	// HA_VARLIB/trace_ra.
	traced bool
	// want is 4.18's answer, which floatip must give too.
	want facts418
	// deliberate pins the steps where floatip differs from 4.18 on
	// purpose, as in TestParity (docs/compatibility.md's table):
	// step -> {floatip, IPaddr2}.
	deliberate map[string][2]int
	// ours, when set, is floatip's summary after start and at the end
	// where it differs from 4.18's on purpose.
	ours *[2][]string
	// codes412 is Debian's 4.12's exit codes; nil means the same as 4.18.
	codes412 []int
}

// steps418Default is the Pacemaker-style step list of TestParity.
var steps418Default = func() []step418 {
	var out []step418
	for _, s := range paritySteps {
		out = append(out, step418{name: s.name, action: s.action, env: s.env})
	}
	return out
}()

var (
	probeEnv418   = []string{"OCF_RESKEY_CRM_meta_interval=0"}
	monitorEnv418 = []string{"OCF_RESKEY_CRM_meta_interval=10000"}
)

// linkLoss418 is the step list of a VIP whose link fails while it runs:
// the cluster's monitor sees it, the probe of a recovery, the stop, and a
// start on the same node (a resource with no other node to go to).
func linkLoss418(name string, hook change418) []step418 {
	return []step418{
		{name: "validate-all", action: "validate-all"},
		{name: "probe", action: "monitor", env: probeEnv418},
		{name: "start", action: "start"},
		{name: "monitor", action: "monitor", env: monitorEnv418},
		{name: name, hook: hook},
		{name: "monitor while down", action: "monitor", env: monitorEnv418},
		{name: "probe while down", action: "monitor", env: probeEnv418},
		{name: "stop", action: "stop"},
		{name: "start while down", action: "start"},
		{name: "stop again", action: "stop"},
		{name: "monitor after stop", action: "monitor", env: monitorEnv418},
	}
}

// ipCmd418 is a lab change made with "ip" inside host a.
func ipCmd418(args ...string) change418 {
	return func(t *testing.T, l *lab.Lab, h *lab.Host) {
		t.Helper()
		if err := h.IP(args...); err != nil {
			t.Fatal(err)
		}
	}
}

// linkDown418 sets host a's own nic administratively down: state DOWN.
var linkDown418 = ipCmd418("link", "set", "dev", "eth0", "down")

// peerDown418 sets the bridge's end of host a's veth down, so that a's nic
// stays up without a carrier: state LOWERLAYERDOWN.
func peerDown418(t *testing.T, l *lab.Lab, h *lab.Host) {
	t.Helper()
	if err := l.Cut(h); err != nil {
		t.Fatal(err)
	}
}

// altname418 gives host a's nic a second name.
var altname418 = ipCmd418("link", "property", "add", "dev", "eth0", "altname", "uplink0")

// parity418Cases are the facts, measured with 4.18 on Debian 12 (iproute2
// 6.1, gawk, kernel 6.18). The codes follow the case's step list, hooks
// left out: steps418Default is validate-all, probe, start, monitor, probe
// after start, stop, stop again, monitor after stop; linkLoss418 is
// validate-all, probe, start, monitor, (the link fails), monitor, probe,
// stop, start, stop again, monitor. A summary line is "+" or "-" and
// "<link> <address>/<prefix> [brd ..] [label ..] lft <preferred>/<valid>
// flags .. [metric <IFA_RT_PRIORITY>]", "addrlabel <prefix> label <n>" or
// "link <name> up|down [no-carrier]".
var parity418Cases = []case418{
	// proto filters findif's route lookup (ip route list match ... proto kernel).
	// iproute2 leaves the filtered-for fields out of its output, so the
	// field findif reads the broadcast from is empty: the VIP gets no brd
	// (4.12, which ignores proto, copies 198.18.0.255).
	{
		name:   "proto kernel",
		params: []string{v4, "proto=kernel"},
		// floatip copies the broadcast as without proto.
		ours: &[2][]string{{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"}, {}},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
	},
	// Only a kernel route covers the VIP: findif finds nothing. validate-all
	// and monitor 1, start 5 (4.12 ignores proto and starts).
	{
		name:   "proto static, kernel routes only",
		params: []string{v4, "proto=static"},
		want: facts418{
			codes: []int{1, 7, 5, 1, 7, 0, 0, 1},
			start: []string{},
			end:   []string{},
		},
		codes412: []int{0, 7, 0, 0, 0, 0, 0, 7},
	},
	// The static /25 is the only match: the VIP gets its prefix, no brd.
	{
		name:   "proto static, static route",
		params: []string{v4, "proto=static"},
		setup:  []change418{ipCmd418("route", "add", "198.18.0.0/25", "dev", "eth0", "proto", "static")},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/25 label eth0 lft forever/forever flags permanent"},
			end:   []string{},
		},
	},
	// ip route rejects the filter, findif sees no route: as no match.
	{
		name:   "proto not a protocol",
		params: []string{v4, "proto=nonsense"},
		// floatip: a value that can never work is a configuration error.
		deliberate: map[string][2]int{"validate-all": {6, 1}, "probe": {6, 7}, "start": {6, 5}, "monitor": {6, 1}, "probe after start": {6, 7}, "monitor after stop": {6, 1}},
		want: facts418{
			codes: []int{1, 7, 5, 1, 7, 0, 0, 1},
			start: []string{},
			end:   []string{},
		},
		codes412: []int{0, 7, 0, 0, 0, 0, 0, 7},
	},
	{
		name:   "IPv6 proto kernel",
		params: []string{v6, "proto=kernel", "nodad=true"},
		v6:     true,
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+addrlabel 2001:db8::100/128 label 99", "+eth0 2001:db8::100/64 lft forever/forever flags nodad,permanent metric 256"},
			end:   []string{},
		},
	},
	// 4.18 adds an IPv6 VIP with the metric of the route findif chose
	// (IFA_RT_PRIORITY), so its prefix route has that metric too.
	{
		name:   "IPv6 metric from the connected route",
		params: []string{v6, "nodad=true"},
		v6:     true,
		setup: []change418{
			ipCmd418("-6", "route", "del", "2001:db8::/64", "dev", "eth0"),
			ipCmd418("-6", "route", "add", "2001:db8::/64", "dev", "eth0", "metric", "512"),
		},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+addrlabel 2001:db8::100/128 label 99", "+eth0 2001:db8::100/64 lft forever/forever flags nodad,permanent metric 512"},
			end:   []string{},
		},
	},
	// Two routes to 2001:db8::/64, metrics 256 and 100: 100 wins.
	{
		name:   "IPv6 two covering routes, lowest metric wins",
		params: []string{v6, "nodad=true"},
		v6:     true,
		setup:  []change418{ipCmd418("-6", "route", "add", "2001:db8::/64", "dev", "eth0", "metric", "100")},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+addrlabel 2001:db8::100/128 label 99", "+eth0 2001:db8::100/64 lft forever/forever flags nodad,permanent metric 100"},
			end:   []string{},
		},
	},
	{
		name:   "IPv6 more specific route",
		params: []string{v6, "nodad=true"},
		v6:     true,
		setup:  []change418{ipCmd418("-6", "route", "add", "2001:db8::/96", "dev", "eth0", "metric", "100")},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+addrlabel 2001:db8::100/128 label 99", "+eth0 2001:db8::100/96 lft forever/forever flags nodad,permanent metric 100"},
			end:   []string{},
		},
	},
	// 4.18 orders the matching routes by metric before prefix length: the
	// /64 (metric 256) beats the /96 (metric 1024). 4.12 took the longest prefix.
	{
		name:   "IPv6 more specific route, higher metric",
		params: []string{v6, "nodad=true"},
		v6:     true,
		setup:  []change418{ipCmd418("-6", "route", "add", "2001:db8::/96", "dev", "eth0", "metric", "1024")},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+addrlabel 2001:db8::100/128 label 99", "+eth0 2001:db8::100/64 lft forever/forever flags nodad,permanent metric 256"},
			end:   []string{},
		},
	},
	// IPv4 routes of metric 0 show no metric, and 4.18's numeric sort then
	// ranks the kernel's /24 by its first field (198.18...) as if that were
	// its metric: a route of metric 100 wins, one of metric 300 loses.
	{
		name:   "more specific route, metric 100",
		params: []string{v4},
		// floatip ranks the kernel's /24 by its metric, 0.
		ours:  &[2][]string{{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"}, {}},
		setup: []change418{ipCmd418("route", "add", "198.18.0.0/25", "dev", "eth0", "metric", "100")},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/25 label eth0 lft forever/forever flags permanent"},
			end:   []string{},
		},
	},
	{
		name:   "more specific route, metric 300",
		params: []string{v4},
		setup:  []change418{ipCmd418("route", "add", "198.18.0.0/25", "dev", "eth0", "metric", "300")},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
	},
	// unreachable, blackhole, prohibit and default routes are skipped.
	{
		name:   "IPv6 unreachable more specific route",
		params: []string{v6, "nodad=true"},
		v6:     true,
		setup:  []change418{ipCmd418("-6", "route", "add", "unreachable", "2001:db8::/96")},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+addrlabel 2001:db8::100/128 label 99", "+eth0 2001:db8::100/64 lft forever/forever flags nodad,permanent metric 256"},
			end:   []string{},
		},
	},
	{
		name:   "blackhole more specific route",
		params: []string{v4},
		setup:  []change418{ipCmd418("route", "add", "blackhole", "198.18.0.0/25", "scope", "link")},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
	},
	// Admin down removes the connected IPv4 route, so findif fails: monitor
	// 1, probe 7, and stop exits 0 without removing the address, which
	// stays on the nic. start 5.
	{
		name:   "own link down under the VIP",
		params: []string{v4},
		steps:  linkLoss418("link down", linkDown418),
		// The down link took the routes, and with them findif's answer:
		// 4.18's stop says 0 and leaves the address on eth0; floatip's
		// stop removes it from where it is (docs/compatibility.md).
		ours: &[2][]string{{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"}, {"+link eth0 down no-carrier", "-link eth0 up"}},
		want: facts418{
			codes: []int{0, 7, 0, 0, 1, 7, 0, 5, 0, 1},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent", "+link eth0 down no-carrier", "-link eth0 up"},
		},
		codes412: []int{0, 7, 0, 0, 1, 7, 0, 1, 0, 1},
	},
	// With nic and cidr_netmask findif needs no route: check_link_status
	// sees DOWN, monitor and probe 5, stop removes the address, and start
	// adds it again and sets the link up (ip link set dev eth0 up).
	{
		name:   "own link down under the VIP, nic and prefix",
		params: []string{v4, "nic=eth0", "cidr_netmask=24"},
		// floatip: not running while the link is down (upstream PR #2166).
		deliberate: map[string][2]int{"monitor while down": {7, 5}, "probe while down": {7, 5}},
		steps:      linkLoss418("link down", linkDown418),
		want: facts418{
			codes: []int{0, 7, 0, 0, 5, 5, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
		codes412: []int{0, 7, 0, 0, 0, 0, 0, 0, 0, 7},
	},
	// The kernel drops IPv6 addresses at admin down; findif then fails, so
	// stop exits 0 early and the address label 99 stays behind.
	{
		name:   "IPv6 own link down under the VIP",
		params: []string{v6, "nodad=true"},
		v6:     true,
		steps:  linkLoss418("link down", linkDown418),
		want: facts418{
			codes: []int{0, 7, 0, 0, 1, 7, 0, 5, 0, 1},
			start: []string{"+addrlabel 2001:db8::100/128 label 99", "+eth0 2001:db8::100/64 lft forever/forever flags nodad,permanent metric 256"},
			end:   []string{"+addrlabel 2001:db8::100/128 label 99", "+link eth0 down no-carrier", "-eth0 2001:db8::1/64 lft forever/forever flags nodad,permanent", "-link eth0 up"},
		},
		codes412: []int{0, 7, 0, 0, 1, 7, 0, 1, 0, 1},
	},
	// LOWERLAYERDOWN keeps the route (linkdown): monitor and probe 5, stop
	// removes the address; start adds it, sees the link down and exits 1
	// with the address left on the nic, for the next stop to remove.
	{
		name:   "peer down under the VIP",
		params: []string{v4},
		// floatip: not running while the link is down (upstream PR #2166),
		// and start refuses the link before it adds anything.
		deliberate: map[string][2]int{"monitor while down": {7, 5}, "probe while down": {7, 5}, "start while down": {5, 1}},
		steps:      linkLoss418("peer down", peerDown418),
		want: facts418{
			codes: []int{0, 7, 0, 0, 5, 5, 0, 1, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{"+link eth0 up no-carrier", "-link eth0 up"},
		},
		codes412: []int{0, 7, 0, 0, 0, 0, 0, 0, 0, 7},
	},
	{
		name:   "peer down under the VIP, nic and prefix",
		params: []string{v4, "nic=eth0", "cidr_netmask=24"},
		// floatip: not running while the link is down (upstream PR #2166),
		// and start refuses the link before it adds anything.
		deliberate: map[string][2]int{"monitor while down": {7, 5}, "probe while down": {7, 5}, "start while down": {5, 1}},
		steps:      linkLoss418("peer down", peerDown418),
		want: facts418{
			codes: []int{0, 7, 0, 0, 5, 5, 0, 1, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{"+link eth0 up no-carrier", "-link eth0 up"},
		},
		codes412: []int{0, 7, 0, 0, 0, 0, 0, 0, 0, 7},
	},
	{
		name:   "IPv6 peer down under the VIP",
		params: []string{v6, "nodad=true"},
		// floatip: not running while the link is down (upstream PR #2166),
		// and start refuses the link before it adds anything.
		deliberate: map[string][2]int{"monitor while down": {7, 5}, "probe while down": {7, 5}, "start while down": {5, 1}},
		v6:         true,
		steps:      linkLoss418("peer down", peerDown418),
		want: facts418{
			codes: []int{0, 7, 0, 0, 5, 5, 0, 1, 0, 7},
			start: []string{"+addrlabel 2001:db8::100/128 label 99", "+eth0 2001:db8::100/64 lft forever/forever flags nodad,permanent metric 256"},
			end:   []string{"+link eth0 up no-carrier", "-link eth0 up"},
		},
		codes412: []int{0, 7, 0, 0, 0, 0, 0, 0, 0, 7},
	},
	// Without the link check, admin down still fails findif.
	{
		name:   "check_link_status=false, own link down",
		params: []string{v4, "check_link_status=false"},
		steps:  linkLoss418("link down", linkDown418),
		// The down link took the routes, and with them findif's answer:
		// 4.18's stop says 0 and leaves the address on eth0; floatip's
		// stop removes it from where it is (docs/compatibility.md).
		ours: &[2][]string{{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"}, {"+link eth0 down no-carrier", "-link eth0 up"}},
		want: facts418{
			codes: []int{0, 7, 0, 0, 1, 7, 0, 5, 0, 1},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent", "+link eth0 down no-carrier", "-link eth0 up"},
		},
		codes412: []int{0, 7, 0, 0, 1, 7, 0, 1, 0, 1},
	},
	{
		name:   "check_link_status=false, own link down, nic and prefix",
		params: []string{v4, "nic=eth0", "cidr_netmask=24", "check_link_status=false"},
		steps:  linkLoss418("link down", linkDown418),
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
	},
	{
		name:   "check_link_status=false, peer down",
		params: []string{v4, "check_link_status=false"},
		steps:  linkLoss418("peer down", peerDown418),
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{"+link eth0 up no-carrier", "-link eth0 up"},
		},
	},
	// No connected route: findif fails, start 5 (4.12: 1).
	{
		name:   "start with own link down",
		params: []string{v4},
		setup:  []change418{linkDown418},
		want: facts418{
			codes: []int{1, 7, 5, 1, 7, 0, 0, 1},
			start: []string{},
			end:   []string{},
		},
		codes412: []int{1, 7, 1, 1, 7, 0, 0, 1},
	},
	// start adds the address (no brd: no route to copy it from) and sets the
	// link up, which stays up after stop.
	{
		name:   "start with own link down, nic and prefix",
		params: []string{v4, "nic=eth0", "cidr_netmask=24"},
		setup:  []change418{linkDown418},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 label eth0 lft forever/forever flags secondary,permanent", "+link eth0 up", "-link eth0 down no-carrier"},
			end:   []string{"+link eth0 up", "-link eth0 down no-carrier"},
		},
	},
	// start adds the address, then finds the link LOWERLAYERDOWN: exit 1,
	// the address left on the nic; monitor and probe 5 until stop.
	{
		name:   "start with peer down",
		params: []string{v4},
		// floatip refuses the link before it adds anything.
		deliberate: map[string][2]int{"start": {5, 1}, "monitor": {7, 5}, "probe after start": {7, 5}},
		ours:       &[2][]string{{}, {}},
		setup:      []change418{peerDown418},
		want: facts418{
			codes: []int{0, 7, 1, 5, 5, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
		codes412: []int{0, 7, 0, 0, 0, 0, 0, 7},
	},
	{
		name:   "start with peer down, nic and prefix",
		params: []string{v4, "nic=eth0", "cidr_netmask=24"},
		// floatip refuses the link before it adds anything.
		deliberate: map[string][2]int{"start": {5, 1}, "monitor": {7, 5}, "probe after start": {7, 5}},
		ours:       &[2][]string{{}, {}},
		setup:      []change418{peerDown418},
		want: facts418{
			codes: []int{0, 7, 1, 5, 5, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
		codes412: []int{0, 7, 0, 0, 0, 0, 0, 7},
	},
	{
		name:   "start with peer down, check_link_status=false",
		params: []string{v4, "check_link_status=false"},
		setup:  []change418{peerDown418},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
	},
	// findif failing at start is OCF_ERR_INSTALLED since 4.13 (4.12: 1).
	{
		name:   "outside every subnet",
		params: []string{"ip=198.19.5.5"},
		want: facts418{
			codes: []int{1, 7, 5, 1, 7, 0, 0, 1},
			start: []string{},
			end:   []string{},
		},
		codes412: []int{1, 7, 1, 1, 7, 0, 0, 1},
	},
	// 127/8 has no route in the main table; findif falls back to the local
	// table and finds lo and /8.
	{
		name:   "loopback",
		params: []string{"ip=127.0.0.3"},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+lo 127.0.0.3/8 label lo lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
	},
	{
		name:   "loopback, prefix 8",
		params: []string{"ip=127.0.0.3", "cidr_netmask=8"},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+lo 127.0.0.3/8 label lo lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
	},
	{
		name:   "loopback, nic lo",
		params: []string{"ip=127.0.0.3", "nic=lo"},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+lo 127.0.0.3/8 label lo lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
	},
	// lvs_ipv6_addrlabel defaults to true since 4.13: label 99 for the
	// address at start, removed at stop. start waits out DAD.
	{
		name:   "IPv6 default, with DAD",
		params: []string{v6},
		v6:     true,
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+addrlabel 2001:db8::100/128 label 99", "+eth0 2001:db8::100/64 lft forever/forever flags permanent metric 256"},
			end:   []string{},
		},
	},
	{
		name:   "IPv6 lvs_ipv6_addrlabel=false",
		params: []string{v6, "nodad=true", "lvs_ipv6_addrlabel=false"},
		v6:     true,
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 2001:db8::100/64 lft forever/forever flags nodad,permanent metric 256"},
			end:   []string{},
		},
	},
	{
		name:   "IPv6 lvs_ipv6_addrlabel_value=100",
		params: []string{v6, "nodad=true", "lvs_ipv6_addrlabel_value=100"},
		v6:     true,
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+addrlabel 2001:db8::100/128 label 100", "+eth0 2001:db8::100/64 lft forever/forever flags nodad,permanent metric 256"},
			end:   []string{},
		},
	},
	// Checked whenever the label is on, so by default now (4.12: ignored).
	{
		name:       "IPv6 lvs_ipv6_addrlabel_value not a number",
		params:     []string{v6, "nodad=true", "lvs_ipv6_addrlabel_value=abc"},
		v6:         true,
		deliberate: badStop,
		want: facts418{
			codes: []int{6, 6, 6, 6, 6, 6, 6, 6},
			start: []string{},
			end:   []string{},
		},
		codes412: []int{0, 7, 0, 0, 0, 0, 0, 7},
	},
	// No longer an error since 4.15.1 (4.12: 6 for every action).
	{
		name:   "lvs_ipv6_addrlabel on IPv4",
		params: []string{v4, "lvs_ipv6_addrlabel=true"},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
		codes412: []int{6, 6, 6, 6, 6, 6, 6, 6},
	},
	// findif greps the route for "dev uplink0", which ip never prints: it
	// fails without cidr_netmask.
	{
		name:   "nic by altname",
		params: []string{v4, "nic=uplink0"},
		// floatip finds the altname's link and its route.
		deliberate: map[string][2]int{"validate-all": {0, 1}, "start": {0, 5}, "monitor": {0, 1}, "probe after start": {0, 7}, "monitor after stop": {7, 1}},
		ours:       &[2][]string{{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"}, {}},
		setup:      []change418{altname418},
		want: facts418{
			codes: []int{1, 7, 5, 1, 7, 0, 0, 1},
			start: []string{},
			end:   []string{},
		},
		codes412: []int{1, 7, 1, 1, 7, 0, 0, 1},
	},
	// Served since 4.14 (find_interface lists the altnames); 4.12's monitor
	// says 7 and its stop leaves the address.
	{
		name:   "nic by altname, prefix",
		params: []string{v4, "nic=uplink0", "cidr_netmask=24"},
		// floatip finds the altname's route and copies its broadcast.
		ours:  &[2][]string{{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"}, {}},
		setup: []change418{altname418},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
		codes412: []int{0, 7, 0, 7, 7, 0, 0, 7},
	},
	// With an altname on the nic the link check runs "ip addr show eth0
	// uplink0", which fails, so check_link_status never sees the link down.
	{
		name:   "altname, peer down under the VIP",
		params: []string{v4},
		// floatip sees the link of an altnamed nic.
		deliberate: map[string][2]int{"monitor while down": {7, 0}, "probe while down": {7, 0}, "start while down": {5, 0}},
		setup:      []change418{altname418},
		steps:      linkLoss418("peer down", peerDown418),
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{"+link eth0 up no-carrier", "-link eth0 up"},
		},
	},
	// The address is there without label eth0:web (partial3): probe,
	// start and monitor 1; stop removes the address.
	{
		name:   "iflabel, address already there without it",
		params: []string{v4, "iflabel=web"},
		setup:  []change418{ipCmd418("addr", "add", vip+"/24", "dev", "eth0")},
		want: facts418{
			codes: []int{0, 1, 1, 1, 1, 0, 0, 7},
			start: []string{},
			end:   []string{"-eth0 198.18.0.100/24 label eth0 lft forever/forever flags secondary,permanent"},
		},
		codes412: []int{0, 0, 0, 0, 0, 0, 0, 7},
	},
	// ocf-shellfuncs writes a shell trace under HA_VARLIB/trace_ra.
	{
		name:   "trace_ra",
		params: []string{v4, "trace_ra=1"},
		traced: true,
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
	},
	{
		name:   "unknown parameter",
		params: []string{v4, "frobnicate=1"},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
	},
	// A parameter of upstream main after 4.18: ignored.
	{
		name:   "clusterip_hash_seed",
		params: []string{v4, "clusterip_hash_seed=x"},
		want: facts418{
			codes: []int{0, 7, 0, 0, 0, 0, 0, 7},
			start: []string{"+eth0 198.18.0.100/24 brd 198.18.0.255 label eth0 lft forever/forever flags secondary,permanent"},
			end:   []string{},
		},
	},
}

// agent418 is one of the three agents a case runs.
type agent418 struct {
	name string
	// runner makes the agent's runner for host h.
	runner func(t *testing.T, h *lab.Host) *agentRunner
	// env is extra environment for every action.
	env []string
}

// TestParity418 runs each case with floatip and Debian's heartbeat:IPaddr2
// 4.12, and with 4.18 when FLOATIP_IPADDR2_418 names it, each in a lab of
// its own: floatip must give 4.18's facts, and the live IPaddr2 runs must
// still give the recorded ones, so that the table stays true.
func TestParity418(t *testing.T) {
	if len(parity418Cases) < 28 {
		t.Fatalf("%d cases, the suite promises at least 28", len(parity418Cases))
	}
	agents := []agent418{
		{name: "floatip", runner: floatip},
		{name: "4.12", runner: heartbeat},
	}
	if a, ok := ipaddr418(t); ok {
		agents = append(agents, a)
	}
	record := os.Getenv("FLOATIP_PARITY418_RECORD") == "1"
	for _, c := range parity418Cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, a := range agents {
				t.Run(a.name, func(t *testing.T) {
					t.Parallel()
					got, reasons := run418(t, c, a)
					switch {
					case record:
						t.Logf("measured %s:\n\twant: facts418{codes: %#v,\n\tstart: %#v,\n\tend: %#v},\n\ttraced: %v\n\treasons: %q",
							c.name, got.codes, got.start, got.end, got.traced, reasons)
					case a.name == "4.12":
						want := c.codes412
						if want == nil {
							want = c.want.codes
						}
						compare418(t, c, "heartbeat:IPaddr2 4.12", facts418{codes: want}, facts418{codes: got.codes}, reasons)
					case a.name == "4.18":
						compare418(t, c, "heartbeat:IPaddr2 4.18", c.want, got.facts418, reasons)
					default:
						compare418(t, c, a.name, ours418(t, c), got.facts418, reasons)
					}
					switch {
					case a.name == "floatip":
						if got.traced != c.traced {
							// A shell trace has no Go equivalent:
							// shown, not required.
							t.Logf("floatip wrote a trace under HA_VARLIB/trace_ra: %v, IPaddr2 %v", got.traced, c.traced)
						}
					case !record && got.traced != c.traced:
						t.Errorf("IPaddr2 %s wrote a trace under HA_VARLIB/trace_ra: %v, the facts say %v", a.name, got.traced, c.traced)
					}
				})
			}
		})
	}
}

// ipaddr418 is heartbeat:IPaddr2 4.18 as an agent, when
// FLOATIP_IPADDR2_418 names the directory that holds it.
func ipaddr418(t *testing.T) (agent418, bool) {
	t.Helper()
	dir := os.Getenv("FLOATIP_IPADDR2_418")
	if dir == "" {
		return agent418{}, false
	}
	path := filepath.Join(dir, "IPaddr2")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("FLOATIP_IPADDR2_418: %v", err)
	}
	return agent418{
		name: "4.18",
		runner: func(t *testing.T, h *lab.Host) *agentRunner {
			return &agentRunner{t: t, host: h, path: path, rsctmp: t.TempDir()}
		},
		env: []string{"OCF_FUNCTIONS_DIR=" + filepath.Join(dir, "lib")},
	}, true
}

// ours418 is what floatip must do in case c: 4.18's facts, with the
// deliberate differences put in.
func ours418(t *testing.T, c case418) facts418 {
	t.Helper()
	want := c.want
	want.codes = slices.Clone(want.codes)
	i := 0
	for _, s := range steps418(c) {
		if s.hook != nil {
			continue
		}
		if d, ok := c.deliberate[s.name]; ok {
			if want.codes[i] != d[1] {
				t.Errorf("%s: the facts say 4.18 exits %d, the pinned difference says %d", s.name, want.codes[i], d[1])
			}
			want.codes[i] = d[0]
		}
		i++
	}
	if c.ours != nil {
		want.start, want.end = c.ours[0], c.ours[1]
	}
	return want
}

// steps418 is the step list of case c.
func steps418(c case418) []step418 {
	if c.steps == nil {
		return steps418Default
	}
	return c.steps
}

// compare418 fails t for each difference between what agent did (got) and
// the facts (want); a nil summary in want is not compared.
func compare418(t *testing.T, c case418, agent string, want, got facts418, reasons [][]string) {
	t.Helper()
	i := 0
	for _, s := range steps418(c) {
		if s.hook != nil {
			continue
		}
		switch {
		case i >= len(want.codes) || i >= len(got.codes):
			t.Errorf("%s: no code to compare (facts %v, %s %v)", s.name, want.codes, agent, got.codes)
		case got.codes[i] != want.codes[i]:
			t.Errorf("%s: %s exited %d, want %d (exit reasons %q)", s.name, agent, got.codes[i], want.codes[i], reasons[i])
		}
		i++
	}
	for _, sum := range []struct {
		when      string
		want, got []string
	}{{"after start", want.start, got.start}, {"at the end", want.end, got.end}} {
		if sum.want != nil && !slices.Equal(sum.want, sum.got) {
			t.Errorf("links, addresses and labels %s:\n%s:\n\t%s\nwant (4.18):\n\t%s", sum.when, agent,
				lines418(sum.got), lines418(sum.want))
		}
	}
}

// lines418 shows a summary one line each, "(no change)" when empty.
func lines418(sum []string) string {
	if len(sum) == 0 {
		return "(no change)"
	}
	return strings.Join(sum, "\n\t")
}

// run418out is what run418 measured.
type run418out struct {
	facts418
	traced bool
}

// run418 runs a case's steps with one agent in a fresh lab and returns the
// facts, with the exit reasons of each action step.
func run418(t *testing.T, c case418, a agent418) (run418out, [][]string) {
	t.Helper()
	spec := lab.HostSpec{Name: "a", Addr: hostA.Addr}
	if c.v6 {
		spec = hostA6
	}
	l := newLab(t, spec)
	h := l.Host("a")
	for _, f := range c.setup {
		f(t, l, h)
	}
	varlib := t.TempDir()
	params := append(slices.Clone(c.params), "HA_VARLIB="+varlib)
	params = append(params, a.env...)
	r := a.runner(t, h)
	base := summary418(t, h, nil)
	var out run418out
	var reasons [][]string
	started := false
	for _, s := range steps418(c) {
		if s.hook != nil {
			s.hook(t, l, h)
			continue
		}
		res := r.run(s.action, append(slices.Clone(params), s.env...)...)
		out.codes = append(out.codes, res.Code)
		var why []string
		for _, line := range strings.Split(res.Stderr, "\n") {
			if r, ok := strings.CutPrefix(line, "ocf-exit-reason:"); ok {
				why = append(why, r)
			}
		}
		reasons = append(reasons, why)
		if s.action == "start" && !started {
			started = true
			out.start = summary418(t, h, base)
		}
	}
	out.end = summary418(t, h, base)
	if out.start == nil {
		out.start = []string{}
	}
	if entries, err := os.ReadDir(filepath.Join(varlib, "trace_ra")); err == nil && len(entries) > 0 {
		out.traced = true
	}
	return out, reasons
}

// summary418 describes the state of every link of host a (admin up or
// down, carrier), every address (link-local ones left out) and every IPv6
// address label of its namespace, one line each: with base nil, all of them; otherwise what differs from base, "+"
// for a line that is new and "-" for one that is gone. An address line has
// the link, prefix, broadcast, label, lifetimes (preferred/valid), flags
// and route metric (IFA_RT_PRIORITY), so that a VIP added with another
// prefix route metric, or left behind by a failed start, shows.
func summary418(t *testing.T, h *lab.Host, base []string) []string {
	t.Helper()
	lines, err := addrLines418(h)
	if err != nil {
		t.Fatal(err)
	}
	labels, err := labelLines418(h)
	if err != nil {
		t.Fatal(err)
	}
	lines = append(lines, labels...)
	slices.Sort(lines)
	if base == nil {
		return lines
	}
	out := []string{}
	for _, l := range lines {
		if !slices.Contains(base, l) {
			out = append(out, "+"+l)
		}
	}
	for _, l := range base {
		if !slices.Contains(lines, l) {
			out = append(out, "-"+l)
		}
	}
	return out
}

// ifaFlags names the address flags of if_addr.h.
var ifaFlags = []struct {
	bit  uint32
	name string
}{
	{0x01, "secondary"}, {0x02, "nodad"}, {0x04, "optimistic"}, {0x08, "dadfailed"},
	{0x10, "homeaddress"}, {0x20, "deprecated"}, {0x40, "tentative"}, {0x80, "permanent"},
	{0x100, "managetempaddr"}, {0x200, "noprefixroute"}, {0x400, "mcautojoin"}, {0x800, "stable-privacy"},
}

// addrLines418 describes the host's links, and its addresses as dumped
// with RTM_GETADDR: the netlink library in go.mod does not read
// IFA_RT_PRIORITY.
func addrLines418(h *lab.Host) ([]string, error) {
	nh, err := h.Handle()
	if err != nil {
		return nil, err
	}
	links, err := nh.LinkList()
	nh.Close()
	if err != nil {
		return nil, err
	}
	names := map[uint32]string{}
	var out []string
	for _, l := range links {
		a := l.Attrs()
		names[uint32(a.Index)] = a.Name
		state := "down"
		if a.RawFlags&unix.IFF_UP != 0 {
			state = "up"
		}
		if a.RawFlags&unix.IFF_LOWER_UP == 0 {
			state += " no-carrier"
		}
		out = append(out, fmt.Sprintf("link %s %s", a.Name, state))
	}
	msgs, err := netlinkDump418(h, unix.RTM_GETADDR, unix.SizeofIfAddrmsg)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if len(m) < unix.SizeofIfAddrmsg {
			continue
		}
		family, plen, flags := m[0], m[1], uint32(m[2])
		index := endian.NativeEndian.Uint32(m[4:8])
		attrs := rtAttrs418(m[unix.SizeofIfAddrmsg:])
		raw := attrs[unix.IFA_LOCAL]
		if raw == nil {
			raw = attrs[unix.IFA_ADDRESS]
		}
		ip, ok := netip.AddrFromSlice(raw)
		if !ok || ip.IsLinkLocalUnicast() || (family != unix.AF_INET && family != unix.AF_INET6) {
			continue
		}
		if f := attrs[unix.IFA_FLAGS]; len(f) == 4 {
			flags = endian.NativeEndian.Uint32(f)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s/%d", names[index], ip, plen)
		if brd := attrs[unix.IFA_BROADCAST]; brd != nil {
			a, _ := netip.AddrFromSlice(brd)
			fmt.Fprintf(&b, " brd %s", a)
		}
		if lbl := attrs[unix.IFA_LABEL]; lbl != nil {
			fmt.Fprintf(&b, " label %s", strings.TrimRight(string(lbl), "\x00"))
		}
		if ci := attrs[unix.IFA_CACHEINFO]; len(ci) >= 8 {
			fmt.Fprintf(&b, " lft %s/%s", lifetime418(endian.NativeEndian.Uint32(ci[0:4])), lifetime418(endian.NativeEndian.Uint32(ci[4:8])))
		}
		var set []string
		for _, f := range ifaFlags {
			if flags&f.bit != 0 {
				set = append(set, f.name)
			}
		}
		fmt.Fprintf(&b, " flags %s", strings.Join(set, ","))
		if p := attrs[unix.IFA_RT_PRIORITY]; len(p) == 4 {
			fmt.Fprintf(&b, " metric %d", endian.NativeEndian.Uint32(p))
		}
		out = append(out, b.String())
	}
	return out, nil
}

// lifetime418 shows an address lifetime as ip does.
func lifetime418(s uint32) string {
	if s == 0xffffffff {
		return "forever"
	}
	return fmt.Sprint(s)
}

// labelLines418 dumps the namespace's IPv6 address label table with
// RTM_GETADDRLABEL: "addrlabel <prefix> label <n>", with the link index
// when the entry has one.
func labelLines418(h *lab.Host) ([]string, error) {
	const sizeofIfaddrlblmsg = 12
	msgs, err := netlinkDump418(h, unix.RTM_GETADDRLABEL, sizeofIfaddrlblmsg)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range msgs {
		if len(m) < sizeofIfaddrlblmsg {
			continue
		}
		plen, index := m[2], endian.NativeEndian.Uint32(m[4:8])
		attrs := rtAttrs418(m[sizeofIfaddrlblmsg:])
		ip, _ := netip.AddrFromSlice(attrs[1]) // IFAL_ADDRESS
		line := fmt.Sprintf("addrlabel %s/%d", ip, plen)
		if index != 0 {
			line += fmt.Sprintf(" ifindex %d", index)
		}
		if l := attrs[2]; len(l) == 4 { // IFAL_LABEL
			line += fmt.Sprintf(" label %d", endian.NativeEndian.Uint32(l))
		}
		out = append(out, line)
	}
	return out, nil
}

// netlinkDump418 sends a dump request of type typ, whose family header is
// hdrLen bytes starting with the family byte, from a NETLINK_ROUTE socket
// in the host's namespace, and returns the payload of each answer.
func netlinkDump418(h *lab.Host, typ uint16, hdrLen int) ([][]byte, error) {
	fd, err := h.Socket(unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	tv := unix.Timeval{Sec: 5}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	req := make([]byte, unix.NLMSG_HDRLEN+hdrLen)
	endian.NativeEndian.PutUint32(req[0:4], uint32(len(req)))
	endian.NativeEndian.PutUint16(req[4:6], typ)
	endian.NativeEndian.PutUint16(req[6:8], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	endian.NativeEndian.PutUint32(req[8:12], 1)
	if typ == unix.RTM_GETADDRLABEL {
		req[unix.NLMSG_HDRLEN] = unix.AF_INET6
	}
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	var out [][]byte
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("netlink dump %d in %s: %w", typ, h.NS, err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if e := int32(endian.NativeEndian.Uint32(m.Data[:4])); e != 0 {
						return nil, fmt.Errorf("netlink dump %d in %s: %w", typ, h.NS, unix.Errno(-e))
					}
				}
				return out, nil
			default:
				out = append(out, m.Data)
			}
		}
	}
}

// rtAttrs418 splits netlink attributes by type (the last of a type wins).
func rtAttrs418(b []byte) map[uint16][]byte {
	out := map[uint16][]byte{}
	for len(b) >= 4 {
		l := int(endian.NativeEndian.Uint16(b[0:2]))
		if l < 4 || l > len(b) {
			break
		}
		out[endian.NativeEndian.Uint16(b[2:4])&0x3fff] = b[4:l]
		l = (l + 3) &^ 3
		if l > len(b) {
			break
		}
		b = b[l:]
	}
	return out
}
