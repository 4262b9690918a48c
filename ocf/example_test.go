package ocf_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/floatip/floatip/ocf"
)

// An agent reads everything Pacemaker tells it from its environment:
// parameters, meta attributes (timeout and interval in milliseconds), the
// resource's name and the monitor depth.
func ExampleParseEnv() {
	env := ocf.ParseEnv([]string{
		"OCF_RESOURCE_INSTANCE=db",
		"OCF_RESKEY_state=/run/db.state",
		"OCF_RESKEY_CRM_meta_timeout=20000",
		"OCF_RESKEY_CRM_meta_interval=0",
		"OCF_CHECK_LEVEL=10",
		"HA_RSCTMP=/run/resource-agents",
	})
	fmt.Println("instance:", env.Instance)
	fmt.Println("state:", env.Params["state"])
	fmt.Println("timeout:", env.Timeout)
	fmt.Println("depth:", env.CheckLevel)
	fmt.Println("probe:", env.IsProbe("monitor"))
	fmt.Println("pid files in:", env.RscTmp)
	// Output:
	// instance: db
	// state: /run/db.state
	// timeout: 20s
	// depth: 10
	// probe: true
	// pid files in: /run/resource-agents
}

// A monitor without an interval is a probe: Pacemaker asking where the
// resource runs before it starts it anywhere. A recurring monitor is not.
func ExampleEnv_IsProbe() {
	probe := ocf.ParseEnv([]string{"OCF_RESKEY_CRM_meta_interval=0"})
	recurring := ocf.ParseEnv([]string{"OCF_RESKEY_CRM_meta_interval=10000"})
	fmt.Println(probe.IsProbe("monitor"), recurring.IsProbe("monitor"), probe.IsProbe("start"))
	// Output: true false false
}

// The context of an action ends shortly before the operation timeout, so
// that the agent's own answer reaches Pacemaker before Pacemaker gives up.
func ExampleEnv_Context() {
	env := ocf.ParseEnv([]string{"OCF_RESKEY_CRM_meta_timeout=20000"})
	ctx, cancel := env.Context(context.Background())
	defer cancel()
	deadline, _ := ctx.Deadline()
	fmt.Println("time left:", time.Until(deadline).Round(time.Second))
	// Output: time left: 19s
}

// Run dispatches the action named on the command line. Log lines and exit
// reasons go to the writer the Logger was given, stderr in an agent (here
// stdout, so that the example can show them; 1234 stands for the pid).
func ExampleRun() {
	env := ocf.ParseEnv([]string{"OCF_RESOURCE_INSTANCE=db"})
	log := ocf.NewLogger(env, "Dummy", 1234, os.Stdout)
	actions := map[string]ocf.Action{
		"start": func(ctx context.Context) ocf.Status {
			log.Infof("started")
			return ocf.Success
		},
		"monitor": func(ctx context.Context) ocf.Status { return ocf.NotRunning },
	}
	for _, action := range []string{"monitor", "start", "promote"} {
		st := ocf.Run(context.Background(), action, actions, log)
		fmt.Printf("%s: exit %d (%v)\n", action, int(st), st)
	}
	// Output:
	// monitor: exit 7 (OCF_NOT_RUNNING)
	// Dummy(db)[1234]: INFO: started
	// start: exit 0 (OCF_SUCCESS)
	// ocf-exit-reason:action "promote" is not implemented
	// promote: exit 3 (OCF_ERR_UNIMPLEMENTED)
}

// A panic in an action becomes OCF_ERR_GENERIC with a reason: Go's own
// exit code for a panic, 2, would tell Pacemaker OCF_ERR_ARGS.
func ExampleRun_panic() {
	log := ocf.NewLogger(ocf.Env{}, "Dummy", 1234, os.Stdout)
	actions := map[string]ocf.Action{
		"start": func(ctx context.Context) ocf.Status { panic("state file vanished") },
	}
	st := ocf.Run(context.Background(), "start", actions, log)
	fmt.Println(int(st), st)
	// Output:
	// ocf-exit-reason:internal error in start: state file vanished
	// 1 OCF_ERR_GENERIC
}

// An action stuck past its deadline is answered anyway: Run returns
// OCF_ERR_GENERIC with a reason, and the agent exits, which ends it.
func ExampleRun_timeout() {
	env := ocf.ParseEnv([]string{"OCF_RESKEY_CRM_meta_timeout=100"})
	log := ocf.NewLogger(env, "Dummy", 1234, os.Stdout)
	stuck := make(chan struct{})
	defer close(stuck)
	actions := map[string]ocf.Action{
		// Ignores ctx, as a call blocked in the kernel would.
		"stop": func(ctx context.Context) ocf.Status { <-stuck; return ocf.Success },
	}
	ctx, cancel := env.Context(context.Background())
	defer cancel()
	fmt.Println(ocf.Run(ctx, "stop", actions, log))
	// Output:
	// ocf-exit-reason:stop did not finish in time: context deadline exceeded
	// OCF_ERR_GENERIC
}

// Fail makes a failure path one line: the exit reason that pcs status
// shows the admin, and the status to exit with.
func ExampleFail() {
	log := ocf.NewLogger(ocf.Env{}, "Dummy", 1234, os.Stdout)
	start := func(ctx context.Context) ocf.Status {
		state := "db.state"
		return ocf.Fail(log, ocf.ErrConfigured, "state [%s] is not an absolute path", state)
	}
	fmt.Println(start(context.Background()))
	// Output:
	// ocf-exit-reason:state [db.state] is not an absolute path
	// OCF_ERR_CONFIGURED
}

// Log lines follow the resource-agents format, naming the agent, the
// resource and the process. Debug lines appear only with HA_debug=1.
func ExampleLogger() {
	quiet := ocf.NewLogger(ocf.ParseEnv([]string{"OCF_RESOURCE_INSTANCE=db"}), "Dummy", 1234, os.Stdout)
	quiet.Debugf("not shown")
	quiet.Infof("created %s", "/run/db.state")
	quiet.Warnf("state file was already there")

	verbose := ocf.NewLogger(ocf.ParseEnv([]string{"HA_debug=1"}), "Dummy", 1234, os.Stdout)
	verbose.Debugf("shown")
	// Output:
	// Dummy(db)[1234]: INFO: created /run/db.state
	// Dummy(db)[1234]: WARNING: state file was already there
	// Dummy[1234]: DEBUG: shown
}

// The meta-data action decides between the OCF 1.0 and 1.1 documents by
// what the caller says it speaks: Pacemaker 2.1 and later set the version
// variables, ocf-tester does not.
func ExampleEnv_SpeaksOCF11() {
	fmt.Println(ocf.ParseEnv([]string{"OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=1"}).SpeaksOCF11())
	fmt.Println(ocf.ParseEnv(nil).SpeaksOCF11())
	// Output:
	// true
	// false
}

// Status names the OCF exit codes; the process exits with the number.
func ExampleStatus() {
	fmt.Println(int(ocf.NotRunning), ocf.NotRunning)
	fmt.Println(int(ocf.ErrConfigured), ocf.ErrConfigured)
	// Output:
	// 7 OCF_NOT_RUNNING
	// 6 OCF_ERR_CONFIGURED
}
