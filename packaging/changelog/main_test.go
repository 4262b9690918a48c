package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const sample = `# Changelog

Preamble, left out.

## [Unreleased]

### Fixed

- A fix that is not released yet.

## [1.1.0-rc.1] - 2026-12-20

### Added

- One thing,
  on two lines.
- Another.

### Fixed

- A bug.

## [1.0.0] - 2026-12-02

The first release.

[Unreleased]: https://example.com/compare/v1.1.0-rc.1...HEAD
[1.0.0]: https://example.com/releases/tag/v1.0.0
`

func TestParse(t *testing.T) {
	got, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := []release{
		{Version: "Unreleased", Items: []item{{Kind: "Fixed", Text: "A fix that is not released yet."}}},
		{Version: "1.1.0-rc.1", Date: time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC), Items: []item{
			{Kind: "Added", Text: "One thing, on two lines."},
			{Kind: "Added", Text: "Another."},
			{Kind: "Fixed", Text: "A bug."},
		}},
		{Version: "1.0.0", Date: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), Items: []item{{Text: "The first release."}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parse (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ name, text string }{
		{"no date", "## [1.0.0]\n\n- x\n"},
		{"bad heading", "## 1.0.0 - 2026-12-02\n"},
		{"bad date", "## [1.0.0] - 2026-13-02\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parse(strings.NewReader(tt.text)); err == nil {
				t.Errorf("parse(%q) succeeded", tt.text)
			}
		})
	}
}

func TestDeb(t *testing.T) {
	rels, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	built := time.Date(2026, 12, 21, 10, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		name, version, upstream string
		want                    string // the first line
		entries                 int
	}{
		{"release", "1.1.0~rc.1", "1.1.0-rc.1", "floatip (1.1.0~rc.1) unstable; urgency=medium", 2},
		{"snapshot", "1.1.0~rc.1+3.gabc1234", "1.1.0-rc.1-3-gabc1234", "floatip (1.1.0~rc.1+3.gabc1234) UNRELEASED; urgency=medium", 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			es, err := entries(rels, tt.version, tt.upstream, built)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := writeDeb(&b, es); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if first, _, _ := strings.Cut(out, "\n"); first != tt.want {
				t.Errorf("first line %q, want %q", first, tt.want)
			}
			if n := strings.Count(out, "\n -- "+maintainer+"  "); n != tt.entries {
				t.Errorf("%d entries, want %d:\n%s", n, tt.entries, out)
			}
			for _, l := range strings.Split(out, "\n") {
				// lintian measures the lines of changes, not the trailer.
				if strings.HasPrefix(l, "  ") && len(l) > 80 {
					t.Errorf("line longer than 80 characters (lintian: debian-changelog-line-too-long): %q", l)
				}
			}
			if tt.name == "snapshot" {
				for _, want := range []string{"Built from 1.1.0-rc.1-3-gabc1234", "A fix that is not released yet.", "Mon, 21 Dec 2026 10:30:00 +0000"} {
					if !strings.Contains(out, want) {
						t.Errorf("no %q in the snapshot's changelog:\n%s", want, out)
					}
				}
			}
		})
	}
	// A release that is not the newest must not be packaged as if it were.
	if _, err := entries(rels, "1.0.0", "1.0.0", built); err == nil {
		t.Error("entries for the old release 1.0.0 succeeded")
	}
}

func TestChglog(t *testing.T) {
	rels, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	es, err := entries(rels, "1.1.0~rc.1", "1.1.0-rc.1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := writeChglog(&b, es); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`- semver: "1.1.0~rc.1-1"`, "  date: 2026-12-20T00:00:00Z", `  - note: "Added: One thing, on two lines."`, `- semver: "1.0.0-1"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in:\n%s", want, b.String())
		}
	}
}

func TestPkgVersion(t *testing.T) {
	for in, want := range map[string]string{
		"1.0.0":            "1.0.0",
		"1.0.0-rc.1":       "1.0.0~rc.1",
		"1.0.0-rc-1":       "1.0.0~rc.1",
		"1.0.0-rc.1+b-5":   "1.0.0~rc.1+b.5",
		"1.0.0+build.2026": "1.0.0+build.2026",
	} {
		if got := pkgVersion(in); got != want {
			t.Errorf("pkgVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestChangelogFile checks the project's own CHANGELOG.md: it parses, its
// newest release is a dated semantic version, and it names no issue
// numbers (its readers have no tracker of this project to look them up in).
func TestChangelogFile(t *testing.T) {
	b, err := os.ReadFile("../../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	rels, err := parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var newest *release
	for i := range rels {
		if !rels[i].Date.IsZero() {
			newest = &rels[i]
			break
		}
	}
	if newest == nil {
		t.Fatal("CHANGELOG.md has no release")
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`).MatchString(newest.Version) {
		t.Errorf("newest release %q is no semantic version", newest.Version)
	}
	if m := regexp.MustCompile(`(^|[\s(])#\d+`).Find(b); m != nil {
		t.Errorf("CHANGELOG.md names an issue number: %q", m)
	}
}
