package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/floatip/floatip/metadata"
)

// TestBashCompletion sources the script in bash, sets COMP_WORDS and
// COMP_CWORD as readline would, and checks what _floatip offers.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is not installed")
	}
	script := filepath.Join(t.TempDir(), "floatip.bash")
	if err := os.WriteFile(script, []byte(bashCompletion(metadata.Declared())), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		words []string
		// want must all be offered, and only, when exact; never must not.
		want  []string
		exact bool
		never []string
	}{
		{name: "an action first", words: []string{"floatip", ""}, want: actionNames(), exact: true},
		{name: "an action by its start", words: []string{"floatip", "mon"}, want: []string{"monitor"}, exact: true},
		{name: "the OCF face by its path", words: []string{"/usr/lib/ocf/resource.d/floatip/IPaddr2", "st"}, want: []string{"start", "stop", "status"}, exact: true},
		{name: "a parameter flag", words: []string{"floatip", "monitor", "--ci"}, want: []string{"--cidr_netmask"}, exact: true},
		{name: "every flag", words: []string{"floatip", "start", "--"}, want: []string{"--ip", "--cidr_netmask", "--nodad", "--arp_bg", "--help", "--version"}},
		{name: "a flag before the action", words: []string{"floatip", "--i"}, want: []string{"--ip", "--iflabel"}, exact: true},
		{name: "no action after the action", words: []string{"floatip", "monitor", ""}, exact: true},
		{name: "the action after a flag's value", words: []string{"floatip", "--ip", "198.18.0.100", "mo"}, want: []string{"monitor"}, exact: true},
		{name: "nothing for a value", words: []string{"floatip", "start", "--ip", ""}, exact: true},
		{name: "a bool's value", words: []string{"floatip", "start", "--nodad", ""}, want: []string{"true", "false"}, exact: true},
		{name: "an action after a bool alone", words: []string{"floatip", "--nodad", "sta"}, want: []string{"start", "status"}, exact: true},
		{name: "no action after a bool and its value", words: []string{"floatip", "--nodad", "false", "start", ""}, exact: true},
		{name: "the nics", words: []string{"floatip", "start", "--nic", "l"}, want: []string{"lo"}},
		{name: "an action to explain", words: []string{"floatip", "help", "do"}, want: []string{"doctor"}, exact: true},
		{name: "a shell", words: []string{"floatip", "completion", ""}, want: []string{"bash"}, exact: true},
		{name: "a flag that is none", words: []string{"floatip", "start", "--colour"}, exact: true, never: []string{"--colour"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The words go in as positional parameters, so that no word
			// needs quoting for the shell.
			prog := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _floatip; printf '%s\n' "${COMPREPLY[@]}"; complete -p "${COMP_WORDS[0]}"`
			cmd := exec.Command(bash, append([]string{"--norc", "--noprofile", "-c", prog, "bash", script}, tt.words...)...)
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			reg := lines[len(lines)-1]
			if !strings.HasPrefix(reg, "complete -F _floatip ") {
				t.Errorf("%s is not registered: %q", tt.words[0], reg)
			}
			got := slices.DeleteFunc(lines[:len(lines)-1], func(s string) bool { return s == "" })
			if tt.exact {
				if diff := cmp.Diff(slices.Sorted(slices.Values(tt.want)), slices.Sorted(slices.Values(got)), cmpEmpty); diff != "" {
					t.Errorf("completions of %q (-want +got):\n%s", tt.words, diff)
				}
			}
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("completions of %q lack %q: %q", tt.words, w, got)
				}
			}
			for _, w := range tt.never {
				if slices.Contains(got, w) {
					t.Errorf("completions of %q offer %q", tt.words, w)
				}
			}
		})
	}
}
