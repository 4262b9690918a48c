//go:build linux

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// privateDirs are the host directories that each node gets a private copy
// of, bind-mounted over the host's inside the node's mount namespace:
// corosync's configuration and state, Pacemaker's CIB and scheduler files,
// and both logs. The host's own are never written.
var privateDirs = []string{
	"etc/corosync",
	"var/lib/corosync",
	"var/lib/pacemaker",
	"var/log/pacemaker",
	"var/log/corosync",
}

// ocfDir is where Pacemaker looks for OCF agents, a path compiled into it.
const ocfDir = "usr/lib/ocf/resource.d"

// sbinDir is where pacemaker-fenced and pcs look for fence agents, also
// compiled in.
const sbinDir = "usr/sbin"

// daemonEnv is the environment of the node's init, corosync and
// Pacemaker. The nodes share the host's /dev/log, so Pacemaker must not log
// to syslog: its log file (in the node's private /var/log/pacemaker) is
// where the test reads the agent's operations. Pacemaker hands
// HA_LOGFACILITY=none on to the agent. TZ passes through, as the test
// reads the logs' local times in its own time zone.
func daemonEnv() []string {
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "PCMK_logfacility=none"}
	if tz, ok := os.LookupEnv("TZ"); ok {
		env = append(env, "TZ="+tz)
	}
	return env
}

// nodeInit is PID 1 of a node: the test starts it with
// "ip netns exec NS unshare --mount --uts --ipc --pid --fork --mount-proc
// <this binary> node-init NAME DIR". It makes the node's file system its
// own, starts corosync and then pacemakerd, reaps every process of the
// node as an init must (the agent's detached announcer ends up here), and
// on SIGTERM stops pacemakerd, then corosync, as "systemctl stop pacemaker
// corosync" would. SIGKILL (from the host: a PID namespace's init gets no
// other signal it has no handler for) ends the whole node at once, which is
// how the test pulls a node's plug.
func nodeInit(name, dir, root string) error {
	// Ask for the signals before anything can die or be asked to stop.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGCHLD, unix.SIGTERM, unix.SIGINT)
	if err := privateFS(dir, root); err != nil {
		return err
	}
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("sethostname %s: %w", name, err)
	}
	corosync, err := spawn(dir, "corosync", "-f")
	if err != nil {
		return err
	}
	// pacemakerd tries corosync's CMAP five times, sleeping 1 to 5s
	// between tries, then exits: wait until corosync answers, to spare
	// both the sleeps and the exit.
	if err := waitCorosync(corosync); err != nil {
		return err
	}
	pacemakerd, err := spawn(dir, "pacemakerd")
	if err != nil {
		return err
	}
	logf("%s: corosync is %d, pacemakerd is %d", name, corosync, pacemakerd)

	stopping := false
	var termTimeout <-chan time.Time
	alive := map[int]string{corosync: "corosync", pacemakerd: "pacemakerd"}
	for {
		select {
		case s := <-sigs:
			if s == unix.SIGINT {
				// The test's Ctrl-C is for the test, which stops the
				// nodes itself.
				continue
			}
			if s == unix.SIGTERM && !stopping {
				logf("%s: SIGTERM: stopping pacemakerd, then corosync", name)
				stopping = true
				unix.Kill(pacemakerd, unix.SIGTERM)
				termTimeout = time.After(90 * time.Second)
			}
		case <-termTimeout:
			return errors.New("pacemaker and corosync did not stop within 90s")
		}
		// One SIGCHLD may stand for several exits: reap until none is
		// left.
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if err != nil || pid <= 0 {
				break
			}
			what, ok := alive[pid]
			if !ok {
				continue // an orphan, such as the agent's announcer
			}
			delete(alive, pid)
			logf("%s: %s (%d) exited: %s", name, what, pid, describe(ws))
			if !stopping {
				return fmt.Errorf("%s exited on its own: %s", what, describe(ws))
			}
			if what == "pacemakerd" {
				unix.Kill(corosync, unix.SIGTERM)
			}
		}
		if len(alive) == 0 {
			return nil
		}
	}
}

// privateFS gives the node a file system of its own. unshare made the
// mount namespace and a fresh /proc; the node makes every mount private
// (so nothing it mounts reaches the host), puts fresh tmpfs on /run and
// /dev/shm (corosync's pid file and lock, Pacemaker's /run/crm, and libqb's
// shared-memory IPC rings live there, and two nodes must not share them;
// the host's /run is left alone), and bind-mounts the node's copies of
// privateDirs and of the agents' directory. Each mount is made by the
// mount(2) call itself, which writes no mtab: the "mount -n" of a script.
func privateFS(dir, root string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / rprivate: %w", err)
	}
	if root != "" {
		if err := enterRoot(dir, root); err != nil {
			return err
		}
	}
	for _, m := range []struct{ target, mode string }{{"/run", "0755"}, {"/dev/shm", "1777"}} {
		if err := unix.Mount("tmpfs", m.target, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode="+m.mode); err != nil {
			return fmt.Errorf("mount tmpfs on %s: %w", m.target, err)
		}
	}
	// What systemd-tmpfiles would make at boot for resource-agents
	// (HA_RSCTMP, where agents keep their state).
	if err := os.Mkdir("/run/resource-agents", 0o755|os.ModeSticky); err != nil {
		return err
	}
	for _, p := range privateDirs {
		if err := bind(filepath.Join(dir, p), "/"+p, 0); err != nil {
			return err
		}
	}
	if err := privateSbin(dir); err != nil {
		return err
	}
	return privateAgents(dir)
}

// enterRoot makes a copy of the stack's root the node's / (Stack): an
// overlay with the root below and the node's own upper directory above,
// so that the nodes share the root and never write it, and a reboot finds
// what the node wrote before. The host's /dev and /sys (the node's network
// namespace's, which ip netns exec mounted) and the lab's work directory
// (the node's files, the power switch's socket, lab-web) are bound in at
// their paths, then pivot_root makes it the mount namespace's root: the
// daemons and everything nsenter runs in the node see the root's /usr and
// /etc alone. privateFS then makes the node's private directories in it
// as it does on the host.
func enterRoot(dir, root string) error {
	top := filepath.Join(dir, "root")
	merged, upper, work := filepath.Join(top, "merged"), filepath.Join(top, "upper"), filepath.Join(top, "work")
	for _, d := range []string{merged, upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	opts := "lowerdir=" + root + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		return fmt.Errorf("overlay %s on %s: %w", root, merged, err)
	}
	labDir := filepath.Dir(dir)
	for _, p := range []string{"/dev", "/sys", labDir} {
		target := filepath.Join(merged, p)
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
		if err := bind(p, target, unix.MS_REC); err != nil {
			return err
		}
	}
	old := filepath.Join(merged, ".host")
	if err := os.MkdirAll(old, 0o700); err != nil {
		return err
	}
	if err := unix.PivotRoot(merged, old); err != nil {
		return fmt.Errorf("pivot_root %s: %w", merged, err)
	}
	if err := os.Chdir("/"); err != nil {
		return err
	}
	if err := unix.Unmount("/.host", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount the host's root: %w", err)
	}
	if err := os.Remove("/.host"); err != nil {
		return err
	}
	// The PID namespace's own /proc, as unshare's --mount-proc made it on
	// the host's root.
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	return nil
}

// privateSbin adds the node's fence_lab to the host's /usr/sbin: a
// read-only overlay with the node's usr/sbin above the host's. The host's
// directory is neither written nor hidden, and an overlay needs no mount
// point for a file the host does not have, which a bind of the file
// alone would.
func privateSbin(dir string) error {
	opts := "lowerdir=" + filepath.Join(dir, sbinDir) + ":/" + sbinDir
	if err := unix.Mount("overlay", "/"+sbinDir, "overlay", unix.MS_RDONLY, opts); err != nil {
		return fmt.Errorf("overlay %s on /%s: %w", filepath.Join(dir, sbinDir), sbinDir, err)
	}
	return nil
}

// privateAgents makes the node's agents directory: the node's own copy of
// floatip as provider floatip, so that the test installs nothing on the
// host, next to the host's other providers (heartbeat, pacemaker), bound
// into the copy before the copy covers the host's directory. The host's
// floatip providers, installed or a concurrent test's, stay hidden.
func privateAgents(dir string) error {
	own := filepath.Join(dir, ocfDir)
	entries, err := os.ReadDir("/" + ocfDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), "floatip") {
			continue
		}
		// The mount point stays from the node's previous boot.
		target := filepath.Join(own, e.Name())
		if err := os.Mkdir(target, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if err := bind("/"+filepath.Join(ocfDir, e.Name()), target, 0); err != nil {
			return err
		}
	}
	// Recursive, to carry the providers just bound.
	return bind(own, "/"+ocfDir, unix.MS_REC)
}

func bind(src, target string, flags uintptr) error {
	if err := unix.Mount(src, target, "", unix.MS_BIND|flags, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", src, target, err)
	}
	return nil
}

// spawn starts a daemon with its output in DIR/NAME.out. The init never
// calls Wait on it: it reaps every child itself with wait4(-1).
func spawn(dir, name string, args ...string) (int, error) {
	out, err := os.OpenFile(filepath.Join(dir, name+".out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	cmd := exec.Command(name, args...)
	cmd.Env = daemonEnv()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", name, err)
	}
	return cmd.Process.Pid, nil
}

// waitCorosync waits until corosync-cfgtool gets an answer from corosync,
// and fails when corosync exits first.
func waitCorosync(pid int) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		cmd := exec.Command("corosync-cfgtool", "-s")
		cmd.Env = daemonEnv()
		if cmd.Run() == nil {
			return nil
		}
		var ws unix.WaitStatus
		if p, _ := unix.Wait4(pid, &ws, unix.WNOHANG, nil); p == pid {
			return fmt.Errorf("corosync exited at start: %s", describe(ws))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("corosync did not answer corosync-cfgtool within 30s")
}

func describe(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}

// logf writes to the init's stderr, the node's init.log.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// initMain is main for "node-init NAME DIR [ROOT]", ROOT the stack's
// root when the node runs on one (enterRoot).
func initMain(args []string) {
	if len(args) != 2 && len(args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: node-init NAME DIR [ROOT]")
		os.Exit(2)
	}
	root := ""
	if len(args) == 3 {
		root = args[2]
	}
	if err := nodeInit(args[0], args[1], root); err != nil {
		logf("%s: %v", args[0], err)
		os.Exit(1)
	}
	os.Exit(0)
}
