//go:build linux

package main

import (
	"encoding/xml"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestBenchVIPs(t *testing.T) {
	v, err := benchVIPs(300)
	if err != nil {
		t.Fatal(err)
	}
	// Past 198.18.1.255 they go on into 198.18.2.0/24: all host
	// addresses of the /16.
	if v[0].String() != "198.18.1.1" || v[254].String() != "198.18.1.255" || v[299].String() != "198.18.2.44" {
		t.Errorf("VIPs %v %v %v", v[0], v[254], v[299])
	}
	if _, err := benchVIPs(0); err == nil {
		t.Error("0 VIPs accepted")
	}
	if got, err := parseCounts("10, 100"); err != nil || len(got) != 2 || got[0] != 10 || got[1] != 100 {
		t.Errorf("parseCounts: %v %v", got, err)
	}
	if _, err := parseCounts("10,x"); err == nil {
		t.Error("parseCounts took x")
	}
}

// TestWithVIPs checks that the primitives and the constraint land in the
// configuration as one well-formed document, whether the sections were
// empty or not.
func TestWithVIPs(t *testing.T) {
	vips, _ := benchVIPs(3)
	prims, err := primitivesXML(&Agent{Type: "ocf:heartbeat:IPaddr2"}, vips, 16, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, config := range []string{
		`<configuration><crm_config/><nodes/><resources><primitive id="fence-lab" class="stonith" type="fence_lab"/></resources><constraints/></configuration>`,
		`<configuration><resources/><constraints><rsc_location id="x" rsc="y" node="n1" score="1"/></constraints></configuration>`,
	} {
		out, err := withVIPs(config, prims, locationXML("n1"))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Prims []struct {
				ID       string `xml:"id,attr"`
				Class    string `xml:"class,attr"`
				Provider string `xml:"provider,attr"`
				Type     string `xml:"type,attr"`
				NV       []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"instance_attributes>nvpair"`
				Ops []struct {
					Name     string `xml:"name,attr"`
					Interval string `xml:"interval,attr"`
				} `xml:"operations>op"`
			} `xml:"resources>primitive"`
			Locs []struct {
				ID      string `xml:"id,attr"`
				Pattern string `xml:"rsc-pattern,attr"`
			} `xml:"constraints>rsc_location"`
		}
		if err := xml.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v in %s", err, out)
		}
		var bench int
		for _, p := range doc.Prims {
			if !strings.HasPrefix(p.ID, benchPrefix) {
				continue
			}
			bench++
			if p.Class != "ocf" || p.Provider != "heartbeat" || p.Type != "IPaddr2" || len(p.NV) != 2 || p.NV[1].Value != "16" ||
				len(p.Ops) != 1 || p.Ops[0].Interval != "10s" {
				t.Errorf("primitive %+v", p)
			}
		}
		if bench != 3 || doc.Prims[len(doc.Prims)-1].NV[0].Value != "198.18.1.3" {
			t.Errorf("%d bench primitives in %s", bench, out)
		}
		if l := doc.Locs[len(doc.Locs)-1]; l.ID != benchLocationID || l.Pattern != "^bvip-[0-9]+$" {
			t.Errorf("location %+v", l)
		}
	}
	if _, err := withVIPs("<configuration/>", prims, ""); err == nil {
		t.Error("a configuration without resources accepted")
	}
	if _, err := primitivesXML(&Agent{Type: "IPaddr2"}, vips, 16, 10*time.Second); err == nil {
		t.Error("a type without class and provider accepted")
	}
}

func TestBenchOps(t *testing.T) {
	const log = `Nov 25 07:29:18.416 n1 pacemaker-execd     [26] (log_execute) 	info: executing - rsc:bvip-1 action:start call_id:6
Nov 25 07:29:18.417 n1 pacemaker-execd     [26] (log_execute) 	info: executing - rsc:bvip-2 action:start call_id:7
Nov 25 07:29:18.420 n1 pacemaker-execd     [26] (log_execute) 	info: executing - rsc:vip action:start call_id:8
Nov 25 07:29:18.504 n1 pacemaker-execd     [26] (log_finished) 	info: bvip-1 start (call 6, PID 90) exited with status 0 (execution time 87ms after being queued 1ms)
Nov 25 07:29:19.504 n1 pacemaker-execd     [26] (log_finished) 	info: bvip-2 start (call 7, PID 91) exited with status 0 (execution time 1.087s after being queued 1ms)
`
	now := time.Date(2025, 11, 25, 8, 0, 0, 0, time.Local)
	ops := benchOps(strings.NewReader(log), "n1", now.Add(-time.Hour), now)
	if len(ops) != 2 || len(ops["bvip-1"]) != 1 || ops["bvip-1"][0].Exec != 87*time.Millisecond || ops["bvip-2"][0].Exec != 1087*time.Millisecond {
		t.Errorf("ops %+v", ops)
	}
	if op := findOp(ops["bvip-2"], "start"); op == nil || op.Returned.Sub(op.Called) != 1087*time.Millisecond {
		t.Errorf("start of bvip-2: %+v", op)
	}
}

func TestDist(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	d := dist(ds)
	if d.Median != 50*time.Millisecond || d.P95 != 95*time.Millisecond || d.Max != 100*time.Millisecond || d.N != 100 {
		t.Errorf("%+v", d)
	}
	if d := dist([]time.Duration{7}); d.Median != 7 || d.P95 != 7 || d.Max != 7 {
		t.Errorf("one: %+v", d)
	}
	if d := dist(nil); d.N != 0 {
		t.Errorf("none: %+v", d)
	}
}

func TestEcho(t *testing.T) {
	req := icmpEcho(0x1234, 7)
	// A correct checksum sums to 0xffff with itself included.
	var sum uint32
	for i := 0; i < len(req); i += 2 {
		sum += uint32(req[i])<<8 | uint32(req[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	if sum != 0xffff {
		t.Errorf("checksum: %#x", sum)
	}
	reply := append([]byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 198, 18, 1, 9, 198, 18, 0, 3}, req...)
	reply[20] = 0 // echo reply
	src, id, ok := echoReply(reply)
	if !ok || src != netip.MustParseAddr("198.18.1.9") || id != 0x1234 {
		t.Errorf("reply: %v %#x %v", src, id, ok)
	}
	if _, _, ok := echoReply(append(reply[:20:20], req...)); ok {
		t.Error("an echo request read as a reply")
	}
}

func TestLoadNotes(t *testing.T) {
	const log = `Nov 25 07:29:18.416 n1 pacemaker-controld  [30] (throttle_check_thresholds) 	notice: High CPU load detected: 4.030000
Nov 25 07:29:19.416 n1 pacemaker-controld  [30] (throttle_check_thresholds) 	info: Moderate CIB load detected: 0.410000
Nov 25 07:29:20.416 n1 pacemaker-controld  [30] (throttle_check_thresholds) 	notice: High CPU load detected: 3.100000
Nov 25 06:29:20.416 n1 pacemaker-controld  [30] (throttle_check_thresholds) 	notice: Extreme CPU load detected: 9.100000
`
	now := time.Date(2025, 11, 25, 8, 0, 0, 0, time.Local)
	got := describeNotes(loadNotes(strings.NewReader(log), now.Add(-time.Hour), now))
	if got != "High CPU load 2x, Moderate CIB load 1x" {
		t.Errorf("got %q", got)
	}
	if describeNotes(nil) != "none" {
		t.Error("no notes")
	}
}
