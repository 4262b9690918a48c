package main

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

// fuzzActions are the actions FuzzRun drives. None of them changes the
// system: validate-all only reads the node's links, addresses and routes.
// start, stop, monitor, status and announce are left out, and since the
// action is the first argument, no fuzzed argument can become one.
var fuzzActions = []string{"validate-all", "meta-data", "usage", "help", "version", "man", "completion"}

// FuzzRun drives the metadata-driven command line with arbitrary
// arguments after a fixed action: every parameter flag, --help, unknown
// flags, "--", stray words, values of any bytes. Whatever the arguments,
// run must return (no panic), with a status the action can have, print the
// XML alone for meta-data, and print exactly one exit reason, a single
// line, when and only when it fails.
func FuzzRun(f *testing.F) {
	md := metadata.Declared()
	// The seeds in testdata/fuzz/FuzzRun cover each flag; these are
	// the basic shapes.
	f.Add(uint8(0), "--ip\x00198.18.0.100\x00--cidr_netmask\x0024")
	f.Add(uint8(0), "--ip=2001:db8::100\x00--nic\x00eth0")
	f.Add(uint8(1), "--help")
	f.Add(uint8(2), "--colour\x00red")
	f.Add(uint8(3), "doctor")
	f.Add(uint8(6), "bash")
	f.Add(uint8(0), "--nodad\x00no\x00--ip\x00198.18.0.100")
	f.Fuzz(func(t *testing.T, which uint8, args string) {
		action := fuzzActions[int(which)%len(fuzzActions)]
		argv := []string{"/usr/lib/ocf/resource.d/floatip/IPaddr2", action}
		if args != "" {
			argv = append(argv, strings.Split(args, "\x00")...)
		}
		// OCF_TRACE_RA=0 overrides a trace_ra flag, which would let the
		// fuzzer append to any path on the machine.
		env := []string{"OCF_RESOURCE_INSTANCE=fuzz", "OCF_RESKEY_CRM_meta_timeout=5000", "OCF_TRACE_RA=0"}
		var stdout, stderr bytes.Buffer
		st := run(argv, env, &stdout, &stderr)

		allowed := []ocf.Status{ocf.Success, ocf.ErrArgs}
		if action == "validate-all" {
			// OCF_ERR_INSTALLED: a network_namespace that this node
			// does not have.
			allowed = append(allowed, ocf.ErrGeneric, ocf.ErrConfigured, ocf.ErrInstalled)
		}
		if !containsStatus(allowed, st) {
			t.Fatalf("%s %q: status %v\nstderr: %s", action, args, st, stderr.String())
		}
		// Every line is a log line or an exit reason, valid UTF-8 without
		// control characters or what XML refuses: a value with a line
		// break or control bytes, also in pflag's own error text, cannot
		// start a line of its own or garble the one line Pacemaker keeps.
		reasons := 0
		for _, line := range strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n") {
			if !utf8.ValidString(line) || strings.ContainsFunc(line, func(r rune) bool { return unicode.IsControl(r) || r == 0xfffe || r == 0xffff }) {
				t.Errorf("%s %q: stderr line %q is not UTF-8 free of control characters", action, args, line)
			}
			switch {
			case line == "" && stderr.Len() == 0:
			case strings.HasPrefix(line, "ocf-exit-reason:"):
				reasons++
				if line == "ocf-exit-reason:" {
					t.Errorf("%s %q: empty exit reason", action, args)
				}
			case !strings.HasPrefix(line, "IPaddr2(fuzz)["):
				t.Errorf("%s %q: stderr line %q is neither a log line nor an exit reason", action, args, line)
			}
		}
		if st == ocf.Success && reasons != 0 || st != ocf.Success && reasons != 1 {
			t.Errorf("%s %q: status %v with %d exit reasons:\n%s", action, args, st, reasons, stderr.String())
		}
		if st != ocf.Success {
			return
		}
		out := stdout.String()
		switch {
		case strings.HasPrefix(out, "usage: ") && strings.Contains(out, "{start|"):
			// usage, help, or any action with --help or -h.
			for _, p := range md.Parameters {
				if !strings.Contains(out, "--"+p.Name+" ") {
					t.Fatalf("%s %q: usage lacks --%s", action, args, p.Name)
				}
			}
		case out == "floatip "+version+"\n":
			// version, or any action with --version or -V.
		case strings.HasPrefix(out, "usage: IPaddr2 "):
			// help <action>, or <action> --help: the action is one of the
			// commands, and the one asked for.
			name, _, _ := strings.Cut(strings.TrimPrefix(out, "usage: IPaddr2 "), " ")
			if _, ok := lookupCommand(name); !ok {
				t.Fatalf("%s %q explained %q, which is no action", action, args, name)
			}
			if action != "help" && name != action {
				t.Fatalf("%s %q explained %q", action, args, name)
			}
		case action == "usage" || action == "help":
			t.Fatalf("%s %q printed no usage: %q", action, args, out)
		case action == "meta-data":
			if want := metadata.WithVersion(metadata.XML, version); !bytes.Equal(stdout.Bytes(), want) {
				t.Fatalf("meta-data %q printed more or less than the XML:\n%s", args, out)
			}
		case action == "version":
			t.Fatalf("version %q printed %q", args, out)
		case action == "validate-all":
			if stdout.Len() != 0 {
				t.Fatalf("validate-all %q printed %q on stdout", args, out)
			}
		case action == "completion":
			if !strings.Contains(out, "complete -F _floatip ") {
				t.Fatalf("completion %q printed %q", args, out)
			}
		case action == "man":
			if !strings.HasPrefix(out, ".TH FLOATIP 8 ") {
				t.Fatalf("man %q printed %.200q", args, out)
			}
		}
	})
}

func containsStatus(s []ocf.Status, st ocf.Status) bool {
	for _, v := range s {
		if v == st {
			return true
		}
	}
	return false
}
