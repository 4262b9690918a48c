// Package doctor checks one node for what would break a failover of the
// floating address: the link, the address, the kernel settings that hide
// it, another holder, HA_RSCTMP and whether connections can be ended. It
// changes nothing, and its exit codes are its own, not OCF's. It reads the
// node through the narrow Node it declares, and the configuration as the
// agent resolved it (Subject), so that it is tested with fakes and knows
// nothing of the agent.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/floatip/floatip/internal/netif"
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

// String is the level as the report prints it.
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

// Status is the doctor's exit code. It is its own, not OCF's: a script or
// a configuration management run tells "sound" from "look at it" from "a
// failover would break" by it, and a trace names it as the doctor's, not
// as the OCF code of the same number.
type Status int

// The doctor's exit codes. A SKIP exits as a warning, because a check
// that could not be made leaves a doubt that "all OK" would hide. A
// failed check is 3, not 2: 2 is what every floatip command, the doctor
// too, exits with for a command line it cannot read (OCF_ERR_ARGS), and
// a script must tell "a failover would break here" from "floatip was
// called wrong". The codes still grow with how bad it is.
const (
	ExitOK   Status = 0
	ExitWarn Status = 1
	ExitFail Status = 3
)

// String names the exit code, as a trace shows it.
func (s Status) String() string {
	switch s {
	case ExitOK:
		return "DOCTOR_OK"
	case ExitWarn:
		return "DOCTOR_WARN"
	case ExitFail:
		return "DOCTOR_FAIL"
	}
	return fmt.Sprintf("doctor.Status(%d)", int(s))
}

// Code is the exit code as a number, for ocf.ExitCode.
func (s Status) Code() int { return int(s) }

// Finding is one check the doctor made, or could not make.
type Finding struct {
	Level Level
	// Check names what was looked at: config, link, address, sysctl,
	// neighbours, rsctmp, connections, clone.
	Check string
	What  string
	// Fix says what to do, for a finding that is not OK.
	Fix string
}

// Node is what the doctor asks of the network namespace of the address:
// the agent's kernel boundary answers it, and so does a fake.
type Node interface {
	// AddrOn returns the address p on link with label, nil when it is
	// not there.
	AddrOn(link netif.Link, p netip.Prefix, label string) (*netif.Addr, error)
	// AddrsOf returns the addresses equal to ip, on any link.
	AddrsOf(ip netip.Addr) ([]netif.Addr, error)
	// AddrsIn returns the IPv4 addresses of link in p's subnet with p's
	// prefix length.
	AddrsIn(link netif.Link, p netip.Prefix) ([]netif.Addr, error)
	LinkByIndex(index int) (netif.Link, error)
	// Routes are the main table's routes of a family.
	Routes(f netif.Family) ([]netif.Route, error)
	// Sysctl reads a kernel setting by its dotted name.
	Sysctl(name string) (string, error)
	// CanDestroySockets says whether kill_connections can work here.
	CanDestroySockets() (bool, error)
	// Probe asks the link whether another host answers for ip, and
	// names it; "" when none did.
	Probe(ctx context.Context, link netif.Link, ip netip.Addr) (string, error)
}

// Subject is the configured address as validate-all resolves it on this
// node: where it belongs, and the node to ask about it.
type Subject struct {
	IP     netip.Addr
	Prefix netip.Prefix
	Link   netif.Link
	// Label is the label the address should carry, "" for none.
	Label string
	// Namespace is the network_namespace parameter, which the fixes name.
	Namespace string
	// ByRoutes says that the routes chose the nic and the prefix, rather
	// than nic and cidr_netmask.
	ByRoutes        bool
	KillConnections bool
	Node            Node
	// CloneCheck, for a load-shared clone, asks the kernel whether it can
	// program the clone's rules, changing nothing: lacks names what it
	// lacks, "" when nothing; err is a check it could not make. nil for
	// an address of one node.
	CloneCheck func() (lacks string, err error)
}

// Invalid is the error of a configuration that does not validate here: the
// code validate-all exits with (its name), its exit reason, and what to do
// about it.
type Invalid struct {
	Status ocf.Status
	Reason string
	Fix    string
}

// Error is the exit reason, so that an Invalid reads as validate-all's.
func (e *Invalid) Error() string { return e.Reason }

// Doctor checks one configured address on this node.
type Doctor struct {
	// Resolve resolves the configuration as validate-all does, and
	// returns the subject with a function that releases its Node, or an
	// *Invalid that says why it does not validate.
	Resolve func() (*Subject, func(), error)
	// RscTmp is HA_RSCTMP, where the locks and the pid files go.
	RscTmp string
}

// Examine inspects this node for the configured address and returns what
// would break a failover, each with its fix, and what it could not check.
// It changes nothing: an admin runs it on a node before trusting it with
// the address.
func (d *Doctor) Examine(ctx context.Context) []Finding {
	var out []Finding
	add := func(l Level, check, what, fix string) { out = append(out, Finding{l, check, what, fix}) }

	s, release, err := d.Resolve()
	if err != nil {
		inv := &Invalid{Status: ocf.ErrGeneric, Reason: err.Error(), Fix: "run the doctor as root"}
		errors.As(err, &inv)
		add(Fail, "config", fmt.Sprintf("the configuration does not validate here (%s): %s", inv.Status, inv.Reason), inv.Fix)
		add(Skip, "checks", "the other checks need a configuration that validates", "")
		return out
	}
	defer release()
	how := "the routes chose them"
	if !s.ByRoutes {
		how = "as nic and cidr_netmask give them"
	}
	add(OK, "config", fmt.Sprintf("%s belongs on %s with prefix /%d (%s)", s.IP, s.Link.Name, s.Prefix.Bits(), how), "")

	linkOK := s.checkLink(add)
	s.checkAddress(add)
	s.checkSecondaries(add)
	s.checkSysctls(add)
	s.checkNeighbours(ctx, linkOK, add)
	checkRscTmp(d.RscTmp, add)
	s.checkConnections(add)
	s.checkClone(add)
	return out
}

// Print writes the findings for a human, one line each with its level and
// a fix under each that is not OK (both escaped, see ocf.Printable), then
// a summary, and returns the doctor's exit code: ExitOK when every check
// passed, ExitWarn when the worst is a warning or a check it could not
// make (SKIP), ExitFail when one failed.
func Print(w io.Writer, fs []Finding) Status {
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
	st := ExitOK
	switch worst {
	case Skip, Warn:
		st = ExitWarn
	case Fail:
		st = ExitFail
	}
	fmt.Fprintf(w, "doctor: %d OK, %d WARN, %d FAIL, %d SKIP: exit %d\n", n[OK], n[Warn], n[Fail], n[Skip], int(st))
	return st
}
