package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/floatip/floatip/ocf"
)

// config is the agent's validated parameters.
type config struct {
	state string
	sleep time.Duration
}

// errInvalid marks a parameter that can never work: the actions map it to
// OCF_ERR_CONFIGURED, which stops Pacemaker from retrying anywhere.
var errInvalid = errors.New("invalid parameter")

// parse validates the parameters. The default state file is named after
// the resource, so that two Dummy resources never share one.
func parse(env ocf.Env) (config, error) {
	c := config{state: env.Params["state"]}
	if c.state == "" {
		inst := env.Instance
		if inst == "" {
			inst = "default"
		}
		// A clone instance is "db:0"; a slash would move the file out
		// of HA_RSCTMP.
		inst = strings.ReplaceAll(inst, "/", "_")
		c.state = filepath.Join(env.RscTmp, agentName+"-"+inst+".state")
	}
	if !filepath.IsAbs(c.state) {
		return c, fmt.Errorf("%w: state [%s] is not an absolute path", errInvalid, c.state)
	}
	if v := env.Params["op_sleep"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, fmt.Errorf("%w: op_sleep [%s] is not a number of seconds", errInvalid, v)
		}
		c.sleep = time.Duration(n) * time.Second
	}
	return c, nil
}

// agent carries out the actions on one resource.
type agent struct {
	cfg config
	// err is why the parameters are invalid, nil when they are valid:
	// each action decides what an invalid configuration means for it.
	err error
	log *ocf.Logger
}

func newAgent(env ocf.Env, log *ocf.Logger) *agent {
	cfg, err := parse(env)
	return &agent{cfg: cfg, err: err, log: log}
}

// statusFor maps an error to the exit code Pacemaker acts on.
func statusFor(err error) ocf.Status {
	switch {
	case err == nil:
		return ocf.Success
	case errors.Is(err, errInvalid):
		return ocf.ErrConfigured
	case errors.Is(err, fs.ErrPermission):
		return ocf.ErrPerm
	default:
		return ocf.ErrGeneric
	}
}

func (a *agent) validate(context.Context) ocf.Status {
	if a.err != nil {
		return ocf.Fail(a.log, statusFor(a.err), "%v", a.err)
	}
	return ocf.Success
}

// start creates the state file. A start of a running resource succeeds, as
// the OCF API asks.
func (a *agent) start(ctx context.Context) ocf.Status {
	if a.err != nil {
		return ocf.Fail(a.log, statusFor(a.err), "%v", a.err)
	}
	if err := sleep(ctx, a.cfg.sleep); err != nil {
		return ocf.Fail(a.log, ocf.ErrGeneric, "start: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(a.cfg.state), 0o755); err != nil {
		return ocf.Fail(a.log, statusFor(err), "create state directory: %v", err)
	}
	// O_EXCL: a second start finds the file and leaves it as it is.
	f, err := os.OpenFile(a.cfg.state, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		a.log.Infof("already running: %s exists", a.cfg.state)
		return ocf.Success
	}
	if err != nil {
		return ocf.Fail(a.log, statusFor(err), "create state file: %v", err)
	}
	if err := f.Close(); err != nil {
		return ocf.Fail(a.log, statusFor(err), "create state file: %v", err)
	}
	a.log.Infof("started: created %s", a.cfg.state)
	return ocf.Success
}

// stop removes the state file. It succeeds when the file is already gone,
// and when the parameters are invalid: such a resource never started, and
// a failed stop gets the node fenced.
func (a *agent) stop(ctx context.Context) ocf.Status {
	if a.err != nil {
		a.log.Warnf("%v: nothing can have been started, so nothing to stop", a.err)
		return ocf.Success
	}
	if err := sleep(ctx, a.cfg.sleep); err != nil {
		return ocf.Fail(a.log, ocf.ErrGeneric, "stop: %v", err)
	}
	err := os.Remove(a.cfg.state)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		a.log.Infof("already stopped: %s does not exist", a.cfg.state)
	case err != nil:
		return ocf.Fail(a.log, statusFor(err), "remove state file: %v", err)
	default:
		a.log.Infof("stopped: removed %s", a.cfg.state)
	}
	return ocf.Success
}

// monitor reports running while the state file exists. It tells "absent"
// (not running) from "cannot tell" (an error), because Pacemaker recovers
// the first and treats the second as a failure.
func (a *agent) monitor(context.Context) ocf.Status {
	if a.err != nil {
		// A node where the configuration cannot work is a node where
		// the resource does not run.
		a.log.Warnf("%v", a.err)
		return ocf.NotRunning
	}
	_, err := os.Stat(a.cfg.state)
	switch {
	case err == nil:
		return ocf.Success
	case errors.Is(err, fs.ErrNotExist):
		return ocf.NotRunning
	default:
		return ocf.Fail(a.log, ocf.ErrGeneric, "check state file: %v", err)
	}
}

// sleep waits d, or less when ctx ends first: an action must answer before
// its operation timeout.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("op_sleep cut short: %w", context.Cause(ctx))
	}
}
