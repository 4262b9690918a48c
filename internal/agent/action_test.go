package agent

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/floatip/floatip/ocf"
)

// TestActions: every action has its OCF name, a handler, and the role
// that picks its exit codes, a monitor at interval 0 being a probe.
func TestActions(t *testing.T) {
	probe := &Agent{Env: ocf.ParseEnv([]string{"OCF_RESKEY_CRM_meta_interval=0"})}
	recurring := &Agent{Env: ocf.ParseEnv([]string{"OCF_RESKEY_CRM_meta_interval=10000"})}
	type row struct {
		Name             string
		Probe, Recurring role
	}
	var got []row
	for _, x := range Actions() {
		if probe.Handler(x) == nil {
			t.Errorf("%v has no handler", x)
		}
		got = append(got, row{x.String(), probe.roleOf(x), recurring.roleOf(x)})
	}
	want := []row{
		{"start", roleStart, roleStart},
		{"stop", roleStop, roleStop},
		{"monitor", roleProbe, roleCheck},
		{"status", roleCheck, roleCheck},
		{"validate-all", roleValidate, roleValidate},
		{"reload-agent", roleCheck, roleCheck},
		{"announce", roleCheck, roleCheck},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if got := Action(0).String(); got != "Action(0)" {
		t.Errorf("Action(0) is %q", got)
	}
}
