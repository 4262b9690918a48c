package tests

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// asNobody is the command prefix that runs the agent as user nobody, with
// no capability left.
func asNobody(t *testing.T) []string {
	return []string{labtest.NeedTool(t, "setpriv"), "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"}
}

// runPrefixed runs an agent's action in a host, its command line prefixed
// (setpriv), with the environment Pacemaker would give it.
func runPrefixed(t *testing.T, h *lab.Host, rsctmp string, argv []string, action string, params ...string) lab.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := h.Run(ctx, labtest.OCFEnv(rsctmp, params...), append(slices.Clone(argv), action)...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// agentPath is the program of floatip or of heartbeat:IPaddr2.
func agentPath(t *testing.T, agent string) string {
	if agent == "heartbeat" {
		if _, err := os.Stat(labtest.HeartbeatIPaddr2); err != nil {
			t.Fatalf("heartbeat:IPaddr2 is not installed (resource-agents): run make deps")
		}
		return labtest.HeartbeatIPaddr2
	}
	return labtest.Binary
}

// TestAsNobody runs every action as user nobody, with floatip and with
// heartbeat:IPaddr2: start and stop must refuse with OCF_ERR_PERM and the
// reason, and take nothing; meta-data, validate-all and monitor must work.
func TestAsNobody(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	before := labtest.HostState(t, h)
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24"}
	steps := []struct {
		action string
		want   int
		reason string
	}{
		{"meta-data", 0, ""},
		{"validate-all", 0, ""},
		{"monitor", 7, ""},
		{"start", 4, "ocf-exit-reason:You must be root for start operation."},
		{"stop", 4, "ocf-exit-reason:You must be root for stop operation."},
	}
	for _, agent := range []string{"floatip", "heartbeat"} {
		// Under Pacemaker nobody could use HA_RSCTMP: so may it here.
		rsctmp := t.TempDir()
		os.Chmod(rsctmp, 0o777)
		for _, s := range steps {
			res := runPrefixed(t, h, rsctmp, append(asNobody(t), agentPath(t, agent)), s.action, p...)
			if res.Code != s.want {
				t.Errorf("%s %s as nobody = %d, want %d: %s", agent, s.action, res.Code, s.want, res.Stderr)
			}
			if agent == "floatip" && s.reason != "" && !containsLine(res.Stderr, s.reason) {
				t.Errorf("%s as nobody: stderr lacks %q:\n%s", s.action, s.reason, res.Stderr)
			}
		}
		labtest.CheckNothingLeft(t, h, before, rsctmp)
	}
}

// TestRootWithoutNetAdmin: root without CAP_NET_ADMIN (a container, a
// hardened unit) cannot add the address; start must fail as IPaddr2's
// does, with one reason, and leave nothing.
func TestRootWithoutNetAdmin(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	before := labtest.HostState(t, h)
	drop := []string{labtest.NeedTool(t, "setpriv"), "--inh-caps=-net_admin", "--bounding-set=-net_admin"}
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "arp_bg=false", "arp_count=1"}
	var codes [2]int
	for i, agent := range []string{"floatip", "heartbeat"} {
		rsctmp := t.TempDir()
		res := runPrefixed(t, h, rsctmp, append(slices.Clone(drop), agentPath(t, agent)), "start", p...)
		codes[i] = res.Code
		if agent == "floatip" && len(labtest.ExitReasons(res.Stderr)) != 1 {
			t.Errorf("start without CAP_NET_ADMIN exited %d with reasons %q", res.Code, labtest.ExitReasons(res.Stderr))
		}
		t.Logf("%s: start without CAP_NET_ADMIN = %d: %q", agent, res.Code, labtest.ExitReasons(res.Stderr))
		// Pacemaker stops what failed to start.
		if res := runPrefixed(t, h, rsctmp, append(slices.Clone(drop), agentPath(t, agent)), "stop", p...); res.Code != 0 {
			t.Errorf("%s: stop after the failed start = %d: %s", agent, res.Code, res.Stderr)
		}
		labtest.CheckNothingLeft(t, h, before, rsctmp)
	}
	if codes[0] != codes[1] || codes[0] == 0 {
		t.Errorf("start without CAP_NET_ADMIN: floatip %d, heartbeat:IPaddr2 %d", codes[0], codes[1])
	}
}

// TestRscTmpFiles: the lock and pid files are created 0600; a symlink
// planted at the lock path or at the pid file path is never written
// through, whatever it points to.
func TestRscTmpFiles(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	before := labtest.HostState(t, h)
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "arp_count=5", "arp_interval=200"}

	t.Run("modes", func(t *testing.T) {
		r := labtest.FastFloatip(t, h)
		r.Rsctmp = filepath.Join(r.Rsctmp, "created")
		r.Expect(0, "start", p...)
		for _, name := range []string{"floatip-" + labtest.Key(t, h, labtest.VIP) + ".lock", "floatip-announce-" + labtest.Key(t, h, labtest.VIP) + ".pid"} {
			fi, err := os.Lstat(filepath.Join(r.Rsctmp, name))
			if err != nil {
				t.Errorf("%s: %v", name, err)
			} else if fi.Mode() != 0o600 {
				t.Errorf("%s has mode %v, want -rw-------", name, fi.Mode())
			}
		}
		if fi, err := os.Stat(r.Rsctmp); err != nil || fi.Mode().Perm()&0o022 != 0 {
			t.Errorf("HA_RSCTMP created as %v (%v): others may write to it", fi.Mode(), err)
		}
		r.Expect(0, "stop", p...)
		labtest.CheckNothingLeft(t, h, before, r.Rsctmp)
	})

	for _, link := range []string{"floatip-" + labtest.Key(t, h, labtest.VIP) + ".lock", "floatip-announce-" + labtest.Key(t, h, labtest.VIP) + ".pid"} {
		t.Run("symlink at "+link, func(t *testing.T) {
			r := labtest.FastFloatip(t, h)
			outside := t.TempDir()
			victim := filepath.Join(outside, "victim")
			if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, target := range []string{victim, filepath.Join(outside, "created-through-a-symlink")} {
				path := filepath.Join(r.Rsctmp, link)
				os.Remove(path)
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
				r.Expect(0, "start", p...)
				r.Expect(0, "monitor", append(slices.Clone(p), "arp_count_refresh=1")...)
				r.Expect(0, "stop", p...)
				b, err := os.ReadFile(victim)
				fi, _ := os.Stat(victim)
				if err != nil || string(b) != "precious\n" || fi.Mode() != 0o644 {
					t.Errorf("written through the symlink: %q %v %v", b, fi.Mode(), err)
				}
				if _, err := os.Lstat(filepath.Join(outside, "created-through-a-symlink")); err == nil {
					t.Errorf("a file was created through the symlink")
				}
			}
			os.Remove(filepath.Join(r.Rsctmp, link))
			labtest.CheckNothingLeft(t, h, before, r.Rsctmp)
		})
	}
}

// TestNoShellNoExec starts a VIP with every parameter a shell would act on
// written as shell syntax, on a nic whose very name is shell syntax, with
// a background burst and syslog on: strace must show that the agent
// executed nothing but itself, once, as the background sender, and no
// shellMarker file may appear.
func TestNoShellNoExec(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	mark := filepath.Join(t.TempDir(), "reached-a-shell")
	nic := "e$(id);`x`"
	for _, args := range [][]string{
		{"link", "add", nic, "type", "veth", "peer", "name", "peer0"},
		{"link", "set", nic, "up"},
		{"link", "set", "peer0", "up"},
		{"addr", "add", "198.18.2.1/24", "brd", "+", "dev", nic},
	} {
		if err := h.IP(args...); err != nil {
			t.Fatal(err)
		}
	}
	before := labtest.HostState(t, h)
	sh := "$(touch " + mark + ")"
	p := []string{"ip=198.18.2.100", "nic=" + nic, "cidr_netmask=24",
		"iflabel=$(x)", "send_arp_opts=;touch " + mark, "arp_sender=send_arp", "arp_count=3", "arp_interval=100",
		"OCF_RESOURCE_INSTANCE=" + sh, "HA_LOGFACILITY=daemon", "HA_debug=1"}
	r := labtest.Floatip(t, h)
	if got := execs(t, r, "start", p...); !slices.Equal(got, []string{labtest.Binary, labtest.Binary}) {
		t.Errorf("start executed %q, want the agent and its sender", got)
	}
	r.Expect(0, "monitor", p...)
	if got := execs(t, r, "stop", p...); !slices.Equal(got, []string{labtest.Binary}) {
		t.Errorf("stop executed %q", got)
	}
	// A shell the agent or its sender started would run in the
	// namespace: once none runs, the mark is there or never will be.
	labtest.BurstOver(t, h)
	if _, err := os.Stat(mark); err == nil {
		t.Errorf("a parameter reached a shell")
	}
	labtest.CheckNothingLeft(t, h, before, r.Rsctmp)
}
