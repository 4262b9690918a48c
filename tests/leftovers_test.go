package tests

import (
	"testing"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// This file holds what the reliability tests use to check that an
// agent left nothing behind: the state of a lab host, the processes and
// sockets in its namespace, the files in HA_RSCTMP. It also runs the agent
// inside a host without "ip netns exec", for the tests that run it
// thousands of times.

func fastHeartbeat(t *testing.T, h *lab.Host) *labtest.AgentRunner {
	r := labtest.Heartbeat(t, h)
	r.Thread = true
	return r
}
