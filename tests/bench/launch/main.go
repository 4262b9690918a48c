//go:build linux

// Command launch runs one program the way make bench measures it: it
// forks and execs the program, waits for it, and writes what it cost to
// file descriptor 3 as one line of decimal numbers:
//
//	<fork unix ns> <exit unix ns> <exit code> <user+sys ns> <ru_maxrss KiB>
//
// The bench starts it inside a lab namespace, and it stays out of the way
// otherwise: the program inherits its environment, stdout and stderr.
//
// Why a launcher at all: Linux keeps ru_maxrss across exec, and a child
// that the bench forks starts life sharing or copying the bench's memory,
// so the bench's own RSS would be the floor of every program's peak RSS.
// Forked from this small process instead, a program's ru_maxrss is its own
// peak, or this launcher's size if that is larger.
package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: launch program [arg ...], with the report on fd 3")
		os.Exit(2)
	}
	report := os.NewFile(3, "report")
	// The program must not inherit the report, or the bench would wait
	// for its background children to close it.
	syscall.CloseOnExec(3)
	start := time.Now()
	// syscall.ForkExec rather than os/exec: no PATH search and none of
	// os/exec's first-use checks, which would fork a process of their own.
	pid, err := syscall.ForkExec(os.Args[1], os.Args[1:], &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "launch %s: %v\n", os.Args[1], err)
		os.Exit(127)
	}
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	for {
		_, err = syscall.Wait4(pid, &ws, 0, &ru)
		if err != syscall.EINTR {
			break
		}
	}
	end := time.Now()
	if err != nil {
		fmt.Fprintf(os.Stderr, "launch: wait for %s: %v\n", os.Args[1], err)
		os.Exit(127)
	}
	code := ws.ExitStatus()
	if ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	cpu := ru.Utime.Nano() + ru.Stime.Nano()
	if _, err := fmt.Fprintf(report, "%d %d %d %d %d\n", start.UnixNano(), end.UnixNano(), code, cpu, ru.Maxrss); err != nil {
		fmt.Fprintf(os.Stderr, "launch: report: %v\n", err)
		os.Exit(127)
	}
}
