package ocf

import "fmt"

// Status is an OCF exit code. Pacemaker reads it as the result of the
// action, so every path of an agent must end in exactly one of these.
type Status int

// The exit codes of the OCF resource agent API 1.1, section "Exit codes".
const (
	Success          Status = 0
	ErrGeneric       Status = 1
	ErrArgs          Status = 2
	ErrUnimplemented Status = 3
	ErrPerm          Status = 4
	ErrInstalled     Status = 5
	ErrConfigured    Status = 6
	NotRunning       Status = 7
	RunningPromoted  Status = 8
	FailedPromoted   Status = 9
)

var statusNames = [...]string{
	"OCF_SUCCESS",
	"OCF_ERR_GENERIC",
	"OCF_ERR_ARGS",
	"OCF_ERR_UNIMPLEMENTED",
	"OCF_ERR_PERM",
	"OCF_ERR_INSTALLED",
	"OCF_ERR_CONFIGURED",
	"OCF_NOT_RUNNING",
	"OCF_RUNNING_PROMOTED",
	"OCF_FAILED_PROMOTED",
}

// Code is the status as a number, for ExitCode.
func (s Status) Code() int { return int(s) }

// String returns the name the OCF shell functions use for the code.
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", int(s))
}
