//go:build !linux

package main

import "runtime"

// linuxHost is no host here: floatip runs on Linux only.
func linuxHost([]string) (host, error) {
	return host{}, notLinux(runtime.GOOS)
}
