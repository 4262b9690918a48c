//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// The actions whose processes are counted: on one address, a probe finds
// it absent, start adds it (once with arp_bg=false, once with its
// background sender), monitor finds it, stop removes it.
var procActions = []string{"start", rowStartFg, "monitor", "stop", "probe"}

// rowStartFg is start with arp_bg=false: the whole burst before it returns,
// and no background sender.
const rowStartFg = "start, arp_bg=false"

// procRow names the row of the processes spawned by action.
func procRow(action string) string { return "processes spawned, " + action }

const (
	rowSizeOwn = "size on disk: the agent's own files"
	rowSizeAll = "size on disk: and the programs it runs"
)

// traceReps is how many times each action runs under strace: the counts
// hardly vary, and strace makes IPaddr2 slow.
const traceReps = 3

// processes runs each action of each agent under strace -f and counts the
// processes it creates (forks, not threads), which is what a shell agent
// pays for: each one is a fork and most an exec. It also collects the
// files each agent reads and the programs it runs, for the sizes on disk.
func (b *bench) processes() error {
	strace, err := exec.LookPath("strace")
	if err != nil {
		return fmt.Errorf("strace is needed to count processes (make deps installs it): %w", err)
	}
	out := filepath.Join(b.tmp, "strace.out")
	var own, all [2]map[string]bool
	for i := range 2 {
		own[i], all[i] = map[string]bool{}, map[string]bool{}
	}
	// A step without a row is counted nowhere: the stop after the start
	// in the foreground.
	steps := []struct {
		row, action, interval string
		want                  int
		env                   []string
	}{
		{"probe", "monitor", "0", 7, nil},
		{rowStartFg, "start", "0", 0, []string{"OCF_RESKEY_arp_bg=false"}},
		{"", "stop", "0", 0, nil},
		{"start", "start", "0", 0, nil},
		{"monitor", "monitor", "10000", 0, nil},
		{"stop", "stop", "0", 0, nil},
	}
	for rep := range traceReps {
		for k := range 2 {
			i := (rep + k) % 2
			a := b.agents[i]
			for _, s := range steps {
				r, err := b.sp.runIn(b.ctx, b.nsN, append(a.env("n", vipTrace[i], s.interval), s.env...),
					strace, "-f", "-qq", "-s", "4096", "-e", "signal=none",
					"-e", "trace=execve,execveat,fork,vfork,clone,clone3,open,openat",
					"-o", out, a.path, s.action)
				if err == nil && r.Code != s.want {
					err = fmt.Errorf("%s %s under strace: %w %d, want %d: %s", a.name, s.row, errCode, r.Code, s.want, strings.TrimSpace(r.Stderr))
				}
				if err != nil {
					return err
				}
				t, err := parseTrace(out)
				if err != nil {
					return err
				}
				if s.row != "" {
					b.sample(procRow(s.row), count, i, float64(t.forks))
				}
				for _, p := range t.execs {
					all[i][p] = true
				}
				for _, p := range t.opened {
					if ownFile(p) {
						own[i][p] = true
					}
				}
			}
		}
	}
	for i, a := range b.agents {
		own[i][a.path] = true
		all[i][a.path] = true
		if interp := interpreter(a.path); interp != "" {
			all[i][interp] = true
		}
		for p := range own[i] {
			all[i][p] = true
		}
		b.sample(rowSizeOwn, bytes, i, float64(diskSize(own[i])))
		b.sample(rowSizeAll, bytes, i, float64(diskSize(all[i])))
	}
	return nil
}

// ownFile says whether a file belongs to a resource agent rather than to
// the system: the OCF tree and heartbeat's helpers (send_arp).
func ownFile(p string) bool {
	return strings.HasPrefix(p, "/usr/lib/ocf/") || strings.HasPrefix(p, "/usr/libexec/heartbeat/") ||
		strings.HasPrefix(p, "/usr/lib/heartbeat/")
}

// interpreter is the program named by a script's #! line, "" for a binary.
func interpreter(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	if rest, ok := strings.CutPrefix(line, "#!"); ok {
		if fields := strings.Fields(rest); len(fields) > 0 {
			return fields[0]
		}
	}
	return ""
}

// diskSize adds up the sizes of the files, each counted once however many
// names lead to it (/bin/sh and /usr/bin/dash).
func diskSize(paths map[string]bool) int64 {
	seen := map[string]bool{}
	var n int64
	for p := range paths {
		real, err := filepath.EvalSymlinks(p)
		if err != nil || seen[real] {
			continue
		}
		seen[real] = true
		if st, err := os.Stat(real); err == nil && st.Mode().IsRegular() {
			n += st.Size()
		}
	}
	return n
}

// trace is what an strace -f log says about processes and files.
type trace struct {
	// forks counts the processes created: fork, vfork, and clone or
	// clone3 without CLONE_THREAD (threads are not processes).
	forks int
	// execs are the programs executed, the traced program first.
	execs []string
	// opened are the files opened successfully.
	opened []string
}

// paddedReturn is the space strace puts before a resumed call's " = ".
var paddedReturn = regexp.MustCompile(`\) {2,}= `)

// parseTrace reads an strace -f -o log. With -f, a call that another
// process interrupts prints as "<unfinished ...>" and later "<... resumed>";
// the two halves are joined first.
func parseTrace(path string) (trace, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return trace{}, fmt.Errorf("read the strace log: %w", err)
	}
	var t trace
	pending := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		pid, call, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		call = strings.TrimLeft(call, " ")
		if head, ok := strings.CutSuffix(call, " <unfinished ...>"); ok {
			pending[pid] = head
			continue
		}
		if strings.HasPrefix(call, "<... ") {
			_, tail, ok := strings.Cut(call, " resumed>")
			if !ok {
				continue
			}
			call = pending[pid] + tail
			delete(pending, pid)
		}
		// A resumed call pads its return value: ")     = 1234".
		call = paddedReturn.ReplaceAllString(call, ") = ")
		name, _, ok := strings.Cut(call, "(")
		eq := strings.LastIndex(call, ") = ")
		if !ok || eq < len(name) {
			continue
		}
		args := call[len(name)+1 : eq]
		ret, err := strconv.Atoi(strings.Fields(call[eq+4:] + " x")[0])
		if err != nil {
			continue // "= ?" of a call the process did not return from
		}
		switch name {
		case "fork", "vfork":
			if ret > 0 {
				t.forks++
			}
		case "clone", "clone3":
			if ret > 0 && !strings.Contains(args, "CLONE_THREAD") {
				t.forks++
			}
		case "execve", "execveat":
			if ret == 0 {
				t.execs = append(t.execs, quoted(args))
			}
		case "open", "openat":
			if ret >= 0 {
				t.opened = append(t.opened, quoted(args))
			}
		}
	}
	return t, nil
}

// quoted returns the first double-quoted string in strace's arguments,
// which for these calls is the path.
func quoted(args string) string {
	_, rest, ok := strings.Cut(args, `"`)
	if !ok {
		return ""
	}
	p, _, _ := strings.Cut(rest, `"`)
	return p
}
