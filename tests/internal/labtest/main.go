//go:build linux

package labtest

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

// Binary is the floatip binary built for this run, in a directory that user
// nobody can read (ocf-tester runs meta-data as nobody).
var Binary string

// Main is the TestMain of a package of integration tests: it builds
// Binary, runs the tests and removes the binary, and returns the exit
// code.
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "floatip-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	Binary = filepath.Join(dir, "floatip")
	cmd := exec.Command("go", "build", "-trimpath", "-o", Binary, "github.com/floatip/floatip/cmd/floatip")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build floatip: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// NeedRoot skips a test that needs root and network namespaces, or fails it
// when FLOATIP_REQUIRE_ROOT=1 says such tests must run.
func NeedRoot(t *testing.T) {
	t.Helper()
	needroot.Check(t)
}

// NeedTool fails a test whose tool is missing: make deps installs it.
func NeedTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run make deps", name)
	}
	return p
}

// The hosts and VIP of the failover scenario.
var (
	HostA = failover.HostA
	HostM = failover.HostM
	VIP   = failover.VIP.String()
)

// NewLab creates a lab that the test removes when it ends, also when it
// fails, and checks that nothing of it is left.
func NewLab(t *testing.T, specs ...lab.HostSpec) *lab.Lab {
	t.Helper()
	NeedRoot(t)
	NeedTool(t, "ip")
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

// OCFEnv is the environment Pacemaker would give an operation on resource
// vip with the given parameters (name=value).
func OCFEnv(rsctmp string, params ...string) []string {
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

// AgentRunner runs one agent's actions in one host with one HA_RSCTMP; with
// no host, in the test's own namespace.
type AgentRunner struct {
	T      *testing.T
	Host   *lab.Host
	Path   string
	Rsctmp string
	// Thread starts the agent from a thread in the namespace rather than
	// through "ip netns exec"; then Run and Expect are safe for
	// concurrent use.
	Thread bool
	// Wrap, when set, prefixes the command line (strace, setpriv); only
	// with thread.
	Wrap []string
}

func Floatip(t *testing.T, h *lab.Host) *AgentRunner {
	return &AgentRunner{T: t, Host: h, Path: Binary, Rsctmp: t.TempDir()}
}

const HeartbeatIPaddr2 = "/usr/lib/ocf/resource.d/heartbeat/IPaddr2"

func Heartbeat(t *testing.T, h *lab.Host) *AgentRunner {
	if _, err := os.Stat(HeartbeatIPaddr2); err != nil {
		t.Fatalf("heartbeat:IPaddr2 is not installed (resource-agents): run make deps")
	}
	return &AgentRunner{T: t, Host: h, Path: HeartbeatIPaddr2, Rsctmp: t.TempDir()}
}

func (r *AgentRunner) Run(action string, params ...string) lab.Result {
	r.T.Helper()
	if r.Thread {
		return r.RunThread(action, params...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var res lab.Result
	var err error
	if r.Host == nil {
		res, err = lab.RunHere(ctx, OCFEnv(r.Rsctmp, params...), r.Path, action)
	} else {
		res, err = r.Host.Run(ctx, OCFEnv(r.Rsctmp, params...), r.Path, action)
	}
	if err != nil {
		r.T.Fatalf("%s %s: %v", filepath.Base(r.Path), action, err)
	}
	return res
}

// Key is how floatip names ip in the files of HA_RSCTMP when it runs in,
// or names, host h's network namespace (the test's own for nil): the
// address and the namespace's inode, as in "198.18.0.100@net4026532281".
func Key(t *testing.T, h *lab.Host, ip string) string {
	t.Helper()
	if h != nil {
		_, ino := NSInode(t, h)
		return fmt.Sprintf("%s@net%d", ip, ino)
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/thread-self/ns/net", &st); err != nil {
		t.Fatalf("stat network namespace: %v", err)
	}
	return fmt.Sprintf("%s@net%d", ip, st.Ino)
}

// Expect runs action and fails the test unless it exits with code.
func (r *AgentRunner) Expect(code int, action string, params ...string) lab.Result {
	r.T.Helper()
	res := r.Run(action, params...)
	if res.Code != code {
		r.T.Errorf("%s %s %v = %d, want %d\nstderr: %s", filepath.Base(r.Path), action, params, res.Code, code, res.Stderr)
	}
	return res
}
