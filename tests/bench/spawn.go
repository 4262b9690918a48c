//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// run is one run of a program inside a lab namespace.
type run struct {
	Code int
	// Launch is when the launcher forked the program, Exit when its wait4
	// returned, and Closed when the last of the program's stdout and
	// stderr pipes reached end of file: a background child that inherited
	// them holds them open after the program itself exited.
	Launch, Exit, Closed time.Time
	// CPUTime is user+sys of the program and the children it waited for,
	// from wait4.
	CPUTime time.Duration
	// MaxRSS is wait4's ru_maxrss in bytes: the peak RSS of the program or
	// of the largest of the children it waited for.
	MaxRSS         float64
	Stdout, Stderr string
}

// Wall is the time from fork to exit, what Pacemaker's execd waits for.
func (r run) Wall() time.Duration { return r.Exit.Sub(r.Launch) }

// spawner runs programs in lab namespaces through the launcher
// (tests/bench/launch), which forks the program and reports its cost.
type spawner struct {
	launcher string
}

// runIn runs argv in the network namespace ns with exactly env, and
// returns when it has exited and its output pipes are closed.
//
// It does without "ip netns exec", which would add the start of ip, an
// unshare of the mount namespace and a remount of /sys to every
// measurement: the launcher is forked from an OS thread moved into ns, and
// a child is born in the namespace of the thread that forked it. Neither
// agent reads /sys/class/net, so the remount is not missed.
func (s spawner) runIn(ctx context.Context, ns netns.NsHandle, env []string, argv ...string) (run, error) {
	name := strings.Join(argv, " ")
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	pipe := func() (r, w *os.File, err error) {
		if r, w, err = os.Pipe(); err == nil {
			files = append(files, r, w)
		}
		return r, w, err
	}
	outR, outW, err1 := pipe()
	errR, errW, err2 := pipe()
	repR, repW, err3 := pipe()
	if err := errors.Join(err1, err2, err3); err != nil {
		closeAll()
		return run{}, fmt.Errorf("run %s: %w", name, err)
	}
	defer closeAll()

	cmd := exec.CommandContext(ctx, s.launcher, argv...)
	cmd.Env = env
	// Files, not writers: exec then waits for the launcher's exit alone,
	// and the pipes' end of file is timed apart.
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.ExtraFiles = []*os.File{repW}
	// As execd does, the agent runs in a process group of its own, so
	// that an interrupt kills it and all its children at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := startIn(ns, cmd); err != nil {
		return run{}, fmt.Errorf("run %s: %w", name, err)
	}
	// Only the children hold the write ends now, so end of file means
	// they are done with them.
	outW.Close()
	errW.Close()
	repW.Close()

	type drained struct {
		text string
		at   time.Time
	}
	outC, errC := make(chan drained, 1), make(chan drained, 1)
	for _, p := range []struct {
		f *os.File
		c chan drained
	}{{outR, outC}, {errR, errC}} {
		go func() {
			b, _ := io.ReadAll(p.f)
			p.c <- drained{string(b), time.Now()}
		}()
	}
	report, _ := io.ReadAll(repR)
	werr := cmd.Wait()
	so, se := <-outC, <-errC
	r := run{Stdout: so.text, Stderr: se.text, Closed: so.at}
	if se.at.After(r.Closed) {
		r.Closed = se.at
	}
	if werr != nil {
		return r, fmt.Errorf("run %s: %w: %s", name, werr, strings.TrimSpace(r.Stderr))
	}
	var launch, exit, cpu, rss int64
	if _, err := fmt.Sscan(string(report), &launch, &exit, &r.Code, &cpu, &rss); err != nil {
		return r, fmt.Errorf("run %s: read the launcher's report %q: %w", name, report, err)
	}
	r.Launch, r.Exit = time.Unix(0, launch), time.Unix(0, exit)
	r.CPUTime, r.MaxRSS = time.Duration(cpu), float64(rss)*1024
	return r, nil
}

// startIn starts cmd from an OS thread that it moves into ns first. The
// thread is never moved back: its goroutine ends locked to it, which makes
// the runtime end the thread too, so no other goroutine ever runs in the
// lab's namespace by accident.
func startIn(ns netns.NsHandle, cmd *exec.Cmd) error {
	c := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(ns), unix.CLONE_NEWNET); err != nil {
			c <- fmt.Errorf("enter namespace: %w", err)
			return
		}
		c <- cmd.Start()
	}()
	return <-c
}
