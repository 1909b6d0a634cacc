package decode

import (
	"net/netip"
	"time"
)

// LinkType is a pcap LINKTYPE_ value: the framing of a captured packet.
type LinkType uint16

// Link types peerwatch decodes. Values are the pcap LINKTYPE_ registry's.
const (
	LinkNull      LinkType = 0   // BSD loopback: 4-byte host-order address family
	LinkEthernet  LinkType = 1   // Ethernet II / 802.3
	LinkPPP       LinkType = 9   // PPP (RFC 1661), with or without HDLC framing
	LinkRaw       LinkType = 101 // raw IPv4 or IPv6, told apart by the version nibble
	LinkCHDLC     LinkType = 104 // Cisco HDLC
	LinkLoop      LinkType = 108 // OpenBSD loopback: 4-byte network-order family
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture v1
	LinkPPI       LinkType = 192 // Per-Packet Information header, then another link type
	LinkIPv4      LinkType = 228 // raw IPv4
	LinkIPv6      LinkType = 229 // raw IPv6
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture v2
)

// IPProto is an IP protocol number.
type IPProto uint8

// Transport protocols that flows are made of.
const (
	TCP IPProto = 6
	UDP IPProto = 17
)

// TCPFlags are the flag bits of a TCP header (low byte: FIN..CWR).
type TCPFlags uint8

// TCP flag bits.
const (
	FIN TCPFlags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// TCPInfo is the part of a TCP header that flow tracking and reassembly use.
type TCPInfo struct {
	Seq, Ack uint32
	Flags    TCPFlags
	Window   uint16
}

// Packet is one decoded packet: the innermost IP endpoints and transport
// header, and the transport payload. A Decoder overwrites every field.
type Packet struct {
	Timestamp        time.Time
	Src, Dst         netip.Addr // innermost IP addresses (IPv4 as 4-byte addresses, never 4in6)
	SrcPort, DstPort uint16     // valid iff Proto is TCP or UDP
	Proto            IPProto    // innermost transport protocol
	VLAN             [2]uint16  // outer and inner 802.1Q/802.1ad ids; 0 where absent
	TCP              TCPInfo    // valid iff Proto == TCP
	// Payload is the transport payload present in the capture. It aliases the
	// capture buffer, or the decoder's fragment buffer for a reassembled
	// datagram, and is valid until the next call to Decode.
	Payload []byte
	// Missing is the number of payload bytes that the IP length announces but
	// the capture does not hold (snaplen truncation): a gap, not short data.
	Missing int
	// WireLen is the frame's length on the wire, in bytes.
	WireLen int
	// Reassembled is true when Payload comes from reassembled IP fragments.
	Reassembled bool
	// Tunnels counts the encapsulation layers removed to reach the innermost IP header.
	Tunnels uint8
	// BadChecksum is true when the IPv4 header checksum does not verify. It is
	// counted, never enforced: captures taken on the sending host carry
	// offload garbage.
	BadChecksum bool
}
