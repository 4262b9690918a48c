package netif

import "errors"

// The errors callers branch on. They live outside the _linux files so that
// the packages above netif build, and their tests run, on any OS.
var (
	// ErrLinkNotFound is returned when an interface does not exist.
	ErrLinkNotFound = errors.New("no such interface")
	// ErrNoNamespace is returned by Open for a network namespace that
	// does not exist.
	ErrNoNamespace = errors.New("no such network namespace")
	// ErrNoRoute is returned by FindIf when no connected route covers the
	// address and the configuration does not name both nic and prefix.
	ErrNoRoute = errors.New("no connected route covers the address")
	// ErrDADFailed is returned by WaitDAD when Duplicate Address Detection
	// found another node using the address (IFA_F_DADFAILED).
	ErrDADFailed = errors.New("duplicate address detection failed")
	// ErrTentative is returned by WaitDAD when ctx ended while the address
	// was still tentative.
	ErrTentative = errors.New("address still tentative")
)
