// Package netif is floatip's boundary to the kernel's network configuration:
// it finds the nic for an address the way IPaddr2's findif does, and reads,
// adds and removes addresses over netlink. The types and the route choice
// are plain Go (findif.go), tested without root; only netlink_linux.go talks
// to the kernel, and it is tested inside network namespaces.
package netif
