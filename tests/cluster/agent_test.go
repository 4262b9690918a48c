//go:build linux

package main

import (
	"strings"
	"testing"
)

// TestLacks checks that the heartbeat:IPaddr2 skips would fail, not pass,
// once its meta-data had what they skip.
func TestLacks(t *testing.T) {
	const base = `<?xml version="1.0"?><resource-agent name="IPaddr2"><parameters>` +
		`<parameter name="ip"/>%P</parameters><actions><action name="start"/>` +
		`<action name="monitor" depth="0" interval="10s"/>%A</actions></resource-agent>`
	md := func(params, actions string) []byte {
		return []byte(strings.NewReplacer("%P", params, "%A", actions).Replace(base))
	}
	a := &Agent{Name: "heartbeat", Title: "ocf:heartbeat:IPaddr2"}
	if err := a.lacks(md("", "")); err != nil {
		t.Fatalf("4.12's features: %v", err)
	}
	for _, c := range []struct{ name, params, actions, want string }{
		{"reload-agent", "", `<action name="reload-agent"/>`, "reload-agent"},
		{"kill_connections", `<parameter name="kill_connections"/>`, "", "kill_connections"},
		{"depth 10", "", `<action name="monitor" depth="10" interval="11s"/>`, "depth 10"},
	} {
		err := a.lacks(md(c.params, c.actions))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error about %s", c.name, err, c.want)
		}
	}
	if err := a.lacks([]byte("not xml")); err == nil {
		t.Error("garbage meta-data: no error")
	}
}
