// Command modcheck says when a module the build names is behind: a
// direct dependency in go.mod, or a tool that the Makefile pins by version
// (staticcheck, nfpm), given as module@version arguments, and with -strict
// fails. make lint runs it and only warns, so that a release upstream does
// not turn a tree red that was green a minute earlier;
// make lint MODCHECK=strict fails:
//
//	go run ./tools/modcheck honnef.co/go/tools@v0.8.2
//
// It asks the go command (go list -m -u -json), which asks the module
// proxy for the newest release. It needs the proxy: when the go command
// cannot reach it, or GOPROXY=off, modcheck fails and says so rather than
// pass without having looked, as CI always has the proxy. Offline,
// make lint MODCHECK=off skips it.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// module is what go list -m -json says of one module, the fields that
// modcheck reads.
type module struct {
	Path     string
	Version  string
	Main     bool
	Indirect bool
	Update   *struct{ Version string }
	Error    *struct{ Err string }
}

func main() {
	gocmd := flag.String("go", "go", "the go command")
	strict := flag.Bool("strict", false, "fail when a module is behind, rather than warn")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: modcheck [-go go] [-strict] [module@version ...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	behind, err := check(*gocmd, flag.Args())
	if err != nil {
		fmt.Fprintf(os.Stderr, "modcheck: %v\n", err)
		os.Exit(1)
	}
	for _, b := range behind {
		fmt.Fprintf(os.Stderr, "modcheck: %s\n", b)
	}
	if len(behind) > 0 {
		fmt.Fprintf(os.Stderr, "modcheck: %d module(s) behind: go get them (and go mod tidy), or raise the Makefile's pin\n", len(behind))
		if *strict {
			os.Exit(1)
		}
	}
}

// check lists go.mod's direct dependencies and the pinned tools, and
// returns one line for each that is behind.
func check(gocmd string, pinned []string) ([]string, error) {
	proxy, err := output(gocmd, "env", "GOPROXY")
	if err != nil {
		return nil, err
	}
	if p := strings.TrimSpace(string(proxy)); p == "off" || p == "" {
		// go list -u then reports every module as current.
		return nil, fmt.Errorf("GOPROXY=%s: cannot learn the newest versions without the module proxy (make lint MODCHECK=off skips this check)", p)
	}
	// The direct dependencies, read from go.mod without the proxy; then
	// the proxy is asked about them and the tools only, not about the
	// whole module graph.
	direct, err := output(gocmd, "list", "-m", "-f", "{{if not (or .Main .Indirect)}}{{.Path}}{{end}}", "all")
	if err != nil {
		return nil, err
	}
	args := append([]string{"list", "-m", "-u", "-json"}, strings.Fields(string(direct))...)
	mods, err := output(gocmd, append(args, pinned...)...)
	if err != nil {
		return nil, err
	}
	tools := map[string]bool{}
	for _, p := range pinned {
		path, _, _ := strings.Cut(p, "@")
		tools[path] = true
	}
	return behindOf(bytes.NewReader(mods), tools)
}

// output runs the go command and returns its standard output; its
// standard error becomes the error.
func output(gocmd string, args ...string) ([]byte, error) {
	cmd := exec.Command(gocmd, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s (make lint needs the module proxy; MODCHECK=off skips this check)",
			gocmd, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// behindOf reads go list -m -u -json's stream of modules and returns a
// line for each one behind, naming tools (by module path) as pinned by
// the Makefile. The main module and indirect dependencies are passed
// over: go mod tidy keeps the indirect ones as the direct ones need. A
// module the go command could not look up is an error, not a pass.
func behindOf(r io.Reader, tools map[string]bool) ([]string, error) {
	var out []string
	var errs []error
	for d := json.NewDecoder(r); ; {
		var m module
		if err := d.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("read go list's modules: %w", err)
		}
		if m.Main || m.Indirect {
			continue
		}
		if m.Error != nil {
			errs = append(errs, fmt.Errorf("look up %s: %s", m.Path, m.Error.Err))
			continue
		}
		if m.Update != nil && m.Update.Version != m.Version {
			kind := "go.mod requires"
			if tools[m.Path] {
				kind = "the Makefile pins"
			}
			out = append(out, fmt.Sprintf("%s: %s %s, the newest is %s", m.Path, kind, m.Version, m.Update.Version))
		}
	}
	return out, errors.Join(errs...)
}
