package sender

import (
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

// standIn starts a process that looks like a background sender: a shell
// whose command line holds "announce --background-sender".
func standIn(t *testing.T) *exec.Cmd {
	t.Helper()
	return start(t, exec.Command("sh", "-c", "while :; do sleep 1; done", "announce", "--background-sender", "1"))
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
	s := For(t.TempDir(), vip)
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
	stopped, err := s.Stop()
	if !stopped || err != nil {
		t.Fatalf("Stop = %v, %v", stopped, err)
	}
	cmd.Wait()
	if _, err := os.Stat(s.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file left: %v", err)
	}
	if stopped, err := s.Stop(); stopped || err != nil {
		t.Errorf("second Stop = %v, %v", stopped, err)
	}
}

// TestSenderSparesAStranger: a pid file whose pid now names another
// process (same pid, other start time) must not get that process killed.
func TestSenderSparesAStranger(t *testing.T) {
	s := For(t.TempDir(), vip)
	cmd := stranger(t)
	pid := cmd.Process.Pid
	if err := os.WriteFile(s.Path, []byte(strconv.Itoa(pid)+" 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := s.Running(); got != 0 {
		t.Errorf("Running = %d for a stale file", got)
	}
	if stopped, err := s.Stop(); stopped || err != nil {
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
	s := For(dir, vip)
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
	s := For(t.TempDir(), vip)
	cmd := stranger(t)
	if err := s.Record(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if got := s.Running(); got != 0 {
		t.Errorf("Running = %d for a process that is not a sender", got)
	}
	if stopped, _ := s.Stop(); stopped || !alive(cmd.Process.Pid) {
		t.Error("a process that is not a sender was signalled")
	}
}

// TestStopRemovesTemporaryFiles: a start killed before renaming its pid
// file into place leaves the temporary one; stop removes it.
func TestStopRemovesTemporaryFiles(t *testing.T) {
	s := For(t.TempDir(), vip)
	tmp := s.Path + ".12345.tmp"
	if err := os.WriteFile(tmp, []byte("1 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left: %v", tmp, err)
	}
}

// TestSpawnPassesOnlyHold: the child inherits stdin, stdout, stderr and
// the files it is given, nothing else: not a descriptor the agent's caller
// passed to it (here a pipe without close-on-exec, as an inherited one
// is), which the sender would hold open for its whole burst.
func TestSpawnPassesOnlyHold(t *testing.T) {
	if os.Getenv("SENDER_TEST_LIST_FDS") != "" {
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	inherited, err := syscall.Dup(int(w.Fd())) // Dup leaves close-on-exec clear
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(inherited)
	held, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	out := filepath.Join(t.TempDir(), "out")
	pid, err := Spawn([]string{os.Args[0], "-test.run=^TestListFDsHelper$"},
		[]string{"SENDER_TEST_LIST_FDS=" + out}, held)
	if err != nil {
		t.Fatal(err)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
		t.Fatalf("helper: %v, status %v", err, ws)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "0 1 2 3\n"; got != want {
		t.Errorf("the child inherited descriptors %q, want %q", got, want)
	}
}

// TestListFDsHelper is the child of TestSpawnPassesOnlyHold: it writes
// the numbers of the descriptors it inherited, those without
// close-on-exec (Go opens its own with it), to the file the environment
// names.
func TestListFDsHelper(t *testing.T) {
	out := os.Getenv("SENDER_TEST_LIST_FDS")
	if out == "" {
		t.Skip("only run by TestSpawnPassesOnlyHold")
	}
	var fds []string
	for fd := 0; fd < 1024; fd++ {
		flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
		if errno == 0 && flags&syscall.FD_CLOEXEC == 0 {
			fds = append(fds, strconv.Itoa(fd))
		}
	}
	if err := os.WriteFile(out, []byte(strings.Join(fds, " ")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}
