package agent

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

// TestSenderArgsCarryTheSettings: the background sender gets every
// setting it reads on its command line, whether the action had it from
// the environment, which the sender inherits, or from its own command
// line, which it does not.
func TestSenderArgsCarryTheSettings(t *testing.T) {
	settings := map[string]string{
		"ip": "198.18.0.100", "network_namespace": "lab", "announce_to": "198.18.0.1  198.18.0.2",
		"nic": "eth0:vip", "trace_ra": "1", "trace_file": "/var/tmp/vip.trace",
		"arp_count": "3", "arp_interval": "50",
	}
	want := []string{
		"announce", "--background-sender", "1", "--ip", "198.18.0.100", "--unique_clone_address", "false",
		"--nic", "eth0", "--cidr_netmask", "24", "--arp_count", "3", "--arp_interval", "50",
		"--background-netns", "4026531840", "--iflabel", "vip", "--network_namespace", "lab",
		"--announce_to", "198.18.0.1 198.18.0.2", "--trace_ra", "1", "--trace_file", "/var/tmp/vip.trace",
	}
	for _, how := range []string{"environment", "flags"} {
		t.Run(how, func(t *testing.T) {
			h := newHarness(t)
			var env []string
			if how == "flags" {
				h.flags = settings
			} else {
				for k, v := range settings {
					env = append(env, "OCF_RESKEY_"+k+"="+v)
				}
			}
			if st := h.run(t, "start", env...); st != ocf.Success {
				t.Fatalf("start = %v: %s", st, h.stderr.String())
			}
			if len(h.bg) != 1 {
				t.Fatalf("%d background senders, want 1", len(h.bg))
			}
			if diff := cmp.Diff(want, h.bg[0]); diff != "" {
				t.Errorf("sender's arguments (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSenderArgsLeaveOutTheDefaults: a trace setting nobody gave is not
// passed on, and a trace descriptor, the action's own, never is.
func TestSenderArgsLeaveOutTheDefaults(t *testing.T) {
	h := newHarness(t)
	h.flags = map[string]string{"trace_file": "3"}
	if st := h.run(t, "start", vip, "OCF_RESKEY_cidr_netmask=24"); st != ocf.Success || len(h.bg) != 1 {
		t.Fatalf("start = %v, %d senders", st, len(h.bg))
	}
	for _, a := range h.bg[0] {
		if strings.HasPrefix(a, "--trace") {
			t.Errorf("sender's arguments %q hold %s", h.bg[0], a)
		}
	}
}

// TestSenderParamsCoverTheMetadata: each parameter is passed to the
// sender or said not to be needed there, so that a new one is not lost on
// the way.
func TestSenderParamsCoverTheMetadata(t *testing.T) {
	for _, p := range metadata.Declared().Parameters {
		_, ignored := senderIgnores[p.Name]
		if passed := slices.Contains(senderParams, p.Name); passed == ignored {
			t.Errorf("parameter %s: passed to the sender %v, said not needed %v; want exactly one", p.Name, passed, ignored)
		}
	}
}

// TestSenderThatCannotSendSaysSoAtError: a background sender that finds
// no namespace, or another namespace than start's, logs why at ERROR:
// nobody reads its exit code.
func TestSenderThatCannotSendSaysSoAtError(t *testing.T) {
	for _, tt := range []struct {
		name, namespace string
		netns           uint64
		want            string
	}{
		{"namespace gone", "missing", fakeNetNS, "ERROR: background announcer: cannot send the rest of the burst: network namespace missing"},
		{"namespace replaced", "lab", fakeNetNS + 1, `network namespace "lab" is no longer the one start announced 198.18.0.100 in`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.run(t, "start", vip, "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1")
			h.flags = map[string]string{"ip": "198.18.0.100", "nic": "eth0", "cidr_netmask": "24", "network_namespace": tt.namespace}
			h.announced = 0
			st := h.announce(t, tt.netns)
			if st == ocf.Success || h.announced != 0 {
				t.Errorf("Announce = %v after %d frames, want a failure before any", st, h.announced)
			}
			if !strings.Contains(h.stderr.String(), tt.want) {
				t.Errorf("the sender's log does not say %q:\n%s", tt.want, h.stderr.String())
			}
		})
	}
}

// announce runs the announce action as the background sender of a burst
// whose first frame start sent, in the namespace netns.
func (h *harness) announce(t *testing.T, netns uint64) ocf.Status {
	t.Helper()
	return h.agent(nil).Announce(context.Background(), 1, netns)
}

// TestQuiesceStartsNoSender: once the process is exiting (Quiesce), an
// action that its deadline cut short starts no background sender, which
// nothing would record: the address stays, with the frames sent so far.
func TestQuiesceStartsNoSender(t *testing.T) {
	h := newHarness(t)
	a := h.agent([]string{vip, "OCF_RESKEY_arp_count=5"})
	a.Quiesce()
	if st := ocf.Run(context.Background(), "start", a.Handlers(), a.Log); st != ocf.Success {
		t.Fatalf("start = %v: %s", st, h.stderr.String())
	}
	if len(h.bg) != 0 || h.senders.of(netip.MustParseAddr("198.18.0.100")) != 0 {
		t.Errorf("senders started %q, recorded %v", h.bg, h.senders)
	}
	if h.announced != 1 {
		t.Errorf("%d frames sent, want the first", h.announced)
	}
}

// unrecordable is the record of a sender in an HA_RSCTMP that cannot be
// written.
type unrecordable struct{ fakeSender }

func (unrecordable) Writable() error { return errors.New("record a sender: read-only file system") }

// TestNoSenderThatCannotBeRecorded: when no sender could be recorded,
// start starts none, which nothing could end: it sends the first frame,
// says at ERROR that the others are not sent, and succeeds.
func TestNoSenderThatCannotBeRecorded(t *testing.T) {
	h := newHarness(t)
	a := h.agent([]string{vip, "OCF_RESKEY_arp_count=5"})
	a.Senders = func(ip netip.Addr, netns uint64) SenderRecord {
		return unrecordable{h.senders.For(ip, netns).(fakeSender)}
	}
	if st := ocf.Run(context.Background(), "start", a.Handlers(), a.Log); st != ocf.Success {
		t.Fatalf("start = %v: %s", st, h.stderr.String())
	}
	if len(h.bg) != 0 || h.announced != 1 {
		t.Errorf("senders started %q, %d frames sent; want none and the first", h.bg, h.announced)
	}
	if !strings.Contains(h.stderr.String(), "ERROR: Could not start the background announcer of 198.18.0.100: record a sender: read-only file system: the other 9 frames are not sent") {
		t.Errorf("log: %s", h.stderr.String())
	}
}
