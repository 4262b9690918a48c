package parity

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// ipaddr2Main is resource-agents' main branch IPaddr2, whose clone mode
// is built on nftables, and the library it runs with. It is set up
// outside the repository (never commit it: IPaddr2 is GPL), and
// /tmp/oracle.ready says it is there.
const (
	ipaddr2Main      = "/work/oracle/ipaddr2-main/IPaddr2"
	ipaddr2MainLib   = "OCF_FUNCTIONS_DIR=/work/oracle/ipaddr2-main/lib"
	ipaddr2MainReady = "/tmp/oracle.ready"
)

// cloneFactsFile holds what IPaddr2 of the main branch answered in each
// case of TestCloneParityWithIPaddr2Main: the facts floatip is held to
// where IPaddr2 main is not set up, as in CI.
const cloneFactsFile = "testdata/clone-ipaddr2-main.json"

// cloneParityStep is one action of a clone instance's life on one node.
type cloneParityStep struct {
	name, action string
	// instance is the clone number the step runs as; the resource's
	// instance is 0.
	instance int
	env      []string
}

var cloneParitySteps = []cloneParityStep{
	{"validate-all", "validate-all", 0, nil},
	{"probe", "monitor", 0, []string{"OCF_RESKEY_CRM_meta_interval=0"}},
	{"start", "start", 0, nil},
	{"monitor", "monitor", 0, []string{"OCF_RESKEY_CRM_meta_interval=10000"}},
	{"probe of instance 2 beside it", "monitor", 2, []string{"OCF_RESKEY_CRM_meta_interval=0"}},
	{"stop of instance 2 beside it", "stop", 2, nil},
	{"stop", "stop", 0, nil},
	{"stop again", "stop", 0, nil},
	{"monitor after stop", "monitor", 0, []string{"OCF_RESKEY_CRM_meta_interval=10000"}},
}

// cloneFacts is the facts file.
type cloneFacts struct {
	// Of and Measured say which IPaddr2 answered, and how; ScriptSHA256
	// is its script's, so that a rerun can tell a newer main.
	Of           string `json:"of"`
	Measured     string `json:"measured"`
	ScriptSHA256 string `json:"script_sha256"`
	// Steps names the steps, in the order of each case's codes.
	Steps []string    `json:"steps"`
	Cases []cloneCase `json:"cases"`
}

// cloneCase is one parameter set: IPaddr2's exit code at each step, and
// the steps where floatip differs on purpose (docs/compatibility.md),
// step -> {floatip, IPaddr2}.
type cloneCase struct {
	Name       string            `json:"name"`
	Why        string            `json:"why,omitempty"`
	Family     string            `json:"family"`
	Params     []string          `json:"params"`
	IPaddr2    []int             `json:"ipaddr2"`
	Deliberate map[string][2]int `json:"deliberate,omitempty"`
}

// loadCloneFacts reads the facts and checks that they fit the steps and
// agree with themselves: a pinned difference names a step, and IPaddr2's
// code in it is the recorded one.
func loadCloneFacts(t *testing.T) cloneFacts {
	t.Helper()
	b, err := os.ReadFile(cloneFactsFile)
	if err != nil {
		t.Fatal(err)
	}
	var f cloneFacts
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", cloneFactsFile, err)
	}
	var names []string
	for _, s := range cloneParitySteps {
		names = append(names, s.name)
	}
	if !slices.Equal(f.Steps, names) {
		t.Fatalf("%s: steps %q, the test runs %q", cloneFactsFile, f.Steps, names)
	}
	for _, c := range f.Cases {
		if len(c.IPaddr2) != len(names) {
			t.Fatalf("%s: case %q has %d codes for %d steps", cloneFactsFile, c.Name, len(c.IPaddr2), len(names))
		}
		if _, ok := cloneFamilies[c.Family]; !ok {
			t.Fatalf("%s: case %q: unknown family %q", cloneFactsFile, c.Name, c.Family)
		}
		for step, d := range c.Deliberate {
			i := slices.Index(names, step)
			if i < 0 {
				t.Fatalf("%s: case %q pins step %q, which the test does not run", cloneFactsFile, c.Name, step)
			}
			if d[1] != c.IPaddr2[i] {
				t.Fatalf("%s: case %q pins IPaddr2's %s at %d, its facts say %d", cloneFactsFile, c.Name, step, d[1], c.IPaddr2[i])
			}
		}
	}
	return f
}

// cloneFamilies are the families the facts name.
var cloneFamilies = map[string]labtest.CloneFamily{"IPv4": labtest.CloneIPv4, "IPv6": labtest.CloneIPv6}

// floatipWants is floatip's code at each step of c: IPaddr2's, but where
// c pins a difference.
func (c cloneCase) floatipWants() []int {
	want := slices.Clone(c.IPaddr2)
	for i, s := range cloneParitySteps {
		if d, ok := c.Deliberate[s.name]; ok {
			want[i] = d[0]
		}
	}
	return want
}

// TestCloneParityWithIPaddr2Main runs one instance of a load-shared clone
// with floatip, one case after the other on one node, and checks that it
// exits as IPaddr2 of resource-agents' main branch (with nft) does, as
// recorded in cloneFactsFile, but where docs/compatibility.md says
// otherwise (the facts pin it), and leaves nothing behind. Where IPaddr2
// main is set up (ipaddr2MainReady), it runs it too, one after floatip,
// and checks that it still gives the facts; with FLOATIP_PARITY_RECORD=1
// it prints what it answered instead, which is how the facts are written.
func TestCloneParityWithIPaddr2Main(t *testing.T) {
	facts := loadCloneFacts(t)
	if len(facts.Cases) < 9 {
		t.Fatalf("%s: %d cases, the suite promises at least 9", cloneFactsFile, len(facts.Cases))
	}
	_, err := os.Stat(ipaddr2MainReady)
	live := err == nil
	if !live {
		t.Logf("IPaddr2 of the main branch is not set up (%s): floatip is checked against the recorded facts alone", ipaddr2MainReady)
	} else if sum := fileSHA256(t, ipaddr2Main); sum != facts.ScriptSHA256 {
		t.Logf("%s is not the script the facts were measured with (sha256 %s, the facts' %s): rerun with FLOATIP_PARITY_RECORD=1 if it differs", ipaddr2Main, sum, facts.ScriptSHA256)
	}
	record := os.Getenv("FLOATIP_PARITY_RECORD") == "1"
	for _, c := range facts.Cases {
		t.Run(c.Name, func(t *testing.T) {
			f := cloneFamilies[c.Family]
			nodes, _, _ := labtest.CloneLab(t, f)
			n := nodes[0]
			got := runCloneSteps(t, n, f, labtest.Binary, c.Params)
			labtest.HoldsNothing(t, n, f, f.Spec())
			compareCloneCodes(t, "floatip", c.floatipWants(), got)
			if !live {
				return
			}
			got = runCloneSteps(t, n, f, ipaddr2Main, c.Params)
			resetShared(t, n, f)
			if record {
				b, _ := json.Marshal(got)
				t.Logf("measured %s:\n\t\"ipaddr2\": %s", c.Name, b)
				return
			}
			compareCloneCodes(t, "IPaddr2 main", c.IPaddr2, got)
		})
	}
}

// runCloneSteps runs cloneParitySteps with the agent at path on n, and
// returns the exit code of each; floatip's exit reasons must be one short
// line each.
func runCloneSteps(t *testing.T, n *lab.Host, f labtest.CloneFamily, path string, params []string) []int {
	t.Helper()
	r := &labtest.AgentRunner{T: t, Host: n, Path: path, Rsctmp: t.TempDir()}
	var codes []int
	for _, s := range cloneParitySteps {
		p := append(f.CloneParams(s.instance, "clusterip_firewall=nft", ipaddr2MainLib, "arp_bg=false"), params...)
		res := r.Run(s.action, append(p, s.env...)...)
		codes = append(codes, res.Code)
		if path == labtest.Binary {
			labtest.CheckReason(t, s.name, res)
		}
	}
	return codes
}

// compareCloneCodes fails the test at each step where who exited
// otherwise than want says.
func compareCloneCodes(t *testing.T, who string, want, got []int) {
	t.Helper()
	for i, s := range cloneParitySteps {
		if got[i] != want[i] {
			t.Errorf("%s: %s exited %d, want %d", s.name, who, got[i], want[i])
		}
	}
}

// fileSHA256 is the hex SHA-256 of the file at path.
func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// resetShared removes what IPaddr2 left of f's shared address on n, and
// logs it: its stop leaves the rules when the address is gone.
func resetShared(t *testing.T, n *lab.Host, f labtest.CloneFamily) {
	t.Helper()
	if got := labtest.NFTRules(t, n); len(got) > 0 {
		t.Logf("IPaddr2 left rules: %q", got)
		if out, err := exec.Command("ip", "netns", "exec", n.NS, "nft", "flush", "ruleset").CombinedOutput(); err != nil {
			t.Fatalf("nft flush ruleset: %v\n%s", err, out)
		}
	}
	for _, mac := range []string{f.Spec().MAC.String(), "01:00:5e:01:02:03"} {
		exec.Command("ip", "-n", n.NS, "maddr", "del", mac, "dev", n.Dev).Run()
	}
	if labtest.HasAddr(t, n, f.IP.String()) {
		t.Logf("IPaddr2 left %s", f.IP)
		n.IP("addr", "del", f.IP.String(), "dev", n.Dev)
	}
}
