package metadata

import (
	"bytes"
	"os"
	"os/exec"
	"reflect"
	"testing"
)

const (
	raDTD    = "/usr/share/resource-agents/ra-api-1.dtd"
	pcsRNG   = "/usr/share/pcs/data/ocf-1.0.rng"
	heartbit = "/usr/lib/ocf/resource.d/heartbeat/IPaddr2"
)

func need(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing: run make deps (it installs resource-agents, pcs and libxml2-utils)", path)
	}
}

func TestLoad(t *testing.T) {
	a, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "IPaddr2" || a.OCFVersion != "1.0" {
		t.Errorf("name %q OCF version %q, want IPaddr2 1.0", a.Name, a.OCFVersion)
	}
	for _, p := range a.Parameters {
		switch p.Content.Type {
		case "string", "integer", "boolean":
		default:
			t.Errorf("%s: type %q is not in ra-api-1.dtd", p.Name, p.Content.Type)
		}
		if p.ShortDesc == "" || p.LongDesc == "" {
			t.Errorf("%s: missing description", p.Name)
		}
	}
	ip, ok := a.Parameter("ip")
	if !ok || !bool(ip.Required) || !bool(ip.Unique) {
		t.Errorf("ip = %+v, want required and unique", ip)
	}
	if d := a.Defaults(); d["arp_count"] != "5" || d["nic"] != "" {
		t.Errorf("defaults arp_count=%q nic=%q", d["arp_count"], d["nic"])
	}
}

// TestGenerated keeps agent.go, what the actions read, equal to the XML,
// what Pacemaker reads.
func TestGenerated(t *testing.T) {
	want, err := Parse(XML)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("agent.go differs from IPaddr2.xml: run go generate ./metadata\ngot  %+v\nwant %+v", got, want)
	}
}

func TestParseRejectsNon01(t *testing.T) {
	doc := []byte(`<resource-agent name="x"><parameters><parameter name="a" required="true"><content type="string"/></parameter></parameters></resource-agent>`)
	if _, err := Parse(doc); err == nil {
		t.Error(`required="true" accepted; pcs refuses it`)
	}
}

// TestDTD is what ocf-tester checks: xmllint --valid against the installed
// ra-api-1.dtd, the document read from stdin in the DTD's directory.
func TestDTD(t *testing.T) {
	need(t, raDTD)
	cmd := exec.Command("xmllint", "--noout", "--valid", "-")
	cmd.Dir = "/usr/share/resource-agents"
	cmd.Stdin = bytes.NewReader(XML)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xmllint --valid: %v\n%s", err, out)
	}
}

// TestPcsRelaxNG is what pcs resource create checks.
func TestPcsRelaxNG(t *testing.T) {
	need(t, pcsRNG)
	cmd := exec.Command("xmllint", "--noout", "--relaxng", pcsRNG, "-")
	cmd.Stdin = bytes.NewReader(XML)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xmllint --relaxng: %v\n%s", err, out)
	}
}

// TestSameParametersAsIPaddr2 reads the installed heartbeat:IPaddr2's
// meta-data and requires the same parameter names, types, defaults and
// required/unique flags, so that a CIB written for it works unchanged.
func TestSameParametersAsIPaddr2(t *testing.T) {
	need(t, heartbit)
	cmd := exec.Command(heartbit, "meta-data")
	cmd.Env = append(os.Environ(), "OCF_ROOT=/usr/lib/ocf")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("IPaddr2 meta-data: %v", err)
	}
	theirs, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(theirs.Parameters) == 0 {
		t.Fatal("IPaddr2 declares no parameters")
	}
	for _, tp := range theirs.Parameters {
		op, ok := ours.Parameter(tp.Name)
		if !ok {
			t.Errorf("parameter %s missing", tp.Name)
			continue
		}
		if op.Content.Type != tp.Content.Type || op.Content.DefaultValue() != tp.Content.DefaultValue() ||
			op.Required != tp.Required || op.Unique != tp.Unique {
			t.Errorf("%s: ours type=%s default=%q required=%v unique=%v; IPaddr2 type=%s default=%q required=%v unique=%v",
				tp.Name, op.Content.Type, op.Content.DefaultValue(), op.Required, op.Unique,
				tp.Content.Type, tp.Content.DefaultValue(), tp.Required, tp.Unique)
		}
	}
	for _, a := range theirs.Actions {
		found := false
		for _, b := range ours.Actions {
			found = found || b == a
		}
		if !found {
			t.Errorf("action %+v differs or is missing", a)
		}
	}
}
