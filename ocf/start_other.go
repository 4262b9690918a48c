//go:build !linux

package ocf

import "time"

// ProcessStart returns now: only Linux says when a process began.
func ProcessStart() time.Time { return time.Now() }
