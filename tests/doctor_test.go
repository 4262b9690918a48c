package tests

import (
	"context"
	"strings"
	"testing"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// TestDoctorLevels runs floatip doctor on lab nodes at each of its three
// levels, with the real kernel's answers: a sound node exits 0, a node
// whose only flaw is a warning exits 1, a node where a failover would
// break exits 3 (not 2, a usage error's), and each prints what it found and the fix on stdout.
func TestDoctorLevels(t *testing.T) {
	tests := []struct {
		name string
		// plant breaks the node; it runs commands in host a.
		plant  func(t *testing.T, l *lab.Lab, a, m *lab.Host)
		params []string
		// reason: the configuration does not validate, and the exit
		// reason goes to stderr too.
		reason bool
		code   int
		stdout []string
		never  []string
	}{
		{
			name: "sound", code: 0,
			stdout: []string{
				"OK    config       " + labtest.VIP + " belongs on eth0 with prefix /24 (the routes chose them)",
				"OK    link         eth0 is up and has carrier",
				"OK    address      " + labtest.VIP + "/24 is not held here: start would add it to eth0",
				"OK    neighbours   no other host answers for " + labtest.VIP + " on eth0",
				"0 WARN, 0 FAIL, 0 SKIP: exit 0",
			},
			never: []string{"fix:", "SKIP  ", "WARN  ", "FAIL  "},
		},
		{
			name: "held here", code: 0,
			plant: func(t *testing.T, _ *lab.Lab, a, _ *lab.Host) {
				labtest.Floatip(t, a).Expect(0, "start", "ip="+labtest.VIP, "arp_bg=false", "arp_count=1")
			},
			stdout: []string{"OK    address      " + labtest.VIP + "/24 is held here, on eth0", "OK    neighbours   no other host answers for " + labtest.VIP},
		},
		{
			name: "strict rp_filter on a node with one nic warns", code: 1,
			plant: func(t *testing.T, _ *lab.Lab, a, _ *lab.Host) {
				sysctl(t, a, "net.ipv4.conf.all.rp_filter=1")
			},
			stdout: []string{
				"WARN  sysctl       net.ipv4.conf.all.rp_filter=1: strict reverse-path filtering: harmless while eth0 is this node's only nic with routes",
				"fix: sysctl -w net.ipv4.conf.all.rp_filter=2, and make it permanent in /etc/sysctl.d/",
				"1 WARN, 0 FAIL, 0 SKIP: exit 1",
			},
		},
		{
			// The kernel drops a down nic's connected routes: without nic
			// and cidr_netmask the configuration would not validate.
			name: "an admin set the nic down", code: 3, params: []string{"nic=eth0", "cidr_netmask=24"},
			plant: func(t *testing.T, _ *lab.Lab, a, _ *lab.Host) {
				if err := a.IP("link", "set", "eth0", "down"); err != nil {
					t.Fatal(err)
				}
			},
			stdout: []string{
				"FAIL  link         eth0 is DOWN: an admin set it down", "fix: ip link set eth0 up",
				"SKIP  neighbours   link down: could not ask the link whether another host answers for " + labtest.VIP,
			},
			never: []string{"no other host answers"},
		},
		{
			name: "the cable is cut", code: 3,
			plant: func(t *testing.T, l *lab.Lab, a, _ *lab.Host) {
				if err := l.Cut(a); err != nil {
					t.Fatal(err)
				}
			},
			stdout: []string{
				"FAIL  link         eth0 is up but has no carrier (LOWERLAYERDOWN)", "fix: check the cable, the switch port, or the peer of eth0",
				"SKIP  neighbours   link down",
			},
			never: []string{"ip link set", "no other host answers"},
		},
		{
			name: "another host holds the address", code: 3,
			plant: func(t *testing.T, _ *lab.Lab, _, m *lab.Host) {
				if err := m.IP("addr", "add", labtest.VIP+"/24", "dev", "eth0"); err != nil {
					t.Fatal(err)
				}
			},
			stdout: []string{"FAIL  neighbours   " + hostMMAC + " already answers for " + labtest.VIP + ": start here would take an address in use", "fix: stop the address there first"},
		},
		{
			// Two VIPs in a subnet where the nic has no address of its
			// own: the first carries the second.
			name: "the VIP is the primary of another VIP", code: 1, params: []string{"nic=eth0", "cidr_netmask=24"},
			plant: func(t *testing.T, _ *lab.Lab, a, _ *lab.Host) {
				for _, args := range [][]string{{"addr", "del", labtest.HostA.Addr.String(), "dev", "eth0"}, {"addr", "add", "198.19.0.1/24", "dev", "eth0"}} {
					if err := a.IP(args...); err != nil {
						t.Fatal(err)
					}
				}
				for _, ip := range []string{labtest.VIP, "198.18.0.101"} {
					labtest.Floatip(t, a).Expect(0, "start", "ip="+ip, "nic=eth0", "cidr_netmask=24", "arp_bg=false", "arp_count=1")
				}
			},
			stdout: []string{
				"WARN  address      " + labtest.VIP + "/24 is the primary address of 198.18.0.101/24 on eth0, and net.ipv4.conf.eth0.promote_secondaries=0",
				"fix: sysctl -w net.ipv4.conf.eth0.promote_secondaries=1, and make it permanent in /etc/sysctl.d/",
				"1 WARN, 0 FAIL, 0 SKIP: exit 1",
			},
		},
		{
			name: "the configuration does not validate", code: 3, params: []string{"nic=nosuch"}, reason: true,
			stdout: []string{
				"FAIL  config       the configuration does not validate here (OCF_ERR_CONFIGURED): Invalid interface name [nosuch]: no such interface",
				"SKIP  checks",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
			a, m := l.Host("a"), l.Host("m")
			if tt.plant != nil {
				tt.plant(t, l, a, m)
			}
			res := labtest.Floatip(t, a).Expect(tt.code, "doctor", append([]string{"ip=" + labtest.VIP}, tt.params...)...)
			out := strings.ReplaceAll(res.Stdout, m.MAC.String(), hostMMAC)
			for _, want := range tt.stdout {
				if !strings.Contains(out, want) {
					t.Errorf("doctor's stdout lacks %q", want)
				}
			}
			for _, never := range tt.never {
				if strings.Contains(out, never) {
					t.Errorf("doctor's stdout has %q", never)
				}
			}
			// The exit reason of a configuration that does not validate
			// goes to stderr too, where Pacemaker's tools look for it;
			// a node that validates has none.
			if got := strings.Contains(res.Stderr, "ocf-exit-reason:"); got != tt.reason {
				t.Errorf("exit reason on stderr: %v, want %v:\n%s", got, tt.reason, res.Stderr)
			}
			t.Logf("stdout:\n%s", res.Stdout)
		})
	}
}

// hostMMAC stands for m's MAC in the expected output: the lab picks the
// MACs at random.
const hostMMAC = "<m's MAC>"

// sysctl sets a kernel setting in host h.
func sysctl(t *testing.T, h *lab.Host, setting string) {
	t.Helper()
	if res, err := h.Run(context.Background(), nil, "sysctl", "-qw", setting); err != nil || res.Code != 0 {
		t.Fatalf("sysctl -w %s: %v %+v", setting, err, res)
	}
}

// TestDoctorUsageError: a command line the doctor cannot read exits 2,
// as every floatip command's does, and a check that failed exits 3, so
// that a script tells the two apart by the code alone.
func TestDoctorUsageError(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	a := l.Host("a")
	tests := []struct {
		name string
		argv []string
		code int
	}{
		{"an unknown flag", []string{"doctor", "--ip", labtest.VIP, "--bogus"}, 2},
		{"a stray argument", []string{"doctor", "--ip", labtest.VIP, "24"}, 2},
		{"a failed check", []string{"doctor", "--ip", labtest.VIP, "--nic", "nosuch"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := a.Run(context.Background(), labtest.OCFEnv(t.TempDir()), append([]string{labtest.Binary}, tt.argv...)...)
			if err != nil {
				t.Fatal(err)
			}
			if res.Code != tt.code {
				t.Errorf("floatip %v exited %d, want %d\nstdout: %s\nstderr: %s", tt.argv, res.Code, tt.code, res.Stdout, res.Stderr)
			}
		})
	}
}
