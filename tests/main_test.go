// Package tests holds floatip's integration tests: the real binary and the
// real heartbeat:IPaddr2, ocf-tester and strace, run inside network
// namespaces that each test creates and removes. They need root; without
// it they skip, unless FLOATIP_REQUIRE_ROOT=1 (set by .ci/run) makes that a
// failure.
package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/floatip/floatip/internal/needroot"
	"github.com/floatip/floatip/tests/failover"
	"github.com/floatip/floatip/tests/lab"
)

// binary is the floatip binary built for this run, in a directory that user
// nobody can read (ocf-tester runs meta-data as nobody).
var binary string

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "floatip-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		os.Chmod(dir, 0o755)
		binary = filepath.Join(dir, "floatip")
		cmd := exec.Command("go", "build", "-trimpath", "-o", binary, "../cmd/floatip")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build floatip: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// needRoot skips a test that needs root and network namespaces, or fails it
// when FLOATIP_REQUIRE_ROOT=1 says such tests must run.
func needRoot(t *testing.T) {
	t.Helper()
	needroot.Check(t)
}

// needTool fails a test whose tool is missing: make deps installs it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run make deps", name)
	}
	return p
}

// The hosts and VIP of the failover scenario.
var (
	hostA = failover.HostA
	hostM = failover.HostM
	vip   = failover.VIP.String()
)

// newLab creates a lab that the test removes when it ends, also when it
// fails, and checks that nothing of it is left.
func newLab(t *testing.T, specs ...lab.HostSpec) *lab.Lab {
	t.Helper()
	needRoot(t)
	needTool(t, "ip")
	l, err := lab.New(specs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("remove lab: %v", err)
		}
		if left := lab.Leftovers(l.Prefix); len(left) > 0 {
			t.Errorf("lab namespaces left behind: %v", left)
		}
	})
	return l
}

// ocfEnv is the environment Pacemaker would give an operation on resource
// vip with the given parameters (name=value).
func ocfEnv(rsctmp string, params ...string) []string {
	env := []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"OCF_ROOT=/usr/lib/ocf",
		"OCF_RESOURCE_INSTANCE=vip",
		"OCF_RESKEY_CRM_meta_timeout=20000",
		"HA_RSCTMP=" + rsctmp,
	}
	for _, p := range params {
		if strings.HasPrefix(p, "OCF_") || strings.HasPrefix(p, "HA_") {
			env = append(env, p)
		} else {
			env = append(env, "OCF_RESKEY_"+p)
		}
	}
	return env
}

// agentRunner runs one agent's actions in one host with one HA_RSCTMP; with
// no host, in the test's own namespace.
type agentRunner struct {
	t      *testing.T
	host   *lab.Host
	path   string
	rsctmp string
	// thread starts the agent from a thread in the namespace rather than
	// through "ip netns exec"; then run and expect are safe for
	// concurrent use.
	thread bool
	// wrap, when set, prefixes the command line (strace, setpriv); only
	// with thread.
	wrap []string
}

func floatip(t *testing.T, h *lab.Host) *agentRunner {
	return &agentRunner{t: t, host: h, path: binary, rsctmp: t.TempDir()}
}

const heartbeatIPaddr2 = "/usr/lib/ocf/resource.d/heartbeat/IPaddr2"

func heartbeat(t *testing.T, h *lab.Host) *agentRunner {
	if _, err := os.Stat(heartbeatIPaddr2); err != nil {
		t.Fatalf("heartbeat:IPaddr2 is not installed (resource-agents): run make deps")
	}
	return &agentRunner{t: t, host: h, path: heartbeatIPaddr2, rsctmp: t.TempDir()}
}

func (r *agentRunner) run(action string, params ...string) lab.Result {
	r.t.Helper()
	if r.thread {
		return r.runThread(action, params...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var res lab.Result
	var err error
	if r.host == nil {
		res, err = lab.RunHere(ctx, ocfEnv(r.rsctmp, params...), r.path, action)
	} else {
		res, err = r.host.Run(ctx, ocfEnv(r.rsctmp, params...), r.path, action)
	}
	if err != nil {
		r.t.Fatalf("%s %s: %v", filepath.Base(r.path), action, err)
	}
	return res
}

// key is how floatip names ip in the files of HA_RSCTMP when it runs in,
// or names, host h's network namespace (the test's own for nil): the
// address and the namespace's inode, as in "198.18.0.100@net4026532281".
func key(t *testing.T, h *lab.Host, ip string) string {
	t.Helper()
	if h != nil {
		_, ino := nsInode(t, h)
		return fmt.Sprintf("%s@net%d", ip, ino)
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/thread-self/ns/net", &st); err != nil {
		t.Fatalf("stat network namespace: %v", err)
	}
	return fmt.Sprintf("%s@net%d", ip, st.Ino)
}

// expect runs action and fails the test unless it exits with code.
func (r *agentRunner) expect(code int, action string, params ...string) lab.Result {
	r.t.Helper()
	res := r.run(action, params...)
	if res.Code != code {
		r.t.Errorf("%s %s %v = %d, want %d\nstderr: %s", filepath.Base(r.path), action, params, res.Code, code, res.Stderr)
	}
	return res
}
