package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/floatip/floatip/internal/sender"
)

// lock takes the per-address lock in HA_RSCTMP, so that two operations on
// one address never interleave (a start racing a stop would otherwise leave
// an address or an announcer behind). It waits until ctx ends. Without a
// usable HA_RSCTMP it logs and goes on unlocked: refusing to stop an
// address because of a missing directory would be worse.
//
// The returned function releases the lock; with remove it also deletes the
// lock file, so that a stopped address leaves nothing behind. A waiter that
// then holds a lock on the deleted file notices that the path no longer
// names its file and takes the lock again.
//
// The lock is the address's in its network namespace: the same address in
// another namespace is another resource, with a lock of its own. A lock
// file of floatip 0.9.0, named by the address alone, is not taken (an
// operation of the old version still running during an upgrade is not
// waited for), only removed with the new one, so that a stop after an
// upgrade leaves nothing behind.
func (a *Agent) lock(ctx context.Context, t *target) (func(remove bool), error) {
	cfg := t.cfg
	noop := func(bool) {}
	if err := os.MkdirAll(a.Env.RscTmp, 0o755); err != nil {
		a.Log.Warnf("no lock for %s: %v", cfg.IP, err)
		return noop, nil
	}
	path := filepath.Join(a.Env.RscTmp, "floatip-"+sender.Key(cfg.IP, t.netns)+".lock")
	legacy := filepath.Join(a.Env.RscTmp, "floatip-"+cfg.IP.String()+".lock")
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
		if err != nil {
			a.Log.Warnf("no lock for %s: %v", cfg.IP, err)
			return noop, nil
		}
		if err := flock(ctx, f); err != nil {
			f.Close()
			return nil, fmt.Errorf("wait for the lock of %s: %w", cfg.IP, err)
		}
		if sameFile(f, path) {
			return func(remove bool) {
				if remove {
					os.Remove(path)
					os.Remove(legacy)
				}
				f.Close()
			}, nil
		}
		f.Close()
	}
}

// flock takes f's lock, waiting until ctx ends. The wait is in the kernel,
// which hands the lock over the moment its holder lets go: stops of many
// addresses on one nic queue on the nic's lock during a mass failover, and
// a waiter that polled would add up to its poll interval to each of them.
// When ctx ends first, the waiting goroutine stays blocked until the
// holder lets go; the caller closes f, and a lock that goroutine still
// gets is on a file nobody holds any more, which the kernel drops with it.
func flock(ctx context.Context, f *os.File) error {
	fd := int(f.Fd())
	err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		return err
	}
	got := make(chan error, 1)
	go func() { got <- syscall.Flock(fd, syscall.LOCK_EX) }()
	select {
	case err := <-got:
		return err
	case <-ctx.Done():
		return fmt.Errorf("another operation holds it: %w", ctx.Err())
	}
}

// sameFile says whether path still names the open file f.
func sameFile(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Lstat(path)
	return err == nil && os.SameFile(fi, pi)
}
