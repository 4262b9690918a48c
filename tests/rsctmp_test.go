package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/internal/labtest"
)

// TestRscTmpTrouble runs start, monitor and stop with an HA_RSCTMP that is
// missing, a file, or read-only: the address must come and go all the
// same, and the background sender, whose pid file cannot be written,
// must end by itself once stop has removed the address.
func TestRscTmpTrouble(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	before := labtest.HostState(t, h)
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "arp_count=3", "arp_interval=100"}
	for _, c := range []struct {
		name  string
		setup func(dir string) string
		// readOnly runs the agent where dir is mounted read-only.
		readOnly bool
	}{
		{"missing", func(dir string) string { return filepath.Join(dir, "not", "there") }, false},
		{"a file", func(dir string) string {
			f := filepath.Join(dir, "file")
			if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			return f
		}, false},
		{"read-only", func(dir string) string { return dir }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rsctmp := c.setup(t.TempDir())
			run := func(want int, action string) {
				t.Helper()
				argv := []string{labtest.Binary, action}
				if c.readOnly {
					unshare := labtest.NeedTool(t, "unshare")
					script := `mount -o bind,ro "$0" "$0" && ! touch "$0/probe" 2>/dev/null && exec "$@"`
					argv = append([]string{unshare, "--mount", "--propagation", "private", "/bin/sh", "-c", script, rsctmp}, argv...)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				res, err := h.Run(ctx, labtest.OCFEnv(rsctmp, p...), argv...)
				if err != nil {
					t.Fatal(err)
				}
				if res.Code != want {
					t.Errorf("%s = %d, want %d: %s", action, res.Code, want, res.Stderr)
				}
			}
			run(0, "start")
			if !labtest.HasAddr(t, h, labtest.VIP+"/24") {
				t.Errorf("start did not add %s", labtest.VIP)
			}
			run(0, "monitor")
			run(0, "stop")
			run(7, "monitor")
			if c.name == "a file" {
				if b, err := os.ReadFile(rsctmp); err != nil || string(b) != "x" {
					t.Errorf("the file in HA_RSCTMP's place changed: %q, %v", b, err)
				}
				rsctmp = t.TempDir()
			}
			labtest.CheckNothingLeft(t, h, before, rsctmp)
		})
	}
}

// stranger is a process that is not ours: a sleep the test started, with
// every signal it can block blocked, so that a signal sent to it stays
// pending where the test sees it (/proc/<pid>/status) the moment the
// sender returns: a stop of a sender starts with SIGTERM.
type stranger struct {
	cmd  *exec.Cmd
	dead chan struct{}
}

// strangerScript blocks the signals and becomes the sleep; perl-base is
// in every Debian system.
const strangerScript = `use POSIX; my $s = POSIX::SigSet->new; $s->fillset; sigprocmask(SIG_BLOCK, $s) or die "sigprocmask: $!"; exec "sleep", "60" or die "exec: $!"`

func newStranger(t *testing.T) *stranger {
	t.Helper()
	s := &stranger{cmd: exec.Command(labtest.NeedTool(t, "perl"), "-e", strangerScript), dead: make(chan struct{})}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.dead) }()
	t.Cleanup(func() { s.cmd.Process.Kill(); <-s.dead })
	labtest.WaitFor(t, 5*time.Second, func() (bool, string) {
		st := s.status()
		return st["Name"] == "sleep", fmt.Sprintf("the stranger is %q", st["Name"])
	})
	return s
}

// status is the stranger's /proc/<pid>/status, by field.
func (s *stranger) status() map[string]string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// alive says that the stranger runs and that no signal was sent to it:
// none is pending, and none ended it.
func (s *stranger) alive() bool {
	select {
	case <-s.dead:
		return false
	default:
	}
	st := s.status()
	return strings.HasPrefix(st["State"], "S") && strings.Trim(st["ShdPnd"], "0") == "" && strings.Trim(st["SigPnd"], "0") == ""
}

// TestStalePidFile: a pid file left by a sender that is gone, whose pid
// now belongs to another process, must not get that process killed by
// start or stop; IPaddr2's own pid file is not floatip's to act on.
func TestStalePidFile(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	before := labtest.HostState(t, h)
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24"}
	for _, c := range []struct {
		name    string
		content func(s *stranger) string
	}{
		{"dead pid", func(*stranger) string {
			c := exec.Command("true")
			c.Run()
			return strconv.Itoa(c.Process.Pid) + " 1\n"
		}},
		{"pid reused by a stranger", func(s *stranger) string { return strconv.Itoa(s.cmd.Process.Pid) + " 1\n" }},
		{"pid alone, as IPaddr2 writes it", func(s *stranger) string { return strconv.Itoa(s.cmd.Process.Pid) + "\n" }},
		{"garbage", func(*stranger) string { return "not a pid\n" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := labtest.FastFloatip(t, h)
			s := newStranger(t)
			theirs := filepath.Join(r.Rsctmp, "send_arp-"+labtest.VIP)
			plant := func() {
				t.Helper()
				for _, f := range []string{filepath.Join(r.Rsctmp, "floatip-announce-"+labtest.Key(t, h, labtest.VIP)+".pid"), theirs} {
					if err := os.WriteFile(f, []byte(c.content(s)), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			// start stops the previous sender, a monitor with
			// arp_count_refresh looks for a running one, stop ends it.
			plant()
			r.Expect(0, "start", append(p, labtest.QuietBurst...)...)
			plant()
			r.Expect(0, "monitor", append(p, "arp_count_refresh=2")...)
			plant()
			r.Expect(0, "stop", p...)
			if !s.alive() {
				t.Fatalf("the stranger named by the stale pid file was signalled: %v", s.status())
			}
			if _, err := os.Stat(theirs); err != nil {
				t.Errorf("IPaddr2's pid file: %v", err)
			}
			os.Remove(theirs)
			labtest.CheckNothingLeft(t, h, before, r.Rsctmp)
		})
	}
}
