// Package needroot is for the tests that create network namespaces: they
// need root, skip without it, and must not skip in CI, which sets
// FLOATIP_REQUIRE_ROOT=1 (.ci/run) so that a green run has run them.
package needroot

import (
	"os"
	"testing"
)

// Check skips t when the process is not root, or fails it when
// FLOATIP_REQUIRE_ROOT=1 forbids skipping.
func Check(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("FLOATIP_REQUIRE_ROOT") == "1" {
		t.Fatal("this test needs root and network namespaces, and FLOATIP_REQUIRE_ROOT=1 forbids skipping it")
	}
	t.Skip("needs root to create network namespaces (run make test as root)")
}
