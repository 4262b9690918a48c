package tests

import (
	"bufio"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/floatip/floatip/tests/lab"
	"github.com/google/go-cmp/cmp"
)

// confinementList is what the agent needs from the kernel, as the admin
// guide's confinement page shows it: the sockets it opens, the syscalls it
// makes that need a capability, and the capabilities.
const (
	confinementList = "testdata/confinement.txt"
	confinementPage = guideDir + "/confinement.md"
)

// privilegedSyscalls are the syscalls that need a capability or change
// what the process may do: the agent may make only those the list names.
var privilegedSyscalls = []string{
	"setns", "unshare", "mount", "umount2", "pivot_root", "chroot",
	"capset", "setuid", "setgid", "setgroups", "setresuid", "setresgid",
	"ptrace", "process_vm_writev", "bpf", "perf_event_open",
	"init_module", "finit_module", "delete_module", "kexec_load", "reboot",
	"mknod", "mknodat", "chown", "fchown", "fchownat", "lchown",
	"settimeofday", "clock_settime", "adjtimex", "sethostname",
	"setdomainname", "open_by_handle_at", "keyctl", "add_key", "syslog",
	"iopl", "ioperm", "swapon", "swapoff", "acct", "quotactl",
}

// TestConfinement holds the confinement page to the binary: strace over
// every action of an IPv4 and an IPv6 VIP, named by network_namespace,
// with kill_connections and syslog on, sees exactly the socket families,
// types and protocols and the privileged syscalls that the list names;
// the actions work with only the capabilities it names, and each of
// those is needed by some action. A new socket, syscall or capability
// fails it until the page and the profiles say so.
func TestConfinement(t *testing.T) {
	want := readConfinementList(t)
	t.Run("page shows the list", func(t *testing.T) {
		b, err := os.ReadFile(confinementPage)
		if err != nil {
			t.Fatal(err)
		}
		block := "\n    " + strings.Join(want, "\n    ") + "\n"
		if !strings.Contains(string(b), block) {
			t.Errorf("%s does not show %s as an indented block:%s", confinementPage, confinementList, block)
		}
	})
	l := newLab(t, lab.HostSpec{Name: "a", Addr: hostA.Addr, Addr6: netip.MustParsePrefix("2001:db8::1/64")})
	h := l.Host("a")
	needTool(t, "strace")
	needTool(t, "setpriv")
	// wantCodes are the exit codes of the actions in the order codes
	// runs them.
	var wantCodes []int
	for range confinementVIPs(h) {
		for _, a := range confinementActions {
			wantCodes = append(wantCodes, a.code)
		}
	}

	t.Run("strace", func(t *testing.T) {
		dir := t.TempDir()
		rsctmp := t.TempDir()
		n := 0
		for _, fam := range confinementVIPs(h) {
			for _, a := range confinementActions {
				n++
				out := filepath.Join(dir, a.name+"-"+strings.ReplaceAll(fam[0], ":", "_"))
				argv := []string{"strace", "-f", "-qq", "-o", out, "-e", "trace=socket," + strings.Join(privilegedSyscalls, ","), binary, a.action}
				res := runConfined(t, rsctmp, argv, append(fam, a.params...))
				if res.Code != a.code {
					t.Errorf("%s %s: exit %d, want %d\n%s", a.action, fam[0], res.Code, a.code, res.Stderr)
				}
			}
		}
		got := traced(t, dir)
		var used []string
		for _, w := range want {
			if !strings.HasPrefix(w, "capability ") {
				used = append(used, w)
			}
		}
		if d := cmp.Diff(used, got); d != "" {
			t.Errorf("sockets and privileged syscalls of %d actions differ from %s (-listed +traced):\n%s", n, confinementList, d)
		}
	})

	var caps []string
	for _, w := range want {
		if c, ok := strings.CutPrefix(w, "capability "); ok {
			caps = append(caps, c)
		}
	}
	codes := func(t *testing.T, keep []string) []int {
		set := "-all"
		for _, c := range keep {
			set += ",+" + strings.ToLower(strings.TrimPrefix(c, "CAP_"))
		}
		rsctmp := t.TempDir()
		var got []int
		for _, fam := range confinementVIPs(h) {
			for _, a := range confinementActions {
				argv := []string{"setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=" + set, binary, a.action}
				got = append(got, runConfined(t, rsctmp, argv, append(fam, a.params...)).Code)
			}
			// Whatever a failed start left, a stop with every
			// capability removes.
			runConfined(t, rsctmp, []string{binary, "stop"}, fam)
		}
		return got
	}
	t.Run("the listed capabilities suffice", func(t *testing.T) {
		if d := cmp.Diff(wantCodes, codes(t, caps)); d != "" {
			t.Errorf("exit codes with only %v (-want +got):\n%s", caps, d)
		}
	})
	for _, c := range caps {
		t.Run("needs "+c, func(t *testing.T) {
			rest := slices.DeleteFunc(slices.Clone(caps), func(x string) bool { return x == c })
			if got := codes(t, rest); slices.Equal(got, wantCodes) {
				t.Errorf("every action worked without %s: the list names a capability the agent does not need", c)
			}
		})
	}
}

// confinementAction is one action of the traced run, with the exit code
// it must give in the run's order.
type confinementAction struct {
	name, action string
	params       []string
	code         int
}

var confinementActions = []confinementAction{
	{"validate", "validate-all", nil, 0},
	{"probe", "monitor", []string{"OCF_RESKEY_CRM_meta_interval=0"}, 7},
	{"start", "start", nil, 0},
	{"monitor", "monitor", []string{"OCF_RESKEY_CRM_meta_interval=10000"}, 0},
	{"monitor10", "monitor", []string{"OCF_RESKEY_CRM_meta_interval=10000", "OCF_CHECK_LEVEL=10"}, 0},
	{"reload", "reload-agent", []string{"arp_count=1"}, 0},
	{"announce", "announce", nil, 0},
	{"doctor", "doctor", nil, 0},
	{"stop", "stop", nil, 0},
	{"meta-data", "meta-data", nil, 0},
}

// confinementVIPs are the parameters of the IPv4 and the IPv6 VIP, each
// named by its address first.
func confinementVIPs(h *lab.Host) [][]string {
	common := []string{"network_namespace=" + h.NS, "kill_connections=true", "arp_count=2", "arp_interval=50",
		"HA_LOGFACILITY=daemon"}
	return [][]string{
		append([]string{"198.18.0.100", "ip=198.18.0.100", "cidr_netmask=24"}, common...),
		append([]string{"2001:db8::100", "ip=2001:db8::100", "cidr_netmask=64"}, common...),
	}
}

// runConfined runs argv in the test's namespace with the parameters (the
// first, the address alone, is a label and left out).
func runConfined(t *testing.T, rsctmp string, argv, params []string) lab.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := lab.RunHere(ctx, ocfEnv(rsctmp, params[1:]...), argv...)
	if err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	return res
}

var (
	straceSocket  = regexp.MustCompile(`^\d+ +socket\((AF_\w+), (SOCK_\w+)[|\w]*, ([^,)<]+)`)
	straceSyscall = regexp.MustCompile(`^\d+ +([a-z0-9_]+)\(`)
	ethProto      = regexp.MustCompile(`^htons\((\w+).*`)
)

// traced reads the strace files in dir: the sockets the agent opened, as
// "socket FAMILY TYPE PROTOCOL" (AF_UNIX, syslog's, by family alone: its
// type depends on what listens on /dev/log), and the privileged syscalls,
// as "syscall NAME", sorted and without repeats.
func traced(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no strace output in %s: %v", dir, err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			l := sc.Text()
			if m := straceSocket.FindStringSubmatch(l); m != nil {
				if m[1] == "AF_UNIX" {
					seen["socket AF_UNIX"] = true
					continue
				}
				proto := ethProto.ReplaceAllString(strings.TrimSpace(m[3]), "$1")
				seen["socket "+m[1]+" "+m[2]+" "+proto] = true
			} else if m := straceSyscall.FindStringSubmatch(l); m != nil && slices.Contains(privilegedSyscalls, m[1]) {
				seen["syscall "+m[1]] = true
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// readConfinementList reads the list: one entry a line, sorted.
func readConfinementList(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(confinementList)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		out = append(out, strings.TrimSpace(l))
	}
	if !slices.IsSorted(out) {
		t.Fatalf("%s is not sorted", confinementList)
	}
	return out
}

// TestConfinementProfiles compiles the AppArmor profile and the SELinux
// module of packaging/confinement, without loading either: the kernel of
// the test machine may have neither, and loading would confine the
// machine's own floatip.
func TestConfinementProfiles(t *testing.T) {
	dir := t.TempDir()
	for _, c := range [][]string{
		{needTool(t, "apparmor_parser"), "--skip-kernel-load", "--skip-cache", "--quiet", "-o", filepath.Join(dir, "floatip.aa.bin"), "../packaging/confinement/floatip.apparmor"},
		{needTool(t, "checkmodule"), "-M", "-m", "-o", filepath.Join(dir, "floatip.mod"), "../packaging/confinement/floatip.te"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		res, err := lab.RunHere(ctx, os.Environ(), c...)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != 0 {
			t.Errorf("%s: exit %d\n%s%s", strings.Join(c, " "), res.Code, res.Stdout, res.Stderr)
		}
	}
	for _, f := range []string{"floatip.aa.bin", "floatip.mod"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("no compiled %s: %v", f, err)
		}
	}
}
