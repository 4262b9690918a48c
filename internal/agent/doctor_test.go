package agent

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/floatip/floatip/internal/clusterip"
	"github.com/floatip/floatip/internal/doctor"
	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

// doctorKernel is the fake node with the answers the doctor asks for
// under the test's control.
type doctorKernel struct {
	*fakeKernel
	claimant   string
	probeErr   error
	probes     int
	sysctlErr  error
	canDestroy bool
	destroyErr error
}

func (k *doctorKernel) Probe(context.Context, netif.Link, netip.Addr) (string, error) {
	k.probes++
	return k.claimant, k.probeErr
}

func (k *doctorKernel) Sysctl(name string) (string, error) {
	if k.sysctlErr != nil {
		return "", fmt.Errorf("read %s: %w", name, k.sysctlErr)
	}
	return k.fakeKernel.Sysctl(name)
}

func (k *doctorKernel) CanDestroySockets() (bool, error) { return k.canDestroy, k.destroyErr }

// level is a finding without its words: what the table compares whole.
type level struct {
	Level doctor.Level
	Check string
}

// sound are the findings of a sound IPv4 node that does not hold the
// address, in the doctor's order.
var sound = []level{
	{doctor.OK, "config"}, {doctor.OK, "link"}, {doctor.OK, "address"},
	{doctor.OK, "sysctl"}, {doctor.OK, "sysctl"}, {doctor.OK, "sysctl"}, {doctor.OK, "sysctl"},
	{doctor.OK, "neighbours"}, {doctor.OK, "rsctmp"}, {doctor.OK, "connections"},
}

// with returns sound with the finding of check at its n-th occurrence
// (from 0) set to l.
func with(check string, n int, l doctor.Level) []level {
	out := append([]level(nil), sound...)
	for i := range out {
		if out[i].Check == check {
			if n == 0 {
				out[i].Level = l
				break
			}
			n--
		}
	}
	return out
}

func TestDoctorLevels(t *testing.T) {
	tests := []struct {
		name  string
		env   []string
		setup func(k *doctorKernel, rsctmp string)
		want  []level
		st    doctor.Status
		// stdout are lines, or parts of lines, that must be printed;
		// never, parts that must not be.
		stdout []string
		never  []string
		probes int
	}{
		{
			name: "sound", want: sound, st: doctor.ExitOK, probes: 1,
			stdout: []string{
				"OK    config       198.18.0.100 belongs on eth0 with prefix /24 (the routes chose them)",
				"OK    address      198.18.0.100/24 is not held here: start would add it to eth0",
				"OK    sysctl       net.ipv4.conf.eth0.arp_ignore=0 (all=0)",
				"OK    neighbours   no other host answers for 198.18.0.100 on eth0",
				"doctor: 10 OK, 0 WARN, 0 FAIL, 0 SKIP: exit 0",
			},
			never: []string{"fix:"},
		},
		{
			// A load-shared clone: the other nodes hold the address
			// too, so no probe; the kernel can program the rules.
			name: "load-shared clone", want: append(slices.Clone(sound), level{doctor.OK, "clone"}), st: doctor.ExitOK, probes: 0,
			env: []string{"OCF_RESKEY_CRM_meta_clone_max=3", "OCF_RESKEY_clusterip_mac_mangle=true"},
			stdout: []string{
				"OK    neighbours   198.18.0.100 is a load-shared address, which the clone's other nodes answer for too: not probed",
				"OK    clone        the kernel can program the rules that share 198.18.0.100 among the clone's instances, on eth0",
			},
		},
		{
			name: "load-shared clone on a kernel without the arp family", want: append(slices.Clone(sound), level{doctor.Fail, "clone"}), st: doctor.ExitFail, probes: 0,
			env:   []string{"OCF_RESKEY_CRM_meta_clone_max=3", "OCF_RESKEY_clusterip_mac_mangle=true"},
			setup: func(k *doctorKernel, _ string) { k.shared.lacks = clusterip.ErrNoARP },
			stdout: []string{
				"FAIL  clone        198.18.0.100 cannot be shared here: the kernel lacks the nftables arp family (CONFIG_NF_TABLES_ARP)",
			},
		},
		{
			name: "held here", want: sound, st: doctor.ExitOK, probes: 1,
			setup: func(k *doctorKernel, _ string) {
				k.addrs = append(k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2, Flags: netif.FlagSecondary})
			},
			stdout: []string{"OK    address      198.18.0.100/24 is held here, on eth0"},
		},
		{
			name: "held here, the primary of another address", want: append(sound[:3:3], append([]level{{doctor.Warn, "address"}}, sound[3:]...)...), st: doctor.ExitWarn, probes: 1,
			env: []string{"OCF_RESKEY_nic=eth0", "OCF_RESKEY_cidr_netmask=24"},
			setup: func(k *doctorKernel, _ string) {
				k.addrs = []netif.Addr{
					{Prefix: netip.MustParsePrefix("198.19.0.1/24"), LinkIndex: 2},
					{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2},
					{Prefix: netip.MustParsePrefix("198.18.0.101/24"), LinkIndex: 2, Flags: netif.FlagSecondary},
				}
			},
			stdout: []string{
				"WARN  address      198.18.0.100/24 is the primary address of 198.18.0.101/24 on eth0, and net.ipv4.conf.eth0.promote_secondaries=0: floatip's stop keeps them",
				"fix: sysctl -w net.ipv4.conf.eth0.promote_secondaries=1, and make it permanent in /etc/sysctl.d/",
			},
		},
		{
			name: "held here, the primary of another address, all.promote_secondaries=1", want: sound, st: doctor.ExitOK, probes: 1,
			env: []string{"OCF_RESKEY_nic=eth0", "OCF_RESKEY_cidr_netmask=24"},
			setup: func(k *doctorKernel, _ string) {
				k.addrs = []netif.Addr{
					{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2},
					{Prefix: netip.MustParsePrefix("198.18.0.101/24"), LinkIndex: 2, Flags: netif.FlagSecondary},
				}
				k.sysctls = map[string]string{"net.ipv4.conf.all.promote_secondaries": "1"}
			},
			never: []string{"is the primary address"},
		},
		{
			name: "nic and prefix given", env: []string{"OCF_RESKEY_nic=eth0", "OCF_RESKEY_cidr_netmask=32"}, want: sound, st: doctor.ExitOK, probes: 1,
			stdout: []string{"198.18.0.100 belongs on eth0 with prefix /32 (as nic and cidr_netmask give them)"},
		},
		{
			name: "rp_filter=1 with one nic warns", want: with("sysctl", 3, doctor.Warn), st: doctor.ExitWarn, probes: 1,
			setup: func(k *doctorKernel, _ string) { k.sysctls = map[string]string{"net.ipv4.conf.all.rp_filter": "1"} },
			stdout: []string{
				"WARN  sysctl       net.ipv4.conf.all.rp_filter=1: strict reverse-path filtering: harmless while eth0 is this node's only nic with routes",
				"fix: sysctl -w net.ipv4.conf.all.rp_filter=2, and make it permanent in /etc/sysctl.d/",
				"doctor: 9 OK, 1 WARN, 0 FAIL, 0 SKIP: exit 1",
			},
		},
		{
			name: "rp_filter=1 with two nics fails", want: with("sysctl", 3, doctor.Fail), st: doctor.ExitFail, probes: 1,
			setup: func(k *doctorKernel, _ string) {
				k.sysctls = map[string]string{"net.ipv4.conf.eth0.rp_filter": "1"}
				k.routes = append(k.routes, netif.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), LinkIndex: 3, Type: netif.RouteUnicast})
			},
			stdout: []string{"FAIL  sysctl       net.ipv4.conf.eth0.rp_filter=1: strict reverse-path filtering drops traffic", "fix: sysctl -w net.ipv4.conf.eth0.rp_filter=2,"},
		},
		{
			name: "arp_ignore bad in the nic and in all", want: with("sysctl", 0, doctor.Fail), st: doctor.ExitFail, probes: 1,
			setup: func(k *doctorKernel, _ string) {
				k.sysctls = map[string]string{"net.ipv4.conf.eth0.arp_ignore": "8", "net.ipv4.conf.all.arp_ignore": "2"}
			},
			stdout: []string{
				"FAIL  sysctl       net.ipv4.conf.eth0.arp_ignore=8: this node answers no ARP request",
				"fix: sysctl -w net.ipv4.conf.eth0.arp_ignore=0; sysctl -w net.ipv4.conf.all.arp_ignore=0, and make it permanent",
			},
		},
		{
			name: "in a network namespace, the fix runs there", env: []string{"OCF_RESKEY_network_namespace=blue"},
			want: with("sysctl", 1, doctor.Fail), st: doctor.ExitFail, probes: 1,
			setup: func(k *doctorKernel, _ string) {
				k.sysctls = map[string]string{"net.ipv4.conf.all.drop_gratuitous_arp": "1"}
			},
			stdout: []string{"fix: ip netns exec blue sysctl -w net.ipv4.conf.all.drop_gratuitous_arp=0,"},
		},
		{
			name: "admin down: set it up, and the link is not asked",
			want: append(with("link", 0, doctor.Fail)[:3:3], append([]level{{doctor.OK, "sysctl"}, {doctor.OK, "sysctl"}, {doctor.OK, "sysctl"}, {doctor.OK, "sysctl"}, {doctor.Skip, "neighbours"}}, sound[8:]...)...),
			st:   doctor.ExitFail, probes: 0,
			setup: func(k *doctorKernel, _ string) {
				k.links[1].Up, k.links[1].Carrier, k.links[1].OperState = false, false, "DOWN"
			},
			stdout: []string{
				"FAIL  link         eth0 is DOWN: an admin set it down", "fix: ip link set eth0 up",
				"SKIP  neighbours   link down: could not ask the link whether another host answers for 198.18.0.100",
			},
			never: []string{"no other host answers"},
		},
		{
			name: "no carrier: the cable, not ip link set",
			want: append(with("link", 0, doctor.Fail)[:3:3], append([]level{{doctor.OK, "sysctl"}, {doctor.OK, "sysctl"}, {doctor.OK, "sysctl"}, {doctor.OK, "sysctl"}, {doctor.Skip, "neighbours"}}, sound[8:]...)...),
			st:   doctor.ExitFail, probes: 0,
			setup: func(k *doctorKernel, _ string) {
				k.links[1].Carrier, k.links[1].OperState = false, "LOWERLAYERDOWN"
			},
			stdout: []string{"FAIL  link         eth0 is up but has no carrier (LOWERLAYERDOWN)", "fix: check the cable, the switch port, or the peer of eth0"},
			never:  []string{"ip link set", "no other host answers"},
		},
		{
			name: "the probe needs root", want: with("neighbours", 0, doctor.Skip), st: doctor.ExitWarn, probes: 1,
			setup: func(k *doctorKernel, _ string) {
				k.probeErr = fmt.Errorf("open ARP socket on eth0: %w", syscall.EPERM)
			},
			stdout: []string{"SKIP  neighbours   could not ask eth0 whether another host answers for 198.18.0.100", "fix: run the doctor as root", "doctor: 9 OK, 0 WARN, 0 FAIL, 1 SKIP: exit 1"},
		},
		{
			name: "another holder", want: with("neighbours", 0, doctor.Fail), st: doctor.ExitFail, probes: 1,
			setup:  func(k *doctorKernel, _ string) { k.claimant = "02:00:00:00:00:09" },
			stdout: []string{"FAIL  neighbours   02:00:00:00:00:09 already answers for 198.18.0.100: start here would take an address in use"},
		},
		{
			name: "split brain", want: with("neighbours", 0, doctor.Fail), st: doctor.ExitFail, probes: 1,
			setup: func(k *doctorKernel, _ string) {
				k.claimant = "02:00:00:00:00:09"
				k.addrs = append(k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2, Flags: netif.FlagSecondary})
			},
			stdout: []string{"split brain: 02:00:00:00:00:09 also answers for 198.18.0.100, which this node holds"},
		},
		{
			name: "DAD failed", want: with("address", 0, doctor.Fail), st: doctor.ExitFail, probes: 1,
			setup: func(k *doctorKernel, _ string) {
				k.addrs = append(k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2, Flags: netif.FlagDADFailed | netif.FlagSecondary})
			},
			stdout: []string{"its Duplicate Address Detection failed"},
		},
		{
			name: "a copy elsewhere", want: append(sound[:3:3], append([]level{{doctor.Warn, "address"}}, sound[3:]...)...), st: doctor.ExitWarn, probes: 1,
			setup: func(k *doctorKernel, _ string) {
				k.addrs = append(k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/32"), LinkIndex: 1})
			},
			stdout: []string{"WARN  address      198.18.0.100 is also on lo as 198.18.0.100/32, which the resource does not manage: stop will leave it there", "fix: ip addr del 198.18.0.100/32 dev lo"},
		},
		{
			name: "a copy on another nic", want: append(sound[:3:3], append([]level{{doctor.Warn, "address"}}, sound[3:]...)...), st: doctor.ExitWarn, probes: 1,
			setup: func(k *doctorKernel, _ string) {
				k.addrs = append(k.addrs, netif.Addr{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 3})
			},
			stdout: []string{"WARN  address      198.18.0.100 is also on eth1 as 198.18.0.100/24, which the resource does not manage: stop removes it too"},
		},
		{
			name: "unreadable sysctls are not checked", want: []level{
				{doctor.OK, "config"}, {doctor.OK, "link"}, {doctor.OK, "address"},
				{doctor.Skip, "sysctl"}, {doctor.Skip, "sysctl"}, {doctor.Skip, "sysctl"}, {doctor.Skip, "sysctl"},
				{doctor.OK, "neighbours"}, {doctor.OK, "rsctmp"}, {doctor.OK, "connections"},
			}, st: doctor.ExitWarn, probes: 1,
			setup:  func(k *doctorKernel, _ string) { k.sysctlErr = os.ErrNotExist },
			stdout: []string{"SKIP  sysctl       net.ipv4.conf.eth0.arp_ignore not checked: read net.ipv4.conf.eth0.arp_ignore: file does not exist"},
		},
		{
			name: "kill_connections without the kernel's support", env: []string{"OCF_RESKEY_kill_connections=true"},
			want: with("connections", 0, doctor.Warn), st: doctor.ExitWarn, probes: 1,
			setup:  func(k *doctorKernel, _ string) { k.canDestroy = false },
			stdout: []string{"WARN  connections  kill_connections is on, but the kernel lacks CONFIG_INET_DIAG_DESTROY"},
		},
		{
			name: "HA_RSCTMP missing is made by start", want: sound, st: doctor.ExitOK, probes: 1,
			setup:  func(_ *doctorKernel, rsctmp string) { os.Remove(rsctmp) },
			stdout: []string{"does not exist yet: start creates it"},
		},
		{
			name: "HA_RSCTMP a file", want: with("rsctmp", 0, doctor.Warn), st: doctor.ExitWarn, probes: 1,
			setup: func(_ *doctorKernel, rsctmp string) {
				os.Remove(rsctmp)
				os.WriteFile(rsctmp, nil, 0o644)
			},
			stdout: []string{"is not a directory"},
		},
		{
			name: "IPv6 reads its own settings", env: []string{"OCF_RESKEY_ip=2001:db8::100"},
			want: []level{
				{doctor.OK, "config"}, {doctor.OK, "link"}, {doctor.OK, "address"},
				{doctor.OK, "sysctl"}, {doctor.Fail, "sysctl"}, {doctor.OK, "sysctl"},
				{doctor.OK, "neighbours"}, {doctor.OK, "rsctmp"}, {doctor.OK, "connections"},
			}, st: doctor.ExitFail, probes: 1,
			setup: func(k *doctorKernel, _ string) {
				k.sysctls = map[string]string{"net.ipv6.conf.eth0.accept_dad": "0", "net.ipv6.conf.all.accept_dad": "0"}
			},
			stdout: []string{"FAIL  sysctl       net.ipv6.conf.eth0.accept_dad=0: Duplicate Address Detection is off"},
			never:  []string{"net.ipv4"},
		},
		{
			name: "the configuration does not validate", env: []string{"OCF_RESKEY_nic=nosuch"},
			want: []level{{doctor.Fail, "config"}, {doctor.Skip, "checks"}}, st: doctor.ExitFail, probes: 0,
			stdout: []string{
				"FAIL  config       the configuration does not validate here (OCF_ERR_CONFIGURED): Invalid interface name [nosuch]: no such interface",
				"fix: name an interface of this node (ip -br link)",
				"SKIP  checks       the other checks need a configuration that validates",
			},
		},
		{
			name: "no route covers the address", env: []string{"OCF_RESKEY_ip=198.19.0.100"},
			want: []level{{doctor.Fail, "config"}, {doctor.Skip, "checks"}}, st: doctor.ExitFail, probes: 0,
			stdout: []string{"(OCF_ERR_GENERIC): Unable to find nic or netmask: ", "fix: give nic and cidr_netmask"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &doctorKernel{fakeKernel: node(), canDestroy: true}
			rsctmp := filepath.Join(t.TempDir(), "rsctmp")
			if err := os.Mkdir(rsctmp, 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(k, rsctmp)
			}
			var stdout, stderr bytes.Buffer
			a := doctorAgent(k, rsctmp, &stderr, tt.env...)
			fs := (&doctor.Doctor{Resolve: a.ResolveForDoctor, RscTmp: a.Env.RscTmp}).Examine(context.Background())
			var got []level
			for _, f := range fs {
				got = append(got, level{f.Level, f.Check})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			st := doctor.Print(&stdout, fs)
			if st != tt.st {
				t.Errorf("exit %d, want %d", st, tt.st)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q", want)
				}
			}
			for _, never := range tt.never {
				if strings.Contains(stdout.String(), never) {
					t.Errorf("stdout has %q", never)
				}
			}
			if k.probes != tt.probes {
				t.Errorf("%d probes, want %d", k.probes, tt.probes)
			}
			// A configuration that does not validate gets its exit
			// reason where validate-all prints it, too.
			reasons := strings.Count(stderr.String(), "ocf-exit-reason:")
			if wantReasons := map[bool]int{true: 1}[tt.want[0].Level == doctor.Fail]; reasons != wantReasons {
				t.Errorf("%d exit reasons on stderr, want %d:\n%s", reasons, wantReasons, stderr.String())
			}
			if t.Failed() {
				t.Logf("stdout:\n%s", stdout.String())
			}
		})
	}
}

func doctorAgent(k fake, rsctmp string, stderr *bytes.Buffer, env ...string) *Agent {
	md := metadata.Declared()
	e := ocf.ParseEnv(append([]string{"HA_RSCTMP=" + rsctmp, vip}, env...))
	params := md.Defaults()
	for name, v := range e.Params {
		params[name] = v
	}
	return &Agent{
		Open: func(string) (Kernel, error) { return kernelOf(k), nil },
		Log:  ocf.NewLogger(e, "floatip", 1, stderr), Env: e, Params: params, Defaults: md.Defaults(), Root: true,
	}
}

// TestDoctorEscapes: a parameter's value reaches the doctor's report and
// its log lines escaped, one line each, whatever it holds: a line break
// would forge a finding, an escape sequence would rewrite the admin's
// terminal, a bidirectional override would reverse what the line says.
func TestDoctorEscapes(t *testing.T) {
	const ns = "ns\x1b[31mRED\nOK    forged\xff\u202e\x9b2J"
	const shown = `ns\x1b[31mRED OK    forged\xff\u202e\x9b2J`
	var stdout, stderr bytes.Buffer
	a := doctorAgent(nil, t.TempDir(), &stderr, "OCF_RESKEY_network_namespace="+ns, "OCF_RESOURCE_INSTANCE=vip\x1b]0;owned\x07")
	a.Open = func(name string) (Kernel, error) {
		return Kernel{}, fmt.Errorf("network namespace %s: %w", name, netif.ErrNoNamespace)
	}
	doctor.Print(&stdout, (&doctor.Doctor{Resolve: a.ResolveForDoctor, RscTmp: a.Env.RscTmp}).Examine(context.Background()))
	for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		if !utf8.ValidString(out) || strings.ContainsAny(out, "\x1b\x07\u202e\u009b") {
			t.Errorf("%s is not escaped:\n%q", name, out)
		}
	}
	want := []string{
		"FAIL  config       the configuration does not validate here (OCF_ERR_INSTALLED): network namespace " + shown + ": no such network namespace",
		"                   fix: create the namespace (ip netns add), or correct network_namespace",
		"SKIP  checks       the other checks need a configuration that validates",
		"doctor: 0 OK, 0 WARN, 1 FAIL, 1 SKIP: exit 3",
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if wantErr := "ocf-exit-reason:network namespace " + shown + ": no such network namespace\n"; stderr.String() != wantErr {
		t.Errorf("stderr %q, want %q", stderr.String(), wantErr)
	}
}
