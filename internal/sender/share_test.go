//go:build linux

package sender

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testNetNS is a namespace number of its own for each test, so that its
// socket name meets no other test's, nor a real sender's.
func testNetNS() uint64 { return 1<<40 + rand.Uint64N(1<<40) }

// burstArgs are the arguments of the sender of ip's burst in netns.
func burstArgs(ip string, netns uint64) []string {
	return []string{"announce", "--background-sender", "1", "--ip", ip, "--nic", "eth0", NetNSFlag, strconv.FormatUint(netns, 10)}
}

// bursts records the bursts a test server runs: each runs until its
// context ends, then says so on ended.
type bursts struct {
	mu      sync.Mutex
	started map[netip.Addr]Request
	ended   chan netip.Addr
}

func newBursts() *bursts {
	return &bursts{started: map[netip.Addr]Request{}, ended: make(chan netip.Addr, 16)}
}

func (b *bursts) run(ctx context.Context, req Request) {
	b.mu.Lock()
	b.started[req.IP] = req
	b.mu.Unlock()
	<-ctx.Done()
	b.ended <- req.IP
}

func (b *bursts) get(ip netip.Addr) (Request, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.started[ip]
	return r, ok
}

// serve starts a server for netns whose first burst is ip's, and returns
// it with the channel closed when Serve returns.
func serve(t *testing.T, netns uint64, ip string, b *bursts) (*Server, chan struct{}) {
	t.Helper()
	s, err := Listen(netns)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		s.Serve(Request{Op: "announce", IP: netip.MustParseAddr(ip), Argv: burstArgs(ip, netns)}, b.run)
		close(done)
	}()
	t.Cleanup(func() {
		s.mu.Lock()
		for x := range s.bursts {
			x.cancel()
		}
		s.mu.Unlock()
		<-done
	})
	return s, done
}

// TestHandover: a start hands its burst, its environment and its socket
// to the sender listening in its namespace, which answers with its pid
// and runs the burst; the sender of another namespace is not asked.
func TestHandover(t *testing.T) {
	netns := testNetNS()
	b := newBursts()
	serve(t, netns, "198.18.0.1", b)

	f, err := os.CreateTemp(t.TempDir(), "socket")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	args := burstArgs("198.18.0.2", netns)
	env := []string{"OCF_RESOURCE_INSTANCE=vip2", "HA_RSCTMP=/run/resource-agents"}
	pid, err := Handover(args, env, f)
	if err != nil || pid != os.Getpid() {
		t.Fatalf("Handover = %d, %v; want %d", pid, err, os.Getpid())
	}
	// It runs once the sender has read Handover's confirmation.
	req, ok := b.get(netip.MustParseAddr("198.18.0.2"))
	for deadline := time.Now().Add(5 * time.Second); !ok && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		req, ok = b.get(netip.MustParseAddr("198.18.0.2"))
	}
	if !ok {
		t.Fatal("the burst handed over was not run")
	}
	if diff := cmp.Diff([]any{args, env}, []any{req.Argv, req.Env}); diff != "" {
		t.Errorf("the burst's arguments and environment (-sent +run):\n%s", diff)
	}
	var sent, got syscall.Stat_t
	if req.File == nil {
		t.Fatal("the socket was not passed")
	}
	if err := syscall.Fstat(int(f.Fd()), &sent); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Fstat(int(req.File.Fd()), &got); err != nil {
		t.Fatal(err)
	}
	if sent.Ino != got.Ino {
		t.Errorf("the sender got another file than the start's socket")
	}

	if _, err := Handover(burstArgs("198.18.0.3", netns+1), env, nil); !errors.Is(err, ErrRefused) {
		t.Errorf("Handover in a namespace without a sender = %v, want ErrRefused", err)
	}
}

// TestHandoverGivenUpRunsNothing: a start that gave up waiting for the
// sender's answer (the sender was stopped, SIGSTOP, or too slow) spawns
// a sender of its own; the request it left in the socket must not be run
// when the sender gets to it, or the burst runs twice, and the second
// one in a sender that no pid file names and no stop drops.
func TestHandoverGivenUpRunsNothing(t *testing.T) {
	netns := testNetNS()
	s, err := Listen(netns)
	if err != nil {
		t.Fatal(err)
	}
	defer s.ln.Close()
	// The sender accepts nothing yet, as a stopped one: the start's
	// request waits in the socket until Handover gives up.
	if _, err := Handover(burstArgs("198.18.0.2", netns), nil, nil); !errors.Is(err, ErrRefused) {
		t.Fatalf("Handover to a sender that does not answer = %v, want ErrRefused", err)
	}
	c, err := s.ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	b := newBursts()
	s.handle(c, b.run)
	s.mu.Lock()
	defer s.mu.Unlock()
	for x := range s.bursts {
		x.cancel()
		t.Errorf("the sender runs the burst of %s that its start gave up on", x.ip)
	}
}

// TestDropRightAfterHandover: a stop right after the start that handed
// its burst over ends it, also when the sender has not run it yet.
func TestDropRightAfterHandover(t *testing.T) {
	netns := testNetNS()
	b := newBursts()
	s, _ := serve(t, netns, "198.18.0.1", b)
	ip := netip.MustParseAddr("198.18.0.2")
	for range 20 {
		if _, err := Handover(burstArgs(ip.String(), netns), nil, nil); err != nil {
			t.Fatal(err)
		}
		if r, err := drop(context.Background(), netns, os.Getpid(), s.start, ip); err != nil || r.Dropped != 1 {
			t.Fatalf("drop right after the handover = %+v, %v; want 1 dropped", r, err)
		}
		s.mu.Lock()
		for x := range s.bursts {
			if x.ip == ip {
				t.Errorf("the burst of %s is still there after its drop", ip)
			}
		}
		s.mu.Unlock()
	}
}

// TestHandoverToAnOlderSender: a sender of an older floatip (after an
// upgrade) runs the burst as it answers, and closes the connection
// without waiting for the confirmation: its answer is the handover, and
// the start spawns no second sender for the same burst.
func TestHandoverToAnOlderSender(t *testing.T) {
	netns := testNetNS()
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Net: "unixpacket", Name: socketName(netns)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		c, err := ln.AcceptUnix()
		if err != nil {
			return
		}
		buf := make([]byte, maxMessage)
		c.Read(buf)
		c.Write(Reply{Pid: 4242, Start: 7}.marshal())
		c.Close()
	}()
	pid, err := Handover(burstArgs("198.18.0.2", netns), nil, nil)
	<-closed
	if err != nil || pid != 4242 {
		t.Errorf("Handover to an older sender = %d, %v; want 4242", pid, err)
	}
}

// TestHandoverRefusedWhileClosing: a sender whose last burst ended takes
// no more, and its start spawns one: a request is refused, never taken and
// lost.
func TestHandoverRefusedWhileClosing(t *testing.T) {
	netns := testNetNS()
	b := newBursts()
	s, done := serve(t, netns, "198.18.0.1", b)
	// As between the last burst's end and the listener's close.
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	if _, err := Handover(burstArgs("198.18.0.2", netns), nil, nil); !errors.Is(err, ErrRefused) {
		t.Errorf("Handover to a closing sender = %v, want ErrRefused", err)
	}
	if _, ok := b.get(netip.MustParseAddr("198.18.0.2")); ok {
		t.Error("a closing sender ran the burst")
	}
	s.mu.Lock()
	s.closing = false
	s.mu.Unlock()

	// Once the last burst has ended, nothing listens.
	if _, err := drop(context.Background(), netns, os.Getpid(), s.start, netip.MustParseAddr("198.18.0.1")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the sender runs on without a burst")
	}
	if _, err := Handover(burstArgs("198.18.0.2", netns), nil, nil); !errors.Is(err, ErrRefused) {
		t.Errorf("Handover after the sender ended = %v, want ErrRefused", err)
	}
}

// TestDropWaitsForTheBurst: a drop answers once the address's burst has
// ended, leaves the others running, and says when it was the last.
func TestDropWaitsForTheBurst(t *testing.T) {
	netns := testNetNS()
	b := newBursts()
	s, done := serve(t, netns, "198.18.0.1", b)
	if _, err := Handover(burstArgs("198.18.0.2", netns), nil, nil); err != nil {
		t.Fatal(err)
	}
	one, two := netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.18.0.2")

	r, err := drop(context.Background(), netns, os.Getpid(), s.start, one)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Reply{Pid: os.Getpid(), Start: s.start, Dropped: 1}, r); diff != "" {
		t.Errorf("drop of the first (-want +got):\n%s", diff)
	}
	select {
	case ip := <-b.ended:
		if ip != one {
			t.Errorf("the drop of %s ended %s", one, ip)
		}
	default:
		t.Errorf("the drop answered before the burst ended")
	}
	select {
	case ip := <-b.ended:
		t.Errorf("the burst of %s ended too", ip)
	default:
	}

	r, err = drop(context.Background(), netns, os.Getpid(), s.start, two)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Closing || r.Dropped != 1 {
		t.Errorf("drop of the last burst = %+v, want 1 dropped and closing", r)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("the sender runs on without a burst")
	}
}

// TestPeerCredentials: a sender takes no request from another user, and
// a drop asks only the process that the pid file names.
func TestPeerCredentials(t *testing.T) {
	netns := testNetNS()
	b := newBursts()
	s, _ := serve(t, netns, "198.18.0.1", b)
	s.mu.Lock()
	s.uid = os.Geteuid() + 1 // as if the sender ran as another user
	s.mu.Unlock()
	if _, err := Handover(burstArgs("198.18.0.2", netns), nil, nil); !errors.Is(err, ErrRefused) {
		t.Errorf("Handover from another user = %v, want ErrRefused", err)
	}
	if _, ok := b.get(netip.MustParseAddr("198.18.0.2")); ok {
		t.Error("the sender ran the burst of another user")
	}
	s.mu.Lock()
	s.uid = os.Geteuid()
	s.mu.Unlock()

	if _, err := drop(context.Background(), netns, os.Getpid()+1, s.start, netip.MustParseAddr("198.18.0.1")); err == nil {
		t.Error("drop asked a sender that is not the recorded process")
	}
	select {
	case ip := <-b.ended:
		t.Errorf("the burst of %s was dropped by a drop meant for another sender", ip)
	default:
	}
}

// TestBadRequest: a request that is not a burst of the sender's
// namespace is refused with the reason, runs nothing, and the sender goes
// on serving.
func TestBadRequest(t *testing.T) {
	netns := testNetNS()
	b := newBursts()
	serve(t, netns, "198.18.0.1", b)
	ip := netip.MustParseAddr("198.18.0.2")
	send := func(msg []byte) Reply {
		t.Helper()
		c, err := net.Dial("unixpacket", socketName(netns))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		r, err := parseReply(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for name, req := range map[string]any{
		"not a request":     "garbage",
		"bad count":         "announce\x00198.18.0.2\x009\x00announce\x00",
		"unknown op":        Request{Op: "reboot", IP: ip},
		"no address":        Request{Op: "announce", Argv: burstArgs("198.18.0.2", netns)},
		"another namespace": Request{Op: "announce", IP: ip, Argv: burstArgs("198.18.0.2", netns+1)},
		"another address":   Request{Op: "announce", IP: ip, Argv: burstArgs("198.18.0.3", netns)},
		"not a burst":       Request{Op: "announce", IP: ip, Argv: []string{"stop", "--ip", "198.18.0.2", NetNSFlag, strconv.FormatUint(netns, 10)}},
		"nothing sent":      Request{Op: "announce", IP: ip, Argv: append([]string{"announce", "--background-sender", "0"}, burstArgs("198.18.0.2", netns)[3:]...)},
	} {
		var msg []byte
		switch req := req.(type) {
		case string:
			msg = []byte(req)
		case Request:
			msg = req.marshal()
		}
		if r := send(msg); r.Err == "" {
			t.Errorf("%s: reply %+v, want a refusal", name, r)
		}
	}
	b.mu.Lock()
	n := len(b.started)
	b.mu.Unlock()
	if n != 1 {
		t.Errorf("bad requests ran bursts: %v", b.started)
	}
	if _, err := Handover(burstArgs("198.18.0.2", netns), nil, nil); err != nil {
		t.Errorf("Handover after bad requests: %v", err)
	}
}

// TestStopDropsFromASharedSender: the pid file of an address whose burst
// was handed to a shared sender (whose command line names another
// address) names that sender, which counts as running it while it does;
// stop ends that address's burst alone, and the stop of its last one
// waits until the sender has exited.
func TestStopDropsFromASharedSender(t *testing.T) {
	netns := testNetNS()
	dir := t.TempDir()
	helper := exec.Command(os.Args[0], "-test.run=^TestSharedSenderHelper$", "--",
		"announce", "--background-sender", "1", "--ip", "198.18.0.1", NetNSFlag, strconv.FormatUint(netns, 10), ShareFlag)
	// The race detector's runtime otherwise waits a second at exit.
	helper.Env = append(os.Environ(), "SENDER_TEST_SHARED="+strconv.FormatUint(netns, 10), "GORACE=atexit_sleep_ms=0")
	start(t, helper)
	execed(t, helper.Process.Pid)
	pid := helper.Process.Pid
	// The helper listens once it has bound its socket.
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var got int
		if got, err = Handover(burstArgs("198.18.0.2", netns), nil, nil); err == nil {
			if got != pid {
				t.Fatalf("handed over to %d, want the helper %d", got, pid)
			}
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	one, two := For(dir, netip.MustParseAddr("198.18.0.1"), netns), For(dir, netip.MustParseAddr("198.18.0.2"), netns)
	for _, s := range []PIDFile{one, two} {
		if err := s.Record(pid); err != nil {
			t.Fatal(err)
		}
		if got := s.Running(); got != pid {
			t.Errorf("%s: Running = %d, want the shared sender %d", s.IP, got, pid)
		}
	}
	// A record of the sender for an address whose burst it no longer
	// runs (it ended before its start recorded it, or failed): that
	// burst is not running.
	three := For(dir, netip.MustParseAddr("198.18.0.3"), netns)
	if err := three.Record(pid); err != nil {
		t.Fatal(err)
	}
	if got := three.Running(); got != 0 {
		t.Errorf("Running = %d for an address whose burst the shared sender does not run", got)
	}
	if stopped, err := two.Stop(context.Background()); !stopped || err != nil {
		t.Errorf("Stop of the handed-over address = %v, %v", stopped, err)
	}
	if !alive(pid) {
		t.Fatal("the stop of one address ended the sender of the other")
	}
	if got := two.Running(); got != 0 {
		t.Errorf("Running = %d after the stop of the handed-over address", got)
	}
	if stopped, err := one.Stop(context.Background()); !stopped || err != nil {
		t.Errorf("Stop of the last address = %v, %v", stopped, err)
	}
	if alive(pid) {
		t.Fatal("the sender runs on after the stop of its last address returned")
	}
	helper.Wait()
	if ws := helper.ProcessState; ws == nil || !ws.Exited() || ws.ExitCode() != 0 {
		t.Errorf("the sender did not exit on its own: %v", ws)
	}
}

// TestSharedSenderHelper is the shared sender of
// TestStopDropsFromASharedSender: each of its bursts runs until dropped.
func TestSharedSenderHelper(t *testing.T) {
	v := os.Getenv("SENDER_TEST_SHARED")
	if v == "" {
		t.Skip("only run by TestStopDropsFromASharedSender")
	}
	netns, _ := strconv.ParseUint(v, 10, 64)
	s, err := Listen(netns)
	if err != nil {
		t.Fatal(err)
	}
	// Each burst runs until dropped, or for a while, should the test
	// that started the helper die before it drops them.
	run := func(ctx context.Context, req Request) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		newBursts().run(ctx, req)
	}
	s.Serve(Request{Op: "announce", IP: netip.MustParseAddr("198.18.0.1")}, run)
	// A sender takes a moment to exit after its last burst: the stop
	// that dropped it must wait for that.
	time.Sleep(200 * time.Millisecond) //layoutcheck:sleep the helper's slow exit, which the test's stop must outwait
}

// TestSecondSenderServesAlone: of two senders spawned at once in a
// namespace, the one that cannot listen still runs its own burst, and
// returns when it ends; the other keeps the socket.
func TestSecondSenderServesAlone(t *testing.T) {
	netns := testNetNS()
	first := newBursts()
	serve(t, netns, "198.18.0.1", first)
	s, err := Listen(netns)
	if err == nil {
		t.Fatal("a second sender listens in the namespace")
	}
	ran := make(chan netip.Addr, 1)
	s.Serve(Request{Op: "announce", IP: netip.MustParseAddr("198.18.0.2")}, func(ctx context.Context, req Request) { ran <- req.IP })
	if got := <-ran; got != netip.MustParseAddr("198.18.0.2") {
		t.Errorf("the second sender ran %s", got)
	}
	if pid, err := Handover(burstArgs("198.18.0.3", netns), nil, nil); err != nil || pid != os.Getpid() {
		t.Errorf("Handover after the second sender ended = %d, %v: want the first sender", pid, err)
	}
}

// TestMessagesRoundTrip: requests and replies come out as they went in,
// empty strings and all.
func TestMessagesRoundTrip(t *testing.T) {
	for _, req := range []Request{
		{Op: "drop", IP: netip.MustParseAddr("2001:db8::1")},
		{Op: "announce", IP: netip.MustParseAddr("198.18.0.2"), Argv: []string{"announce", "", "--iflabel", ""}, Env: []string{"A=1", ""}},
		{Op: "announce", IP: netip.MustParseAddr("198.18.0.2"), Argv: []string{"announce"}},
		{Op: "announce", Env: []string{"A="}},
	} {
		got, err := parseRequest(req.marshal())
		if err != nil {
			t.Errorf("%+v: %v", req, err)
		}
		if diff := cmp.Diff(req, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Errorf("request (-sent +read):\n%s", diff)
		}
	}
	for _, r := range []Reply{{}, {Pid: 7, Start: 1 << 40, Closing: true, Dropped: 2, Err: "a reason, with spaces"}} {
		got, err := parseReply(r.marshal())
		if err != nil || got != r {
			t.Errorf("reply %+v read as %+v, %v", r, got, err)
		}
	}
	for _, b := range []string{"", "x", "1\x002\x00", "a\x001\x000\x000\x00\x00", "1\x001\x002\x000\x00\x00"} {
		if r, err := parseReply([]byte(b)); err == nil {
			t.Errorf("parseReply(%q) = %+v", b, r)
		}
	}
}
