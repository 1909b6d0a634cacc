package decode

import (
	"encoding/binary"
	"net/netip"
)

// IP protocol numbers (IANA) that the decoder follows or stops on.
const (
	protoHopByHop = 0
	protoIPIP     = 4
	protoTCP      = 6
	protoUDP      = 17
	protoIPv6     = 41
	protoRouting  = 43
	protoFragment = 44
	protoGRE      = 47
	protoESP      = 50
	protoAH       = 51
	protoNoNext   = 59
	protoDstOpts  = 60
	protoMobility = 135
	protoHIP      = 139
	protoShim6    = 140
)

// vxlanPort is the IANA UDP port of VXLAN (RFC 7348 §5).
const vxlanPort = 4789

// ipv4 decodes an IPv4 header (RFC 791) and what it carries. Bytes past the
// total length (Ethernet padding) are dropped; bytes the total length
// announces but the capture lacks become p.Missing.
func (d *Decoder) ipv4(b []byte, p *Packet) Reason {
	if len(b) < 20 {
		return Truncated
	}
	if b[0]>>4 != 4 {
		return Malformed
	}
	hl := int(b[0]&0x0f) * 4
	if hl < 20 {
		return Malformed
	}
	if len(b) < hl {
		return Truncated
	}
	total := int(be16(b[2:]))
	if total == 0 {
		// Segmentation offload: the NIC fills the length in later, so a
		// capture on the sending host shows 0. Take what was captured.
		total = len(b)
	}
	if total < hl {
		return Malformed
	}
	missing := 0
	if total <= len(b) {
		b = b[:total]
	} else {
		missing = total - len(b)
	}
	if !checksum4OK(b[:hl]) {
		p.BadChecksum = true
		d.stats.BadIPv4Checksum++
	}
	p.Src = netip.AddrFrom4([4]byte(b[12:16]))
	p.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	proto := b[9]
	p.Proto = IPProto(proto)
	// Flags(3) fragment offset(13): MF is 0x2000, the offset counts 8 bytes.
	if ff := be16(b[6:]); ff&0x3fff != 0 {
		return d.fragment4(b, hl, missing, ff, p)
	}
	return d.transport(proto, b[hl:], missing, p)
}

// checksum4OK reports whether an IPv4 header's ones'-complement sum is all
// ones (RFC 1071).
func checksum4OK(h []byte) bool {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return sum == 0xffff
}

// ipv6 decodes an IPv6 header (RFC 8200), its extension headers and what
// they carry.
func (d *Decoder) ipv6(b []byte, p *Packet) Reason {
	if len(b) < 40 {
		return Truncated
	}
	if b[0]>>4 != 6 {
		return Malformed
	}
	plen := int(be16(b[4:]))
	if plen == 0 {
		// A jumbogram (RFC 2675) or segmentation offload: take what was
		// captured.
		plen = len(b) - 40
	}
	missing := 0
	if total := 40 + plen; total <= len(b) {
		b = b[:total]
	} else {
		missing = total - len(b)
	}
	p.Src = netip.AddrFrom16([16]byte(b[8:24]))
	p.Dst = netip.AddrFrom16([16]byte(b[24:40]))
	return d.ipv6Ext(b[6], b, 40, missing, p, false)
}

// ipv6Ext walks IPv6 extension headers starting at b[off] whose type is nh,
// then decodes the upper layer. reassembled is true when b is a reassembled
// fragmentable part, which may not hold another fragment header.
func (d *Decoder) ipv6Ext(nh byte, b []byte, off, missing int, p *Packet, reassembled bool) Reason {
	for {
		p.Proto = IPProto(nh)
		switch nh {
		case protoHopByHop, protoRouting, protoDstOpts, protoMobility, protoHIP, protoShim6:
			// Next header(1), length in 8-byte units not counting the first(1).
			if len(b)-off < 2 {
				return Truncated
			}
			n := (int(b[off+1]) + 1) * 8
			if len(b)-off < n {
				return Truncated
			}
			nh = b[off]
			off += n
		case protoAH:
			// RFC 4302 §2.2: length in 4-byte units minus 2.
			if len(b)-off < 2 {
				return Truncated
			}
			n := (int(b[off+1]) + 2) * 4
			if len(b)-off < n {
				return Truncated
			}
			nh = b[off]
			off += n
		case protoFragment:
			// Next header(1), reserved(1), offset(13) res(2) M(1), id(4).
			if len(b)-off < 8 {
				return Truncated
			}
			if reassembled {
				return Malformed
			}
			fo := be16(b[off+2:])
			next := b[off]
			id := binary.BigEndian.Uint32(b[off+4:])
			off += 8
			if fo&0xfff9 == 0 {
				// An atomic fragment (RFC 6946): offset 0, no more.
				nh = next
				continue
			}
			return d.fragment6(b, off, next, int(fo&0xfff8), fo&1 == 1, id, missing, p)
		case protoESP, protoNoNext:
			return OtherTransport
		default:
			return d.transport(nh, b[off:], missing, p)
		}
	}
}

// transport decodes the upper layer protocol proto carried in b, of which
// missing bytes were not captured: TCP, UDP (and VXLAN inside it), or a
// tunnelled IP packet.
func (d *Decoder) transport(proto byte, b []byte, missing int, p *Packet) Reason {
	p.Proto = IPProto(proto)
	switch proto {
	case protoTCP:
		// RFC 9293 §3.1: ports(4), seq(4), ack(4), data offset(4 bits)
		// reserved(4 bits), flags(8), window(2), checksum(2), urgent(2).
		if len(b) < 20 {
			return Truncated
		}
		off := int(b[12]>>4) * 4
		if off < 20 {
			return Malformed
		}
		if len(b) < off {
			return Truncated
		}
		p.SrcPort = be16(b)
		p.DstPort = be16(b[2:])
		p.TCP = TCPInfo{
			Seq:    binary.BigEndian.Uint32(b[4:]),
			Ack:    binary.BigEndian.Uint32(b[8:]),
			Flags:  TCPFlags(b[13]),
			Window: be16(b[14:]),
		}
		p.Payload = b[off:]
		p.Missing = missing
		return OK
	case protoUDP:
		// RFC 768: ports(4), length(2), checksum(2).
		if len(b) < 8 {
			return Truncated
		}
		p.SrcPort = be16(b)
		p.DstPort = be16(b[2:])
		switch ulen := int(be16(b[4:])); {
		case ulen == 0:
			// IPv6 jumbogram (RFC 2675 §4): the IP length rules.
		case ulen < 8:
			return Malformed
		case ulen <= len(b):
			b = b[:ulen]
			missing = 0
		case ulen <= len(b)+missing:
			missing = ulen - len(b)
		}
		// VXLAN (RFC 7348 §5): flags(1) with I = 0x08, reserved(3),
		// VNI(3), reserved(1), then an Ethernet frame.
		if p.DstPort == vxlanPort && len(b) >= 16 && b[8]&0x08 != 0 {
			if !d.enter(p, &d.stats.Tunnels.VXLAN) {
				return TooDeep
			}
			return d.ethernet(b[16:], p)
		}
		p.Payload = b[8:]
		p.Missing = missing
		return OK
	case protoIPIP:
		if !d.enter(p, &d.stats.Tunnels.IPinIP) {
			return TooDeep
		}
		return d.ipv4(b, p)
	case protoIPv6:
		if !d.enter(p, &d.stats.Tunnels.IPinIP) {
			return TooDeep
		}
		return d.ipv6(b, p)
	case protoGRE:
		return d.gre(b, p)
	}
	return OtherTransport
}

// gre decodes GRE version 0 (RFC 2784, RFC 2890 key and sequence) and the
// enhanced version 1 of PPTP (RFC 2637 §4.1), then its payload.
func (d *Decoder) gre(b []byte, p *Packet) Reason {
	if len(b) < 4 {
		return Truncated
	}
	// C(1) R(1) K(1) S(1) s(1) recur(3), A(1) flags(4) version(3).
	flags := be16(b)
	proto := be16(b[2:])
	if flags&0x4000 != 0 {
		// RFC 1701 source routing: obsolete, not followed.
		return OtherTransport
	}
	n := 4
	switch flags & 7 {
	case 0:
		if flags&0x8000 != 0 {
			n += 4 // checksum(2), reserved(2)
		}
		if flags&0x2000 != 0 {
			n += 4 // key
		}
		if flags&0x1000 != 0 {
			n += 4 // sequence number
		}
	case 1:
		if proto != etherPPP || flags&0x2000 == 0 {
			return Malformed
		}
		n += 4 // payload length(2), call id(2)
		if flags&0x1000 != 0 {
			n += 4 // sequence number
		}
		if flags&0x0080 != 0 {
			n += 4 // acknowledgment number
		}
	default:
		return OtherTransport
	}
	if len(b) < n {
		return Truncated
	}
	if !d.enter(p, &d.stats.Tunnels.GRE) {
		return TooDeep
	}
	b = b[n:]
	switch proto {
	case etherTEB:
		return d.ethernet(b, p)
	case etherERSPAN2:
		// Type I has no header; type II (sequence bit set) has 8 bytes.
		if flags&0x1000 != 0 {
			if len(b) < 8 {
				return Truncated
			}
			b = b[8:]
		}
		return d.ethernet(b, p)
	case etherERSPAN3:
		// Type III: 12 bytes, then an 8-byte platform sub-header when the
		// O bit (last bit of byte 11) is set.
		if len(b) < 12 {
			return Truncated
		}
		h := 12
		if b[11]&1 != 0 {
			h += 8
		}
		if len(b) < h {
			return Truncated
		}
		return d.ethernet(b[h:], p)
	case etherPPP:
		return d.ppp(b, p)
	}
	return d.etherType(proto, b, p)
}
