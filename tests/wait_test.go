package tests

import (
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/floatip/floatip/tests/lab"
)

// linkOf is host h's nic as the kernel has it now.
func linkOf(t *testing.T, h *lab.Host) netlink.Link {
	t.Helper()
	nh, err := h.Handle()
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	link, err := nh.LinkByName(h.Dev)
	if err != nil {
		t.Fatal(err)
	}
	return link
}
