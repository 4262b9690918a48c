// Package agent composes floatip's OCF actions (start, stop, monitor,
// status, validate-all) from the validated configuration, the kernel
// boundary and the announcer. It decides every exit code, following
// ocf:heartbeat:IPaddr2 except where docs/compatibility.md says
// otherwise. The kernel is an interface owned here, so all of this is tested
// with fakes and without root.
package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/floatip/floatip/internal/config"
	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/ocf"
)

// Agent carries out the actions for one resource.
type Agent struct {
	// Open returns the Kernel of the named network namespace, "" for the
	// agent's own. A namespace that does not exist is an error matching
	// netif.ErrNoNamespace.
	Open func(namespace string) (Kernel, error)
	// Background starts the detached sender of the rest of a burst, which
	// holds the files in hold until it exits, and returns its pid; nil
	// sends the whole burst in the foreground.
	Background func(args []string, hold ...*os.File) (int, error)
	// Senders returns the record of ip's background sender in the
	// network namespace netns (Node.NamespaceID): cmd/floatip gives the
	// pid files in HA_RSCTMP (sender.For).
	Senders func(ip netip.Addr, netns uint64) SenderRecord
	Log     *ocf.Logger
	Env     ocf.Env
	// Params are the parameter values with the meta-data's defaults filled
	// in for those Pacemaker did not pass.
	Params map[string]string
	// Defaults are the meta-data's defaults.
	Defaults map[string]string
	// Root says whether the agent runs with root privileges, which start
	// and stop need.
	Root bool
	// Stdout receives the status action's "running"/"stopped".
	Stdout interface{ Write([]byte) (int, error) }
	// Trace says that the action is traced (trace_ra): every request to
	// the Kernel and its answer is logged at debug level, which the
	// Logger writes to the trace.
	Trace bool

	// spawning is held from starting a background sender to recording
	// it; quiet, set under it, says that no other may start (Quiesce).
	spawning sync.Mutex
	quiet    bool
}

// Quiesce waits until a background sender being started is recorded, and
// lets no other start. The caller calls it before the process exits: an
// action that its deadline cut short (ocf.Run answered for it) still
// runs, and a sender started but not recorded would announce on unseen
// by stop, by monitor's refresh and by the next start, which starts
// another beside it. The wait is a fork and a small file's write.
func (a *Agent) Quiesce() {
	a.spawning.Lock()
	defer a.spawning.Unlock()
	a.quiet = true
}

// Handler returns the function that carries out x, for ocf.Run. Announce
// is a burst by hand here; the background sender calls Announce itself.
func (a *Agent) Handler(x Action) ocf.Action {
	switch x {
	case Start:
		return a.start
	case Stop:
		return a.stop
	case Monitor:
		return a.monitor
	case Status:
		return a.status
	case ValidateAll:
		return a.validate
	case ReloadAgent:
		return a.reload
	case Announce:
		return func(ctx context.Context) ocf.Status { return a.Announce(ctx, 0, 0) }
	}
	return nil
}

// Handlers returns the handler of each action by its name, the map
// ocf.Run dispatches from.
func (a *Agent) Handlers() map[string]ocf.Action {
	m := make(map[string]ocf.Action, len(actions))
	for _, x := range Actions() {
		m[x.String()] = a.Handler(x)
	}
	return m
}

// target is a resolved configuration: where the address belongs.
type target struct {
	k      Kernel
	cfg    *config.Config
	link   netif.Link
	prefix netip.Prefix
	// linkMissing: the named nic does not exist here.
	linkMissing bool
	// nowhere: the routes give the address no place, and stop looks
	// for it on every nic (see elsewhere).
	nowhere bool
	found   netif.Found
	// netns is the namespace's inode (Node.NamespaceID), which keys the
	// files of the address in HA_RSCTMP; 0 when it could not be read.
	netns uint64
}

// stopParams are the parameters stop needs to find and remove the address.
// When the whole configuration no longer parses, stop retries with these
// alone, so that an address whose other parameters became invalid can still
// be stopped (resource-agents #891).
var stopParams = []string{"ip", "nic", "cidr_netmask", "iflabel", "unique_clone_address", "network_namespace"}

// resolve validates the configuration and finds the nic and prefix, as
// IPaddr2's ip_init and findif do. When it cannot, its error says why, and
// statusFor turns that into the action's exit code. The action's role
// decides what it insists on.
func (a *Agent) resolve(x Action) (*target, error) {
	params := a.Params
	r := a.roleOf(x)
	a.warnUnknown()
	// IPaddr2's order: a missing ip, then privileges, then the rest.
	if params["ip"] == "" && r != roleStop {
		return nil, failf(missingIP, "IP address (the ip parameter) is mandatory")
	}
	if !a.Root && (r == roleStart || r == roleStop) {
		return nil, failf(notRoot, "You must be root for %s operation.", x)
	}
	cfg, err := config.Parse(params, a.Env.Meta)
	var ce *config.Error
	if errors.As(err, &ce) && ce.Param == "broadcast" && r != roleStart && r != roleValidate {
		// Only start uses the broadcast address; like IPaddr2's findif,
		// only start and validate-all judge it.
		params = maps.Clone(params)
		params["broadcast"] = ""
		cfg, err = config.Parse(params, a.Env.Meta)
	}
	if err != nil && r == roleStop {
		a.Log.Warnf("%v: stopping with the address parameters alone", err)
		cfg, err = a.parseForStop(params)
	}
	if err != nil {
		return nil, parseFailure(err)
	}
	for _, w := range cfg.Warnings {
		a.Log.Warnf("%s", w)
	}
	k, err := a.open(cfg.NetworkNamespace)
	switch {
	case errors.Is(err, netif.ErrNoNamespace):
		// A node without the namespace is, like a node without the nic,
		// a node where the address is not running.
		return nil, fail(noNamespace, err)
	case err != nil:
		return nil, fail(kernelError, err)
	}
	t, err := a.locate(r, cfg, k)
	if err != nil {
		k.Close()
		return nil, err
	}
	if t.netns, err = k.NamespaceID(); err != nil {
		// Not a reason to fail: the files are then named by the address
		// alone, as before namespaces were told apart.
		a.Log.Warnf("%v: the files of %s in %s are not told apart from another namespace's", err, cfg.IP, a.Env.RscTmp)
	}
	return t, nil
}

// parseForStop parses the parameters stop needs to find and remove the
// address (stopParams) alone, with the defaults for the rest, once the
// whole configuration params did not parse.
func (a *Agent) parseForStop(given map[string]string) (*config.Config, error) {
	params := maps.Clone(a.Defaults)
	for _, k := range stopParams {
		if v, ok := given[k]; ok {
			params[k] = v
		}
	}
	// heartbeat:IPaddr2 4.12 adds an address written with spaces
	// around it, or after its prefix, which floatip refuses to
	// start: its stop still removes what IPaddr2 left.
	params["ip"] = strings.TrimSpace(params["ip"])
	params["cidr_netmask"] = strings.TrimSpace(params["cidr_netmask"])
	cfg, err := config.Parse(params, a.Env.Meta)
	var ce *config.Error
	if errors.As(err, &ce) && ce.Param == "iflabel" {
		// The label plays no part in finding the address, and one
		// that floatip would not add may still be on the nic:
		// heartbeat:IPaddr2 and the kernel take any bytes.
		params["iflabel"] = ""
		params["nic"], _, _ = strings.Cut(params["nic"], ":")
		cfg, err = config.Parse(params, a.Env.Meta)
	}
	if err != nil && !(errors.As(err, &ce) && ce.Param == "ip") {
		// The clone settings themselves are broken: the address as
		// the ip parameter gives it is the best guess left. Not when
		// the address is what does not read: for a unique clone
		// whose number does not, that guess is another instance's
		// address.
		params["unique_clone_address"] = a.Defaults["unique_clone_address"]
		cfg, err = config.Parse(params, nil)
	}
	return cfg, err
}

// parseFailure classifies a configuration that does not parse. Like
// IPaddr2, only start and validate-all judge the syntax of the nic, the
// address and the prefix: for the other actions such a value is one that
// findif cannot find on this node (see exitCode).
func parseFailure(err error) error {
	var ce *config.Error
	if errors.As(err, &ce) {
		switch ce.Param {
		case "nic":
			return fail(badNicName, err)
		case "ip", "cidr_netmask":
			return fail(badAddress, err)
		case "broadcast":
			return fail(badBroadcast, err)
		}
	}
	return fail(badParam, err)
}

// locate finds the nic and prefix of cfg in k for an action of role r.
func (a *Agent) locate(r role, cfg *config.Config, k Kernel) (*target, error) {
	t := &target{k: k, cfg: cfg}
	q := netif.Query{IP: cfg.IP, PrefixLen: cfg.PrefixLen}
	if cfg.Proto >= 0 {
		q.MatchProtocol, q.Protocol = true, uint8(cfg.Proto)
	}
	if cfg.NIC != "" {
		l, err := t.k.LinkByName(cfg.NIC)
		switch {
		case errors.Is(err, netif.ErrLinkNotFound):
			// Only start and validate-all insist on the nic: elsewhere a
			// node without it is a node where the address is not running
			// (resource-agents #334).
			if r == roleStart || r == roleValidate {
				return nil, failf(noNic, "Invalid interface name [%s]: no such interface", cfg.NIC)
			}
			t.linkMissing = true
			l = netif.Link{Name: cfg.NIC}
		case err != nil:
			return nil, fail(noRoute, err)
		}
		t.link, q.LinkIndex = l, l.Index
	}
	if t.linkMissing {
		if cfg.PrefixLen < 0 {
			// Without the nic no route gives the prefix; the reason names
			// the nic, as IPaddr2's findif does.
			return nil, failf(noRoute, "Invalid interface name [%s]: no such interface, and no cidr_netmask to give the prefix", cfg.NIC)
		}
		t.prefix = netip.PrefixFrom(cfg.IP, cfg.PrefixLen)
		return t, nil
	}
	if cfg.NIC == "" || cfg.PrefixLen < 0 || needBroadcast(r, cfg) {
		if err := a.find(t, q, needBroadcast(r, cfg)); err != nil {
			if r == roleStop {
				// The routes changed under the address: stop must still
				// find it where it is.
				a.Log.Infof("Unable to find nic or netmask: %v: looking for %s on every nic", err, cfg.IP)
				t.nowhere = true
				return t, nil
			}
			return nil, fail(noRoute, err)
		}
	} else {
		t.found = netif.Found{LinkIndex: t.link.Index, PrefixLen: cfg.PrefixLen}
	}
	t.prefix = netip.PrefixFrom(cfg.IP, t.found.PrefixLen)
	if r == roleStart || r == roleValidate {
		if err := linkKindError(t.link); err != nil {
			return nil, fail(notEthernet, err)
		}
	}
	if err := cfg.CheckLabel(t.link.Name); err != nil {
		// At stop: the kernel never took such a label, so the address
		// is not there to stop.
		return nil, fail(labelTooLong, err)
	}
	return t, nil
}

// needBroadcast says whether the action must look at the routes for the
// broadcast address even though nic and prefix are both given: start
// adds it, and every action of a load-shared address hashes it.
func needBroadcast(r role, cfg *config.Config) bool {
	return (r == roleStart || cfg.Clone != nil) && !cfg.Is6() && cfg.BroadcastMode == config.BroadcastAuto
}

// find runs findif over the kernel's routes and addresses.
func (a *Agent) find(t *target, q netif.Query, broadcast bool) error {
	fam := netif.FamilyOf(q.IP)
	routes, err := t.k.Routes(fam)
	if err != nil {
		return err
	}
	f, err := netif.FindIf(q, routes)
	if errors.Is(err, netif.ErrNoRoute) && loopbackNet.Contains(q.IP) {
		f, err = a.onLoopback(t, q)
	}
	if err != nil {
		return err
	}
	if broadcast && f.Route != nil && f.Route.Src.IsValid() {
		// The broadcast of the address that configures the subnet, as
		// findif copies it.
		src, err := t.k.AddrsOf(f.Route.Src)
		if err != nil {
			return err
		}
		if len(src) > 0 {
			f.Broadcast = src[0].Broadcast
		}
	}
	t.found = f
	if t.link.Index != f.LinkIndex {
		l, err := t.k.LinkByIndex(f.LinkIndex)
		if err != nil {
			return err
		}
		t.link = l
	}
	return nil
}

// loopbackNet is 127.0.0.0/8, which findif places on the loopback device
// when no route of the main table covers it: every IPaddr2 does, and
// admins rely on it for addresses that only local services use.
var loopbackNet = netip.MustParsePrefix("127.0.0.0/8")

// onLoopback is findif's loopback rule: the address goes to lo, with the
// prefix of the kernel's local route for lo's own 127.0.0.1/8 unless one
// is given. A nic that is given must be that loopback device.
func (a *Agent) onLoopback(t *target, q netif.Query) (netif.Found, error) {
	lo, err := t.k.LinkByName("lo")
	if err != nil {
		return netif.Found{}, fmt.Errorf("find the loopback device: %w", err)
	}
	if !lo.Loopback || q.LinkIndex != 0 && q.LinkIndex != lo.Index {
		return netif.Found{}, fmt.Errorf("%w: looked for a route to %s", netif.ErrNoRoute, q.IP)
	}
	f := netif.Found{LinkIndex: lo.Index, PrefixLen: q.PrefixLen}
	if f.PrefixLen < 0 {
		f.PrefixLen = loopbackNet.Bits()
	}
	return f, nil
}

// warnUnknown logs each parameter that the meta-data does not declare, by
// name only: a CIB migrated from another agent must not lose a setting
// unseen, and a value may be a secret.
func (a *Agent) warnUnknown() {
	var unknown []string
	for name := range a.Params {
		// Not settings of the resource: Pacemaker's controller passes
		// its crm_feature_set with every operation, and trace_dir is
		// read for every agent by ocf-shellfuncs, as here by the trace.
		if _, ok := a.Defaults[name]; !ok && name != "crm_feature_set" && name != "trace_dir" {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		a.Log.Warnf("unknown parameter %s is ignored", name)
	}
}

// lookup finds the address on the link with the expected prefix, as
// IPaddr2's ip_served does; nil when it is not there. It asks the kernel
// for this address only, so its cost does not grow with the number of
// other addresses on the node.
func (a *Agent) lookup(t *target) (*netif.Addr, error) {
	if t.linkMissing || t.nowhere {
		return nil, nil
	}
	return t.k.AddrOn(t.link, t.prefix, t.cfg.FullLabel(t.link.Name))
}

// served says whether the address is on the link with the expected prefix.
func (a *Agent) served(t *target) (bool, error) {
	ad, err := a.lookup(t)
	return ad != nil, err
}

func (a *Agent) validate(context.Context) ocf.Status {
	t, err := a.resolve(ValidateAll)
	if err != nil {
		return a.statusFor(ValidateAll, err)
	}
	defer t.k.Close()
	if t.cfg.Clone != nil {
		return a.checkShared(t)
	}
	return ocf.Success
}
