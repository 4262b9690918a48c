package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/floatip/floatip/internal/agent"
	"github.com/floatip/floatip/internal/doctor"
	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

// command is an action a human or Pacemaker can ask for, declared once:
// its name, its help, and how it runs. usage, help <action>, the man page,
// the completion script and run all read the table of them, so that they
// cannot drift apart.
type command struct {
	// name is the action's name; an action of the agent takes the
	// agent's name for it.
	name string
	// args are the words the action takes after its name, for its usage
	// line; max is how many it takes at most.
	args string
	max  int
	// short is its line in usage, long what help <action> and the man
	// page say of it.
	short, long string
	// local carries out an action of the command line itself, which
	// reads neither the resource's parameters nor the node.
	local func(inv *invocation, args []string) ocf.Status
	// agent is the agent's action that carries out an action of the
	// resource; its role picks the exit codes (see agent.Action).
	agent agent.Action
	// handler makes what an action of the resource runs, with the agent
	// made for it; nil is the agent's handler of agent.
	handler func(inv *invocation, a *agent.Agent) ocf.Action
	// codes names the action's exit code for the trace when its codes
	// are its own, not OCF's; nil names it as an ocf.Status.
	codes func(ocf.Status) ocf.ExitCode
	// sender says that the action is what the background sender of a
	// burst runs (--background-sender): that sender outlives the
	// operation that started it, whose timeout it inherited, so its
	// bound is its own burst.
	sender bool
}

// commands lists the actions in the order usage shows them. The reloadable
// parameters come from the meta-data, which decides them. It is filled in
// init because the help actions read the table they stand in.
var commands []command

func init() {
	commands = []command{
		{agent: agent.Start, short: "add the address and announce it",
			long: "Adds the address to its nic and announces it: gratuitous ARP (a request and a reply) for IPv4, an unsolicited Neighbor Advertisement to ff02::1 for IPv6, arp_count times every arp_interval ms, the rest of the burst in the background when arp_bg says so. Without nic or cidr_netmask, the routes of the main table decide them, as IPaddr2's findif does. An IPv6 address waits for Duplicate Address Detection unless nodad is set. Starting an address that is already there succeeds. It needs root, and exits 4 without it; 5 when no nic here can carry the address, 6 for a configuration that cannot work, 1 for any other failure."},
		{agent: agent.Stop, short: "stop the announcer and remove the address",
			long: "Stops the background announcer, removes the address and, with kill_connections, ends the TCP connections on it. Stopping an address that is not there succeeds, and so does stop on a node where the configuration does not apply: a failed stop gets the node fenced. It needs root."},
		{agent: agent.Monitor, short: "0 when the address is on its nic, 7 when it is not; at OCF_CHECK_LEVEL=10 also look for another holder",
			long: "Exits 0 when the address is on its nic with its prefix, 7 when it is not. It exits 1 when IPv6 Duplicate Address Detection failed or the address lacks its iflabel, and 7 with check_link_status when the nic is DOWN or LOWERLAYERDOWN. At OCF_CHECK_LEVEL=10 it also asks the link whether another host answers for the address (a split brain, exit 1). With arp_count_refresh it announces the address again. A monitor whose OCF_RESKEY_CRM_meta_interval is 0 or unset is a probe: on a node where the configuration cannot apply it answers 7, not running."},
		{agent: agent.Status, short: "as monitor, and print running or stopped",
			long: "The plain check, as IPaddr2's status: exits 0 and prints running when the address is on its nic, 7 (OCF's not running, not LSB's 3) and stopped when it is not, without monitor's deeper checks."},
		{agent: agent.ReloadAgent, short: "apply new announcement and check parameters without moving the address (OCF 1.1)",
			long: "Applies a change of the parameters that shape only the announcements and the checks (" + strings.Join(metadata.Reloadable(), ", ") + ") without moving the address: it validates, replaces a background sender and announces once. Pacemaker 2.1 and later call it instead of a restart when only those changed, since the OCF 1.1 meta-data marks them reloadable."},
		{agent: agent.ValidateAll, short: "check the parameters against this node",
			long: "Checks the parameters, and that they fit this node: the nic exists, a route covers the address unless nic and cidr_netmask are both given, the nic carries Ethernet frames, the label fits. It changes nothing. It exits 0 when start could add the address here, else with IPaddr2's validate-all code and one ocf-exit-reason line on stderr: 6 for a value that cannot work (also a nic this node lacks, where start says 5), 1 when no route covers the address, 5 when the network_namespace is missing."},
		{name: "meta-data", local: printMetadata, short: "print the OCF meta-data XML",
			long: "Prints the OCF meta-data XML alone on stdout: the parameters with their types and this platform's defaults, the actions with Pacemaker's default timeouts, and floatip's version. When OCF_RA_VERSION_MAJOR and OCF_RA_VERSION_MINOR say 1.1 or later (Pacemaker 2.1 and later), the OCF 1.1 form, which marks the reloadable parameters."},
		{name: "usage", local: printHelp, short: "print this usage",
			long: "Prints the usage: the actions, and the parameters with their types and defaults. --help and -h print the same."},
		{name: "help", args: "[action]", max: 1, local: printHelp, short: "print this usage, or explain one action",
			long: "Alone, prints the usage. help action explains that action."},
		{agent: agent.Announce, handler: announceHandler, sender: true, short: "send the announcement burst again now",
			long: "Sends the announcement burst of an address that is on its nic again, arp_count times every arp_interval ms, and changes nothing: after a switch was replaced, or to see what the neighbours learn. It exits 7 when the address is not on its nic. It needs root, for the raw socket."},
		{name: "doctor", handler: doctorHandler, codes: doctorCode, short: "check this node for what would break a failover",
			long: "Checks this node for what would break a failover of the address and prints each check on stdout as OK, WARN, FAIL or SKIP, with a fix for each that is not OK: that the configuration validates (with the reason when it does not), the nic's link, whether the address is held here and on which nic, the kernel settings that hide it (arp_ignore, arp_filter, drop_gratuitous_arp and rp_filter for IPv4; disable_ipv6, accept_dad and drop_unsolicited_na for IPv6), another host that answers for it, HA_RSCTMP, and whether kill_connections can work. SKIP is a check it could not make, such as asking a link that is down, or asking at all without root. It changes nothing. Its exit codes are its own: 0 when every check passed, 1 when some only warned or could not be made, 3 when one failed; 2, as for every action, is a command line it cannot read (an unknown flag, a stray word). Run it as root."},
		{name: "version", local: printVersion, short: "print the version",
			long: "Prints floatip and its version. --version and -V do the same."},
		{name: "man", local: printMan, short: "print the manual page floatip(8)",
			long: "Prints this manual, floatip(8), as roff, rendered from the meta-data: floatip man | man -l -"},
		{name: "completion", args: "bash", max: 1, local: printCompletion, short: "print a bash completion script",
			long: "completion bash prints a bash completion script for the actions and the parameter flags: source <(floatip completion bash), or save it as /usr/share/bash-completion/completions/floatip."},
	}
	for i, c := range commands {
		if c.agent != 0 {
			commands[i].name = c.agent.String()
		}
	}
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

// printMetadata is meta-data: the XML with this platform's defaults, in
// the OCF 1.1 form when the caller speaks it.
func printMetadata(inv *invocation, _ []string) ocf.Status {
	doc := metadata.WithDefaults(metadata.XML, inv.platform)
	if inv.env.SpeaksOCF11() {
		doc = metadata.XML11(doc)
	}
	inv.stdout.Write(metadata.WithVersion(doc, version))
	return ocf.Success
}

// printHelp is usage and help [action].
func printHelp(inv *invocation, args []string) ocf.Status {
	if len(args) == 0 {
		fmt.Fprint(inv.stdout, usage(inv.prog, inv.md, inv.defaults))
		return ocf.Success
	}
	c, ok := lookupCommand(args[0])
	if !ok {
		return ocf.Fail(inv.early, ocf.ErrArgs, "help: unknown action %s: the actions are %s", quoteArg(args[0]), strings.Join(actionNames(), ", "))
	}
	fmt.Fprint(inv.stdout, actionHelp(inv.prog, c))
	return ocf.Success
}

// printVersion is version, --version and -V.
func printVersion(inv *invocation, _ []string) ocf.Status {
	fmt.Fprintf(inv.stdout, "floatip %s\n", version)
	return ocf.Success
}

// printMan is man: floatip(8) as roff.
func printMan(inv *invocation, _ []string) ocf.Status {
	fmt.Fprint(inv.stdout, manPage(inv.md, inv.defaults, manDate()))
	return ocf.Success
}

// printCompletion is completion <shell>.
func printCompletion(inv *invocation, args []string) ocf.Status {
	if len(args) == 0 || args[0] != "bash" {
		shell := "none"
		if len(args) > 0 {
			shell = quoteArg(args[0])
		}
		return ocf.Fail(inv.early, ocf.ErrArgs, "completion: shell %s: floatip completes for %s", shell, strings.Join(completionShells, ", "))
	}
	fmt.Fprint(inv.stdout, bashCompletion(inv.md))
	return ocf.Success
}

// announceHandler is announce, by hand or as the background sender of
// the burst a start began, which says how many frames start sent and in
// which namespace.
func announceHandler(inv *invocation, a *agent.Agent) ocf.Action {
	return func(ctx context.Context) ocf.Status {
		if inv.burst != nil {
			// Not through ocf.Run's context: Run would return when it
			// ends, before the burst has, and a drop must not be
			// answered while a frame may still be sent.
			ctx = inv.burst
		}
		return a.Announce(ctx, inv.sent, inv.netns)
	}
}

// doctorHandler is doctor: its findings on stdout, and its own exit code.
func doctorHandler(inv *invocation, a *agent.Agent) ocf.Action {
	d := &doctor.Doctor{Resolve: a.ResolveForDoctor, RscTmp: a.Env.RscTmp}
	return func(ctx context.Context) ocf.Status {
		return ocf.Status(doctor.Print(inv.stdout, d.Examine(ctx)))
	}
}

// doctorCode names the doctor's exit code as its own.
func doctorCode(st ocf.Status) ocf.ExitCode { return doctor.Status(st) }
