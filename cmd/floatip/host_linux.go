package main

import "github.com/floatip/floatip/internal/node"

// linuxHost is the host of the actions: internal/node's namespaces and
// the sender it spawns.
func linuxHost(environ []string) (host, error) {
	return host{open: node.Open, spawn: node.SpawnSelf(environ)}, nil
}
