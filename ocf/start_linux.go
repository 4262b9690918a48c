package ocf

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// userHZ is the unit of the start time in /proc/<pid>/stat: the kernel
// reports it in clock ticks of 1/100 s on every architecture.
const userHZ = 100

// ProcessStart returns when the kernel created this process, the moment
// from which Pacemaker's executor, which forked it, counts the operation's
// timeout. On a loaded node exec and the runtime's start can take a
// tenth of a second or more before main runs, which a deadline counted
// from main would not see. The time is floored to 10 ms, so the deadline
// it gives errs early. If /proc cannot be read it returns now.
func ProcessStart() time.Time {
	now := time.Now()
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return now
	}
	age, err := processAge(b)
	if err != nil {
		return now
	}
	return now.Add(-age)
}

// processAge reads the start time out of a /proc/<pid>/stat line and says
// how long ago, by CLOCK_BOOTTIME, that was.
func processAge(stat []byte) (time.Duration, error) {
	ticks, err := startTicks(stat)
	if err != nil {
		return 0, err
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0, fmt.Errorf("read the boot clock: %w", err)
	}
	age := time.Duration(ts.Nano()) - time.Duration(ticks)*time.Second/userHZ
	if age < 0 {
		return 0, fmt.Errorf("start time %d ticks is after now", ticks)
	}
	return age, nil
}

// startTicks returns field 22 of a /proc/<pid>/stat line, the start time
// in ticks since boot. The command name, field 2, may hold spaces and
// parentheses, so the fields are counted from its last ')'.
func startTicks(stat []byte) (uint64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("read the start time: no command name in %q", stat)
	}
	// After ") " come fields 3 (state) onwards: field 22 is the 20th.
	f := bytes.Fields(stat[i+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("read the start time: %d fields after the command name", len(f))
	}
	n, err := strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read the start time: %w", err)
	}
	return n, nil
}
