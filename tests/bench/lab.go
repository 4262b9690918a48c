//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/floatip/floatip/tests/lab"
)

// The bench's lab: node n runs the agents, node x is n with many other
// addresses on its nic, peer p captures the announcements.
var (
	hostN = lab.HostSpec{Name: "n", Addr: netip.MustParsePrefix("198.18.0.1/24")}
	hostP = lab.HostSpec{Name: "p", Addr: netip.MustParsePrefix("198.18.0.2/24")}
	hostX = lab.HostSpec{Name: "x", Addr: netip.MustParsePrefix("198.18.0.4/24")}
)

// The addresses the agents manage. Each agent starts and stops an address
// of its own, so that a frame on the wire always says which agent sent it.
var (
	vipMonitor = netip.MustParseAddr("198.18.0.100") // on n and x for the whole run
	vipProbe   = netip.MustParseAddr("198.18.0.101") // never on n
	vipStart   = [2]netip.Addr{netip.MustParseAddr("198.18.0.120"), netip.MustParseAddr("198.18.0.121")}
	vipTrace   = [2]netip.Addr{netip.MustParseAddr("198.18.0.122"), netip.MustParseAddr("198.18.0.123")}
)

// agent is one of the two agents under test.
type agent struct {
	name string
	path string
	// rsctmp is its HA_RSCTMP, one per agent and node, so that neither
	// sees the other's pid files and locks.
	rsctmp string
}

// The agents' indexes in bench.agents and in a row.
const (
	floatip   = 0
	heartbeat = 1
)

// bench is one run: the lab, the agents and the table being filled.
type bench struct {
	ctx    context.Context
	o      options
	lab    *lab.Lab
	n, p   *lab.Host
	x      *lab.Host
	nsN    netns.NsHandle
	nsX    netns.NsHandle
	agents [2]agent
	floor  string
	sp     spawner
	tmp    string
	t      *table
	ft     featureTable
	closed bool
}

// newBench builds the lab: the hosts, the monitored address on n and x,
// and the other addresses on x. On error whatever was built is removed.
func newBench(ctx context.Context, o options, tmp string, t *table) (b *bench, err error) {
	l, err := lab.New(hostN, hostP, hostX)
	if err != nil {
		return nil, fmt.Errorf("build the lab: %w", err)
	}
	progress("lab %s: hosts n, x (agents) and p (captures)", l.Prefix)
	b = &bench{ctx: ctx, o: o, lab: l, n: l.Host("n"), p: l.Host("p"), x: l.Host("x"), nsN: -1, nsX: -1, tmp: tmp, t: t,
		floor: filepath.Join(tmp, "floor"), sp: spawner{launcher: filepath.Join(tmp, "launch")}}
	defer func() {
		if err != nil {
			b.close()
			b = nil
		}
	}()
	b.agents = [2]agent{
		{name: "floatip", path: o.binary, rsctmp: filepath.Join(tmp, "rsc-floatip")},
		{name: "heartbeat:IPaddr2", path: o.heartbeat, rsctmp: filepath.Join(tmp, "rsc-heartbeat")},
	}
	for _, a := range b.agents {
		for _, h := range []string{"n", "x"} {
			if err := os.MkdirAll(filepath.Join(a.rsctmp, h), 0o700); err != nil {
				return nil, fmt.Errorf("make HA_RSCTMP: %w", err)
			}
		}
	}
	if b.nsN, err = netns.GetFromName(b.n.NS); err != nil {
		return nil, fmt.Errorf("open namespace %s: %w", b.n.NS, err)
	}
	if b.nsX, err = netns.GetFromName(b.x.NS); err != nil {
		return nil, fmt.Errorf("open namespace %s: %w", b.x.NS, err)
	}
	for _, h := range []*lab.Host{b.n, b.x} {
		if err := h.IP("addr", "add", vipMonitor.String()+"/24", "brd", "+", "dev", h.Dev); err != nil {
			return nil, fmt.Errorf("add the monitored address: %w", err)
		}
	}
	if err := addOthers(ctx, b.x, o.others); err != nil {
		return nil, err
	}
	return b, nil
}

// addOthers puts n other addresses, 198.19.x.y/32, on the host's nic in
// one "ip -batch", which takes a second where n "ip addr add" would take
// a minute.
func addOthers(ctx context.Context, h *lab.Host, n int) error {
	if n > 250*256 {
		return fmt.Errorf("at most %d other addresses fit in 198.19.0.0/16", 250*256)
	}
	var cmds strings.Builder
	for i := range n {
		fmt.Fprintf(&cmds, "addr add 198.19.%d.%d/32 dev %s\n", i/250, i%250+1, h.Dev)
	}
	cmd := exec.CommandContext(ctx, "ip", "-n", h.NS, "-batch", "-")
	cmd.Stdin = strings.NewReader(cmds.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("add %d addresses on %s: %w: %s", n, h.Name, err, strings.TrimSpace(string(out)))
	}
	addrs, err := h.Addrs(netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("count the addresses on %s: %w", h.Name, err)
	}
	progress("host x holds %d IPv4 addresses on %s", len(addrs), h.Dev)
	return nil
}

// close removes the lab; it is safe to call twice.
func (b *bench) close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	for _, ns := range []netns.NsHandle{b.nsN, b.nsX} {
		if ns.IsOpen() {
			ns.Close()
		}
	}
	err := b.lab.Close()
	if left := lab.Leftovers(b.lab.Prefix); len(left) > 0 {
		err = errors.Join(err, fmt.Errorf("namespaces left behind: %s", strings.Join(left, " ")))
	}
	return err
}

// env is the environment Pacemaker would give the agent for action on
// address ip of the host whose HA_RSCTMP is dir. interval is the meta
// interval in ms: "0" makes a monitor a probe.
func (a agent) env(host string, ip netip.Addr, interval string) []string {
	return []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"OCF_ROOT=/usr/lib/ocf",
		"OCF_RA_VERSION_MAJOR=1",
		"OCF_RA_VERSION_MINOR=0",
		"OCF_RESOURCE_INSTANCE=vip",
		"OCF_RESOURCE_TYPE=IPaddr2",
		"OCF_RESKEY_CRM_meta_timeout=20000",
		"OCF_RESKEY_CRM_meta_interval=" + interval,
		"HA_RSCTMP=" + filepath.Join(a.rsctmp, host),
		"OCF_RESKEY_ip=" + ip.String(),
		"OCF_RESKEY_cidr_netmask=24",
	}
}

// op runs one action of agent i on a node and checks its exit code.
// extra is added to the environment: more parameters, OCF_CHECK_LEVEL.
func (b *bench) op(i int, ns netns.NsHandle, host string, ip netip.Addr, action, interval string, want int, extra ...string) (run, error) {
	a := b.agents[i]
	r, err := b.sp.runIn(b.ctx, ns, append(a.env(host, ip, interval), extra...), a.path, action)
	if err == nil && r.Code != want {
		err = fmt.Errorf("%s %s %s on %s: %w %d, want %d: %s", a.name, action, ip, host, errCode, r.Code, want, strings.TrimSpace(r.Stderr))
	}
	return r, err
}
