// Package netif is floatip's boundary to the kernel's network configuration:
// it finds the nic for an address the way IPaddr2's findif does, and reads,
// adds and removes addresses over netlink. The types, the errors and the
// route choice are plain Go (types.go, errors.go, findif.go), built on any
// OS and tested without root. The _linux files talk to the kernel: through
// the netlink package's Handle, and, where that package lacks a request
// (one address by RTM_GETADDR, an address metric, address labels, socket
// destruction), through messages of their own, whose parser is fuzzed
// (FuzzDecodeAddr). They are tested inside network namespaces.
package netif
