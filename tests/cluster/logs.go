//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Pacemaker's and corosync's log lines start with a local time to the
// millisecond and no year ("Nov 25 07:29:18.416 n1 pacemaker-execd ...").
const logStamp = "Jan _2 15:04:05.000"

// parseStamp reads a log line's time. The year is the one that puts the
// time closest to now, which is right for a log written during the test.
func parseStamp(line string, now time.Time) (time.Time, bool) {
	if len(line) < len(logStamp) {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(logStamp, line[:len(logStamp)], time.Local)
	if err != nil {
		return time.Time{}, false
	}
	t = t.AddDate(now.Year()-t.Year(), 0, 0)
	if t.Sub(now) > 24*time.Hour {
		t = t.AddDate(-1, 0, 0)
	}
	return t, true
}

// AgentOp is one run of the agent by pacemaker-execd, from its log.
type AgentOp struct {
	Node   string
	Action string // start, stop or reload-agent
	Call   int
	// Called is when execd ran the agent, Returned when it saw the
	// agent exit; Exec is execd's own measure of the run.
	Called, Returned time.Time
	Exec             time.Duration
	Status           int
}

var (
	// "(log_execute) 	info: executing - rsc:vip action:start call_id:6"
	executeRE = regexp.MustCompile(`\(log_execute\)\s+info: executing - rsc:(\S+) action:(\S+) call_id:(\d+)`)
	// "(log_finished) 	info: vip start (call 6, PID 90) exited with
	// status 0 (execution time 87ms after being queued 1ms)"; a longer run
	// reads "1.234s" or "1s 234ms".
	finishedRE = regexp.MustCompile(`\(log_finished\)\s+info: (\S+) (\S+) \(call (\d+), PID \d+\) exited with status (\d+) \(execution time ([0-9.hms ]+?)(?: after|\))`)
)

// agentOps reads the starts, stops and reloads of resource rsc that node's execd
// logged from since on.
func agentOps(r io.Reader, node, rsc string, since, now time.Time) []AgentOp {
	var ops []AgentOp
	byCall := map[int]int{}
	logLines(r, since, now, func(t time.Time, line string) {
		if m := executeRE.FindStringSubmatch(line); m != nil && m[1] == rsc && (m[2] == "start" || m[2] == "stop" || m[2] == "reload-agent") {
			call, _ := strconv.Atoi(m[3])
			byCall[call] = len(ops)
			ops = append(ops, AgentOp{Node: node, Action: m[2], Call: call, Called: t, Exec: -1})
			return
		}
		if m := finishedRE.FindStringSubmatch(line); m != nil && m[1] == rsc {
			call, _ := strconv.Atoi(m[3])
			i, ok := byCall[call]
			if !ok {
				return
			}
			ops[i].Returned = t
			ops[i].Status, _ = strconv.Atoi(m[4])
			if d, err := time.ParseDuration(strings.ReplaceAll(m[5], " ", "")); err == nil {
				ops[i].Exec = d
			} else {
				ops[i].Exec = t.Sub(ops[i].Called)
			}
		}
	})
	return ops
}

// LogEvent is a line of a log that marks a step of a failover.
type LogEvent struct {
	Time time.Time
	What string
}

// membershipMarks are the corosync lines that show how a node noticed the
// loss of its peer: the token's loss, then the new membership.
var membershipMarks = []struct{ substr, what string }{
	{"A processor failed, forming new configuration", "corosync: token lost, forming a new membership"},
	{"Members left:", "corosync: new membership without the peer"},
}

// membershipEvents reads node's corosync log for the marks from since on.
func membershipEvents(r io.Reader, node string, since, now time.Time) []LogEvent {
	var out []LogEvent
	logLines(r, since, now, func(t time.Time, line string) {
		for _, m := range membershipMarks {
			if strings.Contains(line, m.substr) {
				out = append(out, LogEvent{t, node + "'s " + m.what})
			}
		}
	})
	return out
}

// logLines calls f with each line of a daemon's log stamped at since or
// later (by the logs' millisecond resolution), and its time.
func logLines(r io.Reader, since, now time.Time, f func(t time.Time, line string)) {
	since = since.Truncate(time.Millisecond)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if t, ok := parseStamp(line, now); ok && !t.Before(since) {
			f(t, line)
		}
	}
}

// readLog opens a node's log and hands it to parse; a missing log reads as
// empty.
func readLog[T any](path string, parse func(io.Reader) T) T {
	f, err := os.Open(path)
	if err != nil {
		return parse(strings.NewReader(""))
	}
	defer f.Close()
	return parse(f)
}

// FenceEvent is a line of a node's Pacemaker log about the fencing of a
// node.
type FenceEvent struct {
	Time time.Time
	What string
	// Result marks the fencer's final word on the operation, and OK
	// says that it succeeded.
	Result, OK bool
	Line       string
}

// The lines of Pacemaker 2.1.5 that tell a node's fencing, in their
// order: the scheduler's decision, the controller's request, the agent's
// exit, and the fencer's result, which alone says whether the fencing
// succeeded.
var (
	// "(pe_fence_node) warning: Cluster node n1 will be fenced: peer is
	// no longer part of the cluster"
	willFenceRE = regexp.MustCompile(`\(pe_fence_node\)\s+warning: Cluster node (\S+) will be fenced: (.*)`)
	// "(controld_execute_fence_action) notice: Requesting fencing
	// (reboot) of node n1 | action=1 timeout=60000"; Pacemaker 3 says
	// "targeting node n1".
	requestFenceRE = regexp.MustCompile(`notice: Requesting fencing \((\S+)\) (?:of|targeting) node (\S+)`)
	// "(log_async_result) notice: Operation 'reboot' [319] targeting n1
	// using fence-lab returned 0 | call 7 from pacemaker-controld.28"
	agentFenceRE = regexp.MustCompile(`notice: Operation '(\S+)' \[\d+\] targeting (\S+) using (\S+) returned (-?\d+)`)
	// "(finalize_op) notice: Operation 'reboot' targeting n1 by n2 for
	// pacemaker-controld.28@n2: OK (complete) | id=0b8d7ed5"
	fenceResultRE = regexp.MustCompile(`notice: Operation '(\S+)' targeting (\S+) by (\S+) for \S+: (.*?)(?: \||$)`)
)

// fenceEvents reads node's log for the fencing of target from since on.
func fenceEvents(r io.Reader, node, target string, since, now time.Time) []FenceEvent {
	var out []FenceEvent
	logLines(r, since, now, func(t time.Time, line string) {
		if m := willFenceRE.FindStringSubmatch(line); m != nil && m[1] == target {
			out = append(out, FenceEvent{Time: t, What: fmt.Sprintf("%s's scheduler: %s will be fenced (%s)", node, target, m[2]), Line: line})
		} else if m := requestFenceRE.FindStringSubmatch(line); m != nil && m[2] == target {
			out = append(out, FenceEvent{Time: t, What: fmt.Sprintf("%s's controller requests fencing (%s) of %s", node, m[1], target), Line: line})
		} else if m := agentFenceRE.FindStringSubmatch(line); m != nil && m[2] == target {
			out = append(out, FenceEvent{Time: t, What: fmt.Sprintf("%s's fencer: the agent of %s (%s %s) exited %s", node, m[3], m[1], target, m[4]), Line: line})
		} else if m := fenceResultRE.FindStringSubmatch(line); m != nil && m[2] == target {
			// "OK (complete)", "OK (Done)" in Pacemaker 3; a failure reads "Error occurred
			// (...)", "Timeout occurred" and the like.
			out = append(out, FenceEvent{Time: t, What: fmt.Sprintf("%s's fencer: %s of %s by %s: %s", node, m[1], target, m[3], m[4]),
				Result: true, OK: strings.HasPrefix(m[4], "OK"), Line: line})
		}
	})
	return out
}
