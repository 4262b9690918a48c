package sender

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A sender shares itself: the first one spawned in a network namespace
// listens on a socket named after that namespace, and the starts that come
// while it runs hand it the rest of their bursts instead of each spawning a
// process of its own, as keepalived or MetalLB announce many addresses
// from one process. A mass failover of a hundred addresses so costs a
// handful of processes, not a hundred, on the node that Pacemaker is busy
// on. The sender still ends when no burst remains, as one that served a
// single burst did.
//
// The socket's name is abstract: it lives in the network namespace that
// the sender runs in and vanishes with the process, also when it is
// killed, so that nothing is left behind. Anyone in the namespace may bind
// such a name: each side checks its peer's credentials (SO_PEERCRED)
// before it trusts it, since the request carries the announcing socket.

// ShareFlag is the option of a sender that listens for the bursts of
// other starts in its namespace (the spawned ones do). Its command line
// names its first address only: the flag says that it may be the sender
// of another address of the namespace (isSender).
const ShareFlag = "--background-share"

// socketName is the abstract name of the sender of the network namespace
// whose inode is netns.
func socketName(netns uint64) string {
	return "@floatip-sender-net" + strconv.FormatUint(netns, 10)
}

// handoverWait bounds a handover and a drop: a sender that does not
// answer within it is wedged, and the caller spawns or signals instead.
const handoverWait = time.Second

// maxMessage bounds a request: the arguments and the environment of a
// start.
const maxMessage = 256 << 10

// Request is a message to a sender. Op "announce" hands it the rest of a
// burst: Argv are the arguments of the sender that would otherwise be
// spawned for it ("announce --background-sender N --ip ...", see
// agent.senderArgs), Env its environment, and File the announcing socket
// that the sender holds until the burst ends (passed as SCM_RIGHTS). Op
// "drop" ends the burst of IP and answers once it has ended; op "has"
// asks whether it runs one.
type Request struct {
	Op   string
	IP   netip.Addr
	Argv []string
	Env  []string
	File *os.File
}

// Reply is a sender's answer: its pid and start time, so that the start
// records it as a spawned one; Closing when it takes no more work and is
// exiting; Dropped, the bursts a drop ended (for op "has", the bursts of
// the address it runs); Err, why a request was refused.
type Reply struct {
	Pid     int
	Start   uint64
	Closing bool
	Dropped int
	Err     string
}

// A message is its fields, each ended by a NUL, which no argument or
// environment string holds: a request is its op, its address, the number
// of its arguments, the arguments and the environment; a reply, its
// pid, start time, closing (0 or 1), bursts dropped and error. Not JSON:
// encoding/json would add a third of a megabyte to the binary.

// marshal encodes r.
func (r Request) marshal() []byte {
	ip := ""
	if r.IP.IsValid() {
		ip = r.IP.String()
	}
	f := append([]string{r.Op, ip, strconv.Itoa(len(r.Argv))}, r.Argv...)
	return fields(append(f, r.Env...))
}

// parseRequest decodes a request; File is not part of it.
func parseRequest(b []byte) (Request, error) {
	f, ok := split(b)
	if !ok || len(f) < 3 {
		return Request{}, errors.New("not a request")
	}
	var r Request
	r.Op = f[0]
	if f[1] != "" {
		ip, err := netip.ParseAddr(f[1])
		if err != nil {
			return Request{}, fmt.Errorf("address: %w", err)
		}
		r.IP = ip
	}
	n, err := strconv.Atoi(f[2])
	if err != nil || n < 0 || n > len(f)-3 {
		return Request{}, errors.New("not a request: bad argument count")
	}
	if n > 0 {
		r.Argv = f[3 : 3+n]
	}
	if len(f) > 3+n {
		r.Env = f[3+n:]
	}
	return r, nil
}

// marshal encodes r.
func (r Reply) marshal() []byte {
	closing := "0"
	if r.Closing {
		closing = "1"
	}
	return fields([]string{strconv.Itoa(r.Pid), strconv.FormatUint(r.Start, 10), closing, strconv.Itoa(r.Dropped), r.Err})
}

// parseReply decodes a reply.
func parseReply(b []byte) (Reply, error) {
	f, ok := split(b)
	if !ok || len(f) != 5 {
		return Reply{}, errors.New("not a reply")
	}
	var r Reply
	var errs [3]error
	r.Pid, errs[0] = strconv.Atoi(f[0])
	r.Start, errs[1] = strconv.ParseUint(f[1], 10, 64)
	r.Dropped, errs[2] = strconv.Atoi(f[3])
	if err := errors.Join(errs[:]...); err != nil || (f[2] != "0" && f[2] != "1") {
		return Reply{}, errors.New("not a reply")
	}
	r.Closing, r.Err = f[2] == "1", f[4]
	return r, nil
}

func fields(f []string) []byte {
	var b []byte
	for _, s := range f {
		b = append(append(b, s...), 0)
	}
	return b
}

// split returns the fields of b; false when b does not end a field.
func split(b []byte) ([]string, bool) {
	if len(b) == 0 || b[len(b)-1] != 0 {
		return nil, false
	}
	return strings.Split(string(b[:len(b)-1]), "\x00"), true
}

// ErrRefused says that no sender took the request: none listens, or the
// one that does is closing or refused it. The caller spawns one.
var ErrRefused = errors.New("no sender takes the burst")

// NetNSOf returns the namespace that the sender arguments args name with
// NetNSFlag, 0 for none.
func NetNSOf(args []string) uint64 {
	n, _ := strconv.ParseUint(argValue(args, NetNSFlag), 10, 64)
	return n
}

// argValue returns the value that follows the option name in args.
func argValue(args []string, name string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			return args[i+1]
		}
	}
	return ""
}

// RunFunc runs one burst until it ends or ctx is done; it returns once
// no frame of it can be sent any more.
type RunFunc func(ctx context.Context, req Request)

// Server is a sender that runs its own burst and those handed to it.
type Server struct {
	ln    *net.UnixListener
	netns uint64
	pid   int
	start uint64
	// uid is the only user whose requests it takes.
	uid int

	mu sync.Mutex
	// bursts are the bursts running; closing, set when the last ended,
	// says that the listener is closed and no more is taken.
	bursts  map[*burst]struct{}
	closing bool
	wg      sync.WaitGroup
}

type burst struct {
	ip     netip.Addr
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// Serve runs first, the sender's own burst, and those handed to it while
// any runs, each by run; it returns when none remains. It then listens no
// more: the listener is closed under the lock that takes work, so that a
// request is either served or refused (and its start spawns a sender),
// never lost.
func (s *Server) Serve(first Request, run RunFunc) {
	s.mu.Lock()
	b := s.add(first.IP)
	s.mu.Unlock()
	go s.run(b, first, run)
	if s.ln != nil {
		go s.accept(run)
	}
	s.wg.Wait()
}

// add registers a burst of ip, which a drop of ip ends from now on, also
// before it runs; s.mu is held, and the server is not closing.
func (s *Server) add(ip netip.Addr) *burst {
	ctx, cancel := context.WithCancel(context.Background())
	b := &burst{ip: ip, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	s.bursts[b] = struct{}{}
	s.wg.Add(1)
	return b
}

// run runs the burst b, req, unless a drop ended it already, and then
// forgets it: the listener closes when it was the last.
func (s *Server) run(b *burst, req Request, run RunFunc) {
	defer s.wg.Done()
	if b.ctx.Err() == nil {
		run(b.ctx, req)
	}
	b.cancel()
	if req.File != nil {
		req.File.Close()
	}
	s.mu.Lock()
	delete(s.bursts, b)
	if len(s.bursts) == 0 && !s.closing {
		s.closing = true
		if s.ln != nil {
			s.ln.Close()
		}
	}
	s.mu.Unlock()
	close(b.done)
}
