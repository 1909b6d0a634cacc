package flow

import (
	"encoding/binary"
	"net/netip"

	"github.com/peerwatch/peerwatch/decode"
)

// hasPorts reports whether packets of protocol p carry the ports that a key
// uses; for any other protocol the ports are treated as zero, since the
// decoder only guarantees them for TCP and UDP.
func hasPorts(p decode.IPProto) bool { return p == decode.TCP || p == decode.UDP }

// ports returns the packet's source and destination ports, or zeros when the
// transport has none.
func ports(p *decode.Packet) (src, dst uint16) {
	if hasPorts(p.Proto) {
		return p.SrcPort, p.DstPort
	}
	return 0, 0
}

// KeyOf returns the direction-independent key of packet p: its innermost
// endpoints ordered so that A is the smaller address:port, its transport
// protocol and its VLAN ids. Ports are zero unless p is TCP or UDP.
func KeyOf(p *decode.Packet) Key {
	sp, dp := ports(p)
	a := netip.AddrPortFrom(p.Src, sp)
	b := netip.AddrPortFrom(p.Dst, dp)
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return Key{A: a, B: b, Proto: p.Proto, VLAN: p.VLAN}
}

// Hash returns a hash of the flow key of packet p that is the same for both
// directions, for sharding packets among workers. It is deterministic across
// runs and processes (no random seed), so a capture is always split the same
// way, and it does not allocate.
func Hash(p *decode.Packet) uint64 {
	sp, dp := ports(p)
	a, b := p.Src.As16(), p.Dst.As16()
	ahi, alo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	bhi, blo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	// Order the endpoints so that both directions feed the same words.
	if ahi > bhi || ahi == bhi && (alo > blo || alo == blo && sp > dp) {
		ahi, alo, bhi, blo, sp, dp = bhi, blo, ahi, alo, dp, sp
	}
	h := uint64(0x9e3779b97f4a7c15) // any odd constant: the golden ratio's bits
	h = mix64(h ^ ahi)
	h = mix64(h ^ alo)
	h = mix64(h ^ bhi)
	h = mix64(h ^ blo)
	h = mix64(h ^ (uint64(sp)<<48 | uint64(dp)<<32 | uint64(p.Proto)))
	h = mix64(h ^ (uint64(p.VLAN[0])<<16 | uint64(p.VLAN[1])))
	return h
}

// mix64 is the 64-bit finaliser of MurmurHash3 (fmix64): every input bit
// affects every output bit, so the low bits used to pick a worker are well
// spread even for addresses that differ only in their last byte.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
