package ocf

import (
	"context"
	"runtime/debug"
)

// Action carries out one OCF action. It should return when ctx is done.
type Action func(ctx context.Context) Status

// Run carries out the action called name from actions and returns its
// status. An unknown name is ErrUnimplemented. A panic becomes ErrGeneric
// with an exit reason: Go's own exit code for a panic is 2, which Pacemaker
// would read as OCF_ERR_ARGS. When ctx ends before the action does, Run
// returns ErrGeneric at once with a reason, so the agent answers within the
// operation timeout even if the action is stuck in the kernel; the caller
// exits the process right after, which ends the stuck goroutine.
func Run(ctx context.Context, name string, actions map[string]Action, log *Logger) Status {
	act, ok := actions[name]
	if !ok {
		log.ExitReason("action %q is not implemented", name)
		return ErrUnimplemented
	}
	done := make(chan Status, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				log.Debugf("panic stack: %s", debug.Stack())
				log.ExitReason("internal error in %s: %v", name, r)
				done <- ErrGeneric
			}
		}()
		done <- act(ctx)
	}()
	select {
	case st := <-done:
		return st
	case <-ctx.Done():
		log.ExitReason("%s did not finish in time: %v", name, context.Cause(ctx))
		return ErrGeneric
	}
}

// Fail ends an action that failed: it prints the one-line exit reason
// (ocf-exit-reason:) that Pacemaker shows the admin, and returns st, so
// that a failure path is one line. Unlike Logger.Errorf, it is what pcs
// status shows.
func Fail(log *Logger, st Status, format string, args ...any) Status {
	log.ExitReason(format, args...)
	return st
}
