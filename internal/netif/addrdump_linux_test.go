package netif

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"
)

// endMessage is the kernel's end of a dump: NLMSG_DONE (or NLMSG_ERROR)
// with an int, 0 or a negative errno.
func endMessage(typ uint16, errno unix.Errno) []byte {
	m := request(typ, unix.NLM_F_MULTI, 4)
	binary.NativeEndian.PutUint32(m[unix.SizeofNlMsghdr:], uint32(-int32(errno)))
	return m
}

// cannedDump is a recv that returns one read of reads per call, as a
// netlink socket returns the kernel's batches of a dump.
func cannedDump(reads ...[]byte) func([]byte) (int, error) {
	return func(b []byte) (int, error) {
		if len(reads) == 0 {
			return 0, unix.EAGAIN
		}
		n := copy(b, reads[0])
		reads = reads[1:]
		return n, nil
	}
}

func concat(ms ...[]byte) []byte {
	var b []byte
	for _, m := range ms {
		b = append(b, m...)
	}
	return b
}

// TestReadAddrDump feeds canned kernel replies to the dump reader: only a
// dump that ends cleanly says whether the address is there; one that ends
// with an error, in NLMSG_DONE or NLMSG_ERROR, or is cut, is an error, so
// that monitor says it cannot tell rather than "not running".
func TestReadAddrDump(t *testing.T) {
	vip := netip.MustParseAddr("198.18.0.100")
	mine := addrMessage(vip, 24, 2, "eth0", 0x80, Forever, Forever)
	other := addrMessage(netip.MustParseAddr("198.18.0.1"), 24, 2, "eth0", 0x80, Forever, Forever)
	intr := addrMessage(netip.MustParseAddr("198.18.0.1"), 24, 2, "eth0", 0x80, Forever, Forever)
	binary.NativeEndian.PutUint16(intr[6:], unix.NLM_F_MULTI|unix.NLM_F_DUMP_INTR)
	want := []Addr{{Prefix: netip.MustParsePrefix("198.18.0.100/24"), LinkIndex: 2, Label: "eth0",
		Flags: 0x80, PreferredLifetime: Forever, ValidLifetime: Forever}}
	tests := []struct {
		name    string
		reads   [][]byte
		want    []Addr
		wantErr error // nil: no error
	}{
		{"present", [][]byte{concat(other, mine), endMessage(unix.NLMSG_DONE, 0)}, want, nil},
		{"absent", [][]byte{concat(other, endMessage(unix.NLMSG_DONE, 0))}, nil, nil},
		{"empty dump", [][]byte{endMessage(unix.NLMSG_DONE, 0)}, nil, nil},
		{"done carries an error", [][]byte{other, endMessage(unix.NLMSG_DONE, unix.EMSGSIZE)}, nil, unix.EMSGSIZE},
		{"done carries an error after the address", [][]byte{concat(mine, endMessage(unix.NLMSG_DONE, unix.ENOBUFS))}, nil, unix.ENOBUFS},
		{"error message", [][]byte{other, endMessage(unix.NLMSG_ERROR, unix.EPERM)}, nil, unix.EPERM},
		{"interrupted", [][]byte{concat(intr, mine), endMessage(unix.NLMSG_DONE, 0)}, nil, errDumpInterrupted},
		{"cut before its end", [][]byte{concat(other, mine)}, nil, unix.EAGAIN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAddrDump(cannedDump(tt.reads...), func(_ int, local []byte, _ int) bool { return string(local) == string(vip.AsSlice()) })
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
				t.Errorf("addresses (-want +got):\n%s", diff)
			}
		})
	}
}
