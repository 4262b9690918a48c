package main

import (
	"os"
	"runtime/debug"
	"time"
)

// version and date are set at build time, with
// -ldflags "-X main.version=1.2.3 -X main.date=2025-01-31": version names
// the build in floatip version, in the meta-data and in the man page;
// date is the release date the man page carries.
var (
	version = "dev"
	date    = ""
)

// manDate is the man page's date: the build's date when it is one, else
// the date of the commit the binary was built from (go build records it
// when it builds in a git work tree), else the day the binary was
// written. A man page without a date reads as a broken one.
func manDate() string {
	var vcsTime string
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.time" {
				vcsTime = s.Value
			}
		}
	}
	var built time.Time
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			built = fi.ModTime()
		}
	}
	return releaseDate(date, vcsTime, built, time.Now())
}

// releaseDate picks the first of set (YYYY-MM-DD), vcsTime (RFC 3339),
// built and now that is a date, as YYYY-MM-DD in UTC.
func releaseDate(set, vcsTime string, built, now time.Time) string {
	const layout = "2006-01-02"
	if _, err := time.Parse(layout, set); err == nil {
		return set
	}
	if t, err := time.Parse(time.RFC3339, vcsTime); err == nil {
		return t.UTC().Format(layout)
	}
	if !built.IsZero() {
		return built.UTC().Format(layout)
	}
	return now.UTC().Format(layout)
}
