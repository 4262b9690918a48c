package clusterip

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDerivedAsIPaddr2: the seed, the MAC and the table name are those
// IPaddr2 derived for the same parameters when it ran (the facts recorded
// in tests/testdata/clone-facts.json), so that floatip and IPaddr2 nodes
// hash alike and find each other's tables.
func TestDerivedAsIPaddr2(t *testing.T) {
	data, err := os.ReadFile("../../tests/testdata/clone-facts.json")
	if err != nil {
		t.Fatal(err)
	}
	var facts struct {
		Derived []struct {
			IP          string `json:"ip"`
			CIDRNetmask string `json:"cidr_netmask"`
			Broadcast   string `json:"broadcast"`
			Seed        string `json:"seed"`
			MAC         string `json:"mac"`
			Table       string `json:"table"`
		}
	}
	if err := json.Unmarshal(data, &facts); err != nil {
		t.Fatal(err)
	}
	if len(facts.Derived) == 0 {
		t.Fatal("no derived values in the facts")
	}
	for _, f := range facts.Derived {
		t.Run(f.IP, func(t *testing.T) {
			ip := netip.MustParseAddr(f.IP)
			got := []string{
				fmt.Sprintf("0x%08x", DerivedSeed(ip, f.CIDRNetmask, f.Broadcast)),
				DerivedMAC(ip, f.CIDRNetmask, f.Broadcast).String(),
				TableName(ip),
			}
			if diff := cmp.Diff([]string{f.Seed, f.MAC, f.Table}, got); diff != "" {
				t.Errorf("seed, MAC, table (-IPaddr2 +floatip):\n%s", diff)
			}
		})
	}
}

// TestDerivedMACMulticast: whatever the MD5, the derived MAC is multicast,
// and an IPv6 one starts with 33:33.
func TestDerivedMACMulticast(t *testing.T) {
	for i := range 64 {
		ip := netip.AddrFrom4([4]byte{198, 18, 1, byte(i)})
		if mac := DerivedMAC(ip, "24", "198.18.1.255"); mac[0]&1 == 0 {
			t.Errorf("DerivedMAC(%s) = %s, not multicast", ip, mac)
		}
		ip6 := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)})
		if mac := DerivedMAC(ip6, "64", ""); mac[0] != 0x33 || mac[1] != 0x33 {
			t.Errorf("DerivedMAC(%s) = %s, want 33:33:...", ip6, mac)
		}
	}
}

func TestParseSeed(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"1", 1, true},
		{"0x53518eaa", 0x53518eaa, true},
		{"0xABCDEF", 0xabcdef, true},
		{"4294967295", 0xffffffff, true},
		{"007", 7, true},
		// Octal after a leading 0, as nft reads the seed that IPaddr2
		// hands it: a node of each must hash alike.
		{"010", 8, true},
		{"037777777777", 0xffffffff, true},
		{"040000000000", 0, false},
		{"08", 0, false},
		{"0", 0, true},
		{"4294967296", 0, false},
		{"0x100000000", 0, false},
		{"", 0, false},
		{"0x", 0, false},
		{"0X1f", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1_000", 0, false},
		{"12a", 0, false},
		{" 1", 0, false},
	} {
		got, ok := ParseSeed(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseSeed(%q) = %#x, %v, want %#x, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestValidate(t *testing.T) {
	good := Spec{
		IP: netip.MustParseAddr("198.18.0.100"), Link: "eth0", Buckets: 3, Seed: 1,
		MAC: net.HardwareAddr{0x01, 0x00, 0x5e, 0x11, 0x22, 0x33}, MangleARP: true,
	}
	for _, tc := range []struct {
		name string
		edit func(*Spec)
		want error
	}{
		{"good", func(*Spec) {}, nil},
		{"unicast MAC", func(s *Spec) { s.MAC = net.HardwareAddr{0x02, 0, 0x5e, 0, 0, 1} }, ErrNotMulticast},
		{"short MAC", func(s *Spec) { s.MAC = s.MAC[:5] }, ErrNotMulticast},
		{"no buckets", func(s *Spec) { s.Buckets = 0 }, ErrBucket},
		{"seed 0", func(s *Spec) { s.Seed = 0 }, ErrSeedZero},
		{"IPv6 with ARP mangling", func(s *Spec) { s.IP = netip.MustParseAddr("2001:db8::100") }, ErrMangleIPv6},
		{"IPv6 with ND mangling", func(s *Spec) { s.IP, s.MangleARP, s.MangleND = netip.MustParseAddr("2001:db8::100"), false, true }, nil},
		{"IPv4 with ND mangling", func(s *Spec) { s.MangleND = true }, ErrMangleIPv4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			tc.edit(&s)
			if err := s.Validate(); !errors.Is(err, tc.want) {
				t.Errorf("Validate() = %v, want %v", err, tc.want)
			}
		})
	}
	for _, b := range []int{0, 4, -1} {
		if err := good.checkBucket(b); !errors.Is(err, ErrBucket) {
			t.Errorf("checkBucket(%d) = %v, want %v", b, err, ErrBucket)
		}
	}
}

func TestBucketComment(t *testing.T) {
	for b := 1; b <= 40; b++ {
		if got, ok := parseBucketComment(bucketComment(b)); !ok || got != b {
			t.Errorf("parseBucketComment(bucketComment(%d)) = %d, %v", b, got, ok)
		}
	}
	for _, c := range []string{"", "cip-node-", "cip-node-0", "cip-node-01", "cip-node--1", "cip-node-1x", "node-1"} {
		if b, ok := parseBucketComment(c); ok {
			t.Errorf("parseBucketComment(%q) = %d, want not a bucket", c, b)
		}
	}
}

// TestJhash: Bob Jenkins' published values of lookup3's hashlittle, which
// the kernel's jhash computes on a little-endian CPU.
func TestJhash(t *testing.T) {
	for _, tc := range []struct {
		key  string
		seed uint32
		want uint32
	}{
		{"", 0, 0xdeadbeef},
		{"", 0xdeadbeef, 0xbd5b7dde},
		{"Four score and seven years ago", 0, 0x17770551},
		{"Four score and seven years ago", 1, 0xcd628161},
	} {
		if got := jhash([]byte(tc.key), tc.seed); got != tc.want {
			t.Errorf("jhash(%q, %#x) = %#x, want %#x", tc.key, tc.seed, got, tc.want)
		}
	}
}

// TestBucketRange: every source falls in a bucket of 1 to Buckets, and
// with a few hundred sources every bucket gets some.
func TestBucketRange(t *testing.T) {
	s := Spec{Buckets: 5, Seed: 0x53518eaa}
	got := make([]int, s.Buckets+1)
	for i := range 256 {
		b := s.Bucket(netip.AddrFrom4([4]byte{198, 18, 2, byte(i)}))
		if b < 1 || b > s.Buckets {
			t.Fatalf("bucket %d of 1 to %d", b, s.Buckets)
		}
		got[b]++
	}
	for b := 1; b <= s.Buckets; b++ {
		if got[b] == 0 {
			t.Errorf("no source in bucket %d of %d: %v", b, s.Buckets, got[1:])
		}
	}
}

func TestMulticastMember(t *testing.T) {
	const devMcast = `1    lo              1     0     01005e000001
2    eth0            1     0     333300000001
2    eth0            1     1     01005e112233
2    eth0            1     0     53518eaaa995
3    eth1            1     1     53518eaaa995
`
	mac := func(s string) net.HardwareAddr { m, _ := net.ParseMAC(s); return m }
	for _, tc := range []struct {
		link, mac string
		want      bool
	}{
		{"eth0", "01:00:5e:11:22:33", true},
		{"eth0", "53:51:8e:aa:a9:95", false}, // a socket's, not static
		{"eth1", "53:51:8e:aa:a9:95", true},
		{"eth1", "01:00:5e:11:22:33", false},
		{"eth", "01:00:5e:11:22:33", false},
	} {
		if got := multicastMember(devMcast, tc.link, mac(tc.mac)); got != tc.want {
			t.Errorf("multicastMember(%s, %s) = %v, want %v", tc.link, tc.mac, got, tc.want)
		}
	}
}
