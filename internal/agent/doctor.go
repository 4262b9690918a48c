package agent

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/ocf"
)

// Finding is one thing the doctor looked at.
type Finding struct {
	// OK is false for something that would break a failover.
	OK   bool
	What string
	// Fix says what to do about it, for a finding that is not OK.
	Fix string
}

// sysctlRule is a kernel setting that defeats announcements or the address.
type sysctlRule struct {
	// name has %s for the nic; the effective value is the larger of the
	// nic's and "all"'s.
	name string
	ipv6 bool
	bad  func(v int) bool
	why  string
	good string
}

var sysctlRules = []sysctlRule{
	{"net.ipv4.conf.%s.arp_ignore", false, func(v int) bool { return v >= 8 },
		"this node answers no ARP request, so clients cannot find the address once their cache expires", "0"},
	{"net.ipv4.conf.%s.arp_ignore", false, func(v int) bool { return v == 2 || v == 3 },
		"this node answers ARP only for addresses in the asker's subnet or of global scope: clients outside the address's prefix get no answer", "0 or 1"},
	{"net.ipv4.conf.%s.drop_gratuitous_arp", false, func(v int) bool { return v != 0 },
		"this node ignores gratuitous ARP, so it keeps stale entries when the address moves to another node", "0"},
	{"net.ipv4.conf.%s.arp_filter", false, func(v int) bool { return v != 0 },
		"this node answers ARP only on the interface it would route the reply through, which can hide the address when several nics share a subnet", "0"},
	{"net.ipv4.conf.%s.rp_filter", false, func(v int) bool { return v == 1 },
		"strict reverse-path filtering drops traffic to the address that arrives on another nic than the route back", "0 or 2"},
	{"net.ipv6.conf.%s.disable_ipv6", true, func(v int) bool { return v != 0 },
		"IPv6 is disabled on the nic: the address cannot be added", "0"},
	{"net.ipv6.conf.%s.accept_dad", true, func(v int) bool { return v == 0 },
		"Duplicate Address Detection is off: start cannot see another node that holds the address", "1"},
	{"net.ipv6.conf.%s.drop_unsolicited_na", true, func(v int) bool { return v != 0 },
		"this node ignores unsolicited Neighbor Advertisements, so it keeps stale entries when the address moves", "0"},
}

// Doctor inspects this node for the configured address and returns what
// would break a failover, each with its fix.
func (a *Agent) Doctor(ctx context.Context) []Finding {
	var out []Finding
	add := func(ok bool, what, fix string) { out = append(out, Finding{ok, what, fix}) }

	t, err := a.resolve("validate-all")
	if err != nil {
		st := a.statusFor("validate-all", err)
		add(false, fmt.Sprintf("the configuration does not validate here (%s)", st), "see the ocf-exit-reason line above")
		return out
	}
	defer t.k.Close()
	add(true, fmt.Sprintf("%s belongs on %s with prefix /%d", t.cfg.IP, t.link.Name, t.prefix.Bits()), "")
	if t.link.Up && t.link.Carrier {
		add(true, t.link.Name+" is up and has carrier", "")
	} else {
		add(false, t.link.Name+" is "+linkState(t.link), "bring the link up (ip link set "+t.link.Name+" up) and check the cable or switch port")
	}

	for _, r := range sysctlRules {
		if r.ipv6 != t.cfg.Is6() {
			continue
		}
		v, name := a.effectiveSysctl(t, r.name)
		if v < 0 {
			continue
		}
		if r.bad(v) {
			add(false, fmt.Sprintf("%s=%d: %s", name, v, r.why), "sysctl -w "+fmt.Sprintf(r.name, t.link.Name)+"="+r.good+" (and for all), and make it permanent in /etc/sysctl.d")
		}
	}

	on, err := a.served(t)
	switch who, perr := t.k.Probe(ctx, t.link, t.cfg.IP); {
	case err != nil || perr != nil:
		add(false, fmt.Sprintf("could not look for another holder of %s: %v", t.cfg.IP, firstErr(err, perr)), "run the doctor as root")
	case who != "" && on:
		add(false, fmt.Sprintf("split brain: %s also answers for %s, which this node holds", who, t.cfg.IP), "find that host and remove the address there")
	case who != "":
		add(false, fmt.Sprintf("%s already answers for %s: start here would take an address in use", who, t.cfg.IP), "stop the address there first")
	default:
		add(true, "no other host answers for "+t.cfg.IP.String(), "")
	}

	if fi, err := os.Stat(a.Env.RscTmp); err != nil || !fi.IsDir() {
		add(false, "HA_RSCTMP "+a.Env.RscTmp+" is missing", "mkdir -p "+a.Env.RscTmp+" (resource-agents creates it at boot)")
	} else {
		add(true, "HA_RSCTMP "+a.Env.RscTmp+" exists", "")
	}
	switch can, err := t.k.CanDestroySockets(); {
	case err != nil:
		add(false, fmt.Sprintf("could not tell whether the kernel can end connections: %v", err), "")
	case can:
		add(true, "the kernel can end connections (kill_connections works)", "")
	case t.cfg.KillConnections:
		add(false, "kill_connections is on, but the kernel lacks CONFIG_INET_DIAG_DESTROY", "use a kernel with it, or expect clients to wait for TCP timeouts")
	default:
		add(true, "the kernel cannot end connections (CONFIG_INET_DIAG_DESTROY); kill_connections would only log so", "")
	}
	return out
}

// effectiveSysctl reads the nic's and all's value of a per-interface
// setting and returns the larger, which is what the kernel applies for
// these settings, with the name it came from; -1 when unreadable.
func (a *Agent) effectiveSysctl(t *target, format string) (int, string) {
	best, from := -1, ""
	for _, dev := range []string{t.link.Name, "all"} {
		name := fmt.Sprintf(format, dev)
		s, err := t.k.Sysctl(name)
		if err != nil {
			continue
		}
		if v, err := strconv.Atoi(s); err == nil && v > best {
			best, from = v, name
		}
	}
	return best, from
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// PrintDoctor writes the findings for a human and returns the exit code:
// 0 when nothing is wrong.
func PrintDoctor(w interface{ Write([]byte) (int, error) }, fs []Finding) ocf.Status {
	st := ocf.Success
	for _, f := range fs {
		mark := "ok  "
		if !f.OK {
			mark, st = "FAIL", ocf.ErrGeneric
		}
		fmt.Fprintf(w, "%s  %s\n", mark, f.What)
		if f.Fix != "" && !f.OK {
			fmt.Fprintf(w, "      fix: %s\n", f.Fix)
		}
	}
	return st
}

// linkState names what is wrong with a link, in ip link's words.
func linkState(l netif.Link) string {
	if !l.Up {
		return "DOWN"
	}
	return "up but has no carrier (LOWERLAYERDOWN)"
}
