package arpframe

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mdlayher/arp"
)

func TestNewParse(t *testing.T) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	ip := netip.MustParseAddr("198.18.0.100")
	b, err := New(arp.OperationReply, Broadcast(), mac, ip, mac, ip)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 42 {
		t.Errorf("frame of %d bytes, want 42: 14 of header and 28 of ARP, unpadded as send_arp sends it", len(b))
	}
	if diff := cmp.Diff([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06}, b[:14]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	p, ok := Parse(b)
	if !ok {
		t.Fatal("Parse refused the frame New made")
	}
	want := &arp.Packet{HardwareType: 1, ProtocolType: 0x0800, HardwareAddrLength: 6, IPLength: 4, Operation: arp.OperationReply,
		SenderHardwareAddr: mac, SenderIP: ip, TargetHardwareAddr: mac, TargetIP: ip}
	if diff := cmp.Diff(want, p, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}
	for _, bad := range [][]byte{nil, b[:41], append(append([]byte{}, b[:12]...), append([]byte{0x86, 0xdd}, b[14:]...)...)} {
		if _, ok := Parse(bad); ok {
			t.Errorf("Parse accepted % x", bad)
		}
	}
}
