package tests

import (
	"bytes"
	"context"
	benc "encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// TestTraceFDNeverReachesTheWire: a trace sent to a descriptor number
// (trace_file=3..9, OCF_TRACE_FILE) that the caller did not open, or that
// the background sender holds as its packet socket, is refused; on the
// wire there is nothing but the burst: 2 * arp_count gratuitous ARP frames
// for the VIP from A's own MAC. A caller's own pipe at that number gets
// start's trace, and is not held open by the sender.
func TestTraceFDNeverReachesTheWire(t *testing.T) {
	l := labtest.NewLab(t, labtest.HostA, labtest.HostM)
	a, m := l.Host("a"), l.Host("m")
	// No IPv6 anywhere in the lab: the kernel's own neighbour discovery
	// and MLD frames are then no noise beside the burst.
	for _, ns := range []string{a.NS, m.NS, l.Prefix + "-br"} {
		if out, err := exec.Command("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1").CombinedOutput(); err != nil {
			t.Fatalf("disable IPv6 in %s: %v %s", ns, err, out)
		}
	}
	const count = 3
	cases := []struct {
		name string
		env  []string
		// pipeAt is the descriptor at which the caller passes a pipe of
		// its own, 0 for none.
		pipeAt int
	}{}
	for n := 3; n <= 9; n++ {
		cases = append(cases, struct {
			name   string
			env    []string
			pipeAt int
		}{fmt.Sprintf("trace_file=%d", n), []string{fmt.Sprintf("OCF_RESKEY_trace_file=%d", n)}, 0})
	}
	cases = append(cases, []struct {
		name   string
		env    []string
		pipeAt int
	}{
		{"OCF_TRACE_FILE=3", []string{"OCF_TRACE_FILE=3"}, 0},
		{"OCF_TRACE_FILE=/dev/fd/3", []string{"OCF_TRACE_FILE=/dev/fd/3"}, 0},
		{"OCF_TRACE_FILE=/dev/fd/4", []string{"OCF_TRACE_FILE=/dev/fd/4"}, 0},
		{"caller's pipe at 3", []string{"OCF_RESKEY_trace_file=3"}, 3},
		{"caller's pipe at 5", []string{"OCF_RESKEY_trace_file=5"}, 5},
	}...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rsctmp := t.TempDir()
			p := append([]string{"ip=" + labtest.VIP, "cidr_netmask=24", "arp_bg=true", "arp_count=" + strconv.Itoa(count), "arp_interval=1000", "trace_ra=1"}, c.env...)
			capture, err := m.Capture(unix.ETH_P_ALL)
			if err != nil {
				t.Fatal(err)
			}
			closed := false
			defer func() {
				if !closed {
					capture.Close()
				}
			}()

			cmd := exec.Command("ip", "netns", "exec", a.NS, labtest.Binary, "start")
			cmd.Env = labtest.OCFEnv(rsctmp, p...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			var trace *os.File
			if c.pipeAt != 0 {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				trace = r
				defer r.Close()
				cmd.ExtraFiles = make([]*os.File, c.pipeAt-2)
				cmd.ExtraFiles[c.pipeAt-3] = w
				err = cmd.Start()
				w.Close()
				if err != nil {
					t.Fatal(err)
				}
			} else if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("start: %v\n%s", err, stderr.String())
			}
			t.Cleanup(func() { floatipStop(t, a, rsctmp, p) })
			pid := senderPID(t, rsctmp)

			if trace != nil {
				// The sender holds nothing of the caller's: the pipe
				// ends with start, while the burst still goes on.
				got := make(chan []byte, 1)
				go func() { b, _ := io.ReadAll(trace); got <- b }()
				select {
				case b := <-got:
					if !processAlive(pid) {
						t.Error("the caller's trace pipe ended only with the background sender, which held it")
					}
					if !strings.Contains(string(b), "DEBUG: trace: exit 0 (OCF_SUCCESS)") {
						t.Errorf("start's trace on the caller's pipe:\n%s", b)
					}
				case <-time.After(15 * time.Second):
					t.Fatal("the caller's trace pipe is still open after start")
				}
			}

			// The sender's whole life is on the wire once it has exited;
			// a frame A sends after that marks the end of the capture.
			if !labtest.Eventually(15*time.Second, func() bool { return !processAlive(pid) }) {
				t.Fatalf("background sender %d still runs", pid)
			}
			sendMarker(t, a)
			capture.Until(func(fs []lab.Frame) bool { return hasMarker(fs) }, 5*time.Second)
			frames := capture.Close()
			closed = true
			if !hasMarker(frames) {
				t.Fatal("the marker frame sent after the sender did not arrive")
			}
			frames = frames[:len(frames)-1]
			checkOnlyBurst(t, frames, a, count)
			if c.pipeAt == 0 && !strings.Contains(stderr.String(), "WARNING:") {
				t.Errorf("start did not warn about the refused trace descriptor:\n%s", stderr.String())
			}
		})
	}
}

// markerType is the EtherType of the frame that ends a capture (IEEE
// 802 local experimental).
const markerType = 0x88b5

// sendMarker sends a frame of markerType from a's nic.
func sendMarker(t *testing.T, a *lab.Host) {
	t.Helper()
	fd, err := a.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	link, err := a.Link(a.Dev)
	if err != nil {
		t.Fatal(err)
	}
	frame := append(append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, a.MAC...), 0x88, 0xb5)
	frame = append(frame, make([]byte, 46)...)
	if err := unix.Sendto(fd, frame, 0, &unix.SockaddrLinklayer{Ifindex: link.Index, Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}); err != nil {
		t.Fatalf("send marker: %v", err)
	}
}

func hasMarker(fs []lab.Frame) bool {
	return len(fs) > 0 && len(fs[len(fs)-1].Data) >= 14 && benc.BigEndian.Uint16(fs[len(fs)-1].Data[12:14]) == markerType
}

// checkOnlyBurst fails unless frames are exactly a burst of count
// announcements of the VIP from a: count requests and count replies, each
// a gratuitous ARP frame from a's MAC.
func checkOnlyBurst(t *testing.T, frames []lab.Frame, a *lab.Host, count int) {
	t.Helper()
	ip := netip.MustParseAddr(labtest.VIP)
	ops := map[arp.Operation]int{}
	bad := 0
	for i, f := range frames {
		if isIGMP(f.Data) {
			continue
		}
		as := lab.DecodeARP([]lab.Frame{f})
		ok := len(as) == 1 && bytes.Equal(as[0].EthSrc, a.MAC) && bytes.Equal(as[0].SenderHW, a.MAC) &&
			as[0].SenderIP == ip && as[0].TargetIP == ip
		if !ok {
			if bad++; bad > 3 {
				continue
			}
			n := min(len(f.Data), 48)
			t.Errorf("frame %d is no announcement of %s from %s: % x %q", i, labtest.VIP, a.MAC, f.Data[:n], f.Data[:n])
			continue
		}
		ops[as[0].Op]++
	}
	if bad > 3 {
		t.Errorf("and %d more frames that are no announcement", bad-3)
	}
	if n := ops[arp.OperationRequest] + ops[arp.OperationReply] + bad; n != 2*count || ops[arp.OperationRequest] != count || ops[arp.OperationReply] != count {
		t.Errorf("%d frames (%d requests, %d replies), want %d requests and %d replies", n, ops[arp.OperationRequest], ops[arp.OperationReply], count, count)
	}
}

// isIGMP says whether frame is an IGMP report, which the lab's kernels
// send on their own when a link comes up.
func isIGMP(frame []byte) bool {
	return len(frame) >= 14+20 && bytes.Equal(frame[0:3], []byte{0x01, 0x00, 0x5e}) &&
		benc.BigEndian.Uint16(frame[12:14]) == 0x0800 && frame[14+9] == 2
}

// senderPID reads the background sender's pid from its pid file, named
// by the VIP (and the namespace).
func senderPID(t *testing.T, rsctmp string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(rsctmp, "floatip-announce-"+labtest.VIP+"*.pid"))
	if len(files) != 1 {
		t.Fatalf("pid files %v, want the background sender's", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatalf("no background sender: %v", err)
	}
	pid, err := strconv.Atoi(strings.Fields(string(b))[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// processAlive says whether pid runs and is no zombie.
func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(b), ") Z ")
}

// floatipStop removes the VIP again, for the cleanup.
func floatipStop(t *testing.T, a *lab.Host, rsctmp string, p []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := a.Run(ctx, labtest.OCFEnv(rsctmp, p...), labtest.Binary, "stop")
	if err != nil || res.Code != 0 {
		t.Errorf("stop: %v %d %s", errors.Join(err), res.Code, res.Stderr)
	}
}
