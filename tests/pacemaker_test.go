package tests

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// raMetadata is the part of an agent's meta-data XML the tests look at.
type raMetadata struct {
	XMLName    xml.Name `xml:"resource-agent"`
	Name       string   `xml:"name,attr"`
	Parameters []struct {
		Name     string `xml:"name,attr"`
		Required string `xml:"required,attr"`
	} `xml:"parameters>parameter"`
}

// ownMetadata is what the binary itself prints for meta-data: what every
// tool should show.
func ownMetadata(t *testing.T, env ...string) (string, raMetadata) {
	t.Helper()
	cmd := exec.Command(labtest.Binary, "meta-data")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("floatip meta-data: %v", err)
	}
	var md raMetadata
	if err := xml.Unmarshal(out, &md); err != nil {
		t.Fatalf("parse floatip meta-data: %v", err)
	}
	if len(md.Parameters) == 0 {
		t.Fatal("floatip meta-data lists no parameter")
	}
	return string(out), md
}

// TestCrmResourceFindsTheAgent: crm_resource lists the agent only once it
// is in a provider directory, and shows the binary's own meta-data.
func TestCrmResourceFindsTheAgent(t *testing.T) {
	labtest.EachStack(t, func(t *testing.T, s *lab.Stack) {
		crm := labtest.StackTool(t, s, "crm_resource")
		env := labtest.ToolEnv(t)

		// The provider name is not known to crm_resource before the install,
		// so the listing below comes from the directory and nothing else.
		var rnd [4]byte
		rand.Read(rnd[:])
		if r := labtest.RunTool(t, s, nil, env, crm, "--list-agents", "ocf:floatip-test-"+hex.EncodeToString(rnd[:])); r.Code == 0 {
			t.Errorf("--list-agents of a provider that does not exist succeeded: %q", r.Stdout)
		}

		provider := labtest.StackProvider(t, s)
		if r := labtest.RunTool(t, s, nil, env, crm, "--list-agents", "ocf:"+provider); r.Code != 0 || strings.TrimSpace(r.Stdout) != "IPaddr2" {
			t.Errorf("--list-agents ocf:%s: exit %d, stdout %q, want exactly IPaddr2\nstderr: %s", provider, r.Code, r.Stdout, r.Stderr)
		}
		if r := labtest.RunTool(t, s, nil, env, crm, "--list-ocf-providers"); !containsLine(r.Stdout, provider) {
			t.Errorf("--list-ocf-providers does not list %s:\n%s", provider, r.Stdout)
		}

		// Pacemaker speaks OCF 1.1, so it gets the 1.1 face: reloadable
		// parameters and reload-agent.
		want, md := ownMetadata(t, "OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=1")
		r := labtest.RunTool(t, s, nil, env, crm, "--show-metadata", "ocf:"+provider+":IPaddr2")
		if r.Code != 0 {
			t.Fatalf("--show-metadata: exit %d: %s", r.Code, r.Stderr)
		}
		if r.Stdout != want {
			t.Errorf("--show-metadata differs from floatip meta-data:\n%s", r.Stdout)
		}
		for _, mark := range []string{"<version>1.1</version>", `<parameter name="arp_count" reloadable="1">`, `<action name="reload-agent"`} {
			if !strings.Contains(r.Stdout, mark) {
				t.Errorf("--show-metadata lacks %s", mark)
			}
		}
		if strings.Contains(r.Stdout, `<parameter name="cidr_netmask" reloadable`) {
			t.Error("--show-metadata marks cidr_netmask reloadable: a change of it must restart")
		}
		if old, _ := ownMetadata(t); strings.Contains(old, "reload") || !strings.Contains(old, "<version>1.0</version>") {
			t.Error("the meta-data for a caller that does not speak OCF 1.1 is not the 1.0 face")
		}
		if md.Name != "IPaddr2" {
			t.Errorf("meta-data names the agent %q, want IPaddr2 (the name Pacemaker knows it by)", md.Name)
		}
	})
}

func containsLine(s, line string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

// TestCrmResourceValidate: crm_resource --validate runs validate-all with
// the given options and passes on its exit code and exit reason. It runs in
// a host that has 198.18.0.0/24 and 2001:db8::/64 on eth0, as validation
// looks up the nic.
func TestCrmResourceValidate(t *testing.T) {
	labtest.EachStack(t, func(t *testing.T, s *lab.Stack) {
		l := labtest.NewLab(t, labtest.HostA6)
		crm := labtest.StackTool(t, s, "crm_resource")
		provider := labtest.StackProvider(t, s)
		env := labtest.ToolEnv(t)
		tests := []struct {
			name    string
			options []string
			code    int
			reason  string
		}{
			{"ip only", []string{"ip=" + labtest.VIP}, 0, ""},
			{"ip, nic and cidr_netmask", []string{"ip=" + labtest.VIP, "nic=eth0", "cidr_netmask=24"}, 0, ""},
			{"IPv6", []string{"ip=" + labtest.VIP6, "cidr_netmask=64"}, 0, ""},
			{"IPv6 prefix too long", []string{"ip=" + labtest.VIP6, "cidr_netmask=129"}, 6, "cidr_netmask [129]"},
			{"no ip", []string{"cidr_netmask=24"}, 6, "IP address (the ip parameter) is mandatory"},
			{"ip not an address", []string{"ip=198.18.0.300"}, 6, "IP address [198.18.0.300] not valid"},
			{"prefix too long", []string{"ip=" + labtest.VIP, "cidr_netmask=40"}, 6, "cidr_netmask [40]"},
			{"no such nic", []string{"ip=" + labtest.VIP, "nic=eth9"}, 6, "Invalid interface name [eth9]"},
			// No connected route covers 198.18.5.0/24 in the host: the agent
			// cannot choose a nic (OCF_ERR_GENERIC, as IPaddr2 says).
			{"no route", []string{"ip=198.18.5.100"}, 1, "Unable to find nic or netmask"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				args := []string{crm, "--validate", "--class", "ocf", "--provider", provider, "--agent", "IPaddr2"}
				for _, o := range tt.options {
					args = append(args, "--option", o)
				}
				r := labtest.RunTool(t, s, l.Host("a"), env, args...)
				if r.Code != tt.code {
					t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.Code, tt.code, r.Stdout, r.Stderr)
				}
				if tt.reason != "" && !strings.Contains(r.Stdout, "ocf-exit-reason:"+tt.reason) {
					t.Errorf("no exit reason %q in the output:\n%s", tt.reason, r.Stdout)
				}
			})
		}
	})
}

// TestCrmResourceForceActions drives the agent as an admin does by hand,
// with no cluster and no CIB: --force-start, --force-check (also at depth
// 10) and --force-stop, and looks at the address over netlink after each.
func TestCrmResourceForceActions(t *testing.T) {
	labtest.EachStack(t, func(t *testing.T, s *lab.Stack) {
		families := []struct {
			name   string
			ip     string
			prefix string
		}{
			{"IPv4", labtest.VIP, "24"},
			{"IPv6", labtest.VIP6, "64"},
		}
		for _, f := range families {
			t.Run(f.name, func(t *testing.T) {
				l := labtest.NewLab(t, labtest.HostA6)
				a := l.Host("a")
				crm := labtest.StackTool(t, s, "crm_resource")
				strace := labtest.NeedTool(t, "strace")
				provider := labtest.StackProvider(t, s)
				agent := filepath.Join(labtest.OCFProviders, provider, "IPaddr2")
				env := labtest.ToolEnv(t)
				rsc := []string{"--class", "ocf", "--provider", provider, "--agent", "IPaddr2",
					"--option", "ip=" + f.ip, "--option", "cidr_netmask=" + f.prefix}
				addr := f.ip + "/" + f.prefix
				steps := []struct {
					action  string
					code    int
					present bool
				}{
					{"--force-check", 7, false},
					{"--force-check=10", 7, false},
					{"--force-start", 0, true},
					{"--force-check", 0, true},
					{"--force-check=10", 0, true},
					{"--force-stop", 0, false},
					{"--force-stop", 0, false}, // stop of a stopped address succeeds
					{"--force-check", 7, false},
				}
				for i, st := range steps {
					// Each call runs under the machine's strace to see the
					// environment the agent got: --force-check=10 must
					// reach it as OCF_CHECK_LEVEL=10.
					trace := filepath.Join(t.TempDir(), "trace")
					wrap := []string{strace, "-f", "-qq", "-v", "-s", "256", "-e", "trace=execve", "-e", "signal=none", "-o", trace}
					r := labtest.RunWrapped(t, s, a, env, wrap, append([]string{crm, st.action}, rsc...)...)
					if r.Code != st.code {
						t.Errorf("step %d: %s exit %d, want %d\nstdout: %s\nstderr: %s", i, st.action, r.Code, st.code, r.Stdout, r.Stderr)
					}
					if got := labtest.HasAddr(t, a, addr); got != st.present {
						t.Errorf("step %d: after %s, %s on eth0: %v, want %v", i, st.action, addr, got, st.present)
					}
					level, ok := checkLevel(t, trace, agent)
					if !ok {
						t.Errorf("step %d: %s did not execute %s", i, st.action, agent)
					}
					wantLevel := ""
					if strings.HasSuffix(st.action, "=10") {
						wantLevel = "10"
					}
					if level != wantLevel {
						t.Errorf("step %d: %s gave the agent OCF_CHECK_LEVEL=%q, want %q", i, st.action, level, wantLevel)
					}
				}
			})
		}
	})
}

// checkLevel reads an strace -v execve trace and returns the
// OCF_CHECK_LEVEL in the environment of agent's execution ("" when unset),
// and whether agent was executed at all.
func checkLevel(t *testing.T, trace, agent string) (string, bool) {
	t.Helper()
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, `execve("`+agent+`"`) {
			continue
		}
		_, rest, found := strings.Cut(line, `"OCF_CHECK_LEVEL=`)
		level, _, _ := strings.Cut(rest, `"`)
		if !found {
			level = ""
		}
		return level, true
	}
	return "", false
}
