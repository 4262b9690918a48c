package sender

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var vip = netip.MustParseAddr("198.18.0.100")

// netns is the namespace of the senders in these tests.
const netns = 4026531840

// standIn starts a process that looks like a background sender: a shell
// whose command line holds "announce --background-sender".
func standIn(t *testing.T) *exec.Cmd {
	t.Helper()
	return standInFor(t, "--ip", vip.String(), NetNSFlag, strconv.FormatUint(netns, 10))
}

// standInFor is a stand-in sender with these further arguments.
func standInFor(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	argv := append([]string{"-c", "while :; do sleep 1; done", "announce", "--background-sender", "1"}, args...)
	cmd := start(t, exec.Command("sh", argv...))
	execed(t, cmd.Process.Pid)
	return cmd
}

// execed waits until /proc shows pid's command line. os.StartProcess
// returns once the child's exec has begun (its vfork ends, its close-on-exec
// pipe closes), but the kernel sets the new command line's bounds later in
// the exec: until then /proc/<pid>/cmdline reads empty, and no pid file
// would take the stand-in for a sender.
func execed(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if strings.Contains(string(b), "\x00announce\x00--background-sender\x00") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stand-in %d shows no command line: %q", pid, b)
		}
	}
}

// stubborn starts a stand-in that ignores SIGTERM, as a sender stopped
// or stuck would.
func stubborn(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := start(t, exec.Command("sh", "-c", "trap '' TERM; while :; do sleep 1; done", "announce", "--background-sender", "1",
		"--ip", vip.String(), NetNSFlag, strconv.FormatUint(netns, 10)))
	execed(t, cmd.Process.Pid)
	return cmd
}

// ready waits until the stand-in pid runs as a sender and, if it is
// stubborn, ignores SIGTERM: until then its shell would end on one.
func ready(t *testing.T, s PIDFile, pid int, ignoresTERM bool) {
	t.Helper()
	want := func() bool {
		if !s.isSender(pid) {
			return false
		}
		if !ignoresTERM {
			return true
		}
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
				mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
				return err == nil && mask&(1<<(syscall.SIGTERM-1)) != 0
			}
		}
		return false
	}
	for deadline := time.Now().Add(5 * time.Second); !want(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stand-in did not get ready")
		}
	}
}

// stranger starts a process that is not a sender.
func stranger(t *testing.T) *exec.Cmd {
	t.Helper()
	return start(t, exec.Command("sleep", "30"))
}

func start(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	// A killed but not yet reaped child is a zombie: state Z.
	return err == nil && !strings.Contains(string(b), ") Z ")
}

func TestSenderStopsItsOwnProcess(t *testing.T) {
	s := For(t.TempDir(), vip, netns)
	cmd := standIn(t)
	if err := s.Record(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(s.Path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("pid file %v mode %v", err, fi.Mode())
	}
	if got := s.Running(); got != cmd.Process.Pid {
		t.Fatalf("Running = %d, want %d", got, cmd.Process.Pid)
	}
	stopped, err := s.Stop(context.Background())
	if !stopped || err != nil {
		t.Fatalf("Stop = %v, %v", stopped, err)
	}
	cmd.Wait()
	if _, err := os.Stat(s.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file left: %v", err)
	}
	if stopped, err := s.Stop(context.Background()); stopped || err != nil {
		t.Errorf("second Stop = %v, %v", stopped, err)
	}
}

// TestStopWaitsUntilTheSenderIsGone: when Stop returns, the sender has
// exited, one that ignores SIGTERM too (it gets SIGKILL after termGrace),
// with pidfds and, as on a kernel without them, by its pid.
func TestStopWaitsUntilTheSenderIsGone(t *testing.T) {
	noPidfd := func(int, int) (int, error) { return -1, syscall.ENOSYS }
	for _, tt := range []struct {
		name        string
		ignoresTERM bool
		pidfdOpen   func(int, int) (int, error)
	}{
		{"pidfd, ends on SIGTERM", false, nil},
		{"pidfd, ignores SIGTERM", true, nil},
		{"no pidfd, ends on SIGTERM", false, noPidfd},
		{"no pidfd, ignores SIGTERM", true, noPidfd},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := For(t.TempDir(), vip, netns)
			s.pidfdOpen = tt.pidfdOpen
			cmd := standIn(t)
			if tt.ignoresTERM {
				cmd = stubborn(t)
			}
			pid := cmd.Process.Pid
			ready(t, s, pid, tt.ignoresTERM)
			if err := s.Record(pid); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			stopped, err := s.Stop(ctx)
			if alive(pid) {
				t.Errorf("the sender %d still runs after Stop", pid)
			}
			if !stopped || err != nil {
				t.Errorf("Stop = %v, %v", stopped, err)
			}
		})
	}
}

// TestSenderSparesAStranger: a pid file whose pid now names another
// process (same pid, other start time) must not get that process killed.
func TestSenderSparesAStranger(t *testing.T) {
	s := For(t.TempDir(), vip, netns)
	cmd := stranger(t)
	pid := cmd.Process.Pid
	if err := os.WriteFile(s.Path, []byte(strconv.Itoa(pid)+" 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := s.Running(); got != 0 {
		t.Errorf("Running = %d for a stale file", got)
	}
	if stopped, err := s.Stop(context.Background()); stopped || err != nil {
		t.Errorf("Stop = %v, %v", stopped, err)
	}
	if !alive(pid) {
		t.Error("the stranger was killed")
	}
	if _, err := os.Stat(s.Path); !errors.Is(err, os.ErrNotExist) {
		t.Error("stale pid file left")
	}
	for _, junk := range []string{"", "garbage", "1 1", "-5 3"} {
		os.WriteFile(s.Path, []byte(junk), 0o600)
		if got := s.Running(); got != 0 {
			t.Errorf("Running = %d for %q", got, junk)
		}
	}
}

func TestRecordRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	s := For(dir, vip, netns)
	target := filepath.Join(dir, "victim")
	cmd := stranger(t)
	tmp := s.Path + "." + strconv.Itoa(os.Getpid()) + ".tmp"
	if err := os.Symlink(target, tmp); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(cmd.Process.Pid); err == nil {
		t.Error("Record wrote through a planted symlink")
	}
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Error("symlink target was created")
	}
}

func TestSpawnDetaches(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	// The child reports its session and its standard descriptors.
	script := `echo "$(cut -d' ' -f6 /proc/$$/stat) $(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/1) $(readlink /proc/$$/fd/2)" > ` + out
	pid, err := Spawn([]string{"/bin/sh", "-c", script}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for range 200 {
		if b, err := os.ReadFile(out); err == nil && strings.HasSuffix(string(b), "\n") {
			got = strings.TrimSpace(string(b))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	want := strconv.Itoa(pid) + " /dev/null /dev/null /dev/null"
	if got != want {
		t.Errorf("child says %q, want %q (its own session, stdio on /dev/null)", got, want)
	}
	var ws syscall.WaitStatus
	syscall.Wait4(pid, &ws, 0, nil)
}

// TestSenderSparesAForgedFile: a pid file with a live process's real pid
// and start time still gets nothing killed unless that process is a
// sender.
func TestSenderSparesAForgedFile(t *testing.T) {
	s := For(t.TempDir(), vip, netns)
	cmd := stranger(t)
	if err := s.Record(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if got := s.Running(); got != 0 {
		t.Errorf("Running = %d for a process that is not a sender", got)
	}
	if stopped, _ := s.Stop(context.Background()); stopped || !alive(cmd.Process.Pid) {
		t.Error("a process that is not a sender was signalled")
	}
}

// TestStopRemovesTemporaryFiles: a start killed before renaming its pid
// file into place leaves the temporary one; stop removes it.
func TestStopRemovesTemporaryFiles(t *testing.T) {
	s := For(t.TempDir(), vip, netns)
	tmp := s.Path + ".12345.tmp"
	if err := os.WriteFile(tmp, []byte("1 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left: %v", tmp, err)
	}
}

// TestSenderSparesAnotherNamespace: the same address in another network
// namespace has a pid file of its own, and a file naming the sender of
// another namespace or address gets nothing killed.
func TestSenderSparesAnotherNamespace(t *testing.T) {
	dir := t.TempDir()
	mine, other := For(dir, vip, netns), For(dir, vip, netns+1)
	if mine.Path == other.Path {
		t.Fatalf("one pid file %s for two namespaces", mine.Path)
	}
	if want := filepath.Join(dir, "floatip-announce-198.18.0.100@net4026531840.pid"); mine.Path != want {
		t.Errorf("pid file %s, want %s", mine.Path, want)
	}
	cmd := standIn(t)
	otherIP := For(dir, netip.MustParseAddr("198.18.0.101"), netns)
	for _, s := range []PIDFile{other, otherIP} {
		if err := s.Record(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
		if got := s.Running(); got != 0 {
			t.Errorf("%s: Running = %d, the sender of another namespace or address", s.Path, got)
		}
		if stopped, _ := s.Stop(context.Background()); stopped || !alive(cmd.Process.Pid) {
			t.Errorf("%s: the sender of another namespace or address was signalled", s.Path)
		}
	}
}

// TestStopEndsALegacySender: a sender that floatip recorded by the address
// alone, before it told namespaces apart, is seen and stopped after an
// upgrade; one of another address is not.
func TestStopEndsALegacySender(t *testing.T) {
	dir := t.TempDir()
	s := For(dir, vip, netns)
	old := standInFor(t, "--ip", vip.String(), "--nic", "eth0")
	legacy := PIDFile{Path: filepath.Join(dir, "floatip-announce-198.18.0.100.pid"), Proc: "/proc"}
	if s.Legacy != legacy.Path {
		t.Fatalf("Legacy = %s, want %s", s.Legacy, legacy.Path)
	}
	if err := legacy.Record(old.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if got := s.Running(); got != old.Process.Pid {
		t.Errorf("Running = %d, want the legacy sender %d", got, old.Process.Pid)
	}
	if stopped, err := s.Stop(context.Background()); !stopped || err != nil {
		t.Errorf("Stop = %v, %v; want the legacy sender stopped", stopped, err)
	}
	old.Wait()
	if _, err := os.Stat(legacy.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("legacy pid file left: %v", err)
	}

	stranger := standInFor(t, "--ip", "198.18.0.101")
	if err := legacy.Record(stranger.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if stopped, _ := s.Stop(context.Background()); stopped || !alive(stranger.Process.Pid) {
		t.Error("the legacy sender of another address was signalled")
	}
}

// TestWritable: Writable says whether the pid file can be written, and
// leaves nothing behind either way.
func TestWritable(t *testing.T) {
	dir := t.TempDir()
	ip := netip.MustParseAddr("198.18.0.100")
	if err := For(dir, ip, 4026531840).Writable(); err != nil {
		t.Errorf("Writable in %s: %v", dir, err)
	}
	if err := For(filepath.Join(dir, "missing"), ip, 4026531840).Writable(); err == nil {
		t.Error("Writable in a missing directory: no error")
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left %v", left)
	}
}
