//go:build linux

package labtest

import (
	"path/filepath"
)

// GuideDir is the admin guide, and ParametersPage and ReasonsPage its
// pages of the parameters and of the exit reasons.
var (
	GuideDir       = filepath.Join(Root, "docs/admin")
	ParametersPage = filepath.Join(GuideDir, "parameters.md")
	ReasonsPage    = filepath.Join(GuideDir, "troubleshooting.md")
)
