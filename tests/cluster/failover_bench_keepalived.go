//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/lab"
)

// keepalivedSetup runs the VIP under keepalived (VRRPv3, multicast
// adverts, the GARP settings at their defaults) on both nodes, in their
// network namespaces: n1 with priority 150, n2 with 100, both starting as
// BACKUP, preemption on (the default), so that n1 holds the VIP whenever
// it runs and its link is up.
type keepalivedSetup struct {
	b *fbBench
	// advert is advert_int, in seconds as keepalived.conf takes it.
	advert string
	dir    string
	procs  map[string]*kaProc
}

// kaProc is one node's keepalived.
type kaProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// kaVRID is the VRRP instance's virtual router id.
const kaVRID = 51

func (k *keepalivedSetup) Name() string { return "keepalived advert " + k.advert + "s" }

func (k *keepalivedSetup) priority(n *fbNode) int {
	if n == k.b.nodes[0] {
		return 150
	}
	return 100
}

// keepalivedConf is a node's keepalived.conf.
func keepalivedConf(router string, priority int, advert string) string {
	return fmt.Sprintf(`global_defs {
	router_id %s
	vrrp_version 3
}
vrrp_instance floatip_bench {
	state BACKUP
	interface eth0
	virtual_router_id %d
	priority %d
	advert_int %s
	virtual_ipaddress {
		%s/24 dev eth0
	}
}
`, router, kaVRID, priority, advert, VIP)
}

func (k *keepalivedSetup) Up(ctx context.Context, w io.Writer) error {
	if _, err := exec.LookPath("keepalived"); err != nil {
		return fmt.Errorf("keepalived: %w (apt-get install keepalived)", err)
	}
	out, _ := exec.Command("keepalived", "--version").CombinedOutput()
	ver, err := keepalivedVersion(string(out))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: VRRPv3, advert_int %s, n1 priority 150, n2 100, both state BACKUP, preempt, GARP defaults\n", ver, k.advert)
	if err := os.MkdirAll(k.dir, 0o755); err != nil {
		return err
	}
	k.procs = map[string]*kaProc{}
	for _, n := range k.b.nodes {
		conf := filepath.Join(k.dir, n.Name+".conf")
		if err := os.WriteFile(conf, []byte(keepalivedConf(n.Name, k.priority(n), k.advert)), 0o644); err != nil {
			return err
		}
		if err := k.start(n); err != nil {
			return err
		}
	}
	if _, err := k.Holder(ctx); err != nil {
		return err
	}
	return k.adverts(w)
}

// keepalivedVersion reads the version line from keepalived --version's
// output (stderr and stdout), so that the log names the keepalived that
// ran, and a binary that is not keepalived stops the bench.
func keepalivedVersion(out string) (string, error) {
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "Keepalived v") {
			return line, nil
		}
	}
	first, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	return "", fmt.Errorf("keepalived --version: no \"Keepalived v\" line in %q", first)
}

// adverts checks that the client sees the holder's VRRPv3 adverts, at
// the interval configured, and prints them.
func (k *keepalivedSetup) adverts(w io.Writer) error {
	c, err := k.b.client.Capture(unix.ETH_P_IP)
	if err != nil {
		return err
	}
	want, err := strconv.ParseFloat(k.advert, 64)
	if err != nil {
		return err
	}
	window := time.Duration(want*float64(10*time.Second)) + 500*time.Millisecond
	c.Until(func([]lab.Frame) bool { return false }, window)
	_, _, ads := decodeIPv4(c.Close(), 0)
	d, err := checkAdverts(ads, k.b.nodes[0].Host.MAC.String(), k.advert)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  VRRP adverts on the wire: %d from n1 in %v (VRRPv%d to %s, TTL %d, vrid %d, priority %d, Max Adver Int %d cs), every %s (median; max %s)\n",
		len(ads), window, ads[0].Version, ads[0].Dst, ads[0].TTL, ads[0].VRID, ads[0].Priority, ads[0].Interval, ms(d.Median), ms(d.Max))
	return nil
}

// fbVRRPGroup is VRRP's IPv4 multicast group.
var fbVRRPGroup = netip.MustParseAddr("224.0.0.18")

// checkAdverts says why not unless ads are n1's alone (MAC mac), VRRPv3
// multicast to VRRP's group with a TTL of 255, instance kaVRID at
// priority 150, stating advert_int advert, and at least 5 of them; it
// returns their spacing.
func checkAdverts(ads []fbAdvert, mac, advert string) (Dist, error) {
	want, err := strconv.ParseFloat(advert, 64)
	if err != nil {
		return Dist{}, err
	}
	var gaps []time.Duration
	for i, a := range ads {
		if a.Version != 3 || a.VRID != kaVRID || a.MAC != mac || a.Priority != 150 || a.Dst != fbVRRPGroup || a.TTL != 255 {
			return Dist{}, fmt.Errorf("an advert not from n1's VRRPv3 instance %d at priority 150, multicast to %s with TTL 255: %+v", kaVRID, fbVRRPGroup, a)
		}
		if got := float64(a.Interval) / 100; got != want {
			return Dist{}, fmt.Errorf("an advert says an interval of %.2f s, not advert_int %s", got, advert)
		}
		if i > 0 {
			gaps = append(gaps, a.At.Sub(ads[i-1].At))
		}
	}
	if len(ads) < 5 {
		return Dist{}, fmt.Errorf("the client saw %d VRRP adverts, want about 10", len(ads))
	}
	return dist(gaps), nil
}

// start starts node n's keepalived, VRRP only, in the foreground, in a
// process group of its own, with its pid files and log in the setup's
// directory.
func (k *keepalivedSetup) start(n *fbNode) error {
	base := filepath.Join(k.dir, n.Name)
	log, err := os.OpenFile(base+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command("ip", "netns", "exec", n.Host.NS, "keepalived", "--dont-fork", "--log-console", "--log-detail",
		"--no-syslog", "--vrrp", "--use-file", base+".conf", "--pid", base+".pid", "--vrrp_pid", base+".vrrp.pid",
		"--checkers_pid", base+".checkers.pid")
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start keepalived on %s: %w", n.Name, err)
	}
	p := &kaProc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	k.procs[n.Name] = p
	return nil
}

func (p *kaProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig to p's whole process group (keepalived and its VRRP
// child) and waits up to d for keepalived to end.
func (p *kaProc) signal(sig syscall.Signal, group bool, d time.Duration) error {
	pid := p.cmd.Process.Pid
	if group {
		pid = -pid
	}
	if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(d):
		return fmt.Errorf("keepalived (%d) still runs %v after %v", p.cmd.Process.Pid, d, sig)
	}
}

// Holder restarts what a fault stopped (a killed node reboots without the
// VIP, its link up), and waits until n1, which preempts, has held the VIP
// alone for 6 s: keepalived repeats its gratuitous ARPs 5 s after it
// becomes master (vrrp_garp_master_delay), and those must not fall into
// the next fault.
func (k *keepalivedSetup) Holder(ctx context.Context) (*fbNode, error) {
	for _, n := range k.b.nodes {
		if p := k.procs[n.Name]; p != nil && p.running() {
			continue
		}
		if err := errors.Join(dropVIP(n.Host), n.Host.IP("link", "set", n.Host.Dev, "up"), k.start(n)); err != nil {
			return nil, err
		}
	}
	n1, n2 := k.b.nodes[0], k.b.nodes[1]
	var since time.Time
	err := poll(ctx, 60*time.Second, func() (bool, error) {
		if !vipOnNic(n1.Host) || vipOnNic(n2.Host) {
			since = time.Time{}
			return false, nil
		}
		if since.IsZero() {
			since = time.Now()
		}
		return time.Since(since) > 6*time.Second, nil
	}, func() error { return fmt.Errorf("the VIP is not on n1 alone within 60 s") })
	return n1, err
}

func (k *keepalivedSetup) Move(ctx context.Context, from, to *fbNode) (func() error, error) {
	// keepalived's stop sends an advert of priority 0, which tells the
	// backup to take over at once, and removes the VIP.
	p := k.procs[from.Name]
	if err := unix.Kill(p.cmd.Process.Pid, unix.SIGTERM); err != nil {
		return nil, err
	}
	return func() error { return p.signal(0, false, 10*time.Second) }, nil
}

func (k *keepalivedSetup) Kill(ctx context.Context, n *fbNode) error {
	if err := n.Host.IP("link", "set", n.Host.Dev, "down"); err != nil {
		return err
	}
	return k.procs[n.Name].signal(unix.SIGKILL, true, 10*time.Second)
}

func (k *keepalivedSetup) Check(context.Context, string, *fbNode, time.Time) (string, error) {
	return "", nil
}

func (k *keepalivedSetup) Down() error {
	var errs []error
	for _, p := range k.procs {
		if p.running() {
			errs = append(errs, p.signal(unix.SIGKILL, true, 10*time.Second))
		}
	}
	return errors.Join(errs...)
}
