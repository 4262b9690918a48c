package ocf

import (
	"errors"
	"fmt"
	"io"
	"log/syslog"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
)

// Logger writes log lines in the resource-agents format,
// "IPaddr2(vip)[1234]: INFO: text", to stderr (which pacemaker-execd
// captures into the cluster log), when HA_LOGFACILITY names a facility to
// syslog too, and when HA_LOGFILE names a file to the end of that file,
// each line after a timestamp. Debug lines appear only with HA_debug=1,
// and in the trace (see SetTrace).
type Logger struct {
	mu     sync.Mutex
	tag    string
	stderr io.Writer
	debug  bool
	sys    io.Writer // nil without syslog
	sysw   *syslog.Writer
	file   *os.File  // HA_LOGFILE; nil without
	trace  io.Writer // nil when not tracing
	// echo shows debug lines on stderr too: a traced action run by hand
	// from a terminal.
	echo bool
	now  func() time.Time
	// reasoned says that the exit reason is out: an operation has one.
	reasoned bool
	// name is the agent's name, with the instance's, for a reason at a
	// terminal; plain says that stderr is one, where a person reads the
	// reason, not Pacemaker.
	name  string
	plain bool
}

// NewLogger returns a Logger for the agent called agent (the name Pacemaker
// knows it by, e.g. IPaddr2) running as process pid.
func NewLogger(env Env, agent string, pid int, stderr io.Writer) *Logger {
	// The names come from argv[0] and the environment: escaped, so
	// that every line stays one.
	name := oneLine(agent)
	if env.Instance != "" {
		name = fmt.Sprintf("%s(%s)", name, oneLine(env.Instance))
	}
	tag := fmt.Sprintf("%s[%d]", name, pid)
	l := &Logger{tag: tag, stderr: stderr, debug: env.Debug, now: time.Now, name: name, plain: isTerminal(stderr)}
	if fac, ok := facilities[strings.ToLower(env.LogFacility)]; ok {
		// No syslog daemon is not a reason to fail an action: log to
		// stderr only. The syslog writer adds the pid itself.
		if w, err := dialSyslog(fac|syslog.LOG_INFO, name); err == nil {
			l.sys, l.sysw = w, w
		}
	}
	if env.LogFile != "" {
		// Appended to as ha_log does (">>"), so also through a link such
		// as /dev/stderr. A log file that cannot be opened is no reason
		// to fail an action either.
		f, err := os.OpenFile(env.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0o600)
		if err != nil {
			fmt.Fprintf(stderr, "%s: WARNING: %s\n", tag, oneLine(fmt.Sprintf("HA_LOGFILE: %v", err)))
		} else {
			l.file = f
		}
	}
	return l
}

// dialSyslog connects to the syslog daemon; tests connect to their own.
var dialSyslog = syslog.New

var facilities = map[string]syslog.Priority{
	"kern": syslog.LOG_KERN, "user": syslog.LOG_USER, "mail": syslog.LOG_MAIL,
	"daemon": syslog.LOG_DAEMON, "auth": syslog.LOG_AUTH, "syslog": syslog.LOG_SYSLOG,
	"lpr": syslog.LOG_LPR, "news": syslog.LOG_NEWS, "uucp": syslog.LOG_UUCP,
	"cron": syslog.LOG_CRON, "authpriv": syslog.LOG_AUTHPRIV, "ftp": syslog.LOG_FTP,
	"local0": syslog.LOG_LOCAL0, "local1": syslog.LOG_LOCAL1, "local2": syslog.LOG_LOCAL2,
	"local3": syslog.LOG_LOCAL3, "local4": syslog.LOG_LOCAL4, "local5": syslog.LOG_LOCAL5,
	"local6": syslog.LOG_LOCAL6, "local7": syslog.LOG_LOCAL7,
}

// SetSyslog replaces the syslog destination; tests use it to see what would
// reach syslog.
func (l *Logger) SetSyslog(w io.Writer) { l.sys = w }

// SetTrace makes l write every line to w as well, debug lines included as
// if HA_debug=1 (on w only), each after a timestamp, so that a trace shows
// what the action decided and how long each step took. nil ends it. A
// trace that cannot be written is dropped with a warning on stderr and in
// syslog: it is never a reason for an action to fail.
func (l *Logger) SetTrace(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.trace = w
}

// Close releases the syslog connection and the log file, if any.
func (l *Logger) Close() error {
	var err error
	if l.sysw != nil {
		err = l.sysw.Close()
	}
	if l.file != nil {
		err = errors.Join(err, l.file.Close())
	}
	return err
}

// Debugf logs at DEBUG level, only with HA_debug=1 or to a trace.
func (l *Logger) Debugf(format string, args ...any) {
	l.mu.Lock()
	wanted := l.debug || l.echo || l.trace != nil
	l.mu.Unlock()
	if wanted {
		l.write("DEBUG", format, args...)
	}
}

// Infof logs at INFO level.
func (l *Logger) Infof(format string, args ...any) { l.write("INFO", format, args...) }

// Warnf logs at WARNING level.
func (l *Logger) Warnf(format string, args ...any) { l.write("WARNING", format, args...) }

// Errorf logs at ERROR level.
func (l *Logger) Errorf(format string, args ...any) { l.write("ERROR", format, args...) }

// ExitReason prints the one-line cause of a failure as
// "ocf-exit-reason:<text>" on stderr, which Pacemaker records with the
// result and pcs status shows to the admin, and sends it to syslog as an
// error (on stderr it is not repeated, as ocf_exit_reason does). Line
// breaks in the text are flattened so that the reason stays one line. An
// operation has one exit reason, the first: a later one, such as an
// action's own that races Run's timeout, is logged as an error. At a
// terminal, where a person ran the action by hand and Pacemaker reads
// nothing, it reads as a sentence after the agent's name instead.
func (l *Logger) ExitReason(format string, args ...any) {
	msg := oneLine(fmt.Sprintf(format, args...))
	l.mu.Lock()
	if l.reasoned {
		l.mu.Unlock()
		l.write("ERROR", "%s", msg)
		return
	}
	l.reasoned = true
	defer l.mu.Unlock()
	if l.plain {
		fmt.Fprintf(l.stderr, "%s: %s\n", l.name, msg)
	} else {
		fmt.Fprintf(l.stderr, "ocf-exit-reason:%s\n", msg)
	}
	l.toSys("ERROR", msg)
	l.toFile("ERROR", msg)
	l.toTrace("ERROR", "ocf-exit-reason:"+msg)
}

func (l *Logger) write(level, format string, args ...any) {
	msg := oneLine(fmt.Sprintf(format, args...))
	l.mu.Lock()
	defer l.mu.Unlock()
	debug := level == "DEBUG"
	if !debug || l.debug || l.echo {
		fmt.Fprintf(l.stderr, "%s: %s: %s\n", l.tag, level, msg)
	}
	if !debug || l.debug {
		l.toSys(level, msg)
		l.toFile(level, msg)
	}
	l.toTrace(level, msg)
}

// toSys sends a line to syslog, if any, with l.mu held, at the priority
// of its level, as ha_log's logger -p does. The syslog writer adds the
// tag; the level word lets the line be read the same way as
// resource-agents' logger calls.
func (l *Logger) toSys(level, msg string) {
	line := level + ": " + msg
	w, ok := l.sys.(*syslog.Writer)
	switch {
	case l.sys == nil:
	case !ok:
		io.WriteString(l.sys, line)
	case level == "ERROR":
		w.Err(line)
	case level == "WARNING":
		w.Warning(line)
	case level == "DEBUG":
		w.Debug(line)
	default:
		w.Info(line)
	}
}

// toFile appends a line to HA_LOGFILE, with l.mu held. One write per
// line: O_APPEND keeps the lines of processes sharing the file whole.
func (l *Logger) toFile(level, msg string) {
	if l.file == nil {
		return
	}
	now := l.now
	if now == nil {
		now = time.Now
	}
	ts := now().Format("2006-01-02T15:04:05.000000Z07:00")
	l.file.WriteString(fmt.Sprintf("%s %s: %s: %s\n", ts, l.tag, level, msg))
}

// toTrace writes a line to the trace, with l.mu held. A failed write ends
// the trace with a warning where the other lines go.
func (l *Logger) toTrace(level, msg string) {
	if l.trace == nil {
		return
	}
	now := l.now
	if now == nil {
		now = time.Now
	}
	ts := now().Format("2006-01-02T15:04:05.000000Z07:00")
	if _, err := fmt.Fprintf(l.trace, "%s %s: %s: %s\n", ts, l.tag, level, msg); err != nil {
		l.trace = nil
		warn := oneLine(fmt.Sprintf("write trace: %v: not tracing any more", err))
		fmt.Fprintf(l.stderr, "%s: WARNING: %s\n", l.tag, warn)
		l.toSys("WARNING", warn)
	}
}

// maxLine bounds a log line or exit reason: an admin's 10 kB value must not
// become a 10 kB reason in the CIB.
const maxLine = 512

// oneLine makes s one printable line (see Printable), cut at maxLine.
// Pacemaker stores the reason in the CIB, which is XML, and shows it in
// pcs status.
func oneLine(s string) string {
	return printable(s, maxLine)
}

// Printable makes s, text that may hold a parameter's value, one printable
// line of valid UTF-8 for a log, a terminal or the CIB: line breaks become
// spaces; control characters (ESC and the terminal sequences it starts
// among them) and invalid bytes become \xNN; other characters that print
// nothing or change how a line reads (bidirectional overrides, zero-width
// characters, line separators, the non-characters U+FFFE and U+FFFF)
// become \uNNNN. Letters, marks, digits, punctuation, symbols and the
// ASCII space are kept.
func Printable(s string) string {
	return printable(s, -1)
}

// printable is Printable, cut after limit bytes with "..." when limit >= 0.
func printable(s string, limit int) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(strings.TrimRight(s, "\n"))
	var b strings.Builder
	for len(s) > 0 {
		if limit >= 0 && b.Len() >= limit {
			b.WriteString("...")
			break
		}
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "\\x%02x", s[0])
		case unicode.IsControl(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		case !strconv.IsPrint(r) && r <= 0xffff:
			fmt.Fprintf(&b, "\\u%04x", r)
		case !strconv.IsPrint(r):
			fmt.Fprintf(&b, "\\U%08x", r)
		default:
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}
