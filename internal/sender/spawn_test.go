package sender

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

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
