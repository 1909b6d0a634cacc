package odc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ODC2 header (aim-oscar.md §5.1): magic(4) "ODC2", header length(2),
// type(2) 0x0001, subtype(2), 0(2), cookie(8), 0(8), payload length(4),
// encoding(2), 0(4), flags(2), 0(4), screen name(32, NUL-padded); the
// payload follows the header.
const (
	magic      = "ODC2"
	minHeader  = 76
	maxHeader  = 1024
	maxPayload = 1 << 20 // our bound on one message with its images
	snOffset   = 44
	snSize     = 32
)

// Header type and subtypes (libpurple odc.c).
const (
	typeODC        uint16 = 0x0001
	subtypeMessage uint16 = 0x0006
	subtypeTyping  uint16 = 0x0001
)

// Flags (libpurple odc.c): typing state and auto-reply.
const (
	flagAutoReply uint16 = 0x0001
	flagTypingAny uint16 = 0x0002 // set on every typing notification
	flagTyped     uint16 = 0x0004 // typed, then paused
	flagTyping    uint16 = 0x0008 // typing now
)

// Encodings (aim-oscar.md §3.3).
const (
	encASCII  uint16 = 0x0000
	encUCS2   uint16 = 0x0002
	encLatin1 uint16 = 0x0003
)

// Errors of the wire format.
var (
	ErrMagic   = errors.New("odc: bad magic")
	ErrLength  = errors.New("odc: bad header length")
	ErrType    = errors.New("odc: bad frame type")
	ErrPayload = errors.New("odc: payload too long")
)

// header is a parsed ODC2 header.
type header struct {
	length   int // bytes of the header, magic included
	typ      uint16
	subtype  uint16
	cookie   [8]byte
	payload  int // bytes of payload after the header
	encoding uint16
	flags    uint16
	sn       string // sender's screen name
}

// checkStart validates the first (up to 10) bytes of a header. A prefix
// of a valid start returns nil.
func checkStart(b []byte) error {
	for i := 0; i < len(b) && i < len(magic); i++ {
		if b[i] != magic[i] {
			return ErrMagic
		}
	}
	if len(b) > 4 && b[4] > maxHeader>>8 {
		return ErrLength
	}
	if len(b) >= 6 {
		if n := int(binary.BigEndian.Uint16(b[4:])); n < minHeader || n > maxHeader {
			return ErrLength
		}
	}
	if len(b) > 6 && b[6] != 0 {
		return ErrType
	}
	if len(b) > 7 && b[7] != byte(typeODC) {
		return ErrType
	}
	if len(b) > 8 && b[8] != 0 {
		return ErrType
	}
	if len(b) > 9 && b[9] != byte(subtypeMessage) && b[9] != byte(subtypeTyping) {
		return ErrType
	}
	return nil
}

// parseHeader parses a header at the start of b. It returns ok=false with a
// nil error while b holds only part of a valid header.
func parseHeader(b []byte) (h header, ok bool, err error) {
	if err := checkStart(b[:min(len(b), probeBytes)]); err != nil {
		return h, false, err
	}
	if len(b) < probeBytes {
		return h, false, nil
	}
	be := binary.BigEndian
	h.length = int(be.Uint16(b[4:]))
	if len(b) < h.length {
		return h, false, nil
	}
	h.typ = be.Uint16(b[6:])
	h.subtype = be.Uint16(b[8:])
	copy(h.cookie[:], b[12:20])
	p := be.Uint32(b[28:])
	if p > maxPayload {
		return h, false, ErrPayload
	}
	h.payload = int(p)
	h.encoding = be.Uint16(b[32:])
	h.flags = be.Uint16(b[38:])
	sn := b[snOffset : snOffset+snSize]
	if i := bytes.IndexByte(sn, 0); i >= 0 {
		sn = sn[:i]
	}
	h.sn = strings.ToValidUTF8(string(sn), "\uFFFD")
	return h, true, nil
}

// image is one <DATA> block of a message's <BINARY> section.
type image struct {
	id   string
	size int    // as the SIZE attribute announces it
	data []byte // aliases the payload; shorter than size when cut off
}

// splitPayload separates the HTML message from the embedded images:
// <BINARY><DATA ID="1" SIZE="43">43 raw bytes</DATA>...</BINARY>. A block
// whose SIZE overruns the payload keeps the bytes that are there and is
// reported as short.
func splitPayload(p []byte) (text []byte, imgs []image, short bool) {
	i := indexFold(p, "<BINARY>")
	if i < 0 {
		return p, nil, false
	}
	text, rest := p[:i], p[i+len("<BINARY>"):]
	for len(imgs) < maxImages {
		j := indexFold(rest, "<DATA")
		if j < 0 {
			break
		}
		rest = rest[j+len("<DATA"):]
		end := bytes.IndexByte(rest, '>')
		if end < 0 {
			break
		}
		tag := rest[:end]
		rest = rest[end+1:]
		id := attr(tag, "ID")
		size, err := strconv.Atoi(attr(tag, "SIZE"))
		if err != nil || size < 0 {
			continue
		}
		n := size
		if n > len(rest) {
			n, short = len(rest), true
		}
		imgs = append(imgs, image{id: id, size: size, data: rest[:n]})
		rest = rest[n:]
	}
	return text, imgs, short
}

// maxImages bounds the images taken from one message.
const maxImages = 64

// attr returns the value of NAME="value" (or NAME=value) in a tag, bounded
// to 32 bytes of safe characters.
func attr(tag []byte, name string) string {
	i := indexFold(tag, name+"=")
	if i < 0 {
		return ""
	}
	v := tag[i+len(name)+1:]
	if len(v) > 0 && v[0] == '"' {
		v = v[1:]
		if k := bytes.IndexByte(v, '"'); k >= 0 {
			v = v[:k]
		}
	} else if k := bytes.IndexAny(v, " \t"); k >= 0 {
		v = v[:k]
	}
	v = v[:min(len(v), 32)]
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.') {
			return ""
		}
	}
	return string(v)
}

// indexFold is bytes.Index with ASCII case folding of the upper-case needle.
func indexFold(b []byte, upper string) int {
	for i := 0; i+len(upper) <= len(b); i++ {
		k := 0
		for ; k < len(upper); k++ {
			c := b[i+k]
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			if c != upper[k] {
				break
			}
		}
		if k == len(upper) {
			return i
		}
	}
	return -1
}

// decodeText turns the message bytes into UTF-8 by their encoding.
func decodeText(b []byte, enc uint16) string {
	switch {
	case enc == encUCS2:
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(b[2*i:])
		}
		return string(utf16.Decode(u))
	case enc != encLatin1 && utf8.Valid(b):
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// stripHTML removes tags and decodes the common entities; <BR> becomes a
// line break. It is linear in the input and its output is never longer.
func stripHTML(s string) string {
	var out strings.Builder
	out.Grow(len(s))
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return strings.TrimSpace(out.String())
			}
			if t := s[i+1 : i+end]; len(t) <= 4 && (strings.EqualFold(t, "BR") || strings.EqualFold(t, "BR/") || strings.EqualFold(t, "BR /")) {
				out.WriteByte('\n')
			}
			i += end + 1
		case '&':
			ent := false
			for _, e := range entities {
				if strings.HasPrefix(s[i:], e.name) {
					out.WriteString(e.text)
					i += len(e.name)
					ent = true
					break
				}
			}
			if !ent {
				out.WriteByte(c)
				i++
			}
		default:
			out.WriteByte(c)
			i++
		}
	}
	return strings.TrimSpace(out.String())
}

var entities = [...]struct{ name, text string }{
	{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}, {"&quot;", "\""}, {"&nbsp;", " "}, {"&#39;", "'"}, {"&apos;", "'"},
}
