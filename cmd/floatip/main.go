// Command floatip is an OCF resource agent for a floating IP address, a
// drop-in for ocf:heartbeat:IPaddr2. Installed as
// /usr/lib/ocf/resource.d/floatip/IPaddr2 it reads the OCF environment;
// run by hand, flags named after the parameters override it:
//
//	floatip start --ip 198.18.0.100 --cidr_netmask 24
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/floatip/floatip/internal/agent"
	"github.com/floatip/floatip/internal/sender"
	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

func main() {
	os.Exit(int(run(os.Args, os.Environ(), os.Stdout, os.Stderr)))
}

// run parses the command line and carries out the action it names, from
// the table of commands.
func run(argv, environ []string, stdout, stderr io.Writer) ocf.Status {
	return newInvocation(argv, environ, stdout, stderr).dispatch(argv)
}

// runBurst is run for a burst that a shared sender runs, which ends when
// burst is done (see serve).
func runBurst(burst context.Context, argv, environ []string, stdout, stderr io.Writer) ocf.Status {
	inv := newInvocation(argv, environ, stdout, stderr)
	inv.burst = burst
	return inv.dispatch(argv)
}

// dispatch parses the command line argv and carries out the action it
// names, from the table of commands.
func (inv *invocation) dispatch(argv []string) ocf.Status {
	if err := inv.fs.Parse(joinBoolValues(inv.fs, argv[1:])); err != nil {
		// pflag's "invalid argument ... for ... flag:" before it would
		// say the value is wrong, where only its repetition is.
		var rep *repeatedFlagError
		var short *pflag.NotExistError
		switch {
		case errors.As(err, &rep):
			err = rep
		case errors.As(err, &short) && short.GetSpecifiedShortnames() != "":
			// -ip, as Go's flag package and crm's tools spell it, is no
			// cluster of the one-letter -h and -V: name the flag meant.
			name, _, _ := strings.Cut(short.GetSpecifiedShortnames(), "=")
			if len(name) > 1 && inv.fs.Lookup(name) != nil {
				err = fmt.Errorf("unknown flag -%s: a flag takes two dashes: --%s", name, name)
			}
		}
		return ocf.Fail(inv.early, ocf.ErrArgs, "%v", err)
	}
	name, args := inv.fs.Arg(0), inv.fs.Args()[min(1, inv.fs.NArg()):]
	if v, _ := inv.fs.GetBool("version"); v {
		name, args = "version", nil
	}
	if help, _ := inv.fs.GetBool("help"); help {
		// floatip doctor --help is floatip help doctor.
		if _, known := lookupCommand(name); known && name != "help" {
			args = []string{name}
		} else {
			args = nil
		}
		name = "help"
	}
	if name == "" {
		// The usage, and last the one line that says what was wrong, as
		// every other usage error ends.
		fmt.Fprint(inv.stderr, usage(inv.prog, inv.md, inv.defaults))
		return ocf.Fail(inv.early, ocf.ErrArgs, "no action given: %s help lists them, %s help <action> explains one", inv.prog, inv.prog)
	}
	cmd, known := lookupCommand(name)
	switch {
	case !known:
		return inv.runResource(name, nil)
	case len(args) > cmd.max && cmd.max > 0:
		// help and completion take one word, which the hint about
		// parameters would not explain.
		return ocf.Fail(inv.early, ocf.ErrArgs, "unexpected argument %s: %s takes one argument, %s", quoteArg(args[cmd.max]), name, cmd.args)
	case len(args) > cmd.max:
		return ocf.Fail(inv.early, ocf.ErrArgs, "unexpected argument %s after %s: a parameter is --name value, or OCF_RESKEY_name in the environment", quoteArg(args[cmd.max]), name)
	case cmd.local != nil:
		return cmd.local(inv, args)
	}
	if share, _ := inv.fs.GetBool("background-share"); share && cmd.sender && inv.burst == nil {
		return serve(inv, argv)
	}
	return inv.runResource(name, &cmd)
}

// serve is the background sender that a start spawned: it runs its own
// burst, argv, and, while any runs, the bursts that the other starts in
// its namespace hand it (sender.Server), each as a sender spawned for it
// would, and exits when none remains. When another sender of the
// namespace listens already (two starts spawned one at once), it runs its
// own burst alone.
func serve(inv *invocation, argv []string) ocf.Status {
	netns, _ := inv.fs.GetUint64("background-netns")
	srv, _ := sender.Listen(netns)
	ip, _ := netip.ParseAddr(inv.fs.Lookup("ip").Value.String())
	own := sender.Request{Op: "announce", IP: ip, Argv: argv[1:], Env: inv.environ}
	var st ocf.Status
	srv.Serve(own, func(ctx context.Context, req sender.Request) {
		s := runBurst(ctx, append([]string{argv[0]}, req.Argv...), req.Env, inv.stdout, inv.stderr)
		if len(req.Argv) > 0 && &req.Argv[0] == &own.Argv[0] {
			// The exit code is its own burst's, as a sender's was.
			st = s
		}
	})
	return st
}

// invocation is one run of floatip: what the command line and the
// platform give every action.
type invocation struct {
	// prog is the name floatip was called by.
	prog string
	md   *metadata.Agent
	// platform are the defaults that depend on the distribution;
	// defaults, all of the parameters' defaults on this platform.
	platform, defaults map[string]string
	// env is the environment as ocf reads it, read once; environ is
	// the environment itself, which the background sender inherits.
	env            ocf.Env
	environ        []string
	fs             *pflag.FlagSet
	stdout, stderr io.Writer
	// early logs until the environment is read: a failure then has no
	// resource to name and no syslog to go to, and the exit reason alone
	// tells it.
	early *ocf.Logger
	// sent and netns are --background-sender and --background-netns:
	// the background sender's frames already sent, and the namespace
	// that start announced in.
	sent  int
	netns uint64
	// burst, when not nil, bounds the burst of a shared sender
	// (serve): a stop that drops the address ends it.
	burst context.Context
	// host gives the system's namespaces and sender (linuxHost), or says
	// why this system has none.
	host func(environ []string) (host, error)
}

// newInvocation reads what every action shares: the meta-data, the
// platform's defaults, and the flags they make.
func newInvocation(argv, environ []string, stdout, stderr io.Writer) *invocation {
	inv := &invocation{
		prog:     filepath.Base(argv[0]),
		md:       metadata.Declared(),
		platform: metadata.PlatformDefaults(osRelease()),
		env:      ocf.ParseEnv(environ),
		environ:  environ,
		stdout:   stdout,
		stderr:   stderr,
		host:     linuxHost,
	}
	inv.defaults = inv.md.Defaults()
	maps.Copy(inv.defaults, inv.platform)
	inv.fs = newFlagSet(inv.prog, inv.md, inv.defaults, stderr)
	inv.early = ocf.NewLogger(ocf.Env{}, agentName(inv.prog), os.Getpid(), stderr)
	return inv
}

// runResource carries out the action of the resource cmd, called name,
// or answers for an unknown one (nil): with the parameters of the
// environment and the flags, logged as the resource, traced when asked,
// and within the operation's timeout.
func (inv *invocation) runResource(name string, cmd *command) ocf.Status {
	env, params := inv.parameters()
	inv.sent, _ = inv.fs.GetInt("background-sender")
	inv.netns, _ = inv.fs.GetUint64("background-netns")
	if inv.sent > 0 && env.LogFacility == "" {
		// The background sender's stderr is /dev/null: without syslog a
		// failing burst would go unseen (resource-agents #958, #1076).
		env.LogFacility = "daemon"
	}
	log := ocf.NewLogger(env, agentName(inv.prog), os.Getpid(), inv.stderr)
	defer log.Close()
	if cmd == nil {
		// OCF_ERR_UNIMPLEMENTED, as IPaddr2 answers an action it lacks
		// (Pacemaker may ask for promote or notify): with the list, so
		// that a typo by hand is plain.
		return ocf.Fail(log, ocf.ErrUnimplemented, "unknown action %s: the actions are %s", quoteArg(name), strings.Join(actionNames(), ", "))
	}
	h, err := inv.host(inv.environ)
	if err != nil {
		// Not installed, as an agent without its tools: Pacemaker tries
		// another node rather than banning the resource from all.
		return ocf.Fail(log, ocf.ErrInstalled, "%v", err)
	}
	trace := ocf.ParseTrace(ocf.TraceOptions{Env: env, Params: params, Agent: agentName(inv.prog), Action: name, Now: time.Now()})
	endTrace := log.StartTrace(trace)

	a := &agent.Agent{
		Open:       h.open,
		Background: h.spawn,
		Senders:    h.senders(env.RscTmp),
		Log:        log,
		Env:        env,
		Params:     params,
		Defaults:   inv.defaults,
		Root:       os.Geteuid() == 0,
		Stdout:     inv.stdout,
		Trace:      trace.On,
	}
	handler := a.Handler(cmd.agent)
	if cmd.handler != nil {
		handler = cmd.handler(inv, a)
	}
	ctx, cancel := env.ContextSince(context.Background(), ocf.ProcessStart())
	defer cancel()
	if cmd.sender && inv.sent > 0 {
		ctx = context.Background()
	}
	st := ocf.Run(ctx, name, map[string]ocf.Action{name: handler}, log)
	// An action cut short by its deadline runs on until the exit: not
	// between starting a sender and recording it.
	a.Quiesce()
	if cmd.codes != nil {
		endTrace(cmd.codes(st))
	} else {
		endTrace(st)
	}
	return st
}

// parameters reads the environment, and the parameters from it and the
// flags, which override it, with the defaults for those neither gives.
func (inv *invocation) parameters() (ocf.Env, map[string]string) {
	env := inv.env
	env.Params = maps.Clone(env.Params)
	inv.fs.Visit(func(f *pflag.Flag) {
		if _, ok := inv.md.Parameter(f.Name); ok {
			env.Params[f.Name] = f.Value.String()
		}
	})
	params := maps.Clone(inv.defaults)
	maps.Copy(params, env.Params)
	return env, params
}

// osRelease reads os-release(5), which decides the defaults that depend on
// the distribution; none is read as no distribution known.
func osRelease() []byte {
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if b, err := os.ReadFile(p); err == nil {
			return b
		}
	}
	return nil
}

// agentName is the name the log lines carry: the name the agent was called
// by, so that installed as IPaddr2 it logs as IPaddr2 like the agent it
// replaces.
func agentName(base string) string {
	if base == "" || strings.HasPrefix(base, ".") {
		return "floatip"
	}
	return base
}
