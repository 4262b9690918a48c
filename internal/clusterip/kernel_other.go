//go:build !linux

package clusterip

import (
	"errors"
	"fmt"
)

// errNotLinux: nftables and the multicast membership are Linux's.
var errNotLinux = fmt.Errorf("cluster IP needs Linux: %w", errors.ErrUnsupported)

// AddBucket fails: see the Linux version.
func AddBucket(s Spec, b int) error { return errNotLinux }

// RemoveBucket fails: see the Linux version.
func RemoveBucket(s Spec, b int) (State, error) { return State{}, errNotLinux }

// Remove fails: see the Linux version.
func Remove(s Spec) error { return errNotLinux }

// Inspect fails: see the Linux version.
func Inspect(s Spec) (State, error) { return State{}, errNotLinux }

// Check fails: see the Linux version.
func Check(s Spec) error { return errNotLinux }
