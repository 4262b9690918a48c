package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

// fake is every part of a Kernel, which one fake plays.
type fake interface {
	Links
	Addresses
	IPv6
	Inbound
	Wire
	Node
	Shared
	Close()
}

// kernelOf hands each part of the fake k to the agent, as cmd/floatip
// hands internal/node's.
func kernelOf(k fake) Kernel {
	return Kernel{Links: k, Addresses: k, IPv6: k, Inbound: k, Wire: k, Node: k, Shared: k, Close: k.Close}
}

// fakeKernel is a node with links, addresses and routes in memory.
type fakeKernel struct {
	mu sync.Mutex // guards addrs against a test that changes them under a burst
	// announced, probes and claimant point into the harness.
	announced *int
	probes    *int
	claimant  *net.HardwareAddr
	flushes   int
	failDel   error
	labels    []string
	kills     int
	// conns are the established connections on the address; with
	// reconnecting, the clients open them again at once after a reset
	// while the node still accepts them.
	conns        int
	reconnecting bool
	// blocked are the addresses whose inbound packets are dropped;
	// stranded counts the connections still open when the address went;
	// events is the order of stop's steps.
	blocked   map[netip.Addr]bool
	failBlock error
	stranded  int
	events    []string
	sysctls   map[string]string
	neighbors map[netip.Addr]net.HardwareAddr
	dialedTo  []netif.Neighbor
	dadErr    error
	dads      int
	links     []netif.Link
	addrs     []netif.Addr
	routes    []netif.Route
	added     []netif.NewAddr
	dumps     int
	lookups   int
	failAdd   error
	// failLookup, when set, is AddrOn's error: the kernel could not say.
	failLookup error
	// sysctlWrites are the SetSysctl calls, "name=value"; failSetSysctl
	// fails them.
	sysctlWrites  []string
	failSetSysctl error
	// unplugged is the index of a link that gets no carrier when set up.
	unplugged int
	// netns is the namespace's inode; 0 is fakeNetNS.
	netns uint64
	// onFrame, when set, runs after each frame an announcer sends, with
	// the count so far.
	onFrame func(n int)
	// dialedMAC is the sender MAC of the last announcer dialed.
	dialedMAC net.HardwareAddr
	// shared is what the node holds of a load-shared address.
	shared fakeShared
}

func (k *fakeKernel) LinkByName(name string) (netif.Link, error) {
	for _, l := range k.links {
		if l.Name == name {
			return l, nil
		}
	}
	return netif.Link{}, netif.ErrLinkNotFound
}

func (k *fakeKernel) LinkByIndex(i int) (netif.Link, error) {
	for _, l := range k.links {
		if l.Index == i {
			return l, nil
		}
	}
	return netif.Link{}, netif.ErrLinkNotFound
}

func (k *fakeKernel) AddrsOf(ip netip.Addr) ([]netif.Addr, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.dumps++
	var out []netif.Addr
	for _, a := range k.addrs {
		if a.Prefix.Addr() == ip {
			out = append(out, a)
		}
	}
	return out, nil
}

func (k *fakeKernel) AddrOn(l netif.Link, p netip.Prefix, label string) (*netif.Addr, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.lookups++
	if k.failLookup != nil {
		return nil, k.failLookup
	}
	for _, a := range k.addrs {
		if a.LinkIndex == l.Index && a.Prefix == p {
			return &a, nil
		}
	}
	return nil, nil
}

func (k *fakeKernel) Routes(f netif.Family) ([]netif.Route, error) {
	var out []netif.Route
	for _, r := range k.routes {
		if netif.FamilyOf(r.Dst.Addr()) == f {
			out = append(out, r)
		}
	}
	return out, nil
}

func (k *fakeKernel) AddAddr(l netif.Link, a netif.NewAddr) error {
	if k.failAdd != nil {
		return k.failAdd
	}
	k.added = append(k.added, a)
	ad := netif.Addr{Prefix: a.Prefix, LinkIndex: l.Index, Label: a.Label, Broadcast: a.Broadcast}
	if len(k.subnetOf(l.Index, a.Prefix)) > 0 {
		ad.Flags |= netif.FlagSecondary
	}
	k.addrs = append(k.addrs, ad)
	return nil
}

// subnetOf is what AddrsIn returns, as indexes into addrs: the kernel's
// IPv4 addresses of link index in p's subnet with p's prefix length.
func (k *fakeKernel) subnetOf(index int, p netip.Prefix) []int {
	var out []int
	for i, a := range k.addrs {
		if p.Addr().Is4() && a.Prefix.Addr().Is4() && a.LinkIndex == index && a.Prefix.Bits() == p.Bits() && a.Prefix.Masked() == p.Masked() {
			out = append(out, i)
		}
	}
	return out
}

func (k *fakeKernel) AddrsIn(l netif.Link, p netip.Prefix) ([]netif.Addr, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []netif.Addr
	for _, i := range k.subnetOf(l.Index, p) {
		out = append(out, k.addrs[i])
	}
	return out, nil
}

// DelAddr removes the address as the kernel does: the primary of IPv4
// secondaries takes them with it, unless promote_secondaries (the nic's
// or all's) makes the first of them the primary.
func (k *fakeKernel) DelAddr(l netif.Link, p netip.Prefix) error {
	k.events = append(k.events, "del "+p.String())
	if k.failDel != nil {
		return k.failDel
	}
	for i, a := range k.addrs {
		if a.LinkIndex != l.Index || a.Prefix != p {
			continue
		}
		k.stranded += k.conns
		k.conns = 0
		if a.Flags&netif.FlagSecondary == 0 {
			promote := k.sysctls["net.ipv4.conf."+l.Name+".promote_secondaries"] == "1" || k.sysctls["net.ipv4.conf.all.promote_secondaries"] == "1"
			var keep []netif.Addr
			promoted := false
			for j, b := range k.addrs {
				switch {
				case j == i:
					continue
				case slices.Contains(k.subnetOf(l.Index, p), j) && !promote:
					continue
				case slices.Contains(k.subnetOf(l.Index, p), j) && !promoted:
					b.Flags &^= netif.FlagSecondary
					promoted = true
				}
				keep = append(keep, b)
			}
			k.addrs = keep
			return nil
		}
		k.addrs = append(k.addrs[:i], k.addrs[i+1:]...)
		return nil
	}
	return syscall.EADDRNOTAVAIL
}

func (k *fakeKernel) BlockInbound(_ netif.Link, ip netip.Addr) error {
	k.events = append(k.events, "block "+ip.String())
	if k.failBlock != nil {
		return k.failBlock
	}
	if k.blocked == nil {
		k.blocked = map[netip.Addr]bool{}
	}
	k.blocked[ip] = true
	return nil
}

func (k *fakeKernel) UnblockInbound(_ netif.Link, ip netip.Addr, restore bool) error {
	k.events = append(k.events, fmt.Sprintf("unblock %s restore=%v", ip, restore))
	delete(k.blocked, ip)
	return nil
}

func (k *fakeKernel) Blocked(ip netip.Addr) (bool, error) { return k.blocked[ip], nil }

func (k *fakeKernel) SetUp(l netif.Link) error {
	for i := range k.links {
		if k.links[i].Index == l.Index {
			k.links[i].Up = true
			if k.unplugged != l.Index {
				k.links[i].Carrier, k.links[i].OperState = true, "UP"
			}
		}
	}
	return nil
}

func (k *fakeKernel) Close() {}

func (k *fakeKernel) AddAddrLabel(p netip.Prefix, label uint32) error {
	k.labels = append(k.labels, fmt.Sprintf("+%s %d", p, label))
	return nil
}

func (k *fakeKernel) DelAddrLabel(p netip.Prefix, label uint32) error {
	k.labels = append(k.labels, fmt.Sprintf("-%s %d", p, label))
	return nil
}

func (k *fakeKernel) Dial(l netif.Link, ip netip.Addr, to []netif.Neighbor) (Announcer, error) {
	k.dialedTo, k.dialedMAC = to, l.MAC
	return fakeAnnouncer{k.announced, ip.Is6(), k.onFrame}, nil
}

func (k *fakeKernel) Probe(context.Context, netif.Link, netip.Addr) (string, error) {
	*k.probes++
	if *k.claimant == nil {
		return "", nil
	}
	return k.claimant.String(), nil
}

func (k *fakeKernel) Resolve(_ context.Context, _ netif.Link, _, ip netip.Addr) (net.HardwareAddr, error) {
	return k.neighbors[ip], nil
}

func (k *fakeKernel) Sysctl(name string) (string, error) {
	if v, ok := k.sysctls[name]; ok {
		return v, nil
	}
	return "0", nil
}

func (k *fakeKernel) SetSysctl(name, value string) error {
	k.sysctlWrites = append(k.sysctlWrites, name+"="+value)
	if k.failSetSysctl != nil {
		return k.failSetSysctl
	}
	if k.sysctls == nil {
		k.sysctls = map[string]string{}
	}
	k.sysctls[name] = value
	return nil
}

func (k *fakeKernel) CanDestroySockets() (bool, error) { return true, nil }

func (k *fakeKernel) KillConnections(ip netip.Addr) (int, error) {
	k.kills++
	n := k.conns
	k.conns = 0
	if k.reconnecting && !k.blocked[ip] {
		k.conns = n
	}
	k.events = append(k.events, fmt.Sprintf("kill %d", n))
	return n, nil
}

// fakeNetNS is the fake kernel's namespace unless netns says another.
const fakeNetNS = 4026531840

func (k *fakeKernel) NamespaceID() (uint64, error) {
	if k.netns == 0 {
		return fakeNetNS, nil
	}
	return k.netns, nil
}

func (k *fakeKernel) FlushRouteCache(netif.Family) error { k.flushes++; return nil }

func (k *fakeKernel) WaitDAD(context.Context, netif.Link, netip.Prefix) error {
	k.dads++
	return k.dadErr
}

// fakeAnnouncer counts frames; its bursts are shaped like send_arp's, or
// send_ua's for IPv6.
type fakeAnnouncer struct {
	n       *int
	v6      bool
	onFrame func(n int)
}

func (f fakeAnnouncer) Plan(count int, interval time.Duration) (int, time.Duration) {
	if f.v6 {
		return count, interval
	}
	return 2 * count, interval / 2
}
func (f fakeAnnouncer) Announce(int) error {
	*f.n++
	if f.onFrame != nil {
		f.onFrame(*f.n)
	}
	return nil
}
func (f fakeAnnouncer) Close() error { return nil }

func (f fakeAnnouncer) File() (*os.File, error) { return nil, nil }

// node is a fake node with eth0 on 198.18.0.0/24, its address 198.18.0.1
// with broadcast 198.18.0.255.
func node() *fakeKernel {
	return &fakeKernel{
		conns: 3,
		links: []netif.Link{
			{Name: "lo", Index: 1, Up: true, Carrier: true, Loopback: true, OperState: "UNKNOWN"},
			{Name: "eth0", Index: 2, Up: true, Carrier: true, OperState: "UP", MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, HardwareType: netif.HardwareEther, HardwareName: "ether"},
			{Name: "eth1", Index: 3, Up: false, OperState: "DOWN", MAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, HardwareType: netif.HardwareEther, HardwareName: "ether"},
		},
		addrs: []netif.Addr{
			{Prefix: netip.MustParsePrefix("198.18.0.1/24"), LinkIndex: 2, Broadcast: netip.MustParseAddr("198.18.0.255")},
			{Prefix: netip.MustParsePrefix("2001:db8::1/64"), LinkIndex: 2},
		},
		routes: []netif.Route{
			{Dst: netip.MustParsePrefix("198.18.0.0/24"), LinkIndex: 2, Src: netip.MustParseAddr("198.18.0.1"), Type: netif.RouteUnicast, LinkScope: true, Protocol: 2},
			{Dst: netip.MustParsePrefix("2001:db8::/64"), LinkIndex: 2, Type: netif.RouteUnicast, Protocol: 2, Metric: 256},
		},
	}
}

type harness struct {
	k          *fakeKernel
	namespaces []string
	claimant   net.HardwareAddr
	probes     int
	announced  int
	bg         [][]string
	stderr     bytes.Buffer
	stdout     bytes.Buffer
	root       bool
	rsctmp     string
	senders    fakeSenders
	// flags are parameters given as the command line's flags give them:
	// in the parameters, not in the environment.
	flags map[string]string
}

func newHarness(t *testing.T) *harness {
	return &harness{k: node(), root: true, rsctmp: t.TempDir(), senders: fakeSenders{}}
}

// fakeSenders are the background senders of a harness, by address and
// namespace: pid 0 is none. The fake pids name no process, and stop ends
// them at once.
type fakeSenders map[senderKey]int

type senderKey struct {
	ip    netip.Addr
	netns uint64
}

// of is the sender of ip in the fake kernel's default namespace.
func (f fakeSenders) of(ip netip.Addr) int { return f[senderKey{ip, fakeNetNS}] }

func (f fakeSenders) For(ip netip.Addr, netns uint64) SenderRecord {
	return fakeSender{f, senderKey{ip, netns}}
}

type fakeSender struct {
	f  fakeSenders
	ip senderKey
}

func (s fakeSender) Writable() error      { return nil }
func (s fakeSender) Record(pid int) error { s.f[s.ip] = pid; return nil }
func (s fakeSender) Running() int         { return s.f[s.ip] }
func (s fakeSender) Done()                { delete(s.f, s.ip) }
func (s fakeSender) Stop(context.Context) (bool, error) {
	running := s.f[s.ip] != 0
	delete(s.f, s.ip)
	return running, nil
}

func (h *harness) run(t *testing.T, action string, env ...string) ocf.Status {
	t.Helper()
	a := h.agent(env)
	return ocf.Run(context.Background(), action, a.Handlers(), a.Log)
}

// agent is the Agent of an action with the environment env and the
// harness's flags, on the harness's fakes.
func (h *harness) agent(env []string) *Agent {
	md := metadata.Declared()
	e := ocf.ParseEnv(append([]string{"OCF_RESOURCE_INSTANCE=vip", "HA_RSCTMP=" + h.rsctmp}, env...))
	params := md.Defaults()
	for k, v := range e.Params {
		params[k] = v
	}
	for k, v := range h.flags {
		params[k] = v
	}
	h.stderr.Reset()
	h.stdout.Reset()
	h.k.announced, h.k.probes, h.k.claimant = &h.announced, &h.probes, &h.claimant
	return &Agent{
		Open: func(ns string) (Kernel, error) {
			h.namespaces = append(h.namespaces, ns)
			if ns == "missing" {
				return Kernel{}, fmt.Errorf("network namespace missing: %w", netif.ErrNoNamespace)
			}
			return kernelOf(h.k), nil
		},
		Background: func(args []string, _ ...*os.File) (int, error) {
			h.bg = append(h.bg, args)
			return 1000 + len(h.bg), nil
		},
		Senders:  h.senders.For,
		Log:      ocf.NewLogger(e, "IPaddr2", 1, &h.stderr),
		Env:      e,
		Params:   params,
		Defaults: md.Defaults(),
		Root:     h.root,
		Stdout:   &h.stdout,
	}
}

func (h *harness) reason() string {
	for _, l := range strings.Split(h.stderr.String(), "\n") {
		if r, ok := strings.CutPrefix(l, "ocf-exit-reason:"); ok {
			return r
		}
	}
	return ""
}

const vip = "OCF_RESKEY_ip=198.18.0.100"

func TestStartMonitorStop(t *testing.T) {
	h := newHarness(t)
	if st := h.run(t, "monitor", vip); st != ocf.NotRunning {
		t.Fatalf("monitor before start = %v", st)
	}
	if st := h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=3"); st != ocf.Success {
		t.Fatalf("start = %v: %s", st, h.stderr.String())
	}
	want := netif.NewAddr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), Broadcast: netip.MustParseAddr("198.18.0.255"), PreferredLifetime: netif.Forever}
	if len(h.k.added) != 1 || h.k.added[0] != want {
		t.Fatalf("added %+v, want %+v", h.k.added, want)
	}
	if h.announced != 6 || len(h.bg) != 0 {
		t.Errorf("%d frames in the foreground and %d bursts in the background, want 6 and 0", h.announced, len(h.bg))
	}
	if st := h.run(t, "monitor", vip); st != ocf.Success {
		t.Errorf("monitor after start = %v", st)
	}
	if st := h.run(t, "status", vip); st != ocf.Success || h.stdout.String() != "running\n" {
		t.Errorf("status = %v %q", st, h.stdout.String())
	}
	h.announced = 0
	if st := h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false"); st != ocf.Success || len(h.k.added) != 1 {
		t.Errorf("second start = %v, %d adds", st, len(h.k.added))
	}
	// A deliberate difference: IPaddr2 sends nothing when the address is
	// already there; floatip announces it again.
	if h.announced != 10 {
		t.Errorf("second start sent %d frames, want a whole burst of 10", h.announced)
	}
	if st := h.run(t, "stop", vip); st != ocf.Success {
		t.Fatalf("stop = %v", st)
	}
	if len(h.k.addrs) != 2 {
		t.Errorf("addresses after stop: %+v", h.k.addrs)
	}
	if st := h.run(t, "stop", vip); st != ocf.Success {
		t.Errorf("second stop = %v", st)
	}
	if st := h.run(t, "status", vip); st != ocf.NotRunning || h.stdout.String() != "stopped\n" {
		t.Errorf("status = %v %q", st, h.stdout.String())
	}
	if entries, _ := os.ReadDir(h.rsctmp); len(entries) != 0 {
		t.Errorf("left in HA_RSCTMP: %v", entries)
	}
}

func TestStartBackgroundBurst(t *testing.T) {
	h := newHarness(t)
	if st := h.run(t, "start", vip, "OCF_RESKEY_arp_count=4", "OCF_RESKEY_arp_interval=100"); st != ocf.Success {
		t.Fatalf("start = %v", st)
	}
	if h.announced != 1 {
		t.Errorf("%d frames before start returned, want 1", h.announced)
	}
	want := "announce --background-sender 1 --ip 198.18.0.100 --unique_clone_address false --nic eth0 --cidr_netmask 24 --arp_count 4 --arp_interval 100 --background-netns 4026531840"
	if len(h.bg) != 1 || strings.Join(h.bg[0], " ") != want {
		t.Errorf("background %q, want %q", h.bg, want)
	}
	ip := netip.MustParseAddr("198.18.0.100")
	if h.senders.of(ip) == 0 {
		t.Fatal("start recorded no background sender")
	}
	if st := h.run(t, "stop", vip); st != ocf.Success || h.senders.of(ip) != 0 {
		t.Errorf("stop = %v, sender %d still recorded; want it ended", st, h.senders.of(ip))
	}
}

func TestStartAttributes(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want netif.NewAddr
	}{
		{"explicit nic and prefix", []string{"OCF_RESKEY_nic=eth0", "OCF_RESKEY_cidr_netmask=25"},
			netif.NewAddr{Prefix: netip.MustParsePrefix("198.18.0.100/25"), Broadcast: netip.MustParseAddr("198.18.0.255")}},
		{"broadcast +", []string{"OCF_RESKEY_cidr_netmask=25", "OCF_RESKEY_broadcast=+"},
			netif.NewAddr{Prefix: netip.MustParsePrefix("198.18.0.100/25"), Broadcast: netip.MustParseAddr("198.18.0.127")}},
		{"broadcast -", []string{"OCF_RESKEY_broadcast=-"},
			netif.NewAddr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), Broadcast: netip.MustParseAddr("198.18.0.0")}},
		{"broadcast explicit", []string{"OCF_RESKEY_broadcast=198.18.0.200"},
			netif.NewAddr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), Broadcast: netip.MustParseAddr("198.18.0.200")}},
		{"label", []string{"OCF_RESKEY_iflabel=web"},
			netif.NewAddr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), Broadcast: netip.MustParseAddr("198.18.0.255"), Label: "eth0:web"}},
		{"nic:label", []string{"OCF_RESKEY_nic=eth0:db"},
			netif.NewAddr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), Broadcast: netip.MustParseAddr("198.18.0.255"), Label: "eth0:db"}},
		{"noprefixroute", []string{"OCF_RESKEY_noprefixroute=true"},
			netif.NewAddr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), Broadcast: netip.MustParseAddr("198.18.0.255"), NoPrefixRoute: true}},
		{"outside every route, nic and prefix given", []string{"OCF_RESKEY_ip=198.19.5.5", "OCF_RESKEY_nic=eth0", "OCF_RESKEY_cidr_netmask=24"},
			netif.NewAddr{Prefix: netip.MustParsePrefix("198.19.5.5/24")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if st := h.run(t, "start", append([]string{vip}, tt.env...)...); st != ocf.Success {
				t.Fatalf("start = %v: %s", st, h.stderr.String())
			}
			tt.want.PreferredLifetime = netif.Forever
			if len(h.k.added) != 1 || h.k.added[0] != tt.want {
				t.Errorf("added %+v, want %+v", h.k.added, tt.want)
			}
		})
	}
}

func TestStartBringsTheLinkUp(t *testing.T) {
	h := newHarness(t)
	if st := h.run(t, "start", vip, "OCF_RESKEY_nic=eth1", "OCF_RESKEY_cidr_netmask=24"); st != ocf.Success {
		t.Fatalf("start = %v", st)
	}
	if !h.k.links[2].Up {
		t.Error("eth1 left down")
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		action string
		env    []string
		root   bool
		want   ocf.Status
		reason string
	}{
		{"validate", "validate-all", []string{vip}, true, ocf.Success, ""},
		{"validate without root", "validate-all", []string{vip}, false, ocf.Success, ""},
		{"monitor without root", "monitor", []string{vip}, false, ocf.NotRunning, ""},
		{"start without root", "start", []string{vip}, false, ocf.ErrPerm, "You must be root for start operation."},
		{"stop without root", "stop", []string{vip}, false, ocf.ErrPerm, "You must be root"},
		{"missing ip", "validate-all", nil, true, ocf.ErrConfigured, "IP address (the ip parameter) is mandatory"},
		{"missing ip start", "start", nil, false, ocf.ErrConfigured, "mandatory"},
		{"missing ip stop", "stop", nil, true, ocf.Success, ""},
		{"bad ip", "start", []string{"OCF_RESKEY_ip=300.1.1.1"}, true, ocf.ErrInstalled, "IP address [300.1.1.1] not valid"},
		{"bad ip monitor", "monitor", []string{"OCF_RESKEY_ip=abc", "OCF_RESKEY_CRM_meta_interval=10000"}, true, ocf.ErrGeneric, "not valid"},
		{"bad ip probe", "monitor", []string{"OCF_RESKEY_ip=1.2.3", "OCF_RESKEY_CRM_meta_interval=0"}, true, ocf.NotRunning, ""},
		{"bad prefix status", "status", []string{vip, "OCF_RESKEY_cidr_netmask=33"}, true, ocf.ErrGeneric, "cidr_netmask [33]"},
		{"bad prefix validate", "validate-all", []string{vip, "OCF_RESKEY_cidr_netmask=0"}, true, ocf.ErrConfigured, "cidr_netmask [0]"},
		{"bad broadcast start", "start", []string{vip, "OCF_RESKEY_broadcast=garbage"}, true, ocf.ErrInstalled, "broadcast [garbage]"},
		{"bad broadcast monitor", "monitor", []string{vip, "OCF_RESKEY_broadcast=garbage", "OCF_RESKEY_cidr_netmask=24", "OCF_RESKEY_CRM_meta_interval=10000"}, true, ocf.NotRunning, ""},
		{"label too long stop", "stop", []string{vip, "OCF_RESKEY_iflabel=abcdefghijk"}, true, ocf.Success, ""},
		{"bad arp_count monitor", "monitor", []string{vip, "OCF_RESKEY_arp_count=abc"}, true, ocf.ErrConfigured, "arp_count [abc]"},
		{"bad arp_interval probe", "monitor", []string{vip, "OCF_RESKEY_arp_interval=0", "OCF_RESKEY_CRM_meta_interval=0"}, true, ocf.ErrConfigured, "arp_interval [0]"},
		{"bad ip stop", "stop", []string{"OCF_RESKEY_ip=abc"}, true, ocf.Success, ""},
		{"bad arp_count start", "start", []string{vip, "OCF_RESKEY_arp_count=0"}, true, ocf.ErrConfigured, "arp_count [0]"},
		{"bad arp_count stop", "stop", []string{vip, "OCF_RESKEY_arp_count=0"}, true, ocf.Success, ""},
		{"unknown nic validate", "validate-all", []string{vip, "OCF_RESKEY_nic=eth9"}, true, ocf.ErrConfigured, "Invalid interface name [eth9]"},
		{"unknown nic start", "start", []string{vip, "OCF_RESKEY_nic=eth9", "OCF_RESKEY_cidr_netmask=24"}, true, ocf.ErrInstalled, "eth9"},
		{"shell in nic", "start", []string{vip, "OCF_RESKEY_nic=e;reboot"}, true, ocf.ErrInstalled, "Invalid interface name [e;reboot]"},
		{"unknown nic monitor", "monitor", []string{vip, "OCF_RESKEY_nic=eth9", "OCF_RESKEY_cidr_netmask=24"}, true, ocf.NotRunning, ""},
		{"unknown nic probe", "monitor", []string{vip, "OCF_RESKEY_nic=eth9", "OCF_RESKEY_CRM_meta_interval=0"}, true, ocf.NotRunning, ""},
		{"unknown nic stop", "stop", []string{vip, "OCF_RESKEY_nic=eth9"}, true, ocf.Success, ""},
		{"no route validate", "validate-all", []string{"OCF_RESKEY_ip=198.19.5.5"}, true, ocf.ErrGeneric, "looked for a route to 198.19.5.5"},
		{"no route start", "start", []string{"OCF_RESKEY_ip=198.19.5.5"}, true, ocf.ErrInstalled, "Unable to find nic or netmask"},
		{"no route monitor", "monitor", []string{"OCF_RESKEY_ip=198.19.5.5", "OCF_RESKEY_CRM_meta_interval=10000"}, true, ocf.ErrGeneric, "198.19.5.5"},
		{"no route probe", "monitor", []string{"OCF_RESKEY_ip=198.19.5.5", "OCF_RESKEY_CRM_meta_interval=0"}, true, ocf.NotRunning, ""},
		{"no route stop", "stop", []string{"OCF_RESKEY_ip=198.19.5.5"}, true, ocf.Success, ""},
		{"label too long", "start", []string{vip, "OCF_RESKEY_iflabel=abcdefghijk"}, true, ocf.ErrConfigured, "eth0:abcdefghijk"},
		{"missing namespace validate", "validate-all", []string{vip, "OCF_RESKEY_network_namespace=missing"}, true, ocf.ErrInstalled, "network namespace missing: no such network namespace"},
		{"missing namespace start", "start", []string{vip, "OCF_RESKEY_network_namespace=missing"}, true, ocf.ErrInstalled, "no such network namespace"},
		{"missing namespace probe", "monitor", []string{vip, "OCF_RESKEY_network_namespace=missing"}, true, ocf.NotRunning, ""},
		{"missing namespace monitor", "monitor", []string{vip, "OCF_RESKEY_network_namespace=missing", "OCF_RESKEY_CRM_meta_interval=10000"}, true, ocf.NotRunning, ""},
		{"missing namespace stop", "stop", []string{vip, "OCF_RESKEY_network_namespace=missing"}, true, ocf.Success, ""},
		{"clusterip seed 0", "validate-all", []string{vip, "OCF_RESKEY_CRM_meta_clone_max=2", "OCF_RESKEY_clusterip_hash_seed=0"}, true, ocf.ErrConfigured, "clusterip_hash_seed 0"},
		{"unknown action", "promote", []string{vip}, true, ocf.ErrUnimplemented, "not implemented"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.root = tt.root
			before := len(h.k.addrs)
			if st := h.run(t, tt.action, tt.env...); st != tt.want {
				t.Errorf("%s = %v, want %v\n%s", tt.action, st, tt.want, h.stderr.String())
			}
			if r := h.reason(); (tt.reason == "") != (r == "") || !strings.Contains(r, tt.reason) {
				t.Errorf("exit reason %q, want one containing %q", r, tt.reason)
			}
			if strings.Count(h.stderr.String(), "ocf-exit-reason:") > 1 {
				t.Errorf("more than one exit reason:\n%s", h.stderr.String())
			}
			if len(h.k.addrs) != before || len(h.k.added) != 0 && tt.want != ocf.Success {
				t.Errorf("the system changed: %+v", h.k.addrs)
			}
		})
	}
}

func TestAddFailureIsGeneric(t *testing.T) {
	h := newHarness(t)
	h.k.failAdd = errors.New("add 198.18.0.100/24 to eth0: file exists")
	if st := h.run(t, "start", vip); st != ocf.ErrGeneric || !strings.Contains(h.reason(), "Failed to add 198.18.0.100") {
		t.Errorf("start = %v, reason %q", st, h.reason())
	}
}

// TestMonitorNeedsExactPrefix: the address with another prefix, or on
// another nic, is not this resource running (IPaddr2's ip_served), but
// neither is it stopped: monitor fails, naming where it is, so that
// Pacemaker stops it here rather than starting it on a second node.
func TestMonitorNeedsExactPrefix(t *testing.T) {
	h := newHarness(t)
	h.k.addrs = append(h.k.addrs,
		netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/25"), LinkIndex: 2},
		netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 3})
	if st := h.run(t, "monitor", vip); st != ocf.ErrGeneric || !strings.Contains(h.reason(), "198.18.0.100 is on eth0 as 198.18.0.100/25 and eth1 as 198.18.0.100/24, not on eth0 as 198.18.0.100/24") {
		t.Errorf("monitor = %v, reason %q", st, h.reason())
	}
	if st := h.run(t, "monitor", vip, "OCF_RESKEY_cidr_netmask=25"); st != ocf.Success {
		t.Errorf("monitor /25 = %v", st)
	}
}

// TestMonitorAsksForItsAddressOnly: with nic and prefix given, the
// monitor of a running address asks the kernel for its one address and
// nothing else, never for the dump of all of them. Only a monitor that
// does not find it there looks for it elsewhere.
func TestMonitorAsksForItsAddressOnly(t *testing.T) {
	h := newHarness(t)
	h.k.routes = nil // a route lookup would fail the monitor
	h.k.addrs = append(h.k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2})
	h.run(t, "monitor", vip, "OCF_RESKEY_nic=eth0", "OCF_RESKEY_cidr_netmask=24")
	if h.k.lookups != 1 || h.k.dumps != 0 {
		t.Errorf("%d lookups and %d address dumps, want 1 and 0", h.k.lookups, h.k.dumps)
	}
	// Without them, findif reads the routes and no address.
	h = newHarness(t)
	h.k.addrs = append(h.k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2})
	h.run(t, "monitor", vip)
	if h.k.lookups != 1 || h.k.dumps != 0 {
		t.Errorf("%d lookups and %d address dumps without nic and prefix, want 1 and 0", h.k.lookups, h.k.dumps)
	}
	h = newHarness(t)
	h.run(t, "monitor", vip)
	if h.k.lookups != 1 || h.k.dumps != 1 {
		t.Errorf("%d lookups and %d address dumps when the address is not there, want 1 and 1", h.k.lookups, h.k.dumps)
	}
}

// TestSenderStopsWhenTheAddressGoes: the background sender checks the
// kernel before each frame, and stops once the address is gone.
func TestSenderStopsWhenTheAddressGoes(t *testing.T) {
	h := newHarness(t)
	h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1")
	md := metadata.Declared()
	e := ocf.ParseEnv([]string{"HA_RSCTMP=" + h.rsctmp})
	params := md.Defaults()
	params["ip"], params["arp_count"], params["arp_interval"] = "198.18.0.100", "3", "20"
	a := &Agent{Open: func(string) (Kernel, error) { return kernelOf(h.k), nil }, Senders: h.senders.For, Log: ocf.NewLogger(e, "floatip", 1, &h.stderr),
		Env: e, Params: params, Defaults: md.Defaults(), Root: true, Stdout: &h.stdout}
	h.announced = 0
	// The address goes after the second frame of the sender.
	h.k.onFrame = func(n int) {
		if n == 2 {
			h.k.mu.Lock()
			h.k.addrs = h.k.addrs[:2]
			h.k.mu.Unlock()
		}
	}
	if st := a.Announce(context.Background(), 1, fakeNetNS); st != ocf.ErrGeneric {
		t.Errorf("Announce = %v, want a failure once the address went", st)
	}
	if h.announced != 2 {
		t.Errorf("%d frames, want the 2 before the address went", h.announced)
	}
	// One frame found it gone, and the burst ended there.
	if n := strings.Count(h.stderr.String(), "1 failed"); n != 1 {
		t.Errorf("the burst's report does not say that one frame found the address gone:\n%s", h.stderr.String())
	}
}

func TestMonitorRefresh(t *testing.T) {
	h := newHarness(t)
	h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1")
	h.announced = 0
	if st := h.run(t, "monitor", vip, "OCF_RESKEY_arp_count_refresh=2", "OCF_RESKEY_arp_bg=false"); st != ocf.Success || h.announced != 4 {
		t.Errorf("monitor = %v with %d frames, want 4", st, h.announced)
	}
	h.announced = 0
	h.run(t, "monitor", vip)
	if h.announced != 0 {
		t.Errorf("default monitor announced %d times", h.announced)
	}
}

// TestStopWithInvalidParameters: stop removes the address even when a
// parameter it does not need became invalid (IPaddr2 answers
// OCF_ERR_CONFIGURED and leaves the address: resource-agents #891).
func TestStopWithInvalidParameters(t *testing.T) {
	h := newHarness(t)
	h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1")
	if st := h.run(t, "stop", vip, "OCF_RESKEY_arp_count=0", "OCF_RESKEY_flush_routes=maybe"); st != ocf.Success {
		t.Fatalf("stop = %v", st)
	}
	if len(h.k.addrs) != 2 {
		t.Errorf("address left: %+v", h.k.addrs)
	}
}

// TestStopRemovesALabelledAddress: heartbeat:IPaddr2 and the kernel take
// labels that floatip refuses to add (control characters). A stop after
// a move from IPaddr2 must still take such an address away: the label
// plays no part in finding it, and an address left behind while stop
// says success is the same address on two nodes.
func TestStopRemovesALabelledAddress(t *testing.T) {
	for _, tt := range []struct{ name, label string }{
		{"iflabel with a tab", "iflabel=a\tb"},
		{"nic:label with a tab", "nic=eth0:a\tb"},
		{"UTF-8 iflabel", "iflabel=\u00e9"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, label, _ := strings.Cut(tt.label, "=")
			label = strings.TrimPrefix(label, "eth0:")
			h.k.addrs = append(h.k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2, Label: "eth0:" + label, Broadcast: netip.MustParseAddr("198.18.0.255")})
			if st := h.run(t, "stop", vip, "OCF_RESKEY_"+tt.label); st != ocf.Success {
				t.Errorf("stop = %v, want success", st)
			}
			for _, a := range h.k.addrs {
				if a.Prefix.Addr() == netip.MustParseAddr("198.18.0.100") {
					t.Errorf("stop left %+v on the nic: %s", a, h.stderr.String())
				}
			}
		})
	}
}

// TestStopTrimsTheAddress: heartbeat:IPaddr2 4.12 adds "198.18.0.100 ",
// and takes cidr_netmask "24 "; floatip refuses to, but its stop removes
// what IPaddr2 added.
func TestStopTrimsTheAddress(t *testing.T) {
	for _, ip := range []string{"198.18.0.100 ", " 198.18.0.100", "198.18.0.100\t", "198.18.0.100 cidr_netmask=24 ", "198.18.0.100 cidr_netmask=24\n"} {
		h := newHarness(t)
		h.k.addrs = append(h.k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2, Label: "eth0", Broadcast: netip.MustParseAddr("198.18.0.255")})
		env := []string{"OCF_RESKEY_ip=" + ip}
		if a, mask, ok := strings.Cut(ip, " cidr_netmask="); ok {
			env = []string{"OCF_RESKEY_ip=" + a, "OCF_RESKEY_cidr_netmask=" + mask}
		}
		if st := h.run(t, "start", env...); st != ocf.ErrInstalled {
			t.Errorf("start of %q = %v, want %v", ip, st, ocf.ErrInstalled)
		}
		if st := h.run(t, "stop", env...); st != ocf.Success {
			t.Errorf("stop of %q = %v, want success", ip, st)
		}
		for _, a := range h.k.addrs {
			if a.Prefix.Addr() == netip.MustParseAddr("198.18.0.100") {
				t.Errorf("stop of %q left %+v on the nic", ip, a)
			}
		}
	}
}

// TestStopWithABadCloneNumber: the clone number decides a unique clone's
// address. A stop with a number that does not read cannot know which
// address is its own, and must not take the clone's base address, which
// instance 0 may hold on this node.
func TestStopWithABadCloneNumber(t *testing.T) {
	for _, clone := range []string{"-5", "abc"} {
		t.Run(clone, func(t *testing.T) {
			h := newHarness(t)
			base := []string{vip, "OCF_RESKEY_unique_clone_address=true", "OCF_RESKEY_CRM_meta_globally_unique=true", "OCF_RESKEY_CRM_meta_clone_max=2"}
			h.run(t, "start", append(base, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1", "OCF_RESKEY_CRM_meta_clone=0")...)
			before := len(h.k.addrs)
			if st := h.run(t, "start", append(base, "OCF_RESKEY_CRM_meta_clone="+clone)...); st != ocf.ErrInstalled {
				t.Errorf("start with clone %s = %v, want %v", clone, st, ocf.ErrInstalled)
			}
			if st := h.run(t, "stop", append(base, "OCF_RESKEY_CRM_meta_clone="+clone)...); st != ocf.Success {
				t.Errorf("stop with clone %s = %v, want success", clone, st)
			}
			if len(h.k.addrs) != before {
				t.Errorf("%d addresses after start and stop of clone %s, want the %d of instance 0: %+v", len(h.k.addrs), clone, before, h.k.addrs)
			}
		})
	}
}

// TestStopOfACloneAddressFromY: floatip read unique_clone_address=y as
// true and added the clone's own address, the base address plus its
// number. A stop after an upgrade, where config refuses y, must still take
// that address away, and leave the base address, which instance 0 may
// hold on this node: the same address left on two nodes is the failure a
// stop exists to prevent.
func TestStopOfACloneAddressFromY(t *testing.T) {
	for _, y := range []string{"y", "Y"} {
		t.Run(y, func(t *testing.T) {
			h := newHarness(t)
			clone := []string{vip, "OCF_RESKEY_CRM_meta_globally_unique=true", "OCF_RESKEY_CRM_meta_clone_max=2", "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1"}
			for _, n := range []string{"0", "1"} {
				if st := h.run(t, "start", append(clone, "OCF_RESKEY_unique_clone_address=true", "OCF_RESKEY_CRM_meta_clone="+n)...); st != ocf.Success {
					t.Fatalf("start of instance %s = %v", n, st)
				}
			}
			if st := h.run(t, "stop", append(clone, "OCF_RESKEY_unique_clone_address="+y, "OCF_RESKEY_CRM_meta_clone=1")...); st != ocf.Success {
				t.Errorf("stop = %v, want success", st)
			}
			var held []netip.Addr
			for _, a := range h.k.addrs {
				held = append(held, a.Prefix.Addr())
			}
			if slices.Contains(held, netip.MustParseAddr("198.18.0.101")) || !slices.Contains(held, netip.MustParseAddr("198.18.0.100")) {
				t.Errorf("addresses after the stop of instance 1 with unique_clone_address=%s: %v, want 198.18.0.100 without 198.18.0.101\n%s", y, held, h.stderr.String())
			}
		})
	}
}

// TestYAfterAnUpgrade: a cluster upgraded from floatip 0.9, which read
// y as true, keeps its address: every action reads it as true, with a
// warning, where a refusal would fail the probes and monitors of every
// node at once.
func TestYAfterAnUpgrade(t *testing.T) {
	h := newHarness(t)
	p := []string{vip, "OCF_RESKEY_nodad=y", "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1"}
	for _, step := range []struct {
		action string
		meta   []string
		want   ocf.Status
	}{
		{"monitor", []string{"OCF_RESKEY_CRM_meta_interval=0"}, ocf.NotRunning},
		{"validate-all", nil, ocf.Success},
		{"start", nil, ocf.Success},
		{"monitor", []string{"OCF_RESKEY_CRM_meta_interval=10000"}, ocf.Success},
		{"stop", nil, ocf.Success},
	} {
		h.stderr.Reset()
		if st := h.run(t, step.action, append(slices.Clone(p), step.meta...)...); st != step.want {
			t.Errorf("%s %v with nodad=y = %v, want %v: %s", step.action, step.meta, st, step.want, h.stderr.String())
		}
		if !strings.Contains(h.stderr.String(), "nodad [y] reads as true") {
			t.Errorf("%s with nodad=y: no warning: %q", step.action, h.stderr.String())
		}
	}
}

func TestStopFlushesRoutes(t *testing.T) {
	h := newHarness(t)
	h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1")
	if st := h.run(t, "stop", vip, "OCF_RESKEY_flush_routes=true"); st != ocf.Success || h.k.flushes != 1 {
		t.Errorf("stop = %v with %d flushes, want 1", st, h.k.flushes)
	}
}

func TestStartIPv6(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want netif.NewAddr
		dads int
	}{
		{"defaults: DAD awaited", nil, netif.NewAddr{Prefix: netip.MustParsePrefix("2001:db8::100/64"), PreferredLifetime: netif.Forever, Metric: 256}, 1},
		{"nodad", []string{"OCF_RESKEY_nodad=true"}, netif.NewAddr{Prefix: netip.MustParsePrefix("2001:db8::100/64"), NoDAD: true, PreferredLifetime: netif.Forever, Metric: 256}, 0},
		{"preferred_lft 0, noprefixroute", []string{"OCF_RESKEY_preferred_lft=0", "OCF_RESKEY_noprefixroute=1"},
			netif.NewAddr{Prefix: netip.MustParsePrefix("2001:db8::100/64"), NoPrefixRoute: true, Metric: 256}, 1},
		{"/128 finds its nic", []string{"OCF_RESKEY_cidr_netmask=128"}, netif.NewAddr{Prefix: netip.MustParsePrefix("2001:db8::100/128"), PreferredLifetime: netif.Forever, Metric: 256}, 1},
		{"label is IPv4 only", []string{"OCF_RESKEY_iflabel=v6"}, netif.NewAddr{Prefix: netip.MustParsePrefix("2001:db8::100/64"), PreferredLifetime: netif.Forever, Metric: 256}, 1},
		{"canonical form", []string{"OCF_RESKEY_ip=2001:DB8:0::0100"}, netif.NewAddr{Prefix: netip.MustParsePrefix("2001:db8::100/64"), PreferredLifetime: netif.Forever, Metric: 256}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if st := h.run(t, "start", append([]string{"OCF_RESKEY_ip=2001:db8::100", "OCF_RESKEY_arp_interval=10"}, tt.env...)...); st != ocf.Success {
				t.Fatalf("start = %v: %s", st, h.stderr.String())
			}
			if len(h.k.added) != 1 || h.k.added[0] != tt.want {
				t.Errorf("added %+v, want %+v", h.k.added, tt.want)
			}
			if h.k.dads != tt.dads {
				t.Errorf("%d DAD waits, want %d", h.k.dads, tt.dads)
			}
			// send_ua's burst: arp_count advertisements, in the foreground.
			if h.announced != 5 || len(h.bg) != 0 {
				t.Errorf("%d frames in the foreground, %d background bursts; want 5 and 0", h.announced, len(h.bg))
			}
			if st := h.run(t, "monitor", "OCF_RESKEY_ip=2001:db8::100", "OCF_RESKEY_cidr_netmask="+fmt.Sprint(tt.want.Prefix.Bits())); st != ocf.Success {
				t.Errorf("monitor = %v", st)
			}
		})
	}
}

func TestStartIPv6DADFailed(t *testing.T) {
	h := newHarness(t)
	h.k.dadErr = fmt.Errorf("2001:db8::100/64 on eth0: %w", netif.ErrDADFailed)
	if st := h.run(t, "start", "OCF_RESKEY_ip=2001:db8::100"); st != ocf.ErrGeneric {
		t.Fatalf("start = %v", st)
	}
	if r := h.reason(); !strings.Contains(r, "IPv6 address collision 2001:db8::100 [DAD]") {
		t.Errorf("reason %q", r)
	}
	if len(h.k.addrs) != 2 || h.announced != 0 {
		t.Errorf("left %+v, announced %d", h.k.addrs, h.announced)
	}
}

func TestStartIPv6StillTentative(t *testing.T) {
	h := newHarness(t)
	h.k.dadErr = fmt.Errorf("wait: %w", netif.ErrTentative)
	if st := h.run(t, "start", "OCF_RESKEY_ip=2001:db8::100"); st != ocf.Success || !strings.Contains(h.stderr.String(), "still tentative") {
		t.Errorf("start = %v: %s", st, h.stderr.String())
	}
}

func TestRunArping(t *testing.T) {
	h := newHarness(t)
	h.claimant = net.HardwareAddr{2, 0, 0, 0, 0, 9}
	if st := h.run(t, "start", vip, "OCF_RESKEY_run_arping=true"); st != ocf.ErrGeneric {
		t.Fatalf("start with a claimant = %v", st)
	}
	if r := h.reason(); r != "IPv4 address collision 198.18.0.100 [DAD]: 02:00:00:00:00:09 on eth0 answers for it" {
		t.Errorf("reason %q", r)
	}
	if len(h.k.added) != 0 {
		t.Errorf("added %+v despite the collision", h.k.added)
	}
	h.claimant = nil
	if st := h.run(t, "start", vip, "OCF_RESKEY_run_arping=true"); st != ocf.Success || len(h.k.added) != 1 {
		t.Errorf("start without a claimant = %v, %d added", st, len(h.k.added))
	}
	probes := h.probes
	h.run(t, "start", vip)
	h.run(t, "stop", vip)
	h.run(t, "start", vip)
	if h.probes != probes {
		t.Error("probed without run_arping")
	}
}

func TestNetworkNamespace(t *testing.T) {
	h := newHarness(t)
	for _, action := range []string{"start", "monitor", "stop"} {
		if st := h.run(t, action, vip, "OCF_RESKEY_network_namespace=blue", "OCF_RESKEY_arp_bg=false"); st != ocf.Success {
			t.Errorf("%s = %v", action, st)
		}
	}
	if strings.Join(h.namespaces, ",") != "blue,blue,blue" {
		t.Errorf("opened %q, want blue for each action", h.namespaces)
	}
}

// TestRefreshLeavesARunningBurst: the first monitor comes right after
// start; its refresh must not cut start's background burst short.
func TestRefreshLeavesARunningBurst(t *testing.T) {
	h := newHarness(t)
	h.run(t, "start", vip, "OCF_RESKEY_arp_count_refresh=2")
	if len(h.bg) != 1 {
		t.Fatalf("%d background bursts after start", len(h.bg))
	}
	h.announced = 0
	if st := h.run(t, "monitor", vip, "OCF_RESKEY_arp_count_refresh=2"); st != ocf.Success {
		t.Fatalf("monitor = %v", st)
	}
	if h.announced != 0 || len(h.bg) != 1 {
		t.Errorf("refresh sent %d frames and started %d senders while start's burst ran", h.announced, len(h.bg)-1)
	}
}

func TestLVSSupport(t *testing.T) {
	h := newHarness(t)
	lo := netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/32"), LinkIndex: 1}
	h.k.addrs = append(h.k.addrs, lo)
	p := []string{vip, "OCF_RESKEY_lvs_support=true", "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1"}
	if st := h.run(t, "start", p...); st != ocf.Success {
		t.Fatalf("start = %v: %s", st, h.stderr.String())
	}
	if slices.Contains(h.k.addrs, lo) {
		t.Error("the loopback copy is still there after start")
	}
	if st := h.run(t, "stop", p...); st != ocf.Success {
		t.Fatalf("stop = %v", st)
	}
	want := netif.NewAddr{Prefix: lo.Prefix, Broadcast: netip.MustParseAddr("255.255.255.255"), PreferredLifetime: netif.Forever}
	if !slices.ContainsFunc(h.k.addrs, func(a netif.Addr) bool { return a.Prefix == lo.Prefix && a.LinkIndex == 1 }) || h.k.added[len(h.k.added)-1] != want {
		t.Errorf("loopback not restored: %+v", h.k.addrs)
	}
	if entries, _ := os.ReadDir(h.rsctmp); len(entries) != 0 {
		t.Errorf("left in HA_RSCTMP: %v", entries)
	}
}

// TestStopUndoesWhatYTurnedOn: floatip 0.9 read lvs_support=y and
// lvs_ipv6_addrlabel=y as true, and its start took the loopback copy
// away or added a label. A stop after an upgrade, where config refuses y,
// must still give the loopback copy back and remove the label.
func TestStopUndoesWhatYTurnedOn(t *testing.T) {
	t.Run("lvs_support", func(t *testing.T) {
		h := newHarness(t)
		lo := netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/32"), LinkIndex: 1}
		h.k.addrs = append(h.k.addrs, lo)
		p := []string{vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1"}
		if st := h.run(t, "start", append(p, "OCF_RESKEY_lvs_support=true")...); st != ocf.Success {
			t.Fatalf("start = %v: %s", st, h.stderr.String())
		}
		if st := h.run(t, "stop", append(p, "OCF_RESKEY_lvs_support=y")...); st != ocf.Success {
			t.Fatalf("stop = %v", st)
		}
		if !slices.ContainsFunc(h.k.addrs, func(a netif.Addr) bool { return a.Prefix == lo.Prefix && a.LinkIndex == 1 }) {
			t.Errorf("loopback not restored by a stop with lvs_support=y: %+v\n%s", h.k.addrs, h.stderr.String())
		}
	})
	t.Run("lvs_ipv6_addrlabel", func(t *testing.T) {
		h := newHarness(t)
		p := []string{"OCF_RESKEY_ip=2001:db8::100", "OCF_RESKEY_lvs_ipv6_addrlabel_value=77", "OCF_RESKEY_nodad=true", "OCF_RESKEY_arp_count=1"}
		h.run(t, "start", append(p, "OCF_RESKEY_lvs_ipv6_addrlabel=true")...)
		if st := h.run(t, "stop", append(p, "OCF_RESKEY_lvs_ipv6_addrlabel=Y")...); st != ocf.Success {
			t.Fatalf("stop = %v", st)
		}
		want := "+2001:db8::100/128 77,-2001:db8::100/128 77"
		if got := strings.Join(h.k.labels, ","); got != want {
			t.Errorf("labels %q, want %q\n%s", got, want, h.stderr.String())
		}
	})
}

// TestLVSSupportAfterUpgrade: the file that remembers the loopback
// address is the address's in its namespace; a stop after an upgrade
// still finds the one an older floatip named by the address alone.
func TestLVSSupportAfterUpgrade(t *testing.T) {
	h := newHarness(t)
	lo := netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/32"), LinkIndex: 1}
	h.k.addrs = append(h.k.addrs, lo)
	p := []string{vip, "OCF_RESKEY_lvs_support=true", "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1"}
	if st := h.run(t, "start", p...); st != ocf.Success {
		t.Fatalf("start = %v: %s", st, h.stderr.String())
	}
	file := filepath.Join(h.rsctmp, "floatip-lvs-198.18.0.100@net4026531840")
	legacy := filepath.Join(h.rsctmp, "floatip-lvs-198.18.0.100")
	if err := os.Rename(file, legacy); err != nil {
		t.Fatal(err)
	}
	if st := h.run(t, "stop", p...); st != ocf.Success {
		t.Fatalf("stop = %v", st)
	}
	if !slices.ContainsFunc(h.k.addrs, func(a netif.Addr) bool { return a.Prefix == lo.Prefix && a.LinkIndex == 1 }) {
		t.Errorf("loopback not restored from the older file: %+v", h.k.addrs)
	}
	if entries, _ := os.ReadDir(h.rsctmp); len(entries) != 0 {
		t.Errorf("left in HA_RSCTMP: %v", entries)
	}
}

func TestIPv6AddrLabel(t *testing.T) {
	h := newHarness(t)
	p := []string{"OCF_RESKEY_ip=2001:db8::100", "OCF_RESKEY_lvs_ipv6_addrlabel=true", "OCF_RESKEY_lvs_ipv6_addrlabel_value=77", "OCF_RESKEY_nodad=true", "OCF_RESKEY_arp_count=1"}
	h.run(t, "start", p...)
	h.run(t, "stop", p...)
	want := "+2001:db8::100/128 77,-2001:db8::100/128 77"
	if got := strings.Join(h.k.labels, ","); got != want {
		t.Errorf("labels %q, want %q", got, want)
	}
}

func TestSplitBrainAtDepth10(t *testing.T) {
	h := newHarness(t)
	h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1")
	probes := h.probes
	if st := h.run(t, "monitor", vip); st != ocf.Success || h.probes != probes {
		t.Errorf("depth 0 monitor = %v with %d probes", st, h.probes-probes)
	}
	if st := h.run(t, "monitor", vip, "OCF_CHECK_LEVEL=10"); st != ocf.Success || h.probes != probes+1 {
		t.Errorf("depth 10 monitor alone = %v with %d probes", st, h.probes-probes)
	}
	h.claimant = net.HardwareAddr{2, 0, 0, 0, 0, 9}
	if st := h.run(t, "monitor", vip, "OCF_CHECK_LEVEL=10"); st != ocf.ErrGeneric ||
		h.reason() != "split brain: 02:00:00:00:00:09 also answers for 198.18.0.100 on eth0's link" {
		t.Errorf("depth 10 monitor with another holder = %v, reason %q", st, h.reason())
	}
	if st := h.run(t, "monitor", vip); st != ocf.Success {
		t.Errorf("depth 0 monitor = %v", st)
	}
}

// TestCheckLinkStatus pins IPaddr2 4.17's check_link_status, on by
// default: a nic that is DOWN or LOWERLAYERDOWN does not serve the address.
func TestCheckLinkStatus(t *testing.T) {
	const downReason = "IP 198.18.0.100 available, but device has status down"
	cut := func(k *fakeKernel) { k.links[1].Carrier, k.links[1].OperState = false, "LOWERLAYERDOWN" }
	present := func(k *fakeKernel) {
		k.addrs = append(k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2, Label: "eth0"})
	}
	tests := []struct {
		name      string
		setup     []func(*fakeKernel)
		action    string
		env       []string
		want      ocf.Status
		reason    string
		addresses int // the VIP's addresses on the node afterwards
	}{
		{"monitor, link up", []func(*fakeKernel){present}, "monitor", nil, ocf.Success, "", 1},
		{"monitor, no carrier", []func(*fakeKernel){present, cut}, "monitor", nil, ocf.NotRunning, "", 1},
		{"monitor, no carrier, check off", []func(*fakeKernel){present, cut}, "monitor", []string{"OCF_RESKEY_check_link_status=false"}, ocf.Success, "", 1},
		{"monitor, set down", []func(*fakeKernel){present, func(k *fakeKernel) { k.links[1].Up, k.links[1].OperState = false, "DOWN" }}, "monitor", nil, ocf.NotRunning, "", 1},
		{"monitor, state unknown", []func(*fakeKernel){present, func(k *fakeKernel) { k.links[1].OperState = "UNKNOWN" }}, "monitor", nil, ocf.Success, "", 1},
		{"start, already there, no carrier", []func(*fakeKernel){present, cut}, "start", nil, ocf.ErrInstalled, downReason, 1},
		{"start, no carrier", []func(*fakeKernel){cut}, "start", nil, ocf.ErrInstalled, downReason, 0},
		{"start, no carrier, check off", []func(*fakeKernel){cut}, "start", []string{"OCF_RESKEY_check_link_status=false"}, ocf.Success, "", 1},
		{"start, set down, carrier when up", []func(*fakeKernel){func(k *fakeKernel) { k.links[1].Up, k.links[1].Carrier, k.links[1].OperState = false, false, "DOWN" }}, "start", nil, ocf.Success, "", 1},
		{"start, set down, unplugged", []func(*fakeKernel){func(k *fakeKernel) {
			k.links[1].Up, k.links[1].Carrier, k.links[1].OperState, k.unplugged = false, false, "DOWN", 2
		}}, "start", nil, ocf.ErrInstalled, downReason, 0},
		{"stop, no carrier", []func(*fakeKernel){present, cut}, "stop", nil, ocf.Success, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			for _, f := range tt.setup {
				f(h.k)
			}
			env := append([]string{vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1", "OCF_RESKEY_CRM_meta_interval=10000"}, tt.env...)
			st := h.run(t, tt.action, env...)
			if st != tt.want || !strings.HasPrefix(h.reason(), tt.reason) {
				t.Errorf("%s = %v, reason %q; want %v, %q", tt.action, st, h.reason(), tt.want, tt.reason)
			}
			n := 0
			for _, a := range h.k.addrs {
				if a.Prefix.Addr() == netip.MustParseAddr("198.18.0.100") {
					n++
				}
			}
			if n != tt.addresses {
				t.Errorf("%d addresses 198.18.0.100 left, want %d", n, tt.addresses)
			}
		})
	}
}

func TestMonitorDADFailed(t *testing.T) {
	h := newHarness(t)
	h.k.addrs = append(h.k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("2001:db8::100/64"), LinkIndex: 2, Flags: netif.FlagDADFailed | netif.FlagTentative})
	if st := h.run(t, "monitor", "OCF_RESKEY_ip=2001:db8::100"); st != ocf.ErrGeneric || !strings.Contains(h.reason(), "IPv6 address collision 2001:db8::100 [DAD]") {
		t.Errorf("monitor = %v, reason %q", st, h.reason())
	}
}

// TestMonitorCannotTell: an address list the kernel could not finish
// (an error at the dump's end) is no answer, and monitor says so rather
// than "not running", which would start the address on another node too.
func TestMonitorCannotTell(t *testing.T) {
	h := newHarness(t)
	h.k.failLookup = fmt.Errorf("list addresses: finish address dump: %w", syscall.EMSGSIZE)
	for _, action := range []string{"monitor", "status"} {
		if st := h.run(t, action, vip); st != ocf.ErrGeneric || !strings.Contains(h.reason(), "Failed to read the addresses") {
			t.Errorf("%s = %v, reason %q; want OCF_ERR_GENERIC", action, st, h.reason())
		}
	}
}

// TestStopClearsBlockWithoutKillConnections: a stop cut short left the
// address blocked, and the admin turned kill_connections off before the
// next stop. That stop removes the block with the address: left behind,
// the blackhole would keep this node from reaching the VIP on its new
// holder.
func TestStopClearsBlockWithoutKillConnections(t *testing.T) {
	h := newHarness(t)
	if st := h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1"); st != ocf.Success {
		t.Fatalf("start = %v", st)
	}
	h.k.blocked = map[netip.Addr]bool{netip.MustParseAddr("198.18.0.100"): true}
	if st := h.run(t, "stop", vip, "OCF_RESKEY_kill_connections=false"); st != ocf.Success || len(h.k.blocked) != 0 {
		t.Errorf("stop = %v, blocked %v", st, h.k.blocked)
	}
}

func TestKillConnections(t *testing.T) {
	h := newHarness(t)
	h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1")
	h.run(t, "stop", vip)
	if h.k.kills != 0 {
		t.Error("connections ended without kill_connections")
	}
	h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1")
	h.k.conns = 3
	if st := h.run(t, "stop", vip, "OCF_RESKEY_kill_connections=true"); st != ocf.Success || h.k.kills != 2 || !strings.Contains(h.stderr.String(), "Ended 3 TCP connection(s)") {
		t.Errorf("stop = %v, %d kills: %s", st, h.k.kills, h.stderr.String())
	}
}

// TestKillConnectionsReconnect: clients that reconnect the instant they
// are reset find the node closed, so none is left on the old node when the
// address goes (a stranded client hangs until its own timeout).
func TestKillConnectionsReconnect(t *testing.T) {
	for _, tt := range []struct {
		name      string
		failBlock error
		failDel   error
		want      ocf.Status
		events    []string
		stranded  int
	}{
		{
			name: "closed first",
			want: ocf.Success,
			events: []string{"block 198.18.0.100", "kill 3", "kill 0", "del 198.18.0.100/24",
				"unblock 198.18.0.100 restore=false"},
		},
		{
			name:      "cannot close",
			failBlock: syscall.EPERM,
			want:      ocf.Success,
			events: []string{"block 198.18.0.100", "kill 3", "kill 3", "kill 3", "kill 3", "kill 3",
				"del 198.18.0.100/24", "unblock 198.18.0.100 restore=false"},
			stranded: 3,
		},
		{
			name:    "address stays",
			failDel: syscall.EPERM,
			want:    ocf.ErrGeneric,
			events: []string{"block 198.18.0.100", "kill 3", "kill 0", "del 198.18.0.100/24",
				"unblock 198.18.0.100 restore=true"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1")
			h.k.conns, h.k.reconnecting, h.k.events = 3, true, nil
			h.k.failBlock, h.k.failDel = tt.failBlock, tt.failDel
			if st := h.run(t, "stop", vip, "OCF_RESKEY_kill_connections=true"); st != tt.want {
				t.Errorf("stop = %v, want %v: %s", st, tt.want, h.stderr.String())
			}
			if diff := cmp.Diff(tt.events, h.k.events); diff != "" {
				t.Errorf("stop's steps (-want +got):\n%s", diff)
			}
			if h.k.stranded != tt.stranded {
				t.Errorf("%d connection(s) stranded, want %d", h.k.stranded, tt.stranded)
			}
			if len(h.k.blocked) != 0 {
				t.Errorf("left blocked: %v", h.k.blocked)
			}
		})
	}
}

// TestStartUnblocks: a start makes the address usable again after a stop
// that its timeout cut short between blocking and removing it, and a stop
// of an address that is gone clears what such a stop left.
func TestStartUnblocks(t *testing.T) {
	h := newHarness(t)
	h.k.events = nil
	h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1")
	h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1")
	h.k.failDel = syscall.EPERM
	h.run(t, "stop", vip)
	h.k.failDel = nil
	h.run(t, "stop", vip)
	h.run(t, "stop", vip)
	want := []string{
		"unblock 198.18.0.100 restore=false",
		"unblock 198.18.0.100 restore=true",
		"del 198.18.0.100/24",
		"del 198.18.0.100/24",
		"unblock 198.18.0.100 restore=false",
		"unblock 198.18.0.100 restore=false",
	}
	if diff := cmp.Diff(want, h.k.events); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

// TestCutShortStopLeftovers: what a stop cut short by its timeout left.
// A start adds an IPv6 address that was left blocked afresh, so that it
// gets the kernel's own local route, and puts an IPv4 one's route back; a
// monitor fails on a blocked address that is there and removes the block
// of one that has gone.
func TestCutShortStopLeftovers(t *testing.T) {
	v4, v6 := netip.MustParseAddr("198.18.0.100"), netip.MustParseAddr("2001:db8::100")
	for _, tt := range []struct {
		name    string
		ip      netip.Addr
		env     []string
		gone    bool
		action  string
		want    ocf.Status
		events  []string
		present bool
	}{
		{"IPv6 start", v6, []string{"OCF_RESKEY_ip=2001:db8::100", "OCF_RESKEY_nodad=true"}, false, "start", ocf.Success,
			[]string{"del 2001:db8::100/64", "unblock 2001:db8::100 restore=false"}, true},
		{"IPv4 start", v4, []string{vip}, false, "start", ocf.Success,
			[]string{"unblock 198.18.0.100 restore=true"}, true},
		{"monitor of the blocked address", v4, []string{vip}, false, "monitor", ocf.ErrGeneric, nil, true},
		{"monitor of the gone address", v4, []string{vip}, true, "monitor", ocf.NotRunning,
			[]string{"unblock 198.18.0.100 restore=false"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			env := append([]string{"OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1"}, tt.env...)
			if st := h.run(t, "start", env...); st != ocf.Success {
				t.Fatalf("start = %v: %s", st, h.stderr.String())
			}
			if tt.gone {
				h.k.addrs = h.k.addrs[:len(h.k.addrs)-1]
			}
			h.k.blocked = map[netip.Addr]bool{tt.ip: true}
			h.k.events = nil
			if st := h.run(t, tt.action, env...); st != tt.want {
				t.Errorf("%s = %v, want %v: %s", tt.action, st, tt.want, h.stderr.String())
			}
			if diff := cmp.Diff(tt.events, h.k.events, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			present := false
			for _, a := range h.k.addrs {
				present = present || a.Prefix.Addr() == tt.ip
			}
			if present != tt.present {
				t.Errorf("address present = %v, want %v", present, tt.present)
			}
		})
	}
}

func TestAnnounceTo(t *testing.T) {
	h := newHarness(t)
	gw := netip.MustParseAddr("198.18.0.254")
	h.k.neighbors = map[netip.Addr]net.HardwareAddr{gw: {2, 0, 0, 0, 0, 0xfe}}
	h.run(t, "start", vip, "OCF_RESKEY_announce_to=198.18.0.254 198.18.0.253", "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1")
	if len(h.k.dialedTo) != 1 || h.k.dialedTo[0].IP != gw {
		t.Errorf("announced to %+v, want the gateway alone", h.k.dialedTo)
	}
	if !strings.Contains(h.stderr.String(), "announce_to 198.18.0.253: no neighbour with that address answers on eth0: skipped") {
		t.Errorf("the unknown neighbour is not logged: %s", h.stderr.String())
	}
}

// TestStopRace: the address left between stop's dump and its delete (the
// kernel removes secondaries with their primary): stop succeeds.
func TestStopRace(t *testing.T) {
	h := newHarness(t)
	h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1")
	h.k.failDel = fmt.Errorf("delete 198.18.0.100/24 from eth0: %w", syscall.EADDRNOTAVAIL)
	if st := h.run(t, "stop", vip); st != ocf.Success {
		t.Errorf("stop = %v: %s", st, h.stderr.String())
	}
	h.k.failDel = fmt.Errorf("delete 198.18.0.100/24 from eth0: %w", syscall.EPERM)
	if st := h.run(t, "stop", vip); st != ocf.ErrGeneric {
		t.Errorf("stop with another failure = %v", st)
	}
}

// TestStopWithBrokenCloneSettings: stop still removes the address when
// the clone settings themselves no longer parse.
func TestStopWithBrokenCloneSettings(t *testing.T) {
	for _, bad := range [][]string{
		{"OCF_RESKEY_CRM_meta_clone_max=abc"},
		{"OCF_RESKEY_unique_clone_address=x"},
		{"OCF_RESKEY_CRM_meta_clone_max=3"},
	} {
		h := newHarness(t)
		h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1")
		if st := h.run(t, "stop", append([]string{vip}, bad...)...); st != ocf.Success || len(h.k.addrs) != 2 {
			t.Errorf("stop with %v = %v, addresses %+v", bad, st, h.k.addrs)
		}
	}
}

// TestUniqueCloneIPv6: unique_clone_address has no last octet to add the
// clone number to in an IPv6 address, so every instance would hold the
// one address; it is a configuration error, named, for each instance.
// stop still removes the address as ip gives it.
func TestUniqueCloneIPv6(t *testing.T) {
	for _, clone := range []string{"0", "1"} {
		env := []string{"OCF_RESKEY_ip=2001:db8::100", "OCF_RESKEY_unique_clone_address=true",
			"OCF_RESKEY_CRM_meta_clone=" + clone, "OCF_RESKEY_CRM_meta_clone_max=2", "OCF_RESKEY_CRM_meta_globally_unique=true"}
		for _, step := range []struct {
			action string
			env    []string
		}{
			{"validate-all", nil},
			{"start", nil},
			{"monitor", []string{"OCF_RESKEY_CRM_meta_interval=0"}},
		} {
			h := newHarness(t)
			if st := h.run(t, step.action, append(env, step.env...)...); st != ocf.ErrConfigured || !strings.Contains(h.reason(), "unique_clone_address works only for IPv4") {
				t.Errorf("clone %s: %s = %v, reason %q; want OCF_ERR_CONFIGURED naming unique_clone_address", clone, step.action, st, h.reason())
			}
			if len(h.k.added) != 0 {
				t.Errorf("clone %s: %s added %+v", clone, step.action, h.k.added)
			}
		}
		h := newHarness(t)
		h.k.addrs = append(h.k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("2001:db8::100/64"), LinkIndex: 2})
		if st := h.run(t, "stop", env...); st != ocf.Success || len(h.k.addrs) != 2 {
			t.Errorf("clone %s: stop = %v, addresses %+v; want the address gone", clone, st, h.k.addrs)
		}
	}
}
