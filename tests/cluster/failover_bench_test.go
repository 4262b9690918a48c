//go:build linux

package main

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/floatip/floatip/tests/lab"
)

const (
	macOld = "02:00:5e:00:00:01"
	macNew = "02:00:5e:00:00:02"
)

// fbProbes is a sample of n probes every 5 ms from t0 - 50 ms on, each
// answered 1 ms later by the MAC that by gives for it ("" for none).
func fbProbes(t0 time.Time, n int, by func(seq int) []string) fbSample {
	s := fbSample{T0: t0, Old: macOld}
	start := t0.Add(-50 * time.Millisecond)
	for seq := range n {
		sent := start.Add(time.Duration(seq) * probeInterval)
		s.Sent = append(s.Sent, sent)
		for _, mac := range by(seq) {
			s.Replies = append(s.Replies, fbReply{Seq: uint16(seq), At: sent.Add(time.Millisecond), MAC: mac})
		}
	}
	s.End = s.Sent[n-1].Add(inFlight + time.Millisecond)
	return s
}

func TestAnalyse(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	// Probes 0-9 before the fault, from 10 on after it.
	failover := func(lostFrom, lostTo int) func(int) []string {
		return func(seq int) []string {
			switch {
			case seq < lostFrom:
				return []string{macOld}
			case seq < lostTo:
				return nil
			}
			return []string{macNew}
		}
	}
	for _, c := range []struct {
		name  string
		s     fbSample
		setup func(*fbSample)
		want  fbOutcome
	}{{
		// Probes 12-31 lost: the outage runs from probe 12's sending
		// to probe 32's answer.
		name: "failover",
		s:    fbProbes(t0, 100, failover(12, 32)),
		setup: func(s *fbSample) {
			s.Neigh = []lab.NeighborChange{{Time: t0.Add(-time.Second), MAC: mustMAC(macOld)}, {Time: t0.Add(110 * ms), MAC: mustMAC(macNew)}}
			// A gratuitous ARP of the old holder after the new one
			// answered, and one before.
			s.Claims = []fbFrame{{At: t0.Add(50 * ms), MAC: macOld}, {At: t0.Add(300 * ms), MAC: macOld}}
		},
		want: fbOutcome{Recovered: true, Outage: 100*ms + ms, Lost: 20, New: macNew, Followed: 110 * ms, OldAfter: 1,
			Answerers: []string{macOld, macNew}},
	}, {
		name: "no probe lost",
		s:    fbProbes(t0, 100, failover(50, 50)),
		want: fbOutcome{Recovered: true, New: macNew, Followed: -1, Answerers: []string{macOld, macNew}},
	}, {
		name: "lost for good",
		s:    fbProbes(t0, 100, failover(12, 100)),
		// Only the old holder's answers before the fault's first loss.
		want: fbOutcome{Lost: 88, New: macOld, Followed: -1, Answerers: []string{macOld}},
	}, {
		// The old holder answers again after the new one did.
		name: "flip back",
		s: fbProbes(t0, 100, func(seq int) []string {
			if seq >= 40 && seq < 45 {
				return []string{macOld}
			}
			return failover(12, 20)(seq)
		}),
		want: fbOutcome{Recovered: true, Outage: 40*ms + ms, Lost: 8, New: macNew, Followed: -1, TwoMACs: true,
			Answerers: []string{macOld, macNew, macOld, macNew}},
	}, {
		name: "one probe, two answers",
		s: fbProbes(t0, 100, func(seq int) []string {
			if seq == 30 {
				return []string{macOld, macNew}
			}
			return failover(30, 30)(seq)
		}),
		want: fbOutcome{Recovered: true, New: macNew, Followed: -1, TwoMACs: true, Answerers: []string{macOld, macNew}},
	}, {
		// A flap: the old holder answers again, and another answered
		// in between; the outage ends at the first answer.
		name: "flap",
		s: fbProbes(t0, 100, func(seq int) []string {
			switch {
			case seq >= 12 && seq < 20:
				return nil
			case seq >= 20 && seq < 30:
				return []string{macNew}
			case seq >= 30 && seq < 40:
				return nil
			}
			return []string{macOld}
		}),
		setup: func(s *fbSample) { s.Same = true },
		want: fbOutcome{Recovered: true, Outage: 40*ms + ms, Lost: 18, New: macOld, Followed: -1,
			Answerers: []string{macOld, macNew, macOld}},
	}, {
		// A probe lost before the fault took effect (the cut at
		// 10 ms), and the old holder's answers after it: the outage
		// is the gap that the fault made, from probe 12.
		name: "a loss before the fault",
		s: fbProbes(t0, 100, func(seq int) []string {
			if seq == 9 {
				return nil
			}
			return failover(12, 32)(seq)
		}),
		setup: func(s *fbSample) { s.Effect = t0.Add(10 * ms) },
		want: fbOutcome{Recovered: true, Outage: 100*ms + ms, Lost: 21, New: macNew, Followed: -1,
			Answerers: []string{macOld, macNew}},
	}, {
		// The same before a flap, whose outage ends at any answer: not
		// at the old holder's answer to probe 10, before the cut.
		name: "a loss before a flap",
		s: fbProbes(t0, 100, func(seq int) []string {
			switch {
			case seq == 9:
				return nil
			case seq >= 12 && seq < 72:
				return nil
			}
			return []string{macOld}
		}),
		setup: func(s *fbSample) { s.Same, s.Effect = true, t0.Add(10*ms) },
		want: fbOutcome{Recovered: true, Outage: 300*ms + ms, Lost: 61, New: macOld, Followed: -1,
			Answerers: []string{macOld}},
	}, {
		// The new holder answers probes sent before the bench knew the
		// kill done: they end the outage all the same.
		name:  "the new holder before the kill returned",
		s:     fbProbes(t0, 100, failover(12, 32)),
		setup: func(s *fbSample) { s.Effect = t0.Add(200 * ms) },
		want: fbOutcome{Recovered: true, Outage: 100*ms + ms, Lost: 20, New: macNew, Followed: -1,
			Answerers: []string{macOld, macNew}},
	}, {
		// A loss before the fault, and a move that lost none.
		name: "a loss before a move that lost none",
		s: fbProbes(t0, 100, func(seq int) []string {
			if seq == 9 {
				return nil
			}
			return failover(50, 50)(seq)
		}),
		want: fbOutcome{Recovered: true, Lost: 1, New: macNew, Followed: -1, Answerers: []string{macOld, macNew}},
	}} {
		t.Run(c.name, func(t *testing.T) {
			if c.setup != nil {
				c.setup(&c.s)
			}
			if diff := cmp.Diff(c.want, c.s.analyse()); diff != "" {
				t.Errorf("analyse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSettled(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		by      func(int) []string
		d       time.Duration
		want    string
		settled bool
	}{
		{"all from one", func(int) []string { return []string{macNew} }, 100 * time.Millisecond, macNew, true},
		{"a loss", func(seq int) []string {
			if seq == 90 {
				return nil
			}
			return []string{macNew}
		}, 100 * time.Millisecond, "", false},
		{"two MACs", func(seq int) []string {
			if seq < 85 {
				return []string{macOld}
			}
			return []string{macNew}
		}, 100 * time.Millisecond, "", false},
		{"longer than the sample", func(int) []string { return []string{macNew} }, time.Second, macNew, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			mac, ok := fbProbes(t0, 100, c.by).settled(c.d)
			if ok != c.settled || ok && mac != c.want {
				t.Errorf("settled = %q, %v; want %q, %v", mac, ok, c.want, c.settled)
			}
		})
	}
}

// ipv4Frame is an Ethernet frame from mac with an IPv4 packet of protocol
// proto from src and payload.
func ipv4Frame(mac string, proto byte, src [4]byte, payload []byte) lab.Frame {
	b := make([]byte, 14+20)
	copy(b[6:12], mustMAC(mac))
	binary.BigEndian.PutUint16(b[12:14], 0x0800)
	b[14] = 0x45
	b[14+9] = proto
	copy(b[14+12:14+16], src[:])
	return lab.Frame{Time: time.Unix(1, 0), Data: append(b, payload...)}
}

func TestDecodeIPv4(t *testing.T) {
	vip := VIP.As4()
	reply := func(id, seq uint16) []byte {
		b := make([]byte, 8)
		binary.BigEndian.PutUint16(b[4:], id)
		binary.BigEndian.PutUint16(b[6:], seq)
		return b
	}
	request := reply(7, 1)
	request[0] = 8
	frames := []lab.Frame{
		ipv4Frame(macNew, 1, vip, reply(7, 42)),
		ipv4Frame(macNew, 1, vip, reply(8, 43)),                    // another pinger's
		ipv4Frame(macOld, 1, [4]byte{198, 18, 0, 9}, reply(7, 44)), // not from the VIP
		ipv4Frame(macOld, 1, vip, request),
		// VRRPv3 advert, vrid 51, priority 150, 10 cs.
		ipv4Frame(macOld, 112, [4]byte{198, 18, 0, 1}, []byte{0x31, 51, 150, 1, 0x00, 10, 0, 0}),
	}
	// The advert goes to VRRP's group with a TTL of 255.
	copy(frames[4].Data[14+16:14+20], []byte{224, 0, 0, 18})
	frames[4].Data[14+8] = 255
	at := time.Unix(1, 0)
	replies, claims, adverts := decodeIPv4(frames, 7)
	if diff := cmp.Diff([]fbReply{{Seq: 42, At: at, MAC: macNew}}, replies); diff != "" {
		t.Errorf("replies (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]fbFrame{{at, macNew}, {at, macNew}, {at, macOld}}, claims); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	want := []fbAdvert{{At: at, MAC: macOld, Dst: fbVRRPGroup, TTL: 255, Version: 3, VRID: 51, Priority: 150, Interval: 10}}
	if diff := cmp.Diff(want, adverts, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("adverts (-want +got):\n%s", diff)
	}
}

func TestKeepalivedConf(t *testing.T) {
	got := keepalivedConf("n1", 150, "0.1")
	for _, want := range []string{"vrrp_version 3", "priority 150", "advert_int 0.1", "virtual_router_id 51",
		"198.18.0.100/24 dev eth0", "state BACKUP", "interface eth0"} {
		if !strings.Contains(got, want) {
			t.Errorf("keepalivedConf has no %q:\n%s", want, got)
		}
	}
}

func TestKeepalivedVersion(t *testing.T) {
	for _, c := range []struct{ out, want string }{
		{"Keepalived v2.2.7 (01/16,2022)\n\nCopyright(C) 2001-2022 Alexandre Cassen\n", "Keepalived v2.2.7 (01/16,2022)"},
		{"Keepalived v2.3.3 (03/30,2025), git commit v2.3.2-57\n", "Keepalived v2.3.3 (03/30,2025), git commit v2.3.2-57"},
		{"", ""},
		{"keepalived: command not found\n", ""},
	} {
		got, err := keepalivedVersion(c.out)
		if got != c.want || (err == nil) != (c.want != "") {
			t.Errorf("keepalivedVersion(%q) = %q, %v; want %q", c.out, got, err, c.want)
		}
	}
}

// TestFBSetups: each name -setups takes makes the setup its name says,
// and each has a line of its own in the table.
func TestFBSetups(t *testing.T) {
	if _, err := os.Stat(stack.Path(heartbeatAgent)); err != nil {
		t.Fatalf("no heartbeat:IPaddr2: %v (make deps installs resource-agents)", err)
	}
	b := &fbBench{cfg: fbConfig{tuned: 1000, monitor: 10 * time.Second}}
	var got []string
	for _, name := range fbSetupNames {
		s, err := b.setup(name, "exe", "dir")
		if err != nil {
			t.Fatalf("setup %s: %v", name, err)
		}
		got = append(got, s.Name())
	}
	want := []string{"keepalived advert 1s", "keepalived advert 0.1s", "floatip token 3000", "floatip token 1000",
		"IPaddr2 token 3000", "IPaddr2 token 1000", "floatip token 1000 2 rings", "IPaddr2 token 1000 2 rings",
		"floatip token 1000 ping"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("setup names (-want +got):\n%s", diff)
	}
}

func TestFBTable(t *testing.T) {
	ms := time.Millisecond
	got := fbTable([]*fbResult{
		{Setup: "keepalived advert 1s", Fault: fbKill, Runs: []fbOutcome{
			{Recovered: true, Outage: 3000 * ms, Followed: 3010 * ms},
			{Recovered: true, Outage: 3500 * ms, Followed: 3510 * ms, OldAfter: 2, TwoMACs: true},
			{Recovered: true, Outage: 3200 * ms, Followed: -1},
		}},
		{Setup: "floatip token 3000", Fault: fbCut, Runs: []fbOutcome{{Lost: 100}}, TwoHolders: 1},
	})
	want := []string{
		"keepalived advert 1s hard-kill     3 |   3200 ms   3500 ms |   3010 ms   3510 ms |      2       1     0    0",
		"floatip token 3000   link-cut      1 |         -         - |         -         - |      0       0     1    1",
	}
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if diff := cmp.Diff(want, lines[2:]); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

// TestFBVerdict: the bench's exit from recorded outcomes. Transient
// double answers and slow failovers pass; a lost VIP, two MACs still
// answering at the deadline, two holders at rest, or a setup that failed
// fail, with a first line that names the failure.
func TestFBVerdict(t *testing.T) {
	ok := fbOutcome{Recovered: true, Outage: 3 * time.Second, Lost: 600}
	for _, c := range []struct {
		name      string
		results   []*fbResult
		setupErrs []string
		want      string // the error's first line; "" passes
	}{{
		name: "all recovered",
		results: []*fbResult{
			{Setup: "keepalived advert 0.1s", Fault: fbFlap, Runs: []fbOutcome{ok, {Recovered: true, Lost: 60, TwoMACs: true, OldAfter: 3}}},
			{Setup: "floatip token 1000 2 rings", Fault: fbCut, Runs: []fbOutcome{{Recovered: true, Outage: 29 * time.Second, Lost: 5800}}},
		},
	}, {
		name:    "lost for good",
		results: []*fbResult{{Setup: "floatip token 1000", Fault: fbCut, Runs: []fbOutcome{ok, {Lost: 6000}}}},
		want:    "floatip token 1000, link-cut #2: the VIP was lost for good (no answer within 30s)",
	}, {
		name:    "two MACs still answer at the deadline",
		results: []*fbResult{{Setup: "keepalived advert 1s", Fault: fbKill, Runs: []fbOutcome{{Recovered: false, Still: []string{"n1", "n2"}}}}},
		want:    "keepalived advert 1s, hard-kill #1: two holders: n1 and n2 still answered for the VIP 30s after the fault",
	}, {
		name:    "the old holder alone answers",
		results: []*fbResult{{Setup: "IPaddr2 token 3000", Fault: fbMove, Runs: []fbOutcome{{Still: []string{"n1"}}}}},
		want:    "IPaddr2 token 3000, graceful #1: the VIP did not settle on another node within 30s (n1 answered last)",
	}, {
		name:    "two holders at rest",
		results: []*fbResult{{Setup: "keepalived advert 1s", Fault: fbFlap, Runs: []fbOutcome{ok, ok}, TwoHolders: 1}},
		want:    "keepalived advert 1s, flap-300ms: 1 runs ended with the VIP on both nodes",
	}, {
		// A 300 ms cut loses about 60 probes: a flap, a cut or a kill
		// that loses none did not happen, whatever answered after it.
		name:    "a flap that cost no probe",
		results: []*fbResult{{Setup: "keepalived advert 0.1s", Fault: fbFlap, Runs: []fbOutcome{ok, {Recovered: true, New: macOld}}}},
		want:    "keepalived advert 0.1s, flap-300ms #2: the fault cost the client no probe: it did not take effect",
	}, {
		name:    "a hard kill that cost no probe",
		results: []*fbResult{{Setup: "floatip token 1000", Fault: fbKill, Runs: []fbOutcome{{Recovered: true, New: macNew}}}},
		want:    "floatip token 1000, hard-kill #1: the fault cost the client no probe: it did not take effect",
	}, {
		name:    "a graceful move may cost no probe",
		results: []*fbResult{{Setup: "floatip token 1000", Fault: fbMove, Runs: []fbOutcome{{Recovered: true, New: macNew}}}},
	}, {
		name:      "a setup that failed, and a lost run",
		results:   []*fbResult{{Setup: "floatip token 3000", Fault: fbCut, Runs: []fbOutcome{{}}}},
		setupErrs: []string{"floatip token 1000 2 rings: hard-kill #1: the VIP did not answer from n1"},
		want:      "floatip token 1000 2 rings: hard-kill #1: the VIP did not answer from n1",
	}} {
		t.Run(c.name, func(t *testing.T) {
			err := fbVerdict(c.results, c.setupErrs)
			got := ""
			if err != nil {
				got, _, _ = strings.Cut(err.Error(), "\n")
			}
			if got != c.want {
				t.Errorf("fbVerdict: %q, want %q", got, c.want)
			}
		})
	}
}

func TestFBVerdictCountsAll(t *testing.T) {
	r := &fbResult{Setup: "s", Fault: fbCut, Runs: []fbOutcome{{Recovered: true, Lost: 60}, {}}, TwoHolders: 1}
	err := fbVerdict([]*fbResult{r}, []string{"setup t: failed"})
	if err == nil || strings.Count(err.Error(), "\n") != 3 || !strings.Contains(err.Error(), "and 2 more") {
		t.Errorf("fbVerdict: %v; want three failures, one a line", err)
	}
}

func TestAnswering(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		by   func(int) []string
		want []string
	}{
		{"none", func(int) []string { return nil }, nil},
		{"lost before the window", func(seq int) []string {
			if seq < 50 {
				return []string{macOld}
			}
			return nil
		}, nil},
		{"one", func(int) []string { return []string{macNew} }, []string{macNew}},
		{"two, taking turns", func(seq int) []string { return []string{[]string{macOld, macNew}[seq%2]} }, []string{macOld, macNew}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// 100 probes over 500 ms; the window is their last 100 ms.
			got := fbProbes(t0, 100, c.by).answering(100 * time.Millisecond)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("answering (-want +got):\n%s", diff)
			}
		})
	}
}

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// TestAnalyseARP: both nodes answering one of the client's ARP requests
// for the VIP is two holders at that moment, even when the client's
// probes, sent to the one MAC of its entry, saw only one of them.
func TestAnalyseARP(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	// Probes 0-9 before the fault, 12-31 lost, the new holder's from 32.
	by := func(seq int) []string {
		switch {
		case seq < 12:
			return []string{macOld}
		case seq < 32:
			return nil
		}
		return []string{macNew}
	}
	for _, c := range []struct {
		name    string
		replies []fbFrame
		want    int
	}{
		{"one holder at a time", []fbFrame{{t0.Add(-39 * ms), macOld}, {t0.Add(121 * ms), macNew}, {t0.Add(141 * ms), macNew}}, 0},
		// The old holder still answers ARP in the round of 140 ms,
		// silently: it sent no frame of its own.
		{"both in one round", []fbFrame{{t0.Add(121 * ms), macNew}, {t0.Add(141 * ms), macNew}, {t0.Add(142 * ms), macOld}}, 1},
		// Before the fault, the holder alone; a round of two replies
		// from one MAC is one holder.
		{"one MAC twice", []fbFrame{{t0.Add(141 * ms), macNew}, {t0.Add(142 * ms), macNew}}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := fbProbes(t0, 100, by)
			for at := t0.Add(-40 * ms); at.Before(s.End); at = at.Add(fbARPEvery) {
				s.ARPSent = append(s.ARPSent, at)
			}
			s.ARPReplies = c.replies
			o := s.analyse()
			if o.BothARP != c.want || o.TwoMACs != (c.want > 0) {
				t.Errorf("analyse: BothARP %d, TwoMACs %v; want %d, %v", o.BothARP, o.TwoMACs, c.want, c.want > 0)
			}
		})
	}
}

// TestCorosyncReadings: the bench prints the token and consensus that
// corosync runs with and the knet links it has connected, as corosync's
// tools give them, rather than what its configuration asked for.
func TestCorosyncReadings(t *testing.T) {
	out := `Local node ID 1, transport knet
nodeid: 2 reachable   onwire (min/max/cur): 0, 1, 1
   LINK: 0 udp (198.18.0.1->198.18.0.2)  enabled connected mtu: 1397
   LINK: 1 udp (198.19.0.1->198.19.0.2)  enabled mtu: 469
`
	if diff := cmp.Diff([]int{0}, knetConnected(out)); diff != "" {
		t.Errorf("knetConnected (-want +got):\n%s", diff)
	}
	for _, c := range []struct {
		out  string
		want int
	}{
		{"runtime.config.totem.consensus (u32) = 1200\n", 1200},
		{"runtime.config.totem.token (u32) = 1000", 1000},
		{"Can't get key runtime.config.totem.tokenx. Error CS_ERR_NOT_EXIST\n", -1},
	} {
		got, err := cmapU32(c.out)
		if got != c.want && !(c.want < 0 && err != nil) {
			t.Errorf("cmapU32(%q) = %d, %v; want %d", c.out, got, err, c.want)
		}
	}
}

// TestCheckAdverts: the keepalived setups run what the guide says, VRRPv3
// adverts of n1 alone, multicast to 224.0.0.18 with a TTL of 255, at the
// interval configured.
func TestCheckAdverts(t *testing.T) {
	good := fbAdvert{MAC: macOld, Dst: fbVRRPGroup, TTL: 255, Version: 3, VRID: kaVRID, Priority: 150, Interval: 10}
	for _, c := range []struct {
		name   string
		change func(*fbAdvert)
		ok     bool
	}{
		{"as configured", func(*fbAdvert) {}, true},
		{"VRRPv2", func(a *fbAdvert) { a.Version = 2 }, false},
		{"unicast", func(a *fbAdvert) { a.Dst = netip.MustParseAddr("198.18.0.2") }, false},
		{"routed", func(a *fbAdvert) { a.TTL = 64 }, false},
		{"from n2", func(a *fbAdvert) { a.MAC, a.Priority = macNew, 100 }, false},
		{"another interval", func(a *fbAdvert) { a.Interval = 100 }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ads []fbAdvert
			for i := range 10 {
				a := good
				a.At = time.Unix(0, 0).Add(time.Duration(i) * 100 * time.Millisecond)
				if i == 5 {
					c.change(&a)
				}
				ads = append(ads, a)
			}
			if _, err := checkAdverts(ads, macOld, "0.1"); (err == nil) != c.ok {
				t.Errorf("checkAdverts: %v, want ok %v", err, c.ok)
			}
		})
	}
}
