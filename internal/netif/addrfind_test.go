package netif

import (
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/floatip/floatip/internal/needroot"
)

// TestAddrOn asks for one address in a namespace whose links a and b hold
// the addresses of each case, and checks the answer against what is there:
// the ioctl and RTM_GETADDR answers, and the dump where they cannot decide.
func TestAddrOn(t *testing.T) {
	needroot.Check(t)
	h := crowdedNamespace(t, nil)
	t.Cleanup(h.Close)
	if err := h.nl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "a"}, PeerName: "b"}); err != nil {
		t.Fatalf("add veth a/b: %v", err)
	}
	links := map[string]Link{}
	for _, name := range []string{"a", "b"} {
		l, err := h.LinkByName(name)
		if err == nil {
			err = h.SetUp(l)
		}
		if err != nil {
			t.Fatal(err)
		}
		links[name] = l
	}
	type on struct {
		link, prefix, label string
	}
	for _, c := range []struct {
		name  string
		have  []on
		ask   on
		found bool
		// fast: the question for the one address confirms it, without
		// the dump.
		fast bool
	}{
		{"IPv4 with the link's label", []on{{"a", "198.18.0.100/24", ""}}, on{"a", "198.18.0.100/24", ""}, true, true},
		{"IPv4 behind the subnet's primary", []on{{"a", "198.18.0.1/24", ""}, {"a", "198.18.0.100/24", ""}}, on{"a", "198.18.0.100/24", ""}, true, true},
		{"IPv4 with its own label", []on{{"a", "198.18.0.100/24", "a:vip"}}, on{"a", "198.18.0.100/24", "a:vip"}, true, true},
		{"IPv4 with another label than expected", []on{{"a", "198.18.0.100/24", "a:other"}}, on{"a", "198.18.0.100/24", "a:vip"}, true, false},
		{"IPv4 labelled, asked without label", []on{{"a", "198.18.0.1/24", ""}, {"a", "198.18.0.100/24", "a:vip"}}, on{"a", "198.18.0.100/24", ""}, true, false},
		{"IPv4 asked with a label too long for the kernel", []on{{"a", "198.18.0.100/24", ""}}, on{"a", "198.18.0.100/24", "a:much-too-long-label"}, true, false},
		{"IPv4 with another prefix", []on{{"a", "198.18.0.100/25", ""}}, on{"a", "198.18.0.100/24", ""}, false, false},
		{"IPv4 twice, the other prefix first", []on{{"a", "198.18.0.100/25", ""}, {"a", "198.18.0.100/24", ""}}, on{"a", "198.18.0.100/24", ""}, true, false},
		{"IPv4 on the other link", []on{{"b", "198.18.0.100/24", ""}}, on{"a", "198.18.0.100/24", ""}, false, false},
		{"IPv4 another address with the label", []on{{"a", "198.18.0.1/24", ""}}, on{"a", "198.18.0.100/24", ""}, false, false},
		{"IPv4 nothing on the link", nil, on{"a", "198.18.0.100/24", ""}, false, false},
		{"IPv6", []on{{"a", "2001:db8::100/64", ""}}, on{"a", "2001:db8::100/64", ""}, true, true},
		{"IPv6 with another prefix", []on{{"a", "2001:db8::100/64", ""}}, on{"a", "2001:db8::100/96", ""}, false, false},
		{"IPv6 on the other link", []on{{"b", "2001:db8::100/64", ""}}, on{"a", "2001:db8::100/64", ""}, false, false},
		{"IPv6 absent", []on{{"a", "2001:db8::1/64", ""}}, on{"a", "2001:db8::100/64", ""}, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, a := range c.have {
				l, p := links[a.link], netip.MustParsePrefix(a.prefix)
				if err := h.AddAddr(l, NewAddr{Prefix: p, Label: a.label, NoDAD: true, PreferredLifetime: Forever}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { h.DelAddr(l, p) })
			}
			l, p := links[c.ask.link], netip.MustParsePrefix(c.ask.prefix)
			got, err := h.AddrOn(l, p, c.ask.label)
			if err != nil {
				t.Fatal(err)
			}
			if (got != nil) != c.found {
				t.Fatalf("AddrOn(%s, %s, %q) = %+v, want found %v", l.Name, p, c.ask.label, got, c.found)
			}
			if got != nil && (got.Prefix != p || got.LinkIndex != l.Index) {
				t.Errorf("AddrOn(%s, %s) = %+v: another address", l.Name, p, got)
			}
			var fast bool
			err = h.Do(func() error {
				if p.Addr().Is6() {
					a, err := getAddr6(l.Index, p.Addr())
					fast = a != nil && a.Prefix == p
					return err
				}
				label := c.ask.label
				if label == "" {
					label = l.Name
				}
				n, err := prefixByLabel(label, p.Addr())
				fast = n == p.Bits()
				return err
			})
			if err != nil || fast != c.fast {
				t.Errorf("the question for %s alone confirms it: %v (%v), want %v", p, fast, err, c.fast)
			}
		})
	}
}
