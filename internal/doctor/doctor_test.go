package doctor

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestPrint: the exit code is the worst finding's, a SKIP counting
// as a warning, and a fix is printed only under a finding that is not OK.
func TestPrint(t *testing.T) {
	tests := []struct {
		name   string
		levels []Level
		want   Status
	}{
		{"nothing to check", nil, ExitOK},
		{"all OK", []Level{OK, OK}, ExitOK},
		{"a warning", []Level{OK, Warn, OK}, ExitWarn},
		{"a check not made", []Level{OK, Skip}, ExitWarn},
		{"a failure among warnings", []Level{Warn, Fail, Skip}, ExitFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fs []Finding
			for i, l := range tt.levels {
				fs = append(fs, Finding{Level: l, Check: "c", What: fmt.Sprint("finding ", i), Fix: fmt.Sprint("fix ", i)})
			}
			var out bytes.Buffer
			if st := Print(&out, fs); st != tt.want {
				t.Errorf("exit %d, want %d", st, tt.want)
			}
			for i, l := range tt.levels {
				line := fmt.Sprintf("%-4s  c            finding %d\n", l, i)
				if !strings.Contains(out.String(), line) {
					t.Errorf("output lacks %q:\n%s", line, out.String())
				}
				if hasFix := strings.Contains(out.String(), fmt.Sprint("fix: fix ", i)); hasFix != (l != OK) {
					t.Errorf("finding %d (%v): fix printed %v", i, l, hasFix)
				}
			}
		})
	}
}
