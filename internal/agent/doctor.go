package agent

import (
	"errors"

	"github.com/floatip/floatip/internal/doctor"
)

// ResolveForDoctor resolves the configuration as validate-all does, for
// the doctor (doctor.Doctor.Resolve): where the address belongs and the
// namespace to ask, or a *doctor.Invalid with the code, the reason and
// the fix. As validate-all would, it prints the exit reason on stderr;
// the doctor's reader gets it on stdout as well.
func (a *Agent) ResolveForDoctor() (*doctor.Subject, func(), error) {
	t, err := a.resolve(ValidateAll)
	if err != nil {
		st := a.statusFor(ValidateAll, err)
		return nil, nil, &doctor.Invalid{Status: st, Reason: validationReason(err), Fix: configFix(err)}
	}
	s := &doctor.Subject{
		IP:              t.cfg.IP,
		Prefix:          t.prefix,
		Link:            t.link,
		Label:           t.cfg.FullLabel(t.link.Name),
		Namespace:       t.cfg.NetworkNamespace,
		ByRoutes:        t.found.Route != nil,
		KillConnections: t.cfg.KillConnections,
		Node:            t.k,
	}
	if t.cfg.Clone != nil {
		s.CloneCheck = func() (string, error) {
			err := t.k.CheckShared(spec(t))
			if lacks := lacking(err); lacks != nil {
				return lacks.Error(), nil
			}
			return "", err
		}
	}
	return s, t.k.Close, nil
}

// validationReason is the exit reason validate-all gives for err, as
// statusFor words it.
func validationReason(err error) string {
	var re *resolveError
	if errors.As(err, &re) && re.why == noRoute {
		return "Unable to find nic or netmask: " + err.Error()
	}
	return err.Error()
}

// configFix says what to do about a configuration that does not validate.
func configFix(err error) string {
	var re *resolveError
	if !errors.As(err, &re) {
		return "run the doctor as root"
	}
	switch re.why {
	case missingIP:
		return "give the address: --ip 198.18.0.100, or OCF_RESKEY_ip"
	case noNic, badNicName:
		return "name an interface of this node (ip -br link), or leave nic empty for the routes to choose"
	case noRoute:
		return "give nic and cidr_netmask, or give a nic an address in the floating address's subnet, so that a connected route covers it (ip route); a nic that is down has no connected routes (ip -br link)"
	case noNamespace:
		return "create the namespace (ip netns add), or correct network_namespace"
	case notEthernet:
		return "put the address on an Ethernet nic: floatip announces with Ethernet frames"
	case labelTooLong:
		return "shorten iflabel: nic:label must fit in 15 characters"
	case kernelError:
		return "run the doctor as root"
	}
	return "correct the parameter the reason names (floatip --help lists them)"
}
