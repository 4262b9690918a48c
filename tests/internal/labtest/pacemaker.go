//go:build linux

package labtest

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/floatip/floatip/tests/lab"
	"github.com/vishvananda/netlink"
)

// OCFProviders is where Pacemaker looks for OCF agents. Pacemaker 2.1
// compiles the path in: crm_resource reads neither OCF_ROOT (it sets it for
// the agent) nor OCF_RA_PATH, so the tests cannot use a temporary directory.
const OCFProviders = "/usr/lib/ocf/resource.d"

// InstallProvider installs the binary as OCFProviders/floatip-test-<random>/
// IPaddr2, a provider name of the test's own so that it never replaces a
// floatip installed on this machine, and removes it when the test ends. It
// returns the provider name.
func InstallProvider(t *testing.T) string {
	t.Helper()
	NeedRoot(t)
	var rnd [4]byte
	rand.Read(rnd[:])
	provider := "floatip-test-" + hex.EncodeToString(rnd[:])
	dir := filepath.Join(OCFProviders, provider)
	// Mkdir, not MkdirAll: without OCFProviders, Pacemaker is not
	// installed, and the test must not create a tree of its own.
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("install the agent (is resource-agents installed? run make deps): %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove provider %s: %v", dir, err)
		}
	})
	src, err := os.Open(Binary)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(filepath.Join(dir, "IPaddr2"), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return provider
}

// ToolEnv is the environment the cluster tools run with. crm_resource hands
// its own environment to the agent, so HA_RSCTMP keeps the agent's locks and
// pid files out of /run/resource-agents; crmsh keeps a cache and a config
// directory in $HOME. One environment serves a whole test, so that a stop
// finds the pid file of the start's background sender.
func ToolEnv(t *testing.T, extra ...string) []string {
	return append([]string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + t.TempDir(),
		"HA_RSCTMP=" + t.TempDir(),
	}, extra...)
}

// HasAddr tells whether host h's nic holds prefix (e.g. 198.18.0.100/24),
// as netlink reports it.
func HasAddr(t *testing.T, h *lab.Host, prefix string) bool {
	t.Helper()
	addrs, err := h.Addrs(netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if a.IPNet.String() == prefix {
			return true
		}
	}
	return false
}
