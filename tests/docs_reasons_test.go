package tests

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
	"golang.org/x/sys/unix"
)

// This file is TestDocs's check of the guide's exit reasons against the
// binary (docs_test.go has the rest of TestDocs).

// reasonRow is a row of the guide's table of exit reasons: the exit codes
// it names and the reason, with <...> for values.
type reasonRow struct {
	exit, reason string
}

// reasonRows reads the table under "## Exit reasons".
func reasonRows(t *testing.T) []reasonRow {
	t.Helper()
	var rows []reasonRow
	in := false
	for _, l := range prose(t, labtest.ReasonsPage) {
		switch {
		case strings.HasPrefix(l, "## "):
			in = l == "## Exit reasons"
		case in && strings.HasPrefix(l, "|"):
			cells := strings.Split(l, "|")
			if len(cells) < 4 || strings.HasPrefix(cells[1], "---") || strings.TrimSpace(cells[1]) == "exit" {
				continue
			}
			m := backquoted.FindStringSubmatch(cells[2])
			if m == nil {
				t.Errorf("%s: row without a reason in backquotes: %s", labtest.ReasonsPage, l)
				continue
			}
			rows = append(rows, reasonRow{exit: cells[1], reason: m[1]})
		}
	}
	if len(rows) < 10 {
		t.Fatalf("%s: found %d rows in the table of exit reasons", labtest.ReasonsPage, len(rows))
	}
	return rows
}

var placeholder = regexp.MustCompile(`<[^<>]+>`)

// reasonPattern turns a reason as the guide writes it into a regular
// expression, each <...> matching what fill matches; with fill empty, a
// <value> is one word and a <value of words> (a space in its name) any
// text.
func reasonPattern(reason, fill string) *regexp.Regexp {
	var b strings.Builder
	last := 0
	for _, loc := range placeholder.FindAllStringIndex(reason, -1) {
		b.WriteString(regexp.QuoteMeta(reason[last:loc[0]]))
		switch {
		case fill != "":
			b.WriteString(fill)
		case strings.Contains(reason[loc[0]:loc[1]], " "):
			b.WriteString(`.+?`)
		default:
			b.WriteString(`\S+`)
		}
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(reason[last:]))
	return regexp.MustCompile(b.String())
}

// reasonCase makes the binary print a reason of the table: action with
// params (and args after it on the command line) on host a (or host),
// after setup, as user nobody with asNobody. inBinary marks a reason that
// needs a kernel fault: its text, <...> as a printf verb, must be in the
// binary.
type reasonCase struct {
	code     int
	action   string
	host     string
	params   []string
	args     []string
	setup    func(t *testing.T, l *lab.Lab, r *labtest.AgentRunner)
	asNobody bool
	inBinary bool
}

// The lab of the exit reasons: a and b share 198.18.0.0/24 and
// 2001:db8::/64; c has IPv6 turned off.
var (
	docHostA = lab.HostSpec{Name: "a", Addr: netip.MustParsePrefix("198.18.0.1/24"), Addr6: netip.MustParsePrefix("2001:db8::1/64")}
	docHostB = lab.HostSpec{Name: "b", Addr: netip.MustParsePrefix("198.18.0.2/24"), Addr6: netip.MustParsePrefix("2001:db8::2/64")}
	docHostC = lab.HostSpec{Name: "c", Addr: netip.MustParsePrefix("198.18.0.3/24")}
)

// holds puts addr on host's eth0 for the test.
func holds(t *testing.T, l *lab.Lab, host, addr string) {
	t.Helper()
	h := l.Host(host)
	args := []string{"addr", "add", addr, "dev", h.Dev}
	if strings.Contains(addr, ":") {
		args = append(args, "nodad")
	}
	if err := h.IP(args...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.IP("addr", "del", addr, "dev", h.Dev) })
}

// started starts the VIP on r's host for the test, and stops it after.
func started(t *testing.T, r *labtest.AgentRunner, params ...string) {
	t.Helper()
	r.Expect(0, "start", params...)
	t.Cleanup(func() { r.Expect(0, "stop", params...) })
}

// reasonCases are the cases of each row of the table, by its reason.
var reasonCases = map[string][]reasonCase{
	"IP address (the ip parameter) is mandatory": {{code: 6, action: "validate-all"}},
	"<param> [<value>] is not": {
		{code: 6, action: "validate-all", params: []string{"ip=198.18.0.100", "nodad=perhaps"}},
		{code: 6, action: "start", params: []string{"ip=198.18.0.100", "arp_count=0"}},
	},
	"IP address [<ip>] not valid": {
		{code: 5, action: "start", params: []string{"ip=abc"}},
		{code: 6, action: "validate-all", params: []string{"ip=abc"}},
	},
	"IP address [<ip>] cannot be assigned to a host": {
		{code: 5, action: "start", params: []string{"ip=224.0.0.5"}},
		{code: 6, action: "validate-all", params: []string{"ip=224.0.0.5"}},
	},
	"cidr_netmask [<value>] is not": {
		{code: 5, action: "start", params: []string{"ip=198.18.0.100", "cidr_netmask=33"}},
		{code: 6, action: "validate-all", params: []string{"ip=198.18.0.100", "cidr_netmask=33"}},
	},
	"broadcast [<value>] is not an IPv4 address, + or -": {
		{code: 5, action: "start", params: []string{"ip=198.18.0.100", "broadcast=x"}},
		{code: 6, action: "validate-all", params: []string{"ip=198.18.0.100", "broadcast=x"}},
	},
	"the nic parameter is mandatory for a link-local address [<ip>]": {
		{code: 6, action: "validate-all", params: []string{"ip=fe80::100"}},
	},
	"Invalid interface name [<nic>]": {
		{code: 5, action: "start", params: []string{"ip=198.18.0.100", "nic=eth9"}},
		{code: 6, action: "validate-all", params: []string{"ip=198.18.0.100", "nic=eth9"}},
	},
	"nic [<nic>] is <a type> link": {{code: 6, action: "start", params: []string{"ip=198.18.9.100", "nic=ib0", "cidr_netmask=24"},
		setup: func(t *testing.T, l *lab.Lab, _ *labtest.AgentRunner) { addTun(t, l, "ib0", unix.ARPHRD_INFINIBAND) }}},
	"nic [<nic>] has no link layer": {{code: 6, action: "start", params: []string{"ip=198.18.9.100", "nic=tun0", "cidr_netmask=24"},
		setup: func(t *testing.T, l *lab.Lab, _ *labtest.AgentRunner) { addTun(t, l, "tun0", unix.ARPHRD_NONE) }}},
	"Unable to find nic or netmask": {
		{code: 5, action: "start", params: []string{"ip=198.18.5.100"}},
		{code: 1, action: "validate-all", params: []string{"ip=198.18.5.100"}},
	},
	"IP <ip> available, but device has status down": {{code: 5, action: "start", params: []string{"ip=198.18.0.100", "nic=eth0", "cidr_netmask=24"},
		setup: func(t *testing.T, l *lab.Lab, _ *labtest.AgentRunner) {
			a := l.Host("a")
			if err := l.Cut(a); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Restore(a) })
		}}},
	"IP <ip> available, but label missing": {{code: 1, action: "monitor", params: []string{"ip=198.18.0.100", "iflabel=web", "OCF_RESKEY_CRM_meta_interval=10000"},
		setup: func(t *testing.T, l *lab.Lab, _ *labtest.AgentRunner) { holds(t, l, "a", "198.18.0.100/24") }}},
	"IPv4 address collision <ip> [DAD]": {{code: 1, action: "start", params: []string{"ip=198.18.0.100", "run_arping=true"},
		setup: func(t *testing.T, l *lab.Lab, _ *labtest.AgentRunner) { holds(t, l, "b", "198.18.0.100/24") }}},
	"IPv6 address collision <ip> [DAD]": {{code: 1, action: "start", params: []string{"ip=2001:db8::100", "cidr_netmask=64"},
		setup: func(t *testing.T, l *lab.Lab, _ *labtest.AgentRunner) { holds(t, l, "b", "2001:db8::100/64") }}},
	"split brain: <MAC> also answers for <ip>": {{code: 1, action: "monitor", params: []string{"ip=198.18.0.100", "OCF_CHECK_LEVEL=10", "OCF_RESKEY_CRM_meta_interval=60000"},
		setup: func(t *testing.T, l *lab.Lab, r *labtest.AgentRunner) {
			holds(t, l, "b", "198.18.0.100/24")
			started(t, r, "ip=198.18.0.100", "arp_bg=false", "arp_count=1")
		}}},
	"<ip> is on <nic> as <prefix>, not on <nic> as <prefix> where the configuration and the routes now put it": {{code: 1, action: "monitor", params: []string{"ip=198.18.0.100", "OCF_RESKEY_CRM_meta_interval=10000"},
		setup: func(t *testing.T, l *lab.Lab, r *labtest.AgentRunner) {
			started(t, r, "ip=198.18.0.100", "arp_bg=false", "arp_count=1")
			a := l.Host("a")
			if err := a.IP("route", "add", "198.18.0.0/25", "dev", "eth0"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.IP("route", "del", "198.18.0.0/25", "dev", "eth0") })
		}}},
	"<ip> is on <nic> but the node accepts nothing for it": {{code: 1, inBinary: true}},
	"Failed to add <ip>": {{code: 1, action: "start", host: "c", params: []string{"ip=2001:db8::100", "nic=eth0", "cidr_netmask=64"},
		setup: func(t *testing.T, l *lab.Lab, _ *labtest.AgentRunner) {
			c := l.Host("c")
			if err := c.Do(func() error {
				return os.WriteFile("/proc/sys/net/ipv6/conf/eth0/disable_ipv6", []byte("1"), 0)
			}); err != nil {
				t.Fatal(err)
			}
		}}},
	"Unable to remove IP [<ip>] from interface [<nic>]": {{code: 1, inBinary: true}},
	"network namespace <name>: no such network namespace": {
		{code: 5, action: "start", params: []string{"ip=198.18.0.100", "network_namespace=floatip-docs-absent"}},
	},
	"network_namespace \"<name>\" is not a namespace name": {{code: 6, action: "start", params: []string{"ip=198.18.0.100", "network_namespace=bad/name"}}},
	"clusterip_hash_seed 0 is refused":                     {{code: 6, action: "start", params: []string{"ip=198.18.0.100", "OCF_RESKEY_CRM_meta_clone_max=2", "clusterip_hash_seed=0"}}},
	"lvs_support and a load-shared clone of the address do not go together": {{code: 6, action: "validate-all",
		params: []string{"ip=198.18.0.100", "OCF_RESKEY_CRM_meta_clone_max=2", "lvs_support=true"}}},
	"<ip> is on the loopback device: a load-shared address needs an Ethernet link": {{code: 6, action: "validate-all",
		params: []string{"ip=127.0.0.100", "OCF_RESKEY_CRM_meta_clone_max=2"}}},
	"clone instance <n> has no bucket: clone_max is <n>": {{code: 6, action: "start",
		params: []string{"ip=198.18.0.100", "OCF_RESKEY_CRM_meta_clone_max=2", "OCF_RESKEY_CRM_meta_clone=2"}}},
	"cannot share <ip>: <what the kernel lacks>":            {{code: 5, inBinary: true}},
	"<ip> is partly set up without bucket <n>":              {{code: 1, inBinary: true}},
	"bucket <n> of <ip> is accepted, but <what is missing>": {{code: 1, inBinary: true}},
	"unique_clone_address works only for IPv4 addresses":    {{code: 6, action: "validate-all", params: []string{"ip=2001:db8::100", "unique_clone_address=true"}}},
	"You must be root for <action> operation.":              {{code: 4, action: "start", params: []string{"ip=198.18.0.100"}, asNobody: true}},
	"unknown action \"<action>\"":                           {{code: 3, action: "frob", params: []string{"ip=198.18.0.100"}}},
	"label [<label>] is longer than 15 characters":          {{code: 6, action: "validate-all", params: []string{"ip=198.18.0.100", "iflabel=averyverylonglabel"}}},
	"unrecognized arp_sender value: <value>":                {{code: 6, action: "validate-all", params: []string{"ip=198.18.0.100", "arp_sender=foo"}}},
	"empty value is invalid for preferred_lft":              {{code: 6, action: "validate-all", params: []string{"ip=2001:db8::100", "preferred_lft="}}},
	"IPv6 does not support lvs_support":                     {{code: 6, action: "validate-all", params: []string{"ip=2001:db8::100", "lvs_support=true"}}},
	"unique_clone_address makes sense only with meta globally_unique set": {{code: 6, action: "validate-all",
		params: []string{"ip=198.18.0.100", "unique_clone_address=true", "OCF_RESKEY_CRM_meta_clone_max=2"}}},
	"meta attribute clone [<value>] is not a clone instance number": {{code: 6, action: "validate-all",
		params: []string{"ip=198.18.0.100", "unique_clone_address=true", "OCF_RESKEY_CRM_meta_clone_max=2", "OCF_RESKEY_CRM_meta_globally_unique=true", "OCF_RESKEY_CRM_meta_clone=abc"}}},
	"<ip> is on <nic> but the node does not accept it":       {{code: 1, inBinary: true}},
	"Failed to read the addresses":                           {{code: 1, inBinary: true}},
	"Could not announce <ip> on <nic>":                       {{code: 1, inBinary: true}},
	"internal error in <action>":                             {{code: 1, inBinary: true}},
	"<prefix> is not on <nic>: reload-agent does not add it": {{code: 7, action: "reload-agent", params: []string{"ip=198.18.0.100"}}},
	"<prefix> is not on <nic>: not announcing it":            {{code: 7, action: "announce", params: []string{"ip=198.18.0.100"}}},
	"unexpected argument <arg> after <action>":               {{code: 2, action: "start", args: []string{"24"}, params: []string{"ip=198.18.0.100"}}},
	"--<param> given twice":                                  {{code: 2, action: "start", args: []string{"--ip", "198.18.0.101", "--ip", "198.18.0.102"}, params: []string{"ip=198.18.0.100"}}},
	"<action> did not finish in time":                        {{code: 1, action: "start", params: []string{"ip=198.18.0.100", "run_arping=true", "OCF_RESKEY_CRM_meta_timeout=300"}}},
}

func addTun(t *testing.T, l *lab.Lab, name string, hwType uint16) {
	t.Helper()
	if err := l.Host("a").AddTun(name, hwType); err != nil {
		t.Fatal(err)
	}
	if err := l.Host("a").IP("link", "set", name, "up"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Host("a").IP("link", "del", name) })
}

// testDocExitReasons: each row of the guide's table of exit reasons has
// cases here, each case makes the binary print that reason with an exit
// code the row names, and every reason the guide quotes elsewhere is one
// the binary printed.
func testDocExitReasons(t *testing.T) {
	rows := reasonRows(t)
	l := labtest.NewLab(t, docHostA, docHostB, docHostC)
	bin, err := os.ReadFile(labtest.Binary)
	if err != nil {
		t.Fatal(err)
	}
	var printed []string
	documented := map[string]bool{}
	for _, row := range rows {
		documented[row.reason] = true
		cases, ok := reasonCases[row.reason]
		if !ok {
			t.Errorf("%s quotes the exit reason %q, which no case of this test makes the binary print: add one", labtest.ReasonsPage, row.reason)
			continue
		}
		for i, c := range cases {
			t.Run(fmt.Sprintf("%s/%d", row.reason, i), func(t *testing.T) {
				if !regexp.MustCompile(`\b` + strconv.Itoa(c.code) + `\b`).MatchString(row.exit) {
					t.Errorf("the row of %q names exit %q, but %s exits %d", row.reason, strings.TrimSpace(row.exit), c.action, c.code)
				}
				if c.inBinary {
					if !reasonPattern(row.reason, `%[a-z]`).Match(bin) {
						t.Errorf("the binary has no text %q", row.reason)
					}
					return
				}
				printed = append(printed, runReasonCase(t, l, row, c)...)
			})
		}
	}
	for reason := range reasonCases {
		if !documented[reason] {
			t.Errorf("%s lost the exit reason %q from its table", labtest.ReasonsPage, reason)
		}
	}
	checkQuotedReasons(t, rows, printed, bin)
}

// runReasonCase runs c and checks its exit code and its one exit reason
// against row; it returns the reasons printed.
func runReasonCase(t *testing.T, l *lab.Lab, row reasonRow, c reasonCase) []string {
	host := c.host
	if host == "" {
		host = "a"
	}
	r := labtest.Floatip(t, l.Host(host))
	if c.setup != nil {
		c.setup(t, l, r)
	}
	var res lab.Result
	if c.asNobody || len(c.args) > 0 {
		var argv []string
		if c.asNobody {
			argv = asNobody(t)
		}
		argv = append(append(argv, labtest.Binary, c.action), c.args...)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var err error
		if res, err = l.Host(host).Run(ctx, labtest.OCFEnv(r.Rsctmp, c.params...), argv...); err != nil {
			t.Fatal(err)
		}
	} else {
		res = r.Run(c.action, c.params...)
	}
	reasons := labtest.ExitReasons(res.Stderr)
	if res.Code != c.code || len(reasons) != 1 {
		t.Fatalf("%s %v: exit %d with %d exit reasons, want %d with one:\n%s", c.action, c.params, res.Code, len(reasons), c.code, res.Stderr)
	}
	got := strings.TrimPrefix(reasons[0], "ocf-exit-reason:")
	if !regexp.MustCompile(`^` + reasonPattern(row.reason, "").String()).MatchString(got) {
		t.Errorf("%s %v printed the exit reason\n\t%s\nwhich does not start as the guide says:\n\t%s", c.action, c.params, got, row.reason)
	}
	return []string{got}
}

// checkQuotedReasons: no code span of the guide or the README breaks
// across lines, and a span that begins as a reason of the table begins
// (the 8 characters or more before its first <...>) is a reason the
// binary printed here, or, for one that needs a kernel fault, a text of
// the binary.
func checkQuotedReasons(t *testing.T, rows []reasonRow, printed []string, bin []byte) {
	files, err := filepath.Glob(labtest.GuideDir + "/*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(files, "../README.md") {
		for i, l := range prose(t, f) {
			if strings.Count(l, "`")%2 != 0 {
				t.Errorf("%s:%d: a code span breaks across lines, so its quote escapes this check: %s", f, i+1, l)
			}
			for _, m := range backquoted.FindAllStringSubmatch(l, -1) {
				span := m[1]
				for _, row := range rows {
					lead := row.reason
					if loc := placeholder.FindStringIndex(lead); loc != nil {
						lead = lead[:loc[0]]
					}
					if len(lead) < 8 || !strings.HasPrefix(span, lead) {
						continue
					}
					if cs := reasonCases[row.reason]; len(cs) > 0 && cs[0].inBinary {
						if !reasonPattern(span, `%[a-z]`).Match(bin) {
							t.Errorf("%s:%d quotes %q, which is not in the binary", f, i+1, span)
						}
						continue
					}
					re := regexp.MustCompile(`^` + reasonPattern(span, "").String())
					if !slices.ContainsFunc(printed, re.MatchString) {
						t.Errorf("%s:%d quotes the exit reason %q, which the binary did not print here; it printed:\n\t%s", f, i+1, span, strings.Join(printed, "\n\t"))
					}
				}
			}
		}
	}
}
