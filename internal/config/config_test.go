package config_test

import (
	"errors"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/floatip/floatip/internal/config"
	"github.com/floatip/floatip/internal/netif"
	"github.com/floatip/floatip/metadata"
)

func defaults(t testing.TB) map[string]string {
	t.Helper()
	md := metadata.Declared()
	return md.Defaults()
}

func with(t testing.TB, kv ...string) map[string]string {
	p := defaults(t)
	for i := 0; i < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	return p
}

// TestParametersMatchMetadata holds Parse and the meta-data together: Parse
// reads every declared parameter but those others read or that have no
// effect, and reads each as its declared type (it panics otherwise).
func TestParametersMatchMetadata(t *testing.T) {
	notParsed := []string{
		// ocf reads the trace parameters, before any action.
		"trace_file", "trace_ra",
		// Accepted for IPaddr2's sake: floatip sends the frames itself
		// and has no CLUSTERIP.
		"clusterip_chain", "clusterip_hash_seed", "clusterip_table", "mac", "send_arp_opts",
	}
	read := map[string]bool{}
	for _, kv := range [][]string{
		{"ip", "198.18.0.100"},
		{"ip", "2001:db8::100", "lvs_ipv6_addrlabel", "true"},
	} {
		names, err := config.ReadParameters(with(t, kv...), nil)
		if err != nil {
			t.Fatalf("%v: %v", kv, err)
		}
		for _, n := range names {
			read[n] = true
		}
	}
	for _, n := range notParsed {
		if read[n] {
			t.Errorf("Parse reads %s, listed as not parsed", n)
		}
		read[n] = true
	}
	want := slices.Sorted(maps.Keys(defaults(t)))
	if diff := cmp.Diff(want, slices.Sorted(maps.Keys(read))); diff != "" {
		t.Errorf("declared parameters (-want) against those Parse reads or lists as not parsed (+got):\n%s", diff)
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		kv    []string
		meta  map[string]string
		check func(*config.Config) bool
	}{
		{"defaults", []string{"ip", "198.18.0.100"}, nil, func(c *config.Config) bool {
			return c.IP == netip.MustParseAddr("198.18.0.100") && c.PrefixLen == -1 && c.NIC == "" &&
				c.ArpCount == 5 && c.ArpInterval == 200*time.Millisecond && c.ArpBackground &&
				c.BroadcastMode == config.BroadcastAuto && c.PreferredLifetime == netif.Forever
		}},
		{"prefix", []string{"ip", "198.18.0.100", "cidr_netmask", "24"}, nil, func(c *config.Config) bool { return c.PrefixLen == 24 }},
		{"dotted quad mask", []string{"ip", "198.18.0.100", "cidr_netmask", "255.255.255.0"}, nil, func(c *config.Config) bool { return c.PrefixLen == 24 }},
		{"nic", []string{"ip", "198.18.0.100", "nic", "eth0"}, nil, func(c *config.Config) bool { return c.NIC == "eth0" && c.Label == "" }},
		{"nic:label", []string{"ip", "198.18.0.100", "nic", "eth0:vip", "iflabel", "other"}, nil, func(c *config.Config) bool {
			return c.NIC == "eth0" && c.Label == "vip" && c.FullLabel("eth0") == "eth0:vip"
		}},
		{"iflabel", []string{"ip", "198.18.0.100", "iflabel", "web"}, nil, func(c *config.Config) bool { return c.Label == "web" }},
		{"broadcast +", []string{"ip", "198.18.0.100", "broadcast", "+"}, nil, func(c *config.Config) bool { return c.BroadcastMode == config.BroadcastAllOnes }},
		{"broadcast -", []string{"ip", "198.18.0.100", "broadcast", "-"}, nil, func(c *config.Config) bool { return c.BroadcastMode == config.BroadcastNetwork }},
		{"broadcast addr", []string{"ip", "198.18.0.100", "broadcast", "198.18.0.255"}, nil, func(c *config.Config) bool {
			return c.BroadcastMode == config.BroadcastExplicit && c.Broadcast == netip.MustParseAddr("198.18.0.255")
		}},
		{"arp", []string{"ip", "198.18.0.100", "arp_count", "4", "arp_interval", "100", "arp_bg", "false", "arp_count_refresh", "2"}, nil, func(c *config.Config) bool {
			return c.ArpCount == 4 && c.ArpInterval == 100*time.Millisecond && !c.ArpBackground && c.ArpCountRefresh == 2
		}},
		{"arp_bg yes", []string{"ip", "198.18.0.100", "arp_bg", "yes"}, nil, func(c *config.Config) bool { return c.ArpBackground }},
		{"addrlabel ignored on ipv4 (4.15.1)", []string{"ip", "198.18.0.100", "lvs_ipv6_addrlabel", "true"}, nil, func(c *config.Config) bool { return !c.LVSIPv6AddrLabel }},
		{"addrlabel on by default for ipv6 (4.15)", []string{"ip", "2001:db8::100"}, nil, func(c *config.Config) bool {
			return c.LVSIPv6AddrLabel && c.LVSIPv6AddrLabelValue == 99
		}},
		// The kernel's label is 32 bits; all ones is its "no label".
		{"addrlabel value beyond 31 bits", []string{"ip", "2001:db8::100", "lvs_ipv6_addrlabel_value", "4294967294"}, nil, func(c *config.Config) bool {
			return c.LVSIPv6AddrLabel && c.LVSIPv6AddrLabelValue == 4294967294
		}},
		{"any proto", []string{"ip", "198.18.0.100"}, nil, func(c *config.Config) bool { return c.Proto == -1 }},
		{"proto kernel", []string{"ip", "198.18.0.100", "proto", "kernel"}, nil, func(c *config.Config) bool { return c.Proto == 2 }},
		{"proto number", []string{"ip", "198.18.0.100", "proto", "186"}, nil, func(c *config.Config) bool { return c.Proto == 186 }},
		{"check_link_status on by default (4.17)", []string{"ip", "198.18.0.100"}, nil, func(c *config.Config) bool { return c.CheckLinkStatus }},
		{"ipv6 foreground by default", []string{"ip", "2001:db8::100"}, nil, func(c *config.Config) bool { return c.Is6() && !c.ArpBackground }},
		{"ipv6 canonical", []string{"ip", "2001:DB8:0:0::0100"}, nil, func(c *config.Config) bool { return c.IP.String() == "2001:db8::100" }},
		{"ipv6 /128", []string{"ip", "2001:db8::100", "cidr_netmask", "128"}, nil, func(c *config.Config) bool { return c.PrefixLen == 128 }},
		{"preferred_lft 0", []string{"ip", "2001:db8::100", "preferred_lft", "0"}, nil, func(c *config.Config) bool { return c.PreferredLifetime == 0 }},
		{"booleans", []string{"ip", "198.18.0.100", "nodad", "true", "noprefixroute", "1", "flush_routes", "on", "run_arping", "yes"}, nil, func(c *config.Config) bool {
			return c.NoDAD && c.NoPrefixRoute && c.FlushRoutes && c.RunArping
		}},
		{"unique clone", []string{"ip", "198.18.0.100", "unique_clone_address", "true"}, map[string]string{"clone": "3", "clone_max": "4", "globally_unique": "true"}, func(c *config.Config) bool {
			return c.IP == netip.MustParseAddr("198.18.0.103")
		}},
		// A load-shared clone: the bucket is the clone number plus 1,
		// the seed and MAC are derived later when not given; every
		// node holds the address, so no probe, no DAD, and the cluster
		// MAC's burst is start's own.
		{"shared clone", []string{"ip", "2001:db8::100", "clusterip_mac_mangle", "true", "clusterip_firewall", "iptables"}, map[string]string{"clone": "2", "clone_max": "3"}, func(c *config.Config) bool {
			return cmp.Equal(*c.Clone, config.Clone{Bucket: 3, Buckets: 3, Mangle: true}) && c.NoDAD && !c.RunArping && !c.ArpBackground
		}},
		{"shared clone seed and mac", []string{"ip", "198.18.0.100", "clusterip_hash_seed", "0x53518eaa", "mac", "01:00:5E:00:00:07", "run_arping", "true"}, map[string]string{"clone_max": "2"}, func(c *config.Config) bool {
			return c.Clone.Bucket == 1 && c.Clone.Seed == 0x53518eaa && c.Clone.SeedSet && c.Clone.MAC.String() == "01:00:5e:00:00:07" && !c.RunArping
		}},
		{"not a shared clone", []string{"ip", "198.18.0.100", "clusterip_hash_seed", "0"}, map[string]string{"clone_max": "1"}, func(c *config.Config) bool { return c.Clone == nil }},
		{"arp_sender", []string{"ip", "198.18.0.100", "arp_sender", "iputils_arping"}, nil, func(c *config.Config) bool { return c.ArpCount == 5 }},
		// The kernel keeps any bytes as a label, and IPaddr2 passes
		// them on: only control characters are refused.
		{"UTF-8 iflabel", []string{"ip", "198.18.0.100", "nic", "eth0", "iflabel", "\u00e9t\u00e9"}, nil, func(c *config.Config) bool { return c.Label == "\u00e9t\u00e9" }},
		{"UTF-8 label in nic", []string{"ip", "198.18.0.100", "nic", "eth0:\u00e9"}, nil, func(c *config.Config) bool { return c.NIC == "eth0" && c.Label == "\u00e9" }},
		// Each neighbour is asked for its MAC once and announced to once
		// per round, however often the list names it.
		{"announce_to duplicates", []string{"ip", "198.18.0.100", "announce_to", "198.18.0.2 198.18.0.3\t198.18.0.2\n198.18.0.2"}, nil, func(c *config.Config) bool {
			return slices.Equal(c.AnnounceTo, []netip.Addr{netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("198.18.0.3")})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse(with(t, tt.kv...), tt.meta)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

// TestParseY: y and Y are no words of ocf_is_true (IPaddr2 reads them as
// false), but floatip 0.9 read them as true: they read as true, with a
// warning each, sorted by parameter, and any other word stays an error.
func TestParseY(t *testing.T) {
	c, err := config.Parse(with(t, "ip", "198.18.0.100", "nodad", "y", "kill_connections", "Y", "flush_routes", "yes"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.NoDAD || !c.KillConnections || !c.FlushRoutes {
		t.Errorf("NoDAD, KillConnections, FlushRoutes = %v, %v, %v; want all true", c.NoDAD, c.KillConnections, c.FlushRoutes)
	}
	want := []string{
		"kill_connections [Y] reads as true, as floatip 0.9 read it, where heartbeat:IPaddr2 reads it as false: set it to true or false",
		"nodad [y] reads as true, as floatip 0.9 read it, where heartbeat:IPaddr2 reads it as false: set it to true or false",
	}
	if diff := cmp.Diff(want, c.Warnings); diff != "" {
		t.Errorf("Warnings (-want +got):\n%s", diff)
	}
	if c, err := config.Parse(with(t, "ip", "198.18.0.100"), nil); err != nil || c.Warnings != nil {
		t.Errorf("Parse without a y: %+v, %v; want no Warnings", c, err)
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name   string
		kv     []string
		meta   map[string]string
		reason string
	}{
		{"no ip", nil, nil, "mandatory"},
		{"garbage ip", []string{"ip", "abc"}, nil, "IP address [abc] not valid"},
		{"short ip", []string{"ip", "198.18.0"}, nil, "not valid"},
		{"octet too big", []string{"ip", "300.1.1.1"}, nil, "not valid"},
		{"ip with prefix", []string{"ip", "198.18.0.100/24"}, nil, "not valid"},
		{"zero ip", []string{"ip", "0.0.0.0"}, nil, "cannot be assigned"},
		{"multicast", []string{"ip", "224.0.0.1"}, nil, "cannot be assigned"},
		{"limited broadcast", []string{"ip", "255.255.255.255"}, nil, "cannot be assigned"},
		{"v4-mapped text", []string{"ip", "::ffff:198.18.0.1"}, nil, "dotted quad"},
		{"zone", []string{"ip", "fe80::1%eth0"}, nil, "not valid"},
		{"link-local without nic", []string{"ip", "fe80::1"}, nil, "mandatory for a link-local"},
		{"prefix 33", []string{"ip", "198.18.0.100", "cidr_netmask", "33"}, nil, "from 1 to 32"},
		{"prefix 0", []string{"ip", "198.18.0.100", "cidr_netmask", "0"}, nil, "from 1 to 32"},
		{"prefix abc", []string{"ip", "198.18.0.100", "cidr_netmask", "abc"}, nil, "from 1 to 32"},
		{"prefix negative", []string{"ip", "198.18.0.100", "cidr_netmask", "-8"}, nil, "from 1 to 32"},
		{"prefix 129", []string{"ip", "2001:db8::1", "cidr_netmask", "129"}, nil, "from 1 to 128"},
		{"holey mask", []string{"ip", "198.18.0.100", "cidr_netmask", "255.0.255.0"}, nil, "not a valid netmask"},
		{"bad broadcast", []string{"ip", "198.18.0.100", "broadcast", "x"}, nil, "broadcast [x]"},
		// findif's ipcheck_ipv4 takes no address in 0.0.0.0/8.
		{"broadcast 0.0.0.0", []string{"ip", "198.18.0.100", "broadcast", "0.0.0.0"}, nil, "broadcast [0.0.0.0]"},
		{"v6 broadcast", []string{"ip", "198.18.0.100", "broadcast", "2001:db8::1"}, nil, "broadcast"},
		{"nic with slash", []string{"ip", "198.18.0.100", "nic", "a/b"}, nil, "not a valid interface name"},
		{"nic with space", []string{"ip", "198.18.0.100", "nic", "eth 0"}, nil, "not a valid interface name"},
		{"nic too long", []string{"ip", "198.18.0.100", "nic", "abcdefghijklmnop"}, nil, "not a valid interface name"},
		{"iflabel with a tab", []string{"ip", "198.18.0.100", "iflabel", "a\tb"}, nil, `iflabel [a\tb]`},
		{"iflabel not UTF-8", []string{"ip", "198.18.0.100", "iflabel", "a\xffb"}, nil, `iflabel [a\xffb]`},
		{"label too long", []string{"ip", "198.18.0.100", "nic", "eth0", "iflabel", "abcdefghijk"}, nil, "longer than 15"},
		{"arp_count 0", []string{"ip", "198.18.0.100", "arp_count", "0"}, nil, "arp_count [0] is not a positive integer"},
		{"arp_count negative", []string{"ip", "198.18.0.100", "arp_count", "-1"}, nil, "arp_count"},
		{"arp_count huge", []string{"ip", "198.18.0.100", "arp_count", "99999999999"}, nil, "arp_count"},
		{"arp_count empty", []string{"ip", "198.18.0.100", "arp_count", ""}, nil, "arp_count"},
		{"arp_interval 0", []string{"ip", "198.18.0.100", "arp_interval", "0"}, nil, "arp_interval"},
		{"arp_interval abc", []string{"ip", "198.18.0.100", "arp_interval", "abc"}, nil, "arp_interval"},
		{"arp_count_refresh negative", []string{"ip", "198.18.0.100", "arp_count_refresh", "-1"}, nil, "arp_count_refresh"},
		{"arp_bg maybe", []string{"ip", "198.18.0.100", "arp_bg", "maybe"}, nil, "arp_bg [maybe] is not a boolean"},
		{"bad boolean", []string{"ip", "198.18.0.100", "nodad", "perhaps"}, nil, "nodad [perhaps]"},
		{"arp_sender", []string{"ip", "198.18.0.100", "arp_sender", "curl"}, nil, "unrecognized arp_sender"},
		{"empty preferred_lft", []string{"ip", "2001:db8::1", "preferred_lft", ""}, nil, "preferred_lft"},
		{"bad preferred_lft", []string{"ip", "2001:db8::1", "preferred_lft", "soon"}, nil, "preferred_lft"},
		{"lvs on ipv6", []string{"ip", "2001:db8::1", "lvs_support", "true"}, nil, "IPv6 does not support lvs_support"},
		{"unknown proto", []string{"ip", "198.18.0.100", "proto", "kernal"}, nil, "proto [kernal] is not a route protocol"},
		{"proto beyond a byte", []string{"ip", "198.18.0.100", "proto", "256"}, nil, "proto [256]"},
		{"clusterip_firewall", []string{"ip", "198.18.0.100", "clusterip_firewall", "ipfw"}, nil, "clusterip_firewall [ipfw]"},
		{"clusterip_mac_mangle", []string{"ip", "198.18.0.100", "clusterip_mac_mangle", "perhaps"}, nil, "clusterip_mac_mangle [perhaps]"},
		{"addrlabel value all ones", []string{"ip", "2001:db8::1", "lvs_ipv6_addrlabel", "true", "lvs_ipv6_addrlabel_value", "4294967295"}, nil, "lvs_ipv6_addrlabel_value"},
		{"bad addrlabel value", []string{"ip", "2001:db8::1", "lvs_ipv6_addrlabel", "true", "lvs_ipv6_addrlabel_value", "x"}, nil, "lvs_ipv6_addrlabel_value"},
		{"clone seed not a number", []string{"ip", "198.18.0.100", "clusterip_hash_seed", "0xzz"}, map[string]string{"clone_max": "2"}, "clusterip_hash_seed [0xzz]"},
		{"clone seed beyond 32 bits", []string{"ip", "198.18.0.100", "clusterip_hash_seed", "4294967296"}, map[string]string{"clone_max": "2"}, "clusterip_hash_seed [4294967296]"},
		// A deliberate difference: IPaddr2 passes seed 0 to nft; netlink
		// leaves a seed of 0 out, and the kernel picks a random one.
		{"clone seed 0", []string{"ip", "198.18.0.100", "clusterip_hash_seed", "0x0"}, map[string]string{"clone_max": "2"}, "clusterip_hash_seed 0"},
		{"clone mac not multicast", []string{"ip", "198.18.0.100", "mac", "02:00:00:00:00:01"}, map[string]string{"clone_max": "2"}, "mac [02:00:00:00:00:01]"},
		{"clone mac not a mac", []string{"ip", "198.18.0.100", "mac", "01:00:5e"}, map[string]string{"clone_max": "2"}, "mac [01:00:5e]"},
		{"clone with lvs_support", []string{"ip", "198.18.0.100", "lvs_support", "true"}, map[string]string{"clone_max": "2"}, "lvs_support"},
		{"clone number of a shared address", []string{"ip", "198.18.0.100"}, map[string]string{"clone_max": "2", "clone": "x"}, "meta attribute clone [x]"},
		{"bad clone_max", []string{"ip", "198.18.0.100"}, map[string]string{"clone_max": "x"}, "clone_max"},
		// The kernel's hash modulus has 32 bits: 4294967297 would be 1,
		// every packet bucket 1's, answered by instance 0 on every node.
		{"clone_max beyond the hash", []string{"ip", "198.18.0.100"}, map[string]string{"clone_max": "4294967297"}, "clone_max [4294967297]"},
		{"unique clone not unique", []string{"ip", "198.18.0.100", "unique_clone_address", "true"}, nil, "globally_unique"},
		{"unique clone overflow", []string{"ip", "198.18.0.250", "unique_clone_address", "true"}, map[string]string{"clone": "9", "globally_unique": "true"}, "last octet"},
		// IPaddr2 too refuses it (it makes no address of 2001:db8::100 and
		// the clone number): two instances must not both hold one address.
		{"unique clone ipv6 instance 0", []string{"ip", "2001:db8::100", "unique_clone_address", "true"}, map[string]string{"clone": "0", "clone_max": "2", "globally_unique": "true"}, "unique_clone_address works only for IPv4"},
		{"unique clone ipv6 instance 1", []string{"ip", "2001:db8::100", "unique_clone_address", "true"}, map[string]string{"clone": "1", "clone_max": "2", "globally_unique": "true"}, "unique_clone_address works only for IPv4"},
		// Pacemaker numbers clone instances from 0. Another clone number
		// must not become another address: 198.18.0.1 with clone -5
		// would be 198.18.0.252, someone else's.
		{"negative clone number", []string{"ip", "198.18.0.1", "unique_clone_address", "true"}, map[string]string{"clone": "-5", "globally_unique": "true"}, "meta attribute clone [-5]"},
		{"clone number not a number", []string{"ip", "198.18.0.1", "unique_clone_address", "true"}, map[string]string{"clone": "abc", "globally_unique": "true"}, "meta attribute clone [abc]"},
		{"clone number with a space", []string{"ip", "198.18.0.1", "unique_clone_address", "true"}, map[string]string{"clone": " 1", "globally_unique": "true"}, "meta attribute clone [ 1]"},
		// Addresses that no neighbour on the link can hold: each would
		// cost an ARP request and a wait at every start.
		{"announce_to loopback", []string{"ip", "198.18.0.100", "announce_to", "198.18.0.2 127.0.0.1"}, nil, "announce_to [127.0.0.1]"},
		{"announce_to limited broadcast", []string{"ip", "198.18.0.100", "announce_to", "255.255.255.255"}, nil, "announce_to [255.255.255.255]"},
		{"announce_to the address itself", []string{"ip", "198.18.0.100", "announce_to", "198.18.0.100"}, nil, "announce_to [198.18.0.100]"},
		{"announce_to IPv6 loopback", []string{"ip", "2001:db8::100", "announce_to", "::1"}, nil, "announce_to [::1]"},
		{"announce_to the IPv6 address itself", []string{"ip", "2001:db8::100", "announce_to", "2001:db8::100"}, nil, "announce_to [2001:db8::100]"},
		{"bad hash", []string{"ip", "198.18.0.100", "clusterip_hash", "random"}, nil, "clusterip_hash"},
		{"netns with slash", []string{"ip", "198.18.0.100", "network_namespace", "../x"}, nil, "network_namespace"},
		{"non-UTF-8 ip", []string{"ip", "198.18.0.\xff"}, nil, `198.18.0.\xff`},
		{"control chars", []string{"ip", "1\n2"}, nil, `1\n2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse(with(t, tt.kv...), tt.meta)
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("Parse err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q lacks %q", err, tt.reason)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error %q is not one line", err)
			}
			// The agent branches on Param: the parameter at fault is the
			// row's last, unless the row says otherwise.
			want := "ip"
			if len(tt.kv) >= 2 {
				want = tt.kv[len(tt.kv)-2]
			}
			if p, ok := faultOf[tt.name]; ok {
				want = p
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %q is no *config.Error", err)
			}
			if ce.Param != want {
				t.Errorf("error %q names parameter %q, want %q", err, ce.Param, want)
			}
		})
	}
}

// faultOf is the parameter at fault in the rows of TestParseInvalid where
// it is not the last one given; "" for a meta attribute or a combination.
var faultOf = map[string]string{
	"link-local without nic":           "nic",
	"label too long":                   "iflabel",
	"lvs on ipv6":                      "lvs_support",
	"clone number of a shared address": "",
	"bad clone_max":                    "",
	"clone_max beyond the hash":        "",
	"unique clone not unique":          "unique_clone_address",
	"unique clone overflow":            "ip",
	"unique clone ipv6 instance 0":     "unique_clone_address",
	"unique clone ipv6 instance 1":     "unique_clone_address",
	// The address follows from the clone number: without one that
	// reads, there is no address.
	"negative clone number":     "ip",
	"clone number not a number": "ip",
	"clone number with a space": "ip",
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"198.18.0.100", "2001:db8::1", "abc", "198.18.0.100/24", ""} {
		f.Add(s, "24", "eth0", "5", "200", "")
	}
	d := defaults(f)
	f.Fuzz(func(t *testing.T, ip, mask, nic, count, interval, brd string) {
		p := maps.Clone(d)
		p["ip"], p["cidr_netmask"], p["nic"], p["arp_count"], p["arp_interval"], p["broadcast"] = ip, mask, nic, count, interval, brd
		c, err := config.Parse(p, nil)
		if err != nil {
			if !errors.Is(err, config.ErrInvalid) || strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if !c.IP.IsValid() || c.ArpCount < 1 || c.ArpInterval <= 0 {
			t.Fatalf("accepted %+v", c)
		}
		if c.PrefixLen != -1 && (c.PrefixLen < 1 || c.PrefixLen > c.IP.BitLen()) {
			t.Fatalf("prefix %d for %s", c.PrefixLen, c.IP)
		}
		if l := c.FullLabel(c.NIC); c.NIC != "" && len(l) > 15 {
			t.Fatalf("label %q accepted", l)
		}
	})
}
