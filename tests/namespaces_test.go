package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// rsctmpFile is a file in HA_RSCTMP as a test last saw it.
type rsctmpFile struct {
	ino  uint64
	data string
}

// rsctmpFiles lists the files in dir by name.
func rsctmpFiles(t *testing.T, dir string) map[string]rsctmpFile {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]rsctmpFile{}
	for _, e := range entries {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(dir, e.Name()), &st); err != nil {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		out[e.Name()] = rsctmpFile{ino: st.Ino, data: string(b)}
	}
	return out
}

// sendersOf lists the pids of the running background senders whose pid
// files are among files.
func sendersOf(files map[string]rsctmpFile) []int {
	var out []int
	for name, f := range files {
		if !strings.HasPrefix(name, "floatip-announce-") {
			continue
		}
		if pid, err := strconv.Atoi(strings.Fields(f.data + " 0")[0]); err == nil && pid > 1 {
			out = append(out, pid)
		}
	}
	return out
}

// running says whether pid is a live process (a zombie is not).
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(b), ") Z ")
}

// TestSameVIPInTwoNamespaces: the same VIP in two network namespaces (two
// containers, two labs on one host) sharing HA_RSCTMP is two resources.
// A start and a stop in one leave the other's background burst, pid file
// and lock alone, whether the agent names the namespace in
// network_namespace or runs inside it.
func TestSameVIPInTwoNamespaces(t *testing.T) {
	for _, how := range []string{"network_namespace", "ip netns exec"} {
		t.Run(how, func(t *testing.T) {
			var hosts, clients []*lab.Host
			for range 2 {
				l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
				hosts, clients = append(hosts, l.Host("a")), append(clients, l.Host("m"))
			}
			rsctmp := t.TempDir()
			// A burst of 10 s: it outlasts what the other namespace does.
			p := []string{"ip=" + labtest.VIP, "cidr_netmask=24", "arp_bg=true", "arp_count=100", "arp_interval=100"}
			run := func(i int, action string) lab.Result {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				var res lab.Result
				var err error
				if how == "network_namespace" {
					res, err = lab.RunHere(ctx, labtest.OCFEnv(rsctmp, append(p, "network_namespace="+hosts[i].NS)...), labtest.Binary, action)
				} else {
					res, err = hosts[i].Run(ctx, labtest.OCFEnv(rsctmp, p...), labtest.Binary, action)
				}
				if err != nil {
					t.Fatal(err)
				}
				if res.Code != 0 {
					t.Errorf("%s in namespace %d = %d: %s", action, i, res.Code, res.Stderr)
				}
				return res
			}
			// Before the labs go: a sender left running would announce
			// into a namespace that no name reaches any more.
			t.Cleanup(func() { run(0, "stop"); run(1, "stop") })

			run(0, "start")
			first := rsctmpFiles(t, rsctmp)
			senders := sendersOf(first)
			if len(senders) != 1 {
				t.Fatalf("after the first start, HA_RSCTMP holds %v: want one sender's pid file", first)
			}
			c, err := clients[0].Capture(0x0806)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()

			run(1, "start")
			both := rsctmpFiles(t, rsctmp)
			var others []int
			for _, pid := range sendersOf(both) {
				if pid != senders[0] {
					others = append(others, pid)
				}
			}
			if len(others) != 1 || !running(others[0]) {
				t.Errorf("the second namespace's start left %v in HA_RSCTMP: want a sender of its own", both)
			}
			stop := run(1, "stop")
			for _, pid := range others {
				if !labtest.Eventually(time.Second, func() bool { return !running(pid) }) {
					t.Errorf("the second namespace's sender %d runs on after its stop", pid)
				}
			}

			if got := rsctmpFiles(t, rsctmp); !sameFiles(first, got) {
				t.Errorf("the first namespace's files changed under the second's start and stop:\nbefore %v\nafter  %v", first, got)
			}
			if !running(senders[0]) {
				t.Errorf("the first namespace's sender %d was ended by the second's start or stop", senders[0])
			}
			// Its burst goes on: frames from host a reach its client
			// after the other namespace's stop returned.
			after := func(fs []lab.Frame) bool {
				for _, f := range lab.DecodeARP(fs) {
					if f.Time.After(stop.End) && bytes.Equal(f.EthSrc, hosts[0].MAC) {
						return true
					}
				}
				return false
			}
			c.Until(after, 2*time.Second)
			if !after(c.Frames()) {
				t.Errorf("no announcement in the first namespace after the second's stop: its burst was cut")
			}
		})
	}
}

// sameFiles says whether every file in before is in after, unchanged: the
// same inode with the same content.
func sameFiles(before, after map[string]rsctmpFile) bool {
	for name, f := range before {
		if after[name] != f {
			return false
		}
	}
	return true
}

// TestSenderSettingsFromFlags: an action run with command-line flags
// alone, no OCF_RESKEY_ environment, hands the background sender every
// setting it needs: the namespace, announce_to and the burst. The client
// gets the whole burst, broadcast and unicast.
func TestSenderSettingsFromFlags(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	a, m := l.Host("a"), l.Host("m")
	c, err := m.Capture(0x0806)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rsctmp := t.TempDir()
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HA_RSCTMP=" + rsctmp}
	flags := []string{"--ip", labtest.VIP, "--cidr_netmask", "24", "--network_namespace", a.NS,
		"--arp_count", "3", "--arp_interval", "60", "--announce_to", labtest.HostM.Addr.Addr().String()}
	run := func(action string) lab.Result {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := lab.RunHere(ctx, env, append([]string{labtest.Binary, action}, flags...)...)
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != 0 {
			t.Fatalf("%s = %d: %s", action, res.Code, res.Stderr)
		}
		return res
	}
	started := run("start")
	t.Cleanup(func() { run("stop") })
	sender := regexp.MustCompile(`background announcer (\d+) `).FindStringSubmatch(started.Stderr)
	if sender == nil {
		t.Fatalf("start started no background sender:\n%s", started.Stderr)
	}
	var broadcast, unicast int
	count := func(fs []lab.Frame) bool {
		broadcast, unicast = 0, 0
		for _, f := range lab.DecodeARP(fs) {
			switch {
			case !bytes.Equal(f.EthSrc, a.MAC) || f.SenderIP.String() != labtest.VIP:
			case f.EthDst.String() == "ff:ff:ff:ff:ff:ff" && f.TargetIP.String() == labtest.VIP:
				broadcast++
			case bytes.Equal(f.EthDst, m.MAC):
				unicast++
			}
		}
		return broadcast >= 6 && unicast >= 3
	}
	// The whole burst, and no more: the sender has exited (or waits to
	// be reaped), and the marker from A closes the window on frames
	// still on their way.
	labtest.WaitFor(t, 5*time.Second, func() (bool, string) {
		pid, _ := strconv.Atoi(sender[1])
		st := procState(pid)
		return st == 0 || st == 'Z' || st == 'X', fmt.Sprintf("the sender %s is in state %q", sender[1], st)
	})
	frames, err := c.Drain(a, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	count(frames)
	// Three announcements: a request and a reply each, and with each
	// request a reply to the neighbour of announce_to.
	if broadcast != 6 || unicast != 3 {
		t.Errorf("client got %d broadcast and %d unicast announcements, want 6 and 3", broadcast, unicast)
	}
}

// TestSenderThatCannotSendLogsError: a background sender that cannot do
// its job says why at ERROR where the action's log goes, HA_LOGFILE here:
// its own stderr is /dev/null. Its nic goes during the burst; or the
// namespace it is to announce in is gone, or its nic is, when it starts.
func TestSenderThatCannotSendLogsError(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	a := l.Host("a")
	// logged waits for an ERROR line holding want in the file log.
	logged := func(t *testing.T, log, want string) {
		t.Helper()
		var b []byte
		found := func() bool {
			b, _ = os.ReadFile(log)
			for _, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, ": ERROR: ") && strings.Contains(line, want) {
					return true
				}
			}
			return false
		}
		if !labtest.Eventually(5*time.Second, found) {
			t.Errorf("no ERROR line about %q in HA_LOGFILE:\n%s", want, b)
		}
	}
	env := func(log string) []string {
		return []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HA_RSCTMP=" + t.TempDir(), "HA_LOGFILE=" + log}
	}

	for _, tt := range []struct{ name, namespace, nic, want string }{
		{"namespace gone", l.Prefix + "-gone", "eth0", "no such network namespace"},
		{"nic gone", a.NS, "x0", "is not on x0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "ha.log")
			// The sender as start spawns it, with the namespace or the nic
			// gone in between.
			cmd := exec.Command(labtest.Binary, "announce", "--background-sender", "1", "--ip", labtest.VIP, "--unique_clone_address", "false",
				"--nic", tt.nic, "--cidr_netmask", "24", "--arp_count", "3", "--arp_interval", "60", "--network_namespace", tt.namespace)
			cmd.Env = env(log)
			cmd.Run()
			logged(t, log, tt.want)
		})
	}

	t.Run("nic gone during the burst", func(t *testing.T) {
		log := filepath.Join(t.TempDir(), "ha.log")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := lab.RunHere(ctx, env(log), labtest.Binary, "start", "--ip", labtest.VIP, "--cidr_netmask", "24", "--network_namespace", a.NS,
			"--arp_count", "10", "--arp_interval", "200")
		if err != nil || res.Code != 0 {
			t.Fatalf("start = %d %v: %s", res.Code, err, res.Stderr)
		}
		if err := a.IP("link", "del", a.Dev); err != nil {
			t.Fatal(err)
		}
		// Whichever frame finds the address gone: the first, or one later.
		logged(t, log, labtest.VIP)
	})
}

// TestStopAfterUpgrade: a resource that floatip 0.9.0 started, whose files
// in HA_RSCTMP are named by the address alone, is stopped by this one: the
// sender that the old pid file names ends, the loopback address that the
// old LVS file remembers comes back, and nothing is left behind.
func TestStopAfterUpgrade(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	h := l.Host("a")
	r := labtest.Floatip(t, h)
	// What 0.9.0's start with lvs_support leaves: the address on eth0 and
	// no longer on lo, its lock and LVS file, and its sender, started as
	// 0.9.0 starts it, with no namespace on its command line.
	if err := h.IP("addr", "add", labtest.VIP+"/24", "dev", h.Dev); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"floatip-" + labtest.VIP + ".lock": "", "floatip-lvs-" + labtest.VIP: labtest.VIP + "/32 lo\n"} {
		if err := os.WriteFile(filepath.Join(r.Rsctmp, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sender := exec.Command("ip", "netns", "exec", h.NS, labtest.Binary, "announce", "--background-sender", "1", "--ip", labtest.VIP,
		"--unique_clone_address", "false", "--nic", h.Dev, "--cidr_netmask", "24", "--arp_count", "100", "--arp_interval", "100")
	sender.Env = labtest.OCFEnv(r.Rsctmp)
	if err := sender.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan struct{})
	go func() { sender.Wait(); close(ended) }()
	t.Cleanup(func() { sender.Process.Kill(); <-ended })
	pid := sender.Process.Pid
	// "ip netns exec" executes the sender in its own place.
	if !labtest.Eventually(2*time.Second, func() bool {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		return bytes.Contains(b, []byte("\x00--background-sender\x00"))
	}) {
		t.Fatal("the old sender did not start")
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// Field 22, the start time, counted after the command's parenthesis.
	start := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))[22-3]
	if err := os.WriteFile(filepath.Join(r.Rsctmp, "floatip-announce-"+labtest.VIP+".pid"), []byte(strconv.Itoa(pid)+" "+start+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	r.Expect(0, "stop", "ip="+labtest.VIP, "cidr_netmask=24", "lvs_support=true")
	// Ended by stop's signal: on its own it would end too, but only at
	// its next frame, after the address went.
	select {
	case <-ended:
		if ws, ok := sender.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
			t.Errorf("the sender of 0.9.0 was not stopped by stop: it ended with %v", sender.ProcessState)
		}
	case <-time.After(2 * time.Second):
		t.Error("the sender of 0.9.0 runs on after stop")
	}
	if !onLoopback(t, h) {
		t.Error("stop did not give the loopback its address back from 0.9.0's LVS file")
	}
	if left, _ := os.ReadDir(r.Rsctmp); len(left) != 0 {
		t.Errorf("left in HA_RSCTMP: %v", left)
	}
}
