package parity

import (
	endian "encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// The parity suite for the newest IPaddr2 release (DESIGN.md, "Reference
// behaviour"). TestParity compares floatip with Debian's 4.12 live; the
// newest release is not installed, so what it answers is held as facts in
// testdata/ipaddr2-upstream.json, measured by running the real
// release in a lab like the one each case builds. Each case there says
// why it is in the suite ("why") and, where floatip differs on purpose,
// what it does instead ("floatip", "deliberate", "ours").
//
// The facts are re-checked against the real release when
// FLOATIP_IPADDR2_UPSTREAM names a directory that holds it, built outside
// the repository (never commit it: IPaddr2 is GPL) from a resource-agents
// checkout at the tag the facts name in "release":
//
//	git clone https://github.com/ClusterLabs/resource-agents ra
//	d=/work/oracle/ipaddr2-4.18; mkdir -p $d/lib
//	git -C ra show v4.18.0:heartbeat/IPaddr2 >$d/IPaddr2; chmod +x $d/IPaddr2
//	git -C ra show v4.18.0:heartbeat/findif.sh >$d/lib/findif.sh
//	cp /usr/lib/ocf/lib/heartbeat/ocf-* $d/lib/
//	FLOATIP_IPADDR2_UPSTREAM=$d go test -count=1 -run TestParityUpstream ./tests/parity -v
//
// The suite runs that IPaddr2 with OCF_FUNCTIONS_DIR=$d/lib, so it takes
// Debian's ocf-shellfuncs and the release's findif.sh. With
// FLOATIP_PARITY_RECORD=1 as well, each run prints what it measured as the
// case's JSON "want" instead of failing, with the exit reasons seen, which
// is how the facts are written.

// upstreamFile holds the facts.
const upstreamFile = "testdata/ipaddr2-upstream.json"

// upstreamChange alters a case's lab: before the first step (setup) or
// between two steps (a hook step).
type upstreamChange func(t *testing.T, l *lab.Lab, h *lab.Host)

// upstreamStep is one step of a case: an agent action with the extra
// environment Pacemaker would give it, or, with hook set, a change of the
// lab between two actions (a link going down under a running VIP).
type upstreamStep struct {
	name, action string
	env          []string
	hook         upstreamChange
}

// upstreamFacts is what an agent did in one case: the exit code of each
// action step (hook steps have none), and the address summary (see
// stateSummary) right after the first start and after the last step.
type upstreamFacts struct {
	codes      []int
	start, end []string
}

// upstreamCase is one parameter set in one lab situation, with what the
// newest release and 4.12 answered there.
type upstreamCase struct {
	name   string
	params []string
	// v6 builds host a with the IPv6 lab address as well (labtest.HostA6).
	v6 bool
	// setup changes the lab before the first step; the summaries show
	// what the agent changed from the lab as it was then.
	setup []upstreamChange
	// steps is the step list; nil means defaultUpstreamSteps.
	steps []upstreamStep
	// traced says that IPaddr2 (either release) wrote a trace file under
	// HA_VARLIB/trace_ra.
	traced bool
	// want is the newest release's answer, which floatip must give too.
	want upstreamFacts
	// deliberate pins the steps where floatip differs from the release on
	// purpose, as in TestParity (docs/compatibility.md's table):
	// step -> {floatip, IPaddr2}.
	deliberate map[string][2]int
	// ours, when set, is floatip's summary after start and at the end
	// where it differs from the release's on purpose.
	ours *[2][]string
	// codes412 is Debian's 4.12's exit codes; nil means the same as the
	// newest release's.
	codes412 []int
}

// upstreamJSON is the facts file: what the JSON says, before the lab
// changes it names are turned into functions.
type upstreamJSON struct {
	Release string `json:"release"`
	// Measured says how; Steps and Summary describe the cases' step
	// lists and summary lines for a reader of the file.
	Measured string            `json:"measured"`
	Steps    map[string]string `json:"steps"`
	Summary  string            `json:"summary"`
	Cases    []struct {
		Name     string   `json:"name"`
		Why      string   `json:"why"`
		Floatip  string   `json:"floatip"`
		Params   []string `json:"params"`
		V6       bool     `json:"v6"`
		Setup    []string `json:"setup"`
		LinkLoss *struct {
			Step   string `json:"step"`
			Change string `json:"change"`
		} `json:"link_loss"`
		Traced bool `json:"traced"`
		Want   struct {
			Codes []int    `json:"codes"`
			Start []string `json:"start"`
			End   []string `json:"end"`
		} `json:"want"`
		Deliberate map[string][2]int `json:"deliberate"`
		Ours       *[2][]string      `json:"ours"`
		Codes412   []int             `json:"codes_4_12"`
	} `json:"cases"`
}

// loadUpstream reads the facts: the release they are of, and the cases.
func loadUpstream(t *testing.T) (string, []upstreamCase) {
	t.Helper()
	b, err := os.ReadFile(upstreamFile)
	if err != nil {
		t.Fatal(err)
	}
	var f upstreamJSON
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", upstreamFile, err)
	}
	if f.Release == "" {
		t.Fatalf("%s names no release", upstreamFile)
	}
	var out []upstreamCase
	for _, j := range f.Cases {
		c := upstreamCase{
			name: j.Name, params: j.Params, v6: j.V6, traced: j.Traced,
			want:       upstreamFacts{codes: j.Want.Codes, start: j.Want.Start, end: j.Want.End},
			deliberate: j.Deliberate, ours: j.Ours, codes412: j.Codes412,
		}
		for _, d := range j.Setup {
			c.setup = append(c.setup, labChange(t, d))
		}
		if j.LinkLoss != nil {
			c.steps = linkLoss(j.LinkLoss.Step, labChange(t, j.LinkLoss.Change))
		}
		out = append(out, c)
	}
	return f.Release, out
}

// labChange is the lab change that the facts name by d: "cut" sets the
// bridge's end of host a's veth down, so that a's nic stays up without a
// carrier (state LOWERLAYERDOWN); "ip ..." runs ip inside host a.
func labChange(t *testing.T, d string) upstreamChange {
	t.Helper()
	switch args := strings.Fields(d); {
	case d == "cut":
		return func(t *testing.T, l *lab.Lab, h *lab.Host) {
			t.Helper()
			if err := l.Cut(h); err != nil {
				t.Fatal(err)
			}
		}
	case len(args) > 1 && args[0] == "ip":
		return func(t *testing.T, l *lab.Lab, h *lab.Host) {
			t.Helper()
			if err := h.IP(args[1:]...); err != nil {
				t.Fatal(err)
			}
		}
	default:
		t.Fatalf("%s: unknown lab change %q", upstreamFile, d)
		return nil
	}
}

// defaultUpstreamSteps is the Pacemaker-style step list of TestParity.
var defaultUpstreamSteps = func() []upstreamStep {
	var out []upstreamStep
	for _, s := range paritySteps {
		out = append(out, upstreamStep{name: s.name, action: s.action, env: s.env})
	}
	return out
}()

var (
	probeEnv   = []string{"OCF_RESKEY_CRM_meta_interval=0"}
	monitorEnv = []string{"OCF_RESKEY_CRM_meta_interval=10000"}
)

// linkLoss is the step list of a VIP whose link fails while it runs: the
// cluster's monitor sees it, the probe of a recovery, the stop, and a
// start on the same node (a resource with no other node to go to).
func linkLoss(name string, hook upstreamChange) []upstreamStep {
	return []upstreamStep{
		{name: "validate-all", action: "validate-all"},
		{name: "probe", action: "monitor", env: probeEnv},
		{name: "start", action: "start"},
		{name: "monitor", action: "monitor", env: monitorEnv},
		{name: name, hook: hook},
		{name: "monitor while down", action: "monitor", env: monitorEnv},
		{name: "probe while down", action: "monitor", env: probeEnv},
		{name: "stop", action: "stop"},
		{name: "start while down", action: "start"},
		{name: "stop again", action: "stop"},
		{name: "monitor after stop", action: "monitor", env: monitorEnv},
	}
}

type parityAgent struct {
	name string
	// runner makes the agent's runner for host h.
	runner func(t *testing.T, h *lab.Host) *labtest.AgentRunner
	// env is extra environment for every action.
	env []string
}

// TestParityUpstream runs each case with floatip and Debian's
// heartbeat:IPaddr2 4.12, and with the newest release when
// FLOATIP_IPADDR2_UPSTREAM names it, each in a lab of its own: floatip
// must give the newest release's facts, and the live IPaddr2 runs must
// still give the recorded ones, so that the facts stay true.
func TestParityUpstream(t *testing.T) {
	release, cases := loadUpstream(t)
	if len(cases) < 28 {
		t.Fatalf("%d cases, the suite promises at least 28", len(cases))
	}
	agents := []parityAgent{
		{name: "floatip", runner: labtest.Floatip},
		{name: "4.12", runner: labtest.Heartbeat},
	}
	if a, ok := upstreamAgent(t, release); ok {
		agents = append(agents, a)
	}
	record := os.Getenv("FLOATIP_PARITY_RECORD") == "1"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, a := range agents {
				t.Run(a.name, func(t *testing.T) {
					t.Parallel()
					got, reasons := runUpstream(t, c, a)
					switch {
					case record:
						want, err := json.Marshal(map[string]any{"codes": got.codes, "start": got.start, "end": got.end})
						if err != nil {
							t.Fatal(err)
						}
						t.Logf("measured %s:\n\t\"want\": %s,\n\ttraced: %v\n\treasons: %q", c.name, want, got.traced, reasons)
					case a.name == "4.12":
						want := c.codes412
						if want == nil {
							want = c.want.codes
						}
						compareUpstream(t, c, "heartbeat:IPaddr2 4.12", upstreamFacts{codes: want}, upstreamFacts{codes: got.codes}, reasons)
					case a.name == release:
						compareUpstream(t, c, "heartbeat:IPaddr2 "+release, c.want, got.upstreamFacts, reasons)
					default:
						compareUpstream(t, c, a.name, oursUpstream(t, c), got.upstreamFacts, reasons)
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

// upstreamAgent is the newest heartbeat:IPaddr2 release as an agent,
// named by its release, when FLOATIP_IPADDR2_UPSTREAM names the directory
// that holds it.
func upstreamAgent(t *testing.T, release string) (parityAgent, bool) {
	t.Helper()
	dir := os.Getenv("FLOATIP_IPADDR2_UPSTREAM")
	if dir == "" {
		return parityAgent{}, false
	}
	path := filepath.Join(dir, "IPaddr2")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("FLOATIP_IPADDR2_UPSTREAM: %v", err)
	}
	return parityAgent{
		name: release,
		runner: func(t *testing.T, h *lab.Host) *labtest.AgentRunner {
			return &labtest.AgentRunner{T: t, Host: h, Path: path, Rsctmp: t.TempDir()}
		},
		env: []string{"OCF_FUNCTIONS_DIR=" + filepath.Join(dir, "lib")},
	}, true
}

// oursUpstream is what floatip must do in case c: the release's facts, with the
// deliberate differences put in.
func oursUpstream(t *testing.T, c upstreamCase) upstreamFacts {
	t.Helper()
	want := c.want
	want.codes = slices.Clone(want.codes)
	i := 0
	for _, s := range upstreamSteps(c) {
		if s.hook != nil {
			continue
		}
		if d, ok := c.deliberate[s.name]; ok {
			if want.codes[i] != d[1] {
				t.Errorf("%s: the facts say the release exits %d, the pinned difference says %d", s.name, want.codes[i], d[1])
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

// upstreamSteps is the step list of case c.
func upstreamSteps(c upstreamCase) []upstreamStep {
	if c.steps == nil {
		return defaultUpstreamSteps
	}
	return c.steps
}

// compareUpstream fails t for each difference between what agent did (got) and
// the facts (want); a nil summary in want is not compared.
func compareUpstream(t *testing.T, c upstreamCase, agent string, want, got upstreamFacts, reasons [][]string) {
	t.Helper()
	i := 0
	for _, s := range upstreamSteps(c) {
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
			t.Errorf("links, addresses and labels %s:\n%s:\n\t%s\nwant (upstream):\n\t%s", sum.when, agent,
				summaryText(sum.got), summaryText(sum.want))
		}
	}
}

// summaryText shows a summary one line each, "(no change)" when empty.
func summaryText(sum []string) string {
	if len(sum) == 0 {
		return "(no change)"
	}
	return strings.Join(sum, "\n\t")
}

// upstreamRun is what runUpstream measured.
type upstreamRun struct {
	upstreamFacts
	traced bool
}

// runUpstream runs a case's steps with one agent in a fresh lab and returns the
// facts, with the exit reasons of each action step.
func runUpstream(t *testing.T, c upstreamCase, a parityAgent) (upstreamRun, [][]string) {
	t.Helper()
	spec := lab.HostSpec{Name: "a", Addr: labtest.HostA.Addr}
	if c.v6 {
		spec = labtest.HostA6
	}
	l := labtest.NewLab(t, spec)
	h := l.Host("a")
	for _, f := range c.setup {
		f(t, l, h)
	}
	varlib := t.TempDir()
	params := append(slices.Clone(c.params), "HA_VARLIB="+varlib)
	params = append(params, a.env...)
	r := a.runner(t, h)
	base := stateSummary(t, h, nil)
	var out upstreamRun
	var reasons [][]string
	started := false
	for _, s := range upstreamSteps(c) {
		if s.hook != nil {
			s.hook(t, l, h)
			continue
		}
		res := r.Run(s.action, append(slices.Clone(params), s.env...)...)
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
			out.start = stateSummary(t, h, base)
		}
	}
	out.end = stateSummary(t, h, base)
	if out.start == nil {
		out.start = []string{}
	}
	if entries, err := os.ReadDir(filepath.Join(varlib, "trace_ra")); err == nil && len(entries) > 0 {
		out.traced = true
	}
	return out, reasons
}

// stateSummary describes the state of every link of host a (admin up or
// down, carrier), every address (link-local ones left out) and every IPv6
// address label of its namespace, one line each: with base nil, all of them; otherwise what differs from base, "+"
// for a line that is new and "-" for one that is gone. An address line has
// the link, prefix, broadcast, label, lifetimes (preferred/valid), flags
// and route metric (IFA_RT_PRIORITY), so that a VIP added with another
// prefix route metric, or left behind by a failed start, shows.
func stateSummary(t *testing.T, h *lab.Host, base []string) []string {
	t.Helper()
	lines, err := addrLines(h)
	if err != nil {
		t.Fatal(err)
	}
	labels, err := labelLines(h)
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

// addrLines describes the host's links, and its addresses as dumped
// with RTM_GETADDR: the netlink library in go.mod does not read
// IFA_RT_PRIORITY.
func addrLines(h *lab.Host) ([]string, error) {
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
	msgs, err := netlinkDump(h, unix.RTM_GETADDR, unix.SizeofIfAddrmsg)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if len(m) < unix.SizeofIfAddrmsg {
			continue
		}
		family, plen, flags := m[0], m[1], uint32(m[2])
		index := endian.NativeEndian.Uint32(m[4:8])
		attrs := rtAttrs(m[unix.SizeofIfAddrmsg:])
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
			fmt.Fprintf(&b, " lft %s/%s", lifetimeText(endian.NativeEndian.Uint32(ci[0:4])), lifetimeText(endian.NativeEndian.Uint32(ci[4:8])))
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

// lifetimeText shows an address lifetime as ip does.
func lifetimeText(s uint32) string {
	if s == 0xffffffff {
		return "forever"
	}
	return fmt.Sprint(s)
}

// labelLines dumps the namespace's IPv6 address label table with
// RTM_GETADDRLABEL: "addrlabel <prefix> label <n>", with the link index
// when the entry has one.
func labelLines(h *lab.Host) ([]string, error) {
	const sizeofIfaddrlblmsg = 12
	msgs, err := netlinkDump(h, unix.RTM_GETADDRLABEL, sizeofIfaddrlblmsg)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range msgs {
		if len(m) < sizeofIfaddrlblmsg {
			continue
		}
		plen, index := m[2], endian.NativeEndian.Uint32(m[4:8])
		attrs := rtAttrs(m[sizeofIfaddrlblmsg:])
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

// netlinkDump sends a dump request of type typ, whose family header is
// hdrLen bytes starting with the family byte, from a NETLINK_ROUTE socket
// in the host's namespace, and returns the payload of each answer.
func netlinkDump(h *lab.Host, typ uint16, hdrLen int) ([][]byte, error) {
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

// rtAttrs splits netlink attributes by type (the last of a type wins).
func rtAttrs(b []byte) map[uint16][]byte {
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
