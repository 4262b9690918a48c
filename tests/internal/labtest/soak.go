//go:build linux

package labtest

import (
	"testing"

	"github.com/floatip/floatip/tests/lab"
)

// QuietBurst makes an operation's announcement a single frame sent in the
// foreground, for the tests where the announcements do not matter and
// thousands of operations run.
var QuietBurst = []string{"arp_bg=false", "arp_count=1", "arp_interval=1"}

// VIPsOn returns the set of addresses on the host's eth0 of one family.
func VIPsOn(t *testing.T, h *lab.Host, family int) map[string]bool {
	t.Helper()
	addrs, err := h.Addrs(family)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, a := range addrs {
		out[a.IPNet.String()] = true
	}
	return out
}
