package tests

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/floatip/floatip/internal/announce"
	"github.com/floatip/floatip/tests/failover"
	"github.com/floatip/floatip/tests/internal/labtest"
	"github.com/floatip/floatip/tests/lab"
)

// TestFailover runs make demo's two scenarios and checks their outcome:
// M's entry follows the VIP to B because of B's announcement (M had a
// stale entry for A and did not ask itself), and M's traffic reaches B.
func TestFailover(t *testing.T) {
	labtest.NeedRoot(t)
	labtest.NeedTool(t, "ip")
	agents := []failover.Agent{{Name: "floatip", Path: labtest.Binary}, failover.Heartbeat}
	for _, agent := range agents {
		for _, kind := range []failover.Kind{failover.Graceful, failover.HardFailure} {
			t.Run(agent.Name+"/"+kind.String(), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				tl, err := failover.Run(ctx, agent, kind)
				if tl != nil {
					if left := lab.Leftovers(tl.Lab); len(left) > 0 {
						t.Errorf("lab left behind: %v", left)
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				var out strings.Builder
				tl.Print(&out)
				t.Log(out.String())
				if tl.Before.String() != tl.MACA.String() || tl.After.String() != tl.MACB.String() {
					t.Errorf("M's entry went from %s to %s, want %s (A) to %s (B)", tl.Before, tl.After, tl.MACA, tl.MACB)
				}
				if tl.FirstAnnouncement < 0 || tl.Flip < tl.FirstAnnouncement {
					t.Errorf("M's entry flipped at %v, before B's first announcement at %v: not the announcement's doing", tl.Flip, tl.FirstAnnouncement)
				}
				if tl.RequestsFromM != 0 {
					t.Errorf("M asked for the VIP %d times before the flip", tl.RequestsFromM)
				}
				if tl.Announcements != 10 {
					t.Errorf("M saw %d announcements from B, want the burst of 10", tl.Announcements)
				}
				if !tl.ReplyAfterMove {
					t.Error("M's pings were not answered after the move")
				}
			})
		}
	}
}

// TestClientFollowsEachForm sends M a single gratuitous ARP frame of each
// form from B and looks at M's existing entry for the VIP: Linux updates it
// from either form, with arp_accept=0, and leaves it STALE.
func TestClientFollowsEachForm(t *testing.T) {
	for i, form := range []string{"request", "reply"} {
		t.Run(form, func(t *testing.T) {
			l := labtest.NewLab(t, failover.HostA, failover.HostB, failover.HostM)
			a, b, m := l.Host("a"), l.Host("b"), l.Host("m")
			labtest.Floatip(t, a).Expect(0, "start", "ip="+labtest.VIP, "cidr_netmask=24", "arp_bg=false", "arp_count=1")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if mac, err := m.Learn(ctx, failover.VIP); err != nil || mac.String() != a.MAC.String() {
				t.Fatalf("M's entry %v (%v), want A's %s", mac, err, a.MAC)
			}
			frames, err := announce.GARPFrames(b.MAC, netip.MustParseAddr(labtest.VIP))
			if err != nil {
				t.Fatal(err)
			}
			sendFrom(t, b, frames[i])
			var got netlink.Neigh
			for range 100 {
				got = neighborEntry(t, m, failover.VIP)
				if got.HardwareAddr.String() == b.MAC.String() {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if got.HardwareAddr.String() != b.MAC.String() {
				t.Fatalf("after one %s from B, M's entry is %s", form, got.HardwareAddr)
			}
			if got.State != netlink.NUD_STALE {
				t.Errorf("M's entry state %s, want STALE", neighState(got.State))
			}
		})
	}
}

func sendFrom(t *testing.T, h *lab.Host, frame []byte) {
	t.Helper()
	fd, err := h.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	nh, err := h.Handle()
	if err != nil {
		t.Fatal(err)
	}
	link, err := nh.LinkByName(h.Dev)
	nh.Close()
	if err != nil {
		t.Fatal(err)
	}
	to := &unix.SockaddrLinklayer{Ifindex: link.Attrs().Index, Halen: 6}
	copy(to.Addr[:], frame[:6])
	if err := unix.Sendto(fd, frame, 0, to); err != nil {
		t.Fatal(err)
	}
}

func neighborEntry(t *testing.T, h *lab.Host, ip netip.Addr) netlink.Neigh {
	t.Helper()
	nh, err := h.Handle()
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	list, err := nh.NeighList(0, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range list {
		if n.IP.String() == ip.String() {
			return n
		}
	}
	return netlink.Neigh{}
}

func neighState(s int) string {
	names := map[int]string{netlink.NUD_REACHABLE: "REACHABLE", netlink.NUD_STALE: "STALE", netlink.NUD_DELAY: "DELAY",
		netlink.NUD_PROBE: "PROBE", netlink.NUD_FAILED: "FAILED", netlink.NUD_INCOMPLETE: "INCOMPLETE"}
	if n, ok := names[s]; ok {
		return n
	}
	return "unknown"
}
