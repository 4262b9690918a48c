package tests

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// The tests of this file configure the agent the way admins do, with pcs
// and crmsh, on an offline CIB: a file that the tools edit through -f or
// CIB_file, with no cluster running.

// emptyCIB writes the CIB of a new cluster to a file, as the stack's
// cibadmin --empty makes it (it needs no cluster), and returns the file's
// path.
func emptyCIB(t *testing.T, s *lab.Stack) string {
	t.Helper()
	r := labtest.RunTool(t, s, nil, labtest.ToolEnv(t), labtest.StackTool(t, s, "cibadmin"), "--empty")
	if r.Code != 0 {
		t.Fatalf("cibadmin --empty: exit %d: %s", r.Code, r.Stderr)
	}
	path := filepath.Join(t.TempDir(), "cib.xml")
	if err := os.WriteFile(path, []byte(r.Stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// cibPrimitive is a primitive resource of a CIB, as the tests look at it.
type cibPrimitive struct {
	ID       string `xml:"id,attr"`
	Class    string `xml:"class,attr"`
	Provider string `xml:"provider,attr"`
	Type     string `xml:"type,attr"`
	Params   []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"instance_attributes>nvpair"`
	Ops []struct {
		Name     string `xml:"name,attr"`
		Interval string `xml:"interval,attr"`
		Timeout  string `xml:"timeout,attr"`
		Attrs    []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"instance_attributes>nvpair"`
	} `xml:"operations>op"`
}

// ops describes the primitive's operations, sorted: name, interval,
// timeout and their attributes (OCF_CHECK_LEVEL).
func (p cibPrimitive) ops() []string {
	var out []string
	for _, o := range p.Ops {
		d := o.Name + " interval=" + o.Interval + " timeout=" + o.Timeout
		for _, a := range o.Attrs {
			d += " " + a.Name + "=" + a.Value
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// params returns the primitive's parameters as name=value, in CIB order.
func (p cibPrimitive) params() []string {
	var out []string
	for _, nv := range p.Params {
		out = append(out, nv.Name+"="+nv.Value)
	}
	return out
}

// op returns "interval/timeout" of the primitive's operation name.
func (p cibPrimitive) op(name string) string {
	for _, o := range p.Ops {
		if o.Name == name {
			return o.Interval + "/" + o.Timeout
		}
	}
	return ""
}

// primitives parses the resources of a CIB file.
func primitives(t *testing.T, path string) []cibPrimitive {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cib struct {
		Primitives []cibPrimitive `xml:"configuration>resources>primitive"`
	}
	if err := xml.Unmarshal(b, &cib); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return cib.Primitives
}

// TestPcsResourceCreate: pcs checks the parameters against the agent's
// meta-data (it asks crm_resource for it), refuses an unknown or a missing
// required one without touching the CIB, and writes the operations with the
// timeouts the meta-data advises. With --agent-validation it also runs
// validate-all, in the host where pcs runs (so that one runs in a host of
// the lab), and refuses the resource with the agent's exit reason. pcs
// 0.12 runs validate-all without the flag too, and then creates the
// resource with the agent's answer as a warning, where pcs 0.11 says
// nothing; a good resource gets no warning from either.
func TestPcsResourceCreate(t *testing.T) {
	labtest.EachStack(t, func(t *testing.T, s *lab.Stack) {
		l := labtest.NewLab(t, labtest.HostA)
		pcs := labtest.StackTool(t, s, "pcs")
		provider := labtest.StackProvider(t, s)
		const byDefault = "Warning: Validating resource options using the resource agent itself is enabled by default and produces warnings."
		tests := []struct {
			name string
			args []string
			ok   bool
			// stderr is what pcs says on both stacks, "" for nothing at
			// all; warns is what pcs 0.12 says instead, after byDefault,
			// when it warns where 0.11 is silent.
			stderr, warns string
		}{
			{"accepted", []string{"ip=" + labtest.VIP, "cidr_netmask=24", "op", "monitor", "interval=10s"}, true, "", ""},
			{"unknown parameter", []string{"ip=" + labtest.VIP, "cidr_netmask=24", "bogus=1"}, false, "invalid resource option 'bogus'", ""},
			{"misspelt parameter", []string{"ip=" + labtest.VIP, "cidr_mask=24"}, false, "invalid resource option 'cidr_mask'", ""},
			{"missing ip", []string{"cidr_netmask=24"}, false, "required resource option 'ip' is missing", ""},
			// Without --agent-validation, pcs 0.11 does not run the
			// agent: it knows nothing about this node's nics.
			{"no such nic, not validated", []string{"ip=" + labtest.VIP, "nic=eth9"}, true, "",
				"Warning: Validation result from agent:\n  ocf-exit-reason:Invalid interface name [eth9]: no such interface\n"},
			{"no such nic, validated", []string{"ip=" + labtest.VIP, "nic=eth9", "--agent-validation"}, false,
				"Error: Validation result from agent (use --force to override):\n  ocf-exit-reason:Invalid interface name [eth9]: no such interface\n", ""},
			{"bad prefix, not validated", []string{"ip=" + labtest.VIP, "cidr_netmask=99"}, true, "",
				"Warning: Validation result from agent:\n  ocf-exit-reason:cidr_netmask [99] is not a prefix length from 1 to 32\n"},
			{"bad prefix, validated", []string{"ip=" + labtest.VIP, "cidr_netmask=99", "--agent-validation"}, false,
				"Error: Validation result from agent (use --force to override):\n  ocf-exit-reason:cidr_netmask [99] is not a prefix length from 1 to 32\n", ""},
			{"validated", []string{"ip=" + labtest.VIP, "cidr_netmask=24", "--agent-validation"}, true, "", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cib := emptyCIB(t, s)
				args := append([]string{pcs, "-f", cib, "resource", "create", "vip", "ocf:" + provider + ":IPaddr2"}, tt.args...)
				r := labtest.RunTool(t, s, l.Host("a"), labtest.ToolEnv(t), args...)
				if (r.Code == 0) != tt.ok {
					t.Errorf("exit %d, want success %v\nstderr: %s", r.Code, tt.ok, r.Stderr)
				}
				switch {
				case tt.warns != "" && isPacemaker3(s):
					if !strings.HasPrefix(r.Stderr, byDefault) || !strings.HasSuffix(r.Stderr, tt.warns) {
						t.Errorf("pcs 0.12 does not warn %q, then %q:\n%s", byDefault, tt.warns, r.Stderr)
					}
				case tt.stderr == "":
					if r.Stderr != "" {
						t.Errorf("stderr is not empty:\n%s", r.Stderr)
					}
				case !strings.Contains(r.Stderr, tt.stderr):
					t.Errorf("stderr does not say %q:\n%s", tt.stderr, r.Stderr)
				}
				prims := primitives(t, cib)
				if !tt.ok {
					if len(prims) != 0 {
						t.Errorf("refused, yet the CIB holds %+v", prims)
					}
					return
				}
				if len(prims) != 1 {
					t.Fatalf("the CIB holds %d primitives, want 1", len(prims))
				}
				p := prims[0]
				if p.ID != "vip" || p.Class != "ocf" || p.Provider != provider || p.Type != "IPaddr2" {
					t.Errorf("primitive %s %s:%s:%s, want vip ocf:%s:IPaddr2", p.ID, p.Class, p.Provider, p.Type, provider)
				}
				if got := strings.Join(p.params(), " "); !strings.Contains(got, "ip="+labtest.VIP) {
					t.Errorf("parameters %s, want ip=%s among them", got, labtest.VIP)
				}
				// start and stop get the timeouts of the meta-data's actions.
				for op, want := range map[string]string{"start": "0s/20s", "stop": "0s/20s"} {
					if got := p.op(op); got != want {
						t.Errorf("%s op interval/timeout %q, want %q", op, got, want)
					}
				}
				if slices.Contains(tt.args, "monitor") && p.op("monitor") != "10s/" {
					t.Errorf("monitor op %q, want interval 10s", p.op("monitor"))
				}
			})
		}
	})
}

// TestPcsCreatesIPaddr2sOperations: a resource created by pcs with no
// operation given gets exactly the operations that pcs gives
// heartbeat:IPaddr2, so a drop-in adds no check nobody asked for; and the
// parameters of newer IPaddr2 releases and of pcs's tracing are accepted.
func TestPcsCreatesIPaddr2sOperations(t *testing.T) {
	labtest.EachStack(t, func(t *testing.T, s *lab.Stack) {
		l := labtest.NewLab(t, labtest.HostA)
		pcs := labtest.StackTool(t, s, "pcs")
		provider := labtest.StackProvider(t, s)
		create := func(agent string, params ...string) cibPrimitive {
			t.Helper()
			cib := emptyCIB(t, s)
			args := append([]string{pcs, "-f", cib, "resource", "create", "vip", agent}, params...)
			if r := labtest.RunTool(t, s, l.Host("a"), labtest.ToolEnv(t), args...); r.Code != 0 {
				t.Fatalf("pcs resource create %s: exit %d: %s", agent, r.Code, r.Stderr)
			}
			prims := primitives(t, cib)
			if len(prims) != 1 {
				t.Fatalf("the CIB holds %d primitives, want 1", len(prims))
			}
			return prims[0]
		}
		theirs := create("ocf:heartbeat:IPaddr2", "ip="+labtest.VIP, "trace_ra=1")
		ours := create("ocf:"+provider+":IPaddr2", "ip="+labtest.VIP, "proto=kernel", "trace_ra=1", "trace_file=/tmp/vip.trace")
		// pcs copies every action but meta-data, status and validate-all:
		// reload-agent, which the OCF 1.1 face declares so that Pacemaker
		// reloads instead of restarting, becomes an operation of interval 0,
		// which only sets reload-agent's timeout and runs nothing by itself.
		want := append(theirs.ops(), "reload-agent interval=0s timeout="+metadata.ReloadAgentTimeout)
		slices.Sort(want)
		if diff := cmp.Diff(want, ours.ops()); diff != "" {
			t.Errorf("operations (-heartbeat:IPaddr2 and reload-agent +floatip):\n%s", diff)
		}
		if got := strings.Join(ours.params(), " "); !strings.Contains(got, "proto=kernel") || !strings.Contains(got, "trace_ra=1") {
			t.Errorf("parameters %s, want proto and trace_ra among them", got)
		}
	})
}

// TestCIBFileForceStart: crm_resource -r runs an action of a resource of
// an offline CIB with the parameters written there, which is how an admin
// tries a configuration before loading it.
func TestCIBFileForceStart(t *testing.T) {
	labtest.EachStack(t, func(t *testing.T, s *lab.Stack) {
		l := labtest.NewLab(t, labtest.HostA)
		a := l.Host("a")
		pcs := labtest.StackTool(t, s, "pcs")
		crm := labtest.StackTool(t, s, "crm_resource")
		provider := labtest.StackProvider(t, s)
		cib := emptyCIB(t, s)
		// /25 while the subnet is a /24: the address can only come out as
		// /25 if the parameters came from the CIB. In host a, as pcs 0.12
		// runs the agent's validate-all.
		if r := labtest.RunTool(t, s, a, labtest.ToolEnv(t), pcs, "-f", cib, "resource", "create", "vip", "ocf:"+provider+":IPaddr2",
			"ip="+labtest.VIP, "cidr_netmask=25", "op", "monitor", "interval=10s"); r.Code != 0 {
			t.Fatalf("pcs resource create: exit %d: %s", r.Code, r.Stderr)
		}
		env := labtest.ToolEnv(t, "CIB_file="+cib)
		steps := []struct {
			action  string
			code    int
			present bool
		}{
			{"--force-check", 7, false},
			{"--force-start", 0, true},
			{"--force-check", 0, true},
			{"--force-stop", 0, false},
			{"--force-check", 7, false},
		}
		for i, st := range steps {
			r := labtest.RunTool(t, s, a, env, crm, st.action, "-r", "vip")
			if r.Code != st.code {
				t.Errorf("step %d: %s -r vip exit %d, want %d\nstdout: %s\nstderr: %s", i, st.action, r.Code, st.code, r.Stdout, r.Stderr)
			}
			if got := labtest.HasAddr(t, a, labtest.VIP+"/25"); got != st.present {
				t.Errorf("step %d: after %s, %s/25 on eth0: %v, want %v", i, st.action, labtest.VIP, got, st.present)
			}
		}
	})
}

// TestCIBFileForceStartTrace: an admin's crm_resource --force-start -r vip
// -V -V of a resource with trace_ra=1 shows floatip's trace. crm_resource
// gives the agents it runs itself OCF_TRACE_FILE=/dev/stderr, which is the
// agent's stderr, which crm_resource prints after the operation's result.
// Pacemaker 3 names the result "OK" where 2.1 wrote "ok".
func TestCIBFileForceStartTrace(t *testing.T) {
	labtest.EachStack(t, func(t *testing.T, s *lab.Stack) {
		l := labtest.NewLab(t, labtest.HostA)
		a := l.Host("a")
		pcs := labtest.StackTool(t, s, "pcs")
		crm := labtest.StackTool(t, s, "crm_resource")
		provider := labtest.StackProvider(t, s)
		cib := emptyCIB(t, s)
		if r := labtest.RunTool(t, s, a, labtest.ToolEnv(t), pcs, "-f", cib, "resource", "create", "vip", "ocf:"+provider+":IPaddr2",
			"ip="+labtest.VIP, "cidr_netmask=24", "trace_ra=1"); r.Code != 0 {
			t.Fatalf("pcs resource create: exit %d: %s", r.Code, r.Stderr)
		}
		ok := "ok"
		if isPacemaker3(s) {
			ok = "OK"
		}
		env := labtest.ToolEnv(t, "CIB_file="+cib)
		for _, st := range []struct {
			action, op string
			present    bool
		}{{"--force-start", "start", true}, {"--force-stop", "stop", false}} {
			r := labtest.RunTool(t, s, a, env, crm, st.action, "-r", "vip", "-V", "-V")
			if r.Code != 0 {
				t.Errorf("%s -r vip: exit %d\nstdout: %s\nstderr: %s", st.action, r.Code, r.Stdout, r.Stderr)
			}
			result := "Operation force-" + st.op + " for vip (ocf:" + provider + ":IPaddr2) returned 0 (" + ok + ")\n"
			if !strings.HasPrefix(r.Stdout, result) {
				t.Errorf("%s: the output does not start with %q:\n%s", st.action, result, r.Stdout)
			}
			for _, want := range []string{
				"IPaddr2(vip)[", "]: DEBUG: trace: IPaddr2 " + st.op + " of vip to fd 2\n",
				"]: DEBUG: trace: exit 0 (OCF_SUCCESS)\n",
			} {
				if !strings.Contains(r.Stdout, want) {
					t.Errorf("%s: the output has no %q, the trace on the caller's stderr:\n%s", st.action, want, r.Stdout)
				}
			}
			if strings.Contains(r.Stdout+r.Stderr, "not tracing") {
				t.Errorf("%s: the agent did not trace:\n%s%s", st.action, r.Stdout, r.Stderr)
			}
			if got := labtest.HasAddr(t, a, labtest.VIP+"/24"); got != st.present {
				t.Errorf("after %s, %s/24 on eth0: %v, want %v", st.action, labtest.VIP, got, st.present)
			}
		}
	})
}

// TestPcsValidationWithTrace: pcs runs validate-all through crm_resource,
// which sends the agent's trace to its stderr, so a resource with
// trace_ra=1 gets the trace as pcs's "Validation result from agent"
// warning, from heartbeat:IPaddr2 (whose shell trace goes there too) as
// from floatip; pcs 0.11 only with --agent-validation, pcs 0.12 always.
// The resource is created all the same.
func TestPcsValidationWithTrace(t *testing.T) {
	labtest.EachStack(t, func(t *testing.T, s *lab.Stack) {
		l := labtest.NewLab(t, labtest.HostA)
		pcs := labtest.StackTool(t, s, "pcs")
		provider := labtest.StackProvider(t, s)
		for _, agent := range []string{"heartbeat", provider} {
			for _, validated := range []bool{false, true} {
				cib := emptyCIB(t, s)
				args := []string{pcs, "-f", cib, "resource", "create", "vip", "ocf:" + agent + ":IPaddr2", "ip=" + labtest.VIP, "cidr_netmask=24", "trace_ra=1"}
				if validated {
					args = append(args, "--agent-validation")
				}
				r := labtest.RunTool(t, s, l.Host("a"), labtest.ToolEnv(t), args...)
				if r.Code != 0 || len(primitives(t, cib)) != 1 {
					t.Errorf("%s, validated %v: exit %d, want the resource created:\n%s", agent, validated, r.Code, r.Stderr)
				}
				warned := strings.Contains(r.Stderr, "Warning: Validation result from agent:\n")
				if want := validated || isPacemaker3(s); warned != want {
					t.Errorf("%s, validated %v: pcs warned with the agent's output: %v, want %v:\n%s", agent, validated, warned, want, r.Stderr)
				}
				if agent == provider && warned && !strings.Contains(r.Stderr, "]: DEBUG: trace: IPaddr2 validate-all of test to fd 2\n") {
					t.Errorf("validated %v: the warning is not floatip's trace:\n%s", validated, r.Stderr)
				}
			}
		}
	})
}

// TestPcsResourceDescribe: pcs shows every parameter of the meta-data,
// marks ip as required and in a unique group of its own (the OCF 1.1 form
// of unique, which pcs reads in a 1.1 document), and advises the
// meta-data's timeouts. pcs 0.11 writes a parameter as "  name:
// description"; pcs 0.12 puts the name on a line of its own, with the
// description on an indented "Description:" line below.
func TestPcsResourceDescribe(t *testing.T) {
	labtest.EachStack(t, func(t *testing.T, s *lab.Stack) {
		pcs := labtest.StackTool(t, s, "pcs")
		provider := labtest.StackProvider(t, s)
		_, md := ownMetadata(t)
		// --full: pcs hides advanced and deprecated parameters without it.
		r := labtest.RunTool(t, s, nil, labtest.ToolEnv(t), pcs, "resource", "describe", "--full", "ocf:"+provider+":IPaddr2")
		if r.Code != 0 {
			t.Fatalf("pcs resource describe: exit %d: %s", r.Code, r.Stderr)
		}
		ipLine, colon := "\n  ip (required) (unique group: ip):", ":"
		if isPacemaker3(s) {
			ipLine, colon = "\n  ip (required) (unique group: ip)\n    Description: ", "\n    Description: "
		}
		for _, p := range md.Parameters {
			if !strings.Contains(r.Stdout, "\n  "+p.Name+colon) && !strings.Contains(r.Stdout, "\n  "+p.Name+" (") {
				t.Errorf("parameter %s is not described as %q", p.Name, "  "+p.Name+colon)
			}
		}
		for _, want := range []string{ipLine, "Default operations:", "timeout=20s", "reload-agent:"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("the description lacks %q:\n%s", want, r.Stdout)
			}
		}
	})
}

func hasLinePrefix(s string, prefixes ...string) bool {
	for _, l := range strings.Split(s, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				return true
			}
		}
	}
	return false
}

// TestCrmRaInfo: crmsh shows every parameter of the meta-data, with ip
// marked required.
func TestCrmRaInfo(t *testing.T) {
	labtest.EachStack(t, func(t *testing.T, s *lab.Stack) {
		crmsh := labtest.StackTool(t, s, "crm")
		provider := labtest.StackProvider(t, s)
		_, md := ownMetadata(t)
		r := labtest.RunTool(t, s, nil, labtest.ToolEnv(t), crmsh, "ra", "info", "ocf:"+provider+":IPaddr2")
		if r.Code != 0 {
			t.Fatalf("crm ra info: exit %d: %s", r.Code, r.Stderr)
		}
		for _, p := range md.Parameters {
			mark := ""
			if p.Required == "1" {
				mark = "*"
			}
			if !hasLinePrefix(r.Stdout, p.Name+mark+" (") {
				t.Errorf("parameter %s is not listed as %s%s (...):\n%s", p.Name, p.Name, mark, r.Stdout)
			}
		}
		if !hasLinePrefix(r.Stdout, "ip* (") {
			t.Errorf("ip is not marked required:\n%s", r.Stdout)
		}
	})
}

// TestCrmConfigurePrimitive: crmsh checks a primitive against the agent's
// meta-data before it writes the CIB, and refuses an unknown or a missing
// required parameter.
func TestCrmConfigurePrimitive(t *testing.T) {
	labtest.EachStack(t, func(t *testing.T, s *lab.Stack) {
		crmsh := labtest.StackTool(t, s, "crm")
		provider := labtest.StackProvider(t, s)
		tests := []struct {
			name   string
			params []string
			ok     bool
			stderr string
		}{
			{"accepted", []string{"ip=" + labtest.VIP, "cidr_netmask=24"}, true, ""},
			{"unknown parameter", []string{"ip=" + labtest.VIP, "bogus=1"}, false, `parameter "bogus" is not known`},
			{"missing ip", []string{"cidr_netmask=24"}, false, `required parameter "ip" not defined`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cib := emptyCIB(t, s)
				env := labtest.ToolEnv(t, "CIB_file="+cib)
				// crm verifies the whole CIB after each change, and a CIB with
				// a resource and neither fencing nor stonith-enabled=false does
				// not verify: it would refuse even a good primitive.
				if r := labtest.RunTool(t, s, nil, env, crmsh, "configure", "property", "stonith-enabled=false"); r.Code != 0 {
					t.Fatalf("crm configure property: exit %d: %s", r.Code, r.Stderr)
				}
				args := append([]string{crmsh, "configure", "primitive", "vip", "ocf:" + provider + ":IPaddr2", "params"}, tt.params...)
				args = append(args, "op", "monitor", "interval=10s")
				r := labtest.RunTool(t, s, nil, env, args...)
				if (r.Code == 0) != tt.ok {
					t.Errorf("exit %d, want success %v\nstderr: %s", r.Code, tt.ok, r.Stderr)
				}
				if !strings.Contains(r.Stderr, tt.stderr) {
					t.Errorf("stderr does not say %q:\n%s", tt.stderr, r.Stderr)
				}
				prims := primitives(t, cib)
				switch {
				case !tt.ok && len(prims) != 0:
					t.Errorf("refused, yet the CIB holds %+v", prims)
				case tt.ok && (len(prims) != 1 || prims[0].Provider != provider || strings.Join(prims[0].params(), " ") != strings.Join(tt.params, " ")):
					t.Errorf("the CIB holds %+v, want vip with %v", prims, tt.params)
				}
			})
		}
	})
}
