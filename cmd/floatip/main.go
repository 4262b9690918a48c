// Command floatip is an OCF resource agent for a floating IP address, a
// drop-in for ocf:heartbeat:IPaddr2. Installed as
// /usr/lib/ocf/resource.d/floatip/IPaddr2 it reads the OCF environment;
// run by hand, flags named after the parameters override it:
//
//	floatip start --ip 198.18.0.100 --cidr_netmask 24
package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/floatip/floatip/internal/agent"
	"github.com/floatip/floatip/internal/node"
	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

func main() {
	os.Exit(int(run(os.Args, os.Environ(), os.Stdout, os.Stderr)))
}

func run(argv, environ []string, stdout, stderr io.Writer) ocf.Status {
	md := metadata.Declared()
	name := filepath.Base(argv[0])
	platform := metadata.PlatformDefaults(osRelease())
	defaults := md.Defaults()
	maps.Copy(defaults, platform)
	fs := newFlagSet(name, md, defaults, stderr)
	// Until the environment is read, a failure has no resource to name
	// and no syslog to go to: the exit reason alone tells it.
	early := ocf.NewLogger(ocf.Env{}, agentName(name), os.Getpid(), stderr)
	if err := fs.Parse(joinBoolValues(fs, argv[1:])); err != nil {
		return ocf.Fail(early, ocf.ErrArgs, "%v", err)
	}
	action, args := fs.Arg(0), fs.Args()[min(1, fs.NArg()):]
	if v, _ := fs.GetBool("version"); v {
		action, args = "version", nil
	}
	if help, _ := fs.GetBool("help"); help {
		action, args = "help", nil
	}
	if action == "" {
		fmt.Fprint(stderr, usage(name, md, defaults))
		return ocf.ErrArgs
	}
	cmd, known := lookupCommand(action)
	if known && len(args) > cmd.max {
		return ocf.Fail(early, ocf.ErrArgs, "unexpected argument %s after %s: a parameter is --name value, or OCF_RESKEY_name in the environment", quoteArg(args[cmd.max]), action)
	}
	switch action {
	case "meta-data":
		doc := metadata.WithDefaults(metadata.XML, platform)
		if ocf.SpeaksOCF11(environ) {
			doc = metadata.XML11(doc)
		}
		stdout.Write(metadata.WithVersion(doc, version))
		return ocf.Success
	case "usage", "help":
		if len(args) == 0 {
			fmt.Fprint(stdout, usage(name, md, defaults))
			return ocf.Success
		}
		c, ok := lookupCommand(args[0])
		if !ok {
			return ocf.Fail(early, ocf.ErrArgs, "help: unknown action %s: the actions are %s", quoteArg(args[0]), strings.Join(actionNames(), ", "))
		}
		fmt.Fprint(stdout, actionHelp(name, c))
		return ocf.Success
	case "version":
		fmt.Fprintf(stdout, "floatip %s\n", version)
		return ocf.Success
	case "man":
		fmt.Fprint(stdout, manPage(md, defaults, manDate()))
		return ocf.Success
	case "completion":
		if len(args) == 0 || args[0] != "bash" {
			shell := "none"
			if len(args) > 0 {
				shell = quoteArg(args[0])
			}
			return ocf.Fail(early, ocf.ErrArgs, "completion: shell %s: floatip completes for %s", shell, strings.Join(completionShells, ", "))
		}
		fmt.Fprint(stdout, bashCompletion(md))
		return ocf.Success
	}

	env := ocf.ParseEnv(environ)
	fs.Visit(func(f *pflag.Flag) {
		if _, ok := md.Parameter(f.Name); ok {
			env.Params[f.Name] = f.Value.String()
		}
	})
	params := make(map[string]string, len(defaults))
	for k, v := range defaults {
		params[k] = v
	}
	for k, v := range env.Params {
		params[k] = v
	}

	sent, _ := fs.GetInt("background-sender")
	netns, _ := fs.GetUint64("background-netns")
	if sent > 0 && env.LogFacility == "" {
		// The background sender's stderr is /dev/null: without syslog a
		// failing burst would go unseen (resource-agents #958, #1076).
		env.LogFacility = "daemon"
	}
	log := ocf.NewLogger(env, agentName(name), os.Getpid(), stderr)
	defer log.Close()
	if !known {
		// OCF_ERR_UNIMPLEMENTED, as IPaddr2 answers an action it lacks
		// (Pacemaker may ask for promote or notify): with the list, so
		// that a typo by hand is plain.
		return ocf.Fail(log, ocf.ErrUnimplemented, "unknown action %s: the actions are %s", quoteArg(action), strings.Join(actionNames(), ", "))
	}
	trace := ocf.ParseTrace(ocf.TraceOptions{Environ: environ, Params: params, Agent: agentName(name), Instance: env.Instance, Action: action, Now: time.Now()})
	endTrace := log.StartTrace(trace)

	a := &agent.Agent{
		Open:       node.Open,
		Background: node.SpawnSelf(environ),
		Log:        log,
		Env:        env,
		Params:     params,
		Defaults:   defaults,
		Root:       os.Geteuid() == 0,
		Stdout:     stdout,
		Trace:      trace.On,
	}
	actions := a.Actions()
	ctx, cancel := env.ContextSince(context.Background(), ocf.ProcessStart())
	defer cancel()
	if action == "announce" {
		if sent > 0 {
			// The sender outlives the operation that started it, whose
			// timeout it inherited: its bound is its own burst.
			ctx = context.Background()
		}
		actions["announce"] = func(ctx context.Context) ocf.Status { return a.Announce(ctx, sent, netns) }
	}
	actions["doctor"] = func(ctx context.Context) ocf.Status { return agent.PrintDoctor(stdout, a.Doctor(ctx)) }
	st := ocf.Run(ctx, action, actions, log)
	// An action cut short by its deadline runs on until the exit: not
	// between starting a sender and recording it.
	a.Quiesce()
	endTrace(st)
	return st
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
