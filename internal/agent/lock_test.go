package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// holdLock opens path and takes its lock, as another operation would.
func holdLock(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFlockTakesTheLockWhenItIsFreed: a waiter gets the lock once its
// holder lets go, without a poll between.
func TestFlockTakesTheLockWhenItIsFreed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.lock")
	held := holdLock(t, path)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := make(chan error, 1)
	go func() { got <- flock(context.Background(), f) }()
	if err := syscall.Flock(int(held.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("flock after the holder let go: %v", err)
	}
	// The waiter holds it now.
	if err := syscall.Flock(int(held.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("the lock is not the waiter's: %v", err)
	}
}

// TestFlockGivesUpWithItsContext: a waiter whose context ends returns an
// error that says so, and what its wait leaves behind does not keep the
// lock once the holder lets go and the waiter's file is closed.
func TestFlockGivesUpWithItsContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.lock")
	held := holdLock(t, path)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() { got <- flock(ctx, f) }()
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatalf("flock with its context ended: %v, want context.Canceled", err)
	}
	f.Close()
	if err := syscall.Flock(int(held.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	// The abandoned wait may take the lock for a moment before the kernel
	// drops it with the closed file: it must come free.
	other, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			t.Fatalf("the lock never came free after the waiter gave up: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}
