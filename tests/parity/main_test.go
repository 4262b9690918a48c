// Package parity holds the parity suites: floatip run beside
// heartbeat:IPaddr2 (Debian's 4.12 live, the newest release and the main
// branch's clone mode as recorded facts under testdata, or live where
// they are set up) and ocf-tester, action by action, in network
// namespaces. Every deliberate difference is pinned here and in
// docs/compatibility.md.
package parity

import (
	"os"
	"testing"

	"github.com/floatip/floatip/tests/internal/labtest"
)

func TestMain(m *testing.M) {
	os.Exit(labtest.Main(m))
}
