// The doctor's checks, one function each, and the kernel settings it judges.

package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/floatip/floatip/internal/netif"
)

// addFunc records a finding of a check.
type addFunc func(l Level, check, what, fix string)

// checkLink judges the nic's link and says whether it can be asked.
func (a *Agent) checkLink(t *target, add addFunc) bool {
	l := t.link
	switch {
	case l.Loopback:
		add(OK, "link", l.Name+" is the loopback device: there are no neighbours to tell", "")
		return false
	case !l.Up:
		add(Fail, "link", l.Name+" is DOWN: an admin set it down", "ip "+a.nsArg(t)+"link set "+l.Name+" up")
		return false
	case !l.Carrier || linkDown(l):
		add(Fail, "link", l.Name+" is up but has no carrier (LOWERLAYERDOWN)",
			"check the cable, the switch port, or the peer of "+l.Name+" (a veth's other end, a bond's slaves, a VLAN's parent)")
		return false
	}
	add(OK, "link", l.Name+" is up and has carrier", "")
	return true
}

// checkAddress says whether the address is held here, and where.
func (a *Agent) checkAddress(t *target, add addFunc) {
	ad, err := a.lookup(t)
	if err != nil {
		add(Skip, "address", fmt.Sprintf("could not read the addresses of %s: %v", t.link.Name, err), "run the doctor as root")
		return
	}
	switch {
	case ad != nil && ad.Flags&netif.FlagDADFailed != 0:
		add(Fail, "address", fmt.Sprintf("%s is on %s, but its Duplicate Address Detection failed: another host on the link holds it", t.prefix, t.link.Name),
			"find that host and remove the address there, then stop and start the resource")
	case ad != nil:
		add(OK, "address", fmt.Sprintf("%s is held here, on %s", t.prefix, t.link.Name), "")
	default:
		add(OK, "address", fmt.Sprintf("%s is not held here: start would add it to %s", t.prefix, t.link.Name), "")
	}
	others, err := t.k.AddrsOf(t.cfg.IP)
	if err != nil {
		return
	}
	for _, o := range others {
		if o.LinkIndex == t.link.Index && o.Prefix == t.prefix {
			continue
		}
		where, fate := "link "+strconv.Itoa(o.LinkIndex), "stop removes it too"
		if l, err := t.k.LinkByIndex(o.LinkIndex); err == nil {
			where = l.Name
			if l.Loopback && l.Index != t.link.Index {
				// LVS direct routing's copy (lvs.go).
				fate = "stop will leave it there"
			}
		}
		add(Warn, "address", fmt.Sprintf("%s is also on %s as %s, which the resource does not manage: %s", t.cfg.IP, where, o.Prefix, fate),
			fmt.Sprintf("ip %saddr del %s dev %s", a.nsArg(t), o.Prefix, where))
	}
}

// checkSysctls judges each kernel setting of sysctlRules once.
func (a *Agent) checkSysctls(t *target, add addFunc) {
	for i := 0; i < len(sysctlRules); {
		r := sysctlRules[i]
		j := i
		for j < len(sysctlRules) && sysctlRules[j].name == r.name {
			j++
		}
		rules := sysctlRules[i:j]
		i = j
		if r.ipv6 != t.cfg.Is6() {
			continue
		}
		vals, err := a.sysctlValues(t, r.name)
		if err != nil {
			add(Skip, "sysctl", fmt.Sprintf("%s not checked: %v", sysctlName(r.name, t.link.Name), err), "")
			continue
		}
		// The kernel applies the larger of the two values; each that is
		// bad on its own must change, or it takes over.
		judge := func(v int) (Level, sysctlRule) {
			level, worst := OK, rules[0]
			for _, rule := range rules {
				l := OK
				if rule.bad != nil {
					l = rule.bad(v)
				} else {
					l = a.rpFilter(t, v)
				}
				if l > level {
					level, worst = l, rule
				}
			}
			return level, worst
		}
		eff := vals[0]
		if vals[1].v > eff.v {
			eff = vals[1]
		}
		level, rule := judge(eff.v)
		if level == OK {
			add(OK, "sysctl", fmt.Sprintf("%s=%d (all=%d)", vals[0].name, vals[0].v, vals[1].v), "")
			continue
		}
		why := rule.why
		if rule.bad == nil && level == Warn {
			why = "strict reverse-path filtering: harmless while " + t.link.Name + " is this node's only nic with routes, but it drops traffic to the address once a route back leads out of another nic"
		}
		var fixes []string
		for _, s := range vals {
			if l, _ := judge(s.v); l > OK {
				fixes = append(fixes, "sysctl -w "+s.name+"="+rule.good)
			}
		}
		add(level, "sysctl", fmt.Sprintf("%s=%d: %s", eff.name, eff.v, why),
			a.inNS(t, strings.Join(fixes, "; "))+", and make it permanent in /etc/sysctl.d/")
	}
}

// rpFilter judges rp_filter=1, strict reverse-path filtering: it drops a
// packet whose route back leads out of another nic, which takes more than
// one nic with routes. On a node with one it is a warning of what the next
// nic would bring; routes that cannot be read count as several.
func (a *Agent) rpFilter(t *target, v int) Level {
	if v != 1 {
		return OK
	}
	routes, err := t.k.Routes(netif.FamilyOf(t.cfg.IP))
	if err != nil {
		return Fail
	}
	nics := map[int]bool{}
	for _, r := range routes {
		if l, err := t.k.LinkByIndex(r.LinkIndex); err == nil && !l.Loopback {
			nics[r.LinkIndex] = true
		}
	}
	if len(nics) <= 1 {
		return Warn
	}
	return Fail
}

// sysctlValue is one setting as read.
type sysctlValue struct {
	name string
	v    int
}

// sysctlValues reads a per-interface setting for the nic and for "all":
// the kernel applies the larger of the two for each setting the doctor
// reads.
func (a *Agent) sysctlValues(t *target, format string) ([2]sysctlValue, error) {
	var out [2]sysctlValue
	for i, dev := range []string{t.link.Name, "all"} {
		name := sysctlName(format, dev)
		s, err := t.k.Sysctl(name)
		if err != nil {
			return out, err
		}
		v, err := strconv.Atoi(s)
		if err != nil {
			return out, fmt.Errorf("%s is %q, not a number", name, s)
		}
		out[i] = sysctlValue{name, v}
	}
	return out, nil
}

// sysctlName is the dotted name of a per-interface setting of dev. A dot
// in the nic's name (a VLAN, eth0.100) becomes a slash, as sysctl(8)
// writes it, so that it is not read as a separator.
func sysctlName(format, dev string) string {
	return fmt.Sprintf(format, strings.ReplaceAll(dev, ".", "/"))
}

// checkNeighbours asks the link whether another host holds the address,
// when the link can be asked.
func (a *Agent) checkNeighbours(ctx context.Context, t *target, linkOK bool, add addFunc) {
	switch {
	case t.link.Loopback:
		return
	case !linkOK:
		add(Skip, "neighbours", fmt.Sprintf("link down: could not ask the link whether another host answers for %s", t.cfg.IP),
			"bring "+t.link.Name+"'s link up, then run the doctor again")
		return
	}
	on, _ := a.served(t)
	who, err := t.k.Probe(ctx, t.link, t.cfg.IP)
	switch {
	case err != nil:
		fix := "run the doctor again"
		if errors.Is(err, os.ErrPermission) {
			fix = "run the doctor as root: asking the link takes a raw socket"
		}
		add(Skip, "neighbours", fmt.Sprintf("could not ask %s whether another host answers for %s: %v", t.link.Name, t.cfg.IP, err), fix)
	case who != "" && on:
		add(Fail, "neighbours", fmt.Sprintf("split brain: %s also answers for %s, which this node holds", who, t.cfg.IP), "find that host and remove the address there")
	case who != "":
		add(Fail, "neighbours", fmt.Sprintf("%s already answers for %s: start here would take an address in use", who, t.cfg.IP), "stop the address there first")
	default:
		add(OK, "neighbours", fmt.Sprintf("no other host answers for %s on %s", t.cfg.IP, t.link.Name), "")
	}
}

// checkRscTmp judges HA_RSCTMP, where the locks and the pid files go.
func (a *Agent) checkRscTmp(add addFunc) {
	dir := a.Env.RscTmp
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		add(OK, "rsctmp", "HA_RSCTMP "+dir+" does not exist yet: start creates it", "")
	case err != nil:
		add(Skip, "rsctmp", fmt.Sprintf("could not look at HA_RSCTMP %s: %v", dir, err), "")
	case !fi.IsDir():
		add(Warn, "rsctmp", "HA_RSCTMP "+dir+" is not a directory: the actions go without their lock and the background sender without its pid file",
			"remove "+dir+", or point HA_RSCTMP at a directory")
	default:
		add(OK, "rsctmp", "HA_RSCTMP "+dir+" exists", "")
	}
}

// nsArg is "-n <ns> " for an address in another network namespace, so
// that an ip command in a fix works as given.
func (a *Agent) nsArg(t *target) string {
	if t.cfg.NetworkNamespace == "" {
		return ""
	}
	return "-n " + t.cfg.NetworkNamespace + " "
}

// inNS prefixes cmd to run in the address's network namespace.
func (a *Agent) inNS(t *target, cmd string) string {
	if t.cfg.NetworkNamespace == "" {
		return cmd
	}
	return "ip netns exec " + t.cfg.NetworkNamespace + " " + cmd
}

// validationReason is the exit reason validate-all gives for err, as
// statusFor words it.
func validationReason(err error) string {
	var re *resolveError
	if errors.As(err, &re) && re.why == noRoute {
		return "Unable to find nic or netmask: " + err.Error()
	}
	return err.Error()
}

// configFix says what to do about a configuration that does not validate.
func configFix(err error) string {
	var re *resolveError
	if !errors.As(err, &re) {
		return "run the doctor as root"
	}
	switch re.why {
	case missingIP:
		return "give the address: --ip 198.18.0.100, or OCF_RESKEY_ip"
	case noNic, badNicName:
		return "name an interface of this node (ip -br link), or leave nic empty for the routes to choose"
	case noRoute:
		return "give nic and cidr_netmask, or give a nic an address in the floating address's subnet, so that a connected route covers it (ip route); a nic that is down has no connected routes (ip -br link)"
	case noNamespace:
		return "create the namespace (ip netns add), or correct network_namespace"
	case notEthernet:
		return "put the address on an Ethernet nic: floatip announces with Ethernet frames"
	case labelTooLong:
		return "shorten iflabel: nic:label must fit in 15 characters"
	case kernelError:
		return "run the doctor as root"
	}
	return "correct the parameter the reason names (floatip --help lists them)"
}

// sysctlRule is a kernel setting that defeats announcements or the address.
type sysctlRule struct {
	// name has %s for the nic; the effective value is the larger of the
	// nic's and "all"'s.
	name string
	ipv6 bool
	// bad says whether v breaks a failover, and how badly.
	bad  func(v int) Level
	why  string
	good string
}

func badIf(cond func(v int) bool) func(int) Level {
	return func(v int) Level {
		if cond(v) {
			return Fail
		}
		return OK
	}
}

// sysctlRules are the settings the doctor reads. Rules for one setting
// follow each other; the first bad one speaks for it.
var sysctlRules = []sysctlRule{
	{"net.ipv4.conf.%s.arp_ignore", false, badIf(func(v int) bool { return v >= 8 }),
		"this node answers no ARP request, so clients cannot find the address once their cache expires", "0"},
	{"net.ipv4.conf.%s.arp_ignore", false, badIf(func(v int) bool { return v == 2 || v == 3 }),
		"this node answers ARP only for addresses in the asker's subnet or of global scope: clients outside the address's prefix get no answer", "0"},
	{"net.ipv4.conf.%s.drop_gratuitous_arp", false, badIf(func(v int) bool { return v != 0 }),
		"this node ignores gratuitous ARP, so it keeps stale entries when the address moves to another node", "0"},
	{"net.ipv4.conf.%s.arp_filter", false, badIf(func(v int) bool { return v != 0 }),
		"this node answers ARP only on the interface it would route the reply through, which can hide the address when several nics share a subnet", "0"},
	// rp_filter: judged by rpFilter, which knows how many nics route.
	{"net.ipv4.conf.%s.rp_filter", false, nil,
		"strict reverse-path filtering drops traffic to the address that arrives on another nic than the route back", "2"},
	{"net.ipv6.conf.%s.disable_ipv6", true, badIf(func(v int) bool { return v != 0 }),
		"IPv6 is disabled on the nic: the address cannot be added", "0"},
	{"net.ipv6.conf.%s.accept_dad", true, badIf(func(v int) bool { return v == 0 }),
		"Duplicate Address Detection is off: start cannot see another node that holds the address", "1"},
	{"net.ipv6.conf.%s.drop_unsolicited_na", true, badIf(func(v int) bool { return v != 0 }),
		"this node ignores unsolicited Neighbor Advertisements, so it keeps stale entries when the address moves", "0"},
}
