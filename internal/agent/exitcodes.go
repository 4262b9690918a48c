package agent

import (
	"errors"
	"fmt"

	"github.com/floatip/floatip/ocf"
)

// Why resolve could not say where the address belongs. Each has IPaddr2's
// exit code per kind of action, in exitCode: the one page where a reader
// finds its exit-code rules.
type failure int

const (
	// missingIP: no ip parameter.
	missingIP failure = iota + 1
	// notRoot: start and stop need root.
	notRoot
	// badParam: a parameter that can never work.
	badParam
	// badNicName: nic is no interface name. Only start and validate-all
	// judge it; elsewhere no such nic is here.
	badNicName
	// badAddress: ip or cidr_netmask do not parse. Only start and
	// validate-all judge them; elsewhere findif finds nothing.
	badAddress
	// badBroadcast: broadcast does not parse; IPaddr2's findif judges it
	// with the address.
	badBroadcast
	// noNamespace: network_namespace does not exist on this node.
	noNamespace
	// noNic: the nic does not exist on this node.
	noNic
	// noRoute: findif found no nic or prefix, or could not read the
	// routes and links it needs.
	noRoute
	// notEthernet: the nic cannot carry the announcements.
	notEthernet
	// labelTooLong: the kernel would refuse the label, so never took it.
	labelTooLong
	// kernelError: the node's state could not be read.
	kernelError
)

// Action is one of the agent's actions. The command line declares each
// once with its help (cmd/floatip) and hands it here as this value, which
// the exit-code table reads its role from: the same typed value from the
// command line to exitCode, where a name would be compared at every turn.
type Action int

// The agent's actions, in the order of actions below.
const (
	Start Action = iota + 1
	Stop
	Monitor
	Status
	ValidateAll
	ReloadAgent
	// Announce sends the burst of an address again, by hand or as the
	// background sender of a start (Agent.Announce).
	Announce
)

// actions declares each Action once: its OCF name and its role.
var actions = [...]struct {
	name string
	role role
}{
	Start:       {"start", roleStart},
	Stop:        {"stop", roleStop},
	Monitor:     {"monitor", roleCheck}, // a probe at interval 0: roleOf
	Status:      {"status", roleCheck},
	ValidateAll: {"validate-all", roleValidate},
	ReloadAgent: {"reload-agent", roleCheck},
	Announce:    {"announce", roleCheck},
}

// Actions are all of the agent's actions, for a caller that lists them.
func Actions() []Action {
	out := make([]Action, 0, len(actions)-1)
	for x := Start; int(x) < len(actions); x++ {
		out = append(out, x)
	}
	return out
}

// String is the action's OCF name, as Pacemaker and the command line
// give it.
func (x Action) String() string {
	if x < Start || int(x) >= len(actions) {
		return fmt.Sprintf("Action(%d)", int(x))
	}
	return actions[x].name
}

// role groups the actions as IPaddr2 does when it picks an exit code.
type role int

const (
	roleStart role = iota
	roleValidate
	roleStop
	// roleProbe is a monitor with interval 0, which asks where the
	// resource is before Pacemaker starts it anywhere.
	roleProbe
	// roleCheck is a recurring monitor, status, reload-agent and
	// announce.
	roleCheck
)

// exitCode is IPaddr2's answer to a failure in each role. On a node where
// the address cannot be, a probe finds it not running and stop has nothing
// to do (a failed stop gets the node fenced); start and validate-all judge
// the configuration.
func exitCode(f failure, r role) ocf.Status {
	switch f {
	case missingIP, badParam:
		return pick(r, ocf.ErrConfigured, ocf.ErrConfigured, ocf.Success, ocf.ErrConfigured, ocf.ErrConfigured)
	case notRoot:
		return ocf.ErrPerm
	// What findif refuses (the nic, the address, the prefix, the
	// broadcast) fails start with OCF_ERR_INSTALLED since IPaddr2 4.17:
	// a nic that exists on some nodes only is exactly what it is for,
	// and Pacemaker tries another node instead of banning the resource
	// from all of them; validate-all still says OCF_ERR_CONFIGURED.
	case badNicName:
		return pick(r, ocf.ErrInstalled, ocf.ErrConfigured, ocf.Success, ocf.NotRunning, ocf.NotRunning)
	case badAddress:
		return pick(r, ocf.ErrInstalled, ocf.ErrConfigured, ocf.Success, ocf.NotRunning, ocf.ErrGeneric)
	case badBroadcast:
		return pick(r, ocf.ErrInstalled, ocf.ErrConfigured, ocf.Success, ocf.NotRunning, ocf.NotRunning)
	case noNamespace:
		// IPaddr2 runs itself under ip netns exec, which exits 255 for
		// every action, stop too (a failed stop gets the node fenced).
		// A namespace is made on each node by whoever runs the node, so
		// one missing is this node's problem: OCF_ERR_INSTALLED makes
		// Pacemaker try another node, where OCF_ERR_CONFIGURED would ban
		// the resource from all of them. An address cannot be in a
		// namespace that is not there: stop has nothing to do, and a
		// monitor finds it not running.
		return pick(r, ocf.ErrInstalled, ocf.ErrInstalled, ocf.Success, ocf.NotRunning, ocf.NotRunning)
	case noNic:
		return pick(r, ocf.ErrInstalled, ocf.ErrConfigured, ocf.Success, ocf.NotRunning, ocf.NotRunning)
	case noRoute:
		// OCF_ERR_INSTALLED at start since IPaddr2 4.17: Pacemaker tries
		// another node at once instead of this one again.
		return pick(r, ocf.ErrInstalled, ocf.ErrGeneric, ocf.Success, ocf.NotRunning, ocf.ErrGeneric)
	case notEthernet:
		return pick(r, ocf.ErrConfigured, ocf.ErrConfigured, ocf.Success, ocf.NotRunning, ocf.NotRunning)
	case labelTooLong:
		return pick(r, ocf.ErrConfigured, ocf.ErrConfigured, ocf.Success, ocf.ErrConfigured, ocf.ErrConfigured)
	}
	return ocf.ErrGeneric
}

func pick(r role, start, validate, stop, probe, check ocf.Status) ocf.Status {
	return [...]ocf.Status{roleStart: start, roleValidate: validate, roleStop: stop, roleProbe: probe, roleCheck: check}[r]
}

// resolveError is resolve's error: why, and the cause an admin reads.
type resolveError struct {
	why failure
	err error
}

func (e *resolveError) Error() string { return e.err.Error() }
func (e *resolveError) Unwrap() error { return e.err }

func fail(why failure, err error) error { return &resolveError{why: why, err: err} }

// failf is fail with a reason in IPaddr2's words, which are sentences.
func failf(why failure, format string, args ...any) error {
	return fail(why, reason(fmt.Sprintf(format, args...)))
}

// reason is an exit reason as an error.
type reason string

func (r reason) Error() string { return string(r) }

// roleOf is the role of x: its declared one, except that a monitor with
// interval 0 is a probe.
func (a *Agent) roleOf(x Action) role {
	if x == Monitor && a.Env.IsProbe(x.String()) {
		return roleProbe
	}
	return actions[x].role
}

// statusFor ends action x after resolve failed with err: a success or
// "not running" is logged, a failure gets its one-line exit reason.
func (a *Agent) statusFor(x Action, err error) ocf.Status {
	var re *resolveError
	if !errors.As(err, &re) {
		return ocf.Fail(a.Log, ocf.ErrGeneric, "%v", err)
	}
	st := exitCode(re.why, a.roleOf(x))
	switch {
	case st == ocf.Success:
		a.Log.Warnf("%v: nothing to stop", err)
	case st == ocf.NotRunning:
		a.Log.Infof("%v: not running here", err)
	case re.why == noRoute, re.why == badAddress && st == ocf.ErrGeneric:
		return ocf.Fail(a.Log, st, "Unable to find nic or netmask: %v", err)
	default:
		return ocf.Fail(a.Log, st, "%v", err)
	}
	return st
}
