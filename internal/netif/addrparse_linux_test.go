package netif

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// addrMessage encodes an RTM_NEWADDR message as the kernel sends it: the
// header, an ifaddrmsg, and the attributes, each aligned.
func addrMessage(ip netip.Addr, prefix, index int, label string, flags uint32, preferred, valid uint32) []byte {
	body := make([]byte, unix.SizeofIfAddrmsg)
	body[0] = unix.AF_INET
	if ip.Is6() {
		body[0] = unix.AF_INET6
	}
	body[1] = byte(prefix)
	binary.NativeEndian.PutUint32(body[4:], uint32(index))
	attr := func(typ uint16, v []byte) {
		a := make([]byte, nlmAlign(unix.SizeofRtAttr+len(v)))
		binary.NativeEndian.PutUint16(a, uint16(unix.SizeofRtAttr+len(v)))
		binary.NativeEndian.PutUint16(a[2:], typ)
		copy(a[unix.SizeofRtAttr:], v)
		body = append(body, a...)
	}
	attr(unix.IFA_ADDRESS, ip.AsSlice())
	if ip.Is4() {
		attr(unix.IFA_LOCAL, ip.AsSlice())
	}
	if label != "" {
		attr(unix.IFA_LABEL, append([]byte(label), 0))
	}
	f := make([]byte, 4)
	binary.NativeEndian.PutUint32(f, flags)
	attr(unix.IFA_FLAGS, f)
	ci := make([]byte, 16)
	binary.NativeEndian.PutUint32(ci, preferred)
	binary.NativeEndian.PutUint32(ci[4:], valid)
	attr(unix.IFA_CACHEINFO, ci)
	msg := request(unix.RTM_NEWADDR, 0, len(body))
	copy(msg[unix.SizeofNlMsghdr:], body)
	return msg
}

// FuzzDecodeAddr feeds the hand-written netlink parser of AddrOn's fast
// path. Whatever the bytes, it must not panic, and an address it returns
// is the one asked for. A message built from the fuzzed fields must decode
// to those fields.
func FuzzDecodeAddr(f *testing.F) {
	f.Add([]byte{198, 18, 0, 100}, 24, 2, "eth0:vip", uint32(0x80), uint32(Forever), uint32(Forever), []byte{})
	f.Add(netip.MustParseAddr("2001:db8::100").AsSlice(), 64, 3, "", uint32(0x202), uint32(0), uint32(Forever), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, ipb []byte, prefix, index int, label string, flags, preferred, valid uint32, junk []byte) {
		// Arbitrary bytes, asking for the fuzzed address.
		msgs, err := messages(junk)
		if err == nil {
			for _, m := range msgs {
				if a, ok := decodeAddrIf(m.body, ipb); ok && string(a.Prefix.Addr().AsSlice()) != string(ipb) {
					t.Fatalf("decoded %v, asked for %v", a.Prefix, ipb)
				}
			}
		}
		ip, ok := netip.AddrFromSlice(ipb)
		bits := ip.BitLen()
		if !ok || prefix < 0 || prefix > bits || index < 0 || index > 1<<31-1 ||
			len(label) > maxLabelLen || containsNUL(label) {
			return
		}
		want := Addr{Prefix: netip.PrefixFrom(ip, prefix), LinkIndex: index, Label: label,
			Flags: AddrFlags(flags), PreferredLifetime: preferred, ValidLifetime: valid}
		msgs, err = messages(append(addrMessage(ip, prefix, index, label, flags, preferred, valid), junk...))
		if err != nil {
			return // the junk made the stream malformed, which messages reports
		}
		got, ok := decodeAddrIf(msgs[0].body, ipb)
		if !ok || got != want {
			t.Fatalf("decoded %+v (%v), want %+v", got, ok, want)
		}
	})
}

// maxLabelLen bounds the labels the fuzz target encodes: the kernel's
// IFNAMSIZ, less the NUL.
const maxLabelLen = 15

func containsNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}
