package main

import (
	"fmt"
	"net/netip"
	"os"

	"github.com/floatip/floatip/internal/agent"
)

// host is what the actions of the resource need of the system: the
// network namespaces and the background sender. Only Linux has them
// (host_linux.go); a build for another system answers every action of the
// resource with notLinux (host_other.go), while meta-data, help, man and
// completion work everywhere.
type host struct {
	open  func(namespace string) (agent.Kernel, error)
	spawn func(args []string, hold ...*os.File) (int, error)
	// senders gives the records of the background senders kept in the
	// directory it is given (HA_RSCTMP).
	senders func(dir string) func(ip netip.Addr, netns uint64) agent.SenderRecord
}

// notLinux is the one-line reason a build for another system gives: it
// says what floatip needs and what it found, so that an admin who copied
// the wrong binary knows at once. It has no build tag, so that the tests,
// which run on Linux, check it too.
func notLinux(goos string) error {
	return fmt.Errorf("floatip needs Linux: it manages the address through netlink, packet sockets and network namespaces, and this system is %s", goos)
}
