package metadata

import (
	"bytes"
	"os/exec"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFaces: the OCF 1.1 face differs from the 1.0 document only by its
// version, the reloadable marks on exactly the Reloadable parameters, the
// reload-agent action, and ip's unique group.
func TestFaces(t *testing.T) {
	old, err := Parse(XML)
	if err != nil {
		t.Fatal(err)
	}
	face, err := Parse(XML11(XML))
	if err != nil {
		t.Fatal(err)
	}
	if old.OCFVersion != "1.0" || face.OCFVersion != "1.1" {
		t.Errorf("versions %q and %q, want 1.0 and 1.1", old.OCFVersion, face.OCFVersion)
	}
	var marked []string
	for i := range face.Parameters {
		if face.Parameters[i].Reloadable {
			marked = append(marked, face.Parameters[i].Name)
			face.Parameters[i].Reloadable = false
		}
	}
	want := Reloadable()
	slices.Sort(want)
	slices.Sort(marked)
	if diff := cmp.Diff(want, marked); diff != "" {
		t.Errorf("reloadable parameters (-want +got):\n%s", diff)
	}
	for i := range face.Parameters {
		p := &face.Parameters[i]
		if want := map[bool]string{true: "ip"}[p.Name == "ip"]; p.UniqueGroup != want {
			t.Errorf("%s: unique group %q, want %q", p.Name, p.UniqueGroup, want)
		}
		p.UniqueGroup = ""
	}
	reload := Action{Name: "reload-agent", Timeout: ReloadAgentTimeout}
	if !slices.Contains(face.Actions, reload) {
		t.Errorf("the 1.1 face lacks %+v", reload)
	}
	face.Actions = slices.DeleteFunc(face.Actions, func(a Action) bool { return a == reload })
	face.OCFVersion = old.OCFVersion
	if diff := cmp.Diff(old, face); diff != "" {
		t.Errorf("the faces differ beyond the OCF 1.1 marks (-1.0 +1.1):\n%s", diff)
	}
	for _, name := range Reloadable() {
		if _, ok := old.Parameter(name); !ok {
			t.Errorf("reloadable parameter %s is not declared", name)
		}
	}
}

// TestPcsRelaxNG11 is what pcs checks when the meta-data says 1.1.
func TestPcsRelaxNG11(t *testing.T) {
	const rng = "/usr/share/pcs/data/ocf-1.1.rng"
	need(t, rng)
	cmd := exec.Command("xmllint", "--noout", "--relaxng", rng, "-")
	cmd.Stdin = bytes.NewReader(XML11(XML))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xmllint --relaxng: %v\n%s", err, out)
	}
}

// TestWithVersion: the agent's version attribute becomes the binary's,
// escaped, and nothing else of the document changes, in either face.
func TestWithVersion(t *testing.T) {
	tests := []struct {
		name    string
		doc     []byte
		version string
		want    string
	}{
		{name: "a release", doc: XML, version: "1.2.3", want: "1.2.3"},
		{name: "a build from git", doc: XML, version: "v0.3.0-4-gdeadbee-dirty", want: "v0.3.0-4-gdeadbee-dirty"},
		{name: "the default of a build without ldflags", doc: XML, version: "dev", want: "dev"},
		{name: "the OCF 1.1 face", doc: XML11(XML), version: "1.2.3", want: "1.2.3"},
		{name: "characters an attribute must escape", doc: XML, version: `1"<&2`, want: `1"<&2`},
		{name: "empty keeps the XML's", doc: XML, version: "", want: generated().Version},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := WithVersion(tt.doc, tt.version)
			got, err := Parse(doc)
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != tt.want {
				t.Errorf("version %q, want %q", got.Version, tt.want)
			}
			// Only the version differs: the OCF version, the parameters
			// and the actions are the document's.
			old, err := Parse(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			got.Version = old.Version
			if diff := cmp.Diff(old, got); diff != "" {
				t.Errorf("beyond the version (-doc +with version):\n%s", diff)
			}
		})
	}
	if got := WithVersion([]byte("<resource-agent name=\"x\">\n"), "1.0"); string(got) != "<resource-agent name=\"x\">\n" {
		t.Errorf("a document without a version attribute became %q", got)
	}
	if generated().Version == "" || !bytes.Contains(XML, []byte(`<resource-agent name="IPaddr2" version="`+generated().Version+`"`)) {
		t.Errorf("the XML's version %q is not where WithVersion looks for it", generated().Version)
	}
}
