// Package tests holds floatip's integration tests of the agent itself:
// the real binary and the real heartbeat:IPaddr2, ocf-tester and strace,
// run inside network namespaces that each test creates and removes. They
// need root; without it they skip, unless FLOATIP_REQUIRE_ROOT=1 (set by
// .ci/run) makes that a failure. What the tests share is in
// tests/internal/labtest; the parity suites are in tests/parity, the
// packages' and the release's tests in tests/packaging (CONTRIBUTING.md).
package tests

import (
	"os"
	"testing"

	"github.com/floatip/floatip/tests/internal/labtest"
)

func TestMain(m *testing.M) {
	os.Exit(labtest.Main(m))
}
