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
	// IP and NetNS are the address and the network namespace (its
	// inode, 0 for any) whose sender the file names: a process counts as
	// that sender only if its command line names both.
	IP    netip.Addr
	NetNS uint64
	// Legacy is the pid file that floatip named by the address alone,
	// before it told namespaces apart; "" for none. A sender that an
	// older floatip started before an upgrade is recorded there, and
	// Stop and Running see it too.
	Legacy string
	// pidfdOpen is unix.PidfdOpen when nil; tests make it fail as on a
	// kernel without pidfds.
	pidfdOpen func(pid, flags int) (int, error)
}

// NetNSFlag is the sender's option that names the network namespace, by
// its inode, that the start which spawned it announced in: the pid file's
// name carries the same number, and isSender checks it.
const NetNSFlag = "--background-netns"

// For returns the PIDFile of ip's background sender in the network
// namespace whose inode is netns, in dir (HA_RSCTMP). 0 is a namespace
// that could not be told: the file then has the name of the address alone.
func For(dir string, ip netip.Addr, netns uint64) PIDFile {
	s := PIDFile{Path: filepath.Join(dir, "floatip-announce-"+Key(ip, netns)+".pid"), Proc: "/proc", IP: ip, NetNS: netns}
	if netns != 0 {
		s.Legacy = filepath.Join(dir, "floatip-announce-"+ip.String()+".pid")
	}
	return s
}

// Key names ip in the network namespace netns in the files of HA_RSCTMP
// (the pid file, and the agent's lock and LVS files): the address, and the
// namespace's inode as lsns and /proc/PID/ns/net show it, as in
// "198.18.0.100@net4026531840". The same address in two namespaces (two
// containers or labs on one host) so has files of its own in each, and an
// admin still reads which address a file is for. The kernel reuses an
// inode only once its namespace is gone, and a namespace outlives the
// sender in it (which is in it, or holds it open). netns 0 gives the
// address alone, the name of floatip before it told namespaces apart.
func Key(ip netip.Addr, netns uint64) string {
	if netns == 0 {
		return ip.String()
	}
	return ip.String() + "@net" + strconv.FormatUint(netns, 10)
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

// Writable says whether Record can write the pid file, by creating and
// removing the file that Record writes first. A sender that could not be
// recorded would run on unseen by stop and by the next start: the agent
// starts none when this fails.
func (s PIDFile) Writable() error {
	tmp := fmt.Sprintf("%s.%d.tmp", s.Path, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("record a sender: %w", err)
	}
	f.Close()
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("record a sender: %w", err)
	}
	return nil
}

// Running returns the pid of the recorded sender if that very process is
// still alive; 0 when there is none, the file is stale or unreadable.
//
// A shared sender lives on after the burst of the address: its start may
// have recorded it only after the burst ended (and its Done found no file
// to remove), or the burst may have failed before it ran. It counts only
// while it runs a burst of the address, as it says when asked.
func (s PIDFile) Running() int {
	if pid := s.running(); pid != 0 {
		if s.NetNS != 0 && s.shares(pid) && !hasBurst(s.NetNS, pid, s.IP) {
			return 0
		}
		return pid
	}
	if s.Legacy == "" {
		return 0
	}
	return s.legacy().running()
}

// shares says whether the sender pid is one that serves other starts'
// bursts too (ShareFlag).
func (s PIDFile) shares(pid int) bool {
	b, err := os.ReadFile(filepath.Join(s.Proc, strconv.Itoa(pid), "cmdline"))
	return err == nil && bytes.Contains(b, []byte("\x00"+ShareFlag+"\x00"))
}

// legacy is the PIDFile of a sender that an older floatip recorded by
// the address alone. It cannot say in which namespace that sender runs:
// any sender of the address counts (see Stop).
func (s PIDFile) legacy() PIDFile {
	return PIDFile{Path: s.Legacy, Proc: s.Proc, IP: s.IP, pidfdOpen: s.pidfdOpen}
}

func (s PIDFile) running() int {
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

// isSender checks that pid runs floatip's background sender of this
// address in this namespace, so that even a forged pid file naming
// another live process, or the sender of the same address in another
// namespace, gets nothing killed.
func (s PIDFile) isSender(pid int) bool {
	b, err := os.ReadFile(filepath.Join(s.Proc, strconv.Itoa(pid), "cmdline"))
	if err != nil || !bytes.Contains(b, []byte("\x00announce\x00--background-sender\x00")) {
		return false
	}
	// A sender that shares itself names the first address it served:
	// it may be the sender of any address in its namespace.
	shared := s.NetNS != 0 && bytes.Contains(b, []byte("\x00"+ShareFlag+"\x00"))
	if s.IP.IsValid() && !shared && !bytes.Contains(b, []byte("\x00--ip\x00"+s.IP.String()+"\x00")) {
		return false
	}
	return s.NetNS == 0 || bytes.Contains(b, []byte("\x00"+NetNSFlag+"\x00"+strconv.FormatUint(s.NetNS, 10)+"\x00"))
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
//
// A sender that an older floatip recorded by the address alone (Legacy)
// is stopped as well, in whichever namespace it runs: that file never
// said which, and a stop after an upgrade must not leave the old sender
// announcing. Such a sender lives for one burst at most.
func (s PIDFile) Stop(ctx context.Context) (bool, error) {
	stopped, err := s.stop(ctx)
	if s.Legacy != "" {
		old, lerr := s.legacy().stop(ctx)
		stopped, err = stopped || old, errors.Join(err, lerr)
	}
	return stopped, err
}

func (s PIDFile) stop(ctx context.Context) (bool, error) {
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

// end ends the burst of the process pid, started at start, if it is the
// sender. It asks the sender to drop the address and waits for its
// answer that the burst has ended: a sender may serve other addresses,
// whose bursts go on. When it does not answer (a sender of an older
// floatip, one that does not share, or one that is stuck), it signals it
// and waits until it has exited.
func (s PIDFile) end(ctx context.Context, pid int, start uint64) (bool, error) {
	p, err := s.open(pid, start)
	if err != nil || p == nil {
		return false, err
	}
	defer p.close()
	if !s.is(pid, start) {
		return false, nil
	}
	if s.NetNS != 0 {
		if r, err := drop(ctx, s.NetNS, pid, start, s.IP); err == nil {
			if !r.Closing {
				return r.Dropped > 0, nil
			}
			// That was its last burst: it is exiting. Waited for, so
			// that a stop leaves no process behind.
			grace, cancel := context.WithTimeout(ctx, termGrace)
			defer cancel()
			if p.wait(grace) == nil {
				return r.Dropped > 0, nil
			}
		}
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
	if s.running() == os.Getpid() {
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
// inherits the files in hold as descriptors 3 and up, keeps them open
// until it exits, and inherits no other descriptor: not one that the
// agent's caller passed to it (a trace descriptor, a pipe the caller waits
// on), which the sender would otherwise hold open, or write its trace to,
// for its whole burst.
func Spawn(argv []string, env []string, hold ...*os.File) (int, error) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("spawn sender: %w", err)
	}
	defer null.Close()
	if err := closeOnExec(); err != nil {
		return 0, fmt.Errorf("spawn sender: %w", err)
	}
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

// closeOnExec marks every descriptor from 3 up close-on-exec. Go opens
// its own files so; those the agent inherited from its caller are not,
// and an exec would pass them on. The files that the child is given are
// still passed: ForkExec installs each at its number in the child, which
// clears the flag there. floatip executes nothing else, so the flag
// changes nothing for the agent itself.
func closeOnExec() error {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("list own descriptors: %w", err)
	}
	for _, e := range fds {
		// The descriptor of the listing itself is among them, closed
		// by now: marking it fails harmlessly.
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
	return nil
}
