package tests

import (
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/floatip/floatip/internal/doctor"
	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/tests/internal/labtest"
)

// TestDocs holds the docs to the binary, so that a doc that drifts fails
// here: the admin guide's exit reasons are what the binary prints, its
// parameter reference has every parameter of the meta-data with the
// meta-data's default, a default quoted anywhere matches, the Go release
// they name is go.mod's, and every relative link leads somewhere.
func TestDocs(t *testing.T) {
	t.Run("links", testDocLinks)
	t.Run("parameters", testDocParameters)
	t.Run("defaults", testDocDefaults)
	t.Run("exit reasons", testDocExitReasons)
	t.Run("doctor summaries", testDocDoctorSummaries)
	t.Run("go version", testDocGoVersion)
}

// goNewer is how the docs name the Go release that builds floatip.
var goNewer = regexp.MustCompile(`\bGo (1\.[0-9]+(?:\.[0-9]+)?) or newer`)

// testDocGoVersion: the Go release the docs say floatip builds with is
// the one go.mod asks for, so that a raise of go.mod cannot leave the
// README and the install page naming a release that no longer builds.
func testDocGoVersion(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go ([0-9.]+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	want := string(m[1])
	found := 0
	for _, f := range docFiles(t) {
		text := strings.Join(strings.Fields(strings.Join(prose(t, f), " ")), " ")
		for _, q := range goNewer.FindAllStringSubmatch(text, -1) {
			found++
			if q[1] != want {
				t.Errorf("%s: %q, but go.mod asks for go %s", f, q[0], want)
			}
		}
	}
	if found == 0 {
		t.Error("no \"Go <version> or newer\" was found in the docs: the pattern of this test no longer matches how they say it")
	}
}

// doctorSummary is the last line of floatip doctor's report.
var doctorSummary = regexp.MustCompile(`doctor: (\d+) OK, (\d+) WARN, (\d+) FAIL, (\d+) SKIP: exit (\d+)`)

// testDocDoctorSummaries: a report of floatip doctor quoted in the docs
// ends with the exit code that the doctor gives for its counts.
func testDocDoctorSummaries(t *testing.T) {
	found := 0
	for _, f := range docFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range doctorSummary.FindAllStringSubmatch(string(b), -1) {
			found++
			var fs []doctor.Finding
			for i, l := range []doctor.Level{doctor.OK, doctor.Warn, doctor.Fail, doctor.Skip} {
				n, _ := strconv.Atoi(m[i+1])
				for range n {
					fs = append(fs, doctor.Finding{Level: l, Check: "c", What: "w"})
				}
			}
			if want := strconv.Itoa(doctor.Print(io.Discard, fs).Code()); m[5] != want {
				t.Errorf("%s: %q, but the doctor exits %s for those counts", f, m[0], want)
			}
		}
	}
	if found == 0 {
		t.Error("no report of the doctor was found in the docs: the pattern of this test no longer matches it")
	}
}

// docFiles are the Markdown files of the tree that speak to readers: the
// top-level ones and everything under docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../*.md")
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir("../docs", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// prose is a Markdown file without its code: fenced and indented blocks
// go, so that a command's text is not read as a link or a heading.
func prose(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fenced := false
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fenced = !fenced
			continue
		}
		if fenced || strings.HasPrefix(l, "    ") || strings.HasPrefix(l, "\t") {
			out = append(out, "")
			continue
		}
		out = append(out, l)
	}
	return out
}

var (
	codeSpan = regexp.MustCompile("`[^`]*`")
	mdLink   = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading  = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*$`)
)

// anchors are the anchors GitHub makes of a file's headings: lower case,
// punctuation dropped, spaces as dashes, a repeat numbered.
func anchors(t *testing.T, path string) map[string]bool {
	seen := map[string]bool{}
	for _, l := range prose(t, path) {
		m := heading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || slugRune(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		for n := 1; seen[a]; n++ {
			a = fmt.Sprintf("%s-%d", b.String(), n)
		}
		seen[a] = true
	}
	return seen
}

// slugRune: the characters a heading keeps in its anchor, besides - and _.
func slugRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127
}

// testDocLinks: every relative link of the docs leads to a file or
// directory of the tree, and to a heading of it when it names one.
func testDocLinks(t *testing.T) {
	for _, f := range docFiles(t) {
		for i, l := range prose(t, f) {
			l = codeSpan.ReplaceAllString(l, "code")
			for _, m := range mdLink.FindAllStringSubmatch(l, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				where := fmt.Sprintf("%s:%d: link %s", f, i+1, target)
				path, anchor, _ := strings.Cut(target, "#")
				dest := f
				if path != "" {
					dest = filepath.Join(filepath.Dir(f), path)
					if _, err := os.Stat(dest); err != nil {
						t.Errorf("%s: %v", where, err)
						continue
					}
				}
				if anchor != "" && strings.HasSuffix(dest, ".md") && !anchors(t, dest)[anchor] {
					t.Errorf("%s: %s has no heading #%s", where, dest, anchor)
				}
			}
		}
	}
}

// mdParam is a parameter as the meta-data declares it.
type mdParam struct {
	Name       string `xml:"name,attr"`
	Required   string `xml:"required,attr"`
	Reloadable string `xml:"reloadable,attr"`
	Content    struct {
		Type    string `xml:"type,attr"`
		Default string `xml:"default,attr"`
	} `xml:"content"`
}

// osReleases are the two kinds of distribution whose defaults differ:
// the docs give the first, and the second where it differs.
var osReleases = [2]string{
	"ID=debian\nVERSION_ID=\"13\"\n",
	"ID=\"rhel\"\nVERSION_ID=\"9.4\"\n",
}

// metaData is the meta-data's parameters as the binary prints them to
// Pacemaker 2.1 and later (OCF 1.1, with reloadable), on each of
// osReleases: the binary runs in a mount namespace of its own where that
// text is /etc/os-release.
func metaData(t *testing.T) [2]map[string]mdParam {
	t.Helper()
	labtest.NeedRoot(t)
	unshare := labtest.NeedTool(t, "unshare")
	var out [2]map[string]mdParam
	for i, rel := range osReleases {
		f := filepath.Join(t.TempDir(), "os-release")
		if err := os.WriteFile(f, []byte(rel), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(unshare, "--mount", "--propagation", "private", "sh", "-c",
			`mount --bind "$1" /etc/os-release && exec "$2" meta-data`, "sh", f, labtest.Binary)
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=1"}
		xmlText, err := cmd.Output()
		if err != nil {
			t.Fatalf("meta-data under %q: %v", rel, err)
		}
		var doc struct {
			Params []mdParam `xml:"parameters>parameter"`
		}
		if err := xml.Unmarshal(xmlText, &doc); err != nil {
			t.Fatalf("read meta-data: %v", err)
		}
		out[i] = map[string]mdParam{}
		for _, p := range doc.Params {
			out[i][p.Name] = p
		}
	}
	return out
}

var (
	paramHeading = regexp.MustCompile("^### `([a-z0-9_]+)`$")
	backquoted   = regexp.MustCompile("`([^`]*)`")
)

// testDocParameters: the guide's parameter reference has a section for
// each parameter of the meta-data and for no other, and each section's
// "Default:" and "Changing it reloads/restarts" say what the meta-data
// says, also the default that depends on the distribution.
func testDocParameters(t *testing.T) {
	md := metaData(t)
	sections := map[string][]string{}
	var cur string
	for _, l := range prose(t, labtest.ParametersPage) {
		if m := paramHeading.FindStringSubmatch(l); m != nil {
			cur = m[1]
			if _, dup := sections[cur]; dup {
				t.Errorf("%s: two sections for %s", labtest.ParametersPage, cur)
			}
			sections[cur] = nil
			continue
		}
		if strings.HasPrefix(l, "#") {
			cur = ""
		}
		if cur != "" {
			sections[cur] = append(sections[cur], l)
		}
	}
	for name := range md[0] {
		if _, ok := sections[name]; !ok {
			t.Errorf("%s: no section for the parameter %s", labtest.ParametersPage, name)
		}
	}
	for name, body := range sections {
		p, ok := md[0][name]
		if !ok {
			t.Errorf("%s documents %s, which the meta-data does not declare", labtest.ParametersPage, name)
			continue
		}
		text := strings.Join(body, " ")
		checkDefaultLine(t, name, body, p, md[1][name])
		reloads, restarts := strings.Contains(text, "Changing it reloads"), strings.Contains(text, "Changing it restarts")
		if reloads == restarts || reloads != (p.Reloadable == "1") {
			t.Errorf("%s: %s must say \"Changing it reloads\" when the meta-data says reloadable, \"Changing it restarts\" otherwise (reloadable=%q)", labtest.ParametersPage, name, p.Reloadable)
		}
		checkCompatibilityMark(t, name, text)
	}
}

// checkCompatibilityMark: a section says "Compatibility only:" and why,
// as --help and the man page do, exactly when metadata.CompatibilityOnly
// marks the parameter.
func checkCompatibilityMark(t *testing.T, name, text string) {
	t.Helper()
	why, marked := metadata.CompatibilityOnly(name)
	text = strings.Join(strings.Fields(text), " ")
	switch {
	case marked && !strings.Contains(text, "Compatibility only: "+why+"."):
		t.Errorf("%s: %s lacks \"Compatibility only: %s.\"", labtest.ParametersPage, name, why)
	case !marked && strings.Contains(strings.ToLower(text), "compatibility only"):
		t.Errorf("%s: %s says compatibility only, but metadata.CompatibilityOnly does not mark it", labtest.ParametersPage, name)
	}
}

// checkDefaultLine checks a section's "Default:" line against the
// meta-data of osReleases: "none, required", "empty", or the default in
// backquotes, followed by the other distribution's in backquotes where
// it differs.
func checkDefaultLine(t *testing.T, name string, body []string, p, other mdParam) {
	t.Helper()
	i := slices.IndexFunc(body, func(l string) bool { return strings.HasPrefix(l, "Default:") })
	if i < 0 {
		t.Errorf("%s: %s has no line \"Default: ...\"", labtest.ParametersPage, name)
		return
	}
	line := body[i]
	vals := backquoted.FindAllStringSubmatch(line, -1)
	switch rest := strings.TrimSpace(strings.TrimPrefix(line, "Default:")); {
	case strings.HasPrefix(rest, "none, required"):
		if p.Required != "1" || p.Content.Default != "" {
			t.Errorf("%s: %s says %q; the meta-data says required=%q default=%q", labtest.ParametersPage, name, line, p.Required, p.Content.Default)
		}
	case strings.HasPrefix(rest, "empty"):
		if p.Content.Default != "" {
			t.Errorf("%s: %s says %q; the meta-data's default is %q", labtest.ParametersPage, name, line, p.Content.Default)
		}
	case len(vals) == 0 || vals[0][1] != p.Content.Default:
		t.Errorf("%s: %s says %q; the meta-data's default is %q", labtest.ParametersPage, name, line, p.Content.Default)
	case other.Content.Default != p.Content.Default && (len(vals) < 2 || vals[1][1] != other.Content.Default || !strings.Contains(line, "Red Hat")):
		t.Errorf("%s: %s says %q; on Red Hat based systems before 10.1 the meta-data's default is %q", labtest.ParametersPage, name, line, other.Content.Default)
	}
}

var (
	// "`name` (default `v`)", and "`name` announcements (default 5)":
	// a few words between, no other code span, and no end of a sentence
	// in between; the value with or without its backquotes.
	defaultParen = regexp.MustCompile("`([a-z0-9_]+)`[^`.;:()]{0,40}? \\(default (?:`([^`]*)`|([^`)]*))\\)")
	// "`name` is on by default", "`name` (on by default)": no other
	// code span, and no end of a sentence, in between.
	defaultOnOff = regexp.MustCompile("`([a-z0-9_]+)`[^`.;:]{0,40}?\\b(on|off) by default")
)

// testDocDefaults: a default that a doc quotes in prose, for a parameter
// of the meta-data, is the meta-data's default.
func testDocDefaults(t *testing.T) {
	md := metaData(t)
	found := 0
	for _, f := range docFiles(t) {
		text := strings.Join(strings.Fields(strings.Join(prose(t, f), " ")), " ")
		for _, m := range defaultParen.FindAllStringSubmatch(text, -1) {
			if p, ok := md[0][m[1]]; ok {
				found++
				if m[2]+m[3] != p.Content.Default {
					t.Errorf("%s: %q, but the meta-data's default of %s is %q", f, m[0], m[1], p.Content.Default)
				}
			}
		}
		for _, loc := range defaultOnOff.FindAllStringSubmatchIndex(text, -1) {
			m := []string{text[loc[0]:loc[1]], text[loc[2]:loc[3]], text[loc[4]:loc[5]]}
			if p, ok := md[0][m[1]]; ok {
				found++
				want := map[string]string{"on": "true", "off": "false"}[m[2]]
				if p.Content.Default != want {
					t.Errorf("%s: %q, but the meta-data's default of %s is %q", f, m[0], m[1], p.Content.Default)
				}
				// A default that depends on the distribution is said
				// with its exception, close by: an admin on the other
				// distribution would otherwise count on it. The
				// changelog's released sections stay as released.
				if other := md[1][m[1]]; other.Content.Default != p.Content.Default && filepath.Base(f) != "CHANGELOG.md" {
					if near := text[loc[0]:min(len(text), loc[1]+200)]; !strings.Contains(near, "Red Hat") {
						t.Errorf("%s: %q, but on Red Hat based systems before 10.1 the default of %s is %q, which the next words do not say", f, m[0], m[1], other.Content.Default)
					}
				}
			}
		}
	}
	if found == 0 {
		t.Errorf("no default quoted in the docs was found: the patterns of this test no longer match how the docs say them")
	}
}
