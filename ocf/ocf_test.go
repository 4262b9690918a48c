package ocf

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/syslog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
	for _, v := range []string{"1", "2", "yes", "true"} {
		if !ParseEnv([]string{"HA_debug=" + v}).Debug {
			t.Errorf("HA_debug=%s: debug off, where ha_debug logs", v)
		}
	}
	if ParseEnv([]string{"HA_debug="}).Debug {
		t.Error("HA_debug empty: debug on")
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

// TestContextDeadline pins what each kind of meta timeout gives: a
// deadline a margin before it, capped at MaxTimeout, or none; never one in
// the past or a moment away, which would fail every action at once.
func TestContextDeadline(t *testing.T) {
	const capped = MaxTimeout - time.Second
	tests := []struct {
		name    string
		timeout string
		want    time.Duration // Env.Timeout
		left    time.Duration // the deadline's distance from now; 0: none
	}{
		{"20 s", "20000", 20 * time.Second, 19 * time.Second},
		{"2 s, a tenth as margin", "2000", 2 * time.Second, 1800 * time.Millisecond},
		{"1 ms", "1", time.Millisecond, 900 * time.Microsecond},
		{"the cap", "2147483647", MaxTimeout, capped},
		{"above the cap", "2147483648", MaxTimeout, capped},
		{"a year", "31536000000", MaxTimeout, capped},
		{"overflows time.Duration", "9223372036855", MaxTimeout, capped},
		{"wraps to 448 µs", "18446744073710", MaxTimeout, capped},
		{"max int64", "9223372036854775807", MaxTimeout, capped},
		{"beyond int64", "99999999999999999999", MaxTimeout, capped},
		{"plus sign", "+5000", 5 * time.Second, 4500 * time.Millisecond},
		{"zero", "0", 0, 0},
		{"negative", "-20000", 0, 0},
		{"min int64", "-9223372036854775808", 0, 0},
		{"beyond -int64", "-99999999999999999999", 0, 0},
		{"seconds suffix", "20s", 0, 0},
		{"not a number", "abc", 0, 0},
		{"fraction", "20000.5", 0, 0},
		{"empty", "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ParseEnv([]string{"OCF_RESKEY_CRM_meta_timeout=" + tt.timeout, "OCF_RESKEY_CRM_meta_interval=" + tt.timeout})
			if e.Timeout != tt.want || e.Interval != tt.want {
				t.Errorf("Timeout, Interval = %v, %v; want %v", e.Timeout, e.Interval, tt.want)
			}
			before := time.Now()
			ctx, cancel := e.Context(context.Background())
			defer cancel()
			after := time.Now()
			dl, ok := ctx.Deadline()
			if tt.left == 0 {
				if ok {
					t.Errorf("deadline in %v, want none", dl.Sub(before))
				}
				return
			}
			if !ok {
				t.Fatal("no deadline")
			}
			if dl.Before(before.Add(tt.left)) || dl.After(after.Add(tt.left)) {
				t.Errorf("deadline in %v, want %v", dl.Sub(before), tt.left)
			}
		})
	}
	t.Run("Env not from ParseEnv", func(t *testing.T) {
		before := time.Now()
		ctx, cancel := Env{Timeout: math.MaxInt64}.Context(context.Background())
		defer cancel()
		if dl, ok := ctx.Deadline(); !ok || dl.Before(before.Add(capped)) {
			t.Errorf("deadline %v, %v; want in %v", dl, ok, capped)
		}
	})
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

// TestLoggerLogFile: with HA_LOGFILE, every line but debug ones is also
// appended to that file, the exit reason as an ERROR, as ha_log does; a
// detached process whose stderr is /dev/null is seen there.
func TestLoggerLogFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ha.log")
	if err := os.WriteFile(path, []byte("before\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	l := NewLogger(ParseEnv([]string{"OCF_RESOURCE_INSTANCE=vip", "HA_LOGFILE=" + path}), "IPaddr2", 1234, &stderr)
	l.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	l.Infof("added")
	l.Debugf("not shown")
	l.Errorf("failed")
	l.ExitReason("bad %s", "thing")
	l.Close()
	b, _ := os.ReadFile(path)
	want := "before\n" +
		"2026-01-02T03:04:05.000000Z IPaddr2(vip)[1234]: INFO: added\n" +
		"2026-01-02T03:04:05.000000Z IPaddr2(vip)[1234]: ERROR: failed\n" +
		"2026-01-02T03:04:05.000000Z IPaddr2(vip)[1234]: ERROR: bad thing\n"
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("HA_LOGFILE (-want +got):\n%s", diff)
	}

	stderr.Reset()
	l = NewLogger(ParseEnv([]string{"HA_LOGFILE=" + filepath.Join(path, "not-a-dir")}), "floatip", 7, &stderr)
	l.Infof("still logged")
	l.Close()
	if got := stderr.String(); !strings.Contains(got, "WARNING: HA_LOGFILE: ") || !strings.Contains(got, "INFO: still logged") {
		t.Errorf("an unusable HA_LOGFILE: stderr %q", got)
	}
}

func TestRun(t *testing.T) {
	// An action that ignores its context and never returns: Run must
	// return at the deadline all the same.
	slow := func(ctx context.Context) Status {
		select {}
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
		{"red \x1b[31mRED\x1b[0m", `ocf-exit-reason:red \x1b[31mRED\x1b[0m`},
		{"c1 csi \u009b2J", `ocf-exit-reason:c1 csi \x9b2J`},
		{"bidi \u202edesrever", `ocf-exit-reason:bidi \u202edesrever`},
		{"line\u2028separator", `ocf-exit-reason:line\u2028separator`},
		{"zero\u200bwidth", `ocf-exit-reason:zero\u200bwidth`},
		{"tag \U000e0041", `ocf-exit-reason:tag \U000e0041`},
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

// TestLogTagIsPrintable: the resource's id in every log line's tag is
// escaped as the messages are; it comes from the environment.
func TestLogTagIsPrintable(t *testing.T) {
	var stderr bytes.Buffer
	NewLogger(Env{Instance: "vip\x1b]0;owned\x07\n"}, "IPaddr2", 7, &stderr).Infof("ns %s", "a\x1b[2Jb")
	want := `IPaddr2(vip\x1b]0;owned\x07)[7]: INFO: ns a\x1b[2Jb` + "\n"
	if got := stderr.String(); got != want {
		t.Errorf("log line %q, want %q", got, want)
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
		if got := ParseEnv(tc.env).SpeaksOCF11(); got != tc.want {
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
		{"yes", true, true}, {"ja", true, true}, {"Y", false, false}, {"y", false, false},
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

// ocfShellfuncs is resource-agents' shell library, whose ocf_is_true
// IsTrue must match.
const ocfShellfuncs = "/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs"

// TestIsTrue: IsTrue takes exactly the words ocf_is_true takes, as
// resource-agents 4.12 to 4.18 and main write it: not y, not Yes, not On,
// nothing with spaces. Where ocf-shellfuncs is installed, it answers too.
func TestIsTrue(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"yes", true}, {"true", true}, {"1", true}, {"YES", true}, {"TRUE", true},
		{"True", true}, {"ja", true}, {"on", true}, {"ON", true},
		{"y", false}, {"Y", false}, {"Yes", false}, {"On", false}, {"tRUE", false},
		{"JA", false}, {"Ja", false}, {"t", false}, {"2", false}, {"01", false},
		{" yes", false}, {"yes ", false}, {"", false}, {"no", false}, {"false", false}, {"0", false},
	}
	for _, tt := range tests {
		if got := IsTrue(tt.in); got != tt.want {
			t.Errorf("IsTrue(%q) = %t, want %t", tt.in, got, tt.want)
		}
	}
	if _, err := os.Stat(ocfShellfuncs); err != nil {
		t.Logf("%v: not asking ocf_is_true itself", err)
		return
	}
	for _, tt := range tests {
		// ocf-shellfuncs runs setup code that wants OCF_ROOT; the word is
		// $1, never part of the script.
		cmd := exec.Command("sh", "-c", `. "$0" >/dev/null 2>&1; ocf_is_true "$1"`, ocfShellfuncs, tt.in)
		cmd.Env = []string{"OCF_ROOT=/usr/lib/ocf", "PATH=/usr/bin:/bin"}
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("run ocf_is_true: %v", err)
		}
		if shell := err == nil; shell != tt.want {
			t.Errorf("ocf_is_true %q is %t, the table says %t", tt.in, shell, tt.want)
		}
	}
}

// TestLogTagIsOnePrintableLine: the resource's name and the agent's come
// from the environment and argv[0], and every log line carries them. A
// line break there must not start a line of its own, least of all an
// ocf-exit-reason line on a success.
func TestLogTagIsOnePrintableLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ha.log")
	var stderr bytes.Buffer
	l := NewLogger(ParseEnv([]string{"OCF_RESOURCE_INSTANCE=v\nocf-exit-reason:forged\n", "HA_LOGFILE=" + path}), "IP\taddr2", 1234, &stderr)
	l.Infof("added")
	l.Close()
	b, _ := os.ReadFile(path)
	for name, out := range map[string]string{"stderr": stderr.String(), "HA_LOGFILE": string(b)} {
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], `IP\x09addr2(v ocf-exit-reason:forged)[1234]: INFO: added`) {
			t.Errorf("%s: %q, want one line with the tag escaped", name, out)
		}
	}
}

// TestSyslogLine: the syslog writer adds the pid to the tag itself, as
// logger -t IPaddr2(vip) -i would: the tag must not carry it again. Each
// line has its level's priority, as ha_log gives it (logger -p
// facility.err), so that a rule on daemon.err sees the agent's errors.
func TestSyslogLine(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer func(d func(syslog.Priority, string) (*syslog.Writer, error)) { dialSyslog = d }(dialSyslog)
	dialSyslog = func(p syslog.Priority, tag string) (*syslog.Writer, error) {
		return syslog.Dial("unixgram", sock, p, tag)
	}
	l := NewLogger(ParseEnv([]string{"OCF_RESOURCE_INSTANCE=vip", "HA_LOGFACILITY=daemon"}), "IPaddr2", 1234, io.Discard)
	l.Infof("added")
	l.Warnf("odd")
	l.Errorf("failed")
	l.ExitReason("bad")
	l.Close()
	tag := `IPaddr2\(vip\)\[` + strconv.Itoa(os.Getpid()) + `\]: `
	for _, want := range []string{`<30>.* ` + tag + `INFO: added`, `<28>.* ` + tag + `WARNING: odd`, `<27>.* ` + tag + `ERROR: failed`, `<27>.* ` + tag + `ERROR: bad`} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 1024)
		n, err := c.Read(b)
		if err != nil {
			t.Fatal(err)
		}
		if re := regexp.MustCompile("^" + want + "\n$"); !re.Match(b[:n]) {
			t.Errorf("syslog got %q, want it to match %s", b[:n], re)
		}
	}
}
