// Command changelog turns CHANGELOG.md (Keep a Changelog) into the
// changelogs that the packages carry: the Debian changelog that
// /usr/share/doc/floatip/changelog.gz holds, and the chglog YAML from which
// nfpm writes the RPM's %changelog. The Makefile runs it:
//
//	go run ./packaging/changelog -format deb -version 0.9.0+3.gabc1234 -upstream 0.9.0-3-gabc1234 -date 1796169600 CHANGELOG.md
//
// Each release of CHANGELOG.md becomes one entry. A build that is no
// release (upstream is not a heading of CHANGELOG.md) gets an UNRELEASED
// entry of its own on top, with the Unreleased section's changes, so that
// the newest entry always names the package's version, as dpkg and rpm
// tools expect.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

// Maintainer is the packages' maintainer, as packaging/nfpm.yaml names it.
const maintainer = "floatip maintainers <floatip@users.noreply.github.com>"

// Release is one section of CHANGELOG.md.
type release struct {
	Version string    // as in the heading; "Unreleased" for that section
	Date    time.Time // zero for Unreleased
	Items   []item
}

// Item is a paragraph of a release, or an item of one of its lists.
type item struct {
	Kind string // the list's heading ("Added", "Fixed"); "" for a paragraph
	Text string // its lines joined
}

var (
	headingRE = regexp.MustCompile(`^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?\s*$`)
	kindRE    = regexp.MustCompile(`^### (.+?)\s*$`)
	linkRE    = regexp.MustCompile(`^\[[^\]]+\]: `)
)

// parse reads the sections of a Keep a Changelog file, newest first as the
// file has them. Text before the first section (the preamble) is left out.
func parse(r io.Reader) ([]release, error) {
	var (
		rels []release
		kind string
		cur  *item // the item being read, continued by the lines after it
	)
	end := func() {
		if cur != nil && len(rels) > 0 {
			rel := &rels[len(rels)-1]
			rel.Items = append(rel.Items, *cur)
		}
		cur = nil
	}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "## "):
			end()
			m := headingRE.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("line %d: a release heading is ## [version] - YYYY-MM-DD: %q", n, line)
			}
			rel := release{Version: m[1]}
			if m[2] != "" {
				d, err := time.Parse(time.DateOnly, m[2])
				if err != nil {
					return nil, fmt.Errorf("line %d: %w", n, err)
				}
				rel.Date = d
			} else if m[1] != "Unreleased" {
				return nil, fmt.Errorf("line %d: release %s has no date", n, m[1])
			}
			rels = append(rels, rel)
			kind = ""
		case len(rels) == 0 || linkRE.MatchString(line):
		case kindRE.MatchString(line):
			end()
			kind = kindRE.FindStringSubmatch(line)[1]
		case trimmed == "":
			end()
		case strings.HasPrefix(line, "- "):
			end()
			cur = &item{Kind: kind, Text: strings.TrimSpace(line[2:])}
		case cur != nil:
			cur.Text += " " + trimmed
		default:
			// A paragraph: its lines make one item.
			cur = &item{Text: trimmed}
		}
	}
	end()
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return rels, nil
}

// pkgVersion maps a version of CHANGELOG.md to the packages' version, as
// packaging/version.sh deb does for a version without git describe's
// suffix: the pre-release after "~", no "-".
func pkgVersion(v string) string {
	core, meta, hasMeta := strings.Cut(v, "+")
	core, pre, hasPre := strings.Cut(core, "-")
	if hasPre {
		core += "~" + strings.ReplaceAll(pre, "-", ".")
	}
	if hasMeta {
		core += "+" + strings.ReplaceAll(meta, "-", ".")
	}
	return core
}

// entry is one entry of the packages' changelogs.
type entry struct {
	version, dist string
	date          time.Time
	items         []item
}

// entries makes the packages' changelog entries from the releases: version
// is the package's version, upstream the VERSION it was made from, date
// the time of the build's source (for an UNRELEASED entry).
func entries(rels []release, version, upstream string, date time.Time) ([]entry, error) {
	var out []entry
	var unreleased []item
	isRelease := false
	for _, r := range rels {
		if r.Date.IsZero() {
			unreleased = r.Items
			continue
		}
		if r.Version == upstream {
			isRelease = true
		}
		if len(r.Items) == 0 {
			return nil, fmt.Errorf("release %s says nothing", r.Version)
		}
		out = append(out, entry{version: pkgVersion(r.Version), dist: "unstable", date: r.Date, items: r.Items})
	}
	if isRelease {
		if out[0].version != version {
			return nil, fmt.Errorf("%s is a release but not the newest one of CHANGELOG.md, %s", upstream, out[0].version)
		}
		return out, nil
	}
	items := append([]item{{Text: fmt.Sprintf("Built from %s, which is not a release.", upstream)}}, unreleased...)
	return append([]entry{{version: version, dist: "UNRELEASED", date: date, items: items}}, out...), nil
}

// wrap breaks text into lines of at most width characters (a longer word
// stays whole), the first with first as prefix and the rest with indent.
func wrap(text, first, indent string, width int) string {
	var b strings.Builder
	line := first
	empty := true
	for _, w := range strings.Fields(text) {
		if !empty && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line, empty = indent, true
		}
		if !empty {
			line += " "
		}
		line += w
		empty = false
	}
	b.WriteString(line + "\n")
	return b.String()
}

// writeDeb writes the entries in the format of debian/changelog (Debian
// Policy 4.4), lines within 80 characters, which lintian checks.
func writeDeb(w io.Writer, es []entry) error {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "floatip (%s) %s; urgency=medium\n\n", e.version, e.dist)
		kind := ""
		for _, it := range e.items {
			switch {
			case it.Kind == "":
				b.WriteString(wrap(it.Text, "  * ", "    ", 78))
			case it.Kind != kind:
				b.WriteString("  * " + it.Kind + ":\n")
				fallthrough
			default:
				b.WriteString(wrap(it.Text, "    - ", "      ", 78))
			}
			kind = it.Kind
		}
		fmt.Fprintf(&b, "\n -- %s  %s\n", maintainer, e.date.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeChglog writes the entries as the chglog YAML that nfpm reads for
// the RPM's %changelog. rpmlint wants the newest entry to name
// Version-Release, so each version gets the Release 1 of the RPMs. YAML
// takes JSON's strings, so the notes are quoted by encoding/json.
func writeChglog(w io.Writer, es []entry) error {
	var b strings.Builder
	for _, e := range es {
		sv, _ := json.Marshal(e.version + "-1")
		pk, _ := json.Marshal(maintainer)
		fmt.Fprintf(&b, "- semver: %s\n  date: %s\n  packager: %s\n  changes:\n", sv, e.date.UTC().Format(time.RFC3339), pk)
		for _, it := range e.items {
			text := it.Text
			if it.Kind != "" {
				text = it.Kind + ": " + text
			}
			note, _ := json.Marshal(text)
			fmt.Fprintf(&b, "  - note: %s\n", note)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("changelog", flag.ContinueOnError)
	format := fs.String("format", "deb", "deb (a Debian changelog) or rpm (chglog YAML for nfpm)")
	version := fs.String("version", "", "the package's version (packaging/version.sh deb)")
	upstream := fs.String("upstream", "", "the VERSION it was made from")
	epoch := fs.Int64("date", 0, "the time of the source, in seconds since 1970 (SOURCE_DATE_EPOCH), for a build that is no release")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *version == "" || *upstream == "" {
		return errors.New("usage: changelog -format deb|rpm -version V -upstream U [-date EPOCH] CHANGELOG.md")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	rels, err := parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	es, err := entries(rels, *version, *upstream, time.Unix(*epoch, 0))
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	switch *format {
	case "deb":
		return writeDeb(stdout, es)
	case "rpm":
		return writeChglog(stdout, es)
	default:
		return fmt.Errorf("unknown format %q: deb or rpm", *format)
	}
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "changelog:", err)
		os.Exit(1)
	}
}
