package ocf

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DefaultVarLib is HA_VARLIB when it is not set (ocf-directories): the
// default trace directory is its trace_ra subdirectory.
const DefaultVarLib = "/var/lib/heartbeat"

// TraceOptions is what decides whether and where an action is traced.
type TraceOptions struct {
	// Env is the agent's environment: OCF_TRACE_RA, OCF_TRACE_FILE,
	// HA_VARLIB and the resource's id decide the trace, and its OCF and
	// HA variables go into the trace's header.
	Env Env
	// Params are the parameter values, from OCF_RESKEY_<name> or flags:
	// trace_ra, trace_file and trace_dir are read whether or not the
	// meta-data declares them.
	Params map[string]string
	// Agent is the agent's name, the <type> directory of the default
	// destination: IPaddr2 when installed as such.
	Agent string
	// Action is the action traced.
	Action string
	// Now is when the action started; the default destination's name
	// carries it.
	Now time.Time
}

// Trace says whether an action is traced and where, as ocf-shellfuncs'
// ocf_start_trace decides it. Exactly one of FD and Path is set when On.
type Trace struct {
	On bool
	// FD is a descriptor from 3 to 9 that the caller opened for writing,
	// or the caller's stdout or stderr named as a path (see streamFD).
	FD int
	// Path is the file the trace is appended to.
	Path string
	// Dir is the trace directory when Path is the default destination,
	// Dir/<type>/<instance>.<action>.<date>: Open creates Dir/<type> and
	// refuses to follow a symbolic link at Dir, at Dir/<type> or at the
	// file. It is "" for a trace_file path, whose directories are the
	// admin's to choose.
	Dir string
	// Warnings say which settings were ignored, and why.
	Warnings []string
	// Header is what the trace starts with: the destination, the OCF and
	// HA environment, and the parameter values the action uses.
	Header []string
}

// ParseTrace decides the trace of an action. The trace is on when
// OCF_TRACE_RA, or else the trace_ra parameter, is true in ocf_is_true's
// words: as in ocf-shellfuncs a non-empty OCF_TRACE_RA overrides trace_ra,
// so that OCF_TRACE_RA=0 turns a configured trace off for one run. It goes
// to OCF_TRACE_FILE or else trace_file, a descriptor 3-9, the caller's own
// stream named as a path (/dev/stderr), or an absolute
// path, and else to one file per action under trace_dir, by default
// $HA_VARLIB/trace_ra.
//
// The resource's id (Env.Instance) names the default file; "" is
// "default", as ocf-shellfuncs names an agent run by hand.
func ParseTrace(o TraceOptions) Trace {
	on := o.Env.TraceRA
	if on == "" {
		on = o.Params["trace_ra"]
	}
	if !IsTrue(on) {
		return Trace{}
	}
	instance := o.Env.Instance
	if instance == "" {
		instance = "default"
	}
	t := Trace{On: true}
	name, file := "OCF_TRACE_FILE", o.Env.TraceFile
	if file == "" {
		name, file = "trace_file", o.Params["trace_file"]
	}
	switch {
	case len(file) == 1 && file[0] >= '3' && file[0] <= '9':
		t.FD = int(file[0] - '0')
	case streamFD(file) != 0:
		t.FD = streamFD(file)
	case isTracePath(file):
		t.Path = filepath.Clean(file)
	default:
		if file != "" {
			t.Warnings = append(t.Warnings, fmt.Sprintf("%s %q is neither a file descriptor from 3 to 9 nor an absolute path: using the trace directory", name, file))
		}
		t.Dir = t.dir(o.Env.VarLib, o.Params["trace_dir"])
		base := fmt.Sprintf("%s.%s.%s", safeName(instance), safeName(o.Action), o.Now.Format("2006-01-02.15:04:05"))
		t.Path = filepath.Join(t.Dir, safeName(o.Agent), base)
	}
	t.Header = traceHeader(o, instance, t)
	return t
}

// streamFD returns the descriptor that a path naming one of the caller's
// own streams stands for: /dev/stdout, /dev/stderr, /dev/fd/N and
// /proc/self/fd/N (N from 1 to 9), 0 for any other path. Such a path is
// that stream, as bash's redirection and ocf-shellfuncs treat it:
// crm_resource sets OCF_TRACE_FILE=/dev/stderr for the agents it runs
// itself, so that an admin sees the trace on the terminal. As a file it
// would be a symbolic link, which a trace does not follow.
func streamFD(p string) int {
	switch p {
	case "/dev/stdout":
		return 1
	case "/dev/stderr":
		return 2
	}
	for _, dir := range []string{"/dev/fd/", "/proc/self/fd/"} {
		if n, ok := strings.CutPrefix(p, dir); ok && len(n) == 1 && n[0] >= '1' && n[0] <= '9' {
			return int(n[0] - '0')
		}
	}
	return 0
}

// isTracePath is ocf_start_trace's test for a trace file path, /*/*: an
// absolute path below the root directory.
func isTracePath(p string) bool {
	return strings.HasPrefix(p, "/") && strings.Contains(p[1:], "/")
}

// dir returns the trace directory, trace_dir or $HA_VARLIB/trace_ra, noting
// a relative one as a warning: the agent's working directory is no place
// for a trace.
func (t *Trace) dir(varlib, traceDir string) string {
	if varlib == "" {
		varlib = DefaultVarLib
	} else if !filepath.IsAbs(varlib) {
		t.Warnings = append(t.Warnings, fmt.Sprintf("HA_VARLIB %q is not an absolute path: using %s", varlib, DefaultVarLib))
		varlib = DefaultVarLib
	}
	def := filepath.Join(varlib, "trace_ra")
	switch {
	case traceDir == "":
		return def
	case !filepath.IsAbs(traceDir):
		t.Warnings = append(t.Warnings, fmt.Sprintf("trace_dir %q is not an absolute path: using %s", traceDir, def))
		return def
	}
	return filepath.Clean(traceDir)
}

// safeName makes s one path component, so that an odd instance or action
// name cannot move the trace out of its directory.
func safeName(s string) string {
	s = strings.NewReplacer("/", "_", "\x00", "_").Replace(s)
	if s == "" || s == "." || s == ".." {
		return "_" + s
	}
	return s
}

// Dest names the destination for log lines: the path, or "fd N".
func (t Trace) Dest() string {
	if t.FD != 0 {
		return fmt.Sprintf("fd %d", t.FD)
	}
	return t.Path
}

// traceHeader is what a trace starts with. ocf_start_trace records the
// whole environment; the OCF and HA variables are those that tell how the
// agent was called, and the parameters show the defaults it filled in.
func traceHeader(o TraceOptions, instance string, t Trace) []string {
	h := []string{fmt.Sprintf("trace: %s %s of %s to %s", o.Agent, o.Action, instance, t.Dest())}
	for _, kv := range o.Env.Vars {
		h = append(h, "env: "+kv)
	}
	keys := make([]string, 0, len(o.Params))
	for k := range o.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h = append(h, fmt.Sprintf("param: %s=%s", k, o.Params[k]))
	}
	return h
}

// errSymlink says that the trace would be written through a symbolic link,
// which a trace never follows: whoever can plant one in the trace directory
// could otherwise have root append to any file.
var errSymlink = errors.New("is a symbolic link, which a trace does not follow")

// Open opens the trace's destination for appending: a duplicate of the
// descriptor FD, which must be one the caller passed and no socket, or
// Path, created with mode 0600 and its missing directories with mode
// 0700. An existing Path is appended to only when this package made it
// (see openTraceAt), none among the system's files (/etc, /usr...), and
// never through a symbolic link at the file or, for the default
// destination, at the trace directory or its <type> directory: the path
// is a parameter, and the agent runs as root.
func (t Trace) Open() (io.WriteCloser, error) {
	switch {
	case !t.On:
		return nil, errors.New("open trace: tracing is off")
	case t.FD != 0:
		return openTraceFD(t.FD)
	case t.Dir == "":
		return openTraceFile(filepath.Dir(t.Path), true, nil, filepath.Base(t.Path))
	}
	rel, err := filepath.Rel(t.Dir, t.Path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("open trace %s: not in the trace directory %s", t.Path, t.Dir)
	}
	parts := strings.Split(rel, string(filepath.Separator))
	return openTraceFile(t.Dir, false, parts[:len(parts)-1], parts[len(parts)-1])
}

// ExitCode is what an action exits with, as the end of a trace names it:
// a Status, or the code of an action whose codes are its own, such as a
// doctor's, which the trace must not name as the OCF code of that number.
type ExitCode interface {
	Code() int
	String() string
}

// StartTrace attaches the trace t to l, if t is on, and returns the
// function that ends it with the action's exit code. Debug lines go to the
// trace; when stderr is a terminal, an admin running the agent by hand
// sees them there too. A trace that cannot be opened is a warning, never
// a reason to fail the action.
func (l *Logger) StartTrace(t Trace) (end func(ExitCode)) {
	if !t.On {
		return func(ExitCode) {}
	}
	// A trace to the caller's stdout or stderr is on the terminal
	// already.
	if isTerminal(l.stderr) && t.FD != 1 && t.FD != 2 {
		l.mu.Lock()
		l.echo = true
		l.mu.Unlock()
	}
	w, err := t.Open()
	if err != nil {
		l.Warnf("%v: not tracing", err)
	} else {
		l.SetTrace(w)
	}
	for _, s := range t.Warnings {
		l.Warnf("%s", s)
	}
	for _, s := range t.Header {
		l.Debugf("%s", s)
	}
	return func(st ExitCode) {
		l.Debugf("trace: exit %d (%s)", st.Code(), st)
		l.mu.Lock()
		l.echo = false
		l.mu.Unlock()
		if w == nil {
			return
		}
		l.SetTrace(nil)
		if err := w.Close(); err != nil {
			l.Warnf("close trace %s: %v", t.Dest(), err)
		}
	}
}
