//go:build !linux

package sender

// open returns a handle on the process pid, by its pid: pidfds are
// Linux's.
func (s PIDFile) open(pid int, start uint64) (proc, error) {
	return procPid{s: s, pid: pid, start: start}, nil
}
