//go:build linux

package labtest

import (
	"testing"
	"unicode/utf8"

	"github.com/floatip/floatip/tests/lab"
)

// CheckReason: a failure has exactly one exit reason, a success or "not
// running" none, and the reason is one short line of valid UTF-8 whatever
// the input was.
func CheckReason(t *testing.T, step string, res lab.Result) {
	t.Helper()
	reasons := ExitReasons(res.Stderr)
	switch {
	case res.Code == 0 || res.Code == 7:
		if len(reasons) != 0 {
			t.Errorf("%s: exit %d with exit reasons %q", step, res.Code, reasons)
		}
	case len(reasons) != 1:
		t.Errorf("%s: exit %d with %d exit reasons, want 1:\n%s", step, res.Code, len(reasons), res.Stderr)
	case len(reasons[0]) > 512 || !utf8.ValidString(reasons[0]) || len(reasons[0]) == len("ocf-exit-reason:"):
		t.Errorf("%s: exit reason is not one short line of text (%d bytes): %.300q", step, len(reasons[0]), reasons[0])
	}
}
