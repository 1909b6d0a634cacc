package decode

import (
	"encoding/binary"
	"time"
)

// Link-type values that some systems use for raw IP instead of 101: DLT_RAW
// is 12 on most BSDs and 14 on OpenBSD (pcap-common.c, "LINKTYPE_RAW").
const (
	linkRawBSD     LinkType = 12
	linkRawOpenBSD LinkType = 14
	linkPPPHDLC    LinkType = 50 // PPP in HDLC-like framing (RFC 1662)
)

// maxVLANTags bounds the 802.1Q tags followed in one Ethernet header; real
// networks stack two (QinQ), a few more are tolerated.
const maxVLANTags = 8

// EtherType values (IEEE registry).
const (
	etherIPv4      = 0x0800
	etherIPv6      = 0x86dd
	etherVLAN      = 0x8100 // 802.1Q
	etherQinQ      = 0x88a8 // 802.1ad service tag
	etherQinQOld   = 0x9100 // pre-standard QinQ
	etherMPLS      = 0x8847
	etherMPLSMulti = 0x8848
	etherPPPoEDisc = 0x8863
	etherPPPoESess = 0x8864
	etherTEB       = 0x6558 // transparent Ethernet bridging (GRE)
	etherERSPAN2   = 0x88be // ERSPAN type I/II (GRE)
	etherERSPAN3   = 0x22eb // ERSPAN type III (GRE)
	etherPPP       = 0x880b // PPP over enhanced GRE (PPTP)
)

// PPP protocol numbers (RFC 1661, IANA PPP DLL protocol numbers).
const (
	pppIPv4      = 0x0021
	pppIPv6      = 0x0057
	pppMPLS      = 0x0281
	pppMPLSMulti = 0x0283
)

// A Decoder turns frames into Packets. It keeps counters and the IP fragment
// table, so it is owned by one goroutine; use one Decoder per reader.
type Decoder struct {
	cfg   Config
	stats Stats
	frag  fragTable
	nvlan int // VLAN ids recorded in the current packet
}

// NewDecoder returns a Decoder bounded by cfg; zero fields of cfg take the
// defaults.
func NewDecoder(cfg Config) *Decoder {
	cfg = cfg.withDefaults()
	d := &Decoder{cfg: cfg}
	d.frag.init(cfg, &d.stats.Frags)
	return d
}

// Stats returns a copy of the decoder's counters.
func (d *Decoder) Stats() Stats { return d.stats }

// Expire drops incomplete fragmented datagrams whose first fragment arrived
// more than FragTimeout before now (capture time). Decode does the same
// lazily with each frame's timestamp.
func (d *Decoder) Expire(now time.Time) { d.frag.expire(now) }

// Decode decodes one frame of the given link type. wireLen is the frame's
// original length. It returns OK when p holds a TCP or UDP packet, possibly
// reassembled from fragments: then p.Reassembled is set and p.Payload
// aliases the decoder's buffer, valid until the next Decode call. On any
// other result only p.Timestamp and p.WireLen are meaningful. Decode never
// allocates unless the frame is an IP fragment.
func (d *Decoder) Decode(link LinkType, data []byte, wireLen int, ts time.Time, p *Packet) Reason {
	*p = Packet{Timestamp: ts, WireLen: wireLen}
	d.nvlan = 0
	if d.frag.pending() {
		d.frag.expire(ts)
	}
	r := d.link(link, data, p, true)
	d.stats.Reasons[r]++
	return r
}

// link dispatches on the link type. PPI may wrap another link type once.
func (d *Decoder) link(link LinkType, b []byte, p *Packet, allowPPI bool) Reason {
	switch link {
	case LinkEthernet:
		return d.ethernet(b, p)
	case LinkRaw, linkRawBSD, linkRawOpenBSD:
		return d.rawIP(b, p)
	case LinkIPv4:
		return d.ipv4(b, p)
	case LinkIPv6:
		return d.ipv6(b, p)
	case LinkLinuxSLL:
		// SLL: packet type(2), ARPHRD type(2), address length(2),
		// address(8), protocol(2) — pcap-linktype(7), "LINKTYPE_LINUX_SLL".
		if len(b) < 16 {
			return Truncated
		}
		return d.etherType(be16(b[14:]), b[16:], p)
	case LinkLinuxSLL2:
		// SLL2: protocol(2), reserved(2), interface index(4), ARPHRD
		// type(2), packet type(1), address length(1), address(8).
		if len(b) < 20 {
			return Truncated
		}
		return d.etherType(be16(b), b[20:], p)
	case LinkNull, LinkLoop:
		if len(b) < 4 {
			return Truncated
		}
		var fam uint32
		if link == LinkLoop {
			fam = binary.BigEndian.Uint32(b)
		} else {
			// Host byte order of the capturing machine: families are
			// small, so a value that does not fit 16 bits was written
			// big-endian.
			fam = binary.LittleEndian.Uint32(b)
			if fam > 0xffff {
				fam = binary.BigEndian.Uint32(b)
			}
		}
		switch fam {
		case 2: // AF_INET everywhere
			return d.ipv4(b[4:], p)
		case 24, 28, 30: // AF_INET6 on NetBSD/OpenBSD, FreeBSD, Darwin
			return d.ipv6(b[4:], p)
		}
		return NotIP
	case LinkPPP, linkPPPHDLC:
		if len(b) < 2 {
			return Truncated
		}
		// Some routers write Cisco HDLC frames under the PPP link type;
		// libpcap and Wireshark tell them apart by the HDLC address byte
		// (0x0f unicast, 0x8f broadcast), never a valid PPP start.
		if len(b) >= 2 && (b[0] == 0x0f || b[0] == 0x8f) && b[1] == 0 {
			return d.link(LinkCHDLC, b, p, false)
		}
		return d.ppp(b, p)
	case LinkCHDLC:
		// Cisco HDLC: address(1), control(1), protocol(2) as an EtherType.
		if len(b) < 4 {
			return Truncated
		}
		return d.etherType(be16(b[2:]), b[4:], p)
	case LinkPPI:
		if !allowPPI {
			return Malformed
		}
		// PPI: version(1), flags(1), header length(2 LE), DLT(4 LE).
		if len(b) < 8 {
			return Truncated
		}
		hl := int(binary.LittleEndian.Uint16(b[2:]))
		if hl < 8 {
			return Malformed
		}
		if len(b) < hl {
			return Truncated
		}
		dlt := binary.LittleEndian.Uint32(b[4:])
		if dlt > 0xffff {
			d.stats.countLink(LinkPPI)
			return UnsupportedLink
		}
		return d.link(LinkType(dlt), b[hl:], p, false)
	}
	d.stats.countLink(link)
	return UnsupportedLink
}

// rawIP decodes an IP header told apart by its version nibble.
func (d *Decoder) rawIP(b []byte, p *Packet) Reason {
	if len(b) < 1 {
		return Truncated
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(b, p)
	case 6:
		return d.ipv6(b, p)
	}
	return Malformed
}

// ethernet decodes an Ethernet II header: destination(6), source(6), type(2).
func (d *Decoder) ethernet(b []byte, p *Packet) Reason {
	if len(b) < 14 {
		return Truncated
	}
	return d.etherType(be16(b[12:]), b[14:], p)
}

// etherType decodes b as the payload of the given EtherType, following VLAN
// tags.
func (d *Decoder) etherType(et uint16, b []byte, p *Packet) Reason {
	for tags := 0; ; tags++ {
		switch et {
		case etherIPv4:
			return d.ipv4(b, p)
		case etherIPv6:
			return d.ipv6(b, p)
		case etherVLAN, etherQinQ, etherQinQOld:
			if tags == maxVLANTags {
				return Malformed
			}
			// Tag: PCP(3) DEI(1) VID(12), then the next EtherType.
			if len(b) < 4 {
				return Truncated
			}
			d.addVLAN(p, be16(b)&0x0fff)
			et = be16(b[2:])
			b = b[4:]
		case etherMPLS, etherMPLSMulti:
			return d.mpls(b, p)
		case etherPPPoESess:
			return d.pppoe(b, p)
		default:
			// ARP, LLDP, PPPoE discovery, 802.3 length fields, ...
			return NotIP
		}
	}
}

// addVLAN records a VLAN id outermost first. Priority tags (id 0) carry no
// VLAN and take no slot; ids past the second are not recorded.
func (d *Decoder) addVLAN(p *Packet, id uint16) {
	if id == 0 || d.nvlan >= len(p.VLAN) {
		return
	}
	p.VLAN[d.nvlan] = id
	d.nvlan++
}

// enter accounts for one removed encapsulation layer of the kind whose
// counter is given, and reports whether the depth limit still allows it.
func (d *Decoder) enter(p *Packet, kind *uint64) bool {
	if int(p.Tunnels) >= d.cfg.MaxTunnelDepth {
		return false
	}
	p.Tunnels++
	*kind++
	return true
}

// ppp decodes a PPP frame with or without HDLC address and control bytes
// (ff 03) and with a one- or two-byte protocol field (RFC 1661 §6.5 PFC).
func (d *Decoder) ppp(b []byte, p *Packet) Reason {
	if len(b) >= 1 && b[0] == 0xff {
		if len(b) < 2 {
			return Truncated
		}
		if b[1] == 0x03 {
			b = b[2:]
		}
	}
	if len(b) < 1 {
		return Truncated
	}
	var proto uint16
	if b[0]&1 == 1 {
		proto = uint16(b[0])
		b = b[1:]
	} else {
		if len(b) < 2 {
			return Truncated
		}
		proto = be16(b)
		b = b[2:]
	}
	switch proto {
	case pppIPv4:
		return d.ipv4(b, p)
	case pppIPv6:
		return d.ipv6(b, p)
	case pppMPLS, pppMPLSMulti:
		return d.mpls(b, p)
	}
	return NotIP
}

// pppoe decodes a PPPoE session header (RFC 2516 §4): version/type(1) = 0x11,
// code(1) = 0, session id(2), length(2), then a PPP protocol field.
func (d *Decoder) pppoe(b []byte, p *Packet) Reason {
	if len(b) < 6 {
		return Truncated
	}
	if b[0] != 0x11 || b[1] != 0 {
		return Malformed
	}
	if n := int(be16(b[4:])); n < len(b)-6 {
		b = b[:6+n]
	}
	if !d.enter(p, &d.stats.Tunnels.PPPoE) {
		return TooDeep
	}
	return d.ppp(b[6:], p)
}

// mpls skips an MPLS label stack (RFC 3032 §2.1: label(20) TC(3) S(1)
// TTL(8)) down to the bottom-of-stack entry; the payload carries no type, so
// the IP version nibble decides.
func (d *Decoder) mpls(b []byte, p *Packet) Reason {
	for {
		if len(b) < 4 {
			return Truncated
		}
		bottom := b[2]&1 == 1
		b = b[4:]
		if bottom {
			break
		}
	}
	if !d.enter(p, &d.stats.Tunnels.MPLS) {
		return TooDeep
	}
	if len(b) < 1 {
		return Truncated
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(b, p)
	case 6:
		return d.ipv6(b, p)
	}
	// Pseudowires (control word 0) and other payloads.
	return NotIP
}

// be16 reads a big-endian uint16; callers check the length.
func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
