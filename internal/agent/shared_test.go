package agent

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/floatip/floatip/internal/clusterip"
	"github.com/floatip/floatip/ocf"
)

// fakeShared is what a fake node holds of one load-shared address, and
// the specs it was asked to program.
type fakeShared struct {
	state clusterip.State
	specs []clusterip.Spec
	// lacks, when set, is what the kernel lacks: every call fails with it.
	lacks error
	// removeErr, when set, is RemoveShared's error.
	removeErr error
}

func (k *fakeKernel) AddBucket(s clusterip.Spec, b int) error {
	k.shared.specs = append(k.shared.specs, s)
	if k.shared.lacks != nil {
		return fmt.Errorf("add bucket: %w", errors.Join(k.shared.lacks, errors.New("no such file or directory")))
	}
	st := &k.shared.state
	if st.Stale {
		*st = clusterip.State{Buckets: st.Buckets}
	}
	st.Table, st.Member, st.ARP, st.ND = true, true, s.MangleARP, s.MangleND
	if !st.Has(b) {
		st.Buckets = append([]int{b}, st.Buckets...)
	}
	return nil
}

func (k *fakeKernel) RemoveBucket(s clusterip.Spec, b int) (clusterip.State, error) {
	k.shared.specs = append(k.shared.specs, s)
	st := &k.shared.state
	st.Buckets = slices.DeleteFunc(st.Buckets, func(x int) bool { return x == b })
	if len(st.Buckets) == 0 {
		*st = clusterip.State{}
	}
	return *st, nil
}

func (k *fakeKernel) RemoveShared(s clusterip.Spec) error {
	k.shared.specs = append(k.shared.specs, s)
	if k.shared.removeErr != nil {
		return k.shared.removeErr
	}
	k.shared.state = clusterip.State{}
	return nil
}

func (k *fakeKernel) InspectShared(s clusterip.Spec) (clusterip.State, error) {
	k.shared.specs = append(k.shared.specs, s)
	if k.shared.lacks != nil {
		return clusterip.State{}, k.shared.lacks
	}
	st := k.shared.state
	st.Buckets = slices.Clone(st.Buckets)
	return st, nil
}

func (k *fakeKernel) CheckShared(s clusterip.Spec) error {
	k.shared.specs = append(k.shared.specs, s)
	return k.shared.lacks
}

// cloneEnv is the environment of instance n of a load-shared clone of
// vip with clone_max 3.
func cloneEnv(n int, more ...string) []string {
	return append([]string{vip, "OCF_RESKEY_CRM_meta_clone=" + fmt.Sprint(n), "OCF_RESKEY_CRM_meta_clone_max=3",
		"OCF_RESKEY_CRM_meta_clone_node_max=3", "OCF_RESKEY_CRM_meta_globally_unique=true", "OCF_RESKEY_clusterip_mac_mangle=true"}, more...)
}

// TestSharedStartMonitorStop: two instances of a load-shared address on
// one node each add their bucket; the address is added once, and
// announced with the cluster MAC, the whole burst from start. The
// instance not on the node is not running here. The first stop leaves
// the address to the other instance; the last takes everything with it,
// and a stop after it changes nothing.
func TestSharedStartMonitorStop(t *testing.T) {
	h := newHarness(t)
	for _, n := range []int{0, 1} {
		if st := h.run(t, "start", cloneEnv(n)...); st != ocf.Success {
			t.Fatalf("start of instance %d = %v: %s", n, st, h.stderr.String())
		}
	}
	if want := []int{2, 1}; !slices.Equal(h.k.shared.state.Buckets, want) {
		t.Errorf("buckets %v, want %v", h.k.shared.state.Buckets, want)
	}
	if len(h.k.added) != 1 {
		t.Errorf("the address was added %d times, want once", len(h.k.added))
	}
	// The facts of IPaddr2 for 198.18.0.100/24 brd 198.18.0.255.
	s := h.k.shared.specs[0]
	if s.Seed != 0x53518eaa || s.MAC.String() != "53:51:8e:aa:a9:95" || s.Buckets != 3 || !s.MangleARP || s.Link != "eth0" {
		t.Errorf("spec %+v, want IPaddr2's seed 0x53518eaa and MAC 53:51:8e:aa:a9:95 for 3 buckets on eth0 with the ARP rewrite", s)
	}
	if h.k.dialedMAC.String() != s.MAC.String() || len(h.bg) != 0 || h.announced != 20 {
		t.Errorf("announced %d frames from %s, %d in the background; want 10 each start (5 rounds of 2) from the cluster MAC, none in the background", h.announced, h.k.dialedMAC, len(h.bg))
	}
	for n, want := range map[int]ocf.Status{0: ocf.Success, 1: ocf.Success, 2: ocf.NotRunning} {
		if st := h.run(t, "monitor", cloneEnv(n)...); st != want {
			t.Errorf("monitor of instance %d = %v, want %v: %s", n, st, want, h.reason())
		}
	}
	// reload-agent and announce by hand announce the cluster MAC too.
	for _, action := range []string{"reload-agent", "announce"} {
		h.k.dialedMAC = nil
		if st := h.run(t, action, cloneEnv(0)...); st != ocf.Success || h.k.dialedMAC.String() != s.MAC.String() {
			t.Errorf("%s = %v, announced from %s, want 0 and the cluster MAC %s", action, st, h.k.dialedMAC, s.MAC)
		}
	}
	// With nic and prefix given, monitor still hashes the broadcast
	// address findif finds, as start did.
	h.k.shared.specs = nil
	if st := h.run(t, "monitor", cloneEnv(0, "OCF_RESKEY_nic=eth0", "OCF_RESKEY_cidr_netmask=24")...); st != ocf.Success || h.k.shared.specs[0].Seed != s.Seed {
		t.Errorf("monitor with nic and cidr_netmask = %v with %+v, want 0 with seed %#x", st, h.k.shared.specs, s.Seed)
	}
	if st := h.run(t, "stop", cloneEnv(0)...); st != ocf.Success {
		t.Fatalf("stop of instance 0 = %v", st)
	}
	if on, _ := h.k.AddrOn(h.k.links[1], netip.MustParsePrefix("198.18.0.100/24"), ""); on == nil || !slices.Equal(h.k.shared.state.Buckets, []int{2}) {
		t.Errorf("after the first stop: address %v, buckets %v; want the address and bucket 2", on, h.k.shared.state.Buckets)
	}
	for i := 0; i < 2; i++ {
		if st := h.run(t, "stop", cloneEnv(1)...); st != ocf.Success {
			t.Fatalf("stop %d of instance 1 = %v", i+1, st)
		}
	}
	if on, _ := h.k.AddrOn(h.k.links[1], netip.MustParsePrefix("198.18.0.100/24"), ""); on != nil || !h.k.shared.state.Empty() {
		t.Errorf("after the last stop: address %v, %+v; want nothing", on, h.k.shared.state)
	}
	if st := h.run(t, "monitor", cloneEnv(1)...); st != ocf.NotRunning {
		t.Errorf("monitor after the last stop = %v", st)
	}
	if entries, _ := os.ReadDir(h.rsctmp); len(entries) != 0 {
		t.Errorf("left in HA_RSCTMP: %v", entries)
	}
}

// TestSharedMonitor: what monitor says of each state of the node. Where
// it differs from IPaddr2 (the facts in tests/testdata/clone-facts.json),
// docs/compatibility.md says why.
func TestSharedMonitor(t *testing.T) {
	full := clusterip.State{Table: true, Buckets: []int{1}, ARP: true, Member: true}
	with := func(f func(*clusterip.State)) clusterip.State {
		st := full
		st.Buckets = slices.Clone(full.Buckets)
		f(&st)
		return st
	}
	for _, tc := range []struct {
		name   string
		state  clusterip.State
		addr   bool
		want   ocf.Status
		reason string
	}{
		{"all in place", full, true, ocf.Success, ""},
		{"nothing", clusterip.State{}, false, ocf.NotRunning, ""},
		{"another instance's bucket only", with(func(s *clusterip.State) { s.Buckets = []int{3} }), true, ocf.NotRunning, ""},
		{"table without any bucket", with(func(s *clusterip.State) { s.Buckets = nil }), true, ocf.ErrGeneric, "without bucket 1"},
		{"address without a table", clusterip.State{}, true, ocf.ErrGeneric, "its table is missing"},
		// IPaddr2: 7. A start cut short before the address.
		{"bucket without the address", full, false, ocf.ErrGeneric, "the address is not on eth0"},
		// IPaddr2: 0, it looks at neither.
		{"no membership", with(func(s *clusterip.State) { s.Member = false }), true, ocf.ErrGeneric, "has not joined the cluster MAC"},
		{"no ARP rewrite", with(func(s *clusterip.State) { s.ARP = false }), true, ocf.ErrGeneric, "ARP rewrite"},
		// IPaddr2: 0 (another clone_max, the drop rule deleted).
		{"stale rules", with(func(s *clusterip.State) { s.Stale = true }), true, ocf.ErrGeneric, "not those of its parameters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.k.shared.state = tc.state
			if tc.addr {
				if st := h.run(t, "start", vip); st != ocf.Success {
					t.Fatal(st)
				}
			}
			if st := h.run(t, "monitor", cloneEnv(0)...); st != tc.want || !strings.Contains(h.reason(), tc.reason) {
				t.Errorf("monitor = %v %q, want %v with %q", st, h.reason(), tc.want, tc.reason)
			}
		})
	}
}

// TestSharedStopCleansUp: a stop of an instance on a node where no
// bucket is left but something of the address is (a start or stop cut
// short) removes all of it; beside another instance's bucket it changes
// nothing.
func TestSharedStopCleansUp(t *testing.T) {
	h := newHarness(t)
	if st := h.run(t, "start", vip); st != ocf.Success {
		t.Fatal(st)
	}
	h.k.shared.state = clusterip.State{Table: true, Member: true}
	if st := h.run(t, "stop", cloneEnv(0)...); st != ocf.Success {
		t.Fatalf("stop = %v", st)
	}
	if on, _ := h.k.AddrOn(h.k.links[1], netip.MustParsePrefix("198.18.0.100/24"), ""); on != nil || !h.k.shared.state.Empty() {
		t.Errorf("after stop: address %v, %+v; want nothing", on, h.k.shared.state)
	}
	h.run(t, "start", cloneEnv(2)...)
	if st := h.run(t, "stop", cloneEnv(0)...); st != ocf.Success || !slices.Equal(h.k.shared.state.Buckets, []int{3}) {
		t.Errorf("stop of an instance not here = %v, left %+v; want 0 and bucket 3", st, h.k.shared.state)
	}
}

// TestSharedNicRenamed: the nic of a running instance is renamed. It
// still holds the address and the bucket: monitor says so (1), and stop
// removes the bucket and the address there, with the nic's new name and
// the broadcast address the start hashed, which give the MAC whose
// membership the stop leaves.
func TestSharedNicRenamed(t *testing.T) {
	h := newHarness(t)
	env := cloneEnv(0, "OCF_RESKEY_nic=eth0", "OCF_RESKEY_cidr_netmask=24")
	if st := h.run(t, "start", env...); st != ocf.Success {
		t.Fatal(st)
	}
	started := h.k.shared.specs[len(h.k.shared.specs)-1]
	h.k.links[1].Name = "renamed0"
	if st := h.run(t, "monitor", env...); st != ocf.ErrGeneric {
		t.Errorf("monitor after the rename = %v, want %v", st, ocf.ErrGeneric)
	}
	h.k.shared.specs = nil
	if st := h.run(t, "stop", env...); st != ocf.Success {
		t.Fatalf("stop = %v", st)
	}
	if on, _ := h.k.AddrOn(h.k.links[1], netip.MustParsePrefix("198.18.0.100/24"), ""); on != nil || !h.k.shared.state.Empty() {
		t.Errorf("after stop: address %v, %+v; want nothing", on, h.k.shared.state)
	}
	want := started
	want.Link = "renamed0"
	if len(h.k.shared.specs) == 0 || !cmp.Equal(h.k.shared.specs[0], want, cmpopts.EquateComparable(netip.Addr{})) {
		t.Errorf("stop's spec = %+v, want %+v", h.k.shared.specs, want)
	}
}

// TestSharedStopBesideOwnedTable: a table of the address's name that the
// kernel refuses to remove (flagged owner by another process) holds
// nothing of the instance: stop leaves it and says 0.
func TestSharedStopBesideOwnedTable(t *testing.T) {
	h := newHarness(t)
	h.k.shared.state = clusterip.State{Table: true, Stale: true}
	h.k.shared.removeErr = fmt.Errorf("remove table: %w", syscall.EPERM)
	if st := h.run(t, "stop", cloneEnv(0)...); st != ocf.Success {
		t.Errorf("stop = %v, want 0", st)
	}
	h.k.shared.removeErr = fmt.Errorf("remove table: %w", syscall.EBUSY)
	if st := h.run(t, "stop", cloneEnv(0)...); st != ocf.ErrGeneric {
		t.Errorf("stop with another error = %v, want %v", st, ocf.ErrGeneric)
	}
}

// TestSharedRefusals: what clone mode refuses, with its code and one
// line, before changing anything.
func TestSharedRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		env    []string
		lacks  error
		want   ocf.Status
		reason string
	}{
		{"seed not a number", cloneEnv(0, "OCF_RESKEY_clusterip_hash_seed=seed"), nil, ocf.ErrConfigured, "clusterip_hash_seed [seed]"},
		{"seed 0", cloneEnv(0, "OCF_RESKEY_clusterip_hash_seed=0"), nil, ocf.ErrConfigured, "clusterip_hash_seed 0"},
		{"mac not multicast", cloneEnv(0, "OCF_RESKEY_mac=02:00:00:00:00:01"), nil, ocf.ErrConfigured, "mac [02:00:00:00:00:01]"},
		{"lvs_support", cloneEnv(0, "OCF_RESKEY_lvs_support=true"), nil, ocf.ErrConfigured, "lvs_support"},
		{"instance beyond clone_max", cloneEnv(3), nil, ocf.ErrConfigured, "clone_max is 3"},
		{"on the loopback", []string{"OCF_RESKEY_ip=127.0.0.100", "OCF_RESKEY_CRM_meta_clone_max=2"}, nil, ocf.ErrConfigured, "loopback device"},
		{"no nf_tables", cloneEnv(0), clusterip.ErrNoNFTables, ocf.ErrInstalled, "CONFIG_NF_TABLES"},
		{"no hash", cloneEnv(0), clusterip.ErrNoHash, ocf.ErrInstalled, "CONFIG_NFT_HASH"},
		{"no arp family", cloneEnv(0), clusterip.ErrNoARP, ocf.ErrInstalled, "CONFIG_NF_TABLES_ARP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.k.shared.lacks = tc.lacks
			for _, action := range []string{"validate-all", "start"} {
				if action == "validate-all" && tc.name == "instance beyond clone_max" {
					continue
				}
				if st := h.run(t, action, tc.env...); st != tc.want || !strings.Contains(h.reason(), tc.reason) {
					t.Errorf("%s = %v %q, want %v with %q", action, st, h.reason(), tc.want, tc.reason)
				}
				if strings.Count(h.stderr.String(), "ocf-exit-reason:") != 1 {
					t.Errorf("%s: not one reason:\n%s", action, h.stderr.String())
				}
			}
			if len(h.k.added) != 0 || !h.k.shared.state.Empty() {
				t.Errorf("a refused start added %+v, left %+v", h.k.added, h.k.shared.state)
			}
		})
	}
}

// TestSharedIPv6: an IPv6 instance is added without DAD, which would find
// the other nodes' copies, and with clusterip_mac_mangle rewrites its
// neighbour advertisements to the cluster MAC (33:33:...), which IPaddr2
// refuses (docs/compatibility.md).
func TestSharedIPv6(t *testing.T) {
	h := newHarness(t)
	env := []string{"OCF_RESKEY_ip=2001:db8::100", "OCF_RESKEY_CRM_meta_clone=1", "OCF_RESKEY_CRM_meta_clone_max=2", "OCF_RESKEY_clusterip_mac_mangle=true"}
	if st := h.run(t, "start", env...); st != ocf.Success {
		t.Fatalf("start = %v: %s", st, h.stderr.String())
	}
	if len(h.k.added) != 1 || !h.k.added[0].NoDAD || h.k.dads != 0 {
		t.Errorf("added %+v with %d DAD waits, want one address without DAD", h.k.added, h.k.dads)
	}
	s := h.k.shared.specs[0]
	want := clusterip.Spec{IP: netip.MustParseAddr("2001:db8::100"), Link: "eth0", Buckets: 2, Seed: 0x38848739, MAC: s.MAC, MangleND: true}
	if diff := cmp.Diff(want, s, cmpopts.EquateComparable(netip.Addr{})); diff != "" || s.MAC.String() != "33:33:87:39:90:f1" {
		t.Errorf("spec (-want +got):\n%s, MAC %s", diff, s.MAC)
	}
	if st := h.run(t, "monitor", env...); st != ocf.Success {
		t.Errorf("monitor = %v: %s", st, h.reason())
	}
}

// TestSharedValidateWithoutPrivileges: validate-all, which runs without
// root too, does not fail a clone for a kernel it may not ask.
func TestSharedValidateWithoutPrivileges(t *testing.T) {
	h := newHarness(t)
	h.root = false
	h.k.shared.lacks = fmt.Errorf("open nftables: %w", syscall.EPERM)
	if st := h.run(t, "validate-all", cloneEnv(0)...); st != ocf.Success || !strings.Contains(h.stderr.String(), "could not ask the kernel") {
		t.Errorf("validate-all = %v:\n%s", st, h.stderr.String())
	}
}
