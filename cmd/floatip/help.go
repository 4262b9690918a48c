package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/floatip/floatip/metadata"
)

// command is an action a human or Pacemaker can ask for. usage, help
// <action>, the man page and the completion script all print these, so
// that they cannot drift apart.
type command struct {
	name string
	// args are the words the action takes after its name, for its usage
	// line; max is how many it takes at most.
	args string
	max  int
	// short is its line in usage, long what help <action> and the man
	// page say of it.
	short, long string
}

// commands lists the actions in the order usage shows them. The reloadable
// parameters come from the meta-data, which decides them.
var commands = []command{
	{name: "start", short: "add the address and announce it",
		long: "Adds the address to its nic and announces it: gratuitous ARP (a request and a reply) for IPv4, an unsolicited Neighbor Advertisement to ff02::1 for IPv6, arp_count times every arp_interval ms, the rest of the burst in the background when arp_bg says so. Without nic or cidr_netmask, the routes of the main table decide them, as IPaddr2's findif does. An IPv6 address waits for Duplicate Address Detection unless nodad is set. Starting an address that is already there succeeds. It needs root, and exits 4 without it; 5 when no nic here can carry the address, 6 for a configuration that cannot work, 1 for any other failure."},
	{name: "stop", short: "stop the announcer and remove the address",
		long: "Stops the background announcer, removes the address and, with kill_connections, ends the TCP connections on it. Stopping an address that is not there succeeds, and so does stop on a node where the configuration does not apply: a failed stop gets the node fenced. It needs root."},
	{name: "monitor", short: "0 when the address is on its nic, 7 when it is not; at OCF_CHECK_LEVEL=10 also look for another holder",
		long: "Exits 0 when the address is on its nic with its prefix, 7 when it is not. It exits 1 when IPv6 Duplicate Address Detection failed or the address lacks its iflabel, and 7 with check_link_status when the nic is DOWN or LOWERLAYERDOWN. At OCF_CHECK_LEVEL=10 it also asks the link whether another host answers for the address (a split brain, exit 1). With arp_count_refresh it announces the address again. A monitor whose OCF_RESKEY_CRM_meta_interval is 0 or unset is a probe: on a node where the configuration cannot apply it answers 7, not running."},
	{name: "status", short: "as monitor, and print running or stopped",
		long: "The LSB-style check: exits 0 and prints running when the address is on its nic, 7 and stopped when it is not, without monitor's deeper checks."},
	{name: "reload-agent", short: "apply new announcement and check parameters without moving the address (OCF 1.1)",
		long: "Applies a change of the parameters that shape only the announcements and the checks (" + strings.Join(metadata.Reloadable(), ", ") + ") without moving the address: it validates, replaces a background sender and announces once. Pacemaker 2.1 and later call it instead of a restart when only those changed, since the OCF 1.1 meta-data marks them reloadable."},
	{name: "validate-all", short: "check the parameters against this node",
		long: "Checks the parameters, and that they fit this node: the nic exists, a route covers the address unless nic and cidr_netmask are both given, the nic carries Ethernet frames, the label fits. It changes nothing. It exits 0 when start could add the address here, else with the code start would give and one ocf-exit-reason line on stderr."},
	{name: "meta-data", short: "print the OCF meta-data XML",
		long: "Prints the OCF meta-data XML alone on stdout: the parameters with their types and this platform's defaults, the actions with Pacemaker's default timeouts, and floatip's version. When OCF_RA_VERSION_MAJOR and OCF_RA_VERSION_MINOR say 1.1 or later (Pacemaker 2.1 and later), the OCF 1.1 form, which marks the reloadable parameters."},
	{name: "usage", short: "print this usage",
		long: "Prints the usage: the actions, and the parameters with their types and defaults. --help and -h print the same."},
	{name: "help", args: "[action]", max: 1, short: "print this usage, or explain one action",
		long: "Alone, prints the usage. help action explains that action."},
	{name: "announce", short: "send the announcement burst again now",
		long: "Sends the announcement burst of an address that is on its nic again, arp_count times every arp_interval ms, and changes nothing: after a switch was replaced, or to see what the neighbours learn. It exits 7 when the address is not on its nic. It needs root, for the raw socket."},
	{name: "doctor", short: "check this node for what would break a failover",
		long: "Checks this node for what would break a failover of the address and prints each check on stdout as OK, WARN, FAIL or SKIP, with a fix for each that is not OK: that the configuration validates (with the reason when it does not), the nic's link, whether the address is held here and on which nic, the kernel settings that hide it (arp_ignore, arp_filter, drop_gratuitous_arp and rp_filter for IPv4; disable_ipv6, accept_dad and drop_unsolicited_na for IPv6), another host that answers for it, HA_RSCTMP, and whether kill_connections can work. SKIP is a check it could not make, such as asking a link that is down, or asking at all without root. It changes nothing. Its exit codes are its own: 0 when every check passed, 1 when some only warned or could not be made, 2 when one failed. Run it as root."},
	{name: "version", short: "print the version",
		long: "Prints floatip and its version. --version and -V do the same."},
	{name: "man", short: "print the manual page floatip(8)",
		long: "Prints this manual, floatip(8), as roff, rendered from the meta-data: floatip man | man -l -"},
	{name: "completion", args: "bash", max: 1, short: "print a bash completion script",
		long: "completion bash prints a bash completion script for the actions and the parameter flags: source <(floatip completion bash), or save it as /usr/share/bash-completion/completions/floatip."},
}

// lookupCommand returns the command called name.
func lookupCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// actionNames are the names of the commands, for messages.
func actionNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}

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
	b.WriteString("flags named after the parameters override them. A bool is true,\n")
	b.WriteString("false, yes, no, on, off, 1 or 0; --name alone means true.\n\n")
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
