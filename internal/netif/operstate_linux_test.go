package netif

import (
	"testing"

	"github.com/vishvananda/netlink"
)

// TestLinkOperState: a link's operational state is spelled as ip link
// shows it, which is what OperDown, check_link_status and the messages
// expect: the netlink module spells two of them with dashes
// ("lower-layer-down"), and a VLAN whose parent lost its carrier, in
// state LOWERLAYERDOWN, went unseen.
func TestLinkOperState(t *testing.T) {
	tests := []struct {
		state netlink.LinkOperState
		want  string
		down  bool
	}{
		{netlink.OperUnknown, "UNKNOWN", false},
		{netlink.OperNotPresent, "NOTPRESENT", false},
		{netlink.OperDown, "DOWN", true},
		{netlink.OperLowerLayerDown, "LOWERLAYERDOWN", true},
		{netlink.OperTesting, "TESTING", false},
		{netlink.OperDormant, "DORMANT", false},
		{netlink.OperUp, "UP", false},
		{netlink.LinkOperState(42), "UNKNOWN", false},
	}
	for _, tt := range tests {
		l := linkOf(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: "eth0", OperState: tt.state}})
		if l.OperState != tt.want || l.OperDown() != tt.down {
			t.Errorf("state %d: %q, down %v; want %q, down %v", tt.state, l.OperState, l.OperDown(), tt.want, tt.down)
		}
	}
}
