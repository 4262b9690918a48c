//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// benchPrefix starts the id of every primitive the bench makes, so that
// one XPath finds them all to delete them, and one rsc-pattern places
// them.
const benchPrefix = "bvip-"

// benchVIPs are the bench's N addresses: 198.18.1.1 and on, in the
// lab's 198.18.0.0/16, which the nodes' and the client's own addresses
// (/16 in the bench) make a connected route for. 198.18.0.0/24 holds the
// hosts; the VIPs start above it, and up to 65000 fit below the /16's
// broadcast address.
func benchVIPs(n int) ([]netip.Addr, error) {
	if n < 1 || n > 65000 {
		return nil, fmt.Errorf("-vips %d: want 1 to 65000", n)
	}
	out := make([]netip.Addr, n)
	a := netip.MustParseAddr("198.18.1.1")
	for i := range out {
		out[i] = a
		a = a.Next()
	}
	return out, nil
}

// benchID is the id of the i-th VIP's primitive (from 0).
func benchID(i int) string { return benchPrefix + strconv.Itoa(i+1) }

// primitivesXML is the CIB's XML for one primitive per VIP of agent ag,
// each with the VIP as ip and bits as cidr_netmask (none for an agent
// that holds no address) and a monitor every interval: what
// "pcs resource create bvip-1 <type> ip=... cidr_netmask=16 op monitor interval=10s"
// makes, less the default start and stop timeouts that pcs adds.
func primitivesXML(ag *Agent, vips []netip.Addr, bits int, interval time.Duration) (string, error) {
	class, rest, ok1 := strings.Cut(ag.Type, ":")
	provider, typ, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return "", fmt.Errorf("agent type %q: want class:provider:type", ag.Type)
	}
	iv := intervalSpec(interval)
	var b strings.Builder
	for i, v := range vips {
		id := benchID(i)
		fmt.Fprintf(&b, `<primitive id="%s" class="%s" provider="%s" type="%s">`, id, class, provider, typ)
		if !ag.NoAddress {
			fmt.Fprintf(&b, `<instance_attributes id="%s-instance_attributes">`, id)
			fmt.Fprintf(&b, `<nvpair id="%s-instance_attributes-ip" name="ip" value="%s"/>`, id, v)
			fmt.Fprintf(&b, `<nvpair id="%s-instance_attributes-cidr_netmask" name="cidr_netmask" value="%d"/>`, id, bits)
			b.WriteString(`</instance_attributes>`)
		}
		// The op's id names its interval, as pcs names it: a changed
		// interval is a new op, and the old one's id goes with it.
		fmt.Fprintf(&b, `<operations><op id="%s-monitor-interval-%s" name="monitor" interval="%s"/>`, id, iv, iv)
		b.WriteString("</operations></primitive>\n")
	}
	return b.String(), nil
}

// benchLocationID is the one constraint that places every VIP.
const benchLocationID = "bench-vips-prefer"

// locationXML prefers node for every bench primitive: one constraint by
// rsc-pattern (Pacemaker 1.1.16 and later) rather than one per VIP. The
// score beats resource-stickiness, so the VIPs start there; standby still
// moves them off.
func locationXML(node string) string {
	return fmt.Sprintf(`<rsc_location id="%s" rsc-pattern="^%s[0-9]+$" node="%s" score="100"/>`, benchLocationID, benchPrefix, node)
}

// withVIPs adds the primitives and the constraint to the configuration
// section that "cibadmin --query --scope configuration" printed, for one
// "cibadmin --replace --scope configuration": one CIB change, one
// transition that starts all N, where N pcs calls would take 1.5-4 s
// each. A section's replace bumps the epoch itself.
func withVIPs(config, primitives, location string) (string, error) {
	out, err := insertInto(config, "resources", primitives)
	if err != nil {
		return "", err
	}
	return insertInto(out, "constraints", location)
}

// insertInto puts xml at the end of the one element called tag, which may
// be empty (<tag/>).
func insertInto(doc, tag, xml string) (string, error) {
	end := "</" + tag + ">"
	switch n := strings.Count(doc, end); {
	case n == 1:
		return strings.Replace(doc, end, xml+end, 1), nil
	case n > 1:
		return "", fmt.Errorf("the CIB has %d %s elements", n, tag)
	}
	for _, empty := range []string{"<" + tag + "/>", "<" + tag + " />"} {
		if strings.Count(doc, empty) == 1 {
			return strings.Replace(doc, empty, "<"+tag+">"+xml+end, 1), nil
		}
	}
	return "", fmt.Errorf("the CIB's configuration has no %s element", tag)
}

// benchOps reads, in one pass over a node's Pacemaker log, the starts and
// stops of every bench primitive from since on (agentOps reads one
// resource a pass).
func benchOps(r io.Reader, node string, since, now time.Time) map[string][]AgentOp {
	since = since.Truncate(time.Millisecond)
	ops := map[string][]AgentOp{}
	type key struct {
		rsc  string
		call int
	}
	at := map[key]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, benchPrefix) {
			continue
		}
		t, ok := parseStamp(line, now)
		if !ok || t.Before(since) {
			continue
		}
		if m := executeRE.FindStringSubmatch(line); m != nil && strings.HasPrefix(m[1], benchPrefix) && (m[2] == "start" || m[2] == "stop") {
			call, _ := strconv.Atoi(m[3])
			at[key{m[1], call}] = len(ops[m[1]])
			ops[m[1]] = append(ops[m[1]], AgentOp{Node: node, Action: m[2], Call: call, Called: t, Exec: -1})
			continue
		}
		if m := finishedRE.FindStringSubmatch(line); m != nil && strings.HasPrefix(m[1], benchPrefix) {
			call, _ := strconv.Atoi(m[3])
			i, ok := at[key{m[1], call}]
			if !ok {
				continue
			}
			op := &ops[m[1]][i]
			op.Returned = t
			op.Status, _ = strconv.Atoi(m[4])
			if d, err := time.ParseDuration(strings.ReplaceAll(m[5], " ", "")); err == nil {
				op.Exec = d
			} else {
				op.Exec = t.Sub(op.Called)
			}
		}
	}
	return ops
}

// Dist is the distribution of a set of durations.
type Dist struct {
	N                      int
	Median, P95, Max, Mean time.Duration
}

// dist summarizes ds: nearest-rank percentiles, which are values that
// occurred.
func dist(ds []time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(float64(len(s))*p+0.999999) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Dist{N: len(s), Median: rank(0.5), P95: rank(0.95), Max: s[len(s)-1], Mean: sum / time.Duration(len(s))}
}

// parseCounts reads -vips: one count or a comma-separated list.
func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("-vips %q: %w", s, err)
		}
		if _, err := benchVIPs(n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// loadRE matches the controller's notes on a node's load, which set its
// throttle: from "Moderate" on, Pacemaker lowers the number of actions it
// runs at once on that node, below node-action-limit (controld_throttle.c).
var loadRE = regexp.MustCompile(`\((?:throttle_\w+)\)\s+\w+: ((?:Extreme|High|Moderate) [\w ]+? load) detected`)

// loadNotes counts the controller's load notes in a node's log from since
// on, by kind ("High CPU load": 3).
func loadNotes(r io.Reader, since, now time.Time) map[string]int {
	since = since.Truncate(time.Millisecond)
	out := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "load detected") {
			continue
		}
		if t, ok := parseStamp(line, now); !ok || t.Before(since) {
			continue
		}
		if m := loadRE.FindStringSubmatch(line); m != nil {
			out[m[1]]++
		}
	}
	return out
}

// describeNotes is loadNotes for the output: "none", or the kinds and
// their counts.
func describeNotes(notes map[string]int) string {
	if len(notes) == 0 {
		return "none"
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(notes)) {
		out = append(out, fmt.Sprintf("%s %dx", k, notes[k]))
	}
	return strings.Join(out, ", ")
}
