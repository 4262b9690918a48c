//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/lab"
)

// webServer is the name under which the nodes run this program as the
// service behind the VIP, lab-web: ocf:heartbeat:anything starts it, and
// main dispatches on the name.
const webServer = "lab-web"

// webPort is lab-web's port, on every address of its node.
const webPort = 8080

// hangBound is how long the test lets a connection hang after the VIP's
// stop before it calls it hanging.
const hangBound = 10 * time.Second

// webMain is main for lab-web: a TCP server that greets each connection
// with its node's name and then only reads, so that a client's connection
// stays open and idle, as a database's or a message broker's does. It logs
// each connection's start and end with the time to the nanosecond, for
// the test to read.
func webMain() {
	name, err := os.Hostname()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: hostname: %v\n", webServer, err)
		os.Exit(1)
	}
	l := log.New(os.Stdout, "", 0)
	say := func(format string, args ...any) {
		l.Printf("%s %s", time.Now().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
	}
	// A dual-stack socket, as Go, Java and nginx with ipv6only=off
	// make: the client's IPv4 connection sits on it as
	// ::ffff:198.18.0.100, which kill_connections must find among the
	// AF_INET6 sockets.
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", webPort))
	if err != nil {
		say("listen: %v", err)
		os.Exit(1)
	}
	say("%s listening on :%d", name, webPort)
	// At its stop the process exits, and the kernel closes its
	// connections (FIN): say when.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() {
		<-sigs
		say("SIGTERM: exiting, which closes the connections")
		os.Exit(0)
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			say("accept: %v", err)
			os.Exit(1)
		}
		go func() {
			defer conn.Close()
			peer := conn.RemoteAddr().String()
			say("accepted %s", peer)
			if _, err := fmt.Fprintf(conn, "%s\n", name); err != nil {
				say("%s ended: %v", peer, err)
				return
			}
			buf := make([]byte, 512)
			for {
				if _, err := conn.Read(buf); err != nil {
					say("%s ended: %v", peer, err)
					return
				}
			}
		}()
	}
}

// service puts lab-web behind the VIP and shows what kill_connections does
// to a client's connection when the VIP moves. lab-web runs as a clone on
// both nodes, and vip is ordered after it and colocated with it: the
// pattern of a load balancer or a DNS server, which runs everywhere while
// only the address moves. So at a move lab-web is not stopped, and its
// connection on the old node is still there at vip's stop: only
// kill_connections ends it. (In a group after the VIP, lab-web's own stop
// would close its connections before vip's stop, and kill_connections
// would find none.) With kill_connections=true the client's idle
// connection must be reset by the old holder within vip's stop, and its
// reconnect must reach the new holder; with false the test shows how long
// it hangs. It returns the VIP's holder, which is where it was, after two
// moves, and removes lab-web again.
func (c *Cluster) service(ctx context.Context, w io.Writer, holder *Node) (*Node, error) {
	n1 := c.Nodes[0]
	bin := filepath.Join(filepath.Dir(n1.Dir), webServer)
	if err := copyFile(n1.exe, bin, 0o755); err != nil {
		return nil, fmt.Errorf("install %s: %w", webServer, err)
	}
	create := []string{"pcs", "resource", "create", "web", "ocf:heartbeat:anything", "binfile=" + bin,
		"logfile=/var/log/pacemaker/" + webServer + ".log", "op", "monitor", "interval=10s", "clone"}
	for _, argv := range [][]string{
		create,
		{"pcs", "constraint", "order", "start", "web-clone", "then", "start", "vip"},
		{"pcs", "constraint", "colocation", "add", "vip", "with", "web-clone", "INFINITY"},
	} {
		if _, err := n1.MustExec(ctx, argv...); err != nil {
			return nil, fmt.Errorf("set up lab-web: %w", err)
		}
	}
	if err := waitLocated(ctx, n1, "web-clone", 2, 60*time.Second); err != nil {
		return nil, err
	}
	if _, err := waitStatus(ctx, n1, 30*time.Second, "vip on "+holder.Name, vipOn(holder.Name)); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "\nservice: %s (on n1)\n", strings.Join(create, " "))
	fmt.Fprintf(w, "  lab-web (this program, a TCP server on port %d that greets with its node's name) runs on both nodes;\n"+
		"  vip is ordered after web-clone and colocated with it, so a move of vip leaves lab-web running. The client\n"+
		"  holds one idle connection to %s:%d (no keepalive) while vip moves.\n", webPort, VIP, webPort)
	if !c.agent.KillConnections {
		// pcs refuses a parameter that the agent's meta-data lacks:
		// the moves run without it, twice as floatip's do (true, then
		// false), so that the later failovers go the same ways.
		fmt.Fprintf(w, "  kill_connections: NOT SET: %s has no such parameter (pcs would refuse it); both moves run\n"+
			"  without it and show what the client's connection does; the reset within vip's stop is not asserted\n", c.agent.Title)
	}

	var lines []string
	other := c.other(holder)
	for _, kill := range []bool{true, false} {
		if !c.agent.KillConnections {
			kill = false
		} else if err := c.setKillConnections(ctx, kill, holder); err != nil {
			return nil, err
		}
		line, err := c.serviceMove(ctx, w, kill, false, holder, other)
		if err != nil {
			return nil, err
		}
		lines = append(lines, line)
		holder, other = other, holder
	}
	// The same service in a group after the VIP, as the common recipe
	// has it: its stop comes first, and with it its connections go.
	if _, err := n1.MustExec(ctx, "pcs", "resource", "delete", "web"); err != nil {
		return nil, fmt.Errorf("remove web-clone: %w", err)
	}
	group := []string{"pcs", "resource", "group", "add", "web-group", "vip", "web"}
	for _, argv := range [][]string{create[:len(create)-1], group} {
		if _, err := n1.MustExec(ctx, argv...); err != nil {
			return nil, fmt.Errorf("group lab-web after vip: %w", err)
		}
	}
	if _, err := n1.MustExec(ctx, "crm_resource", "--wait", "--timeout=60s"); err != nil {
		return nil, fmt.Errorf("wait for web-group: %w", err)
	}
	if err := waitOn(ctx, n1, "web", holder.Name, 30*time.Second); err != nil {
		return nil, err
	}
	kill := c.agent.KillConnections
	setting := "kill_connections=true"
	if kill {
		if err := c.setKillConnections(ctx, true, holder); err != nil {
			return nil, err
		}
	} else {
		setting = "no kill_connections (" + c.agent.Title + " has none)"
	}
	fmt.Fprintf(w, "\nservice in a group: lab-web as a plain resource; %s; %s\n", strings.Join(group, " "), setting)
	line, err := c.serviceMove(ctx, w, kill, true, holder, other)
	if err != nil {
		return nil, err
	}
	lines = append(lines, line)
	holder = other
	fmt.Fprintf(w, "  service summary: the client's idle connection when vip moves\n")
	for _, l := range lines {
		fmt.Fprintf(w, "    %s\n", l)
	}
	// The failovers after this one measure the VIP alone, as before.
	for _, argv := range [][]string{{"pcs", "resource", "delete", "web"}, {"pcs", "resource", "ungroup", "web-group"}} {
		if _, err := n1.MustExec(ctx, argv...); err != nil {
			return nil, fmt.Errorf("remove lab-web: %w", err)
		}
	}
	if _, err := n1.MustExec(ctx, "crm_resource", "--wait", "--timeout=60s"); err != nil {
		return nil, fmt.Errorf("wait for lab-web's removal: %w", err)
	}
	if _, err := waitStatus(ctx, n1, 30*time.Second, "lab-web removed, vip on "+holder.Name, vipOn(holder.Name)); err != nil {
		return nil, err
	}
	return holder, nil
}

// waitOn waits until crm_resource --locate finds resource rsc running
// on node alone; unlike Status, it finds a group's members too.
func waitOn(ctx context.Context, n *Node, rsc, node string, d time.Duration) error {
	deadline := time.Now().Add(d)
	want := "is running on: " + node
	for {
		r, err := n.MustExec(ctx, "crm_resource", "--locate", "--resource", rsc)
		if err != nil {
			return fmt.Errorf("locate %s: %w", rsc, err)
		}
		out := strings.TrimSpace(r.Stdout)
		if strings.Count(out, "is running on:") == 1 && strings.HasSuffix(out, want) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not on %s alone within %v: %q", rsc, node, d, out)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitLocated waits until crm_resource --locate finds resource rsc
// running on want nodes. crm_mon's XML, which Status reads, nests a
// clone's instances under the clone.
func waitLocated(ctx context.Context, n *Node, rsc string, want int, d time.Duration) error {
	deadline := time.Now().Add(d)
	var last string
	for {
		r, err := n.MustExec(ctx, "crm_resource", "--locate", "--resource", rsc)
		if err != nil {
			return fmt.Errorf("locate %s: %w", rsc, err)
		}
		last = strings.TrimSpace(r.Stdout)
		if strings.Count(last, "is running on:") == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not running on %d nodes within %v: %q", rsc, want, d, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// setKillConnections sets vip's kill_connections and waits for the cluster
// to apply it, with vip still on holder.
func (c *Cluster) setKillConnections(ctx context.Context, kill bool, holder *Node) error {
	n1 := c.Nodes[0]
	if _, err := n1.MustExec(ctx, "pcs", "resource", "update", "vip", fmt.Sprintf("kill_connections=%t", kill)); err != nil {
		return fmt.Errorf("set kill_connections: %w", err)
	}
	if _, err := n1.MustExec(ctx, "crm_resource", "--wait", "--timeout=60s"); err != nil {
		return fmt.Errorf("wait for kill_connections=%t: %w", kill, err)
	}
	return waitOn(ctx, n1, "vip", holder.Name, 30*time.Second)
}

// serviceMove moves vip from one node to the other with pcs while the
// client holds an idle connection to lab-web through the VIP, and says
// how the connection ended: reset by the old holder within vip's stop
// (asserted with kill), or hanging past hangBound; then a write shows how
// a client that talks finds out. Either way the client's reconnect must
// reach the new holder's lab-web. It returns the summary line.
//
// In group, lab-web is grouped after vip, and the group moves: lab-web's
// stop closes the connection before vip's stop, whatever kill says, and
// only the reconnect is asserted.
func (c *Cluster) serviceMove(ctx context.Context, w io.Writer, kill, group bool, from, to *Node) (string, error) {
	label := fmt.Sprintf("kill_connections=%t", kill)
	if !c.agent.KillConnections {
		label = "no kill_connections"
	}
	what := "vip"
	if group {
		label, what = "group, "+label, "web-group"
	}
	capture, err := c.Client.Capture(unix.ETH_P_IP)
	if err != nil {
		return "", err
	}
	defer func() {
		if capture != nil {
			capture.Close()
		}
	}()
	conn, err := c.dialWeb(2 * time.Second)
	if err != nil {
		return "", fmt.Errorf("%s: the client's connection to %s:%d: %w", label, VIP, webPort, err)
	}
	defer conn.Close()
	if conn.server != from.Name {
		return "", fmt.Errorf("%s: the client's connection to %s reached %q, not the holder %s", label, VIP, conn.server, from.Name)
	}

	f := &Failover{Name: label, Trigger: "pcs resource move " + what + " " + to.Name, From: from, To: to, t0: time.Now()}
	finish, err := command(from, "pcs", "resource", "move", what, to.Name)(ctx, f)
	if err != nil {
		return "", err
	}
	// Wait for the connection to end, or for hangBound after vip's stop
	// was called on the old holder.
	fromLog := filepath.Join(from.Dir, "var/log/pacemaker/pacemaker.log")
	var stop *AgentOp
	deadline := time.Now().Add(90 * time.Second)
	nextRead := time.Now()
	hung := false
wait:
	for {
		select {
		case <-conn.ended:
			break wait
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if stop == nil && time.Now().After(nextRead) {
			// The log only tells the stop's call: read it now and
			// then, not at every tick.
			nextRead = time.Now().Add(250 * time.Millisecond)
			for _, op := range readLog(fromLog, func(r io.Reader) []AgentOp { return agentOps(r, from.Name, "vip", f.t0, time.Now()) }) {
				if op.Action == "stop" && stop == nil {
					stop = &op
				}
			}
		}
		switch {
		case stop != nil && time.Since(stop.Called) > hangBound:
			hung = true
			break wait
		case time.Now().After(deadline):
			return "", fmt.Errorf("%s: no stop of vip on %s within 90 s of %s", label, from.Name, f.Trigger)
		}
	}
	var wrote time.Time
	if hung {
		f.add(stop.Called.Add(hangBound), "client's connection still open and silent, %v after the stop was called", hangBound)
		// A client that talks finds out at its next write: the
		// segment reaches the new holder, which has no such
		// connection and answers with a reset.
		wrote = time.Now()
		if _, err := conn.conn.Write([]byte("hello\n")); err != nil {
			f.add(time.Now(), "client's write failed: %v", err)
		} else {
			f.add(wrote, "client wrote 6 bytes on it")
		}
		select {
		case <-conn.ended:
		case <-time.After(5 * time.Second):
		}
	}
	ended := isClosed(conn.ended)
	if ended {
		f.add(conn.endAt, "client's read ended: %s", describeEnd(conn.endErr))
	}
	// A client reconnects at once.
	again, attempts, err := c.redial(ctx, 30*time.Second)
	if err != nil {
		return "", fmt.Errorf("%s: the client's reconnect to %s:%d after the move: %w", label, VIP, webPort, err)
	}
	defer again.Close()
	f.add(again.at, "client's reconnect (attempt %d) greeted by %q", attempts, again.server)
	if finish != nil {
		if err := finish(); err != nil {
			return "", err
		}
	}
	if err := waitOn(ctx, to, "vip", to.Name, 30*time.Second); err != nil {
		return "", fmt.Errorf("%s: %w", label, err)
	}
	if again.server != to.Name {
		return "", fmt.Errorf("%s: the client's reconnect reached %q, not the new holder %s", label, again.server, to.Name)
	}

	// The timeline: vip's operations, both lab-webs' log of the
	// client's connection, and the resets that reached the client.
	var ops []AgentOp
	for _, n := range []*Node{from, to} {
		ops = append(ops, readLog(filepath.Join(n.Dir, "var/log/pacemaker/pacemaker.log"), func(r io.Reader) []AgentOp {
			return agentOps(r, n.Name, "vip", f.t0, time.Now())
		})...)
	}
	if group {
		// lab-web's own stop and start move with the group.
		for _, n := range []*Node{from, to} {
			for _, op := range readLog(filepath.Join(n.Dir, "var/log/pacemaker/pacemaker.log"), func(r io.Reader) []AgentOp {
				return agentOps(r, n.Name, "web", f.t0, time.Now())
			}) {
				f.add(op.Called, "web %s on %s called", op.Action, op.Node)
				if !op.Returned.IsZero() {
					f.add(op.Returned, "web %s on %s returned %d", op.Action, op.Node, op.Status)
				}
			}
		}
	}
	for _, op := range ops {
		f.add(op.Called, "%s on %s called", op.Action, op.Node)
		if !op.Returned.IsZero() {
			f.add(op.Returned, "%s on %s returned %d (agent ran %s)", op.Action, op.Node, op.Status, ms(op.Exec))
		}
		if op.Node == from.Name && op.Action == "stop" {
			stop = &op
		}
	}
	if stop == nil || stop.Returned.IsZero() {
		return "", fmt.Errorf("%s: no complete stop of vip on %s in its log", label, from.Name)
	}
	serverEnded := false
	for _, n := range []*Node{from, to} {
		for _, e := range webLog(n, f.t0, conn.local, again.local) {
			f.add(e.Time, "%s's lab-web: %s", n.Name, e.What)
			serverEnded = serverEnded || n == from && strings.Contains(e.What, "ended")
		}
	}
	frames := capture.Close()
	capture = nil
	// resetBy are the nodes whose resets ended the connection, later
	// those that came after it had ended.
	var resetBy, later []string
	// resetAt is when the old holder's reset reached the client, by the
	// capture's kernel timestamp: the client's read returns when its
	// goroutine next runs, tens of ms later on a loaded machine.
	var resetAt time.Time
	for _, r := range decodeResets(frames, conn.local) {
		if r.Time.Before(f.t0) {
			continue
		}
		by := "unknown MAC " + r.EthSrc.String()
		for _, n := range c.Nodes {
			if n.Host.MAC.String() == r.EthSrc.String() {
				by = n.Name
			}
		}
		if ended && r.Time.After(conn.endAt) {
			later = append(later, by)
		} else {
			resetBy = append(resetBy, by)
			if by == from.Name && resetAt.IsZero() {
				resetAt = r.Time
			}
		}
		f.add(r.Time, "client received a TCP reset for the connection from %s (%s)", by, r.EthSrc)
	}
	slices.SortStableFunc(f.Events, func(x, y Event) int { return int(x.At - y.At) })

	var line string
	fromStop := func(t time.Time) string {
		if d := t.Sub(stop.Called); d < 0 {
			return ms(-d) + " before"
		} else {
			return ms(d) + " after"
		}
	}
	switch {
	case ended && !hung:
		by := "no reset"
		if len(resetBy) > 0 {
			by = "reset by " + strings.Join(resetBy, ", ")
		} else if len(later) > 0 {
			by = "a reset from " + strings.Join(later, ", ") + " after that"
		}
		line = fmt.Sprintf("%-22s %s -> %s  the connection ended %s vip's stop was called (%s), %s; reconnect reached %s %s later",
			label, from.Name, to.Name, fromStop(conn.endAt), describeEnd(conn.endErr), by, again.server, ms(again.at.Sub(conn.endAt)))
	case ended:
		line = fmt.Sprintf("%-22s %s -> %s  still hanging %v after vip's stop; a write then got %s from %s after %s; reconnect reached %s",
			label, from.Name, to.Name, hangBound, describeEnd(conn.endErr), strings.Join(resetBy, ", "), ms(conn.endAt.Sub(wrote)), again.server)
	default:
		line = fmt.Sprintf("%-22s %s -> %s  still hanging %v after vip's stop, and 5 s after a write; reconnect reached %s",
			label, from.Name, to.Name, hangBound, again.server)
	}
	fmt.Fprintf(w, "\nservice, %s: %s on %s (vip on %s; the client's connection %s to %s's lab-web)\n",
		label, f.Trigger, from.Name, from.Name, conn.local, from.Name)
	for _, e := range f.Events {
		fmt.Fprintf(w, "  %+10.1f ms  %s\n", float64(e.At.Microseconds())/1000, e.What)
	}
	fmt.Fprintf(w, "  %s\n", line)

	if kill && !group {
		// The reset must be the old holder's doing, within the stop:
		// SOCK_DESTROY before the address goes. The log's coarse
		// ticks get a few ms of slack.
		const slack = 20 * time.Millisecond
		switch {
		case hung || !ended:
			return "", fmt.Errorf("%s: the client's connection was not reset within %v of vip's stop on %s", label, hangBound, from.Name)
		case !errors.Is(conn.endErr, syscall.ECONNRESET):
			return "", fmt.Errorf("%s: the client's connection ended with %v, not a reset", label, conn.endErr)
		case resetAt.IsZero():
			return "", fmt.Errorf("%s: no reset from %s (%s) reached the client: resets from %v", label, from.Name, from.Host.MAC, resetBy)
		case resetAt.Before(stop.Called.Add(-slack)) || resetAt.After(stop.Returned.Add(slack)):
			return "", fmt.Errorf("%s: %s's reset reached the client at %s, outside vip's stop there (%s to %s)",
				label, from.Name, resetAt.Format(logStamp), stop.Called.Format(logStamp), stop.Returned.Format(logStamp))
		case !serverEnded:
			return "", fmt.Errorf("%s: %s's lab-web did not see its connection end", label, from.Name)
		}
	}
	return line, nil
}

// webConn is the client's connection to lab-web through the VIP.
type webConn struct {
	conn net.Conn
	// local is the client's end, as lab-web logs its peer; server is
	// the node that greeted it, and at when.
	local, server string
	at            time.Time
	// ended is closed when the blocked read returns, at endAt with
	// endErr.
	ended  chan struct{}
	endAt  time.Time
	endErr error
}

func (c *webConn) Close() { c.conn.Close() }

// dialWeb connects the client to lab-web on the VIP, reads its greeting,
// and leaves a read blocked on the connection, as an idle client's is.
// No keepalive: many clients have none, and it would only end the
// connection after minutes.
func (c *Cluster) dialWeb(timeout time.Duration) (*webConn, error) {
	var conn net.Conn
	err := c.Client.Do(func() (err error) {
		d := net.Dialer{Timeout: timeout, KeepAlive: -1}
		conn, err = d.Dial("tcp", netip.AddrPortFrom(VIP, webPort).String())
		return err
	})
	if err != nil {
		return nil, err
	}
	conn.SetReadDeadline(time.Now().Add(timeout))
	rd := bufio.NewReader(conn)
	line, err := rd.ReadString('\n')
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("read lab-web's greeting: %w", err)
	}
	conn.SetReadDeadline(time.Time{})
	wc := &webConn{conn: conn, local: conn.LocalAddr().String(), server: strings.TrimSpace(line), at: time.Now(), ended: make(chan struct{})}
	go func() {
		buf := make([]byte, 64)
		_, err := rd.Read(buf)
		wc.endAt, wc.endErr = time.Now(), err
		close(wc.ended)
	}()
	return wc, nil
}

// redial reconnects the client as a client does after its connection
// broke: at once, and again every 20 ms while the VIP is in flight.
func (c *Cluster) redial(ctx context.Context, within time.Duration) (*webConn, int, error) {
	deadline := time.Now().Add(within)
	var last error
	for i := 1; time.Now().Before(deadline); i++ {
		conn, err := c.dialWeb(250 * time.Millisecond)
		if err == nil {
			return conn, i, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, i, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil, 0, fmt.Errorf("no connection within %v: %w", within, last)
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// describeEnd names how a read on a connection ended.
func describeEnd(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "ECONNRESET, a reset"
	case errors.Is(err, io.EOF):
		return "EOF, the server closed it"
	case err == nil:
		return "data"
	}
	return err.Error()
}

// webLog reads node n's lab-web log for the lines about the client's
// connection peer and its reconnect, and for its exit, from since on.
func webLog(n *Node, since time.Time, peer, reconnect string) []LogEvent {
	return readLog(filepath.Join(n.Dir, "var/log/pacemaker", webServer+".log"), func(r io.Reader) []LogEvent {
		var out []LogEvent
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			stamp, rest, _ := strings.Cut(sc.Text(), " ")
			t, err := time.Parse(time.RFC3339Nano, stamp)
			if err != nil || t.Before(since) {
				continue
			}
			if strings.Contains(rest, peer) || strings.Contains(rest, reconnect) || strings.HasPrefix(rest, "SIGTERM") {
				rest = strings.ReplaceAll(rest, peer, "the client's connection")
				out = append(out, LogEvent{t, strings.ReplaceAll(rest, reconnect, "the client's reconnect")})
			}
		}
		return out
	})
}

// tcpReset is a TCP reset that reached the client.
type tcpReset struct {
	Time   time.Time
	EthSrc net.HardwareAddr
}

// decodeResets finds the TCP resets among IPv4 frames sent from the VIP's
// lab-web port to the client's end local ("198.18.0.3:41234").
func decodeResets(frames []lab.Frame, local string) []tcpReset {
	ap, err := netip.ParseAddrPort(local)
	if err != nil {
		return nil
	}
	var out []tcpReset
	for _, f := range frames {
		b := f.Data
		if len(b) < 14+20 || binary.BigEndian.Uint16(b[12:14]) != unix.ETH_P_IP || b[14+9] != unix.IPPROTO_TCP {
			continue
		}
		ihl := int(b[14]&0x0f) * 4
		tcp := b[14+ihl:]
		src := netip.AddrFrom4([4]byte(b[14+12 : 14+16]))
		dst := netip.AddrFrom4([4]byte(b[14+16 : 14+20]))
		if len(tcp) < 20 || src != VIP || dst != ap.Addr() ||
			binary.BigEndian.Uint16(tcp[0:2]) != webPort || binary.BigEndian.Uint16(tcp[2:4]) != ap.Port() || tcp[13]&0x04 == 0 {
			continue
		}
		out = append(out, tcpReset{f.Time, net.HardwareAddr(b[6:12])})
	}
	return out
}
