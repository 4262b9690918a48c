package ocf

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStatusString(t *testing.T) {
	tests := []struct {
		s    Status
		want string
	}{
		{Success, "OCF_SUCCESS"},
		{ErrGeneric, "OCF_ERR_GENERIC"},
		{ErrConfigured, "OCF_ERR_CONFIGURED"},
		{NotRunning, "OCF_NOT_RUNNING"},
		{FailedPromoted, "OCF_FAILED_PROMOTED"},
		{Status(42), "Status(42)"},
		{Status(-1), "Status(-1)"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("Status(%d).String() = %q, want %q", int(tt.s), got, tt.want)
		}
	}
}

func TestParseEnv(t *testing.T) {
	e := ParseEnv([]string{
		"OCF_RESKEY_ip=198.18.0.100",
		"OCF_RESKEY_nic=",
		"OCF_RESKEY_CRM_meta_timeout=20000",
		"OCF_RESKEY_CRM_meta_interval=10000",
		"OCF_RESKEY_CRM_meta_clone_max=2",
		"OCF_RESOURCE_INSTANCE=vip",
		"OCF_CHECK_LEVEL=10",
		"HA_RSCTMP=/tmp/x",
		"HA_debug=1",
		"HA_LOGFACILITY=daemon",
		"PATH=/bin",
		"garbage",
	})
	if got := e.Params["ip"]; got != "198.18.0.100" {
		t.Errorf("ip = %q", got)
	}
	if v, ok := e.Params["nic"]; !ok || v != "" {
		t.Errorf("nic = %q, %v; want present and empty", v, ok)
	}
	if _, ok := e.Params["CRM_meta_timeout"]; ok {
		t.Error("meta attribute leaked into Params")
	}
	if e.Meta["clone_max"] != "2" {
		t.Errorf("clone_max = %q", e.Meta["clone_max"])
	}
	if e.Timeout != 20*time.Second || e.Interval != 10*time.Second {
		t.Errorf("timeout %v interval %v", e.Timeout, e.Interval)
	}
	if e.Instance != "vip" || e.CheckLevel != 10 || e.RscTmp != "/tmp/x" || !e.Debug || e.LogFacility != "daemon" {
		t.Errorf("env = %+v", e)
	}

	d := ParseEnv(nil)
	if d.RscTmp != DefaultRscTmp || d.Debug || d.Interval != 0 || d.Timeout != 0 {
		t.Errorf("defaults = %+v", d)
	}
	if n := ParseEnv([]string{"HA_LOGFACILITY=none", "HA_debug=0"}); n.LogFacility != "" || n.Debug {
		t.Errorf("none/0 = %+v", n)
	}
}

func TestIsProbe(t *testing.T) {
	tests := []struct {
		name   string
		env    []string
		action string
		want   bool
	}{
		{"monitor interval 0", []string{"OCF_RESKEY_CRM_meta_interval=0"}, "monitor", true},
		{"recurring monitor", []string{"OCF_RESKEY_CRM_meta_interval=10000"}, "monitor", false},
		{"monitor by hand", nil, "monitor", true},
		{"start interval 0", []string{"OCF_RESKEY_CRM_meta_interval=0"}, "start", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseEnv(tt.env).IsProbe(tt.action); got != tt.want {
				t.Errorf("IsProbe = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestContextDeadline(t *testing.T) {
	tests := []struct {
		timeout string
		margin  time.Duration
	}{
		{"20000", time.Second},
		{"2000", 200 * time.Millisecond},
	}
	for _, tt := range tests {
		e := ParseEnv([]string{"OCF_RESKEY_CRM_meta_timeout=" + tt.timeout})
		before := time.Now()
		ctx, cancel := e.Context(context.Background())
		dl, ok := ctx.Deadline()
		cancel()
		if !ok {
			t.Fatalf("timeout %s: no deadline", tt.timeout)
		}
		want := before.Add(e.Timeout - tt.margin)
		if d := dl.Sub(want); d < 0 || d > time.Second {
			t.Errorf("timeout %s: deadline off by %v", tt.timeout, d)
		}
	}
	ctx, cancel := ParseEnv(nil).Context(context.Background())
	defer cancel()
	if _, ok := ctx.Deadline(); ok {
		t.Error("deadline without a timeout")
	}
}

func TestLoggerFormat(t *testing.T) {
	var stderr, sys bytes.Buffer
	l := NewLogger(ParseEnv([]string{"OCF_RESOURCE_INSTANCE=vip"}), "IPaddr2", 1234, &stderr)
	l.SetSyslog(&sys)
	l.Infof("added %s", "198.18.0.100/24")
	l.Debugf("not shown")
	l.Warnf("two\nlines")
	l.ExitReason("bad %s", "thing")
	want := "IPaddr2(vip)[1234]: INFO: added 198.18.0.100/24\n" +
		"IPaddr2(vip)[1234]: WARNING: two lines\n" +
		"ocf-exit-reason:bad thing\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
	}
	if got := sys.String(); !strings.Contains(got, "INFO: added") || strings.Contains(got, "not shown") || !strings.Contains(got, "ERROR: bad thing") {
		t.Errorf("syslog got %q", got)
	}

	stderr.Reset()
	d := NewLogger(ParseEnv([]string{"HA_debug=1"}), "floatip", 7, &stderr)
	d.Debugf("shown")
	if got := stderr.String(); got != "floatip[7]: DEBUG: shown\n" {
		t.Errorf("debug line = %q", got)
	}
}

func TestRun(t *testing.T) {
	// An action that ignores its context: Run must return at the
	// deadline all the same, so this sleep is never waited out.
	slow := func(ctx context.Context) Status {
		time.Sleep(time.Hour)
		return Success
	}
	actions := map[string]Action{
		"start":   func(context.Context) Status { return Success },
		"monitor": func(context.Context) Status { return NotRunning },
		"crash":   func(context.Context) Status { panic("boom") },
		"slow":    slow,
	}
	tests := []struct {
		action string
		want   Status
		reason string
	}{
		{"start", Success, ""},
		{"monitor", NotRunning, ""},
		{"promote", ErrUnimplemented, `ocf-exit-reason:action "promote" is not implemented`},
		{"crash", ErrGeneric, "ocf-exit-reason:internal error in crash: boom"},
		{"slow", ErrGeneric, "ocf-exit-reason:slow did not finish in time"},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			var stderr bytes.Buffer
			log := NewLogger(Env{}, "test", 1, &stderr)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if got := Run(ctx, tt.action, actions, log); got != tt.want {
				t.Errorf("Run(%s) = %v, want %v", tt.action, got, tt.want)
			}
			if tt.reason == "" && strings.Contains(stderr.String(), "ocf-exit-reason") {
				t.Errorf("unexpected exit reason: %s", stderr.String())
			}
			if tt.reason != "" && !strings.Contains(stderr.String(), tt.reason) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.reason)
			}
		})
	}
}

// TestOneExitReason: an action that fails on its own deadline while Run
// reports the timeout still leaves one exit reason, the first.
func TestOneExitReason(t *testing.T) {
	var stderr bytes.Buffer
	log := NewLogger(Env{}, "test", 1, &stderr)
	reported, finished := make(chan struct{}), make(chan struct{})
	actions := map[string]Action{"start": func(ctx context.Context) Status {
		defer close(finished)
		<-ctx.Done()
		<-reported
		return Fail(log, ErrGeneric, "gave up: %v", ctx.Err())
	}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if st := Run(ctx, "start", actions, log); st != ErrGeneric {
		t.Errorf("Run = %v, want OCF_ERR_GENERIC", st)
	}
	close(reported)
	<-finished
	want := "ocf-exit-reason:start did not finish in time: context canceled\n" +
		"test[1]: ERROR: gave up: context canceled\n"
	if diff := cmp.Diff(want, stderr.String()); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
}

func TestExitReasonIsOnePrintableLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nic [eth\xff\xfe]", `ocf-exit-reason:nic [eth\xff\xfe]`},
		{"a\nocf-exit-reason:forged", "ocf-exit-reason:a ocf-exit-reason:forged"},
		{"tab\there", `ocf-exit-reason:tab\x09here`},
		{"café", "ocf-exit-reason:café"},
		{"no\uffffxml", `ocf-exit-reason:no\uffffxml`},
		{strings.Repeat("x", 10000), "ocf-exit-reason:" + strings.Repeat("x", maxLine) + "..."},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		NewLogger(Env{}, "t", 1, &stderr).ExitReason("%s", tt.in)
		if got := strings.TrimSuffix(stderr.String(), "\n"); got != tt.want {
			t.Errorf("ExitReason(%q) printed %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSpeaksOCF11(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want bool
	}{
		{nil, false},
		{[]string{"OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=1"}, true},
		{[]string{"OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=0"}, false},
		{[]string{"OCF_RA_VERSION_MAJOR=1"}, false},
		{[]string{"OCF_RA_VERSION_MAJOR=2", "OCF_RA_VERSION_MINOR=0"}, true},
		{[]string{"OCF_RA_VERSION_MAJOR=x", "OCF_RA_VERSION_MINOR=1"}, false},
		{[]string{"OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=12"}, true},
	} {
		if got := SpeaksOCF11(tc.env); got != tc.want {
			t.Errorf("SpeaksOCF11(%q) = %v, want %v", tc.env, got, tc.want)
		}
	}
}

func TestParseBool(t *testing.T) {
	for _, w := range BoolWords() {
		if _, ok := ParseBool(w); !ok {
			t.Errorf("ParseBool(%q) refuses a word of BoolWords", w)
		}
	}
	tests := []struct {
		in        string
		value, ok bool
	}{
		{"yes", true, true}, {"ja", true, true}, {"Y", true, true},
		{"", false, true}, {"nein", false, true}, {"OFF", false, true},
		{"perhaps", false, false}, {"Yes ", false, false}, {"2", false, false}, {"t", false, false},
	}
	for _, tt := range tests {
		if v, ok := ParseBool(tt.in); v != tt.value || ok != tt.ok {
			t.Errorf("ParseBool(%q) = %t, %t; want %t, %t", tt.in, v, ok, tt.value, tt.ok)
		}
		if IsTrue(tt.in) != (tt.value && tt.ok) {
			t.Errorf("IsTrue(%q) = %t", tt.in, IsTrue(tt.in))
		}
	}
}
