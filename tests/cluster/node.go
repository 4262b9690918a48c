//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/lab"
)

// Node is one cluster node: a lab host (its network namespace and nic)
// plus, while it runs, an init in mount, UTS, IPC and PID namespaces of its
// own, which runs corosync and Pacemaker with private copies of their
// directories under Dir.
type Node struct {
	Name string
	Host *lab.Host
	// Dir holds the node's private directories, its copy of the agent and
	// the logs: init.log, corosync.out, pacemakerd.out and the daemons'
	// own logs under var/log.
	Dir string
	// exe is this program, which the node runs as its init.
	exe string

	cmd *exec.Cmd
	// pid is the init's PID in the host's PID namespace (PID 1 in the
	// node's); nsenter and the kill go through it.
	pid  int
	done chan struct{}
	// err is how the init ended, exited when its end was seen.
	err    error
	exited time.Time
	// power is held by Start, which replaces cmd, pid and done, and by
	// the lab's power switch, which reads them from a goroutine of its
	// own. The test's own goroutine, the only writer, reads them without.
	power sync.Mutex
	// cgroup is the node's cpuacct cgroup in the bench (bench_cgroup.go),
	// which its init is born in (inCgroup); empty elsewhere.
	cgroup string
}

// prepare writes the node's private directories: corosync.conf, empty
// state directories owned as the Debian packages own them, and floatip as
// the node's ocf:floatip:IPaddr2.
func (n *Node) prepare(conf, binary string) error {
	hacluster, err := stack.IDs("hacluster", "haclient")
	if err != nil {
		return err
	}
	dirs := []struct {
		path  string
		mode  os.FileMode
		owned bool
	}{
		{"etc/corosync/uidgid.d", 0o755, false},
		{"var/lib/corosync", 0o755, false},
		{"var/log/corosync", 0o755, false},
		{"var/lib/pacemaker", 0o755, true},
		{"var/lib/pacemaker/cib", 0o750, true},
		{"var/lib/pacemaker/pengine", 0o750, true},
		{"var/lib/pacemaker/blackbox", 0o750, true},
		{"var/lib/pacemaker/cores", 0o750, true},
		{"var/log/pacemaker", 0o770, true},
		{ocfDir + "/floatip", 0o755, false},
	}
	for _, d := range dirs {
		p := filepath.Join(n.Dir, d.path)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(p, d.mode); err != nil {
			return err
		}
		if d.owned {
			if err := os.Chown(p, hacluster[0], hacluster[1]); err != nil {
				return err
			}
		}
	}
	if err := os.WriteFile(filepath.Join(n.Dir, "etc/corosync/corosync.conf"), []byte(conf), 0o644); err != nil {
		return err
	}
	// This program, which runs as the fence agent under that name.
	if err := os.MkdirAll(filepath.Join(n.Dir, sbinDir), 0o755); err != nil {
		return err
	}
	if err := copyFile(n.exe, filepath.Join(n.Dir, sbinDir, fenceAgent), 0o755); err != nil {
		return fmt.Errorf("install %s: %w", fenceAgent, err)
	}
	return copyFile(binary, filepath.Join(n.Dir, ocfDir, "floatip/IPaddr2"), 0o755)
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Start boots the node: its init in new namespaces inside the host's
// network namespace, as the recipe does it. It returns once the
// init runs; corosync and Pacemaker come up on their own after that.
func (n *Node) Start() error {
	n.power.Lock()
	defer n.power.Unlock()
	log, err := os.OpenFile(filepath.Join(n.Dir, "init.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	// ip netns exec execs unshare, which forks the init. --kill-child and
	// Pdeathsig chain the node's life to this program's: should the test
	// die without its cleanup, the kernel kills unshare, then the init,
	// and with the init every process of the node.
	argv := []string{"netns", "exec", n.Host.NS,
		"unshare", "--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child", "--mount-proc",
		n.exe, "node-init", n.Name, n.Dir}
	if stack.Root != "" {
		// The init makes the stack's root the node's / (enterRoot).
		argv = append(argv, stack.Root)
	}
	n.cmd = exec.Command("ip", argv...)
	n.cmd.Env = daemonEnv()
	n.inCgroup(n.cmd)
	n.cmd.Stdout, n.cmd.Stderr = log, log
	// A process group of its own: the terminal's Ctrl-C goes to the test,
	// which then stops the nodes in order.
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := n.cmd.Start(); err != nil {
		return fmt.Errorf("start node %s: %w", n.Name, err)
	}
	n.done = make(chan struct{})
	go func() {
		n.err = n.cmd.Wait()
		n.exited = time.Now()
		close(n.done)
	}()
	// This kernel may lack /proc/PID/task/TID/children, so find the
	// init as the process whose parent is unshare.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if pid := childOf(n.cmd.Process.Pid); pid > 0 {
			n.pid = pid
			return nil
		}
		select {
		case <-n.done:
			return fmt.Errorf("node %s exited at once: %v: %s", n.Name, n.err, n.tail())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return fmt.Errorf("node %s: no init under unshare (%d)", n.Name, n.cmd.Process.Pid)
}

// childOf returns a child of process ppid, 0 when it has none.
func childOf(ppid int) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name, in parentheses, may hold spaces: the fields
		// after the last ')' are state, then ppid.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(ppid) {
			return pid
		}
	}
	return 0
}

// Running says whether the node's init still runs.
func (n *Node) Running() bool {
	if n.done == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// Exec runs argv inside the node, as an admin's shell on it would: in all
// of the init's namespaces, through nsenter.
func (n *Node) Exec(ctx context.Context, argv ...string) (lab.Result, error) {
	if !n.Running() {
		return lab.Result{}, fmt.Errorf("node %s is not running", n.Name)
	}
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=" + n.Dir}
	return lab.RunHere(ctx, env, append([]string{"nsenter", "-t", strconv.Itoa(n.pid), "-m", "-u", "-i", "-n", "-p"}, argv...)...)
}

// MustExec is Exec that turns a non-zero exit into an error.
func (n *Node) MustExec(ctx context.Context, argv ...string) (lab.Result, error) {
	r, err := n.Exec(ctx, argv...)
	if err == nil && r.Code != 0 {
		err = fmt.Errorf("%s on %s exited %d: %s", strings.Join(argv, " "), n.Name, r.Code, strings.TrimSpace(r.Stderr+" "+r.Stdout))
	}
	return r, err
}

// Kill pulls the node's plug: SIGKILL to its init ends every process of
// its PID namespace at once, with no chance to stop a resource or to
// leave the membership.
func (n *Node) Kill() error {
	if !n.Running() {
		return nil
	}
	if err := unix.Kill(n.pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return err
	}
	return n.wait(10 * time.Second)
}

// running is Running for the power switch's goroutine.
func (n *Node) running() bool {
	n.power.Lock()
	defer n.power.Unlock()
	return n.Running()
}

// powerOff is what the lab's power switch does to a node that is fenced:
// the hard kill (link down, then SIGKILL to the init). A node already dead
// is off already, which is success: it says whether the node still ran.
func (n *Node) powerOff() (wasRunning bool, err error) {
	n.power.Lock()
	defer n.power.Unlock()
	if !n.Running() {
		return false, nil
	}
	if err := n.Host.IP("link", "set", n.Host.Dev, "down"); err != nil {
		return true, fmt.Errorf("power off %s: %w", n.Name, err)
	}
	if err := n.Kill(); err != nil {
		return true, fmt.Errorf("power off %s: %w", n.Name, err)
	}
	return true, nil
}

// Stop asks the node to shut down as an admin's "systemctl stop pacemaker
// corosync" does (SIGTERM to the init, which passes it on in that order),
// without waiting.
func (n *Node) Stop() error {
	return unix.Kill(n.pid, unix.SIGTERM)
}

// wait waits for the init to end.
func (n *Node) wait(d time.Duration) error {
	select {
	case <-n.done:
		return nil
	case <-time.After(d):
		return fmt.Errorf("node %s still runs after %v", n.Name, d)
	}
}

// tail is the end of the node's init.log, for error messages.
func (n *Node) tail() string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "init.log"))
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
