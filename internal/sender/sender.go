package sender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// PIDFile is the pid file of a detached background sender. It records the
// process's pid and its start time, so that a stale file whose pid now
// belongs to another process never gets that process killed (IPaddr2 kills
// whatever pid its file names).
type PIDFile struct {
	// Path is the pid file.
	Path string
	// Proc is the procfs root, "/proc" but for tests.
	Proc string
	// pidfdOpen is unix.PidfdOpen when nil; tests make it fail as on a
	// kernel without pidfds.
	pidfdOpen func(pid, flags int) (int, error)
}

// For returns the PIDFile of ip's background sender, in dir (HA_RSCTMP).
func For(dir string, ip netip.Addr) PIDFile {
	return PIDFile{Path: filepath.Join(dir, "floatip-announce-"+ip.String()+".pid"), Proc: "/proc"}
}

// Record writes pid into the pid file. The file is written beside its final
// name and renamed over it, with O_EXCL and O_NOFOLLOW so that a planted
// symlink cannot redirect the write, and readable by root only.
func (s PIDFile) Record(pid int) error {
	start, err := s.startTime(pid)
	if err != nil {
		return fmt.Errorf("record sender %d: %w", pid, err)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", s.Path, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("record sender %d: %w", pid, err)
	}
	_, werr := fmt.Fprintf(f, "%d %d\n", pid, start)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("record sender %d: %w", pid, err)
	}
	if err := os.Rename(tmp, s.Path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("record sender %d: %w", pid, err)
	}
	return nil
}

// Running returns the pid of the recorded sender if that very process is
// still alive; 0 when there is none, the file is stale or unreadable.
func (s PIDFile) Running() int {
	pid, start, ok := s.read()
	if !ok || !s.is(pid, start) {
		return 0
	}
	return pid
}

// read returns the pid and start time the pid file holds.
func (s PIDFile) read() (pid int, start uint64, ok bool) {
	b, err := os.ReadFile(s.Path)
	if err != nil {
		return 0, 0, false
	}
	if _, err := fmt.Sscanf(string(b), "%d %d", &pid, &start); err != nil || pid <= 1 {
		return 0, 0, false
	}
	return pid, start, true
}

// is says whether pid is the recorded sender: alive, started at start,
// and running the background sender.
func (s PIDFile) is(pid int, start uint64) bool {
	state, now, err := s.stat(pid)
	return err == nil && now == start && !exited(state) && s.isSender(pid)
}

// isSender checks that pid runs floatip's background sender, so that even
// a forged pid file naming another live process gets nothing killed.
func (s PIDFile) isSender(pid int) bool {
	b, err := os.ReadFile(filepath.Join(s.Proc, strconv.Itoa(pid), "cmdline"))
	return err == nil && bytes.Contains(b, []byte("\x00announce\x00--background-sender\x00"))
}

// termGrace is how long Stop gives the sender to end on SIGTERM before it
// sends SIGKILL. The sender has nothing to clean up (Stop removes the pid
// file): its own runtime ends it at once, so a sender still there after a
// second is stopped (SIGSTOP), stuck or not a floatip of this version.
const termGrace = time.Second

// Stop ends the recorded sender, if it is still the process that was
// recorded, waits until it has exited, and removes the pid file. Once it
// returns, that process sends nothing more, so that stop can remove the
// address without a frame claiming it afterwards. It sends SIGTERM, then
// SIGKILL after termGrace; it gives up when ctx ends. It reports whether a
// process was signalled.
//
// The process is held by a pidfd (pidfd_open, Linux 5.3) before /proc
// says it is the sender, and signalled and awaited through that pidfd:
// should the sender end and its pid be reused in between, /proc shows
// another start time, or the pidfd still names the dead sender, and no
// other process is signalled. Without pidfds, it signals the pid and
// polls /proc, which leaves that window open.
func (s PIDFile) Stop(ctx context.Context) (bool, error) {
	var stopped bool
	var err error
	if pid, start, ok := s.read(); ok {
		stopped, err = s.end(ctx, pid, start)
	}
	// A start killed between writing the pid file and renaming it into
	// place leaves its temporary file.
	tmps, _ := filepath.Glob(s.Path + ".*.tmp")
	for _, p := range append(tmps, s.Path) {
		if rerr := os.Remove(p); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	return stopped && err == nil, err
}

// end signals the process pid, started at start, if it is the sender, and
// waits until it has exited.
func (s PIDFile) end(ctx context.Context, pid int, start uint64) (bool, error) {
	p, err := s.open(pid, start)
	if err != nil || p == nil {
		return false, err
	}
	defer p.close()
	if !s.is(pid, start) {
		return false, nil
	}
	if err := p.signal(syscall.SIGTERM); errors.Is(err, syscall.ESRCH) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("stop sender %d: %w", pid, err)
	}
	grace, cancel := context.WithTimeout(ctx, termGrace)
	defer cancel()
	if p.wait(grace) == nil {
		return true, nil
	}
	if err := p.signal(syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return true, fmt.Errorf("stop sender %d: %w", pid, err)
	}
	if err := p.wait(ctx); err != nil {
		return true, fmt.Errorf("stop sender %d: still running after SIGKILL: %w", pid, err)
	}
	return true, nil
}

// proc is a process that Stop signals and waits for.
type proc interface {
	signal(sig syscall.Signal) error
	// wait returns nil once the process has exited, else ctx's error.
	wait(ctx context.Context) error
	close()
}

// pollStep is how often a wait looks again: at its context through a
// pidfd, and at /proc without one.
const pollStep = 10 * time.Millisecond

// procPid is a process by its pid, for kernels before 5.3 and other
// systems.
type procPid struct {
	s     PIDFile
	pid   int
	start uint64
}

func (p procPid) signal(sig syscall.Signal) error { return syscall.Kill(p.pid, sig) }
func (p procPid) close()                          {}

// wait polls /proc until the process is gone, a zombie, or its pid names
// another process.
func (p procPid) wait(ctx context.Context) error {
	tick := time.NewTicker(pollStep)
	defer tick.Stop()
	for {
		if state, start, err := p.s.stat(p.pid); err != nil || start != p.start || exited(state) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// exited says whether a process in state (field 3 of /proc/<pid>/stat)
// has exited: a zombie (Z) waits for its parent only, and sends nothing.
func exited(state byte) bool { return state == 'Z' || state == 'X' }

// Done removes the pid file if it still names the calling process; the
// sender calls it when its burst is over.
func (s PIDFile) Done() {
	if s.Running() == os.Getpid() {
		os.Remove(s.Path)
	}
}

// startTime reads the process start time (clock ticks since boot, field 22
// of /proc/<pid>/stat), which with the pid names one process for good.
func (s PIDFile) startTime(pid int) (uint64, error) {
	_, start, err := s.stat(pid)
	return start, err
}

// stat reads the state (field 3) and the start time (field 22) of
// /proc/<pid>/stat.
func (s PIDFile) stat(pid int) (byte, uint64, error) {
	b, err := os.ReadFile(filepath.Join(s.Proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, err
	}
	// The command name, field 2, may hold spaces and parentheses: fields
	// are counted after its closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("parse %s/%d/stat", s.Proc, pid)
	}
	f := strings.Fields(string(b[i+1:]))
	const startField = 22 - 3 // fields 1 and 2 are before the parenthesis
	if len(f) <= startField || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("parse %s/%d/stat", s.Proc, pid)
	}
	start, err := strconv.ParseUint(f[startField], 10, 64)
	return f[0][0], start, err
}

// Spawn starts argv as a fully detached process: its own session, no
// controlling terminal, standard input and output on /dev/null. Pacemaker's
// execd reads the agent's stdout and stderr until they close, so a child
// that kept them would hold the operation open until it ends. The child
// inherits the files in hold as descriptors 3 and up, and keeps them open
// until it exits.
func Spawn(argv []string, env []string, hold ...*os.File) (int, error) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("spawn sender: %w", err)
	}
	defer null.Close()
	// syscall.ForkExec, not os.StartProcess: the latter first forks a
	// throwaway child to see whether clone can return a pidfd, a second
	// process for nothing. Not waited for: the sender outlives us and is
	// reaped by init or the subreaper it is reparented to.
	fd := null.Fd()
	files := []uintptr{fd, fd, fd}
	for _, f := range hold {
		files = append(files, f.Fd())
	}
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Dir:   "/",
		Env:   env,
		Files: files,
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return 0, fmt.Errorf("spawn sender: %w", err)
	}
	return pid, nil
}
