package main

import (
	"fmt"
	"strings"

	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

// exitMeanings say what each OCF exit code means from floatip, for the
// man page.
var exitMeanings = map[ocf.Status]string{
	ocf.Success:          "The action succeeded; for monitor and status, the address is on its nic.",
	ocf.ErrGeneric:       "The action failed, for the reason its ocf-exit-reason line gives: the kernel refused a change, IPv6 Duplicate Address Detection failed, another host answers for the address.",
	ocf.ErrArgs:          "The command line is wrong: an unknown flag, a flag without its value, or an argument after the action.",
	ocf.ErrUnimplemented: "The action is not one of floatip's.",
	ocf.ErrPerm:          "start or stop ran without root.",
	ocf.ErrInstalled:     "start found no nic on this node for the address: no connected route covers it. Pacemaker tries another node.",
	ocf.ErrConfigured:    "The configuration cannot work: a parameter is wrong, or the nic it names does not exist.",
	ocf.NotRunning:       "The address is not on its nic (monitor, status, announce), or the configuration cannot apply on this node (a probe).",
}

// manPage renders floatip(8) from the meta-data and the commands, so that
// the page, --help and the XML cannot drift apart. defaults are the
// parameters' defaults on this platform, date the release date.
func manPage(md *metadata.Agent, defaults map[string]string, date string) string {
	m := &man{}
	m.head(md, date)
	m.synopsis()
	m.description(md)
	m.actions()
	m.parameters(md, defaults)
	m.options()
	m.exitStatus()
	m.files()
	m.environment()
	m.examples()
	m.seeAlso()
	return m.b.String()
}

// man is floatip(8) being written, one section after another.
type man struct{ b strings.Builder }

// p writes one line of roff.
func (m *man) p(format string, args ...any) { fmt.Fprintf(&m.b, format+"\n", args...) }

// head writes the title and the name.
func (m *man) head(md *metadata.Agent, date string) {
	m.p(`.TH FLOATIP 8 "%s" "floatip %s" "System Administration"`, roffArg(date), roffArg(version))
	m.p(".SH NAME")
	m.p(`floatip \- %s`, roff(md.ShortDesc))
}

// synopsis writes how floatip is called.
func (m *man) synopsis() {
	m.p(".SH SYNOPSIS")
	m.p(".B floatip")
	m.p(".I action")
	m.p(`.RB [ \-\-\fIparameter\fP " \fIvalue\fP" ...]`)
	m.p(".br")
	m.p(".B floatip help")
	m.p(".RI [ action ]")
	m.p(".br")
	m.p(".BI OCF_RESKEY_ip= address")
	m.p(".B /usr/lib/ocf/resource.d/floatip/IPaddr2")
	m.p(".I action")
}

// description writes what floatip is and how it reads its parameters.
func (m *man) description(md *metadata.Agent) {
	m.p(".SH DESCRIPTION")
	paragraphs(&m.b, ".PP", md.LongDesc)
	m.p(".PP")
	m.p("Pacemaker runs it as the resource agent ocf:floatip:IPaddr2, with the parameters in the environment as OCF_RESKEY_\\fIname\\fP. By hand, a flag named after a parameter overrides the environment: \\fB\\-\\-ip\\fP 198.18.0.100 is OCF_RESKEY_ip=198.18.0.100. Each flag is given once: a parameter given twice is a usage error. A \\fIbool\\fP is true, false, yes, no, on, off, 1 or 0, and the flag alone means true.")
}

// actions writes the table of commands.
func (m *man) actions() {
	m.p(".SH ACTIONS")
	for _, c := range commands {
		m.p(".TP")
		if c.args != "" {
			m.p(`.BI "%s " "%s"`, roff(c.name), roff(c.args))
		} else {
			m.p(".B %s", roff(c.name))
		}
		m.p("%s", roff(c.long))
	}
}

// parameters writes the meta-data's parameters with this platform's defaults.
func (m *man) parameters(md *metadata.Agent, defaults map[string]string) {
	m.p(".SH PARAMETERS")
	for _, prm := range md.Parameters {
		m.p(".TP")
		m.p(`.BI \-\-%s " %s"`, roff(prm.Name), flagType(prm.Name))
		desc := strings.TrimSuffix(prm.ShortDesc, ".")
		if note := metadata.CompatibilityNote(prm.Name, false); note != "" {
			desc += " " + note
		}
		desc += "."
		if prm.Required {
			desc += " Required."
		}
		m.p("%s", roff(desc))
		paragraphs(&m.b, ".IP", prm.LongDesc)
		m.p(".IP")
		switch d := defaults[prm.Name]; {
		case d == "" && emptyDefaults[prm.Name] != "":
			m.p("Default: %s.", roff(emptyDefaults[prm.Name]))
		case d == "":
			m.p("No default.")
		default:
			m.p(`Default: \fB%s\fP.`, roff(d))
		}
		m.p(`Environment: OCF_RESKEY_%s.`, roff(prm.Name))
	}
}

// options writes the flags that are not parameters.
func (m *man) options() {
	m.p(".SH OPTIONS")
	m.p(".TP")
	m.p(`.BR \-h ", " \-\-help`)
	m.p("Print the usage, as the usage action does.")
	m.p(".TP")
	m.p(`.BR \-V ", " \-\-version`)
	m.p("Print the version, as the version action does.")
}

// exitStatus writes the OCF exit codes as floatip means them.
func (m *man) exitStatus() {
	m.p(".SH EXIT STATUS")
	m.p("The OCF exit codes, which Pacemaker reads as the result of the action; a failure also prints one line")
	m.p(`.BI ocf\-exit\-reason: text`)
	m.p("on stderr, which pcs status shows.")
	for st := ocf.Success; st <= ocf.NotRunning; st++ {
		m.p(".TP")
		m.p(`.BR %d " (%s)"`, int(st), roff(st.String()))
		m.p("%s", roff(exitMeanings[st]))
	}
	m.p(".PP")
	m.p(`The doctor action has codes of its own: 0 when every check passed, 1 when some only warned or could not be made, 3 when one failed; 2, as for every action, is a command line it cannot read.`)
}

// files writes the files floatip reads and keeps.
func (m *man) files() {
	m.p(".SH FILES")
	for _, f := range [][2]string{
		{"/usr/sbin/floatip", "The binary."},
		{"/usr/lib/ocf/resource.d/floatip/IPaddr2", "A symbolic link to it, which Pacemaker finds as ocf:floatip:IPaddr2."},
		{"$HA_RSCTMP/floatip\\-\\fIip\\fP@net\\fIinode\\fP.lock", "The lock that keeps two operations on one address from interleaving; stop removes it. inode is the network namespace's, as lsns(8) shows it: the same address in two namespaces has files of its own in each."},
		{"$HA_RSCTMP/floatip\\-announce\\-\\fIip\\fP@net\\fIinode\\fP.pid", "The pid of the background sender that finishes a start's announcement burst (arp_bg)."},
		{"$HA_VARLIB/trace_ra/IPaddr2/\\fIinstance\\fP.\\fIaction\\fP.\\fIdate\\fP", "A trace of one action, with trace_ra (HA_VARLIB is /var/lib/heartbeat by default)."},
		{"/etc/os-release", "Decides the defaults that depend on the distribution, such as check_link_status."},
	} {
		m.p(".TP")
		m.p(`.B %s`, f[0])
		m.p("%s", roff(f[1]))
	}
}

// environment writes the variables floatip reads.
func (m *man) environment() {
	m.p(".SH ENVIRONMENT")
	for _, e := range [][2]string{
		{"OCF_RESKEY_\\fIname\\fP", "The value of parameter name; a flag of that name overrides it."},
		{"OCF_RESKEY_CRM_meta_timeout", "The operation's timeout in ms: the action answers a little before it, so that Pacemaker records its result rather than a timeout."},
		{"OCF_RESKEY_CRM_meta_interval", "The interval of a recurring monitor in ms; 0 or unset makes a monitor a probe."},
		{"OCF_CHECK_LEVEL", "10 makes monitor also ask the link whether another host answers for the address."},
		{"OCF_RESOURCE_INSTANCE", "The resource's name, which the log lines carry."},
		{"OCF_RA_VERSION_MAJOR, OCF_RA_VERSION_MINOR", "The OCF version the caller speaks; 1.1 or later gets the OCF 1.1 meta-data."},
		{"OCF_ROOT", "Where Pacemaker looks for agents, /usr/lib/ocf. floatip itself needs neither it nor the OCF shell functions."},
		{"HA_RSCTMP", "The directory of the lock and pid files, " + ocf.DefaultRscTmp + " by default."},
		{"OCF_TRACE_RA", "True traces the action, as the trace_ra parameter does; when set, it overrides trace_ra, so that OCF_TRACE_RA=0 turns a configured trace off."},
		{"OCF_TRACE_FILE", "Where the trace goes, overriding trace_file: a file descriptor from 3 to 9 or an absolute path."},
		{"HA_VARLIB", "The base of the default trace directory, " + ocf.DefaultVarLib + " by default."},
		{"HA_LOGFACILITY", "The syslog facility for the log lines as well as stderr (daemon, local0, ...); unset or none logs to stderr only. The background sender, whose stderr is /dev/null, logs to daemon when it is unset."},
		{"HA_LOGFILE", "A file the log lines are appended to as well, as ha_log does: the background sender's too."},
		{"HA_debug", "1 logs debug lines too."},
	} {
		m.p(".TP")
		m.p(`.B %s`, e[0])
		m.p("%s", roff(e[1]))
	}
}

// examples writes the examples.
func (m *man) examples() {
	m.p(".SH EXAMPLES")
	m.p("Create the resource with pcs, and with crm:")
	example(&m.b,
		`pcs resource create vip ocf:floatip:IPaddr2 \`,
		"    ip=198.18.0.100 cidr_netmask=24 op monitor interval=10s",
		`crm configure primitive vip ocf:floatip:IPaddr2 \`,
		"    params ip=198.18.0.100 cidr_netmask=24 op monitor interval=10s")
	m.p(".PP")
	m.p("Run the actions by hand, as Pacemaker would, or with flags:")
	example(&m.b,
		"OCF_RESKEY_ip=198.18.0.100 OCF_RESKEY_cidr_netmask=24 floatip start",
		"floatip monitor --ip 198.18.0.100; echo $?",
		"floatip stop --ip 198.18.0.100 --cidr_netmask 24")
	m.p(".PP")
	m.p("Check a node before the address moves to it:")
	example(&m.b, "floatip doctor --ip 198.18.0.100")
	m.p(".PP")
	m.p("Read this page, and complete the actions and flags in bash:")
	example(&m.b, "floatip man | man -l -", "source <(floatip completion bash)")
}

// seeAlso writes the related pages.
func (m *man) seeAlso() {
	m.p(".SH SEE ALSO")
	m.p(".BR ocf_heartbeat_IPaddr2 (7),")
	m.p(".BR pcs (8),")
	m.p(".BR crm (8),")
	m.p(".BR crm_resource (8),")
	m.p(".BR ip (8),")
	m.p(".BR sysctl (8)")
}

// example writes lines as a displayed example, in no-fill mode so that
// each line stays as written.
func example(b *strings.Builder, lines ...string) {
	b.WriteString(".PP\n.RS 4\n.nf\n")
	for _, l := range lines {
		fmt.Fprintf(b, "%s\n", roff(l))
	}
	b.WriteString(".fi\n.RE\n")
}

// paragraphs writes text as roff paragraphs, one per blank-line block,
// each after macro: .PP at the left margin, .IP within a .TP item.
func paragraphs(b *strings.Builder, macro, text string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	for _, para := range strings.Split(text, "\n\n") {
		fmt.Fprintf(b, "%s\n%s\n", macro, roff(strings.Join(strings.Fields(para), " ")))
	}
}

// roff escapes text for a roff text line: backslashes, dashes, and a
// leading control character.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffArg escapes text for a quoted macro argument, which a double quote
// would end.
func roffArg(s string) string {
	return strings.ReplaceAll(roff(s), `"`, `\(dq`)
}
