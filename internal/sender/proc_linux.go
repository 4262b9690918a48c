package sender

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// open returns a handle on the process pid: its pidfd, or, on a kernel
// without pidfd_open, the pid itself. nil when the process has gone.
func (s PIDFile) open(pid int, start uint64) (proc, error) {
	pidfdOpen := s.pidfdOpen
	if pidfdOpen == nil {
		pidfdOpen = unix.PidfdOpen
	}
	fd, err := pidfdOpen(pid, 0)
	switch {
	case err == nil:
		return pidfd(fd), nil
	case errors.Is(err, unix.ESRCH):
		return nil, nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM):
		// A kernel before 5.3, or a seccomp filter that does not know
		// the call.
		return procPid{s: s, pid: pid, start: start}, nil
	}
	return nil, fmt.Errorf("stop sender %d: pidfd_open: %w", pid, err)
}

// pidfd is a process by its pidfd, which polls readable once it exited.
type pidfd int

func (p pidfd) signal(sig syscall.Signal) error { return unix.PidfdSendSignal(int(p), sig, nil, 0) }
func (p pidfd) close()                          { unix.Close(int(p)) }

func (p pidfd) wait(ctx context.Context) error {
	fds := []unix.PollFd{{Fd: int32(p), Events: unix.POLLIN}}
	for {
		// Short polls, so that ctx is seen to end.
		n, err := unix.Poll(fds, int(pollStep.Milliseconds()))
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("poll pidfd: %w", err)
		}
		if n > 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
