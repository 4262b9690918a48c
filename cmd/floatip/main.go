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

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(int(run(os.Args, os.Environ(), os.Stdout, os.Stderr)))
}

func run(argv, environ []string, stdout, stderr io.Writer) ocf.Status {
	md := metadata.Declared()
	name := filepath.Base(argv[0])
	fs := newFlagSet(name, md, stderr)
	if err := fs.Parse(argv[1:]); err != nil {
		return ocf.Fail(ocf.NewLogger(ocf.Env{}, agentName(name), os.Getpid(), stderr), ocf.ErrArgs, "%v", err)
	}
	action := fs.Arg(0)
	if help, _ := fs.GetBool("help"); help {
		action = "help"
	}
	platform := metadata.PlatformDefaults(osRelease())
	switch action {
	case "meta-data":
		doc := metadata.WithDefaults(metadata.XML, platform)
		if ocf.SpeaksOCF11(environ) {
			doc = metadata.XML11(doc)
		}
		stdout.Write(doc)
		return ocf.Success
	case "usage", "help":
		fmt.Fprint(stdout, usage(name, md, fs))
		return ocf.Success
	case "version":
		fmt.Fprintf(stdout, "floatip %s\n", version)
		return ocf.Success
	case "man":
		fmt.Fprint(stdout, manPage(md))
		return ocf.Success
	case "":
		fmt.Fprint(stderr, usage(name, md, fs))
		return ocf.ErrArgs
	}

	env := ocf.ParseEnv(environ)
	fs.Visit(func(f *pflag.Flag) {
		if _, ok := md.Parameter(f.Name); ok {
			env.Params[f.Name] = f.Value.String()
		}
	})
	defaults := md.Defaults()
	maps.Copy(defaults, platform)
	params := make(map[string]string, len(defaults))
	for k, v := range defaults {
		params[k] = v
	}
	for k, v := range env.Params {
		params[k] = v
	}

	sent, _ := fs.GetInt("background-sender")
	if sent > 0 && env.LogFacility == "" {
		// The background sender's stderr is /dev/null: without syslog a
		// failing burst would go unseen (resource-agents #958, #1076).
		env.LogFacility = "daemon"
	}
	log := ocf.NewLogger(env, agentName(name), os.Getpid(), stderr)
	defer log.Close()
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
	ctx, cancel := env.Context(context.Background())
	defer cancel()
	if action == "announce" {
		if sent > 0 {
			// The sender outlives the operation that started it, whose
			// timeout it inherited: its bound is its own burst.
			ctx = context.Background()
		}
		actions["announce"] = func(ctx context.Context) ocf.Status { return a.Announce(ctx, sent) }
	}
	actions["doctor"] = func(ctx context.Context) ocf.Status { return agent.PrintDoctor(stdout, a.Doctor(ctx)) }
	st := ocf.Run(ctx, action, actions, log)
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

func newFlagSet(name string, md *metadata.Agent, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.Usage = func() {}
	for _, p := range md.Parameters {
		fs.String(p.Name, p.Content.DefaultValue(), p.ShortDesc)
	}
	fs.BoolP("help", "h", false, "show this help")
	fs.Int("background-sender", 0, "internal: run as the detached sender of a burst whose first frames start sent")
	fs.MarkHidden("background-sender")
	return fs
}

func usage(name string, md *metadata.Agent, fs *pflag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s {start|stop|status|monitor|reload-agent|validate-all|meta-data|usage|announce|doctor|version} [--parameter value ...]\n\n", name)
	fmt.Fprintf(&b, "%s\n\n", md.ShortDesc)
	fmt.Fprintf(&b, "Run by Pacemaker, it reads its parameters from OCF_RESKEY_<name>;\nflags named after the parameters override them.\n\n")
	b.WriteString("actions:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-14s %s\n", c[0], c[1])
	}
	b.WriteString("\nparameters:\n")
	b.WriteString(fs.FlagUsages())
	return b.String()
}
