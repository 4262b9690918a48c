//go:build linux

package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cloneVIP is the load-shared address of the clone scenario, and
// cloneHeartbeatVIP the one heartbeat:IPaddr2 is given beside it.
var (
	cloneVIP          = netip.MustParseAddr("198.18.0.100")
	cloneHeartbeatVIP = netip.MustParseAddr("198.18.0.101")
)

// cloneEchoPort is the UDP port on which every node answers with its name.
const cloneEchoPort = 7777

// cloneSources is how many source addresses the client asks from.
const cloneSources = 30

// cloneScenario is a load-shared address (clone mode) under a real
// cluster: three nodes with quorum and fencing, the address cloned with
// globally-unique=true clone-max=3 clone-node-max=3, and a client with
// thirty source addresses. Every source must be answered by exactly one
// node; the test prints the spread. Then one node dies hard and is
// fenced: its instance must move to a survivor (two instances on one
// node) and every source must be answered again; the test prints how
// long that took. Side by side, heartbeat:IPaddr2 created the same way
// must fail, and the test prints how.
func cloneScenario(ctx context.Context, w io.Writer, binary string, ag *Agent) (err error) {
	if !ag.Floatip() {
		// It runs heartbeat:IPaddr2 beside floatip itself.
		fmt.Fprintf(w, "\n=== clone: skipped under %s: the scenario runs it beside floatip's clone\n", ag.Title)
		return nil
	}
	rc, cleanup, err := newRingCluster([]string{"n1", "n2", "n3"}, ag)
	if err != nil {
		return err
	}
	var echoes []io.Closer
	defer func() {
		for _, e := range echoes {
			e.Close()
		}
		if err != nil && ctx.Err() == nil {
			rc.dumpLogs(os.Stderr)
		}
		err = joinErr(err, cleanup())
	}()
	fmt.Fprintf(w, "\n=== clone: three nodes with quorum and fencing, %s load-shared by %s (clone-max=3 clone-node-max=3), a client with %d sources\n",
		cloneVIP, ag.Title, cloneSources)
	rc.describeNodes(w)
	if err := rc.boot(ctx, w, ringConf(rc, false), binary,
		[2]string{"stonith-enabled", "true"}, [2]string{"resource-stickiness", "1"}); err != nil {
		return err
	}
	if err := rc.fenceDevice(ctx, w); err != nil {
		return err
	}
	var sources []netip.Addr
	for i := range cloneSources {
		src := netip.AddrFrom4([4]byte{198, 18, 0, byte(16 + i)})
		if err := rc.Client.IP("addr", "add", src.String()+"/24", "dev", rc.Client.Dev); err != nil {
			return err
		}
		sources = append(sources, src)
	}
	for _, n := range rc.Nodes {
		e, err := startNodeEcho(n)
		if err != nil {
			return err
		}
		echoes = append(echoes, e)
	}

	create := []string{"pcs", "resource", "create", "vip", ag.Type, "ip=" + cloneVIP.String(), "cidr_netmask=24",
		"clusterip_mac_mangle=true", "op", "monitor", "interval=10s",
		"clone", "globally-unique=true", "clone-max=3", "clone-node-max=3"}
	t := time.Now()
	if _, err := rc.Nodes[0].MustExec(ctx, create...); err != nil {
		return err
	}
	placed, err := waitClone(ctx, rc.Nodes[0], 60*time.Second, "vip-clone", func(p map[string]string) bool {
		return len(p) == 3 && len(distinct(p)) == 3
	}, rc.Nodes[1:]...)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  %s\n  three instances started in %.1f s: %s\n", strings.Join(create, " "), time.Since(t).Seconds(), instances(placed))
	answers, err := askSpread(ctx, rc.Client.Do, sources, 10*time.Second)
	if err != nil {
		return fmt.Errorf("clone: before the kill: %w", err)
	}
	fmt.Fprintf(w, "  every source answered by exactly one node: %s\n", spread(answers, rc.Nodes))
	if err := checkSpread(answers, rc.Nodes); err != nil {
		return fmt.Errorf("clone: before the kill: %w", err)
	}

	victim := rc.Nodes[2]
	var survivors []*Node
	for _, n := range rc.Nodes {
		if n != victim {
			survivors = append(survivors, n)
		}
	}
	lost := 0
	for _, who := range answers {
		if who == victim.Name {
			lost++
		}
	}
	t0 := time.Now()
	if _, err := victim.powerOff(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n  hard kill of %s (link down, init SIGKILLed), which answered %d of %d sources\n", victim.Name, lost, len(sources))
	var movedAt time.Time
	placed, err = waitClone(ctx, survivors[0], 90*time.Second, "vip-clone on the survivors", func(p map[string]string) bool {
		if len(p) != 3 || slices.Contains(mapsValues(p), victim.Name) {
			return false
		}
		movedAt = time.Now()
		return true
	}, survivors[1])
	if err != nil {
		return err
	}
	var fencedAt time.Time
	for _, r := range rc.Power.Requests(t0) {
		if r.Target == victim.Name && r.Err == nil {
			fencedAt = r.Done
		}
	}
	if fencedAt.IsZero() {
		return fmt.Errorf("clone: the instances moved off %s, but no fence_lab asked the switch to fence it", victim.Name)
	}
	answers, err = askSpread(ctx, rc.Client.Do, sources, 60*time.Second)
	if err != nil {
		return fmt.Errorf("clone: after the kill: %w", err)
	}
	allAt := time.Now()
	if err := checkSpread(answers, survivors); err != nil {
		return fmt.Errorf("clone: after the kill: %w", err)
	}
	fmt.Fprintf(w, "  %s fenced (the switch asked by a survivor) after %s\n", victim.Name, ms(fencedAt.Sub(t0)))
	fmt.Fprintf(w, "  crm_mon: all three instances running on the survivors after %s: %s\n", ms(movedAt.Sub(t0)), instances(placed))
	fmt.Fprintf(w, "  every source answered again, by exactly one node, after %s: %s\n", ms(allAt.Sub(t0)), spread(answers, survivors))

	return heartbeatClone(ctx, w, survivors)
}

// heartbeatClone creates heartbeat:IPaddr2 as a clone the same way and
// prints how it fails, from the executors' logs: it must run nowhere.
func heartbeatClone(ctx context.Context, w io.Writer, nodes []*Node) error {
	create := []string{"pcs", "resource", "create", "vip-hb", "ocf:heartbeat:IPaddr2", "ip=" + cloneHeartbeatVIP.String(), "cidr_netmask=24",
		"op", "monitor", "interval=10s", "clone", "globally-unique=true", "clone-max=3", "clone-node-max=3"}
	t := time.Now()
	if _, err := nodes[0].MustExec(ctx, create...); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n  side by side, resource-agents %s: %s\n", packageVersion("resource-agents"), strings.Join(create, " "))
	// Each instance's result on each node, and the cluster idle.
	var results []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		results = results[:0]
		for _, n := range nodes {
			results = append(results, readLog(filepath.Join(n.Dir, "var/log/pacemaker/pacemaker.log"), func(r io.Reader) []string {
				return opResults(r, "vip-hb:", t, time.Now())
			})...)
		}
		if p, err := clonePlacement(ctx, nodes[0], "vip-hb-clone"); err != nil {
			return err
		} else if len(p) > 0 {
			return fmt.Errorf("clone: heartbeat:IPaddr2's clone runs: %s", instances(p))
		}
		if len(results) >= 3*len(nodes) {
			if r, err := nodes[0].Exec(ctx, "crm_resource", "--wait", "--timeout=1s"); err == nil && r.Code == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("clone: heartbeat:IPaddr2's clone: not a result of each instance on each of %s within 60s: %q", nodeNames(nodes), results)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	slices.Sort(results)
	fmt.Fprintf(w, "  it runs nowhere (crm_mon: no instance started); the executors logged:\n")
	for _, r := range results {
		fmt.Fprintf(w, "    %s\n", r)
	}
	for _, n := range nodes {
		on, err := holds(n, cloneHeartbeatVIP)
		if err != nil {
			return err
		}
		if on {
			return fmt.Errorf("clone: heartbeat:IPaddr2 left %s on %s", cloneHeartbeatVIP, n.Name)
		}
	}
	_, err := nodes[0].MustExec(ctx, "pcs", "resource", "delete", "vip-hb")
	return err
}

// resultRE is the controller's line for an operation's result: "Result
// of probe operation for vip-hb:0 on n2: not installed (Setup problem:
// ...) | CIB update ...".
var resultRE = regexp.MustCompile(`Result of (\S+) operation for (\S+) on (\S+): (.*?) \|`)

// opResults reads the results of the operations on the resources whose
// names start with prefix, as "resource action on node: result".
func opResults(r io.Reader, prefix string, since, now time.Time) []string {
	var out []string
	logLines(r, since, now, func(_ time.Time, line string) {
		if m := resultRE.FindStringSubmatch(line); m != nil && strings.HasPrefix(m[2], prefix) {
			out = append(out, fmt.Sprintf("%s %s on %s: %s", m[2], m[1], m[3], m[4]))
		}
	})
	return out
}

// crmClones is what crm_mon says of the cluster's clones.
type crmClones struct {
	Clones []struct {
		ID        string `xml:"id,attr"`
		Resources []struct {
			ID     string `xml:"id,attr"`
			Role   string `xml:"role,attr"`
			Failed bool   `xml:"failed,attr"`
			Nodes  []struct {
				Name string `xml:"name,attr"`
			} `xml:"node"`
		} `xml:"resource"`
	} `xml:"resources>clone"`
}

// clonePlacement says where the instances of clone id run, by instance,
// as node n's crm_mon sees it; instances not started are left out.
func clonePlacement(ctx context.Context, n *Node, id string) (map[string]string, error) {
	r, err := n.MustExec(ctx, "crm_mon", "--one-shot", "--inactive", "--output-as=xml")
	if err != nil {
		return nil, err
	}
	var s crmClones
	if err := xml.Unmarshal([]byte(r.Stdout), &s); err != nil {
		return nil, fmt.Errorf("crm_mon on %s: %w", n.Name, err)
	}
	out := map[string]string{}
	for _, c := range s.Clones {
		if c.ID != id {
			continue
		}
		for _, rsc := range c.Resources {
			if rsc.Role == "Started" && !rsc.Failed && len(rsc.Nodes) == 1 {
				out[rsc.ID] = rsc.Nodes[0].Name
			}
		}
	}
	return out, nil
}

// waitClone polls clonePlacement on n until ok accepts it, for at most d;
// it fails at once when n or a node of alive ends.
func waitClone(ctx context.Context, n *Node, d time.Duration, what string, ok func(map[string]string) bool, alive ...*Node) (map[string]string, error) {
	deadline := time.Now().Add(d)
	var last map[string]string
	for {
		for _, a := range append([]*Node{n}, alive...) {
			if !a.Running() {
				return nil, fmt.Errorf("%s: node %s ended: %v: %s", what, a.Name, a.err, a.tail())
			}
		}
		p, err := clonePlacement(ctx, n, "vip-clone")
		if err == nil && ok(p) {
			return p, nil
		}
		last = p
		if time.Now().After(deadline) {
			s, _ := status(ctx, n)
			failures := ""
			if s != nil {
				failures = s.FailureText()
			}
			return nil, fmt.Errorf("%s: not within %v: %s; failures %q", what, d, instances(last), failures)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func mapsValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// distinct is the set of nodes in a placement.
func distinct(p map[string]string) []string {
	out := mapsValues(p)
	slices.Sort(out)
	return slices.Compact(out)
}

// nodeEcho answers every UDP datagram to the clone's address on a node
// with the node's name.
type nodeEcho struct {
	pc   *net.UDPConn
	done chan struct{}
}

func (e *nodeEcho) Close() error {
	err := e.pc.Close()
	<-e.done
	return err
}

// startNodeEcho listens on the clone's address in node n's namespace,
// before the address is there (IP_FREEBIND), so that the socket serves it
// whenever the node holds it.
func startNodeEcho(n *Node) (*nodeEcho, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_FREEBIND, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	var pc net.PacketConn
	if err := n.Host.Do(func() (err error) {
		pc, err = lc.ListenPacket(context.Background(), "udp4", netip.AddrPortFrom(cloneVIP, cloneEchoPort).String())
		return err
	}); err != nil {
		return nil, fmt.Errorf("the echo server on %s: %w", n.Name, err)
	}
	e := &nodeEcho{pc: pc.(*net.UDPConn), done: make(chan struct{})}
	go func() {
		defer close(e.done)
		buf := make([]byte, 64)
		for {
			_, from, err := e.pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			e.pc.WriteToUDPAddrPort([]byte(n.Name), from)
		}
	}()
	return e, nil
}

// askSpread asks the clone's address from every source, all at once and
// again every 200 ms for those not yet answered, until each has an
// answer or d passes, and returns which node answered each source ("a,b"
// when two did). do runs a function in the client's namespace.
func askSpread(ctx context.Context, do func(func() error) error, sources []netip.Addr, d time.Duration) (map[netip.Addr]string, error) {
	var mu sync.Mutex
	out := map[netip.Addr]string{}
	deadline := time.Now().Add(d)
	for {
		var wg sync.WaitGroup
		for _, src := range sources {
			mu.Lock()
			_, done := out[src]
			mu.Unlock()
			if done {
				continue
			}
			var c *net.UDPConn
			if err := do(func() (err error) {
				c, err = net.DialUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0)),
					net.UDPAddrFromAddrPort(netip.AddrPortFrom(cloneVIP, cloneEchoPort)))
				return err
			}); err != nil {
				return nil, err
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if who := askOnce(c); who != "" {
					mu.Lock()
					out[src] = who
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(out) == len(sources) {
			return out, nil
		}
		if time.Now().After(deadline) {
			return out, fmt.Errorf("%d of %d sources got no answer from %s within %v", len(sources)-len(out), len(sources), cloneVIP, d)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// askOnce sends one request on c and collects the answers for 200 ms:
// the answering nodes, joined by ",", "" for none.
func askOnce(c *net.UDPConn) string {
	if _, err := c.Write([]byte("who")); err != nil {
		return ""
	}
	var who []string
	buf := make([]byte, 64)
	end := time.Now().Add(200 * time.Millisecond)
	for {
		c.SetReadDeadline(end)
		n, err := c.Read(buf)
		if err != nil {
			break
		}
		if name := string(buf[:n]); !slices.Contains(who, name) {
			who = append(who, name)
		}
	}
	slices.Sort(who)
	return strings.Join(who, ",")
}

// checkSpread fails unless every source was answered by one node of
// nodes alone.
func checkSpread(answers map[netip.Addr]string, nodes []*Node) error {
	for src, who := range answers {
		if !slices.ContainsFunc(nodes, func(n *Node) bool { return n.Name == who }) {
			return fmt.Errorf("%s was answered by %q, want exactly one of %s", src, who, nodeNames(nodes))
		}
	}
	return nil
}

// spread says how many sources each node answered.
func spread(answers map[netip.Addr]string, nodes []*Node) string {
	count := map[string]int{}
	for _, who := range answers {
		count[who]++
	}
	var parts []string
	for _, n := range nodes {
		parts = append(parts, fmt.Sprintf("%s %d", n.Name, count[n.Name]))
		delete(count, n.Name)
	}
	for who, c := range count {
		parts = append(parts, fmt.Sprintf("%q %d", who, c))
	}
	return strings.Join(parts, ", ")
}

// instances says where each instance runs, in the instances' order.
func instances(p map[string]string) string {
	var ids []string
	for id := range p {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []string
	for _, id := range ids {
		out = append(out, id+" on "+p[id])
	}
	if len(out) == 0 {
		return "no instance started"
	}
	return strings.Join(out, ", ")
}
