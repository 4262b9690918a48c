package parity

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// The facts of resource-agents' own ocft suites for IPaddr2, as observed
// running them at tag v4.18.0 (the IPaddr2, IPaddr2v4 and IPaddr2v6 suites)
// and as Debian 13 packages them with resource-agents 4.16 (the IPaddr2
// suite, which expects 6 where v4.18.0's expects 5), with ocft itself,
// side by side against heartbeat:IPaddr2 4.18.0 and floatip, in network
// namespaces with the suites' addresses moved to 198.18.0.0/15 and
// 2001:db8::/32 (docs/compatibility.md, "Upstream's ocft suites").
//
// Each case below stands for one or more of the suites' cases (from), told
// in this lab's own addresses and values: host a's eth0 holds the lab
// address (198.18.0.1/24, or 2001:db8::1/64 alone for IPv6) unless noBase
// takes it away, and a's eth1 is up without any address, as in the suites'
// labs. want is what 4.18 answered; floatip must answer it too, and 4.12
// the same unless older says otherwise. Where upstream's suite expects
// another code than 4.18 gives, suite says so: the suite is wrong for
// 4.18 there.
//
// ocft runs a suite's cases one after the other in one lab, and a case
// that fails stops before its last lines put the lab address back, so
// that the cases after it fail too; the cases here each get a lab of
// their own, as each of the suites' cases expects.

// ocftStep is one action of a case, after the case's parameters.
type ocftStep struct {
	action string
	// env is extra environment for this action alone.
	env []string
	// want is 4.18's exit code.
	want int
	// on, when set, is where the VIP is after the action: "<label>
	// <address>/<prefix>" (the label is the nic for IPv6), "-" for
	// nowhere. The suites check the same with ip and grep.
	on string
}

// ocftCase is one lab situation of the suites with its actions.
type ocftCase struct {
	name string
	// from names the suites' cases it stands for, "<suite> #<n>" with
	// the case's number as ocft counts them (from 0).
	from []string
	// v6 builds host a with 2001:db8::1/64 and no IPv4 address.
	v6 bool
	// noBase removes host a's own address before the first action, so
	// that no route covers the VIP.
	noBase bool
	params []string
	steps  []ocftStep
	// older is 4.12's answer where 4.18 answers otherwise: step index ->
	// code.
	older map[int]int
	// suite is what upstream's suite at v4.18.0 expects where 4.18
	// itself answers otherwise, so that the suite fails with 4.18 (and
	// with floatip): step index -> code. Mostly 4.12's answer, kept from
	// before 4.17.
	suite map[int]int
}

const (
	ocftOutside   = "ip=198.18.7.100"
	ocftOutside6  = "ip=2001:db8:1::100"
	ocftLinkLocal = "ip=fe80::100"
)

var (
	ocftA  = lab.HostSpec{Name: "a", Addr: labtest.HostA.Addr}
	ocftA6 = lab.HostSpec{Name: "a", Addr6: netip.MustParsePrefix("2001:db8::1/64")}
)

// The suites' usual VIP placements.
const (
	onEth0   = "eth0 198.18.0.100/24"
	onEth0v6 = "eth0 2001:db8::100/64"
	nowhere  = "-"
)

// findif finding no route for the address at start: 5 since 4.17, 4.12's
// 1, which the suites still expect.
var ocftFindif = map[int]int{0: 1}

var ocftCases = []ocftCase{
	// The IPaddr2 suite: the basic parameters, one start each.
	{name: "ip alone", from: []string{"IPaddr2 #0", "IPaddr2 #9", "v4 #0"}, params: []string{labtest.V4},
		steps: []ocftStep{{action: "start", want: 0, on: onEth0}}},
	{name: "no ip", from: []string{"IPaddr2 #1"},
		steps: []ocftStep{{action: "start", want: 6}}},
	// The v4.18.0 suite expects 5 for the four refused values, Debian
	// 13's 4.16 suite 6 (4.12's answer).
	{name: "ip not an address", from: []string{"IPaddr2 #2"}, params: []string{"ip=nowhere.invalid"},
		steps: []ocftStep{{action: "start", want: 5, on: nowhere}}, older: map[int]int{0: 6}},
	{name: "prefix given", from: []string{"IPaddr2 #3", "v4 #13"}, params: []string{labtest.V4, "cidr_netmask=24"},
		steps: []ocftStep{{action: "start", want: 0, on: onEth0}, {action: "monitor", want: 0}, {action: "stop", want: 0, on: nowhere}}},
	{name: "prefix not a number", from: []string{"IPaddr2 #4"}, params: []string{labtest.V4, "cidr_netmask=wide"},
		steps: []ocftStep{{action: "start", want: 5, on: nowhere}}, older: map[int]int{0: 6}},
	{name: "broadcast given", from: []string{"IPaddr2 #5"}, params: []string{labtest.V4, "broadcast=198.18.0.255"},
		steps: []ocftStep{{action: "start", want: 0, on: onEth0}}},
	{name: "broadcast not an address", from: []string{"IPaddr2 #6"}, params: []string{labtest.V4, "broadcast=everyone"},
		steps: []ocftStep{{action: "start", want: 5, on: nowhere}}, older: map[int]int{0: 6}},
	{name: "nic given", from: []string{"IPaddr2 #7", "v4 #6"}, params: []string{labtest.V4, "nic=eth0"},
		steps: []ocftStep{{action: "start", want: 0, on: onEth0}, {action: "monitor", want: 0}, {action: "stop", want: 0, on: nowhere}}},
	// validate-all still says 6 for the nic that is not there.
	{name: "nic not there", from: []string{"IPaddr2 #8"}, params: []string{labtest.V4, "nic=nosuchnic0"},
		steps: []ocftStep{{action: "start", want: 5, on: nowhere}, {action: "validate-all", want: 6}}, older: map[int]int{0: 6}},
	{name: "start, stop", from: []string{"IPaddr2 #10", "v4 #1"}, params: []string{labtest.V4},
		steps: []ocftStep{{action: "start", want: 0}, {action: "stop", want: 0, on: nowhere}}},
	{name: "start twice", from: []string{"IPaddr2 #11", "v4 #2"}, params: []string{labtest.V4},
		steps: []ocftStep{{action: "start", want: 0}, {action: "start", want: 0, on: onEth0}}},
	{name: "stop when stopped", from: []string{"IPaddr2 #12", "v4 #3"}, params: []string{labtest.V4},
		steps: []ocftStep{{action: "stop", want: 0}}},
	{name: "monitor running", from: []string{"IPaddr2 #13", "v4 #4"}, params: []string{labtest.V4},
		steps: []ocftStep{{action: "start", want: 0}, {action: "monitor", want: 0}}},
	{name: "monitor stopped", from: []string{"IPaddr2 #14", "v4 #5"}, params: []string{labtest.V4},
		steps: []ocftStep{{action: "monitor", want: 7}}},
	{name: "unknown action", from: []string{"IPaddr2 #15"}, params: []string{labtest.V4},
		steps: []ocftStep{{action: "frobnicate", want: 3}}},
	{name: "loopback", from: []string{"IPaddr2 #16"}, params: []string{"ip=127.0.0.3"},
		steps: []ocftStep{{action: "start", want: 0, on: "lo 127.0.0.3/8"}, {action: "monitor", want: 0}, {action: "stop", want: 0, on: nowhere}}},
	{name: "iflabel", from: []string{"IPaddr2 #17"}, params: []string{labtest.V4, "nic=eth0", "iflabel=front"},
		steps: []ocftStep{{action: "start", want: 0, on: "eth0:front 198.18.0.100/24"}, {action: "stop", want: 0, on: nowhere}}},
	{name: "label in nic", from: []string{"IPaddr2 #18"}, params: []string{labtest.V4, "nic=eth0:front"},
		steps: []ocftStep{{action: "start", want: 0, on: "eth0:front 198.18.0.100/24"}, {action: "stop", want: 0, on: nowhere}}},
	// A recurring monitor of a nic that has gone is a failure, not a
	// configuration error (since 3.9.6).
	{name: "recurring monitor, nic gone", from: []string{"IPaddr2 #19"}, params: []string{labtest.V4, "nic=gone0"},
		steps: []ocftStep{{action: "monitor", env: []string{"OCF_RESKEY_CRM_meta_interval=10000"}, want: 1}}},

	// The IPv4 suite: nic, cidr_netmask and broadcast forced or left to
	// findif, with and without a route.
	{name: "nic and prefix", from: []string{"v4 #7"}, params: []string{labtest.V4, "nic=eth0", "cidr_netmask=24"},
		steps: []ocftStep{{action: "start", want: 0, on: onEth0}, {action: "monitor", want: 0}, {action: "stop", want: 0, on: nowhere}}},
	{name: "outside every route", from: []string{"v4 #8"}, params: []string{ocftOutside},
		steps: []ocftStep{{action: "start", want: 5}}, older: ocftFindif, suite: ocftFindif},
	{name: "routeless nic, no prefix", from: []string{"v4 #9"}, params: []string{labtest.V4, "nic=eth1"},
		steps: []ocftStep{{action: "start", want: 5, on: nowhere}}, older: ocftFindif, suite: ocftFindif},
	{name: "prefix wider than the route", from: []string{"v4 #10"}, params: []string{labtest.V4, "cidr_netmask=16"},
		steps: []ocftStep{{action: "start", want: 5, on: nowhere}}, older: ocftFindif, suite: ocftFindif},
	{name: "routeless nic, wider prefix", from: []string{"v4 #11"}, params: []string{labtest.V4, "nic=eth1", "cidr_netmask=16"},
		steps: []ocftStep{{action: "start", want: 0, on: "eth1 198.18.0.100/16"}, {action: "stop", want: 0, on: nowhere}}},
	{name: "no route, nic", from: []string{"v4 #12"}, noBase: true, params: []string{labtest.V4, "nic=eth0"},
		steps: []ocftStep{{action: "start", want: 5, on: nowhere}}, older: ocftFindif, suite: ocftFindif},
	{name: "narrower prefix", from: []string{"v4 #14"}, params: []string{labtest.V4, "cidr_netmask=28"},
		steps: []ocftStep{{action: "start", want: 0, on: "eth0 198.18.0.100/28"}, {action: "monitor", want: 0}, {action: "stop", want: 0, on: nowhere}}},
	{name: "no route, prefix", from: []string{"v4 #15"}, noBase: true, params: []string{labtest.V4, "cidr_netmask=24"},
		steps: []ocftStep{{action: "start", want: 5, on: nowhere}}, older: ocftFindif, suite: ocftFindif},
	{name: "routeless nic, narrower prefix", from: []string{"v4 #16"}, params: []string{labtest.V4, "nic=eth1", "cidr_netmask=28"},
		steps: []ocftStep{{action: "start", want: 0, on: "eth1 198.18.0.100/28"}, {action: "stop", want: 0, on: nowhere}}},
	{name: "no route, routeless nic, narrower prefix", from: []string{"v4 #17"}, noBase: true, params: []string{labtest.V4, "nic=eth1", "cidr_netmask=28"},
		steps: []ocftStep{{action: "start", want: 0, on: "eth1 198.18.0.100/28"}, {action: "stop", want: 0, on: nowhere}}},
	{name: "wider broadcast alone", from: []string{"v4 #18"}, params: []string{labtest.V4, "broadcast=198.18.255.255"},
		steps: []ocftStep{{action: "start", want: 0, on: onEth0}, {action: "monitor", want: 0}, {action: "stop", want: 0, on: nowhere}}},
	{name: "no route, broadcast alone", from: []string{"v4 #19"}, noBase: true, params: []string{labtest.V4, "broadcast=198.18.255.255"},
		steps: []ocftStep{{action: "start", want: 5, on: nowhere}}, older: ocftFindif, suite: ocftFindif},
	{name: "routeless nic, wider prefix and broadcast", from: []string{"v4 #20"}, params: []string{labtest.V4, "nic=eth1", "cidr_netmask=16", "broadcast=198.18.255.255"},
		steps: []ocftStep{{action: "start", want: 0, on: "eth1 198.18.0.100/16"}, {action: "monitor", want: 0}, {action: "stop", want: 0, on: nowhere}}},
	{name: "no route, routeless nic, narrower prefix and broadcast", from: []string{"v4 #21"}, noBase: true, params: []string{labtest.V4, "nic=eth1", "cidr_netmask=28", "broadcast=198.18.0.255"},
		steps: []ocftStep{{action: "start", want: 0, on: "eth1 198.18.0.100/28"}, {action: "monitor", want: 0}, {action: "stop", want: 0, on: nowhere}}},

	// The IPv6 suite.
	{name: "IPv6 ip alone", from: []string{"v6 #0"}, v6: true, params: []string{labtest.V6},
		steps: []ocftStep{{action: "start", want: 0, on: onEth0v6}}},
	{name: "IPv6 start, stop", from: []string{"v6 #1"}, v6: true, params: []string{labtest.V6},
		steps: []ocftStep{{action: "start", want: 0}, {action: "stop", want: 0, on: nowhere}}},
	{name: "IPv6 start twice", from: []string{"v6 #2"}, v6: true, params: []string{labtest.V6},
		steps: []ocftStep{{action: "start", want: 0}, {action: "start", want: 0, on: onEth0v6}}},
	{name: "IPv6 stop when stopped", from: []string{"v6 #3"}, v6: true, params: []string{labtest.V6},
		steps: []ocftStep{{action: "stop", want: 0}}},
	{name: "IPv6 monitor running", from: []string{"v6 #4"}, v6: true, params: []string{labtest.V6},
		steps: []ocftStep{{action: "start", want: 0}, {action: "monitor", want: 0}}},
	{name: "IPv6 monitor stopped", from: []string{"v6 #5"}, v6: true, params: []string{labtest.V6},
		steps: []ocftStep{{action: "monitor", want: 7}}},
	{name: "IPv6 outside every route", from: []string{"v6 #6"}, v6: true, params: []string{ocftOutside6},
		steps: []ocftStep{{action: "start", want: 5}}, older: ocftFindif, suite: ocftFindif},
	// A link-local address needs a nic: 4.12 says 6.
	{name: "IPv6 link-local, no nic", from: []string{"v6 #7"}, v6: true, params: []string{ocftLinkLocal},
		steps: []ocftStep{{action: "start", want: 5, on: nowhere}}, older: map[int]int{0: 6}, suite: map[int]int{0: 6}},
	{name: "IPv6 nic", from: []string{"v6 #8"}, v6: true, params: []string{labtest.V6, "nic=eth0"},
		steps: []ocftStep{{action: "start", want: 0, on: onEth0v6}, {action: "monitor", want: 0}, {action: "stop", want: 0, on: nowhere}}},
	{name: "IPv6 link-local, nic", from: []string{"v6 #9"}, v6: true, params: []string{ocftLinkLocal, "nic=eth0"},
		steps: []ocftStep{{action: "start", want: 0, on: "eth0 fe80::100/64"}, {action: "stop", want: 0, on: nowhere}}},
	{name: "IPv6 no route, nic", from: []string{"v6 #10"}, v6: true, noBase: true, params: []string{labtest.V6, "nic=eth0"},
		steps: []ocftStep{{action: "start", want: 5, on: nowhere}}, older: ocftFindif, suite: ocftFindif},
	{name: "IPv6 routeless nic, no prefix", from: []string{"v6 #11"}, v6: true, params: []string{labtest.V6, "nic=eth1"},
		steps: []ocftStep{{action: "start", want: 5, on: nowhere}}, older: ocftFindif, suite: ocftFindif},
	{name: "IPv6 prefix given", from: []string{"v6 #12"}, v6: true, params: []string{labtest.V6, "cidr_netmask=64"},
		steps: []ocftStep{{action: "start", want: 0, on: onEth0v6}, {action: "stop", want: 0, on: nowhere}}},
	// The suite expects 1, but 4.12 and 4.18 both take the prefix.
	{name: "IPv6 narrower prefix", from: []string{"v6 #13"}, v6: true, params: []string{labtest.V6, "cidr_netmask=80"},
		steps: []ocftStep{{action: "start", want: 0, on: "eth0 2001:db8::100/80"}}, suite: map[int]int{0: 1}},
	{name: "IPv6 wider prefix", from: []string{"v6 #14"}, v6: true, params: []string{labtest.V6, "cidr_netmask=48"},
		steps: []ocftStep{{action: "start", want: 5, on: nowhere}}, older: ocftFindif, suite: ocftFindif},
	{name: "IPv6 no route, prefix", from: []string{"v6 #15"}, v6: true, noBase: true, params: []string{labtest.V6, "cidr_netmask=64"},
		steps: []ocftStep{{action: "start", want: 5, on: nowhere}}, older: ocftFindif, suite: ocftFindif},
	{name: "IPv6 nic and prefix", from: []string{"v6 #16"}, v6: true, params: []string{labtest.V6, "nic=eth0", "cidr_netmask=64"},
		steps: []ocftStep{{action: "start", want: 0, on: onEth0v6}, {action: "stop", want: 0, on: nowhere}}},
	{name: "IPv6 routeless nic, narrower prefix", from: []string{"v6 #17"}, v6: true, params: []string{labtest.V6, "nic=eth1", "cidr_netmask=80"},
		steps: []ocftStep{{action: "start", want: 0, on: "eth1 2001:db8::100/80"}, {action: "stop", want: 0, on: nowhere}}},
	{name: "IPv6 routeless nic, wider prefix", from: []string{"v6 #18"}, v6: true, params: []string{labtest.V6, "nic=eth1", "cidr_netmask=48"},
		steps: []ocftStep{{action: "start", want: 0, on: "eth1 2001:db8::100/48"}, {action: "stop", want: 0, on: nowhere}}},
	{name: "IPv6 no route, routeless nic, wider prefix", from: []string{"v6 #19"}, v6: true, noBase: true, params: []string{labtest.V6, "nic=eth1", "cidr_netmask=48"},
		steps: []ocftStep{{action: "start", want: 0, on: "eth1 2001:db8::100/48"}, {action: "stop", want: 0, on: nowhere}}},
}

// ocftSuites is how many cases each suite has at v4.18.0 (Debian 13's
// IPaddr2 suite has the same 20), and how many of them 4.18 passed, each
// case in a lab of its own (docs/compatibility.md's table): the table
// must stand for every case, and say the same count.
var ocftSuites = map[string][2]int{"IPaddr2": {20, 20}, "v4": {22, 16}, "v6": {20, 13}}

// TestParityOCFTCoversTheSuites checks that every case of the suites has
// its place in ocftCases, once, and that the cases where a suite is wrong
// for 4.18 are the ones counted.
func TestParityOCFTCoversTheSuites(t *testing.T) {
	seen := map[string]string{}
	passed := map[string]int{}
	for _, c := range ocftCases {
		for _, f := range c.from {
			if prev, ok := seen[f]; ok {
				t.Errorf("%s stands in both %q and %q", f, prev, c.name)
			}
			seen[f] = c.name
			if len(c.suite) == 0 {
				passed[strings.Fields(f)[0]]++
			}
		}
	}
	for suite, n := range ocftSuites {
		for i := range n[0] {
			f := fmt.Sprintf("%s #%d", suite, i)
			if seen[f] == "" {
				t.Errorf("no case stands for %s", f)
			}
			delete(seen, f)
		}
		if passed[suite] != n[1] {
			t.Errorf("the %s suite: 4.18 passes %d cases of the table, %d were counted", suite, passed[suite], n[1])
		}
	}
	for f := range seen {
		t.Errorf("%s is no case of the suites", f)
	}
}

// TestParityOCFT runs each case with floatip and Debian's heartbeat:IPaddr2
// 4.12, and with 4.18 when FLOATIP_IPADDR2_UPSTREAM names it (see
// TestParityUpstream), each in a lab of its own: floatip and 4.18 must give
// 4.18's codes and placements, 4.12 the older suites' codes.
func TestParityOCFT(t *testing.T) {
	agents := []parityAgent{
		{name: "floatip", runner: labtest.Floatip},
		{name: "4.12", runner: labtest.Heartbeat},
	}
	if a, ok := upstreamAgent(t, "4.18"); ok {
		agents = append(agents, a)
	}
	for _, c := range ocftCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, a := range agents {
				t.Run(a.name, func(t *testing.T) {
					t.Parallel()
					runOCFT(t, c, a)
				})
			}
		})
	}
}

// runOCFT runs case c with agent a in a lab of its own and checks it.
func runOCFT(t *testing.T, c ocftCase, a parityAgent) {
	spec := ocftA
	if c.v6 {
		spec = ocftA6
	}
	l := labtest.NewLab(t, spec)
	h := l.Host("a")
	for _, args := range [][]string{
		{"link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"},
		{"link", "set", "eth1p", "up"},
		{"link", "set", "eth1", "up"},
	} {
		if err := h.IP(args...); err != nil {
			t.Fatal(err)
		}
	}
	if c.noBase {
		own := h.Addr
		if c.v6 {
			own = h.Addr6
		}
		if err := h.IP("addr", "del", own.String(), "dev", "eth0"); err != nil {
			t.Fatal(err)
		}
	}
	r := a.runner(t, h)
	vip := ""
	for _, p := range c.params {
		if v, ok := strings.CutPrefix(p, "ip="); ok {
			vip = v
		}
	}
	for i, s := range c.steps {
		env := slices.Concat(c.params, a.env, s.env)
		res := r.Run(s.action, env...)
		want := s.want
		if code, ok := c.older[i]; ok && a.name == "4.12" {
			want = code
		}
		if res.Code != want {
			t.Errorf("step %d, %s: %s exited %d, want %d\nstderr: %s", i, s.action, a.name, res.Code, want, res.Stderr)
		}
		if s.on == "" || a.name == "4.12" || vip == "" {
			continue
		}
		got, err := ocftWhere(h, vip)
		if err != nil {
			t.Fatal(err)
		}
		if got != s.on {
			t.Errorf("step %d, %s: after %s the VIP is at %q, want %q", i, s.action, a.name, got, s.on)
		}
	}
}

// ocftWhere says where address ip is in host h: "<label> <ip>/<prefix>"
// for each place (the label is the nic for IPv6), "-" for nowhere.
func ocftWhere(h *lab.Host, ip string) (string, error) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		// A value that is no address is nowhere.
		return nowhere, nil
	}
	nh, err := h.Handle()
	if err != nil {
		return "", err
	}
	defer nh.Close()
	family := netlink.FAMILY_V4
	if addr.Is6() {
		family = netlink.FAMILY_V6
	}
	addrs, err := nh.AddrList(nil, family)
	if err != nil {
		return "", fmt.Errorf("list addresses: %w", err)
	}
	var at []string
	for _, x := range addrs {
		a, ok := netip.AddrFromSlice(x.IP)
		if !ok || a.Unmap() != addr {
			continue
		}
		label := x.Label
		if label == "" {
			link, err := nh.LinkByIndex(x.LinkIndex)
			if err != nil {
				return "", fmt.Errorf("find link %d: %w", x.LinkIndex, err)
			}
			label = link.Attrs().Name
		}
		ones, _ := x.Mask.Size()
		at = append(at, fmt.Sprintf("%s %s/%d", label, ip, ones))
	}
	if len(at) == 0 {
		return nowhere, nil
	}
	return strings.Join(at, ", "), nil
}
