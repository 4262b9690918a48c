//go:build linux

package labtest

var V4 = "ip=" + VIP

var V6 = "ip=" + VIP6
