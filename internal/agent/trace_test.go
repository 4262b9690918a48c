package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/metadata"
	"github.com/floatip/floatip/ocf"
)

// traceLines returns the lines of a trace without their timestamps and
// tags, those that start with prefix.
func traceLines(trace *bytes.Buffer, prefix string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(trace.String(), "\n"), "\n") {
		_, msg, ok := strings.Cut(l, ": DEBUG: ")
		if ok && strings.HasPrefix(msg, prefix) {
			out = append(out, msg)
		}
	}
	return out
}

func TestTraceKernel(t *testing.T) {
	eth0 := netif.Link{Name: "eth0", Index: 2}
	vip := netip.MustParsePrefix("198.18.0.100/24")
	ip := vip.Addr()
	k0 := node()
	link, _ := k0.LinkByName("eth0")
	na := netif.NewAddr{Prefix: vip, Label: "eth0:vip"}
	k0.AddAddr(eth0, na)
	added := k0.addrs[len(k0.addrs)-1]
	tests := []struct {
		name string
		call func(k Kernel)
		want []string
	}{
		{"LinkByName", func(k Kernel) { k.LinkByName("eth0") },
			[]string{fmt.Sprintf("kernel: LinkByName(eth0) = %+v <nil>", link)}},
		{"LinkByName missing", func(k Kernel) { k.LinkByName("eth9") },
			[]string{fmt.Sprintf("kernel: LinkByName(eth9) = %+v no such interface", netif.Link{})}},
		{"LinkByIndex", func(k Kernel) { k.LinkByIndex(2) },
			[]string{fmt.Sprintf("kernel: LinkByIndex(2) = %+v <nil>", link)}},
		{"AddrOn absent", func(k Kernel) { k.AddrOn(eth0, vip, "") },
			[]string{`kernel: AddrOn(eth0, 198.18.0.100/24, "") = <nil> <nil>`}},
		{"AddrOn present", func(k Kernel) {
			k.AddAddr(eth0, na)
			k.AddrOn(eth0, vip, "eth0:vip")
		}, []string{
			fmt.Sprintf("kernel: AddAddr(eth0, %+v) = <nil>", na),
			fmt.Sprintf(`kernel: AddrOn(eth0, 198.18.0.100/24, "eth0:vip") = %+v <nil>`, &added),
		}},
		{"AddrsOf", func(k Kernel) { k.AddrsOf(ip) },
			[]string{"kernel: AddrsOf(198.18.0.100) = 0 address(es) <nil>: []"}},
		{"AddrsIn", func(k Kernel) { k.AddrsIn(eth0, vip) },
			[]string{fmt.Sprintf("kernel: AddrsIn(eth0, 198.18.0.100/24) = 1 address(es) <nil>: %+v", node().addrs[:1])}},
		{"DelAddr fails", func(k Kernel) { k.DelAddr(eth0, vip) },
			[]string{"kernel: DelAddr(eth0, 198.18.0.100/24) = cannot assign requested address"}},
		{"Routes", func(k Kernel) { k.Routes(netif.IPv6) },
			[]string{fmt.Sprintf("kernel: Routes(IPv6) = 1 route(s) <nil>: %+v", node().routes[1:])}},
		{"SetUp", func(k Kernel) { k.SetUp(eth0) }, []string{"kernel: SetUp(eth0) = <nil>"}},
		{"FlushRouteCache", func(k Kernel) { k.FlushRouteCache(netif.IPv4) }, []string{"kernel: FlushRouteCache(IPv4) = <nil>"}},
		{"WaitDAD", func(k Kernel) { k.WaitDAD(context.Background(), eth0, vip) }, []string{
			"kernel: WaitDAD(eth0, 198.18.0.100/24) ...",
			"kernel: WaitDAD(eth0, 198.18.0.100/24) = <nil>",
		}},
		{"address labels", func(k Kernel) {
			k.AddAddrLabel(netip.MustParsePrefix("2001:db8::100/128"), 99)
			k.DelAddrLabel(netip.MustParsePrefix("2001:db8::100/128"), 99)
		}, []string{
			"kernel: AddAddrLabel(2001:db8::100/128, 99) = <nil>",
			"kernel: DelAddrLabel(2001:db8::100/128, 99) = <nil>",
		}},
		{"Probe", func(k Kernel) { k.Probe(context.Background(), eth0, ip) }, []string{
			"kernel: Probe(eth0, 198.18.0.100) ...",
			`kernel: Probe(eth0, 198.18.0.100) = "" <nil>`,
		}},
		{"Resolve", func(k Kernel) { k.Resolve(context.Background(), eth0, ip, netip.MustParseAddr("198.18.0.2")) }, []string{
			"kernel: Resolve(eth0, 198.18.0.100, 198.18.0.2) ...",
			`kernel: Resolve(eth0, 198.18.0.100, 198.18.0.2) = "02:00:00:00:00:09" <nil>`,
		}},
		{"Sysctl", func(k Kernel) { k.Sysctl("net.ipv4.conf.eth0.arp_ignore") },
			[]string{`kernel: Sysctl(net.ipv4.conf.eth0.arp_ignore) = "0" <nil>`}},
		{"SetSysctl", func(k Kernel) { k.SetSysctl("net.ipv4.conf.eth0.promote_secondaries", "1") },
			[]string{`kernel: SetSysctl(net.ipv4.conf.eth0.promote_secondaries, "1") = <nil>`}},
		{"sockets", func(k Kernel) {
			k.CanDestroySockets()
			k.BlockInbound(eth0, ip)
			k.KillConnections(ip)
			k.UnblockInbound(eth0, ip, true)
		}, []string{
			"kernel: CanDestroySockets() = true <nil>",
			"kernel: BlockInbound(eth0, 198.18.0.100) = <nil>",
			"kernel: KillConnections(198.18.0.100) = 3 <nil>",
			"kernel: UnblockInbound(eth0, 198.18.0.100, true) = <nil>",
		}},
		{"Dial and announce", func(k Kernel) {
			an, _ := k.Dial(eth0, ip, nil)
			an.Plan(1, 200*time.Millisecond)
			an.Announce(0)
			an.File()
			an.Close()
		}, []string{
			"kernel: Dial(eth0, 198.18.0.100, []) = <nil>",
			"announcer eth0 198.18.0.100: Plan(1, 200ms) = 2 100ms",
			"announcer eth0 198.18.0.100: Announce(0) = <nil>",
			"announcer eth0 198.18.0.100: File() = false <nil>",
			"announcer eth0 198.18.0.100: Close() = <nil>",
		}},
		{"Close", func(k Kernel) { k.Close() }, []string{"kernel: Close()"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr, trace bytes.Buffer
			log := ocf.NewLogger(ocf.Env{Instance: "vip"}, "IPaddr2", 1, &stderr)
			log.SetTrace(&trace)
			var announced, probes int
			var claimant net.HardwareAddr
			fk := node()
			fk.announced, fk.probes, fk.claimant = &announced, &probes, &claimant
			fk.neighbors = map[netip.Addr]net.HardwareAddr{netip.MustParseAddr("198.18.0.2"): {2, 0, 0, 0, 0, 9}}
			tt.call(traced(kernelOf(fk), log))
			if diff := cmp.Diff(tt.want, traceLines(&trace, "")); diff != "" {
				t.Errorf("trace (-want +got):\n%s", diff)
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr %q: debug lines must go to the trace only", stderr.String())
			}
		})
	}
}

// tracedAgent is an Agent on the fake node whose logger writes to trace.
func tracedAgent(t *testing.T, traceOn bool, open func(string) (Kernel, error), stderr, trace *bytes.Buffer) *Agent {
	t.Helper()
	md := metadata.Declared()
	e := ocf.ParseEnv([]string{"OCF_RESOURCE_INSTANCE=vip", "HA_RSCTMP=" + t.TempDir(), "OCF_RESKEY_ip=198.18.0.100", "OCF_RESKEY_arp_bg=false", "OCF_RESKEY_arp_count=1"})
	params := md.Defaults()
	for k, v := range e.Params {
		params[k] = v
	}
	log := ocf.NewLogger(e, "IPaddr2", 1, stderr)
	log.SetTrace(trace)
	return &Agent{Open: open, Log: log, Env: e, Params: params, Defaults: md.Defaults(), Root: true, Stdout: &bytes.Buffer{}, Trace: traceOn, Senders: fakeSenders{}.For}
}

func TestAgentTrace(t *testing.T) {
	tests := []struct {
		name    string
		trace   bool
		openErr error
		action  string
		wantSt  ocf.Status
		want    []string // kernel lines, in order, each a prefix
	}{
		{name: "start traced", trace: true, action: "start", wantSt: ocf.Success, want: []string{
			`kernel: Open("") = <nil>`,
			"kernel: Routes(IPv4) = 1 route(s) <nil>: [{Dst:198.18.0.0/24 ",
			"kernel: AddrsOf(198.18.0.1) = 1 address(es) <nil>: [{Prefix:198.18.0.1/24 ",
			"kernel: LinkByIndex(2) = {Name:eth0 Index:2 ",
			"kernel: NamespaceID() = 4026531840 <nil>",
			`kernel: AddrOn(eth0, 198.18.0.100/24, "") = <nil> <nil>`,
			"kernel: UnblockInbound(eth0, 198.18.0.100, false) = <nil>",
			"kernel: AddAddr(eth0, {Prefix:198.18.0.100/24 ",
			"kernel: Dial(eth0, 198.18.0.100, []) = <nil>",
			"announcer eth0 198.18.0.100: Plan(1, 200ms) = 2 100ms",
			"announcer eth0 198.18.0.100: Announce(0) = <nil>",
			"announcer eth0 198.18.0.100: Announce(1) = <nil>",
			"announcer eth0 198.18.0.100: Close() = <nil>",
			"kernel: Close()",
		}},
		{name: "namespace missing", trace: true, openErr: fmt.Errorf("network namespace x: %w", netif.ErrNoNamespace), action: "monitor", wantSt: ocf.NotRunning, want: []string{
			`kernel: Open("") = network namespace x: `,
		}},
		{name: "not traced", action: "start", wantSt: ocf.Success},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr, trace bytes.Buffer
			var announced, probes int
			var claimant net.HardwareAddr
			fk := node()
			fk.announced, fk.probes, fk.claimant = &announced, &probes, &claimant
			open := func(string) (Kernel, error) {
				if tt.openErr != nil {
					return Kernel{}, tt.openErr
				}
				return kernelOf(fk), nil
			}
			a := tracedAgent(t, tt.trace, open, &stderr, &trace)
			if st := ocf.Run(context.Background(), tt.action, a.Handlers(), a.Log); st != tt.wantSt {
				t.Fatalf("%s = %v, want %v: %s", tt.action, st, tt.wantSt, stderr.String())
			}
			var got []string
			for _, l := range traceLines(&trace, "") {
				if strings.HasPrefix(l, "kernel: ") || strings.HasPrefix(l, "announcer ") {
					got = append(got, l)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("kernel lines:\n%s\nwant %d lines starting:\n%s", strings.Join(got, "\n"), len(tt.want), strings.Join(tt.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("line %d = %q, want it to start %q", i, got[i], tt.want[i])
				}
			}
			// The decisions are in the trace too.
			if tt.wantSt == ocf.Success && !strings.Contains(trace.String(), "INFO: Adding 198.18.0.100/24") {
				t.Errorf("trace lacks the decision to add:\n%s", trace.String())
			}
			if strings.Contains(stderr.String(), "DEBUG") {
				t.Errorf("debug lines on stderr:\n%s", stderr.String())
			}
		})
	}
}

// TestTraceKernelPassesErrors: the decorator changes no answer, so that a
// traced action ends as an untraced one does.
func TestTraceKernelPassesErrors(t *testing.T) {
	var stderr, trace bytes.Buffer
	log := ocf.NewLogger(ocf.Env{}, "IPaddr2", 1, &stderr)
	fk := node()
	fk.failAdd = syscall.EEXIST
	k := traced(kernelOf(fk), log)
	log.SetTrace(&trace)
	err := k.AddAddr(netif.Link{Name: "eth0", Index: 2}, netif.NewAddr{Prefix: netip.MustParsePrefix("198.18.0.100/24")})
	if !errors.Is(err, syscall.EEXIST) {
		t.Errorf("AddAddr = %v, want EEXIST", err)
	}
	if !strings.Contains(trace.String(), ") = file exists\n") {
		t.Errorf("trace lacks the error:\n%s", trace.String())
	}
}
