package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/floatip/floatip/ocf"
)

// syncBuffer is a bytes.Buffer safe to read while an action that ocf.Run
// gave up on may still be writing its last log line.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// call runs one action as Pacemaker would and returns its status, stdout
// and stderr.
func call(t *testing.T, environ []string, action string) (ocf.Status, string, string) {
	t.Helper()
	var stdout bytes.Buffer
	stderr := &syncBuffer{}
	st := run([]string{"Dummy", action}, environ, &stdout, stderr)
	return st, stdout.String(), stderr.String()
}

func TestLifecycle(t *testing.T) {
	rsctmp := t.TempDir()
	environ := []string{"HA_RSCTMP=" + rsctmp, "OCF_RESOURCE_INSTANCE=db", "OCF_RESKEY_CRM_meta_timeout=20000"}
	state := filepath.Join(rsctmp, "Dummy-db.state")
	steps := []struct {
		action  string
		want    ocf.Status
		running bool
	}{
		{"monitor", ocf.NotRunning, false},
		{"start", ocf.Success, true},
		{"monitor", ocf.Success, true},
		{"status", ocf.Success, true},
		{"start", ocf.Success, true},
		{"stop", ocf.Success, false},
		{"monitor", ocf.NotRunning, false},
		{"stop", ocf.Success, false},
	}
	for i, s := range steps {
		st, _, stderr := call(t, environ, s.action)
		if st != s.want {
			t.Fatalf("step %d, %s = %v, want %v; stderr:\n%s", i, s.action, st, s.want, stderr)
		}
		if strings.Contains(stderr, "ocf-exit-reason:") {
			t.Errorf("step %d, %s succeeded with an exit reason:\n%s", i, s.action, stderr)
		}
		_, err := os.Stat(state)
		if got := err == nil; got != s.running {
			t.Fatalf("step %d, after %s: state file exists %v, want %v (%v)", i, s.action, got, s.running, err)
		}
	}
}

func TestStartLogs(t *testing.T) {
	state := filepath.Join(t.TempDir(), "sub", "db.state")
	st, _, stderr := call(t, []string{"OCF_RESOURCE_INSTANCE=db", "OCF_RESKEY_state=" + state}, "start")
	if st != ocf.Success {
		t.Fatalf("start = %v: %s", st, stderr)
	}
	want := "Dummy(db)[" // the pid follows: the resource-agents line format
	if !strings.HasPrefix(stderr, want) || !strings.Contains(stderr, ": INFO: started: created "+state) {
		t.Errorf("stderr %q, want a line %q...INFO: started: created %s", stderr, want, state)
	}
}

func TestInvalidConfiguration(t *testing.T) {
	tests := []struct {
		name   string
		param  string
		reason string
	}{
		{"relative state", "OCF_RESKEY_state=db.state", "state [db.state] is not an absolute path"},
		{"negative op_sleep", "OCF_RESKEY_op_sleep=-1", "op_sleep [-1] is not a number of seconds"},
		{"op_sleep not a number", "OCF_RESKEY_op_sleep=soon", "op_sleep [soon] is not a number of seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			environ := []string{"HA_RSCTMP=" + t.TempDir(), tt.param}
			// A configuration that can never work fails validate-all
			// and start with the reason, and is not running anywhere:
			// monitor says so and stop has nothing to do.
			want := map[string]ocf.Status{
				"validate-all": ocf.ErrConfigured,
				"start":        ocf.ErrConfigured,
				"monitor":      ocf.NotRunning,
				"stop":         ocf.Success,
			}
			for action, w := range want {
				st, _, stderr := call(t, environ, action)
				if st != w {
					t.Errorf("%s = %v, want %v", action, st, w)
				}
				reasons := strings.Count(stderr, "ocf-exit-reason:")
				if w == ocf.ErrConfigured && (reasons != 1 || !strings.Contains(stderr, "ocf-exit-reason:"+errInvalid.Error()+": "+tt.reason+"\n")) {
					t.Errorf("%s: stderr %q, want one exit reason %q", action, stderr, tt.reason)
				}
				if w != ocf.ErrConfigured && reasons != 0 {
					t.Errorf("%s: exit reason without a failure: %q", action, stderr)
				}
			}
		})
	}
}

func TestUnknownAction(t *testing.T) {
	for _, action := range []string{"promote", "notify", "migrate_to", "reload"} {
		st, _, stderr := call(t, nil, action)
		if st != ocf.ErrUnimplemented {
			t.Errorf("%s = %v, want %v", action, st, ocf.ErrUnimplemented)
		}
		if want := "ocf-exit-reason:action \"" + action + "\" is not implemented\n"; stderr != want {
			t.Errorf("%s: stderr %q, want %q", action, stderr, want)
		}
	}
	if st, _, _ := call(t, nil, ""); st != ocf.ErrUnimplemented {
		t.Errorf("empty action = %v", st)
	}
	var stderr bytes.Buffer
	if st := run([]string{"Dummy"}, nil, &bytes.Buffer{}, &stderr); st != ocf.ErrArgs || !strings.HasPrefix(stderr.String(), "usage:") {
		t.Errorf("no action = %v, %q; want %v and the usage", st, stderr.String(), ocf.ErrArgs)
	}
}

// TestTimeout shows what ocf.Run and Env.Context give an agent: an action
// still busy near the operation timeout is answered with a reason before
// Pacemaker would give up on it.
func TestTimeout(t *testing.T) {
	state := filepath.Join(t.TempDir(), "db.state")
	environ := []string{"OCF_RESKEY_state=" + state, "OCF_RESKEY_op_sleep=10", "OCF_RESKEY_CRM_meta_timeout=2000"}
	begin := time.Now()
	st, _, stderr := call(t, environ, "start")
	took := time.Since(begin)
	if st != ocf.ErrGeneric {
		t.Errorf("start = %v, want %v", st, ocf.ErrGeneric)
	}
	// Env.Context leaves 10% of the timeout, 200 ms here, for the answer.
	if took >= 2*time.Second {
		t.Errorf("start took %v, longer than its 2 s timeout", took)
	}
	if !strings.Contains(stderr, "ocf-exit-reason:") {
		t.Errorf("no exit reason: %q", stderr)
	}
	if _, err := os.Stat(state); err == nil {
		t.Error("start that timed out created the state file")
	}
}

func TestMetadata(t *testing.T) {
	st, stdout, stderr := call(t, []string{"HA_debug=1"}, "meta-data")
	if st != ocf.Success || stderr != "" {
		t.Fatalf("meta-data = %v, stderr %q", st, stderr)
	}
	var doc struct {
		XMLName xml.Name `xml:"resource-agent"`
		Name    string   `xml:"name,attr"`
		Params  []struct {
			Name    string `xml:"name,attr"`
			Content struct {
				Type    string `xml:"type,attr"`
				Default string `xml:"default,attr"`
			} `xml:"content"`
		} `xml:"parameters>parameter"`
		Actions []struct {
			Name string `xml:"name,attr"`
		} `xml:"actions>action"`
	}
	if err := xml.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("meta-data is not XML: %v", err)
	}
	if doc.Name != agentName {
		t.Errorf("agent name %q, want %q", doc.Name, agentName)
	}
	// The meta-data must declare what parse reads, and the actions the
	// agent has: pcs refuses parameters the meta-data does not name.
	var params []string
	for _, p := range doc.Params {
		params = append(params, p.Name)
	}
	if want := []string{"state", "op_sleep"}; !slices.Equal(params, want) {
		t.Errorf("parameters %v, want %v", params, want)
	}
	for _, a := range doc.Actions {
		if st, _, _ := call(t, []string{"HA_RSCTMP=" + t.TempDir()}, a.Name); st == ocf.ErrUnimplemented {
			t.Errorf("meta-data declares %s, which the agent does not implement", a.Name)
		}
	}
	// Each declared default must be one parse accepts.
	environ := []string{"HA_RSCTMP=/run/resource-agents"}
	for _, p := range doc.Params {
		environ = append(environ, "OCF_RESKEY_"+p.Name+"="+p.Content.Default)
	}
	if _, err := parse(ocf.ParseEnv(environ)); err != nil {
		t.Errorf("the declared defaults do not parse: %v", err)
	}
}

func TestDefaultStatePath(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    string
	}{
		{"instance", []string{"HA_RSCTMP=/x", "OCF_RESOURCE_INSTANCE=db"}, "/x/Dummy-db.state"},
		{"clone instance", []string{"HA_RSCTMP=/x", "OCF_RESOURCE_INSTANCE=db:1"}, "/x/Dummy-db:1.state"},
		{"slash in the name", []string{"HA_RSCTMP=/x", "OCF_RESOURCE_INSTANCE=../db"}, "/x/Dummy-.._db.state"},
		{"no instance", []string{"HA_RSCTMP=/x"}, "/x/Dummy-default.state"},
		{"no HA_RSCTMP", []string{"OCF_RESOURCE_INSTANCE=db"}, ocf.DefaultRscTmp + "/Dummy-db.state"},
		{"state given", []string{"HA_RSCTMP=/x", "OCF_RESKEY_state=/srv/db.state"}, "/srv/db.state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse(ocf.ParseEnv(tt.environ))
			if err != nil {
				t.Fatal(err)
			}
			if c.state != tt.want {
				t.Errorf("state %q, want %q", c.state, tt.want)
			}
		})
	}
}
