package sender

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Handover hands the burst of the sender arguments args (which name the
// namespace, NetNSFlag) to the sender listening in it, with its
// environment env and the socket file, if not nil; it returns that
// sender's pid. ErrRefused (wrapped) when none takes it.
func Handover(args, env []string, file *os.File) (int, error) {
	netns := NetNSOf(args)
	ip, err := netip.ParseAddr(argValue(args, "--ip"))
	if netns == 0 || err != nil {
		return 0, fmt.Errorf("hand over a burst: %w: no namespace or address in the arguments", ErrRefused)
	}
	ctx, cancel := context.WithTimeout(context.Background(), handoverWait)
	defer cancel()
	r, err := ask(ctx, netns, 0, Request{Op: "announce", IP: ip, Argv: args, Env: env, File: file})
	if err != nil {
		return 0, fmt.Errorf("hand over a burst: %w: %w", ErrRefused, err)
	}
	if r.Err != "" || r.Closing {
		return 0, fmt.Errorf("hand over a burst: %w: %s", ErrRefused, refusal(r))
	}
	return r.Pid, nil
}

func refusal(r Reply) string {
	if r.Err != "" {
		return r.Err
	}
	return "the sender is closing"
}

// drop asks the sender pid, started at start, listening in netns, to end
// the burst of ip, and waits until it has. It returns the sender's reply;
// an error when that sender does not answer (it listens no more, is
// wedged, or is a sender that does not share).
func drop(ctx context.Context, netns uint64, pid int, start uint64, ip netip.Addr) (Reply, error) {
	ctx, cancel := context.WithTimeout(ctx, handoverWait)
	defer cancel()
	r, err := ask(ctx, netns, pid, Request{Op: "drop", IP: ip})
	if err != nil {
		return r, err
	}
	if r.Err != "" {
		return r, fmt.Errorf("drop %s: %s", ip, r.Err)
	}
	if r.Pid != pid || r.Start != start {
		return r, fmt.Errorf("drop %s: answered by sender %d started at %d, not %d started at %d", ip, r.Pid, r.Start, pid, start)
	}
	return r, nil
}

// hasBurst says whether the sender pid, listening in netns, runs a burst
// of ip; true when it does not answer (it listens no more or is wedged):
// it may.
func hasBurst(netns uint64, pid int, ip netip.Addr) bool {
	ctx, cancel := context.WithTimeout(context.Background(), handoverWait)
	defer cancel()
	r, err := ask(ctx, netns, pid, Request{Op: "has", IP: ip})
	return err != nil || r.Err != "" || r.Pid != pid || r.Dropped > 0
}

// ask sends req to the sender listening in netns and returns its reply.
// The listener must run as our user and, when pid is not 0, be process
// pid.
func ask(ctx context.Context, netns uint64, pid int, req Request) (Reply, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unixpacket", socketName(netns))
	if err != nil {
		return Reply{}, err
	}
	conn := c.(*net.UnixConn)
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	cred, err := peerCred(conn)
	if err != nil {
		return Reply{}, err
	}
	if int(cred.Uid) != os.Geteuid() {
		// Not our sender: it would get the announcing socket.
		return Reply{}, fmt.Errorf("the sender socket of namespace %d belongs to uid %d", netns, cred.Uid)
	}
	if pid != 0 && int(cred.Pid) != pid {
		return Reply{}, fmt.Errorf("the sender socket of namespace %d belongs to process %d, not %d", netns, cred.Pid, pid)
	}
	b := req.marshal()
	var oob []byte
	if req.File != nil {
		oob = unix.UnixRights(int(req.File.Fd()))
	}
	if _, _, err := conn.WriteMsgUnix(b, oob, nil); err != nil {
		return Reply{}, err
	}
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		return Reply{}, err
	}
	r, err := parseReply(buf[:n])
	if err != nil {
		return Reply{}, fmt.Errorf("read the sender's reply: %w", err)
	}
	if req.Op == "announce" && r.Err == "" && !r.Closing {
		// The sender runs the burst once told that its answer came
		// in time (confirmed). A sender that closed the connection
		// already is one of an older floatip, which ran the burst at
		// once (spawning another would send it twice), or one that
		// died since, as if killed in the burst.
		conn.Write(confirmation)
	}
	return r, nil
}

// confirmation is the message by which a start says that it read the
// sender's acceptance in time, and leaves the burst to it.
var confirmation = fields([]string{"go"})

// confirmed says whether the start confirms the handover on c: false
// when it closed c without (it gave up waiting), or says nothing within
// handoverWait.
func confirmed(c *net.UnixConn) bool {
	c.SetReadDeadline(time.Now().Add(handoverWait))
	buf := make([]byte, len(confirmation)+1)
	n, err := c.Read(buf)
	return err == nil && bytes.Equal(buf[:n], confirmation)
}

// peerCred returns the credentials of the process at the other end of c.
func peerCred(c *net.UnixConn) (*unix.Ucred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	return cred, cerr
}

// Listen returns the sender of the namespace netns, listening for the
// bursts of other starts. When another process listens already (two
// starts spawned a sender at once), it returns a Server that serves its
// own burst alone, and the error.
func Listen(netns uint64) (*Server, error) {
	s := &Server{netns: netns, pid: os.Getpid(), uid: os.Geteuid(), bursts: map[*burst]struct{}{}}
	start, err := PIDFile{Proc: "/proc"}.startTime(s.pid)
	if err != nil {
		return s, fmt.Errorf("listen for bursts: %w", err)
	}
	s.start = start
	if netns == 0 {
		return s, fmt.Errorf("listen for bursts: no namespace")
	}
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Net: "unixpacket", Name: socketName(netns)})
	if err != nil {
		return s, fmt.Errorf("listen for bursts: %w", err)
	}
	s.ln = ln
	return s, nil
}

func (s *Server) accept(run RunFunc) {
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			// Closed: the last burst ended.
			return
		}
		go s.handle(c, run)
	}
}

// handle answers one request.
func (s *Server) handle(c *net.UnixConn, run RunFunc) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(handoverWait))
	reply := func(r Reply) error {
		r.Pid, r.Start = s.pid, s.start
		_, err := c.Write(r.marshal())
		return err
	}
	cred, err := peerCred(c)
	s.mu.Lock()
	uid := s.uid
	s.mu.Unlock()
	if err != nil || int(cred.Uid) != uid {
		reply(Reply{Err: "not the sender's user"})
		return
	}
	req, err := s.read(c)
	if err != nil {
		reply(Reply{Err: err.Error()})
		return
	}
	switch req.Op {
	case "announce":
		s.mu.Lock()
		var b *burst
		if !s.closing {
			b = s.add(req.IP)
		}
		s.mu.Unlock()
		if b == nil {
			if req.File != nil {
				req.File.Close()
			}
			reply(Reply{Closing: true})
			return
		}
		// The burst runs once the start has read the answer and says
		// so: a start that gave up waiting (this sender was stopped or
		// slow) has spawned a sender of its own, and a burst run here
		// too would be a second one, in a sender that no pid file names.
		if reply(Reply{}) != nil || !confirmed(c) {
			b.cancel()
			s.run(b, req, run)
			return
		}
		go s.run(b, req, run)
	case "has":
		n := 0
		s.mu.Lock()
		for b := range s.bursts {
			if b.ip == req.IP && b.ctx.Err() == nil {
				n++
			}
		}
		s.mu.Unlock()
		reply(Reply{Dropped: n})
	case "drop":
		var ends []chan struct{}
		s.mu.Lock()
		for b := range s.bursts {
			if b.ip == req.IP {
				b.cancel()
				ends = append(ends, b.done)
			}
		}
		s.mu.Unlock()
		for _, end := range ends {
			<-end
		}
		s.mu.Lock()
		closing := s.closing
		s.mu.Unlock()
		reply(Reply{Dropped: len(ends), Closing: closing})
	}
}

// read reads and checks a request: one message, with at most the one
// file of an announce.
func (s *Server) read(c *net.UnixConn) (Request, error) {
	buf := make([]byte, maxMessage)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, flags, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return Request{}, fmt.Errorf("read the request: %w", err)
	}
	var files []*os.File
	if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range msgs {
			fds, _ := unix.ParseUnixRights(&m)
			for _, fd := range fds {
				unix.CloseOnExec(fd)
				files = append(files, os.NewFile(uintptr(fd), "announce socket"))
			}
		}
	}
	bad := func(format string, args ...any) (Request, error) {
		for _, f := range files {
			f.Close()
		}
		return Request{}, fmt.Errorf(format, args...)
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		return bad("request too long")
	}
	req, err := parseRequest(buf[:n])
	if err != nil {
		return bad("parse the request: %v", err)
	}
	if !req.IP.IsValid() {
		return bad("no address in the request")
	}
	switch req.Op {
	case "drop", "has":
		if len(files) > 0 {
			return bad("a %s with a file", req.Op)
		}
	case "announce":
		// The arguments of a sender of this namespace and this address,
		// as the start would have spawned it.
		if len(req.Argv) < 3 || req.Argv[0] != "announce" || req.Argv[1] != "--background-sender" ||
			argValue(req.Argv, "--ip") != req.IP.String() || NetNSOf(req.Argv) != s.netns || len(files) > 1 {
			return bad("not a burst of namespace %d: %q", s.netns, req.Argv)
		}
		if n, err := strconv.Atoi(req.Argv[2]); err != nil || n <= 0 {
			return bad("not a burst of namespace %d: %q", s.netns, req.Argv)
		}
		if len(files) == 1 {
			req.File = files[0]
		}
	default:
		return bad("unknown request %q", req.Op)
	}
	return req, nil
}
