package agent

import (
	"context"
	"fmt"
	"io"

	"github.com/floatip/floatip/ocf"
)

// Level is how one of the doctor's checks came out.
type Level int

// The levels, from best to worst. SKIP is a check the doctor could not
// make: it claims nothing, and so it cannot count as OK either.
const (
	OK Level = iota
	Skip
	Warn
	Fail
)

func (l Level) String() string {
	switch l {
	case OK:
		return "OK"
	case Skip:
		return "SKIP"
	case Warn:
		return "WARN"
	}
	return "FAIL"
}

// The doctor's exit codes. They are its own, not OCF's: a script or a
// configuration management run tells "sound" from "look at it" from "a
// failover would break" by them. A SKIP exits as a warning, because a
// check that could not be made leaves a doubt that "all OK" would hide.
const (
	DoctorOK   ocf.Status = 0
	DoctorWarn ocf.Status = 1
	DoctorFail ocf.Status = 2
)

// Finding is one check the doctor made, or could not make.
type Finding struct {
	Level Level
	// Check names what was looked at: config, link, address, sysctl,
	// neighbours, rsctmp, connections.
	Check string
	What  string
	// Fix says what to do, for a finding that is not OK.
	Fix string
}

// Doctor inspects this node for the configured address and returns what
// would break a failover, each with its fix, and what it could not check.
// It changes nothing: an admin runs it on a node before trusting it with
// the address.
func (a *Agent) Doctor(ctx context.Context) []Finding {
	var out []Finding
	add := func(l Level, check, what, fix string) { out = append(out, Finding{l, check, what, fix}) }

	t, err := a.resolve(ValidateAll)
	if err != nil {
		// statusFor prints the exit reason on stderr, as validate-all
		// would; the doctor's reader gets it on stdout as well.
		st := a.statusFor(ValidateAll, err)
		add(Fail, "config", fmt.Sprintf("the configuration does not validate here (%s): %s", st, validationReason(err)), configFix(err))
		add(Skip, "checks", "the other checks need a configuration that validates", "")
		return out
	}
	defer t.k.Close()
	how := "the routes chose them"
	if t.found.Route == nil {
		how = "as nic and cidr_netmask give them"
	}
	add(OK, "config", fmt.Sprintf("%s belongs on %s with prefix /%d (%s)", t.cfg.IP, t.link.Name, t.prefix.Bits(), how), "")

	linkOK := a.checkLink(t, add)
	a.checkAddress(t, add)
	a.checkSecondaries(t, add)
	a.checkSysctls(t, add)
	a.checkNeighbours(ctx, t, linkOK, add)
	a.checkRscTmp(add)

	switch can, err := t.k.CanDestroySockets(); {
	case err != nil:
		add(Skip, "connections", fmt.Sprintf("could not tell whether the kernel can end connections: %v", err), "run the doctor as root")
	case can:
		add(OK, "connections", "the kernel can end connections (kill_connections works)", "")
	case t.cfg.KillConnections:
		add(Warn, "connections", "kill_connections is on, but the kernel lacks CONFIG_INET_DIAG_DESTROY: the address moves, its clients wait for TCP timeouts", "use a kernel with CONFIG_INET_DIAG_DESTROY, or set kill_connections=false")
	default:
		add(OK, "connections", "the kernel cannot end connections (CONFIG_INET_DIAG_DESTROY), and kill_connections is off", "")
	}
	return out
}

// PrintDoctor writes the findings for a human, one line each with its
// level and a fix under each that is not OK (both escaped, see
// ocf.Printable), then a summary, and returns
// the doctor's exit code: DoctorOK when every check passed, DoctorWarn
// when the worst is a warning or a check it could not make (SKIP),
// DoctorFail when one failed.
func PrintDoctor(w io.Writer, fs []Finding) ocf.Status {
	worst := OK
	var n [Fail + 1]int
	for _, f := range fs {
		n[f.Level]++
		worst = max(worst, f.Level)
		// What and Fix hold parameters' values, which may carry line
		// breaks or terminal escape sequences: a line each, escaped.
		fmt.Fprintf(w, "%-4s  %-12s %s\n", f.Level, f.Check, ocf.Printable(f.What))
		if f.Fix != "" && f.Level != OK {
			fmt.Fprintf(w, "      %-12s fix: %s\n", "", ocf.Printable(f.Fix))
		}
	}
	st := DoctorOK
	switch worst {
	case Skip, Warn:
		st = DoctorWarn
	case Fail:
		st = DoctorFail
	}
	fmt.Fprintf(w, "doctor: %d OK, %d WARN, %d FAIL, %d SKIP: exit %d\n", n[OK], n[Warn], n[Fail], n[Skip], int(st))
	return st
}
