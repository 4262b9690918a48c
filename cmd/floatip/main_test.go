package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

func TestRun(t *testing.T) {
	md := metadata.Declared()
	tests := []struct {
		name        string
		args        []string
		env         []string
		want        ocf.Status
		stdout      string
		stderr      string
		exactStdout bool
	}{
		{name: "meta-data is the XML alone", args: []string{"meta-data"}, env: []string{"HA_debug=1", "HA_LOGFACILITY=daemon"}, want: ocf.Success, stdout: string(metadata.XML), exactStdout: true},
		{name: "usage", args: []string{"usage"}, want: ocf.Success, stdout: "usage: IPaddr2 {start|stop"},
		{name: "--help lists parameters", args: []string{"--help"}, want: ocf.Success, stdout: "--arp_count"},
		{name: "help names actions", args: []string{"help"}, want: ocf.Success, stdout: "validate-all"},
		{name: "version", args: []string{"version"}, want: ocf.Success, stdout: "floatip "},
		{name: "no action", args: nil, want: ocf.ErrArgs, stderr: "usage:"},
		{name: "unknown flag", args: []string{"start", "--colour", "red"}, want: ocf.ErrArgs, stderr: "ocf-exit-reason:unknown flag: --colour"},
		{name: "unknown action", args: []string{"promote"}, env: []string{"OCF_RESKEY_ip=198.18.0.100"}, want: ocf.ErrUnimplemented, stderr: `ocf-exit-reason:action "promote" is not implemented`},
		{name: "flag overrides environment", args: []string{"validate-all", "--arp_count", "0"}, env: []string{"OCF_RESKEY_ip=198.18.0.100", "OCF_RESKEY_arp_count=3"}, want: ocf.ErrConfigured, stderr: "ocf-exit-reason:arp_count [0] is not a positive integer"},
		{name: "flag gives the ip", args: []string{"validate-all", "--ip", "abc"}, want: ocf.ErrConfigured, stderr: "IP address [abc] not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := run(append([]string{"/usr/lib/ocf/resource.d/floatip/IPaddr2"}, tt.args...), tt.env, &stdout, &stderr)
			if got != tt.want {
				t.Errorf("exit %v, want %v\nstderr: %s", got, tt.want, stderr.String())
			}
			if tt.exactStdout && stdout.String() != tt.stdout || !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tt.stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.stderr)
			}
			// What the row does not ask for must not be there: a success
			// prints nothing on stderr, a failure nothing on stdout.
			if tt.want == ocf.Success && stderr.Len() != 0 {
				t.Errorf("stderr of a success: %q", stderr.String())
			}
			if tt.want != ocf.Success && stdout.Len() != 0 {
				t.Errorf("stdout of a failure: %q", stdout.String())
			}
		})
	}
	var stdout bytes.Buffer
	run([]string{"floatip", "--help"}, nil, &stdout, &bytes.Buffer{})
	for _, p := range md.Parameters {
		if !strings.Contains(stdout.String(), "--"+p.Name+" ") || !strings.Contains(stdout.String(), p.ShortDesc) {
			t.Errorf("--help lacks --%s and its description", p.Name)
		}
	}
}

// TestManPage: floatip(8) documents every parameter with its short
// description and default, and groff reads it without a warning.
func TestManPage(t *testing.T) {
	md := metadata.Declared()
	var stdout bytes.Buffer
	if st := run([]string{"floatip", "man"}, nil, &stdout, &bytes.Buffer{}); st != ocf.Success {
		t.Fatalf("man = %v", st)
	}
	page := stdout.String()
	for _, p := range md.Parameters {
		if !strings.Contains(page, `\fB\-\-`+roff(p.Name)+`\fR`) || !strings.Contains(page, roff(strings.TrimSuffix(p.ShortDesc, "."))) {
			t.Errorf("the man page lacks --%s or its description", p.Name)
		}
		if d := p.Content.DefaultValue(); d != "" && !strings.Contains(page, "(default "+roff(d)+")") {
			t.Errorf("the man page lacks the default of %s", p.Name)
		}
	}
	for _, c := range commands {
		if !strings.Contains(page, ".B "+roff(c[0])+"\n") {
			t.Errorf("the man page lacks action %s", c[0])
		}
	}
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Fatal("groff is not installed: run make deps")
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("groff: %v\n%s", err, out)
	}
}
