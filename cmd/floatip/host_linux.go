package main

import (
	"net/netip"

	"github.com/floatip/floatip/internal/agent"
	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/internal/node"
	"github.com/floatip/floatip/internal/sender"
)

// linuxHost is the host of the actions: internal/node's namespaces, the
// sender it spawns, and the senders' pid files.
func linuxHost(environ []string) (host, error) {
	return host{open: openKernel, spawn: node.SpawnSelf(environ), senders: senders}, nil
}

// openKernel opens the network namespace and hands each of its parts to
// the agent: here, not in internal/node, so that the kernel's side
// imports nothing of the agent's.
func openKernel(namespace string) (agent.Kernel, error) {
	n, err := node.Open(namespace)
	if err != nil {
		return agent.Kernel{}, err
	}
	return agent.Kernel{Links: n, Addresses: n, IPv6: n, Inbound: n, Wire: wire{n}, Node: n, Shared: n, Close: n.Close}, nil
}

// wire is the namespace's Wire: its Dial returns node's Announcer as
// the agent's.
type wire struct{ *node.Namespace }

func (w wire) Dial(link netif.Link, ip netip.Addr, to []netif.Neighbor) (agent.Announcer, error) {
	an, err := w.Namespace.Dial(link, ip, to)
	if err != nil {
		return nil, err
	}
	return an, nil
}

// senders returns the record of ip's background sender: its pid file in
// the directory dir (HA_RSCTMP).
func senders(dir string) func(ip netip.Addr, netns uint64) agent.SenderRecord {
	return func(ip netip.Addr, netns uint64) agent.SenderRecord {
		return sender.For(dir, ip, netns)
	}
}
