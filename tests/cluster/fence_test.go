//go:build linux

package main

import (
	"strings"
	"testing"
	"time"
)

// fence_lab against a switch served here, for nodes that never booted: it
// needs no root and no cluster. A node that is not running is off, and
// fencing it succeeds without touching anything, as for a dead node.
func TestFenceSwitch(t *testing.T) {
	c := &Cluster{Nodes: []*Node{{Name: "n1"}, {Name: "n2"}}}
	p, err := c.servePower(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	t0 := time.Now()
	run := func(params ...string) (int, string) {
		m := map[string]string{"socket": p.Socket}
		for _, kv := range params {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		var out strings.Builder
		code, err := fenceAction(m, &out)
		if code == fenceFailed && err == nil {
			t.Errorf("%v: exit %d without an error", params, code)
		}
		return code, out.String()
	}
	tests := []struct {
		params []string
		code   int
		out    string
	}{
		{[]string{"action=monitor"}, fenceOK, ""},
		{[]string{"action=list"}, fenceOK, "n1\nn2\n"},
		{[]string{"action=status", "port=n1"}, fenceOff, ""},
		{[]string{"action=status", "plug=n9"}, fenceFailed, ""},
		{[]string{"action=off", "port=n9"}, fenceFailed, ""},
		{[]string{"action=reboot", "plug=n2", "nodename=n2"}, fenceOK, ""},
		// The target from nodename alone.
		{[]string{"action=off", "nodename=n1"}, fenceOK, ""},
		{[]string{"action=on", "port=n1"}, fenceOK, ""},
	}
	for _, tt := range tests {
		if code, out := run(tt.params...); code != tt.code || out != tt.out {
			t.Errorf("%v: exit %d, output %q; want %d, %q", tt.params, code, out, tt.code, tt.out)
		}
	}
	reqs := p.Requests(t0)
	if len(reqs) != 2 || reqs[0].Action != "reboot" || reqs[0].Target != "n2" || reqs[1].Action != "off" || reqs[1].Target != "n1" {
		t.Fatalf("requests: %+v", reqs)
	}
	for _, r := range reqs {
		if r.WasRunning || r.Err != nil || r.Done.Before(r.At) {
			t.Errorf("request %+v: want an off node confirmed off", r)
		}
	}
	if n := p.Monitors(); n != 3 {
		t.Errorf("%d monitors counted, want 3 (monitor, list, status of n1)", n)
	}
	if _, err := askSwitch(p.Socket, "off", "n1", "n2"); err != nil {
		t.Fatal(err)
	}
	if reply, err := askSwitch(p.Socket, "off", "n1 n2", "x"); err != nil || !strings.HasPrefix(reply, "ERR") {
		t.Errorf("a malformed request: %q %v, want ERR", reply, err)
	}
}
