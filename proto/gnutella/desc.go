package gnutella

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// Descriptor header (Wireshark packet-gnutella.h; gtk-gnutella
// doc/gnutella): GUID(16) · payload type(1) · TTL(1) · hops(1) · payload
// length(4, little-endian).
const (
	headerLen = 23
	// maxPayload bounds a descriptor's payload. Servents dropped anything
	// above a few KB ("packets SHOULD be no bigger than 4K"), gtk-gnutella
	// caps at 64 KiB.
	maxPayload = 64 << 10
	// probePayload bounds the payloads the heuristic probe accepts: a run of
	// real descriptors stays far below it.
	probePayload = 4 << 10
	// usualTTL is the TTL servents of 2002 started descriptors with; TTL
	// above it, or TTL+hops above it, is unusual.
	usualTTL = 7
	// maxHopsTTL is the most TTL or hops any real servent uses; the probe
	// rejects headers above it.
	maxHopsTTL = 15
)

// Payload types.
const (
	typePing       = 0x00
	typePong       = 0x01
	typeBye        = 0x02
	typeQRP        = 0x30
	typeVendor     = 0x31
	typeStdVendor  = 0x32
	typePush       = 0x40
	typeMojito     = 0x44 // LimeWire Mojito DHT (UDP only): bytes 17-18 are a version, not TTL/hops
	typeQuery      = 0x80
	typeQueryHit   = 0x81
	ggepMagic      = 0xC3
	hugeSeparator  = 0x1C
	maxResults     = 32 // results of one query hit that are reported
	maxExtensions  = 8  // extension blocks examined per result or query
	maxTextPayload = 1024
)

// Errors of the descriptor format.
var (
	ErrShort      = errors.New("gnutella: short descriptor")
	ErrType       = errors.New("gnutella: unknown payload type")
	ErrLength     = errors.New("gnutella: payload length out of range")
	ErrPayload    = errors.New("gnutella: malformed payload")
	ErrHandshake  = errors.New("gnutella: malformed handshake")
	ErrHeadLimit  = errors.New("gnutella: handshake longer than limit")
	ErrGIV        = errors.New("gnutella: malformed GIV line")
	ErrNotGnut    = errors.New("gnutella: not gnutella")
	ErrInflate    = errors.New("gnutella: deflate stream error")
	ErrInflateMax = errors.New("gnutella: inflate limit reached")
)

// header is a parsed descriptor header.
type header struct {
	guid   [16]byte
	typ    byte
	ttl    byte
	hops   byte
	length int
}

// parseHeader reads the 23-byte header at the start of b.
func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) < headerLen {
		return h, ErrShort
	}
	copy(h.guid[:], b[:16])
	h.typ, h.ttl, h.hops = b[16], b[17], b[18]
	n := binary.LittleEndian.Uint32(b[19:23])
	if n > maxPayload {
		return h, ErrLength
	}
	h.length = int(n)
	return h, nil
}

// typeName names a payload type for records; "" for an unknown type.
func typeName(t byte) string {
	switch t {
	case typePing:
		return "ping"
	case typePong:
		return "pong"
	case typeBye:
		return "bye"
	case typeQRP:
		return "qrp"
	case typeVendor:
		return "vendor"
	case typeStdVendor:
		return "std_vendor"
	case typePush:
		return "push"
	case typeQuery:
		return "query"
	case typeQueryHit:
		return "query_hit"
	case typeMojito:
		return "mojito"
	}
	return ""
}

// plausible reports whether a header and its whole payload look like a
// real descriptor: a known type, small TTL and hops, and a payload whose
// size and first bytes fit the type. It is the probe's and the resync's
// test and does not allocate.
func plausible(h header, p []byte, limit int) bool {
	if h.length > limit || len(p) != h.length || !plausibleHeader(h) {
		return false
	}
	switch h.typ {
	case typePing:
		return len(p) == 0 || p[0] == ggepMagic
	case typePong:
		return len(p) >= 14 && (len(p) == 14 || p[14] == ggepMagic)
	case typeBye:
		return len(p) >= 2
	case typeQRP:
		// Route table update: variant 0 reset (6 bytes) or 1 patch.
		return len(p) == 6 && p[0] == 0 || len(p) >= 6 && p[0] == 1
	case typeVendor, typeStdVendor:
		// Vendor code(4) · selector(2) · version(2) · data.
		return len(p) >= 8 && vendorCode(p[:4])
	case typePush:
		return len(p) == 26 || len(p) > 26 && p[26] == ggepMagic
	case typeQuery:
		return len(p) >= 3 && indexByte(p[2:], 0) >= 0
	case typeQueryHit:
		return len(p) >= 11+16 && p[0] > 0
	}
	return false
}

// plausibleHeader checks the header alone: a descriptor on the wire has
// TTL >= 1 (a servent never sends one that may not travel), TTL and hops
// within what servents use, and a GUID that is not one repeated byte
// (zero-filled or padded data is not a run of descriptors).
func plausibleHeader(h header) bool {
	if h.ttl == 0 || h.ttl > maxHopsTTL || h.hops > maxHopsTTL || int(h.ttl)+int(h.hops) > maxHopsTTL+1 {
		return false
	}
	for _, b := range h.guid[1:] {
		if b != h.guid[0] {
			return true
		}
	}
	return false
}

// vendorCode reports whether b is four printable ASCII letters/digits.
func vendorCode(b []byte) bool {
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// addrPort decodes IPv4 (network order) and port (little-endian).
func addrPort(ip []byte, port []byte) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[:4])), binary.LittleEndian.Uint16(port))
}

// pong is a Pong payload.
type pong struct {
	addr         netip.AddrPort
	files, kbyte uint32
}

// parsePong reads port(2 LE) · IP(4) · files(4 LE) · kilobytes(4 LE) [· GGEP].
func parsePong(p []byte) (pong, error) {
	if len(p) < 14 {
		return pong{}, ErrPayload
	}
	return pong{addr: addrPort(p[2:6], p[0:2]), files: binary.LittleEndian.Uint32(p[6:10]),
		kbyte: binary.LittleEndian.Uint32(p[10:14])}, nil
}

// query is a Query payload.
type query struct {
	minSpeed uint16
	text     []byte   // search text, without the NUL
	urns     [][]byte // HUGE urns in the extension block, bounded
}

// parseQuery reads minimum speed(2 LE) · text NUL · extensions.
func parseQuery(p []byte) (query, error) {
	if len(p) < 3 {
		return query{}, ErrPayload
	}
	q := query{minSpeed: binary.LittleEndian.Uint16(p)}
	rest := p[2:]
	end := indexByte(rest, 0)
	if end < 0 {
		return query{}, ErrPayload
	}
	q.text = rest[:end]
	q.urns = urnsIn(rest[end+1:], nil)
	return q, nil
}

// urnsIn collects the "urn:" blocks of an extension area (0x1C-separated,
// a GGEP block ends the area), at most maxExtensions.
func urnsIn(ext []byte, out [][]byte) [][]byte {
	for n := 0; len(ext) > 0 && n < maxExtensions; n++ {
		if ext[0] == ggepMagic {
			break
		}
		end := indexByte(ext, hugeSeparator)
		blk := ext
		if end >= 0 {
			blk, ext = ext[:end], ext[end+1:]
		} else {
			ext = nil
		}
		if z := indexByte(blk, 0); z >= 0 {
			blk = blk[:z]
		}
		if len(blk) > 4 && (string(blk[:4]) == "urn:" || string(blk[:4]) == "URN:") {
			out = append(out, blk)
		}
	}
	return out
}

// result is one file of a query hit.
type result struct {
	index uint32
	size  uint32
	name  []byte
	urns  [][]byte
}

// queryHit is a QueryHit payload.
type queryHit struct {
	count   int // hits announced
	addr    netip.AddrPort
	speed   uint32
	results []result // at most maxResults
	vendor  string   // QHD vendor code, "" if absent
	flags   byte     // QHD flags that the flags-enabled byte marks valid
	servent [16]byte
}

// parseQueryHit reads N(1) · port(2 LE) · IP(4) · speed(4 LE) · N results
// (index(4 LE) · size(4 LE) · name NUL · extensions NUL) · optional QHD
// trailer (vendor(4) · open-data size(1) · open data) · servent ID(16).
func parseQueryHit(p []byte) (queryHit, error) {
	if len(p) < 11+16 {
		return queryHit{}, ErrPayload
	}
	qh := queryHit{count: int(p[0]), addr: addrPort(p[3:7], p[1:3]), speed: binary.LittleEndian.Uint32(p[7:11])}
	copy(qh.servent[:], p[len(p)-16:])
	body := p[11 : len(p)-16]
	for i := 0; i < qh.count; i++ {
		if len(body) < 8 {
			return queryHit{}, ErrPayload
		}
		r := result{index: binary.LittleEndian.Uint32(body), size: binary.LittleEndian.Uint32(body[4:])}
		body = body[8:]
		z := indexByte(body, 0)
		if z < 0 {
			return queryHit{}, ErrPayload
		}
		r.name, body = body[:z], body[z+1:]
		z = indexByte(body, 0)
		if z < 0 {
			return queryHit{}, ErrPayload
		}
		r.urns = urnsIn(body[:z], nil)
		body = body[z+1:]
		if len(qh.results) < maxResults {
			qh.results = append(qh.results, r)
		}
	}
	// QHD trailer (BearShare/LimeWire): vendor code, open data size, open data.
	if len(body) >= 5 && vendorCode(body[:4]) {
		qh.vendor = string(body[:4])
		if n := int(body[4]); n >= 2 && len(body) >= 5+n {
			qh.flags = body[5] & body[6]
		}
	}
	return qh, nil
}

// push is a Push payload.
type push struct {
	servent [16]byte
	index   uint32
	addr    netip.AddrPort
}

// parsePush reads servent ID(16) · file index(4 LE) · IP(4) · port(2 LE).
func parsePush(p []byte) (push, error) {
	if len(p) < 26 {
		return push{}, ErrPayload
	}
	var x push
	copy(x.servent[:], p[:16])
	x.index = binary.LittleEndian.Uint32(p[16:20])
	x.addr = addrPort(p[20:24], p[24:26])
	return x, nil
}

// bye is a Bye payload.
type bye struct {
	code   uint16
	reason []byte
}

// parseBye reads code(2 LE) · reason text, NUL-terminated.
func parseBye(p []byte) (bye, error) {
	if len(p) < 2 {
		return bye{}, ErrPayload
	}
	b := bye{code: binary.LittleEndian.Uint16(p)}
	r := p[2:]
	if z := indexByte(r, 0); z >= 0 {
		r = r[:z]
	}
	// Some servents append the reason's headers after CRLF: keep the line.
	for i, c := range r {
		if c == '\r' || c == '\n' {
			r = r[:i]
			break
		}
	}
	b.reason = r
	return b, nil
}
