package metadata

import (
	"bytes"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
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
	a := Declared()
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
	got := Declared()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("agent.go differs from IPaddr2.xml: run go generate ./metadata\ngot  %+v\nwant %+v", got, want)
	}
}

func TestDeclaredType(t *testing.T) {
	a, err := Parse(XML)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range a.Parameters {
		if got, ok := DeclaredType(p.Name); !ok || got != p.Content.Type {
			t.Errorf("DeclaredType(%q) = %q, %t; the XML says %q", p.Name, got, ok, p.Content.Type)
		}
	}
	if got, ok := DeclaredType("nosuch"); ok {
		t.Errorf("DeclaredType(nosuch) = %q, true", got)
	}
}

// TestValueType pins the strings that are booleans: each must be declared
// a string whose default is a boolean word or empty.
func TestValueType(t *testing.T) {
	a := Declared()
	var got []string
	for _, p := range a.Parameters {
		vt, _ := ValueType(p.Name)
		if vt == p.Content.Type {
			continue
		}
		got = append(got, p.Name)
		if d := p.Content.DefaultValue(); p.Content.Type != "string" || vt != "boolean" || d != "" && d != "true" && d != "false" {
			t.Errorf("%s: declared %s with default %q, values %s", p.Name, p.Content.Type, d, vt)
		}
	}
	want := []string{"run_arping", "nodad", "noprefixroute", "check_link_status", "arp_bg"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("parameters whose values are not their declared type: %v, want %v", got, want)
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

// paramFact is how a release of heartbeat:IPaddr2 declares a parameter.
type paramFact struct {
	name, typ string
	def       *string
	required  bool
	unique    bool
}

func str(s string) *string { return &s }

// ipaddr2v418 is the meta-data of heartbeat:IPaddr2 4.18.0 (run from a
// fetched resource-agents checkout), followed by the parameters that
// upstream's main branch adds for load-shared clones.
var ipaddr2v418 = []paramFact{
	{"ip", "string", str(""), true, true},
	{"nic", "string", nil, false, false},
	{"cidr_netmask", "string", str(""), false, false},
	{"broadcast", "string", str(""), false, false},
	{"proto", "string", str(""), false, false},
	{"iflabel", "string", str(""), false, false},
	{"lvs_support", "boolean", str("false"), false, false},
	{"lvs_ipv6_addrlabel", "boolean", str("true"), false, false},
	{"lvs_ipv6_addrlabel_value", "integer", str("99"), false, false},
	{"mac", "string", str(""), false, false},
	{"clusterip_hash", "string", str("sourceip-sourceport"), false, false},
	{"unique_clone_address", "boolean", str("false"), false, false},
	{"arp_interval", "integer", str("200"), false, false},
	{"arp_count", "integer", str("5"), false, false},
	{"arp_count_refresh", "integer", str("0"), false, false},
	{"arp_bg", "string", str(""), false, false},
	{"arp_sender", "string", str(""), false, false},
	{"send_arp_opts", "string", str(""), false, false},
	{"flush_routes", "boolean", str("false"), false, false},
	{"run_arping", "string", str("false"), false, false},
	{"nodad", "string", str("false"), false, false},
	{"noprefixroute", "string", str("false"), false, false},
	{"preferred_lft", "string", str("forever"), false, false},
	{"network_namespace", "string", str(""), false, false},
	{"check_link_status", "string", str("true"), false, false},
	// upstream main
	{"clusterip_firewall", "string", str("auto"), false, false},
	{"clusterip_hash_seed", "string", str(""), false, false},
	{"clusterip_table", "string", str("mangle"), false, false},
	{"clusterip_chain", "string", str("PREROUTING"), false, false},
	{"clusterip_mac_mangle", "boolean", str("false"), false, false},
}

// ipaddr2v418Actions are 4.18's actions: the operations pcs gives a new
// resource come from these, so floatip declares exactly them.
var ipaddr2v418Actions = []Action{
	{Name: "start", Timeout: "20s"},
	{Name: "stop", Timeout: "20s"},
	{Name: "status", Timeout: "20s", Interval: "10s", Depth: "0"},
	{Name: "monitor", Timeout: "20s", Interval: "10s", Depth: "0"},
	{Name: "meta-data", Timeout: "5s"},
	{Name: "validate-all", Timeout: "20s"},
}

// TestSameParametersAs418 requires every parameter of IPaddr2 4.18 (and
// upstream main) with its type, default and flags, and 4.18's actions, so
// that a CIB written for it works unchanged and pcs creates the same
// operations.
func TestSameParametersAs418(t *testing.T) {
	ours := Declared()
	for _, f := range ipaddr2v418 {
		op, ok := ours.Parameter(f.name)
		if !ok {
			t.Errorf("parameter %s missing", f.name)
			continue
		}
		got := paramFact{op.Name, op.Content.Type, op.Content.Default, bool(op.Required), bool(op.Unique)}
		if diff := cmp.Diff(f, got, cmp.AllowUnexported(paramFact{})); diff != "" {
			t.Errorf("%s (-4.18 +floatip):\n%s", f.name, diff)
		}
	}
	if diff := cmp.Diff(ipaddr2v418Actions, ours.Actions); diff != "" {
		t.Errorf("actions (-4.18 +floatip):\n%s", diff)
	}
}

// TestSameParametersAsIPaddr2 reads the installed heartbeat:IPaddr2's
// meta-data (4.12 on Debian 12) and requires each of its parameters, with
// its type and flags. A default may differ only where 4.18 changed it,
// since floatip follows the newest release.
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
	ours := Declared()
	if len(theirs.Parameters) == 0 {
		t.Fatal("IPaddr2 declares no parameters")
	}
	newer := map[string]paramFact{}
	for _, f := range ipaddr2v418 {
		newer[f.name] = f
	}
	for _, tp := range theirs.Parameters {
		op, ok := ours.Parameter(tp.Name)
		if !ok {
			t.Errorf("parameter %s missing", tp.Name)
			continue
		}
		def, typ := tp.Content.DefaultValue(), tp.Content.Type
		if f, ok := newer[tp.Name]; ok {
			def, typ = (Content{Default: f.def}).DefaultValue(), f.typ
		}
		if op.Content.Type != typ || op.Content.DefaultValue() != def ||
			op.Required != tp.Required || op.Unique != tp.Unique {
			t.Errorf("%s: ours type=%s default=%q required=%v unique=%v; want type=%s default=%q required=%v unique=%v",
				tp.Name, op.Content.Type, op.Content.DefaultValue(), op.Required, op.Unique,
				typ, def, tp.Required, tp.Unique)
		}
	}
}

// TestCompatibilityOnly: every parameter the table marks is one the
// meta-data declares, so that a mark cannot outlive its parameter, and
// the parameters that work are not marked.
func TestCompatibilityOnly(t *testing.T) {
	md := Declared()
	for name := range compatibilityOnly {
		if _, ok := md.Parameter(name); !ok {
			t.Errorf("%s is marked compatibility only but is not declared", name)
		}
	}
	for _, name := range []string{"ip", "send_arp_opts"} {
		_, got := CompatibilityOnly(name)
		if want := name == "send_arp_opts"; got != want {
			t.Errorf("CompatibilityOnly(%s) = %v, want %v", name, got, want)
		}
	}
	tests := []struct {
		name  string
		brief bool
		want  string
	}{
		{"ip", false, ""},
		{"ip", true, ""},
		{"send_arp_opts", true, "(compatibility only)"},
		{"send_arp_opts", false, "(compatibility only: floatip runs no ARP program)"},
	}
	for _, tt := range tests {
		if got := CompatibilityNote(tt.name, tt.brief); got != tt.want {
			t.Errorf("CompatibilityNote(%s, %v) = %q, want %q", tt.name, tt.brief, got, tt.want)
		}
	}
}
