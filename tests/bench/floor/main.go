//go:build linux

// Command floor is the floor for a monitor: a static Go binary that
// starts, dumps the IPv4 addresses of its network namespace once with
// vishvananda/netlink's AddrList, and exits. make bench measures it beside
// floatip's monitor, so that floatip's cost reads against what such a
// program pays on the same machine in the same run. AddrList decodes
// every address, so on a nic with thousands of them an agent that decodes
// only its own can cost less than this floor.
package main

import (
	"fmt"
	"os"

	"github.com/vishvananda/netlink"
)

func main() {
	// The package handle, as a one-shot program would use it: the socket
	// is opened on the first request.
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		fmt.Fprintf(os.Stderr, "floor: list addresses: %v\n", err)
		os.Exit(1)
	}
	// Using the result keeps the dump from looking unused; monitor too
	// looks at every address.
	if len(addrs) == 0 {
		os.Exit(7)
	}
}
