package clusterip

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

// TestKernelHint: an errno that says the kernel does not know a family,
// a protocol or an expression names the option that is missing.
func TestKernelHint(t *testing.T) {
	for _, tc := range []struct {
		err   error
		lacks error
		want  error
	}{
		{unix.EPROTONOSUPPORT, ErrNoHash, ErrNoNFTables},
		{unix.ENOENT, ErrNoHash, ErrNoHash},
		{unix.EOPNOTSUPP, ErrNoHash, ErrNoHash},
		{unix.EAFNOSUPPORT, ErrNoARP, ErrNoARP},
		{fmt.Errorf("conn.Receive: %w", unix.EAFNOSUPPORT), ErrNoARP, ErrNoARP},
	} {
		if got := kernelHint(tc.err, tc.lacks); !errors.Is(got, tc.want) || !errors.Is(got, tc.err) {
			t.Errorf("kernelHint(%v, %v) = %v, want %v wrapping the error", tc.err, tc.lacks, got, tc.want)
		}
	}
	for _, err := range []error{unix.EPERM, unix.EBUSY} {
		got := kernelHint(err, ErrNoHash)
		if errors.Is(got, ErrNoHash) || errors.Is(got, ErrNoNFTables) || !errors.Is(got, err) {
			t.Errorf("kernelHint(%v) = %v, want the error with no lack named", err, got)
		}
	}
}
