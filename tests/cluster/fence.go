//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// The lab's fencing has two halves. fence_lab is the fence agent: this
// program installed as /usr/sbin/fence_lab on each node, where
// pacemaker-fenced runs it as it runs any fence agent. It cannot reach the
// other node's init, which lives in a sibling PID namespace, so it asks the
// lab's power switch: a Unix socket that the test serves from the host, and
// that kills the node the way the hard kill does. A path-bound socket
// crosses network and mount namespaces (the nodes see the host's /tmp),
// which an abstract one would not.
const fenceAgent = "fence_lab"

// fenceMetadata is fence_lab's meta-data, in the shape fence-agents give
// theirs (fence_virsh's): plug with port as its deprecated spelling,
// action, and the switch's socket, the one parameter of its own. plug is
// not required: fenced passes the target on stdin.
const fenceMetadata = `<?xml version="1.0" ?>
<resource-agent name="fence_lab" shortdesc="Fence agent for floatip's cluster-test lab">
<longdesc>fence_lab powers off a node of floatip's live cluster test: it asks the test's power switch, a Unix socket on the host, to cut the node's link and kill its init, which ends every process of the node. It can reach nothing but the lab's nodes.</longdesc>
<vendor-url>https://github.com/floatip/floatip</vendor-url>
<parameters>
	<parameter name="action" unique="0" required="0">
		<getopt mixed="-o, --action=[action]" />
		<content type="string" default="reboot" />
		<shortdesc lang="en">Fencing action</shortdesc>
	</parameter>
	<parameter name="plug" unique="0" required="0" obsoletes="port">
		<getopt mixed="-n, --plug=[id]" />
		<content type="string" />
		<shortdesc lang="en">The node to fence, by its cluster name</shortdesc>
	</parameter>
	<parameter name="port" unique="0" required="0" deprecated="1">
		<getopt mixed="-n, --plug=[id]" />
		<content type="string" />
		<shortdesc lang="en">The node to fence, by its cluster name</shortdesc>
	</parameter>
	<parameter name="socket" unique="0" required="1">
		<getopt mixed="--socket=[path]" />
		<content type="string" />
		<shortdesc lang="en">The lab's power switch: the test's Unix socket</shortdesc>
	</parameter>
</parameters>
<actions>
	<action name="on" automatic="0" />
	<action name="off" />
	<action name="reboot" />
	<action name="status" />
	<action name="list" />
	<action name="monitor" />
	<action name="metadata" />
	<action name="validate-all" />
</actions>
</resource-agent>
`

// Exit codes of the fence-agent API: status exits 2 for a node that is
// off, 1 is any failure.
const (
	fenceOK     = 0
	fenceFailed = 1
	fenceOff    = 2
)

// fenceAgentMain is main for fence_lab. Pacemaker passes the device's
// parameters on stdin, one key=value a line; fence-agents also take
// "-o ACTION" and "--key=value" arguments, which an admin's shell uses.
func fenceAgentMain(args []string) {
	params := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := strings.TrimLeft(args[i], "-")
		k, v, ok := strings.Cut(a, "=")
		if !ok && i+1 < len(args) {
			v, i = args[i+1], i+1
		}
		switch k {
		case "o":
			k = "action"
		case "n":
			k = "plug"
		}
		params[k] = v
	}
	// Arguments alone (fence_lab -o metadata) mean no stdin to read,
	// and a terminal's stdin would never end.
	if len(args) == 0 {
		readFenceParams(os.Stdin, params)
	}
	code, err := fenceAction(params, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fence_lab: %v\n", err)
	}
	os.Exit(code)
}

// readFenceParams reads key=value lines; "option" is the old name of
// "action", and blank lines and comments are skipped as fence-agents
// skip them.
func readFenceParams(r io.Reader, params map[string]string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		if k == "option" {
			k = "action"
		}
		params[k] = v
	}
}

// fenceAction runs one action of the fence-agent API and returns its exit
// code.
func fenceAction(params map[string]string, out io.Writer) (int, error) {
	action := params["action"]
	if action == "" {
		action = "reboot"
	}
	// fenced passes the target as port (or plug, by pcmk_host_argument),
	// mapped by pcmk_host_map, and as nodename, the cluster's name of it.
	target := params["plug"]
	if target == "" {
		target = params["port"]
	}
	if target == "" {
		target = params["nodename"]
	}
	switch action {
	case "metadata":
		io.WriteString(out, fenceMetadata)
		return fenceOK, nil
	case "validate-all":
		if params["socket"] == "" {
			return fenceFailed, errors.New("socket is required")
		}
		return fenceOK, nil
	case "on":
		// The lab powers a node on by booting it (the test's reboot
		// step), not through the switch: on succeeds and does nothing.
		return fenceOK, nil
	case "monitor", "list":
		target = "-"
	case "off", "reboot", "status":
		if target == "" {
			return fenceFailed, fmt.Errorf("%s needs plug (or port)", action)
		}
	default:
		return fenceFailed, fmt.Errorf("unknown action %q", action)
	}
	if params["socket"] == "" {
		return fenceFailed, errors.New("socket is required")
	}
	// Who asks: the node's own hostname, which its init set to its
	// cluster name (the UTS namespace is the node's).
	by, err := os.Hostname()
	if err != nil || by == "" {
		by = "-"
	}
	reply, err := askSwitch(params["socket"], action, target, by)
	if err != nil {
		return fenceFailed, err
	}
	word, rest, _ := strings.Cut(reply, " ")
	switch {
	case word == "ON" && action == "status":
		return fenceOK, nil
	case word == "OFF" && action == "status":
		return fenceOff, nil
	case word == "OK" && action == "list":
		// One node a line, as fence-agents list plugs.
		for _, n := range strings.Fields(rest) {
			fmt.Fprintln(out, n)
		}
		return fenceOK, nil
	case word == "OK":
		return fenceOK, nil
	}
	return fenceFailed, fmt.Errorf("%s %s: the lab's switch said %q", action, target, reply)
}

// askSwitch sends one request, "ACTION TARGET BY", and returns the
// switch's one-line answer. The deadline is well below fenced's timeout
// of a fencing (stonith-timeout, 60 s), so that a stuck switch shows as
// this error in the fencer's log rather than as a timeout.
func askSwitch(socket, action, target, by string) (string, error) {
	conn, err := net.DialTimeout("unix", socket, 5*time.Second)
	if err != nil {
		return "", fmt.Errorf("the lab's switch: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := fmt.Fprintf(conn, "%s %s %s\n", action, target, by); err != nil {
		return "", fmt.Errorf("the lab's switch: %w", err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("the lab's switch did not answer %s %s: %w", action, target, err)
	}
	return strings.TrimSpace(line), nil
}

// FenceRequest is one off or reboot that a node's fence_lab asked the
// switch for.
type FenceRequest struct {
	Action, Target, By string
	// At is when the request arrived, Done when the target was dead.
	At, Done time.Time
	// WasRunning says whether the target still ran when asked: a node
	// that the test has killed already is only confirmed off.
	WasRunning bool
	Err        error
}

// PowerSwitch is the host's half of the lab's fencing: it serves fence_lab's
// requests on a Unix socket and acts on the lab's nodes only.
type PowerSwitch struct {
	Socket string
	c      *Cluster
	ln     net.Listener
	wg     sync.WaitGroup

	mu       sync.Mutex
	requests []FenceRequest
	// monitors counts the monitor, list and status requests: fenced's
	// checks of the device.
	monitors int
}

// servePower listens on dir/power.sock.
func (c *Cluster) servePower(dir string) (*PowerSwitch, error) {
	p := &PowerSwitch{Socket: filepath.Join(dir, "power.sock"), c: c}
	ln, err := net.Listen("unix", p.Socket)
	if err != nil {
		return nil, fmt.Errorf("the lab's power switch: %w", err)
	}
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.serve(conn)
			}()
		}
	}()
	return p, nil
}

// Close stops the switch and waits for the requests in flight.
func (p *PowerSwitch) Close() error {
	err := p.ln.Close()
	p.wg.Wait()
	if err != nil {
		return fmt.Errorf("the lab's power switch: %w", err)
	}
	return nil
}

func (p *PowerSwitch) serve(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return
	}
	f := strings.Fields(line)
	if len(f) != 3 {
		fmt.Fprintf(conn, "ERR want ACTION TARGET BY, got %q\n", strings.TrimSpace(line))
		return
	}
	fmt.Fprintln(conn, p.handle(f[0], f[1], f[2]))
}

// handle answers one request: "OK", "ON", "OFF", or "ERR why".
func (p *PowerSwitch) handle(action, target, by string) string {
	if action == "monitor" || action == "list" {
		p.mu.Lock()
		p.monitors++
		p.mu.Unlock()
		if action == "list" {
			var names []string
			for _, n := range p.c.Nodes {
				names = append(names, n.Name)
			}
			return "OK " + strings.Join(names, " ")
		}
		return "OK"
	}
	n := p.c.node(target)
	if n == nil {
		return "ERR no node " + target + " in the lab"
	}
	if action == "status" {
		p.mu.Lock()
		p.monitors++
		p.mu.Unlock()
		if n.running() {
			return "ON"
		}
		return "OFF"
	}
	// off and reboot: the node's power goes, as the hard kill takes
	// it. A reboot leaves the node off; the test boots it again when it
	// wants it back.
	r := FenceRequest{Action: action, Target: target, By: by, At: time.Now()}
	r.WasRunning, r.Err = n.powerOff()
	r.Done = time.Now()
	p.mu.Lock()
	p.requests = append(p.requests, r)
	p.mu.Unlock()
	if r.Err != nil {
		return "ERR " + r.Err.Error()
	}
	return "OK"
}

// Requests returns the off and reboot requests that arrived from since on.
func (p *PowerSwitch) Requests(since time.Time) []FenceRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []FenceRequest
	for _, r := range p.requests {
		if !r.At.Before(since) {
			out = append(out, r)
		}
	}
	return out
}

// Monitors is how many checks of the device fenced has made.
func (p *PowerSwitch) Monitors() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.monitors
}

// fenced checks the fencing of the old holder: the survivor's fence_lab
// asked the switch to power it off, the survivor's fencer logged that the
// fencing succeeded, and it did so before the VIP's start on the survivor
// was called. In a hard kill the node is dead before it is fenced, and
// the switch must only confirm it off; in an admin's fencing the switch
// must have powered off a node that ran. It adds those moments to the
// failover's timeline.
func (c *Cluster) fenced(ctx context.Context, f *Failover) error {
	dead, survivor := f.From, f.To
	log := filepath.Join(survivor.Dir, "var/log/pacemaker/pacemaker.log")
	var events []FenceEvent
	// fenced logs the result a little after the agent returns.
	for range 25 {
		events = readLog(log, func(r io.Reader) []FenceEvent { return fenceEvents(r, survivor.Name, dead.Name, f.t0, time.Now()) })
		if slices.ContainsFunc(events, func(e FenceEvent) bool { return e.Result }) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	var result *FenceEvent
	for i, e := range events {
		f.add(e.Time, "%s", e.What)
		if e.Result && result == nil {
			result = &events[i]
		}
	}
	if result == nil {
		return fmt.Errorf("%s: %s's log shows no fencing result for %s", f.Name, survivor.Name, dead.Name)
	}
	if !result.OK {
		return fmt.Errorf("%s: %s's fencing of %s failed: %s", f.Name, survivor.Name, dead.Name, result.Line)
	}
	reqs := c.Power.Requests(f.t0)
	if len(reqs) == 0 {
		return fmt.Errorf("%s: %s's fencer says it fenced %s, but fence_lab never asked the switch", f.Name, survivor.Name, dead.Name)
	}
	for _, r := range reqs {
		if r.Target != dead.Name || r.By != survivor.Name {
			return fmt.Errorf("%s: fence_lab on %s asked to %s %s", f.Name, r.By, r.Action, r.Target)
		}
		if r.Err != nil {
			return fmt.Errorf("%s: the switch failed to %s %s: %w", f.Name, r.Action, r.Target, r.Err)
		}
		if want := f.Name == kindFence; r.WasRunning != want {
			return fmt.Errorf("%s: %s ran=%v when the switch was asked to %s it, want %v", f.Name, r.Target, r.WasRunning, r.Action, want)
		}
		state := "already dead: confirmed off"
		if r.WasRunning {
			state = "still ran: powered off"
		}
		f.add(r.At, "the switch got %s %s from %s's fence_lab", r.Action, r.Target, r.By)
		f.add(r.Done, "the switch answered: %s %s", r.Target, state)
	}
	var start *AgentOp
	for i, op := range f.ops {
		if op.Node == survivor.Name && op.Action == "start" {
			start = &f.ops[i]
			break
		}
	}
	if start == nil {
		return fmt.Errorf("%s: no start of vip on %s in its log", f.Name, survivor.Name)
	}
	// Both times come from the one log, to the millisecond.
	if start.Called.Before(result.Time) {
		return fmt.Errorf("%s: vip's start on %s was called at %s, before the fencing of %s succeeded at %s",
			f.Name, survivor.Name, start.Called.Format(logStamp), dead.Name, result.Time.Format(logStamp))
	}
	f.Fenced = result.Time.Sub(f.t0)
	f.StartAfterFence = start.Called.Sub(result.Time)
	return nil
}
