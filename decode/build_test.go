package decode_test

import (
	"encoding/binary"
	"net/netip"
)

// Frame builders for hand-made test frames. Every header is written field
// by field from its RFC layout so a test reads as the frame it builds.

var (
	src4 = netip.MustParseAddr("192.0.2.1")
	dst4 = netip.MustParseAddr("198.51.100.2")
	src6 = netip.MustParseAddr("2001:db8::1")
	dst6 = netip.MustParseAddr("2001:db8::2")
	// outer tunnel endpoints
	osrc4 = netip.MustParseAddr("203.0.113.1")
	odst4 = netip.MustParseAddr("203.0.113.2")
	osrc6 = netip.MustParseAddr("2001:db8:ffff::1")
	odst6 = netip.MustParseAddr("2001:db8:ffff::2")
)

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// eth builds an Ethernet II header with the given VLAN tags (TPID, VID
// pairs) and EtherType, followed by payload.
func eth(etype uint16, payload []byte, tags ...uint16) []byte {
	b := cat([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2})
	for i := 0; i+1 < len(tags); i += 2 {
		b = cat(b, u16(tags[i]), u16(tags[i+1]))
	}
	return cat(b, u16(etype), payload)
}

// ip4opts builds an IPv4 header with options, a valid checksum and the
// given flags/fragment-offset field.
func ip4opts(proto byte, src, dst netip.Addr, id, ff uint16, opts []byte, payload []byte) []byte {
	hl := 20 + len(opts)
	h := make([]byte, 20)
	h[0] = 0x40 | byte(hl/4)
	binary.BigEndian.PutUint16(h[2:], uint16(hl+len(payload)))
	binary.BigEndian.PutUint16(h[4:], id)
	binary.BigEndian.PutUint16(h[6:], ff)
	h[8] = 64
	h[9] = proto
	s, d := src.As4(), dst.As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	h = cat(h, opts)
	var sum uint32
	for i := 0; i < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(h[10:], ^uint16(sum))
	return cat(h, payload)
}

func ip4(proto byte, payload []byte) []byte {
	return ip4opts(proto, src4, dst4, 1, 0x4000, nil, payload)
}

// ip6ext builds an IPv6 header whose next header is nh, followed by
// payload (extension headers included).
func ip6ext(nh byte, src, dst netip.Addr, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = nh
	h[7] = 64
	s, d := src.As16(), dst.As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return cat(h, payload)
}

func ip6(nh byte, payload []byte) []byte { return ip6ext(nh, src6, dst6, payload) }

// ext6 builds a generic IPv6 extension header (hop-by-hop, routing,
// destination options) of 8*(units+1) bytes.
func ext6(next byte, units int) []byte {
	b := make([]byte, 8*(units+1))
	b[0] = next
	b[1] = byte(units)
	if units == 0 {
		b[2] = 1 // PadN option filling the rest
		b[3] = 4
	}
	return b
}

// frag6 builds an IPv6 fragment header.
func frag6(next byte, off int, more bool, id uint32) []byte {
	fo := uint16(off)
	if more {
		fo |= 1
	}
	return cat([]byte{next, 0}, u16(fo), u32(id))
}

// tcp builds a TCP header with the given options (padded to 4 bytes).
func tcp(sport, dport uint16, flags byte, opts []byte, payload []byte) []byte {
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	h := cat(u16(sport), u16(dport), u32(1000), u32(2000),
		[]byte{byte((20 + len(opts)) / 4 << 4), flags}, u16(65535), u16(0), u16(0), opts)
	return cat(h, payload)
}

func udp(sport, dport uint16, payload []byte) []byte {
	return cat(u16(sport), u16(dport), u16(uint16(8+len(payload))), u16(0), payload)
}

var hello = []byte("hello")

// tcp4 is the canonical Ethernet + IPv4 + TCP frame.
func tcp4() []byte { return eth(0x0800, ip4(6, tcp(1234, 80, 0x18, nil, hello))) }

// udp6 is the canonical Ethernet + IPv6 + UDP frame.
func udp6() []byte { return eth(0x86dd, ip6(17, udp(5353, 53, hello))) }
