// Command dummy is a second OCF resource agent built on the ocf package, to
// show that the package is a library for any agent and not floatip's alone.
// Like ocf:pacemaker:Dummy it manages nothing but a state file, so every
// action can be tried without a cluster, a network or root.
//
// Pacemaker finds it once it is installed as an agent of some provider:
//
//	go build -o /usr/lib/ocf/resource.d/example/Dummy ./examples/dummy
//	pcs resource create db ocf:example:Dummy op monitor interval=10s
//
// It imports nothing but the ocf package and the standard library.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/floatip/floatip/ocf"
)

// agentName is the name log lines and traces carry, the one Pacemaker
// knows the agent by (the type in ocf:example:Dummy).
const agentName = "Dummy"

// metadata is the agent's meta-data, printed as it is: Pacemaker, pcs and
// ocf-tester read the parameters and actions from it.
//
//go:embed metadata.xml
var metadata string

const usage = `usage: Dummy {start|stop|monitor|status|validate-all|meta-data|usage}

Parameters come from the environment as OCF_RESKEY_<name>:
  state      the state file (default $HA_RSCTMP/Dummy-<resource>.state)
  op_sleep   seconds that start and stop wait first (default 0)
`

func main() {
	os.Exit(int(run(os.Args, os.Environ(), os.Stdout, os.Stderr)))
}

// run is the whole agent but for the exit, so that tests can call it with
// an environment of their own and read the status it would exit with.
func run(argv, environ []string, stdout, stderr io.Writer) ocf.Status {
	env := ocf.ParseEnv(environ)
	log := ocf.NewLogger(env, agentName, os.Getpid(), stderr)
	defer log.Close()
	if len(argv) != 2 {
		fmt.Fprint(stderr, usage)
		return ocf.ErrArgs
	}
	action := argv[1]

	// Tracing is resource-agents' trace_ra / OCF_TRACE_RA, which
	// ocf-tester -X and pcs turn on; the package decides where it goes.
	trace := ocf.ParseTrace(ocf.TraceOptions{
		Env: env, Params: env.Params, Agent: agentName,
		Action: action, Now: time.Now(),
	})
	end := log.StartTrace(trace)

	a := newAgent(env, log)
	actions := map[string]ocf.Action{
		"start":        a.start,
		"stop":         a.stop,
		"monitor":      a.monitor,
		"status":       a.monitor,
		"validate-all": a.validate,
		// meta-data writes to stdout, and nothing else may: pcs parses
		// the agent's whole output as XML.
		"meta-data": func(context.Context) ocf.Status {
			io.WriteString(stdout, metadata)
			return ocf.Success
		},
		"usage": func(context.Context) ocf.Status {
			io.WriteString(stdout, usage)
			return ocf.Success
		},
	}
	ctx, cancel := env.ContextSince(context.Background(), ocf.ProcessStart())
	defer cancel()
	st := ocf.Run(ctx, action, actions, log)
	end(st)
	return st
}
