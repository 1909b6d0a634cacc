package fasttrack

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/peerwatch/peerwatch/internal/httpwire"
)

const (
	service = "kazaa"

	maxNetwork = 32   // bytes of a network name (the known ones have at most 9)
	maxProbe   = 4096 // bytes of an HTTP head the probe waits for
	maxGive    = 18   // "GIVE 4294967295\r\n" plus one
	maxValue   = 256  // bytes kept of a header value or tag
	maxTags    = 32   // X-KazaaTag headers kept per head
	maxOther   = 8    // names of unknown X-Kazaa-* headers kept per head
)

// products lists the FastTrack clients; the first is the default.
var products = []string{"KaZaA", "Grokster", "iMesh", "MusicCity Morpheus", "giFT-FastTrack"}

// Errors of the wire formats.
var (
	ErrShort    = errors.New("fasttrack: datagram too short")
	ErrType     = errors.New("fasttrack: unknown datagram type")
	ErrLayout   = errors.New("fasttrack: datagram fields out of range")
	ErrNetwork  = errors.New("fasttrack: bad network name")
	ErrGive     = errors.New("fasttrack: bad GIVE line")
	ErrHTTPHead = errors.New("fasttrack: bad http head")
	ErrHTTPBody = errors.New("fasttrack: bad http body")
	ErrPipeline = errors.New("fasttrack: too many pipelined requests")
)

// UDP message types (PROTOCOL "UDP messages").
const (
	udpPing  = 0x27
	udpPong  = 0x28
	udpPong2 = 0x29
	udpAck   = 0x2A
)

// udpMsg is one parsed discovery datagram. network aliases the input.
type udpMsg struct {
	typ     byte
	minEnc  uint32
	network []byte // 0x27, 0x28
	load    int    // 0x28: the load byte, -1 if not a percentage
	id      uint32 // 0x29, 0x2A
	flag    bool   // 0x29: "available for incoming connections"
	addr    netip.AddrPort
}

// parseUDP parses a discovery datagram strictly: exact lengths, the fixed
// bytes the spec gives, a minimum encryption type below 0x100 and a network
// name that is NUL-terminated at the end of the datagram and known or made
// of [A-Za-z0-9._-]. It does not allocate.
func parseUDP(b []byte) (m udpMsg, err error) {
	if len(b) == 0 {
		return m, ErrShort
	}
	m.typ, m.load = b[0], -1
	switch m.typ {
	case udpPing, udpPong, udpPong2:
		if len(b) < 5 {
			return m, ErrShort
		}
		m.minEnc = binary.BigEndian.Uint32(b[1:5])
		if m.minEnc > 0xff {
			return m, ErrLayout
		}
	case udpAck:
		if len(b) != 5 {
			return m, ErrShort
		}
		m.id = binary.BigEndian.Uint32(b[1:5])
		return m, nil
	default:
		return m, ErrType
	}
	switch m.typ {
	case udpPing:
		// 27 · enc(4) · 80 · name NUL
		if len(b) < 8 {
			return m, ErrShort
		}
		if b[5] != 0x80 {
			return m, ErrLayout
		}
		m.network, err = networkAt(b[6:])
	case udpPong:
		// 28 · enc(4) · 00 · ?(1) · ?(2) · load(1) · ?(1) · name NUL
		if len(b) < 13 {
			return m, ErrShort
		}
		if b[5] != 0 {
			return m, ErrLayout
		}
		if b[9] <= 100 {
			m.load = int(b[9])
		}
		m.network, err = networkAt(b[11:])
	case udpPong2:
		// 29 · enc(4) · 01|02 · flag 00|01 · 00 00 · id(4) [· ip(4) port(2) ?(2)]
		if len(b) < 13 {
			return m, ErrShort
		}
		if (b[5] != 1 && b[5] != 2) || b[6] > 1 || b[7] != 0 || b[8] != 0 {
			return m, ErrLayout
		}
		m.flag = b[6] == 1
		m.id = binary.BigEndian.Uint32(b[9:13])
		want := 13
		if m.flag {
			want = 21
		}
		if len(b) != want {
			return m, ErrShort
		}
		if m.flag {
			m.addr = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[13:17])), binary.BigEndian.Uint16(b[17:19]))
		}
	}
	return m, err
}

// networkAt returns the network name of b, which must be the name and its
// terminating NUL, nothing more.
func networkAt(b []byte) ([]byte, error) {
	if len(b) < 2 || b[len(b)-1] != 0 {
		return nil, ErrNetwork
	}
	name := b[:len(b)-1]
	if !validNetwork(name) {
		return nil, ErrNetwork
	}
	return name, nil
}

// knownNetworks maps the network names seen on FastTrack to products.
var knownNetworks = [...]struct{ name, product string }{
	{"KaZaA", "KaZaA"},
	{"fileshare", "iMesh"},
	{"Grokster", "Grokster"},
	{"MusicCity", "MusicCity Morpheus"},
}

// validNetwork reports whether name is a known network name or 1 to
// maxNetwork bytes of [A-Za-z0-9._-].
func validNetwork(name []byte) bool {
	for _, k := range knownNetworks {
		if string(name) == k.name {
			return true
		}
	}
	if len(name) == 0 || len(name) > maxNetwork {
		return false
	}
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// productOfNetwork names the client of a network name ("" if unknown).
func productOfNetwork(name string) string {
	for _, k := range knownNetworks {
		if strings.EqualFold(name, k.name) {
			return k.product
		}
	}
	return ""
}

// clientProducts maps substrings of a UserAgent/Server header to products.
var clientProducts = [...]struct{ sub, product string }{
	{"kazaa", "KaZaA"},
	{"grokster", "Grokster"},
	{"imesh", "iMesh"},
	{"morpheus", "MusicCity Morpheus"},
	{"musiccity", "MusicCity Morpheus"},
	{"gift", "giFT-FastTrack"},
}

// productOfClient names the client of a UserAgent or Server header ("" if
// unknown).
func productOfClient(ua string) string {
	l := strings.ToLower(ua)
	for _, k := range clientProducts {
		if strings.Contains(l, k.sub) {
			return k.product
		}
	}
	return ""
}

// parseGive parses "GIVE <decimal push id>\r\n" at the start of b. It
// returns n == 0 and a nil error while b is a valid beginning.
func parseGive(b []byte) (id uint32, n int, err error) {
	const p = "GIVE "
	k := min(len(b), len(p))
	if string(b[:k]) != p[:k] {
		return 0, 0, ErrGive
	}
	var v uint64
	digits := 0
	for i := len(p); i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9' && i < maxGive:
			v = v*10 + uint64(c-'0')
			digits++
			if v > 0xffffffff {
				return 0, 0, ErrGive
			}
		case c == '\r' && digits > 0:
			if i+1 == len(b) {
				return 0, 0, nil
			}
			if b[i+1] != '\n' {
				return 0, 0, ErrGive
			}
			return uint32(v), i + 2, nil
		default:
			return 0, 0, ErrGive
		}
	}
	return 0, 0, nil
}

// Request target forms (PROTOCOL "Transfers").
const (
	formOther = "other"
	formHash  = "hash"  // /.hash=<40 hex>
	formIndex = "index" // /<decimal>/<file name>
)

// target is a parsed request-target.
type target struct {
	form  string
	hash  string // lower-case hex of the 20-byte FastTrack hash
	index uint32
	name  string // file name, percent-decoded, valid UTF-8
	path  string // the decoded path, bounded
}

// parseTarget parses a KaZaA request-target.
func parseTarget(t []byte) target {
	if q := indexByte(t, '?'); q >= 0 {
		t = t[:q]
	}
	out := target{form: formOther, path: clean(httpwire.PathUnescape(t))}
	switch {
	case len(t) == 7+40 && string(t[:7]) == "/.hash=" && isHex(t[7:]):
		out.form, out.hash = formHash, strings.ToLower(string(t[7:]))
	case len(t) > 2 && t[0] == '/':
		rest := t[1:]
		sl := indexByte(rest, '/')
		if sl <= 0 || sl > 10 || sl == len(rest)-1 {
			break
		}
		var v uint64
		for _, c := range rest[:sl] {
			if c < '0' || c > '9' {
				return out
			}
			v = v*10 + uint64(c-'0')
		}
		if v > 0xffffffff {
			break
		}
		out.form, out.index, out.name = formIndex, uint32(v), clean(httpwire.PathUnescape(rest[sl+1:]))
	}
	return out
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func isHex(b []byte) bool {
	for _, c := range b {
		if _, ok := httpwire.Unhex(c); !ok {
			return false
		}
	}
	return true
}

// clean returns b as bounded, valid UTF-8: bytes that are not UTF-8 are
// read as Latin-1 (Windows clients of 2002), control characters dropped.
func clean(b []byte) string {
	if len(b) > maxValue {
		b = b[:maxValue]
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			r = rune(b[0])
		}
		b = b[n:]
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// tagNames names the X-KazaaTag numbers (PROTOCOL "Tag types").
var tagNames = map[int]string{
	1: "year", 2: "filename", 3: "hash", 4: "title", 5: "duration", 6: "artist", 8: "album",
	0x0a: "language", 0x0c: "keywords", 0x0d: "resolution", 0x0e: "genre", 0x10: "os",
	0x11: "bitdepth", 0x12: "type", 0x15: "bitrate", 0x18: "version", 0x1a: "comment",
	0x1c: "codec", 0x1d: "rating", 0x21: "size",
}

// parseTag parses an X-KazaaTag value "<decimal tag>=<value>". The hash
// (tag 3, "3==<base64 of 20 bytes>") is returned as lower-case hex.
func parseTag(v []byte) (name, value string, ok bool) {
	eq := indexByte(v, '=')
	if eq <= 0 || eq > 6 {
		return "", "", false
	}
	num := 0
	for _, c := range v[:eq] {
		if c < '0' || c > '9' {
			return "", "", false
		}
		num = num*10 + int(c-'0')
	}
	val := v[eq+1:]
	name, known := tagNames[num]
	if !known {
		name = "tag_" + itoa(num)
	}
	if num == 3 {
		if len(val) == 0 || val[0] != '=' {
			return "", "", false
		}
		var h [21]byte
		n, err := base64.StdEncoding.Decode(h[:], val[1:])
		if err != nil || n != 20 {
			return "", "", false
		}
		return name, hex.EncodeToString(h[:20]), true
	}
	return name, clean(val), true
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

// parseAddr parses an X-Kazaa-IP or X-Kazaa-SupernodeIP value: "a.b.c.d:port"
// or a bare address (port 0).
func parseAddr(v []byte) (netip.AddrPort, bool) {
	s := string(v)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a, 0), true
	}
	return netip.AddrPort{}, false
}
