package tests

import (
	"context"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// installAgent puts the binary where a provider's agent goes, as
// <root>/resource.d/floatip/IPaddr2 with mode 755 (ocf-tester checks it).
func installAgent(t *testing.T) string {
	t.Helper()
	// Not t.TempDir: its parent is private, and ocf-tester runs the agent
	// as nobody.
	root, err := os.MkdirTemp("", "floatip-ocf-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	os.Chmod(root, 0o755)
	dir := filepath.Join(root, "resource.d", "floatip")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := dir; d != root; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	dst := filepath.Join(dir, "IPaddr2")
	src, err := os.Open(labtest.Binary)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, src); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestOCFTester(t *testing.T) {
	labtest.EachStack(t, func(t *testing.T, s *lab.Stack) {
		tests := []struct {
			name string
			opts []string
		}{
			{"ip and cidr_netmask", []string{"-o", "ip=" + labtest.VIP, "-o", "cidr_netmask=24"}},
			{"ip only", []string{"-o", "ip=" + labtest.VIP}},
			{"ip and nic", []string{"-o", "ip=" + labtest.VIP, "-o", "nic=eth0"}},
			{"IPv6", []string{"-o", "ip=" + labtest.VIP6, "-o", "cidr_netmask=64"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				l := labtest.NewLab(t, labtest.HostA6)
				tester := labtest.StackTool(t, s, "ocf-tester")
				// In /tmp, which a stack's root shares with the machine.
				agent := installAgent(t)
				args := append([]string{tester, "-n", "vip"}, tt.opts...)
				env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HA_RSCTMP=" + t.TempDir()}
				r := labtest.RunTool(t, s, l.Host("a"), env, append(args, agent)...)
				out := r.Stdout + r.Stderr
				if r.Code != 0 || !strings.Contains(out, "passed all tests") {
					t.Errorf("ocf-tester exit %d:\n%s", r.Code, out)
				}
				if got := labtest.VIPOn(t, l.Host("a"), labtest.VIP); len(got) != 0 {
					t.Errorf("ocf-tester run left %+v", got)
				}
			})
		}
	})
}

// execs runs an action under strace in host a and returns the programs it
// executed, the first being the agent itself.
func execs(t *testing.T, r *labtest.AgentRunner, action string, params ...string) []string {
	t.Helper()
	strace := labtest.NeedTool(t, "strace")
	trace := filepath.Join(t.TempDir(), "trace")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env := labtest.OCFEnv(r.Rsctmp, params...)
	res, err := r.Host.Run(ctx, env, strace, "-f", "-qq", "-e", "trace=execve", "-e", "signal=none", "-o", trace, labtest.Binary, action)
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 0 && res.Code != 7 {
		t.Fatalf("%s exit %d: %s", action, res.Code, res.Stderr)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	var progs []string
	for _, line := range strings.Split(string(b), "\n") {
		if _, rest, ok := strings.Cut(line, "execve(\""); ok {
			prog, _, _ := strings.Cut(rest, "\"")
			progs = append(progs, prog)
		}
	}
	return progs
}

// TestNoProcessSpawned: monitor, stop, validate-all and a foreground start
// execute nothing; a background start executes only itself, once, as the
// sender. So nothing like ip, send_arp or a shell is needed.
func TestNoProcessSpawned(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	r := labtest.Floatip(t, l.Host("a"))
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24"}
	steps := []struct {
		action string
		params []string
		want   []string
	}{
		{"validate-all", p, []string{labtest.Binary}},
		{"monitor", p, []string{labtest.Binary}},
		{"start", append(p, "arp_bg=false", "arp_count=2", "arp_interval=20"), []string{labtest.Binary}},
		{"monitor", p, []string{labtest.Binary}},
		{"stop", p, []string{labtest.Binary}},
		{"start", p, []string{labtest.Binary, labtest.Binary}},
		{"stop", p, []string{labtest.Binary}},
	}
	for _, s := range steps {
		got := execs(t, r, s.action, s.params...)
		if strings.Join(got, " ") != strings.Join(s.want, " ") {
			t.Errorf("%s executed %v, want %v", s.action, got, s.want)
		}
	}
}

// TestStaticBinary: no interpreter, no shared library.
func TestStaticBinary(t *testing.T) {
	f, err := elf.Open(labtest.Binary)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("program header %v: the binary is dynamically linked", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("needs shared libraries %v", libs)
	}
}

// TestWithoutIproute2 runs a whole cycle in a mount namespace where the ip
// command is not there.
func TestWithoutIproute2(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	ipPath := labtest.NeedTool(t, "ip")
	unshare := labtest.NeedTool(t, "unshare")
	real, err := filepath.EvalSymlinks(ipPath)
	if err != nil {
		t.Fatal(err)
	}
	rsctmp := t.TempDir()
	for _, step := range []struct {
		action string
		code   int
	}{{"start", 0}, {"monitor", 0}, {"stop", 0}, {"monitor", 7}} {
		script := "mount --bind /dev/null " + real + " && ! ip -V 2>/dev/null && exec " + labtest.Binary + " " + step.action
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := l.Host("a").Run(ctx, labtest.OCFEnv(rsctmp, "ip="+labtest.VIP, "arp_bg=false", "arp_count=1"),
			unshare, "--mount", "--propagation", "private", "/bin/sh", "-c", script)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != step.code {
			t.Errorf("%s without ip: exit %d, want %d: %s", step.action, res.Code, step.code, res.Stderr)
		}
	}
}
