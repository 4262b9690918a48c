//go:build !linux

package ocf

import (
	"errors"
	"fmt"
	"io"
)

// openTraceFD is Linux-only: floatip manages Linux network namespaces.
func openTraceFD(fd int) (io.WriteCloser, error) {
	return nil, fmt.Errorf("open trace fd %d: %w", fd, errors.ErrUnsupported)
}

// openTraceFile is Linux-only: its safety rests on openat and O_NOFOLLOW.
func openTraceFile(base string, _ bool, _ []string, name string) (io.WriteCloser, error) {
	return nil, fmt.Errorf("open trace in %s: %w", base, errors.ErrUnsupported)
}

func isTerminal(io.Writer) bool { return false }
