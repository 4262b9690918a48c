//go:build linux

// Package lab builds throwaway networks of network namespaces for floatip's
// integration tests, demo and benchmarks: hosts joined by a bridge, each
// with one veth nic, all on 198.18.0.0/15 and 2001:db8::/32. Nothing of it
// touches the root namespace's interfaces, and Close removes all of it.
package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Lab is a set of hosts on one bridge. The bridge lives in a namespace of
// its own, so that the root namespace holds nothing of the lab.
type Lab struct {
	// Prefix starts the name of every namespace of the lab.
	Prefix string
	Hosts  []*Host
	bridge string
}

// Host is a network namespace with one nic, eth0, on the lab's bridge.
type Host struct {
	Name string
	// NS is the namespace's name, as "ip netns" knows it.
	NS  string
	Dev string
	MAC net.HardwareAddr
	// Addr and Addr6 are the host's own addresses, either invalid when
	// it has none of that family.
	Addr, Addr6 netip.Prefix
	// Port is the host's port on the bridge, in the bridge's namespace.
	Port string
	lab  *Lab
}

// HostSpec describes a host to create; Addr and Addr6 may be invalid for a
// host without an IPv4 or IPv6 address.
type HostSpec struct {
	Name  string
	Addr  netip.Prefix
	Addr6 netip.Prefix
}

// New creates a lab with the given hosts. The hosts get MACs
// 02:00:5e:xx:00:<n> with n counting from 1, so they are easy to tell apart
// in a capture. On error, whatever was created is removed.
//
// Its names carry the process's pid (see Sweep), and the first lab of a
// process sweeps the labs that dead processes left.
func New(specs ...HostSpec) (*Lab, error) {
	sweepAtStart()
	return newOf(os.Getpid(), specs...)
}

// newOf is New for a lab named as process pid's.
func newOf(pid int, specs ...HostSpec) (*Lab, error) {
	var rnd [3]byte
	rand.Read(rnd[:])
	l := &Lab{Prefix: prefix(pid, rnd[:])}
	l.bridge = l.Prefix + "-br"
	if err := l.build(specs, rnd[0]); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func (l *Lab) build(specs []HostSpec, tag byte) error {
	if err := ip("netns", "add", l.bridge); err != nil {
		return err
	}
	if err := ip("-n", l.bridge, "link", "add", "br0", "type", "bridge"); err != nil {
		return err
	}
	if err := ip("-n", l.bridge, "link", "set", "br0", "up"); err != nil {
		return err
	}
	for i, s := range specs {
		h := &Host{
			Name:  s.Name,
			NS:    l.Prefix + "-" + s.Name,
			Dev:   "eth0",
			MAC:   net.HardwareAddr{0x02, 0x00, 0x5e, tag, 0x00, byte(i + 1)},
			Addr:  s.Addr,
			Addr6: s.Addr6,
			Port:  "p-" + s.Name,
			lab:   l,
		}
		l.Hosts = append(l.Hosts, h)
		if err := ip("netns", "add", h.NS); err != nil {
			return err
		}
		steps := [][]string{
			{"-n", h.NS, "link", "set", "lo", "up"},
			{"-n", h.NS, "link", "add", h.Dev, "address", h.MAC.String(), "type", "veth", "peer", "name", h.Port, "netns", l.bridge},
			{"-n", l.bridge, "link", "set", h.Port, "master", "br0", "up"},
			{"-n", h.NS, "link", "set", h.Dev, "up"},
		}
		for _, a := range []netip.Prefix{s.Addr, s.Addr6} {
			if a.IsValid() {
				steps = append(steps, addrAdd(h, a))
			}
		}
		for _, st := range steps {
			if err := ip(st...); err != nil {
				return err
			}
		}
	}
	return nil
}

// Host returns the host called name, or nil.
func (l *Lab) Host(name string) *Host {
	for _, h := range l.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Close deletes every namespace of the lab, which removes its links and
// addresses with it.
func (l *Lab) Close() error {
	var errs []error
	for _, h := range l.Hosts {
		if err := ip("netns", "del", h.NS); err != nil {
			errs = append(errs, err)
		}
	}
	if err := ip("netns", "del", l.bridge); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Leftovers lists the namespaces of any lab still present, by their prefix.
func Leftovers(prefix string) []string {
	entries, _ := os.ReadDir("/run/netns")
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// IP runs "ip" in the host's namespace, for the few changes a test makes
// by hand (an address added behind the agent's back, a link set down).
func (h *Host) IP(args ...string) error {
	return ip(append([]string{"-n", h.NS}, args...)...)
}

// Result is what a command run in a host printed and returned.
type Result struct {
	Code   int
	Stdout string
	Stderr string
	// Start and End are when the command was started and when its exit
	// was seen.
	Start, End time.Time
}

// Run runs argv in the host's namespace with exactly env as environment.
// A non-zero exit is a Result, not an error.
func (h *Host) Run(ctx context.Context, env []string, argv ...string) (Result, error) {
	return RunHere(ctx, env, append([]string{"ip", "netns", "exec", h.NS}, argv...)...)
}

// RunHere runs argv in the caller's namespace, as Run does in a host's.
func RunHere(ctx context.Context, env []string, argv ...string) (Result, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	return RunCmd(cmd)
}

// RunCmd runs cmd, whose output must not be set, and returns what it
// printed. A non-zero exit is a Result, not an error.
func RunCmd(cmd *exec.Cmd) (Result, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := Result{Start: time.Now()}
	err := cmd.Run()
	r.End = time.Now()
	r.Stdout, r.Stderr = stdout.String(), stderr.String()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		return r, err
	}
	return r, nil
}

// Handle returns a netlink handle on the host's namespace, for looking at
// its addresses and neighbours from the test.
func (h *Host) Handle() (*netlink.Handle, error) {
	ns, err := netns.GetFromName(h.NS)
	if err != nil {
		return nil, fmt.Errorf("open namespace %s: %w", h.NS, err)
	}
	defer ns.Close()
	return netlink.NewHandleAt(ns)
}

// Addrs lists the addresses on the host's nic of the given family
// (netlink.FAMILY_V4 or FAMILY_V6).
func (h *Host) Addrs(family int) ([]netlink.Addr, error) {
	nh, err := h.Handle()
	if err != nil {
		return nil, err
	}
	defer nh.Close()
	link, err := nh.LinkByName(h.Dev)
	if err != nil {
		return nil, err
	}
	return nh.AddrList(link, family)
}

// Neighbor returns the MAC the host's neighbour table holds for ip, nil
// when it holds none.
func (h *Host) Neighbor(ip netip.Addr) (net.HardwareAddr, error) {
	nh, err := h.Handle()
	if err != nil {
		return nil, err
	}
	defer nh.Close()
	family := netlink.FAMILY_V4
	if ip.Is6() {
		family = netlink.FAMILY_V6
	}
	neighs, err := nh.NeighList(0, family)
	if err != nil {
		return nil, err
	}
	for _, n := range neighs {
		if a, ok := netip.AddrFromSlice(n.IP); ok && a.Unmap() == ip && n.State&(netlink.NUD_FAILED|netlink.NUD_INCOMPLETE) == 0 {
			return n.HardwareAddr, nil
		}
	}
	return nil, nil
}

// addrAdd configures a host's own address. IPv4 addresses get the
// broadcast address that DHCP clients and network managers set, so that
// findif has one to copy; IPv6 addresses skip DAD, so the lab is usable at
// once.
func addrAdd(h *Host, p netip.Prefix) []string {
	args := []string{"-n", h.NS, "addr", "add", p.String(), "dev", h.Dev}
	if p.Addr().Is4() {
		return append(args, "brd", "+")
	}
	return append(args, "nodad")
}

// NeighborChange is a change of the host's neighbour entry for one address,
// with the time it was seen.
type NeighborChange struct {
	Time  time.Time
	MAC   net.HardwareAddr
	State int
}

// WatchNeighbor reports every change of the host's neighbour entry for ip,
// from netlink notifications, until stop is called.
func (h *Host) WatchNeighbor(ip netip.Addr) (changes func() []NeighborChange, stop func(), err error) {
	ns, err := netns.GetFromName(h.NS)
	if err != nil {
		return nil, nil, err
	}
	ch := make(chan netlink.NeighUpdate, 256)
	done := make(chan struct{})
	if err := netlink.NeighSubscribeWithOptions(ch, done, netlink.NeighSubscribeOptions{Namespace: &ns}); err != nil {
		ns.Close()
		return nil, nil, err
	}
	var (
		mu  sync.Mutex
		out []NeighborChange
		wg  sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for u := range ch {
			if a, ok := netip.AddrFromSlice(u.IP); !ok || a.Unmap() != ip {
				continue
			}
			mu.Lock()
			out = append(out, NeighborChange{Time: time.Now(), MAC: u.HardwareAddr, State: u.State})
			mu.Unlock()
		}
	}()
	changes = func() []NeighborChange {
		mu.Lock()
		defer mu.Unlock()
		return append([]NeighborChange{}, out...)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			ns.Close()
		})
	}
	return changes, stop, nil
}

// Cut takes the host's link down at the bridge, as a pulled cable or a
// dead switch port would: the host's nic loses its carrier.
func (l *Lab) Cut(h *Host) error {
	return ip("-n", l.bridge, "link", "set", h.Port, "down")
}

// Restore brings the host's link at the bridge up again after Cut.
func (l *Lab) Restore(h *Host) error {
	return ip("-n", l.bridge, "link", "set", h.Port, "up")
}

// FirstChangeTo returns the first of cs that names mac, nil when none does.
func FirstChangeTo(cs []NeighborChange, mac net.HardwareAddr) *NeighborChange {
	for i := range cs {
		if cs[i].MAC.String() == mac.String() {
			return &cs[i]
		}
	}
	return nil
}

// Learn makes the host ping ip until its neighbour table has an entry for
// it, and returns the entry's MAC.
func (h *Host) Learn(ctx context.Context, ip netip.Addr) (net.HardwareAddr, error) {
	p, err := h.Ping(ip, 10*time.Millisecond)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	for range 300 {
		if mac, err := h.Neighbor(ip); err != nil || mac != nil {
			return mac, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("%s has no neighbour entry for %s", h.Name, ip)
}

// Processes lists the processes in the host's network namespace, as
// "pid cmdline", but for the caller itself (whose threads enter the
// namespace to open sockets there). An agent's background sender is such
// a process while its burst lasts.
func (h *Host) Processes() ([]string, error) {
	var ns unix.Stat_t
	if err := unix.Stat(filepath.Join("/run/netns", h.NS), &ns); err != nil {
		return nil, fmt.Errorf("stat namespace %s: %w", h.NS, err)
	}
	links, _ := filepath.Glob("/proc/[0-9]*/ns/net")
	var out []string
	for _, p := range links {
		var st unix.Stat_t
		pid := strings.Split(p, "/")[2]
		if unix.Stat(p, &st) != nil || st.Dev != ns.Dev || st.Ino != ns.Ino || pid == strconv.Itoa(os.Getpid()) {
			continue
		}
		cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline")
		out = append(out, pid+" "+strings.ReplaceAll(strings.TrimRight(string(cmd), "\x00"), "\x00", " "))
	}
	return out, nil
}

// Idle waits until no process runs in the host's namespace: the
// background burst of an agent run there is over, so every frame of it
// has been sent. It fails after timeout, naming what still runs.
func (h *Host) Idle(ctx context.Context, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		procs, err := h.Processes()
		if err != nil || len(procs) == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("%s still runs %q after %v", h.Name, procs, timeout)
		case <-tick.C:
		}
	}
}
