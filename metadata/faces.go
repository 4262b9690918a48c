package metadata

import (
	"bytes"
	"slices"
)

// Reloadable are the parameters that shape only the announcements and the
// checks, never where or how the address sits: a change of these alone
// is applied by the reload-agent action, without moving the address
// (OCF 1.1). Pacemaker restarts the resource for a change of any other.
func Reloadable() []string {
	return []string{
		"arp_interval", "arp_count", "arp_count_refresh", "arp_bg", "arp_sender", "send_arp_opts",
		"run_arping", "announce_to", "kill_connections", "check_link_status", "trace_ra", "trace_file",
	}
}

// ReloadAgentTimeout is the timeout the OCF 1.1 face advises for
// reload-agent: it validates, replaces a sender and announces once, no
// more than a start does.
const ReloadAgentTimeout = "20s"

// XML11 turns the meta-data document doc (OCF 1.0, what ocf-tester and
// resource-agents' DTD accept) into its OCF 1.1 face, for a caller that
// speaks 1.1 (Pacemaker 2.1 and later): version 1.1, reloadable="1" on
// the Reloadable parameters, the reload-agent action, and ip in a unique
// group of its own, which is how OCF 1.1 says what unique="1" said (pcs
// ignores unique in a 1.1 document). Nothing else differs; a test holds
// the two faces to that.
func XML11(doc []byte) []byte {
	out := bytes.Replace(doc, []byte("<version>1.0</version>"), []byte("<version>1.1</version>"), 1)
	out = bytes.Replace(out, []byte(`<parameter name="ip" unique="1"`), []byte(`<parameter name="ip" unique-group="ip" unique="1"`), 1)
	for _, name := range Reloadable() {
		tag := []byte(`<parameter name="` + name + `"`)
		out = bytes.Replace(out, tag, append(slices.Clone(tag), ` reloadable="1"`...), 1)
	}
	action := []byte(`<action name="meta-data"`)
	reload := []byte(`<action name="reload-agent" timeout="` + ReloadAgentTimeout + `" />` + "\n")
	return bytes.Replace(out, action, append(reload, action...), 1)
}

// WithVersion returns the meta-data document doc with the agent's version,
// the version attribute of <resource-agent>, set to v: the version of the
// binary that prints it (main.version, from the build), so that pcs
// resource describe and crm ra info name the floatip actually installed
// rather than the version the XML was written for. An empty v, or a
// document without the attribute, leaves doc as it is. The value is
// escaped for the attribute, since a build may set any string.
func WithVersion(doc []byte, v string) []byte {
	if v == "" {
		return doc
	}
	tag := bytes.Index(doc, []byte("<resource-agent "))
	if tag < 0 {
		return doc
	}
	end := bytes.IndexByte(doc[tag:], '>')
	if end < 0 {
		return doc
	}
	attr := []byte(` version="`)
	at := bytes.Index(doc[tag:tag+end], attr)
	if at < 0 {
		return doc
	}
	at += tag + len(attr)
	n := bytes.IndexByte(doc[at:], '"')
	if n < 0 {
		return doc
	}
	out := make([]byte, 0, len(doc)+len(v))
	out = append(out, doc[:at]...)
	out = append(out, escapeAttr(v)...)
	return append(out, doc[at+n:]...)
}
