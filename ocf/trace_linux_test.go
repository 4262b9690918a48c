package ocf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// defaultTrace is the default destination of a trace in dir.
func defaultTrace(dir string) Trace {
	return ParseTrace(TraceOptions{Params: map[string]string{"trace_ra": "1", "trace_dir": dir},
		Env: Env{Instance: "vip"}, Agent: "IPaddr2", Action: "start", Now: traceNow})
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func TestTraceOpenCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "trace_ra")
	tr := defaultTrace(dir)
	for _, line := range []string{"one\n", "two\n"} {
		w, err := tr.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(tr.Path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != traceMark+"one\ntwo\n" {
		t.Errorf("trace = %q: want the mark, then both lines appended", b)
	}
	checks := []struct {
		path string
		want os.FileMode
	}{
		{dir, os.ModeDir | 0o700},
		{filepath.Join(dir, "IPaddr2"), os.ModeDir | 0o700},
		{tr.Path, 0o600},
	}
	for _, c := range checks {
		if got := mode(t, c.path); got != c.want {
			t.Errorf("%s: mode %v, want %v", c.path, got, c.want)
		}
	}

	// A trace_file path: missing directories are created, and the file is
	// appended to.
	p := filepath.Join(t.TempDir(), "a", "b", "vip.trace")
	os.MkdirAll(filepath.Dir(filepath.Dir(p)), 0o755)
	ft := ParseTrace(TraceOptions{Params: map[string]string{"trace_ra": "1", "trace_file": p}})
	w, err := ft.Open()
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got := mode(t, p); got != 0o600 {
		t.Errorf("%s: mode %v, want 0600", p, got)
	}
	if got := mode(t, filepath.Dir(p)); got != os.ModeDir|0o700 {
		t.Errorf("%s: mode %v, want 0700", filepath.Dir(p), got)
	}
}

func TestTraceOpenRefuses(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, dir string, tr Trace) // dir is the trace directory
		want  string                                   // in the error
	}{
		{"symlink at the file", func(t *testing.T, dir string, tr Trace) {
			os.MkdirAll(filepath.Dir(tr.Path), 0o700)
			symlink(t, filepath.Join(filepath.Dir(dir), "victim"), tr.Path)
		}, "is a symbolic link"},
		{"dangling symlink at the file", func(t *testing.T, dir string, tr Trace) {
			os.MkdirAll(filepath.Dir(tr.Path), 0o700)
			symlink(t, filepath.Join(filepath.Dir(dir), "nothing"), tr.Path)
		}, "is a symbolic link"},
		{"symlink at the type directory", func(t *testing.T, dir string, tr Trace) {
			os.MkdirAll(dir, 0o700)
			os.Mkdir(filepath.Join(filepath.Dir(dir), "elsewhere"), 0o700)
			symlink(t, filepath.Join(filepath.Dir(dir), "elsewhere"), filepath.Join(dir, "IPaddr2"))
		}, "is a symbolic link"},
		{"symlink at the trace directory", func(t *testing.T, dir string, tr Trace) {
			os.Mkdir(filepath.Join(filepath.Dir(dir), "elsewhere"), 0o700)
			symlink(t, filepath.Join(filepath.Dir(dir), "elsewhere"), dir)
		}, "is a symbolic link"},
		{"dangling symlink at the trace directory", func(t *testing.T, dir string, tr Trace) {
			symlink(t, filepath.Join(filepath.Dir(dir), "nothing"), dir)
		}, "is a symbolic link"},
		{"fifo at the file", func(t *testing.T, dir string, tr Trace) {
			os.MkdirAll(filepath.Dir(tr.Path), 0o700)
			if err := syscall.Mkfifo(tr.Path, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
		{"hard link at the file", func(t *testing.T, dir string, tr Trace) {
			os.MkdirAll(filepath.Dir(tr.Path), 0o700)
			victim := filepath.Join(filepath.Dir(dir), "victim")
			if err := os.Link(victim, tr.Path); err != nil {
				t.Fatal(err)
			}
		}, "has 2 hard links"},
		{"file at the type directory", func(t *testing.T, dir string, tr Trace) {
			os.MkdirAll(dir, 0o700)
			os.WriteFile(filepath.Join(dir, "IPaddr2"), nil, 0o600)
		}, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := t.TempDir()
			victim := filepath.Join(top, "victim")
			if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(top, "trace_ra")
			tr := defaultTrace(dir)
			tt.plant(t, dir, tr)
			w, err := tr.Open()
			if err == nil {
				w.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: %v, want %q", err, tt.want)
			}
			if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
				t.Errorf("victim now %q", b)
			}
			for _, p := range []string{filepath.Join(top, "nothing"), filepath.Join(top, "elsewhere", "IPaddr2")} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s created through a symbolic link", p)
				}
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

// TestTraceFileFollowsItsDirectory: the directory of a trace_file path is
// the admin's choice, and may be a link like /var/run; only the file
// itself must not be one.
func TestTraceFileFollowsItsDirectory(t *testing.T) {
	top := t.TempDir()
	os.Mkdir(filepath.Join(top, "real"), 0o755)
	symlink(t, filepath.Join(top, "real"), filepath.Join(top, "run"))
	tr := ParseTrace(TraceOptions{Params: map[string]string{"trace_ra": "1", "trace_file": filepath.Join(top, "run", "vip.trace")}})
	w, err := tr.Open()
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := os.Stat(filepath.Join(top, "real", "vip.trace")); err != nil {
		t.Error(err)
	}
	os.Symlink(filepath.Join(top, "victim"), filepath.Join(top, "real", "link.trace"))
	tr = ParseTrace(TraceOptions{Params: map[string]string{"trace_ra": "1", "trace_file": filepath.Join(top, "run", "link.trace")}})
	if w, err := tr.Open(); !errors.Is(err, errSymlink) {
		if err == nil {
			w.Close()
		}
		t.Errorf("Open through a planted link: %v, want %v", err, errSymlink)
	}
}

// inherited returns a duplicate of f's descriptor without close-on-exec,
// as a descriptor the agent's caller passed to it is.
func inherited(t *testing.T, fd int) int {
	t.Helper()
	d, err := syscall.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(d) })
	return d
}

func TestTraceOpenFD(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	fd := inherited(t, int(w.Fd()))
	tw, err := openTraceFD(fd)
	if err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("traced\n"))
	tw.Close()
	// Closing the trace leaves the caller's descriptor open.
	syscall.Write(fd, []byte("still open\n"))
	syscall.Close(fd)
	w.Close()
	var buf bytes.Buffer
	buf.ReadFrom(r)
	if got := buf.String(); got != "traced\nstill open\n" {
		t.Errorf("read %q", got)
	}
}

// TestTraceOpenFDRefuses: a trace goes to a descriptor the caller passed,
// open for writing, and never to a socket (the background sender holds
// its packet socket at 3) or to a descriptor of the agent's own.
func TestTraceOpenFDRefuses(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(pair[0])
	defer syscall.Close(pair[1])
	readEnd := inherited(t, int(r.Fd()))
	// The last descriptor made, so that no other takes its number.
	closed, err := syscall.Dup(int(w.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	syscall.Close(closed)
	tests := []struct {
		name string
		fd   int
		want string
	}{
		{"inherited socket", pair[0], "is a socket"},
		{"own pipe", int(w.Fd()), "one of the agent's own"},
		{"read end", readEnd, "not open for writing"},
		{"closed", closed, syscall.EBADF.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tw, err := openTraceFD(tt.fd)
			if err == nil {
				tw.Write([]byte("leaked\n"))
				tw.Close()
				t.Fatal("openTraceFD succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("openTraceFD: %v, want %q", err, tt.want)
			}
		})
	}
	// Nothing reached the socket's peer.
	syscall.SetNonblock(pair[1], true)
	if n, _, err := syscall.Recvfrom(pair[1], make([]byte, 64), 0); err == nil {
		t.Errorf("the socket carried %d bytes of trace", n)
	}
}

func TestStartTrace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "trace_ra")
	tr := defaultTrace(dir)
	tr.Warnings = []string{"something ignored"}
	var stderr bytes.Buffer
	l := NewLogger(Env{Instance: "vip"}, "IPaddr2", 1, &stderr)
	end := l.StartTrace(tr)
	l.Debugf("decided")
	end(NotRunning)
	l.Debugf("after the end")
	if got, want := stderr.String(), "IPaddr2(vip)[1]: WARNING: something ignored\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	b, err := os.ReadFile(tr.Path)
	if err != nil {
		t.Fatal(err)
	}
	ts := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\S+ IPaddr2\(vip\)\[1\]: `
	for _, re := range []string{
		`^` + regexp.QuoteMeta(traceMark) + ts + `WARNING: something ignored\n`,
		`\n` + ts + `DEBUG: trace: IPaddr2 start of vip to ` + regexp.QuoteMeta(tr.Path) + `\n`,
		`\n` + ts + `DEBUG: param: trace_ra=1\n`,
		`\n` + ts + `DEBUG: decided\n`,
		`\n` + ts + `DEBUG: trace: exit 7 \(OCF_NOT_RUNNING\)\n$`,
	} {
		if !regexp.MustCompile(re).Match(b) {
			t.Errorf("trace lacks %s:\n%s", re, b)
		}
	}
	if bytes.Contains(b, []byte("after the end")) {
		t.Error("a line after the end reached the trace")
	}
}

func TestStartTraceCannotOpen(t *testing.T) {
	top := t.TempDir()
	dir := filepath.Join(top, "trace_ra")
	symlink(t, top, dir)
	var stderr bytes.Buffer
	l := NewLogger(Env{Instance: "vip"}, "IPaddr2", 1, &stderr)
	end := l.StartTrace(defaultTrace(dir))
	l.Infof("going on")
	end(Success)
	want := "IPaddr2(vip)[1]: WARNING: open trace directory " + dir + ": is a symbolic link, which a trace does not follow: not tracing\n" +
		"IPaddr2(vip)[1]: INFO: going on\n"
	if diff := cmp.Diff(want, stderr.String()); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
}

// TestTraceFileOnlyFloatips: a trace_file path is created, or appended to
// when floatip made it; any other file is left as it was, bytes and
// modification time, whoever may set the parameter.
func TestTraceFileOnlyFloatips(t *testing.T) {
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	// file makes a file at p with mode and content, and an old mtime.
	file := func(t *testing.T, p string, mode os.FileMode, content string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	foreign := "root:*:19000:0:99999:7:::\n"
	tests := []struct {
		name  string
		root  bool                              // needs root (chown)
		plant func(t *testing.T, dir, p string) // makes what is at p
		want  string                            // in the error; "" to open
		text  string                            // the file afterwards, when opened
	}{
		{name: "new file in an existing dir", plant: func(*testing.T, string, string) {},
			text: traceMark + "traced\n"},
		{name: "file floatip made", plant: func(t *testing.T, dir, p string) {
			file(t, p, 0o600, traceMark+"before\n")
		}, text: traceMark + "before\ntraced\n"},
		{name: "foreign file", plant: func(t *testing.T, dir, p string) {
			file(t, p, 0o600, foreign)
		}, want: "was not made by floatip"},
		{name: "foreign file shorter than the mark", plant: func(t *testing.T, dir, p string) {
			file(t, p, 0o600, "")
		}, want: "was not made by floatip"},
		{name: "symlink to a foreign file", plant: func(t *testing.T, dir, p string) {
			file(t, filepath.Join(dir, "victim"), 0o600, foreign)
			symlink(t, filepath.Join(dir, "victim"), p)
		}, want: "is a symbolic link"},
		{name: "symlink to a trace", plant: func(t *testing.T, dir, p string) {
			file(t, filepath.Join(dir, "victim"), 0o600, traceMark)
			symlink(t, filepath.Join(dir, "victim"), p)
		}, want: "is a symbolic link"},
		{name: "hard link to a foreign file", plant: func(t *testing.T, dir, p string) {
			file(t, filepath.Join(dir, "victim"), 0o600, traceMark+foreign)
			if err := os.Link(filepath.Join(dir, "victim"), p); err != nil {
				t.Fatal(err)
			}
		}, want: "has 2 hard links"},
		{name: "fifo", plant: func(t *testing.T, dir, p string) {
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
		}, want: "not a regular file"},
		{name: "directory", plant: func(t *testing.T, dir, p string) {
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
		}, want: "not a regular file"},
		{name: "mode 0644", plant: func(t *testing.T, dir, p string) {
			file(t, p, 0o644, traceMark+foreign)
		}, want: "has mode 0644, not 0600"},
		{name: "owned by another uid", root: true, plant: func(t *testing.T, dir, p string) {
			file(t, p, 0o600, traceMark+foreign)
			if err := os.Chown(p, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, want: "is owned by uid 65534"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root && os.Geteuid() != 0 {
				t.Skip("chown needs root")
			}
			dir := t.TempDir()
			p := filepath.Join(dir, "vip.trace")
			tt.plant(t, dir, p)
			snap := snapshot(t, dir)
			w, err := ParseTrace(TraceOptions{Params: map[string]string{"trace_ra": "1", "trace_file": p}}).Open()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Write([]byte("traced\n")); err != nil {
					t.Fatal(err)
				}
				w.Close()
				fi, err := os.Lstat(p)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode() != 0o600 || fi.Sys().(*syscall.Stat_t).Uid != uint32(os.Geteuid()) {
					t.Errorf("trace mode %v, owner %d", fi.Mode(), fi.Sys().(*syscall.Stat_t).Uid)
				}
				if b, _ := os.ReadFile(p); string(b) != tt.text {
					t.Errorf("trace = %q, want %q", b, tt.text)
				}
				return
			}
			if err == nil {
				w.Write([]byte("traced\n"))
				w.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: %v, want %q", err, tt.want)
			}
			if diff := cmp.Diff(snap, snapshot(t, dir)); diff != "" {
				t.Errorf("the directory changed (-before +after):\n%s", diff)
			}
		})
	}
}

// snapshot describes every entry of dir: its type, mode, size, mtime and,
// for a regular file, its bytes.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		d := fmt.Sprintf("%v %d %s", fi.Mode(), fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			d += " " + string(b)
		}
		out[e.Name()] = d
	}
	return out
}

// TestTraceNotInSystemDirs: a trace is never created among the system's
// files, where a program would read it by its name (/etc/ld.so.preload,
// absent on most systems), also through a symbolic link to them.
func TestTraceNotInSystemDirs(t *testing.T) {
	name := fmt.Sprintf("floatip-test-%d.trace", os.Getpid())
	link := filepath.Join(t.TempDir(), "etc")
	symlink(t, "/etc", link)
	for _, p := range []string{
		filepath.Join("/etc", name),
		filepath.Join("/usr/../etc", name),
		filepath.Join("/etc/floatip-test-dir", name),
		filepath.Join(link, name),
	} {
		t.Run(p, func(t *testing.T) {
			t.Cleanup(func() {
				os.Remove(filepath.Join("/etc", name))
				os.Remove(filepath.Join("/etc/floatip-test-dir", name))
				os.Remove("/etc/floatip-test-dir")
			})
			w, err := ParseTrace(TraceOptions{Params: map[string]string{"trace_ra": "1", "trace_file": p}}).Open()
			if err == nil {
				w.Close()
				t.Fatal("Open succeeded")
			}
			if want := "is in /etc, among the system's files"; !strings.Contains(err.Error(), want) {
				t.Errorf("Open: %v, want %q", err, want)
			}
			for _, q := range []string{filepath.Join("/etc", name), "/etc/floatip-test-dir"} {
				if _, err := os.Lstat(q); err == nil {
					t.Errorf("%s was created", q)
				}
			}
		})
	}
	// The default destination too: trace_dir is a parameter.
	tr := ParseTrace(TraceOptions{Params: map[string]string{"trace_ra": "1", "trace_dir": "/etc/floatip-test-dir"},
		Env: Env{Instance: "vip"}, Agent: "IPaddr2", Action: "start", Now: traceNow})
	if w, err := tr.Open(); err == nil || !strings.Contains(err.Error(), "among the system's files") {
		if err == nil {
			w.Close()
		}
		t.Errorf("Open under trace_dir=/etc/...: %v", err)
	}
	if _, err := os.Lstat("/etc/floatip-test-dir"); err == nil {
		os.RemoveAll("/etc/floatip-test-dir")
		t.Error("/etc/floatip-test-dir was created")
	}
}
