package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/floatip/floatip/internal/agent"
	"github.com/floatip/floatip/internal/config"
	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

const agentPath = "/usr/lib/ocf/resource.d/floatip/IPaddr2"

// runArgs runs the command line as installed for Pacemaker.
func runArgs(env []string, args ...string) (ocf.Status, string, string) {
	var stdout, stderr bytes.Buffer
	st := run(append([]string{agentPath}, args...), env, &stdout, &stderr)
	return st, stdout.String(), stderr.String()
}

func TestRun(t *testing.T) {
	xml := string(metadata.WithVersion(metadata.XML, version))
	tests := []struct {
		name        string
		args        []string
		env         []string
		want        ocf.Status
		stdout      string
		stderr      string
		exactStdout bool
	}{
		{name: "meta-data is the XML alone, with the version", args: []string{"meta-data"}, env: []string{"HA_debug=1", "HA_LOGFACILITY=daemon"}, want: ocf.Success, stdout: xml, exactStdout: true},
		{name: "usage", args: []string{"usage"}, want: ocf.Success, stdout: "usage: IPaddr2 {start|stop"},
		{name: "--help lists parameters", args: []string{"--help"}, want: ocf.Success, stdout: "--arp_count int"},
		{name: "-h after an action is its help", args: []string{"start", "-h"}, want: ocf.Success, stdout: "usage: IPaddr2 start [--parameter value ...]\n\nstart: "},
		{name: "--help after an action is its help", args: []string{"doctor", "--help"}, want: ocf.Success, stdout: "usage: IPaddr2 doctor [--parameter value ...]\n\ndoctor: check this node"},
		{name: "--help after help is help's", args: []string{"help", "--help"}, want: ocf.Success, stdout: "usage: IPaddr2 {start|stop"},
		{name: "--help after an unknown word is the whole help", args: []string{"promote", "--help"}, want: ocf.Success, stdout: "usage: IPaddr2 {start|stop"},
		{name: "help names actions", args: []string{"help"}, want: ocf.Success, stdout: "validate-all"},
		{name: "help explains an action", args: []string{"help", "doctor"}, want: ocf.Success, stdout: "usage: IPaddr2 doctor [--parameter value ...]\n\ndoctor: check this node"},
		{name: "help of an unknown action", args: []string{"help", "frobnicate"}, want: ocf.ErrArgs, stderr: `ocf-exit-reason:help: unknown action "frobnicate": the actions are start, stop,`},
		{name: "help takes one action", args: []string{"help", "start", "stop"}, want: ocf.ErrArgs, stderr: `ocf-exit-reason:unexpected argument "stop": help takes one argument, [action]` + "\n"},
		{name: "completion takes one shell", args: []string{"completion", "bash", "zsh"}, want: ocf.ErrArgs, stderr: `ocf-exit-reason:unexpected argument "zsh": completion takes one argument, bash` + "\n"},
		{name: "version", args: []string{"version"}, want: ocf.Success, stdout: "floatip " + version + "\n", exactStdout: true},
		{name: "--version", args: []string{"--version"}, want: ocf.Success, stdout: "floatip " + version + "\n", exactStdout: true},
		{name: "-V", args: []string{"-V"}, want: ocf.Success, stdout: "floatip " + version + "\n", exactStdout: true},
		{name: "no action", args: nil, want: ocf.ErrArgs, stderr: "usage:"},
		{name: "no action ends with its reason", args: []string{"--ip", "198.18.0.100"}, want: ocf.ErrArgs,
			stderr: "\nocf-exit-reason:no action given: IPaddr2 help lists them, IPaddr2 help <action> explains one\n"},
		{name: "unknown flag", args: []string{"start", "--colour", "red"}, want: ocf.ErrArgs, stderr: "ocf-exit-reason:unknown flag: --colour"},
		{name: "unknown action", args: []string{"promote"}, env: []string{"OCF_RESKEY_ip=198.18.0.100"}, want: ocf.ErrUnimplemented,
			stderr: `ocf-exit-reason:unknown action "promote": the actions are start, stop, monitor, status, reload-agent, validate-all, meta-data, usage, help, announce, doctor, version, man, completion` + "\n"},
		{name: "an unknown action with a line break stays one line", args: []string{"a\nb"}, want: ocf.ErrUnimplemented, stderr: `ocf-exit-reason:unknown action "a\nb": `},
		{name: "stray argument", args: []string{"monitor", "extra"}, env: []string{"OCF_RESKEY_ip=198.18.0.100"}, want: ocf.ErrArgs,
			stderr: `ocf-exit-reason:unexpected argument "extra" after monitor: a parameter is --name value, or OCF_RESKEY_name in the environment` + "\n"},
		{name: "stray argument after a flag", args: []string{"validate-all", "--ip", "198.18.0.100", "24"}, want: ocf.ErrArgs, stderr: `unexpected argument "24" after validate-all`},
		{name: "an unknown flag of doctor is a usage error, not a failed check", args: []string{"doctor", "--bogus"}, want: ocf.ErrArgs, stderr: "ocf-exit-reason:unknown flag: --bogus"},
		{name: "a stray argument of doctor is a usage error, not a failed check", args: []string{"doctor", "extra"}, want: ocf.ErrArgs, stderr: `ocf-exit-reason:unexpected argument "extra" after doctor`},
		{name: "stray argument after meta-data", args: []string{"meta-data", "x"}, want: ocf.ErrArgs, stderr: `unexpected argument "x" after meta-data`},
		{name: "flag overrides environment", args: []string{"validate-all", "--arp_count", "0"}, env: []string{"OCF_RESKEY_ip=198.18.0.100", "OCF_RESKEY_arp_count=3"}, want: ocf.ErrConfigured, stderr: "ocf-exit-reason:arp_count [0] is not a positive integer"},
		{name: "an int flag is parsed by config", args: []string{"validate-all", "--ip", "198.18.0.100", "--arp_count", "two"}, want: ocf.ErrConfigured, stderr: "ocf-exit-reason:arp_count [two] is not a positive integer"},
		{name: "flag gives the ip", args: []string{"validate-all", "--ip", "abc"}, want: ocf.ErrConfigured, stderr: "IP address [abc] not valid"},
		{name: "a flag with one dash", args: []string{"validate-all", "-ip", "198.18.0.1"}, want: ocf.ErrArgs,
			stderr: "ocf-exit-reason:unknown flag -ip: a flag takes two dashes: --ip\n"},
		{name: "a flag with one dash and a value", args: []string{"validate-all", "--ip", "198.18.0.1", "-cidr-netmask=24"}, want: ocf.ErrArgs,
			stderr: "ocf-exit-reason:unknown flag -cidr-netmask: a flag takes two dashes: --cidr-netmask\n"},
		{name: "one dash before no flag", args: []string{"validate-all", "-x"}, want: ocf.ErrArgs, stderr: "ocf-exit-reason:unknown shorthand flag: 'x' in -x"},
		{name: "a parameter given twice is a usage error", args: []string{"validate-all", "--ip", "198.18.0.1", "--ip", "198.18.0.2"}, want: ocf.ErrArgs,
			stderr: `ocf-exit-reason:--ip given twice ("198.18.0.1", then "198.18.0.2"): give each parameter once`},
		{name: "a parameter given twice in its two spellings", args: []string{"validate-all", "--ip=198.18.0.1", "--cidr-netmask", "24", "--cidr_netmask=25"}, want: ocf.ErrArgs,
			stderr: `ocf-exit-reason:--cidr_netmask given twice ("24", then "25"): give each parameter once`},
		{name: "a boolean given twice", args: []string{"validate-all", "--ip", "198.18.0.1", "--nodad", "--nodad=false"}, want: ocf.ErrArgs,
			stderr: `ocf-exit-reason:--nodad given twice ("true", then "false"): give each parameter once`},
		{name: "a bool flag that is no boolean", args: []string{"validate-all", "--ip", "198.18.0.100", "--nodad=perhaps"}, want: ocf.ErrConfigured, stderr: "ocf-exit-reason:nodad [perhaps] is not a boolean"},
		{name: "completion bash", args: []string{"completion", "bash"}, want: ocf.Success, stdout: "complete -F _floatip floatip"},
		{name: "completion without a shell", args: []string{"completion"}, want: ocf.ErrArgs, stderr: "ocf-exit-reason:completion: shell none: floatip completes for bash"},
		{name: "completion of another shell", args: []string{"completion", "tcsh"}, want: ocf.ErrArgs, stderr: `ocf-exit-reason:completion: shell "tcsh": floatip completes for bash`},
		{name: "man", args: []string{"man"}, want: ocf.Success, stdout: ".TH FLOATIP 8 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, stdout, stderr := runArgs(tt.env, tt.args...)
			if got != tt.want {
				t.Errorf("exit %v, want %v\nstderr: %s", got, tt.want, stderr)
			}
			if tt.exactStdout {
				if diff := cmp.Diff(tt.stdout, stdout); diff != "" {
					t.Errorf("stdout (-want +got):\n%s", diff)
				}
			} else if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout %q lacks %q", stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderr)
			}
			// What the row does not ask for must not be there: a success
			// prints nothing on stderr, a failure nothing on stdout, and
			// at most one exit reason.
			if tt.want == ocf.Success && stderr != "" {
				t.Errorf("stderr of a success: %q", stderr)
			}
			if tt.want != ocf.Success && stdout != "" {
				t.Errorf("stdout of a failure: %q", stdout)
			}
			if n := strings.Count(stderr, "ocf-exit-reason:"); n > 1 {
				t.Errorf("%d exit reasons: %q", n, stderr)
			}
		})
	}
}

// TestHelpShowsTypes: --help lists every parameter with the type its
// values are read as, its description and its default on this platform.
func TestHelpShowsTypes(t *testing.T) {
	md := metadata.Declared()
	_, stdout, _ := runArgs(nil, "--help")
	lines := strings.Split(stdout, "\n")
	for _, p := range md.Parameters {
		typ := map[string]string{"boolean": "bool", "integer": "int", "string": "string"}
		vt, _ := metadata.ValueType(p.Name)
		prefix := "  --" + p.Name + " " + typ[vt] + " "
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) })
		if i < 0 {
			t.Errorf("--help has no line %q...", prefix)
			continue
		}
		line := lines[i]
		if !strings.Contains(line, strings.TrimSuffix(p.ShortDesc, ".")) {
			t.Errorf("%s: no description in %q", p.Name, line)
		}
		d := p.Content.DefaultValue()
		var want string
		switch {
		case d == "" && p.Name == "arp_bg":
			want = "(default: per address family"
		case d == "":
			if strings.Contains(line, "(default") {
				t.Errorf("%s has no default, but --help shows one: %q", p.Name, line)
			}
			continue
		case vt == "string":
			want = `(default "` + d + `")`
		default:
			want = "(default " + d + ")"
		}
		if !strings.Contains(line, want) && p.Name != "check_link_status" {
			t.Errorf("%s: %q lacks %q", p.Name, line, want)
		}
	}
}

// TestEmptyDefaults: a parameter without a default whose values are not
// strings has its meaning said, or --help would show nothing for it.
func TestEmptyDefaults(t *testing.T) {
	for _, p := range metadata.Declared().Parameters {
		if p.Content.DefaultValue() == "" && flagType(p.Name) != "string" && emptyDefaults[p.Name] == "" {
			t.Errorf("%s (%s) has an empty default: say what it means in emptyDefaults", p.Name, flagType(p.Name))
		}
	}
}

// TestFlagValues: what a parameter flag puts into the parameters is the
// text as typed; a boolean flag alone is true, and a boolean word after
// it is its value, also as the background sender is started.
func TestFlagValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want map[string]string
		rest []string
	}{
		{name: "alone", args: []string{"start", "--nodad"}, want: map[string]string{"nodad": "true"}, rest: []string{"start"}},
		{name: "with =", args: []string{"start", "--nodad=false"}, want: map[string]string{"nodad": "false"}, rest: []string{"start"}},
		{name: "with a word", args: []string{"start", "--nodad", "no"}, want: map[string]string{"nodad": "no"}, rest: []string{"start"}},
		{name: "with an OCF word", args: []string{"start", "--run_arping", "ja"}, want: map[string]string{"run_arping": "ja"}, rest: []string{"start"}},
		{name: "before the action", args: []string{"--nodad", "start"}, want: map[string]string{"nodad": "true"}, rest: []string{"start"}},
		{name: "before an action that is a word", args: []string{"--nodad", "yes", "start"}, want: map[string]string{"nodad": "yes"}, rest: []string{"start"}},
		{name: "an empty value", args: []string{"start", "--nodad", ""}, want: map[string]string{"nodad": ""}, rest: []string{"start"}},
		{name: "a word that is no boolean is its value too", args: []string{"start", "--nodad", "perhaps"}, want: map[string]string{"nodad": "perhaps"}, rest: []string{"start"}},
		{name: "an action after it stays", args: []string{"--nodad", "monitor"}, want: map[string]string{"nodad": "true"}, rest: []string{"monitor"}},
		{name: "a flag after it stays", args: []string{"start", "--nodad", "--nic", "eth0"}, want: map[string]string{"nodad": "true", "nic": "eth0"}, rest: []string{"start"}},
		{name: "hyphens", args: []string{"start", "--cidr-netmask", "24", "--lvs-ipv6-addrlabel=false", "--network-namespace", "x"},
			want: map[string]string{"cidr_netmask": "24", "lvs_ipv6_addrlabel": "false", "network_namespace": "x"}, rest: []string{"start"}},
		{name: "as the background sender starts",
			args: []string{"announce", "--background-sender", "1", "--ip", "198.18.0.100", "--unique_clone_address", "false", "--nic", "eth0", "--cidr_netmask", "24"},
			want: map[string]string{"ip": "198.18.0.100", "unique_clone_address": "false", "nic": "eth0", "cidr_netmask": "24"}, rest: []string{"announce"}},
		{name: "a string flag takes what follows", args: []string{"start", "--nic", "--nodad"}, want: map[string]string{"nic": "--nodad"}, rest: []string{"start"}},
		{name: "an int stays text", args: []string{"start", "--arp_count", "007"}, want: map[string]string{"arp_count": "007"}, rest: []string{"start"}},
		{name: "after --", args: []string{"start", "--", "--nodad", "false"}, want: map[string]string{}, rest: []string{"start", "--nodad", "false"}},
	}
	md := metadata.Declared()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFlagSet("floatip", md, md.Defaults(), &bytes.Buffer{})
			if err := fs.Parse(joinBoolValues(fs, tt.args)); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			fs.Visit(func(f *pflag.Flag) {
				if _, ok := md.Parameter(f.Name); ok {
					got[f.Name] = f.Value.String()
				}
			})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parameters (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.rest, fs.Args(), cmpEmpty); diff != "" {
				t.Errorf("arguments (-want +got):\n%s", diff)
			}
		})
	}
}

var cmpEmpty = cmp.Transformer("empty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

// TestBoolWords: the words a boolean flag takes as its value are the
// words config reads as a boolean, and no others.
func TestBoolWords(t *testing.T) {
	parse := func(v string) error {
		params := metadata.Declared().Defaults()
		params["ip"] = "198.18.0.100"
		params["nodad"] = v
		_, err := config.Parse(params, nil)
		return err
	}
	for _, w := range ocf.BoolWords() {
		if err := parse(w); err != nil {
			t.Errorf("config refuses boolean word %q: %v", w, err)
		}
	}
	for _, w := range []string{"perhaps", "2", "-1", "t", "f", "Yes ", "start", "enable"} {
		if err := parse(w); !errors.Is(err, config.ErrInvalid) {
			t.Errorf("config reads %q as a boolean (%v), but a boolean flag would not take it", w, err)
		}
	}
}

// TestCommands: the documented actions are exactly what run dispatches:
// the agent's own, and the command line's.
func TestCommands(t *testing.T) {
	var agentActions []string
	for _, x := range agent.Actions() {
		agentActions = append(agentActions, x.String())
	}
	own := []string{"doctor", "meta-data", "usage", "help", "version", "man", "completion"}
	want := slices.Sorted(slices.Values(append(agentActions, own...)))
	got := slices.Sorted(slices.Values(actionNames()))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("documented actions (-dispatched +documented):\n%s", diff)
	}
	for _, c := range commands {
		if c.short == "" || c.long == "" {
			t.Errorf("%s: no help", c.name)
		}
		if (c.local != nil) == (c.agent != 0 || c.handler != nil) {
			t.Errorf("%s: runs both or neither on the command line and as the resource", c.name)
		}
		_, stdout, _ := runArgs(nil, "help", c.name)
		if !strings.HasPrefix(stdout, "usage: IPaddr2 "+c.name+" ") || !strings.Contains(stdout, wrap(c.long, 72)) {
			t.Errorf("help %s:\n%s", c.name, stdout)
		}
	}
}

// TestReleaseDate: the man page's date is the build's, else the commit's,
// else the binary's, and never empty.
func TestReleaseDate(t *testing.T) {
	built := time.Date(2025, 3, 4, 23, 30, 0, 0, time.FixedZone("", -3600))
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, set, vcs string
		built          time.Time
		want           string
	}{
		{"set by the build", "2025-01-31", "2024-12-01T10:00:00Z", built, "2025-01-31"},
		{"the commit's", "", "2024-12-01T23:59:00-02:00", built, "2024-12-02"},
		{"a set date that is none", "31.1.2025", "2024-12-01T10:00:00Z", built, "2024-12-01"},
		{"the binary's", "", "", built, "2025-03-05"},
		{"now, when nothing else is known", "", "", time.Time{}, "2026-01-02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := releaseDate(tt.set, tt.vcs, tt.built, now); got != tt.want {
				t.Errorf("releaseDate(%q, %q, %v) = %q, want %q", tt.set, tt.vcs, tt.built, got, tt.want)
			}
		})
	}
	if d := manDate(); len(d) != len("2006-01-02") {
		t.Errorf("manDate() = %q", d)
	}
}

// TestManPage: floatip(8) documents every action and parameter, with the
// parameter's type and default, each exit code, and the version and date,
// and groff and man read it without a warning.
func TestManPage(t *testing.T) {
	md := metadata.Declared()
	page := manPage(md, md.Defaults(), "2025-01-31")
	if first := strings.SplitN(page, "\n", 2)[0]; first != `.TH FLOATIP 8 "2025\-01\-31" "floatip `+roff(version)+`" "System Administration"` {
		t.Errorf("title line %q", first)
	}
	for _, sec := range []string{"NAME", "SYNOPSIS", "DESCRIPTION", "ACTIONS", "PARAMETERS", "OPTIONS", "EXIT STATUS", "FILES", "ENVIRONMENT", "EXAMPLES", "SEE ALSO"} {
		if !strings.Contains(page, "\n.SH "+sec+"\n") {
			t.Errorf("the man page lacks section %s", sec)
		}
	}
	for _, p := range md.Parameters {
		tag := ".TP\n.BI \\-\\-" + roff(p.Name) + ` " ` + flagType(p.Name) + `"` + "\n" + roff(strings.TrimSuffix(p.ShortDesc, "."))
		if !strings.Contains(page, tag) {
			t.Errorf("the man page lacks %q", tag)
		}
		if d := p.Content.DefaultValue(); d != "" && !strings.Contains(page, `Default: \fB`+roff(d)+`\fP.`) {
			t.Errorf("the man page lacks the default of %s", p.Name)
		}
	}
	if !strings.Contains(page, "Default: per address family") {
		t.Error("the man page does not say what arp_bg's empty default means")
	}
	for _, c := range commands {
		if !strings.Contains(page, ".TP\n.B "+roff(c.name)+"\n") && !strings.Contains(page, `.TP`+"\n"+`.BI "`+roff(c.name)+` "`) {
			t.Errorf("the man page lacks action %s", c.name)
		}
	}
	for st := ocf.Success; st <= ocf.NotRunning; st++ {
		if exitMeanings[st] == "" || !strings.Contains(page, roff(exitMeanings[st])) {
			t.Errorf("the man page lacks the meaning of exit %d", st)
		}
	}
	for _, want := range []string{"floatip\\-announce\\-\\fIip\\fP@net\\fIinode\\fP.pid", "floatip\\-\\fIip\\fP@net\\fIinode\\fP.lock", "HA_LOGFILE", "/usr/lib/ocf/resource.d/floatip/IPaddr2",
		"OCF_TRACE_RA", "HA_LOGFACILITY", "OCF_ROOT", "pcs resource create vip ocf:floatip:IPaddr2 \\e\n    ip=198.18.0.100 cidr_netmask=24 op monitor interval=10s", "crm configure primitive vip ocf:floatip:IPaddr2 \\e\n    params ip=198.18.0.100",
		"floatip doctor \\-\\-ip 198.18.0.100", ".BR ocf_heartbeat_IPaddr2 (7),", ".BR crm_resource (8)"} {
		if !strings.Contains(page, want) {
			t.Errorf("the man page lacks %q", want)
		}
	}

	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Fatal("groff is not installed: run make deps")
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("groff: %v\n%s", err, out)
	}
	// man -l renders it as a reader sees it: a .TP item's description is
	// indented under its tag.
	man, err := exec.LookPath("man")
	if err != nil {
		t.Fatal("man is not installed (man-db): run make deps")
	}
	cmd = exec.Command(man, "-l", "-")
	cmd.Env = []string{"MANWIDTH=80", "PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
	cmd.Stdin = strings.NewReader(page)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("man -l: %v\n%s", err, stderr.String())
	}
	// groff justifies a line by spreading its spaces, from the left on
	// one line and from the right on the next: the extra spaces go, so
	// that a change elsewhere in the page changes nothing here.
	lines := strings.Split(out.String(), "\n")
	for i, l := range lines {
		body := strings.TrimLeft(l, " ")
		lines[i] = l[:len(l)-len(body)] + strings.Join(strings.Fields(body), " ")
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{"\n       --arp_count int\n              ARP packet count.", "\n       2 (OCF_ERR_ARGS)\n              The command line is wrong"} {
		if !strings.Contains(text, want) {
			t.Errorf("man -l output lacks %q:\n%.2000s", want, text)
		}
	}
}

// TestTraceNamesTheDoctorsCode: a traced doctor ends its trace with its
// own exit code's name, not the OCF code of the same number (3 is
// OCF_ERR_UNIMPLEMENTED, which the doctor never means), and a failed
// check exits 3, not the 2 of a command line floatip cannot read.
func TestTraceNamesTheDoctorsCode(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "doctor.trace")
	env := []string{"OCF_TRACE_RA=1", "OCF_TRACE_FILE=" + trace, "HA_RSCTMP=" + dir}
	// Without ip the configuration does not validate: the doctor fails.
	st, stdout, _ := runArgs(env, "doctor")
	if st != 3 || !strings.Contains(stdout, "exit 3\n") {
		t.Fatalf("doctor exited %d:\n%s", st, stdout)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "trace: exit 3 (DOCTOR_FAIL)") || strings.Contains(string(b), "OCF_ERR_UNIMPLEMENTED") {
		t.Errorf("the trace does not name the doctor's exit code:\n%s", b)
	}
}

// TestNotLinux: on another system every action of the resource answers
// OCF_ERR_INSTALLED with one line that says floatip needs Linux, and
// changes nothing; the actions of the command line work on.
func TestNotLinux(t *testing.T) {
	want := "ocf-exit-reason:floatip needs Linux: it manages the address through netlink, packet sockets and network namespaces, and this system is darwin\n"
	for _, c := range commands {
		if c.local != nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			inv := newInvocation([]string{agentPath}, []string{"OCF_RESKEY_ip=198.18.0.100"}, &stdout, &stderr)
			inv.host = func([]string) (host, error) { return host{}, notLinux("darwin") }
			if st := inv.runResource(c.name, &c); st != ocf.ErrInstalled {
				t.Errorf("exit %d (%v), want OCF_ERR_INSTALLED", st, st)
			}
			if stderr.String() != want || stdout.Len() != 0 {
				t.Errorf("stdout %q, stderr %q; want stderr %q", stdout.String(), stderr.String(), want)
			}
		})
	}
}
