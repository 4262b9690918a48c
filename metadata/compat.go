package metadata

// compatibilityOnly are the parameters that floatip takes only so that a
// resource made for heartbeat:IPaddr2 moves over unchanged, each with why
// it changes nothing here: floatip checks the value as IPaddr2 would and
// then does without it. The meta-data still declares them as IPaddr2
// does, because pcs refuses a parameter the agent does not declare; the
// usage, the man page and the guide's parameter reference mark them, from
// this table.
var compatibilityOnly = map[string]string{
	"arp_sender":         "floatip sends the announcements itself",
	"send_arp_opts":      "floatip runs no ARP program",
	"clusterip_hash":     "the source address alone is hashed",
	"clusterip_firewall": "every value means the same nftables rules",
	"clusterip_table":    "the rules are in an nftables table of their own",
	"clusterip_chain":    "the rules are in an nftables table of their own",
}

// CompatibilityOnly says whether floatip takes the parameter name only
// for compatibility with heartbeat:IPaddr2, and why it changes nothing.
func CompatibilityOnly(name string) (why string, ok bool) {
	why, ok = compatibilityOnly[name]
	return why, ok
}

// CompatibilityNote is how the man page and the guide mark a parameter
// of CompatibilityOnly, with why, "" for any other. The usage, which
// keeps a parameter to a line, gives it without the why (brief).
func CompatibilityNote(name string, brief bool) string {
	why, ok := compatibilityOnly[name]
	switch {
	case !ok:
		return ""
	case brief:
		return "(compatibility only)"
	}
	return "(compatibility only: " + why + ")"
}
