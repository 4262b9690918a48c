package agent

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/floatip/floatip/ocf"
)

// TestReloadAgent: reload-agent validates the new parameters, announces
// with them, replaces a sender still at work, and never adds or removes
// the address.
func TestReloadAgent(t *testing.T) {
	vipAddr := netip.MustParseAddr("198.18.0.100")
	count := func(k *fakeKernel) int {
		n := 0
		for _, a := range k.addrs {
			if a.Prefix.Addr() == vipAddr {
				n++
			}
		}
		return n
	}
	fg := []string{vip, "OCF_RESKEY_arp_bg=false"}

	t.Run("announces once with the new settings", func(t *testing.T) {
		h := newHarness(t)
		h.run(t, "start", append(fg, "OCF_RESKEY_arp_count=1")...)
		h.announced, h.k.dialedTo = 0, nil
		h.k.neighbors = map[netip.Addr]net.HardwareAddr{netip.MustParseAddr("198.18.0.254"): {2, 0, 0, 0, 0, 0xfe}}
		st := h.run(t, "reload-agent", append(fg, "OCF_RESKEY_arp_count=3", "OCF_RESKEY_announce_to=198.18.0.254")...)
		if st != ocf.Success || h.announced != 2 {
			t.Errorf("reload-agent = %v with %d frames, want success and one announcement (2 frames)", st, h.announced)
		}
		if len(h.k.dialedTo) != 1 || h.k.dialedTo[0].IP != netip.MustParseAddr("198.18.0.254") {
			t.Errorf("announced to %v, want the new announce_to neighbour", h.k.dialedTo)
		}
		if len(h.k.added) != 1 || count(h.k) != 1 {
			t.Errorf("%d adds, %d addresses: reload-agent moved the address", len(h.k.added), count(h.k))
		}
		// Again: the same answer, nothing else changes.
		if st := h.run(t, "reload-agent", append(fg, "OCF_RESKEY_arp_count=3")...); st != ocf.Success || len(h.k.added) != 1 || count(h.k) != 1 {
			t.Errorf("second reload-agent = %v", st)
		}
	})

	t.Run("invalid value", func(t *testing.T) {
		h := newHarness(t)
		h.run(t, "start", append(fg, "OCF_RESKEY_arp_count=1")...)
		h.announced = 0
		st := h.run(t, "reload-agent", append(fg, "OCF_RESKEY_arp_count=0")...)
		if st != ocf.ErrConfigured || !strings.Contains(h.reason(), "arp_count [0]") || h.announced != 0 || count(h.k) != 1 {
			t.Errorf("reload-agent = %v, reason %q, %d frames, %d addresses; want OCF_ERR_CONFIGURED and nothing changed", st, h.reason(), h.announced, count(h.k))
		}
	})

	t.Run("replaces a running sender", func(t *testing.T) {
		h := newHarness(t)
		h.run(t, "start", vip, "OCF_RESKEY_arp_count=5")
		old := h.senders.of(vipAddr)
		if old == 0 || len(h.bg) != 1 {
			t.Fatalf("start left no background sender (%d bursts)", len(h.bg))
		}
		st := h.run(t, "reload-agent", vip, "OCF_RESKEY_arp_count=2", "OCF_RESKEY_arp_interval=100")
		now := h.senders.of(vipAddr)
		if st != ocf.Success || len(h.bg) != 2 || now == 0 || now == old {
			t.Fatalf("reload-agent = %v: senders %d then %d, %d bursts; want a new sender", st, old, now, len(h.bg))
		}
		if args := strings.Join(h.bg[1], " "); !strings.Contains(args, "--arp_count 2") || !strings.Contains(args, "--arp_interval 100") {
			t.Errorf("the new sender runs %q, want the new settings", args)
		}
	})

	t.Run("address gone", func(t *testing.T) {
		h := newHarness(t)
		st := h.run(t, "reload-agent", fg...)
		if st != ocf.NotRunning || !strings.Contains(h.reason(), "reload-agent does not add it") || len(h.k.added) != 0 {
			t.Errorf("reload-agent = %v, reason %q, %d adds; want not running, and nothing added", st, h.reason(), len(h.k.added))
		}
	})

	t.Run("link down", func(t *testing.T) {
		h := newHarness(t)
		h.run(t, "start", append(fg, "OCF_RESKEY_arp_count=1")...)
		h.k.links[1].Carrier, h.k.links[1].OperState = false, "LOWERLAYERDOWN"
		if st := h.run(t, "reload-agent", fg...); st != ocf.NotRunning || count(h.k) != 1 {
			t.Errorf("reload-agent on a dead link = %v, %d addresses; want not running and the address left for stop", st, count(h.k))
		}
	})
}
