//go:build !linux

package sender

import (
	"context"
	"fmt"
	"net/netip"
	"os"
)

// Handover refuses: senders share themselves on Linux only.
func Handover(args, env []string, file *os.File) (int, error) {
	return 0, fmt.Errorf("hand over a burst: %w: not on Linux", ErrRefused)
}

func drop(ctx context.Context, netns uint64, pid int, start uint64, ip netip.Addr) (Reply, error) {
	return Reply{}, fmt.Errorf("drop %s: not on Linux", ip)
}

// hasBurst cannot ask: the sender may run a burst of ip.
func hasBurst(netns uint64, pid int, ip netip.Addr) bool { return true }

// Listen returns a Server that serves its own burst alone.
func Listen(netns uint64) (*Server, error) {
	return &Server{bursts: map[*burst]struct{}{}}, fmt.Errorf("listen for bursts: not on Linux")
}

func (s *Server) accept(RunFunc) {}
