package sender

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
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
// "drop" ends the burst of IP and answers once it has ended.
type Request struct {
	Op   string     `json:"op"`
	IP   netip.Addr `json:"ip"`
	Argv []string   `json:"argv,omitempty"`
	Env  []string   `json:"env,omitempty"`
	File *os.File   `json:"-"`
}

// Reply is a sender's answer: its pid and start time, so that the start
// records it as a spawned one; Closing when it takes no more work and is
// exiting; Dropped, the bursts a drop ended; Err, why a request was
// refused.
type Reply struct {
	Pid     int    `json:"pid"`
	Start   uint64 `json:"start"`
	Closing bool   `json:"closing,omitempty"`
	Dropped int    `json:"dropped,omitempty"`
	Err     string `json:"err,omitempty"`
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
	s.begin(first, run)
	s.mu.Unlock()
	if s.ln != nil {
		go s.accept(run)
	}
	s.wg.Wait()
}

// begin starts the burst req; s.mu is held.
func (s *Server) begin(req Request, run RunFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	b := &burst{ip: req.IP, cancel: cancel, done: make(chan struct{})}
	s.bursts[b] = struct{}{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		run(ctx, req)
		cancel()
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
	}()
}
