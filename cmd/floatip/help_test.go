package main

import (
	"strings"
	"testing"

	"github.com/floatip/floatip/metadata"
)

// TestCompatibilityMarks: --help and the man page mark exactly the
// parameters that metadata.CompatibilityOnly names, the man page with
// why, so that an admin sees which settings change nothing in floatip.
func TestCompatibilityMarks(t *testing.T) {
	md := metadata.Declared()
	_, help, _ := runArgs(nil, "--help")
	page := manPage(md, md.Defaults(), "2025-01-31")
	marked := 0
	for _, p := range md.Parameters {
		why, want := metadata.CompatibilityOnly(p.Name)
		if want {
			marked++
		}
		line := helpLine(help, p.Name)
		if got := strings.Contains(line, "(compatibility only)"); got != want {
			t.Errorf("--help marks %s as compatibility only: %v, want %v: %q", p.Name, got, want, line)
		}
		entry := manEntry(page, p.Name)
		if got := strings.Contains(entry, roff("compatibility only")); got != want {
			t.Errorf("the man page marks %s as compatibility only: %v, want %v: %q", p.Name, got, want, entry)
		}
		if want && !strings.Contains(entry, roff("(compatibility only: "+why+")")) {
			t.Errorf("the man page does not say why %s is compatibility only: %q", p.Name, entry)
		}
	}
	if marked == 0 {
		t.Error("no parameter is compatibility only: the table is empty")
	}
}

// helpLine is the line of --help that lists the parameter name.
func helpLine(help, name string) string {
	for _, l := range strings.Split(help, "\n") {
		if strings.HasPrefix(l, "  --"+name+" ") {
			return l
		}
	}
	return ""
}

// manEntry is the man page's paragraph of the parameter name: its tag and
// the line under it.
func manEntry(page, name string) string {
	tag := ".BI \\-\\-" + roff(name) + " "
	_, rest, ok := strings.Cut(page, tag)
	if !ok {
		return ""
	}
	lines := strings.SplitN(rest, "\n", 3)
	return strings.Join(lines[:min(2, len(lines))], "\n")
}
