// How a parameter's text is read: the reader of the typed values, and the
// small tables and checks the parsers share.

package config

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

// parseProto reads proto: a routing protocol by its iproute2 name
// (/usr/share/iproute2/rt_protos) or its number, "" for any. floatip
// reads no file at run time, so only the names iproute2 ships are known.
func parseProto(s string) (int, error) {
	if s == "" {
		return -1, nil
	}
	if n, err := strconv.ParseUint(s, 10, 8); err == nil && s[0] != '+' {
		return int(n), nil
	}
	if n, ok := routeProtocol(s); ok {
		return n, nil
	}
	return 0, invalid("proto", "proto [%s] is not a route protocol name (kernel, boot, static, dhcp, ...) or a number from 0 to 255", printable(s))
}

// routeProtocol is iproute2's table of rtm_protocol names.
func routeProtocol(name string) (int, bool) {
	switch name {
	case "unspec":
		return 0, true
	case "redirect":
		return 1, true
	case "kernel":
		return 2, true
	case "boot":
		return 3, true
	case "static":
		return 4, true
	case "gated":
		return 8, true
	case "ra":
		return 9, true
	case "mrt":
		return 10, true
	case "zebra":
		return 11, true
	case "bird":
		return 12, true
	case "dnrouted":
		return 13, true
	case "xorp":
		return 14, true
	case "ntk":
		return 15, true
	case "dhcp":
		return 16, true
	case "keepalived":
		return 18, true
	case "babel":
		return 42, true
	case "openr":
		return 99, true
	case "bgp":
		return 186, true
	case "isis":
		return 187, true
	case "ospf":
		return 188, true
	case "rip":
		return 189, true
	case "eigrp":
		return 192, true
	}
	return 0, false
}

// parser reads each parameter as the type the meta-data declares for it
// and keeps the first error, so that the XML that pcs and Pacemaker see
// decides what a value may be.
type parser struct {
	params map[string]string
	// read, when not nil, records each parameter read: the test that holds
	// config and meta-data together sets it.
	read map[string]bool
	err  error
	// warnings are what Parse read, but not as heartbeat:IPaddr2 would.
	warnings []string
}

func newParser(params map[string]string) *parser {
	return &parser{params: params}
}

// value returns the raw value of name, read as typ. Reading a parameter the
// meta-data does not declare, or declares with another type, is a
// programming error that every test of Parse would hit: it panics.
func (p *parser) value(name, typ string) string {
	if vt, ok := metadata.ValueType(name); !ok || vt != typ {
		panic(fmt.Sprintf("config reads parameter %s as %s, but the meta-data gives its values the type %q", name, typ, vt))
	}
	if p.read != nil {
		p.read[name] = true
	}
	return p.params[name]
}

// text reads a string parameter as it is.
func (p *parser) text(name string) string { return p.value(name, "string") }

// boolean reads an OCF boolean (ocf.ParseBool): a value that is no
// boolean word is an error rather than a silent false.
//
// But y and Y read as true, with a warning, as floatip 0.9 read them.
// ocf_is_true does not take y (heartbeat:IPaddr2 reads it as false); but
// a cluster upgraded from 0.9 with nodad=y would, were y refused, fail
// its probes and monitors with OCF_ERR_CONFIGURED on every node at once,
// and its stop would not undo what its start did (a unique clone's own
// address, the loopback copy taken away, an address label).
func (p *parser) boolean(name string) bool {
	v := p.value(name, "boolean")
	if v == "y" || v == "Y" {
		p.warnings = append(p.warnings, fmt.Sprintf("%s [%s] reads as true, as floatip 0.9 read it, where heartbeat:IPaddr2 reads it as false: set it to true or false", name, v))
		return true
	}
	b, ok := ocf.ParseBool(v)
	if !ok && p.err == nil {
		p.err = invalid(name, "%s [%s] is not a boolean (true or false)", name, printable(v))
	}
	return b
}

// integer reads a decimal of at least min. Signs, spaces and values that do
// not fit 32 bits are refused.
func (p *parser) integer(name string, min int) int {
	v := p.value(name, "integer")
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || v == "" || v[0] < '0' || v[0] > '9' || int(n) < min {
		if p.err == nil {
			if min > 0 {
				p.err = invalid(name, "%s [%s] is not a positive integer", name, printable(v))
			} else {
				p.err = invalid(name, "%s [%s] is not an integer of %d or more", name, printable(v), min)
			}
		}
		return 0
	}
	return int(n)
}

// printable quotes what an admin typed so that control characters or
// invalid UTF-8 cannot break the one-line exit reason, and cuts it short.
func printable(s string) string {
	const max = 64
	q := strconv.QuoteToASCII(s)
	q = q[1 : len(q)-1]
	if len(q) > max {
		q = q[:max] + "..."
	}
	return q
}

// validLabel accepts text without control characters. The kernel keeps
// any bytes as a label, and IPaddr2 passes UTF-8 on: an address it
// labelled "eth0:été" must stay one that floatip monitors.
func validLabel(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
