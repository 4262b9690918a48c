package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/internal/ptytest"
)

// TestExitReasonAtATerminal: the command line's errors, both those it
// finds before it reads the environment (a flag it does not know) and an
// action's (a value that cannot work), read at a terminal as a sentence
// after the agent's name, while a pipe, which is how Pacemaker reads
// them, gets the ocf-exit-reason: line.
func TestExitReasonAtATerminal(t *testing.T) {
	tests := []struct {
		name           string
		args, env      []string
		terminal, pipe string
	}{
		{"a usage error", []string{"--bogus"}, nil,
			"IPaddr2: unknown flag: --bogus\r\n", "ocf-exit-reason:unknown flag: --bogus\n"},
		{"an action's error", []string{"validate-all", "--ip", "198.18.0"}, []string{"OCF_RESOURCE_INSTANCE=vip"},
			"IPaddr2(vip): IP address [198.18.0] not valid\r\n", "ocf-exit-reason:IP address [198.18.0] not valid\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ptm, pts := ptytest.Open(t)
			var stdout bytes.Buffer
			run(append([]string{agentPath}, tt.args...), tt.env, &stdout, pts)
			if got := readLine(t, ptm); got != tt.terminal {
				t.Errorf("at a terminal: %q, want %q", got, tt.terminal)
			}
			_, _, stderr := runArgs(tt.env, tt.args...)
			if stderr != tt.pipe {
				t.Errorf("through a pipe: %q, want %q", stderr, tt.pipe)
			}
		})
	}
}

// readLine reads what the terminal shows up to the end of the first line.
func readLine(t *testing.T, ptm *os.File) string {
	t.Helper()
	if err := ptm.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	buf := make([]byte, 256)
	for !strings.Contains(got.String(), "\n") {
		n, err := ptm.Read(buf)
		if err != nil {
			t.Fatalf("read the terminal: %v (so far %q)", err, got.String())
		}
		got.Write(buf[:n])
	}
	return got.String()
}
