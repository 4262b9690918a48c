package ocf

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultRscTmp is where resource-agents keeps per-resource state when
// HA_RSCTMP is not set (ocf-directories).
const DefaultRscTmp = "/run/resource-agents"

const (
	paramPrefix = "OCF_RESKEY_"
	metaPrefix  = "OCF_RESKEY_CRM_meta_"
)

// Env is what Pacemaker tells an agent through its environment.
type Env struct {
	// Params holds OCF_RESKEY_<name> values by name, meta attributes excluded.
	// A parameter that is set but empty is present with "".
	Params map[string]string
	// Meta holds OCF_RESKEY_CRM_meta_<name> values by name, e.g. "timeout",
	// "interval", "clone_max".
	Meta map[string]string
	// Instance is OCF_RESOURCE_INSTANCE, the resource's id in the CIB.
	Instance string
	// Timeout is the operation timeout (meta timeout, in ms); 0 when unset,
	// and at most MaxTimeout.
	Timeout time.Duration
	// Interval is the recurring interval of the operation (meta interval, in
	// ms); 0 when unset, and at most MaxTimeout.
	Interval time.Duration
	// CheckLevel is OCF_CHECK_LEVEL, the depth of a monitor (0 when unset).
	CheckLevel int
	// RscTmp is HA_RSCTMP, the directory for pid files and locks.
	RscTmp string
	// Debug is HA_debug set to anything but 0, as ha_debug reads it:
	// debug lines are logged.
	Debug bool
	// LogFacility is HA_LOGFACILITY; empty or "none" means no syslog.
	LogFacility string
	// LogFile is HA_LOGFILE, a file that log lines are appended to as
	// well, as ocf-shellfuncs' ha_log does; "" for none.
	LogFile string
	// RAVersionMajor and RAVersionMinor are OCF_RA_VERSION_MAJOR and
	// OCF_RA_VERSION_MINOR, the version of the resource agent API the
	// caller speaks (SpeaksOCF11); "" when unset.
	RAVersionMajor, RAVersionMinor string
	// TraceRA, TraceFile and VarLib are OCF_TRACE_RA, OCF_TRACE_FILE and
	// HA_VARLIB, which decide the trace (ParseTrace).
	TraceRA, TraceFile, VarLib string
	// Vars are the environment's OCF_ and HA_ variables in os.Environ
	// form, sorted: how the agent was called, which a trace records.
	Vars []string
}

// ParseEnv reads an environment in os.Environ form. It is the one
// reader of the environment: what the rest of the package needs of it,
// it takes from the Env.
func ParseEnv(environ []string) Env {
	e := Env{Params: map[string]string{}, Meta: map[string]string{}, RscTmp: DefaultRscTmp}
	for _, kv := range environ {
		if strings.HasPrefix(kv, "OCF_") || strings.HasPrefix(kv, "HA_") {
			e.Vars = append(e.Vars, kv)
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(k, metaPrefix):
			e.Meta[k[len(metaPrefix):]] = v
		case strings.HasPrefix(k, paramPrefix):
			e.Params[k[len(paramPrefix):]] = v
		case k == "OCF_RESOURCE_INSTANCE":
			e.Instance = v
		case k == "OCF_CHECK_LEVEL":
			e.CheckLevel, _ = strconv.Atoi(v)
		case k == "HA_RSCTMP" && v != "":
			e.RscTmp = v
		case k == "HA_debug":
			// As ha_debug reads it: anything but empty or 0 is on.
			e.Debug = v != "" && v != "0"
		case k == "HA_LOGFACILITY" && v != "none":
			e.LogFacility = v
		case k == "HA_LOGFILE":
			e.LogFile = v
		case k == "OCF_RA_VERSION_MAJOR":
			e.RAVersionMajor = v
		case k == "OCF_RA_VERSION_MINOR":
			e.RAVersionMinor = v
		case k == "OCF_TRACE_RA":
			e.TraceRA = v
		case k == "OCF_TRACE_FILE":
			e.TraceFile = v
		case k == "HA_VARLIB":
			e.VarLib = v
		}
	}
	slices.Sort(e.Vars)
	e.Timeout = millis(e.Meta["timeout"])
	e.Interval = millis(e.Meta["interval"])
	return e
}

// MaxTimeout is the longest operation timeout or interval that ParseEnv
// reads; a larger one counts as this one. Pacemaker keeps an operation's
// timeout and interval as 32-bit milliseconds (an int and a guint in its
// executor API), so no value it passes is above 2^31-1 ms, about 24.8
// days; and without a cap, a number of milliseconds above 2^63 ns would
// overflow time.Duration into a negative or tiny deadline, and the action
// would give up at once.
const MaxTimeout = math.MaxInt32 * time.Millisecond

// millis reads a meta duration: Pacemaker passes milliseconds. Anything
// unreadable (not a decimal integer), zero or negative counts as unset
// rather than failing the action; a number too large, even for int64,
// counts as MaxTimeout.
func millis(v string) time.Duration {
	n, err := strconv.ParseInt(v, 10, 64)
	if errors.Is(err, strconv.ErrRange) && n > 0 {
		return MaxTimeout
	}
	if err != nil || n <= 0 {
		return 0
	}
	if n > int64(MaxTimeout/time.Millisecond) {
		return MaxTimeout
	}
	return time.Duration(n) * time.Millisecond
}

// IsProbe says whether action is a probe: a monitor with interval 0, which
// Pacemaker runs to learn where a resource is before it starts it anywhere.
// As in ocf-shellfuncs, a monitor without an interval (run by hand or by
// crm_resource --force-check) counts as a probe.
func (e Env) IsProbe(action string) bool {
	return action == "monitor" && e.Interval == 0
}

// Context returns a context whose deadline leaves a margin before the
// operation timeout, so that the agent answers before Pacemaker gives up on
// it and records a timeout instead of the agent's own result. The timeout
// counts from now; an agent's main wants ContextSince(ProcessStart()).
func (e Env) Context(parent context.Context) (context.Context, context.CancelFunc) {
	return e.ContextSince(parent, time.Now())
}

// ContextSince is Context with the timeout counted from start, the moment
// the caller began timing the operation: for an agent, the fork that
// ProcessStart reports. A start longer ago than the whole timeout cannot
// be that moment, since the caller would have killed the process by now
// (it is a shell's that exec'd the agent by hand, say): the timeout then
// counts from now. A process that begins inside the margin, on a loaded
// node, gets half of the time left and the other half to answer: a
// deadline already past would fail at once an action that had time to
// succeed, a stop too, whose failure gets the node fenced.
func (e Env) ContextSince(parent context.Context, start time.Time) (context.Context, context.CancelFunc) {
	if e.Timeout <= 0 {
		return context.WithCancel(parent)
	}
	timeout := min(e.Timeout, MaxTimeout) // an Env not made by ParseEnv
	margin := min(timeout/10, time.Second)
	now := time.Now()
	if now.Sub(start) >= timeout {
		start = now
	}
	end := start.Add(timeout)
	deadline := end.Add(-margin)
	if half := now.Add(end.Sub(now) / 2); half.After(deadline) {
		deadline = half
	}
	return context.WithDeadline(parent, deadline)
}

// SpeaksOCF11 says whether the caller speaks version 1.1 or later of the
// resource agent API: Pacemaker 2.1 and later set OCF_RA_VERSION_MAJOR and
// OCF_RA_VERSION_MINOR for every action, meta-data included; ocf-tester
// and older callers set neither, and get what the 1.0 API allows.
func (e Env) SpeaksOCF11() bool {
	ma, err1 := strconv.Atoi(e.RAVersionMajor)
	mi, err2 := strconv.Atoi(e.RAVersionMinor)
	if err1 != nil || ma < 1 {
		return false
	}
	return ma > 1 || err2 == nil && mi >= 1
}
