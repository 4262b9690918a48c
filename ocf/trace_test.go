package ocf

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var traceNow = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)

func TestParseTrace(t *testing.T) {
	const def = "/var/lib/heartbeat/trace_ra"
	const file = "vip.start.2024-05-06.07:08:09"
	tests := []struct {
		name    string
		environ []string
		params  map[string]string
		inst    string
		want    Trace
	}{
		{name: "off", want: Trace{}},
		{name: "trace_ra false", params: map[string]string{"trace_ra": "false"}, want: Trace{}},
		{name: "trace_ra Yes is not an ocf_is_true word", params: map[string]string{"trace_ra": "Yes"}, want: Trace{}},
		{name: "trace_ra 1", params: map[string]string{"trace_ra": "1"},
			want: Trace{On: true, Dir: def, Path: def + "/IPaddr2/" + file}},
		{name: "trace_ra ja", params: map[string]string{"trace_ra": "ja"},
			want: Trace{On: true, Dir: def, Path: def + "/IPaddr2/" + file}},
		{name: "OCF_TRACE_RA=1", environ: []string{"OCF_TRACE_RA=1"},
			want: Trace{On: true, Dir: def, Path: def + "/IPaddr2/" + file}},
		{name: "OCF_TRACE_RA=0 overrides trace_ra", environ: []string{"OCF_TRACE_RA=0"}, params: map[string]string{"trace_ra": "true"},
			want: Trace{}},
		{name: "empty OCF_TRACE_RA leaves trace_ra", environ: []string{"OCF_TRACE_RA="}, params: map[string]string{"trace_ra": "on"},
			want: Trace{On: true, Dir: def, Path: def + "/IPaddr2/" + file}},
		{name: "HA_VARLIB", environ: []string{"OCF_TRACE_RA=1", "HA_VARLIB=/srv/ha"},
			want: Trace{On: true, Dir: "/srv/ha/trace_ra", Path: "/srv/ha/trace_ra/IPaddr2/" + file}},
		{name: "trace_dir", environ: []string{"HA_VARLIB=/srv/ha"}, params: map[string]string{"trace_ra": "1", "trace_dir": "/tmp/t/"},
			want: Trace{On: true, Dir: "/tmp/t", Path: "/tmp/t/IPaddr2/" + file}},
		{name: "relative trace_dir", params: map[string]string{"trace_ra": "1", "trace_dir": "t"},
			want: Trace{On: true, Dir: def, Path: def + "/IPaddr2/" + file,
				Warnings: []string{`trace_dir "t" is not an absolute path: using ` + def}}},
		{name: "relative HA_VARLIB", environ: []string{"HA_VARLIB=ha"}, params: map[string]string{"trace_ra": "1"},
			want: Trace{On: true, Dir: def, Path: def + "/IPaddr2/" + file,
				Warnings: []string{`HA_VARLIB "ha" is not an absolute path: using /var/lib/heartbeat`}}},
		{name: "trace_file fd", params: map[string]string{"trace_ra": "1", "trace_file": "7"},
			want: Trace{On: true, FD: 7}},
		{name: "OCF_TRACE_FILE fd", environ: []string{"OCF_TRACE_RA=1", "OCF_TRACE_FILE=3"},
			want: Trace{On: true, FD: 3}},
		{name: "OCF_TRACE_FILE overrides trace_file", environ: []string{"OCF_TRACE_FILE=/var/log/a/b.trace"},
			params: map[string]string{"trace_ra": "1", "trace_file": "9"},
			want:   Trace{On: true, Path: "/var/log/a/b.trace"}},
		{name: "trace_file path", params: map[string]string{"trace_ra": "1", "trace_file": "/var/log//vip.trace"},
			want: Trace{On: true, Path: "/var/log/vip.trace"}},
		{name: "trace_file fd 10", params: map[string]string{"trace_ra": "1", "trace_file": "10"},
			want: Trace{On: true, Dir: def, Path: def + "/IPaddr2/" + file,
				Warnings: []string{`trace_file "10" is neither a file descriptor from 3 to 9 nor an absolute path: using the trace directory`}}},
		{name: "trace_file fd 2", params: map[string]string{"trace_ra": "1", "trace_file": "2"},
			want: Trace{On: true, Dir: def, Path: def + "/IPaddr2/" + file,
				Warnings: []string{`trace_file "2" is neither a file descriptor from 3 to 9 nor an absolute path: using the trace directory`}}},
		{name: "crm_resource's OCF_TRACE_FILE=/dev/stderr", environ: []string{"OCF_TRACE_FILE=/dev/stderr"}, params: map[string]string{"trace_ra": "1"},
			want: Trace{On: true, FD: 2}},
		{name: "/dev/stdout", params: map[string]string{"trace_ra": "1", "trace_file": "/dev/stdout"},
			want: Trace{On: true, FD: 1}},
		{name: "/dev/fd/5", params: map[string]string{"trace_ra": "1", "trace_file": "/dev/fd/5"},
			want: Trace{On: true, FD: 5}},
		{name: "/proc/self/fd/2", params: map[string]string{"trace_ra": "1", "trace_file": "/proc/self/fd/2"},
			want: Trace{On: true, FD: 2}},
		{name: "/dev/fd/0 is no stream to write", params: map[string]string{"trace_ra": "1", "trace_file": "/dev/fd/0"},
			want: Trace{On: true, Path: "/dev/fd/0"}},
		{name: "/dev/fd/12 is a path", params: map[string]string{"trace_ra": "1", "trace_file": "/dev/fd/12"},
			want: Trace{On: true, Path: "/dev/fd/12"}},
		{name: "relative trace_file", environ: []string{"OCF_TRACE_FILE=vip.trace"}, params: map[string]string{"trace_ra": "1"},
			want: Trace{On: true, Dir: def, Path: def + "/IPaddr2/" + file,
				Warnings: []string{`OCF_TRACE_FILE "vip.trace" is neither a file descriptor from 3 to 9 nor an absolute path: using the trace directory`}}},
		{name: "trace_file in the root directory", params: map[string]string{"trace_ra": "1", "trace_file": "/vip.trace"},
			want: Trace{On: true, Dir: def, Path: def + "/IPaddr2/" + file,
				Warnings: []string{`trace_file "/vip.trace" is neither a file descriptor from 3 to 9 nor an absolute path: using the trace directory`}}},
		{name: "no instance", params: map[string]string{"trace_ra": "1"}, inst: "-",
			want: Trace{On: true, Dir: def, Path: def + "/IPaddr2/default.start.2024-05-06.07:08:09"}},
		{name: "instance with a slash", params: map[string]string{"trace_ra": "1"}, inst: "../vip",
			want: Trace{On: true, Dir: def, Path: def + "/IPaddr2/.._vip.start.2024-05-06.07:08:09"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			environ := append([]string{"OCF_RESOURCE_INSTANCE=vip"}, tt.environ...)
			switch tt.inst {
			case "-":
				environ = tt.environ
			case "":
			default:
				environ[0] = "OCF_RESOURCE_INSTANCE=" + tt.inst
			}
			got := ParseTrace(TraceOptions{Env: ParseEnv(environ), Params: tt.params, Agent: "IPaddr2", Action: "start", Now: traceNow})
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Trace{}, "Header")); diff != "" {
				t.Errorf("ParseTrace (-want +got):\n%s", diff)
			}
			if got.On != (len(got.Header) > 0) {
				t.Errorf("On %v with header %q", got.On, got.Header)
			}
		})
	}
}

func TestSafeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"vip", "vip"},
		{"vip:0", "vip:0"},
		{"a/b", "a_b"},
		{"..", "_.."},
		{".", "_."},
		{"", "_"},
	}
	for _, tt := range tests {
		if got := safeName(tt.in); got != tt.want {
			t.Errorf("safeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTraceHeader(t *testing.T) {
	got := ParseTrace(TraceOptions{
		Env:    ParseEnv([]string{"PATH=/bin", "OCF_TRACE_RA=1", "OCF_RESKEY_ip=198.18.0.100", "HA_debug=0", "SECRET=x", "OCF_RESOURCE_INSTANCE=vip"}),
		Params: map[string]string{"ip": "198.18.0.100", "cidr_netmask": "24"},
		Agent:  "IPaddr2", Action: "monitor", Now: traceNow,
	}).Header
	want := []string{
		"trace: IPaddr2 monitor of vip to /var/lib/heartbeat/trace_ra/IPaddr2/vip.monitor.2024-05-06.07:08:09",
		"env: HA_debug=0",
		"env: OCF_RESKEY_ip=198.18.0.100",
		"env: OCF_RESOURCE_INSTANCE=vip",
		"env: OCF_TRACE_RA=1",
		"param: cidr_netmask=24",
		"param: ip=198.18.0.100",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
}

func TestTraceOff(t *testing.T) {
	if _, err := (Trace{}).Open(); err == nil {
		t.Error("Open of an off trace succeeded")
	}
	var stderr bytes.Buffer
	l := NewLogger(Env{}, "IPaddr2", 1, &stderr)
	l.StartTrace(Trace{})(Success)
	l.Debugf("hidden")
	if stderr.Len() != 0 {
		t.Errorf("stderr %q", stderr.String())
	}
}

func TestLoggerTrace(t *testing.T) {
	var stderr, sys, trace bytes.Buffer
	l := NewLogger(ParseEnv([]string{"OCF_RESOURCE_INSTANCE=vip"}), "IPaddr2", 1234, &stderr)
	l.SetSyslog(&sys)
	l.now = func() time.Time { return traceNow }
	l.SetTrace(&trace)
	l.Infof("added %s", "198.18.0.100/24")
	l.Debugf("kernel: %s", "AddrOn")
	l.ExitReason("bad %s", "thing")
	l.SetTrace(nil)
	l.Debugf("after")

	wantStderr := "IPaddr2(vip)[1234]: INFO: added 198.18.0.100/24\n" +
		"ocf-exit-reason:bad thing\n"
	if diff := cmp.Diff(wantStderr, stderr.String()); diff != "" {
		t.Errorf("stderr changed by the trace (-want +got):\n%s", diff)
	}
	if strings.Contains(sys.String(), "DEBUG") {
		t.Errorf("debug line reached syslog: %q", sys.String())
	}
	wantTrace := "2024-05-06T07:08:09.123456Z IPaddr2(vip)[1234]: INFO: added 198.18.0.100/24\n" +
		"2024-05-06T07:08:09.123456Z IPaddr2(vip)[1234]: DEBUG: kernel: AddrOn\n" +
		"2024-05-06T07:08:09.123456Z IPaddr2(vip)[1234]: ERROR: ocf-exit-reason:bad thing\n"
	if diff := cmp.Diff(wantTrace, trace.String()); diff != "" {
		t.Errorf("trace (-want +got):\n%s", diff)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

func TestLoggerTraceWriteFails(t *testing.T) {
	var stderr bytes.Buffer
	l := NewLogger(Env{Instance: "vip"}, "IPaddr2", 1, &stderr)
	fw := &failWriter{}
	l.SetTrace(fw)
	l.Debugf("one")
	l.Infof("two")
	want := "IPaddr2(vip)[1]: WARNING: write trace: disk full: not tracing any more\n" +
		"IPaddr2(vip)[1]: INFO: two\n"
	if diff := cmp.Diff(want, stderr.String()); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
	if fw.n != 1 {
		t.Errorf("%d writes to a failed trace, want 1", fw.n)
	}
}
