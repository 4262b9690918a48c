package agent

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/floatip/floatip/internal/announce"
	"github.com/floatip/floatip/internal/sender"
	"github.com/floatip/floatip/ocf"
)

// Announce is the announce action: it sends a burst for an address that is
// on its nic, in the foreground. An admin runs it by hand ("floatip
// announce --ip ..."). start runs it detached to send the rest of a burst
// whose first sent frames it sent itself; sent > 0 says how many, and
// netns is the namespace start announced in (0 when it could not tell).
//
// Such a background sender has no one to answer to: its exit code is
// seen by nobody and its stderr is /dev/null. When it cannot send its
// burst, it says why at ERROR, in the log it shares with the action that
// started it (syslog, HA_LOGFILE).
func (a *Agent) Announce(ctx context.Context, sent int, netns uint64) ocf.Status {
	t, err := a.resolve(Announce)
	if err != nil {
		st := a.statusFor(Announce, err)
		if sent > 0 && st == ocf.NotRunning {
			// statusFor says "not running" at INFO, as a monitor would;
			// for the sender of a burst it is a burst not sent.
			a.Log.Errorf("background announcer: cannot send the rest of the burst: %v", err)
		}
		return st
	}
	defer t.k.Close()
	if t.cfg.Clone != nil {
		// By hand, for a load-shared address: the cluster MAC.
		t.link.MAC = spec(t).MAC
	}
	if sent > 0 {
		if netns != 0 && t.netns != netns {
			// The namespace's name now names another one: its address is
			// not the one start added.
			return ocf.Fail(a.Log, ocf.ErrGeneric, "network namespace %q is no longer the one start announced %s in", t.cfg.NetworkNamespace, t.cfg.IP)
		}
		defer a.sender(t.cfg.IP, netns).Done()
	}
	on, err := a.served(t)
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Failed to read the addresses: %v", err)
	}
	if !on {
		return ocf.Fail(a.Log, ocf.NotRunning, "%s is not on %s: not announcing it", t.prefix, t.link.Name)
	}
	an, err := t.k.Dial(t.link, t.cfg.IP, a.neighbors(ctx, t))
	if err != nil {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "Could not announce %s on %s: %v", t.cfg.IP, t.link.Name, err)
	}
	defer an.Close()
	// The background sender goes on only while the address is here: once a
	// stop or anything else has removed it, announcing it would pull the
	// neighbours' traffic to a node that no longer answers. The first
	// frame that finds it gone ends the burst.
	ctx, gone := context.WithCancel(ctx)
	defer gone()
	guarded := &whilePresent{Announcer: an, a: a, t: t, gone: gone}
	frames, spacing := an.Plan(t.cfg.ArpCount, t.cfg.ArpInterval)
	r := announce.Burst(ctx, guarded, sent, frames, spacing, sent > 0)
	a.logBurst(t, "announce", r, frames-sent)
	if r.Failed > 0 {
		return ocf.ErrGeneric
	}
	return ocf.Success
}

// sender returns the record of ip's background sender in the namespace
// netns.
func (a *Agent) sender(ip netip.Addr, netns uint64) SenderRecord {
	return a.Senders(ip, netns)
}

// whilePresent announces only while the address is on the link, and
// calls gone when it is not.
type whilePresent struct {
	Announcer
	a    *Agent
	t    *target
	gone func()
}

func (w *whilePresent) Announce(i int) error {
	on, err := w.a.served(w.t)
	if err != nil {
		return err
	}
	if !on {
		w.gone()
		return fmt.Errorf("%s is no longer on %s", w.t.prefix, w.t.link.Name)
	}
	return w.Announcer.Announce(i)
}

// senderArgs are the arguments of the detached sender that finishes a
// burst of count announcements of which start sent the first sent frames.
// They name the nic and prefix, so that the sender does not look for them
// again, and every other setting the sender reads (senderParams): the
// action may have had them from its command line, which the sender does
// not inherit, as well as from the environment, which it does.
func (a *Agent) senderArgs(t *target, count, sent int) []string {
	args := []string{
		"announce", "--background-sender", strconv.Itoa(sent),
		"--ip", t.cfg.IP.String(),
		// The address is already the clone's own: the environment's
		// unique_clone_address must not shift it again.
		"--unique_clone_address", "false",
		"--nic", t.link.Name,
		"--cidr_netmask", strconv.Itoa(t.prefix.Bits()),
		"--arp_count", strconv.Itoa(count),
		"--arp_interval", strconv.FormatInt(t.cfg.ArpInterval.Milliseconds(), 10),
	}
	if t.netns != 0 {
		args = append(args, sender.NetNSFlag, strconv.FormatUint(t.netns, 10))
	}
	if t.cfg.Label != "" {
		// Also when it came as nic's "nic:label" form: the sender gets
		// the bare nic.
		args = append(args, "--iflabel", t.cfg.Label)
	}
	if t.cfg.NetworkNamespace != "" {
		args = append(args, "--network_namespace", t.cfg.NetworkNamespace)
	}
	if len(t.cfg.AnnounceTo) > 0 {
		to := make([]string, len(t.cfg.AnnounceTo))
		for i, ip := range t.cfg.AnnounceTo {
			to[i] = ip.String()
		}
		args = append(args, "--announce_to", strings.Join(to, " "))
	}
	for _, k := range []string{"trace_ra", "trace_file"} {
		v := a.Params[k]
		if _, env := a.Env.Params[k]; v == a.Defaults[k] && !env {
			continue
		}
		if k == "trace_file" && !strings.HasPrefix(v, "/") {
			// A descriptor number is the action's own descriptor, which
			// the sender does not have.
			continue
		}
		args = append(args, "--"+k, v)
	}
	return args
}

// senderParams are the parameters that senderArgs passes on: each is read
// by the announce action.
// senderIgnores are the others, with why the sender does without: a test
// fails when a parameter is in neither, so that a new one cannot be lost
// on the way to the sender.
var (
	senderParams = []string{"ip", "unique_clone_address", "nic", "iflabel", "cidr_netmask", "arp_count", "arp_interval",
		"network_namespace", "announce_to", "trace_ra", "trace_file"}
	senderIgnores = map[string]string{
		"broadcast":                "only start adds the address",
		"proto":                    "nic and cidr_netmask are given: no route is looked for",
		"lvs_support":              "only start and stop move the address",
		"lvs_ipv6_addrlabel":       "only start and stop set address labels",
		"lvs_ipv6_addrlabel_value": "only start and stop set address labels",
		"mac":                      "cluster IP, not supported",
		"clusterip_hash":           "cluster IP, not supported",
		"clusterip_firewall":       "cluster IP, not supported",
		"clusterip_hash_seed":      "cluster IP, not supported",
		"clusterip_table":          "cluster IP, not supported",
		"clusterip_chain":          "cluster IP, not supported",
		"clusterip_mac_mangle":     "cluster IP, not supported",
		"arp_count_refresh":        "the monitor's burst, not start's",
		"arp_bg":                   "the sender is the background",
		"arp_sender":               "floatip announces itself whichever is named",
		"send_arp_opts":            "floatip announces itself whichever is named",
		"flush_routes":             "only stop flushes",
		"run_arping":               "only start probes",
		"nodad":                    "only start adds the address",
		"noprefixroute":            "only start adds the address",
		"preferred_lft":            "only start adds the address",
		"check_link_status":        "only start and monitor judge the link",
		"kill_connections":         "only stop ends connections",
	}
)
