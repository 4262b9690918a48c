//go:build linux

package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseIntervals(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []time.Duration
		err      string
	}{
		{"one", "10s", []time.Duration{10 * time.Second}, ""},
		{"list", "10s, 2s", []time.Duration{10 * time.Second, 2 * time.Second}, ""},
		{"milliseconds", "1500ms", []time.Duration{1500 * time.Millisecond}, ""},
		{"below 1s", "500ms", nil, "from 1s on"},
		{"below a millisecond", "1.0001s", nil, "whole number of milliseconds"},
		{"twice", "2s,2000ms", nil, "twice"},
		{"not a duration", "10", nil, "missing unit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseIntervals(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, %v; want an error with %q", got, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestIntervalSpec(t *testing.T) {
	for _, c := range []struct {
		in   time.Duration
		want string
	}{
		{10 * time.Second, "10s"},
		{2 * time.Second, "2s"},
		{time.Minute, "60s"},
		{1500 * time.Millisecond, "1500ms"},
	} {
		if got := intervalSpec(c.in); got != c.want {
			t.Errorf("intervalSpec(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestPrimitivesXML checks the interval and the parameters each agent's
// primitives get: none for the floor, which holds no address.
func TestPrimitivesXML(t *testing.T) {
	vips, _ := benchVIPs(2)
	type prim struct {
		ID, Type   string
		Params     []string
		OpID, Iv   string
		OpInterval string
	}
	parse := func(t *testing.T, s string) []prim {
		var doc struct {
			P []struct {
				ID   string `xml:"id,attr"`
				Type string `xml:"type,attr"`
				NV   []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"instance_attributes>nvpair"`
				Op struct {
					ID       string `xml:"id,attr"`
					Interval string `xml:"interval,attr"`
				} `xml:"operations>op"`
			} `xml:"primitive"`
		}
		if err := xml.Unmarshal([]byte("<r>"+s+"</r>"), &doc); err != nil {
			t.Fatal(err)
		}
		var out []prim
		for _, p := range doc.P {
			var params []string
			for _, nv := range p.NV {
				params = append(params, nv.Name+"="+nv.Value)
			}
			out = append(out, prim{ID: p.ID, Type: p.Type, Params: params, OpID: p.Op.ID, OpInterval: p.Op.Interval})
		}
		return out
	}
	for _, c := range []struct {
		name string
		ag   *Agent
		iv   time.Duration
		want []prim
	}{
		{"floatip at 2s", &Agent{Type: "ocf:floatip:IPaddr2"}, 2 * time.Second, []prim{
			{ID: "bvip-1", Type: "IPaddr2", Params: []string{"ip=198.18.1.1", "cidr_netmask=16"}, OpID: "bvip-1-monitor-interval-2s", OpInterval: "2s"},
			{ID: "bvip-2", Type: "IPaddr2", Params: []string{"ip=198.18.1.2", "cidr_netmask=16"}, OpID: "bvip-2-monitor-interval-2s", OpInterval: "2s"},
		}},
		{"floor at 10s", &Agent{Type: "ocf:floatip:Dummy", NoAddress: true}, 10 * time.Second, []prim{
			{ID: "bvip-1", Type: "Dummy", OpID: "bvip-1-monitor-interval-10s", OpInterval: "10s"},
			{ID: "bvip-2", Type: "Dummy", OpID: "bvip-2-monitor-interval-10s", OpInterval: "10s"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := primitivesXML(c.ag, vips, 16, c.iv)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, parse(t, s)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestMonitorIntervals(t *testing.T) {
	const status = `<status>
<node_state id="1" uname="n1"><lrm id="1"><lrm_resources>
 <lrm_resource id="bvip-1" type="Dummy" class="ocf" provider="floatip">
  <lrm_rsc_op id="bvip-1_last_0" operation="stop" interval="0"/>
 </lrm_resource>
</lrm_resources></lrm></node_state>
<node_state id="2" uname="n2"><lrm id="2"><lrm_resources>
 <lrm_resource id="bvip-1" type="Dummy" class="ocf" provider="floatip">
  <lrm_rsc_op id="bvip-1_last_0" operation="start" interval="0"/>
  <lrm_rsc_op id="bvip-1_monitor_2000" operation="monitor" interval="2000"/>
 </lrm_resource>
 <lrm_resource id="bvip-2" type="Dummy" class="ocf" provider="floatip">
  <lrm_rsc_op id="bvip-2_monitor_0" operation="monitor" interval="0"/>
  <lrm_rsc_op id="bvip-2_monitor_10000" operation="monitor" interval="10000"/>
  <lrm_rsc_op id="bvip-2_monitor_2000" operation="monitor" interval="2000"/>
 </lrm_resource>
</lrm_resources></lrm></node_state>
</status>`
	for _, c := range []struct {
		name, node string
		want       map[string][]time.Duration
	}{
		{"holder", "n2", map[string][]time.Duration{
			"bvip-1": {2 * time.Second},
			// A monitor not cancelled yet shows beside the new one.
			"bvip-2": {10 * time.Second, 2 * time.Second},
		}},
		{"standby", "n1", map[string][]time.Duration{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := monitorIntervals(status, c.node)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
	if _, err := monitorIntervals(`<status><node_state uname="n2"><lrm><lrm_resources><lrm_resource id="x"><lrm_rsc_op operation="monitor" interval="10s"/></lrm_resource></lrm_resources></lrm></node_state></status>`, "n2"); err == nil {
		t.Error("an interval that is no number of milliseconds: no error")
	}
}

// TestStaleGroups checks which of the bench's cgroups a new bench may
// remove: the empty ones, and only the bench's.
func TestStaleGroups(t *testing.T) {
	root := t.TempDir()
	for _, g := range []struct{ name, procs string }{
		{groupPrefix + "ab12-n1", ""},
		{groupPrefix + "ab12-n2", "\n"},
		{groupPrefix + "cd34-n1", "4242\n4243\n"},
		{"other-n1", ""},
	} {
		dir := filepath.Join(root, g.name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(g.procs), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A file with the prefix is not a cgroup.
	if err := os.WriteFile(filepath.Join(root, groupPrefix+"file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	stale, busy, err := staleGroups(root)
	if err != nil {
		t.Fatal(err)
	}
	want := struct{ Stale, Busy []string }{
		Stale: []string{filepath.Join(root, groupPrefix+"ab12-n1"), filepath.Join(root, groupPrefix+"ab12-n2")},
		Busy:  []string{filepath.Join(root, groupPrefix+"cd34-n1") + " (processes [4242 4243])"},
	}
	if diff := cmp.Diff(want, struct{ Stale, Busy []string }{stale, busy}); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// A cgroup whose procs cannot be read fails the start, rather than
	// being taken for empty.
	if err := os.Mkdir(filepath.Join(root, groupPrefix+"ef56-n1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := staleGroups(root); err == nil {
		t.Error("a cgroup without cgroup.procs: no error")
	}
}

func TestBenchAgentByName(t *testing.T) {
	floor, err := benchAgentByName("floor")
	if err != nil {
		t.Fatal(err)
	}
	if floor.Type != "ocf:floatip:Dummy" || !floor.NoAddress || floor.Floatip() {
		t.Errorf("floor: %+v", floor)
	}
	fl, err := benchAgentByName("floatip")
	if err != nil || fl.NoAddress || !fl.Floatip() {
		t.Errorf("floatip: %+v %v", fl, err)
	}
	if _, err := benchAgentByName("IPaddr"); err == nil {
		t.Error("an unknown agent accepted")
	}
	// cluster-test's scenarios need an address: the floor is the bench's.
	if _, err := agentByName("floor"); err == nil {
		t.Error("cluster-test's -agent took the floor")
	}
}

func TestParseOptions(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []string
		err      bool
	}{
		{"none", "", nil, false},
		{"two", "load-threshold=400%, node-action-limit=20", []string{"load-threshold=400%", "node-action-limit=20"}, false},
		{"no value", "load-threshold=", nil, true},
		{"no name", "=1", nil, true},
		{"no =", "batch-limit", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseOptions(c.in)
			if (err != nil) != c.err {
				t.Fatalf("error %v, want an error: %v", err, c.err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}
