package tests

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/internal/labtest"
)

// TestSenderRelativePaths: HA_LOGFILE and HA_RSCTMP may be relative, as
// ha_log's ">>" and the shell's paths take them, from the directory the
// agent runs in. The background sender runs in "/": it must still log to
// the agent's log file and remove the agent's pid file, not create files
// of its own under the root directory.
func TestSenderRelativePaths(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	h := l.Host("a")
	dir := t.TempDir()
	// Names of this run alone: t.TempDir's parent is unique.
	unique := filepath.Base(filepath.Dir(dir))
	logName := "floatip-relative-" + unique + ".log"
	rscName := "floatip-relative-" + unique
	t.Cleanup(func() {
		// What the sender of the unfixed agent left in "/".
		os.Remove(filepath.Join("/", logName))
		os.RemoveAll(filepath.Join("/", rscName))
	})
	env := labtest.OCFEnv(rscName, "ip="+labtest.VIP, "cidr_netmask=24", "arp_count=3", "arp_interval=50", "HA_LOGFILE="+logName)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", h.NS, labtest.Binary, "start")
	cmd.Env, cmd.Dir = env, dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("start: %v\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`background announcer (\d+) `).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("start started no background sender:\n%s", stderr.String())
	}
	// The sender ends with its burst, a fraction of a second.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat("/proc/" + m[1]); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("background sender %s still runs after 10 s", m[1])
		}
		time.Sleep(10 * time.Millisecond)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, logName)); !strings.Contains(string(b), "announce: sent") {
		t.Errorf("the sender's lines are not in HA_LOGFILE %s:\n%s", logName, b)
	}
	for _, p := range []string{filepath.Join("/", logName), filepath.Join("/", rscName)} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("the sender created %s", p)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, rscName, "floatip-announce-*")); len(left) != 0 {
		t.Errorf("the sender's pid file is left after its burst: %v", left)
	}
}
