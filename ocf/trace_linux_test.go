package ocf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// defaultTrace is the default destination of a trace in dir.
func defaultTrace(dir string) Trace {
	return ParseTrace(TraceOptions{Params: map[string]string{"trace_ra": "1", "trace_dir": dir},
		Agent: "IPaddr2", Instance: "vip", Action: "start", Now: traceNow})
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
	if string(b) != "one\ntwo\n" {
		t.Errorf("trace = %q: want both lines appended", b)
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
		}, "no such device or address"},
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
		`^` + ts + `WARNING: something ignored\n`,
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
