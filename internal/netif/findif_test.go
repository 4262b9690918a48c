package netif

import (
	"errors"
	"net/netip"
	"testing"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

func TestFindIf(t *testing.T) {
	conn := func(dst string, link int, src string) Route {
		r := Route{Dst: pfx(dst), LinkIndex: link, Type: RouteUnicast, LinkScope: true}
		if src != "" {
			r.Src = addr(src)
		}
		return r
	}
	withMetric := func(r Route, m int) Route { r.Metric = m; return r }
	withType := func(r Route, ty RouteType) Route { r.Type = ty; return r }
	global := func(r Route) Route { r.LinkScope = false; return r }
	withProto := func(r Route, p uint8) Route { r.Protocol = p; return r }

	tests := []struct {
		name   string
		q      Query
		routes []Route
		want   Found
		err    bool
	}{
		{
			name:   "connected route gives nic and prefix",
			q:      Query{IP: addr("198.18.0.100"), PrefixLen: -1},
			routes: []Route{conn("198.18.0.0/24", 2, "198.18.0.1")},
			want:   Found{LinkIndex: 2, PrefixLen: 24},
		},
		{
			name:   "a route on another nic",
			q:      Query{IP: addr("198.18.1.100"), PrefixLen: -1},
			routes: []Route{conn("198.18.1.0/24", 3, "198.18.1.1")},
			want:   Found{LinkIndex: 3, PrefixLen: 24},
		},
		{
			name:   "most specific route wins",
			q:      Query{IP: addr("198.18.0.100"), PrefixLen: -1},
			routes: []Route{conn("198.18.0.0/16", 3, ""), conn("198.18.0.0/24", 2, "198.18.0.1"), conn("198.18.0.0/20", 4, "")},
			want:   Found{LinkIndex: 2, PrefixLen: 24},
		},
		{
			name:   "lowest metric breaks a tie (resource-agents #2052)",
			q:      Query{IP: addr("198.18.0.100"), PrefixLen: -1},
			routes: []Route{withMetric(conn("198.18.0.0/24", 3, ""), 200), withMetric(conn("198.18.0.0/24", 2, ""), 100), withMetric(conn("198.18.0.0/24", 4, ""), 300)},
			want:   Found{LinkIndex: 2, PrefixLen: 24},
		},
		{
			name:   "lowest metric wins over a more specific route (IPaddr2 4.17)",
			q:      Query{IP: addr("198.18.0.100"), PrefixLen: -1},
			routes: []Route{withMetric(conn("198.18.0.0/24", 2, ""), 300), withMetric(conn("198.18.0.0/16", 3, ""), 100)},
			want:   Found{LinkIndex: 3, PrefixLen: 16},
		},
		{
			name:   "proto keeps the routes of that protocol",
			q:      Query{IP: addr("198.18.0.100"), PrefixLen: -1, MatchProtocol: true, Protocol: 4},
			routes: []Route{withProto(conn("198.18.0.0/24", 2, ""), 2), withProto(conn("198.18.0.0/16", 3, ""), 4)},
			want:   Found{LinkIndex: 3, PrefixLen: 16},
		},
		{
			name:   "proto matching no route",
			q:      Query{IP: addr("198.18.0.100"), PrefixLen: -1, MatchProtocol: true, Protocol: 16},
			routes: []Route{withProto(conn("198.18.0.0/24", 2, ""), 2)},
			err:    true,
		},
		{
			name: "unreachable, blackhole and prohibit are ignored (#1963, #1976)",
			q:    Query{IP: addr("198.18.0.100"), PrefixLen: -1},
			routes: []Route{
				withType(conn("198.18.0.0/28", 5, ""), RouteUnreachable),
				withType(conn("198.18.0.0/27", 5, ""), RouteBlackhole),
				withType(conn("198.18.0.0/26", 5, ""), RouteProhibit),
				conn("198.18.0.0/24", 2, ""),
			},
			want: Found{LinkIndex: 2, PrefixLen: 24},
		},
		{
			name:   "IPv4 ignores routes behind a gateway",
			q:      Query{IP: addr("198.18.0.100"), PrefixLen: -1},
			routes: []Route{global(conn("198.18.0.0/25", 3, "")), conn("198.18.0.0/24", 2, "")},
			want:   Found{LinkIndex: 2, PrefixLen: 24},
		},
		{
			name:   "default route never matches",
			q:      Query{IP: addr("198.18.0.100"), PrefixLen: -1},
			routes: []Route{conn("0.0.0.0/0", 2, "")},
			err:    true,
		},
		{
			name:   "given nic restricts the routes",
			q:      Query{IP: addr("198.18.0.100"), LinkIndex: 3, PrefixLen: -1},
			routes: []Route{conn("198.18.0.0/24", 2, ""), conn("198.18.0.0/16", 3, "")},
			want:   Found{LinkIndex: 3, PrefixLen: 16},
		},
		{
			name:   "given prefix keeps itself and skips narrower routes",
			q:      Query{IP: addr("198.18.0.100"), PrefixLen: 20},
			routes: []Route{conn("198.18.0.0/24", 2, ""), conn("198.18.0.0/16", 3, "")},
			want:   Found{LinkIndex: 3, PrefixLen: 20},
		},
		{
			name:   "nic and prefix given without a route",
			q:      Query{IP: addr("198.19.5.5"), LinkIndex: 2, PrefixLen: 24},
			routes: []Route{conn("198.18.0.0/24", 2, "")},
			want:   Found{LinkIndex: 2, PrefixLen: 24},
		},
		{
			name:   "no route and no nic",
			q:      Query{IP: addr("198.19.5.5"), PrefixLen: 24},
			routes: []Route{conn("198.18.0.0/24", 2, "")},
			err:    true,
		},
		{
			name:   "no route and no prefix",
			q:      Query{IP: addr("198.19.5.5"), LinkIndex: 2, PrefixLen: -1},
			routes: []Route{conn("198.18.0.0/24", 2, "")},
			err:    true,
		},
		{
			name:   "IPv6 /128 still finds its nic (#1035)",
			q:      Query{IP: addr("2001:db8::100"), PrefixLen: 128},
			routes: []Route{global(conn("2001:db8::/64", 2, ""))},
			want:   Found{LinkIndex: 2, PrefixLen: 128},
		},
		{
			name:   "IPv6 takes the prefix from the route",
			q:      Query{IP: addr("2001:db8::100"), PrefixLen: -1},
			routes: []Route{global(conn("2001:db8::/64", 2, "")), global(conn("2001:db8:1::/64", 3, ""))},
			want:   Found{LinkIndex: 2, PrefixLen: 64},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindIf(tt.q, tt.routes)
			if tt.err {
				if !errors.Is(err, ErrNoRoute) {
					t.Fatalf("err = %v, want ErrNoRoute", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Route = nil
			if got != tt.want {
				t.Errorf("FindIf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFindIfReasonNamesTheSearch(t *testing.T) {
	_, err := FindIf(Query{IP: addr("198.19.5.5"), PrefixLen: 24}, nil)
	if err == nil || err.Error() != "no connected route covers the address: looked for a route to 198.19.5.5 within a /24 or wider subnet" {
		t.Errorf("err = %v", err)
	}
}

func TestBroadcast(t *testing.T) {
	tests := []struct {
		ip      string
		bits    int
		allOnes bool
		want    string
	}{
		{"198.18.0.100", 24, true, "198.18.0.255"},
		{"198.18.0.100", 24, false, "198.18.0.0"},
		{"198.18.0.100", 16, true, "198.18.255.255"},
		{"198.18.0.100", 32, true, "198.18.0.100"},
		{"198.18.0.100", 1, true, "255.255.255.255"},
	}
	for _, tt := range tests {
		if got := Broadcast(addr(tt.ip), tt.bits, tt.allOnes); got != addr(tt.want) {
			t.Errorf("Broadcast(%s/%d, %v) = %s, want %s", tt.ip, tt.bits, tt.allOnes, got, tt.want)
		}
	}
}
