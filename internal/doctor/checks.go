// The doctor's checks, one function each, and the kernel settings it judges.

package doctor

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

// held returns the address where it belongs, nil when it is not there.
func (s *Subject) held() (*netif.Addr, error) {
	return s.Node.AddrOn(s.Link, s.Prefix, s.Label)
}

// checkLink judges the nic's link and says whether it can be asked.
func (s *Subject) checkLink(add addFunc) bool {
	l := s.Link
	switch {
	case l.Loopback:
		add(OK, "link", l.Name+" is the loopback device: there are no neighbours to tell", "")
		return false
	case !l.Up:
		add(Fail, "link", l.Name+" is DOWN: an admin set it down", "ip "+s.nsArg()+"link set "+l.Name+" up")
		return false
	case !l.Carrier || l.OperDown():
		add(Fail, "link", l.Name+" is up but has no carrier (LOWERLAYERDOWN)",
			"check the cable, the switch port, or the peer of "+l.Name+" (a veth's other end, a bond's slaves, a VLAN's parent)")
		return false
	}
	add(OK, "link", l.Name+" is up and has carrier", "")
	return true
}

// checkAddress says whether the address is held here, and where.
func (s *Subject) checkAddress(add addFunc) {
	ad, err := s.held()
	if err != nil {
		add(Skip, "address", fmt.Sprintf("could not read the addresses of %s: %v", s.Link.Name, err), "run the doctor as root")
		return
	}
	switch {
	case ad != nil && ad.Flags&netif.FlagDADFailed != 0:
		add(Fail, "address", fmt.Sprintf("%s is on %s, but its Duplicate Address Detection failed: another host on the link holds it", s.Prefix, s.Link.Name),
			"find that host and remove the address there, then stop and start the resource")
	case ad != nil:
		add(OK, "address", fmt.Sprintf("%s is held here, on %s", s.Prefix, s.Link.Name), "")
	default:
		add(OK, "address", fmt.Sprintf("%s is not held here: start would add it to %s", s.Prefix, s.Link.Name), "")
	}
	others, err := s.Node.AddrsOf(s.IP)
	if err != nil {
		return
	}
	for _, o := range others {
		if o.LinkIndex == s.Link.Index && o.Prefix == s.Prefix {
			continue
		}
		where, fate := "link "+strconv.Itoa(o.LinkIndex), "stop removes it too"
		if l, err := s.Node.LinkByIndex(o.LinkIndex); err == nil {
			where = l.Name
			if l.Loopback && l.Index != s.Link.Index {
				// LVS direct routing's copy (lvs.go).
				fate = "stop will leave it there"
			}
		}
		add(Warn, "address", fmt.Sprintf("%s is also on %s as %s, which the resource does not manage: %s", s.IP, where, o.Prefix, fate),
			fmt.Sprintf("ip %saddr del %s dev %s", s.nsArg(), o.Prefix, where))
	}
}

// checkSysctls judges each kernel setting of sysctlRules once.
func (s *Subject) checkSysctls(add addFunc) {
	for i := 0; i < len(sysctlRules); {
		r := sysctlRules[i]
		j := i
		for j < len(sysctlRules) && sysctlRules[j].name == r.name {
			j++
		}
		rules := sysctlRules[i:j]
		i = j
		if r.ipv6 != s.IP.Is6() {
			continue
		}
		vals, err := s.sysctlValues(r.name)
		if err != nil {
			add(Skip, "sysctl", fmt.Sprintf("%s not checked: %v", netif.SysctlName(r.name, s.Link.Name), err), "")
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
					l = s.rpFilter(v)
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
			why = "strict reverse-path filtering: harmless while " + s.Link.Name + " is this node's only nic with routes, but it drops traffic to the address once a route back leads out of another nic"
		}
		var fixes []string
		for _, s := range vals {
			if l, _ := judge(s.v); l > OK {
				fixes = append(fixes, "sysctl -w "+s.name+"="+rule.good)
			}
		}
		add(level, "sysctl", fmt.Sprintf("%s=%d: %s", eff.name, eff.v, why),
			s.inNS(strings.Join(fixes, "; "))+", and make it permanent in /etc/sysctl.d/")
	}
}

// rpFilter judges rp_filter=1, strict reverse-path filtering: it drops a
// packet whose route back leads out of another nic, which takes more than
// one nic with routes. On a node with one it is a warning of what the next
// nic would bring; routes that cannot be read count as several.
func (s *Subject) rpFilter(v int) Level {
	if v != 1 {
		return OK
	}
	routes, err := s.Node.Routes(netif.FamilyOf(s.IP))
	if err != nil {
		return Fail
	}
	nics := map[int]bool{}
	for _, r := range routes {
		if l, err := s.Node.LinkByIndex(r.LinkIndex); err == nil && !l.Loopback {
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
func (s *Subject) sysctlValues(format string) ([2]sysctlValue, error) {
	var out [2]sysctlValue
	for i, dev := range []string{s.Link.Name, "all"} {
		name := netif.SysctlName(format, dev)
		s, err := s.Node.Sysctl(name)
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

// checkNeighbours asks the link whether another host holds the address,
// when the link can be asked.
func (s *Subject) checkNeighbours(ctx context.Context, linkOK bool, add addFunc) {
	switch {
	case s.Link.Loopback:
		return
	case !linkOK:
		add(Skip, "neighbours", fmt.Sprintf("link down: could not ask the link whether another host answers for %s", s.IP),
			"bring "+s.Link.Name+"'s link up, then run the doctor again")
		return
	case s.CloneCheck != nil:
		add(OK, "neighbours", fmt.Sprintf("%s is a load-shared address, which the clone's other nodes answer for too: not probed", s.IP), "")
		return
	}
	held, _ := s.held()
	on := held != nil
	who, err := s.Node.Probe(ctx, s.Link, s.IP)
	switch {
	case err != nil:
		fix := "run the doctor again"
		if errors.Is(err, os.ErrPermission) {
			fix = "run the doctor as root: asking the link takes a raw socket"
		}
		add(Skip, "neighbours", fmt.Sprintf("could not ask %s whether another host answers for %s: %v", s.Link.Name, s.IP, err), fix)
	case who != "" && on:
		add(Fail, "neighbours", fmt.Sprintf("split brain: %s also answers for %s, which this node holds", who, s.IP), "find that host and remove the address there")
	case who != "":
		add(Fail, "neighbours", fmt.Sprintf("%s already answers for %s: start here would take an address in use", who, s.IP), "stop the address there first")
	default:
		add(OK, "neighbours", fmt.Sprintf("no other host answers for %s on %s", s.IP, s.Link.Name), "")
	}
}

// checkRscTmp judges HA_RSCTMP, where the locks and the pid files go.
func checkRscTmp(dir string, add addFunc) {
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

// promoteSecondaries is the kernel setting that keeps the other addresses
// of a subnet when its primary goes, with %s for the nic.
const promoteSecondaries = "net.ipv4.conf.%s.promote_secondaries"

// checkSecondaries is the doctor's check of what the agent's stop guards
// against: the address, held here, is the primary of other addresses of
// its subnet on its nic, and the kernel would drop them with it unless
// promote_secondaries is set. floatip's stop keeps them; a removal by any
// other means does not. The check stays silent when the address is a
// secondary, which is how it sits beside a nic's own address in its
// subnet.
func (s *Subject) checkSecondaries(add addFunc) {
	if !s.IP.Is4() {
		return
	}
	ad, err := s.held()
	if err != nil || ad == nil {
		return
	}
	addrs, err := s.Node.AddrsIn(s.Link, s.Prefix)
	if err != nil {
		add(Skip, "address", fmt.Sprintf("could not read the other addresses of %s on %s: %v", s.Prefix.Masked(), s.Link.Name, err), "run the doctor as root")
		return
	}
	primary := false
	var others []string
	for _, o := range addrs {
		if o.Prefix == s.Prefix {
			primary = o.Flags&netif.FlagSecondary == 0
		} else {
			others = append(others, o.Prefix.String())
		}
	}
	if !primary || len(others) == 0 {
		return
	}
	vals, err := s.sysctlValues(promoteSecondaries)
	if err != nil {
		add(Skip, "address", fmt.Sprintf("%s is the primary address of %s on %s, and %s could not be read: %v", s.Prefix, strings.Join(others, ", "), s.Link.Name, netif.SysctlName(promoteSecondaries, s.Link.Name), err), "")
		return
	}
	if vals[0].v != 0 || vals[1].v != 0 {
		return
	}
	add(Warn, "address", fmt.Sprintf("%s is the primary address of %s on %s, and %s=0: floatip's stop keeps them, but removing %s any other way (ip addr del, heartbeat:IPaddr2's stop) removes them with it",
		s.Prefix, strings.Join(others, ", "), s.Link.Name, vals[0].name, s.IP),
		s.inNS("sysctl -w "+vals[0].name+"=1")+", and make it permanent in /etc/sysctl.d/")
}

// checkConnections judges whether kill_connections can work here.
func (s *Subject) checkConnections(add addFunc) {
	switch can, err := s.Node.CanDestroySockets(); {
	case err != nil:
		add(Skip, "connections", fmt.Sprintf("could not tell whether the kernel can end connections: %v", err), "run the doctor as root")
	case can:
		add(OK, "connections", "the kernel can end connections (kill_connections works)", "")
	case s.KillConnections:
		add(Warn, "connections", "kill_connections is on, but the kernel lacks CONFIG_INET_DIAG_DESTROY: the address moves, its clients wait for TCP timeouts", "use a kernel with CONFIG_INET_DIAG_DESTROY, or set kill_connections=false")
	default:
		add(OK, "connections", "the kernel cannot end connections (CONFIG_INET_DIAG_DESTROY), and kill_connections is off", "")
	}
}

// nsArg is "-n <ns> " for an address in another network namespace, so
// that an ip command in a fix works as given.
func (s *Subject) nsArg() string {
	if s.Namespace == "" {
		return ""
	}
	return "-n " + s.Namespace + " "
}

// inNS prefixes cmd to run in the address's network namespace.
func (s *Subject) inNS(cmd string) string {
	if s.Namespace == "" {
		return cmd
	}
	return "ip netns exec " + s.Namespace + " " + cmd
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

// checkClone judges what a load-shared clone needs of the node: an
// Ethernet link, whose frames to the cluster MAC every node receives, and
// a kernel with nf_tables, its hash expression and, for the ARP rewrite,
// its arp family.
func (s *Subject) checkClone(add addFunc) {
	if s.CloneCheck == nil {
		return
	}
	if s.Link.Loopback {
		add(Fail, "clone", s.Link.Name+" is the loopback device: a load-shared address needs an Ethernet link that the clients share", "put the address on an Ethernet nic")
		return
	}
	lacks, err := s.CloneCheck()
	switch {
	case err != nil:
		add(Skip, "clone", fmt.Sprintf("could not ask the kernel whether it can share %s: %v", s.IP, err), "run the doctor as root")
	case lacks != "":
		add(Fail, "clone", fmt.Sprintf("%s cannot be shared here: %s", s.IP, lacks),
			"load the module it names (modprobe nft_hash), or keep the clone off this node")
	default:
		add(OK, "clone", fmt.Sprintf("the kernel can program the rules that share %s among the clone's instances, on %s", s.IP, s.Link.Name), "")
	}
}
