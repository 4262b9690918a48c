//go:build linux

// Package labtest holds what the integration tests under tests/ share:
// the floatip binary built for the run (Main, Binary), the labs a test
// makes and removes (NewLab), the agents run in them (AgentRunner,
// Floatip, Heartbeat), the state of a host before and after (HostState,
// CheckNothingLeft), the waits on a condition (Eventually, WaitFor,
// BurstOver), the clone labs and the cluster stacks' tools. The tests
// import it, as mdlayher/ndp's tests import its internal/ndptest.
package labtest

import (
	"os"
	"path/filepath"
)

// Root is the module's root directory, found from the test's working
// directory (its package's directory, which go test sets), so that a
// helper finds the tree's files from any package under tests/.
var Root = func() string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			panic("labtest: no go.mod above " + dir)
		}
	}
}()
