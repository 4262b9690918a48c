// Package packaging holds the tests of what floatip ships and how: make
// install, the .deb and the .rpm, the version, the release and its
// tarball, and the support matrix of the stacks CI runs on.
package packaging

import (
	"os"
	"testing"

	"github.com/floatip/floatip/tests/internal/labtest"
)

func TestMain(m *testing.M) {
	os.Exit(labtest.Main(m))
}
