package tests

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/internal/labtest"
)

// traceLine is how every line of a trace starts: a timestamp, then the
// log line's tag (the binary is called floatip here).
var traceLine = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d) floatip\(vip\)\[\d+\]: (DEBUG|INFO|WARNING|ERROR): `)

// traceMark is the first line of every trace file floatip creates, by
// which it knows the files it may append to.
const traceMark = "# floatip trace\n"

// readTrace returns a trace file's text, having checked that it is a
// regular file of mode 0600 that starts with floatip's mark, and that
// every other line carries a timestamp.
func readTrace(t *testing.T, p string) string {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o600 {
		t.Errorf("%s: mode %v, want -rw-------", p, fi.Mode())
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	text, ok := strings.CutPrefix(string(b), traceMark)
	if !ok {
		t.Errorf("%s: does not start with floatip's mark %q", filepath.Base(p), traceMark)
	}
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if !traceLine.MatchString(l) {
			t.Errorf("%s: line without a timestamp and tag: %q", filepath.Base(p), l)
		}
	}
	return string(b)
}

func wantIn(t *testing.T, name, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", name, w, text)
		}
	}
}

// TestTraceRA: with trace_ra each action writes its own file under
// trace_dir/<type>/, named <instance>.<action>.<date>, holding the kernel
// requests with their answers and the decisions; stderr is unchanged.
func TestTraceRA(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	a := labtest.Floatip(t, l.Host("a"))
	dir := filepath.Join(t.TempDir(), "trace_ra")
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "arp_bg=false", "arp_count=1", "trace_ra=1", "trace_dir=" + dir}

	var stderr []string
	stderr = append(stderr, a.Expect(0, "start", p...).Stderr)
	stderr = append(stderr, a.Expect(0, "monitor", append(slices.Clone(p), "OCF_RESKEY_CRM_meta_interval=10000")...).Stderr)
	stderr = append(stderr, a.Expect(0, "stop", p...).Stderr)
	for _, s := range stderr {
		if strings.Contains(s, "DEBUG") {
			t.Errorf("debug lines on stderr, which is no terminal:\n%s", s)
		}
	}

	for _, d := range []string{dir, filepath.Join(dir, "floatip")} {
		fi, err := os.Lstat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != os.ModeDir|0o700 {
			t.Errorf("%s: mode %v, want drwx------", d, fi.Mode())
		}
	}
	files, err := os.ReadDir(filepath.Join(dir, "floatip"))
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^vip\.(start|monitor|stop)\.\d{4}-\d\d-\d\d\.\d\d:\d\d:\d\d$`)
	byAction := map[string]string{}
	for _, f := range files {
		m := name.FindStringSubmatch(f.Name())
		if m == nil {
			t.Errorf("unexpected file %s", f.Name())
			continue
		}
		byAction[m[1]] = readTrace(t, filepath.Join(dir, "floatip", f.Name()))
	}
	if len(files) != 3 || len(byAction) != 3 {
		t.Fatalf("trace files %v, want one per action", files)
	}
	wantIn(t, "start trace", byAction["start"],
		"DEBUG: trace: floatip start of vip to "+dir+"/floatip/vip.start.",
		"DEBUG: env: OCF_RESKEY_trace_ra=1\n",
		"DEBUG: param: cidr_netmask=24\n",
		`DEBUG: kernel: AddrOn(eth0, `+labtest.VIP+`/24, "") = <nil> <nil>`,
		"INFO: Adding "+labtest.VIP+"/24 ",
		"DEBUG: kernel: AddAddr(eth0, {Prefix:"+labtest.VIP+"/24 ",
		"DEBUG: announcer eth0 "+labtest.VIP+": Announce(0) = <nil>",
		"DEBUG: trace: exit 0 (OCF_SUCCESS)\n",
	)
	wantIn(t, "monitor trace", byAction["monitor"],
		`DEBUG: kernel: AddrOn(eth0, `+labtest.VIP+`/24, "") = &{Prefix:`+labtest.VIP+`/24 `,
		"DEBUG: trace: exit 0 (OCF_SUCCESS)\n",
	)
	wantIn(t, "stop trace", byAction["stop"],
		"DEBUG: kernel: DelAddr(eth0, "+labtest.VIP+"/24) = <nil>",
		"INFO: Removed "+labtest.VIP+"/24 from eth0",
		"DEBUG: trace: exit 0 (OCF_SUCCESS)\n",
	)
}

// TestTraceFileAppends: trace_file names one file that every action
// appends to, creating it and its directory as needed.
func TestTraceFileAppends(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	a := labtest.Floatip(t, l.Host("a"))
	file := filepath.Join(t.TempDir(), "new", "vip.trace")
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "arp_bg=false", "arp_count=1", "trace_ra=true", "trace_file=" + file}
	a.Expect(0, "start", p...)
	a.Expect(0, "stop", p...)
	text := readTrace(t, file)
	start := strings.Index(text, "DEBUG: trace: floatip start of vip to "+file+"\n")
	stop := strings.Index(text, "DEBUG: trace: floatip stop of vip to "+file+"\n")
	if start < 0 || stop < start {
		t.Errorf("want the start trace, then the stop trace:\n%s", text)
	}
	if fi, err := os.Lstat(filepath.Dir(file)); err != nil {
		t.Error(err)
	} else if fi.Mode() != os.ModeDir|0o700 {
		t.Errorf("trace_file's directory: mode %v, want drwx------", fi.Mode())
	}

	a.Expect(7, "monitor", p...)
	if b, _ := os.ReadFile(file); !strings.HasPrefix(string(b), text) || !strings.Contains(string(b), "exit 7 (OCF_NOT_RUNNING)") {
		t.Errorf("trace after a monitor:\n%s", b)
	}
}

// TestTraceFileOnlyFloatips: a trace_file that floatip did not create is
// never written to, though root could: whoever may set a resource's
// parameters would otherwise have root append to /etc/ld.so.preload.
// heartbeat:IPaddr2 writes to any path. The action runs all the same,
// with a warning.
func TestTraceFileOnlyFloatips(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	a := labtest.Floatip(t, l.Host("a"))
	dir := t.TempDir()
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		name string
		mode os.FileMode
		text string
		want string
	}{
		{"foreign", 0o600, "/usr/lib/preloaded.so\n", "was not made by floatip"},
		{"readable", 0o644, traceMark + "a trace made readable\n", "has mode 0644, not 0600"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, tt.name)
			if err := os.WriteFile(file, []byte(tt.text), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(file, old, old); err != nil {
				t.Fatal(err)
			}
			p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "arp_bg=false", "arp_count=1", "trace_ra=1", "trace_file=" + file}
			res := a.Expect(0, "start", p...)
			wantIn(t, "start's stderr", res.Stderr, "WARNING: open trace "+file+": "+tt.want)
			a.Expect(0, "monitor", p...)
			a.Expect(0, "stop", p...)
			fi, err := os.Lstat(file)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(file); string(b) != tt.text || !fi.ModTime().Equal(old) || fi.Mode() != tt.mode {
				t.Errorf("%s is now %v %v %q, was %v %v %q", file, fi.Mode(), fi.ModTime(), b, tt.mode, old, tt.text)
			}
		})
	}
}

// TestTraceSymlinkNotFollowed: a symbolic link planted where the trace
// would go is not followed; the action succeeds all the same, with a
// warning.
func TestTraceSymlinkNotFollowed(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	a := labtest.Floatip(t, l.Host("a"))
	top := t.TempDir()
	victim := filepath.Join(top, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(top, "elsewhere")
	os.Mkdir(elsewhere, 0o700)

	// At a trace_file path.
	link := filepath.Join(top, "vip.trace")
	symlink(t, victim, link)
	// At the <type> directory.
	typeLink := filepath.Join(top, "bytype")
	os.Mkdir(typeLink, 0o700)
	symlink(t, elsewhere, filepath.Join(typeLink, "floatip"))
	// At the files the next seconds' actions would write.
	files := filepath.Join(top, "byfile")
	os.MkdirAll(filepath.Join(files, "floatip"), 0o700)
	now := time.Now()
	for s := -1; s < 20; s++ {
		ts := now.Add(time.Duration(s) * time.Second).Format("2006-01-02.15:04:05")
		for _, act := range []string{"start", "stop"} {
			symlink(t, victim, filepath.Join(files, "floatip", "vip."+act+"."+ts))
		}
	}

	tests := []struct {
		name  string
		where string
		warn  string
	}{
		{"trace_file", "trace_file=" + link, "WARNING: open trace " + link + ": is a symbolic link, which a trace does not follow: not tracing"},
		{"type directory", "trace_dir=" + typeLink, "WARNING: open trace directory " + typeLink + "/floatip: is a symbolic link, which a trace does not follow: not tracing"},
		{"file", "trace_dir=" + files, ": is a symbolic link, which a trace does not follow: not tracing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "arp_bg=false", "arp_count=1", "trace_ra=1", tt.where}
			for _, act := range []string{"start", "stop"} {
				res := a.Expect(0, act, p...)
				wantIn(t, act+" stderr", res.Stderr, tt.warn)
				if act == "start" {
					if got := labtest.VIPOn(t, l.Host("a"), labtest.VIP); len(got) != 1 {
						t.Errorf("after start: %+v", got)
					}
				}
			}
			if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
				t.Errorf("victim now %q", b)
			}
			if left, _ := os.ReadDir(elsewhere); len(left) != 0 {
				t.Errorf("written through the directory link: %v", left)
			}
		})
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestTraceEnv: OCF_TRACE_RA=1 turns the trace on as trace_ra does, into
// $HA_VARLIB/trace_ra by default, and OCF_TRACE_FILE names a descriptor
// the caller opened.
func TestTraceEnv(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	a := labtest.Floatip(t, l.Host("a"))
	varlib := t.TempDir()
	p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "OCF_TRACE_RA=1", "HA_VARLIB=" + varlib}
	a.Expect(7, "monitor", p...)
	got, _ := filepath.Glob(filepath.Join(varlib, "trace_ra", "floatip", "vip.monitor.*"))
	if len(got) != 1 {
		t.Fatalf("traces %v, want one monitor trace", got)
	}
	wantIn(t, "monitor trace", readTrace(t, got[0]),
		"DEBUG: env: OCF_TRACE_RA=1\n",
		`DEBUG: kernel: AddrOn(eth0, `+labtest.VIP+`/24, "") = <nil> <nil>`,
		"DEBUG: trace: exit 7 (OCF_NOT_RUNNING)\n")

	fd := filepath.Join(t.TempDir(), "fd.trace")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env := labtest.OCFEnv(a.Rsctmp, append(slices.Clone(p), "OCF_TRACE_FILE=5")...)
	res, err := l.Host("a").Run(ctx, env, "sh", "-c", `exec "$0" monitor 5>>"$1"`, labtest.Binary, fd)
	if err != nil || res.Code != 7 {
		t.Fatalf("monitor with OCF_TRACE_FILE=5: %d %v\n%s", res.Code, err, res.Stderr)
	}
	b, err := os.ReadFile(fd)
	if err != nil {
		t.Fatal(err)
	}
	wantIn(t, "fd 5 trace", string(b), "DEBUG: trace: floatip monitor of vip to fd 5\n", "DEBUG: trace: exit 7 (OCF_NOT_RUNNING)\n")
	if got, _ := filepath.Glob(filepath.Join(varlib, "trace_ra", "floatip", "*")); len(got) != 1 {
		t.Errorf("traces %v: the fd trace went to a file too", got)
	}
}

// TestTraceToStderr: crm_resource runs an agent itself (--force-start,
// --validate, pcs's --agent-validation) with OCF_TRACE_FILE=/dev/stderr,
// so that the admin sees the trace: the trace then goes to the agent's
// stderr, not to a file, and no trace file is made.
func TestTraceToStderr(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	a := labtest.Floatip(t, l.Host("a"))
	varlib := t.TempDir()
	for _, file := range []string{"/dev/stderr", "/proc/self/fd/2"} {
		p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "arp_bg=false", "arp_count=1", "OCF_TRACE_RA=1", "OCF_TRACE_FILE=" + file, "HA_VARLIB=" + varlib}
		res := a.Expect(0, "start", p...)
		wantIn(t, file+": start's stderr", res.Stderr,
			"DEBUG: trace: floatip start of vip to fd 2\n",
			"DEBUG: kernel: AddAddr(eth0, {Prefix:"+labtest.VIP+"/24 ",
			"DEBUG: trace: exit 0 (OCF_SUCCESS)\n")
		if strings.Contains(res.Stderr, "not tracing") {
			t.Errorf("%s: %s", file, res.Stderr)
		}
		a.Expect(0, "stop", p...)
	}
	if got, _ := filepath.Glob(filepath.Join(varlib, "trace_ra", "*", "*")); len(got) != 0 {
		t.Errorf("trace files %v: the trace went to a file", got)
	}
}

// TestTraceOff: without trace_ra or OCF_TRACE_RA nothing is written, and
// OCF_TRACE_RA=0 overrides trace_ra=1 as in ocf-shellfuncs.
func TestTraceOff(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA)
	a := labtest.Floatip(t, l.Host("a"))
	tests := []struct {
		name string
		env  []string
	}{
		{"unset", nil},
		{"trace_ra=0", []string{"trace_ra=0"}},
		{"trace_ra=false", []string{"trace_ra=false"}},
		{"OCF_TRACE_RA=0 overrides", []string{"trace_ra=1", "OCF_TRACE_RA=0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := t.TempDir()
			dir := filepath.Join(top, "trace_ra")
			file := filepath.Join(top, "vip.trace")
			p := append([]string{"ip=" + labtest.VIP, "cidr_netmask=24", "arp_bg=false", "arp_count=1",
				"trace_dir=" + dir, "HA_VARLIB=" + top}, tt.env...)
			a.Expect(0, "start", p...)
			a.Expect(0, "stop", append(slices.Clone(p), "trace_file="+file)...)
			if left, _ := os.ReadDir(top); len(left) != 0 {
				t.Errorf("written with the trace off: %v", left)
			}
		})
	}
}
