package clusterip

import (
	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// The rules, as nftables expressions. Each is the one IPaddr2 adds with
// nft for the same parameters, expression for expression, so that nft
// lists both alike and either agent recognises the other's table.

// nfARPOut is the arp family's output hook (NF_ARP_OUT), which x/sys/unix
// does not name.
const nfARPOut = 1

// icmpv6NeighborAdvert is the ICMPv6 type of a neighbour advertisement.
const icmpv6NeighborAdvert = 136

// packetHost is PACKET_HOST, the packet type of a frame sent to this
// host's own MAC. A frame to a multicast MAC is PACKET_MULTICAST, which
// TCP and UDP drop for a unicast destination.
const packetHost = 0

// layout is where a family's headers hold what the rules read.
type layout struct {
	family      nftables.TableFamily
	srcOff, dst uint32
	addrLen     uint32
}

func layoutOf(s Spec) layout {
	if s.IP.Unmap().Is4() {
		return layout{family: nftables.TableFamilyIPv4, srcOff: 12, dst: 16, addrLen: 4}
	}
	return layout{family: nftables.TableFamilyIPv6, srcOff: 8, dst: 24, addrLen: 16}
}

// tables are the objects of one Spec.
type tables struct {
	ip, arp         *nftables.Table
	prerouting, out *nftables.Chain
	// ndOut is the ip6 table's output chain, which rewrites neighbour
	// advertisements.
	ndOut *nftables.Chain
}

func tablesOf(s Spec) tables {
	name := TableName(s.IP)
	ip := &nftables.Table{Family: layoutOf(s).family, Name: name}
	arp := &nftables.Table{Family: nftables.TableFamilyARP, Name: name}
	return tables{
		ip:  ip,
		arp: arp,
		prerouting: &nftables.Chain{
			Name: "prerouting", Table: ip, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityMangle,
		},
		out: &nftables.Chain{
			Name: "output", Table: arp, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookRef(nfARPOut), Priority: nftables.ChainPriorityFilter,
		},
		ndOut: &nftables.Chain{
			Name: "output", Table: ip, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityFilter,
		},
	}
}

// toAddress matches a packet that came in on the link (by index) for the
// shared address.
func toAddress(s Spec, ifindex int) []expr.Any {
	l := layoutOf(s)
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIF, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(uint32(ifindex))},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: l.dst, Len: l.addrLen},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: s.IP.Unmap().AsSlice()},
	}
}

// bucketRule accepts the packets of bucket b, and makes them the host's
// own, since they came to a multicast MAC.
func bucketRule(s Spec, ifindex, b int) []expr.Any {
	l := layoutOf(s)
	return append(toAddress(s, ifindex),
		&expr.Payload{DestRegister: 2, Base: expr.PayloadBaseNetworkHeader, Offset: l.srcOff, Len: l.addrLen},
		&expr.Hash{
			SourceRegister: 2, DestRegister: 1, Length: l.addrLen,
			Modulus: uint32(s.Buckets), Seed: s.Seed, Offset: 1, Type: expr.HashTypeJenkins,
		},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(uint32(b))},
		&expr.Immediate{Register: 1, Data: []byte{packetHost}},
		&expr.Meta{Key: expr.MetaKeyPKTTYPE, SourceRegister: true, Register: 1},
		&expr.Verdict{Kind: expr.VerdictAccept},
	)
}

// neighborAdvertRule lets a neighbour advertisement to the shared IPv6
// address through on every node, whatever its bucket: each node holds the
// address and must see the answers to its own solicitations.
func neighborAdvertRule(s Spec, ifindex int) []expr.Any {
	return append(toAddress(s, ifindex),
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_ICMPV6}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{icmpv6NeighborAdvert}},
		&expr.Verdict{Kind: expr.VerdictAccept},
	)
}

// dropRule drops what no bucket rule accepted.
func dropRule(s Spec, ifindex int) []expr.Any {
	return append(toAddress(s, ifindex), &expr.Verdict{Kind: expr.VerdictDrop})
}

// arpMangleRule writes the cluster MAC into the sender hardware address
// of every ARP packet the node sends from the shared address, so that a
// client's neighbour entry names the MAC all nodes receive. The offsets
// are those of ARP over Ethernet: sender MAC at 8, sender IP at 14.
func arpMangleRule(s Spec) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 14, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: s.IP.Unmap().AsSlice()},
		&expr.Immediate{Register: 1, Data: []byte(s.MAC)},
		&expr.Payload{OperationType: expr.PayloadWrite, SourceRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 8, Len: 6},
	}
}

// ndMangleRules write the cluster MAC into the link-layer address option
// of the neighbour discovery messages by which the node tells its MAC
// for the shared address, and update the ICMPv6 checksum for it: the
// target link-layer address of an advertisement for the address, and the
// source link-layer address of a solicitation sent from it (the node
// solicits a client from the address it answers from, and the client
// takes the option as the address's MAC). In both messages the kernel
// puts the option first, type and length 1 (8 bytes), at offset 24 of the
// ICMPv6 header, after the 16-byte target; a message without it is left
// alone.
func ndMangleRules(s Spec) [][]expr.Any {
	ip := s.IP.AsSlice()
	write := []expr.Any{
		&expr.Immediate{Register: 1, Data: []byte(s.MAC)},
		&expr.Payload{
			OperationType: expr.PayloadWrite, SourceRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 26, Len: 6,
			CsumType: expr.CsumTypeInet, CsumOffset: 2,
		},
	}
	icmpv6 := func(typ, opt byte, match ...expr.Any) []expr.Any {
		e := []expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_ICMPV6}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{typ}},
		}
		e = append(e, match...)
		e = append(e,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 24, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{opt, 1}},
		)
		return append(e, write...)
	}
	return [][]expr.Any{
		icmpv6(icmpv6NeighborAdvert, ndOptTargetLLAddr,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 8, Len: 16},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ip},
		),
		icmpv6(icmpv6NeighborSolicit, ndOptSourceLLAddr,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 8, Len: 16},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ip},
		),
	}
}

// The ICMPv6 type of a neighbour solicitation, and the types of the
// link-layer address options (RFC 4861, 4.3 and 4.6.1).
const (
	icmpv6NeighborSolicit = 135
	ndOptSourceLLAddr     = 1
	ndOptTargetLLAddr     = 2
)

// comment is a rule's user data holding c as nft's comment.
func comment(c string) []byte {
	return userdata.AppendString(nil, userdata.TypeComment, c)
}

// ruleComment reads a rule's comment, "" when it has none.
func ruleComment(r *nftables.Rule) string {
	c, _ := userdata.GetString(r.UserData, userdata.TypeComment)
	return c
}
