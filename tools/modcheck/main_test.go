package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBehindOf reads canned go list -m -u -json output: a direct module
// with an update is named, as is a pinned tool; an indirect one or the
// main module is not; and a module the go command could not look up
// fails the check.
func TestBehindOf(t *testing.T) {
	const deps = `{"Path": "github.com/floatip/floatip", "Main": true}
{"Path": "golang.org/x/net", "Version": "v0.22.0", "Update": {"Path": "golang.org/x/net", "Version": "v0.63.0"}}
{"Path": "golang.org/x/sys", "Version": "v0.50.0"}
{"Path": "golang.org/x/text", "Version": "v0.14.0", "Indirect": true, "Update": {"Version": "v0.44.0"}}
{"Path": "github.com/mdlayher/arp", "Version": "v0.0.0-20220512170110-6706a2966875"}
`
	pinned := map[string]bool{"honnef.co/go/tools": true}
	tests := []struct {
		name    string
		in      string
		tools   map[string]bool
		want    []string
		wantErr string
	}{
		{"deps", deps, nil, []string{"golang.org/x/net: go.mod requires v0.22.0, the newest is v0.63.0"}, ""},
		{"current", `{"Path": "golang.org/x/sys", "Version": "v0.50.0"}`, nil, nil, ""},
		{"tool behind", `{"Path": "honnef.co/go/tools", "Version": "v0.7.0", "Update": {"Version": "v0.8.2"}}`, pinned,
			[]string{"honnef.co/go/tools: the Makefile pins v0.7.0, the newest is v0.8.2"}, ""},
		{"tool current", `{"Path": "honnef.co/go/tools", "Version": "v0.8.2"}`, pinned, nil, ""},
		{"lookup failed", `{"Path": "example.org/gone", "Version": "v1.0.0", "Error": {"Err": "not found"}}`, nil, nil, "look up example.org/gone: not found"},
		{"garbage", `{"Path": `, nil, nil, "read go list's modules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := behindOf(strings.NewReader(tt.in), tt.tools)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("behind (-want +got):\n%s", diff)
			}
		})
	}
}
