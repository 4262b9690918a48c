//go:build linux

package labtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// SenderPid returns the pid that the pid file of r's background sender
// names.
func SenderPid(t *testing.T, r *AgentRunner) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.Rsctmp, "floatip-announce-"+Key(t, r.Host, VIP)+".pid"))
	if err != nil {
		t.Fatalf("no pid file: %v", err)
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err != nil || pid <= 1 {
		t.Fatalf("pid file %q", b)
	}
	return pid
}
