package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/floatip/floatip/ocf"
	"github.com/google/go-cmp/cmp"
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

// TestExamineInvalid: a configuration that does not validate is one FAIL
// with validate-all's code, reason and fix, and the other checks are
// skipped; an error that is no *Invalid still reads as one.
func TestExamineInvalid(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want []Finding
	}{
		{"invalid", &Invalid{Status: ocf.ErrConfigured, Reason: "Invalid interface name [x]", Fix: "name an interface"}, []Finding{
			{Fail, "config", "the configuration does not validate here (OCF_ERR_CONFIGURED): Invalid interface name [x]", "name an interface"},
			{Skip, "checks", "the other checks need a configuration that validates", ""},
		}},
		{"any other error", errors.New("read the routes: permission denied"), []Finding{
			{Fail, "config", "the configuration does not validate here (OCF_ERR_GENERIC): read the routes: permission denied", "run the doctor as root"},
			{Skip, "checks", "the other checks need a configuration that validates", ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Doctor{Resolve: func() (*Subject, func(), error) { return nil, nil, tt.err }}
			if diff := cmp.Diff(tt.want, d.Examine(context.Background())); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExitCodes: the doctor's codes are 0, 1 and 3, and none of them is
// the 2 that floatip exits with for a command line it cannot read, so
// that a script tells a failed check from a wrong call.
func TestExitCodes(t *testing.T) {
	got := []int{ExitOK.Code(), ExitWarn.Code(), ExitFail.Code()}
	if diff := cmp.Diff([]int{0, 1, 3}, got); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
	for _, c := range got {
		if c == ocf.ErrArgs.Code() {
			t.Errorf("the doctor exits %d, the code of a usage error", c)
		}
	}
}

// TestStatusNames: the doctor's codes are named as its own.
func TestStatusNames(t *testing.T) {
	got := []string{ExitOK.String(), ExitWarn.String(), ExitFail.String(), Status(5).String()}
	want := []string{"DOCTOR_OK", "DOCTOR_WARN", "DOCTOR_FAIL", "doctor.Status(5)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}
