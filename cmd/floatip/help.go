package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/floatip/floatip/metadata"
)

// emptyDefaults says what an empty default means, for the parameters whose
// default depends on the address: --help and the man page show it instead
// of nothing.
var emptyDefaults = map[string]string{
	"arp_bg": "per address family, true for IPv4 and false for IPv6",
}

// defaultText is how usage shows a parameter's default, "" for none.
func defaultText(name, value string) string {
	switch {
	case value == "" && emptyDefaults[name] != "":
		return "(default: " + emptyDefaults[name] + ")"
	case value == "":
		return ""
	case flagType(name) == "string":
		return "(default " + strconv.Quote(value) + ")"
	}
	return "(default " + value + ")"
}

// usage is the text of usage, help and --help.
func usage(name string, md *metadata.Agent, defaults map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s {%s} [--parameter value ...]\n", name, strings.Join(actionNames(), "|"))
	fmt.Fprintf(&b, "       %s help <action>\n\n", name)
	fmt.Fprintf(&b, "%s\n\n", md.ShortDesc)
	b.WriteString("Run by Pacemaker, it reads its parameters from OCF_RESKEY_<name>;\n")
	b.WriteString("flags named after the parameters, each given once, override them.\nA bool is true,")
	b.WriteString(" false, yes, no, on, off, 1 or 0; --name alone means true.\n")
	b.WriteString("A parameter marked (compatibility only) is checked as\n")
	b.WriteString("heartbeat:IPaddr2 checks it, then changes nothing; " + name + " man\n")
	b.WriteString("says why.\n\n")
	b.WriteString("actions:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-14s %s\n", c.name, c.short)
	}
	b.WriteString("\nparameters:\n")
	width := 0
	for _, p := range md.Parameters {
		width = max(width, len(p.Name)+len(flagType(p.Name))+3)
	}
	for _, p := range md.Parameters {
		line := fmt.Sprintf("  --%s %s", p.Name, flagType(p.Name))
		desc := strings.TrimSuffix(p.ShortDesc, ".")
		if note := metadata.CompatibilityNote(p.Name, true); note != "" {
			desc += " " + note
		}
		if p.Required {
			desc += " (required)"
		}
		if d := defaultText(p.Name, defaults[p.Name]); d != "" {
			desc += " " + d
		}
		fmt.Fprintf(&b, "%-*s  %s\n", width+2, line, desc)
	}
	b.WriteString("\noptions:\n")
	fmt.Fprintf(&b, "%-*s  %s\n", width+2, "  -h, --help", "print this usage")
	fmt.Fprintf(&b, "%-*s  %s\n", width+2, "  -V, --version", "print the version")
	return b.String()
}

// actionHelp is the text of help <action>.
func actionHelp(name string, c command) string {
	var b strings.Builder
	args := "[--parameter value ...]"
	if c.args != "" {
		args = c.args
	}
	fmt.Fprintf(&b, "usage: %s %s %s\n\n", name, c.name, args)
	fmt.Fprintf(&b, "%s: %s.\n\n", c.name, c.short)
	b.WriteString(wrap(c.long, 72))
	fmt.Fprintf(&b, "\n\n%s --help lists the parameters; %s man prints the manual.\n", name, name)
	return b.String()
}

// wrap breaks text into lines of at most width columns, at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		switch {
		case n == 0:
		case n+1+len(w) > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
