package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/floatip/floatip/internal/config"
)

// lockPoll is how often a waiting operation retries the lock; operations
// on one address take milliseconds.
const lockPoll = 5 * time.Millisecond

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
func (a *Agent) lock(ctx context.Context, cfg *config.Config) (func(remove bool), error) {
	noop := func(bool) {}
	if err := os.MkdirAll(a.Env.RscTmp, 0o755); err != nil {
		a.Log.Warnf("no lock for %s: %v", cfg.IP, err)
		return noop, nil
	}
	path := filepath.Join(a.Env.RscTmp, "floatip-"+cfg.IP.String()+".lock")
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
				}
				f.Close()
			}, nil
		}
		f.Close()
	}
}

func flock(ctx context.Context, f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("another operation holds it: %w", ctx.Err())
		case <-time.After(lockPoll):
		}
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
