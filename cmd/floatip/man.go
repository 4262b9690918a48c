package main

import (
	"fmt"
	"strings"

	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

// commands are the actions a human or Pacemaker can ask for, with their
// help; usage and the man page both print them.
var commands = [][2]string{
	{"start", "add the address and announce it"},
	{"stop", "stop the announcer and remove the address"},
	{"monitor", "0 when the address is on its nic, 7 when it is not; at OCF_CHECK_LEVEL=10 also look for another holder"},
	{"status", "as monitor, and print running or stopped"},
	{"reload-agent", "apply new announcement and check parameters without moving the address (OCF 1.1)"},
	{"validate-all", "check the parameters against this node"},
	{"meta-data", "print the OCF meta-data XML"},
	{"announce", "send the announcement burst again now"},
	{"doctor", "check this node for what would break a failover"},
	{"version", "print the version"},
}

// manPage renders floatip(8) from the meta-data, so that the page, --help
// and the XML cannot drift apart.
func manPage(md *metadata.Agent) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p(`.TH FLOATIP 8 "" "floatip %s" "System Administration"`, roff(version))
	p(".SH NAME")
	p(`floatip \- %s`, roff(md.ShortDesc))
	p(".SH SYNOPSIS")
	p(`.B floatip`)
	p(`.I action`)
	p(`[\fB\-\-\fIparameter value\fR ...]`)
	p(".br")
	p(`.B /usr/lib/ocf/resource.d/floatip/IPaddr2`)
	p(`.I action`)
	p(".SH DESCRIPTION")
	paragraphs(&b, md.LongDesc)
	p(".PP")
	p("Run by Pacemaker, it reads its parameters from OCF_RESKEY_\\fIname\\fR; flags named after the parameters override them.")
	p(".SH ACTIONS")
	for _, c := range commands {
		p(".TP")
		p(`.B %s`, roff(c[0]))
		p("%s", roff(c[1]))
	}
	p(".SH PARAMETERS")
	for _, prm := range md.Parameters {
		p(".TP")
		def := ""
		if d := prm.Content.DefaultValue(); d != "" {
			def = fmt.Sprintf(" (default %s)", roff(d))
		}
		p(`\fB\-\-%s\fR \fI%s\fR%s`, roff(prm.Name), roff(prm.Content.Type), def)
		p("%s.", roff(strings.TrimSuffix(prm.ShortDesc, ".")))
		paragraphs(&b, prm.LongDesc)
	}
	p(".SH EXIT STATUS")
	for st := ocf.Success; st <= ocf.NotRunning; st++ {
		p(".TP")
		p(`.B %d`, int(st))
		p("%s", st)
	}
	p(".SH ENVIRONMENT")
	for _, e := range [][2]string{
		{"OCF_RESKEY_\\fIname\\fR", "the parameters"},
		{"OCF_RESKEY_CRM_meta_timeout", "the operation timeout in ms; the agent answers before it"},
		{"OCF_RESKEY_CRM_meta_interval", "0 (or unset) makes a monitor a probe"},
		{"OCF_CHECK_LEVEL", "10 makes monitor look for another holder of the address"},
		{"HA_RSCTMP", "where locks and the background sender's pid file go (/run/resource-agents)"},
		{"HA_LOGFACILITY", "the syslog facility, or none"},
		{"HA_debug", "1 logs debug lines"},
	} {
		p(".TP")
		p(`.B %s`, e[0])
		p("%s", roff(e[1]))
	}
	p(".SH SEE ALSO")
	p("crm_resource(8), pcs(8), ocf-tester(8)")
	return b.String()
}

// paragraphs writes text as roff paragraphs, one per blank-line block.
func paragraphs(b *strings.Builder, text string) {
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		fmt.Fprintf(b, ".PP\n%s\n", roff(strings.Join(strings.Fields(para), " ")))
	}
}

// roff escapes text for a roff line: backslashes, dashes, and a leading
// control character.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
