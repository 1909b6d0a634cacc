package oft

import (
	"encoding/binary"
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// OFT header (aim-oscar.md §5.2): magic(4) "OFT2", header length(2), type(2),
// cookie(8), encrypt(2), compress(2), total files(2), files left(2), total
// parts(2), parts left(2), total size(4), size(4), modification time(4),
// checksum(4), resource-fork received checksum(4), resource-fork size(4),
// creation time(4), resource-fork checksum(4), bytes received(4), received
// checksum(4), id string(32), flags(1), name offset(1), size offset(1),
// dummy(69), Mac file info(16), name encoding(2), name language(2), file
// name (64 or more, NUL-padded; the header grows with the name).
const (
	minHeader  = 256  // the fixed layout with a 64-byte name field
	maxHeader  = 4096 // our bound: names past 3.9 KB are not real clients
	nameOffset = 192
)

// Header types (libpurple peer.h PEER_TYPE_*).
const (
	typePrompt       uint16 = 0x0101 // sender offers a file
	typeAck          uint16 = 0x0202 // receiver accepts
	typeDone         uint16 = 0x0204 // receiver got every byte
	typeResume       uint16 = 0x0205 // receiver asks to resume
	typeResumeAccept uint16 = 0x0106 // sender agrees to resume
	typeResumeAck    uint16 = 0x0207 // receiver starts the resumed transfer
	typeGetList      uint16 = 0x1108 // get file: listing offered
	typeGetReq       uint16 = 0x1209 // get file: file requested
	typeGetAck       uint16 = 0x120a
	typeGetDone      uint16 = 0x120b
	typeGetEnd       uint16 = 0x120c
)

// Name encodings (field at 188; aim-oscar.md §3.3 charsets).
const (
	encASCII  = 0x0000
	encUCS2   = 0x0002
	encLatin1 = 0x0003
)

// Errors of the wire format.
var (
	ErrMagic  = errors.New("oft: bad magic")
	ErrLength = errors.New("oft: bad header length")
	ErrType   = errors.New("oft: unknown header type")
)

// typeName returns the snake_case name of a header type, "" if unknown.
func typeName(t uint16) string {
	switch t {
	case typePrompt:
		return "prompt"
	case typeAck:
		return "ack"
	case typeDone:
		return "done"
	case typeResume:
		return "resume"
	case typeResumeAccept:
		return "resume_accept"
	case typeResumeAck:
		return "resume_ack"
	case typeGetList:
		return "get_listing"
	case typeGetReq:
		return "get_request"
	case typeGetAck:
		return "get_ack"
	case typeGetDone:
		return "get_done"
	case typeGetEnd:
		return "get_end"
	}
	return ""
}

// header is a parsed OFT header.
type header struct {
	version      byte // '2' or '3'
	length       int  // bytes of the header, magic included
	typ          uint16
	cookie       [8]byte
	encrypt      uint16
	compress     uint16
	totalFiles   uint16
	filesLeft    uint16
	totalSize    uint32
	size         uint32
	modTime      uint32 // unix seconds
	checksum     uint32 // AOL checksum of the file
	recvBytes    uint32 // resume/done: bytes the receiver holds
	recvChecksum uint32 // checksum of those bytes
	encoding     uint16 // of the name
	name         string // decoded to UTF-8
}

// checkStart validates the first (up to 8) bytes of a header: magic,
// length and type. A prefix of a valid start returns nil.
func checkStart(b []byte) error {
	const magic = "OFT"
	for i := 0; i < len(b) && i < len(magic); i++ {
		if b[i] != magic[i] {
			return ErrMagic
		}
	}
	if len(b) > 3 && b[3] != '2' && b[3] != '3' {
		return ErrMagic
	}
	if len(b) > 4 && b[4] > maxHeader>>8 {
		return ErrLength
	}
	if len(b) >= 6 {
		if n := int(binary.BigEndian.Uint16(b[4:])); n < minHeader || n > maxHeader {
			return ErrLength
		}
	}
	if len(b) > 6 && b[6] != 0x01 && b[6] != 0x02 && b[6] != 0x11 && b[6] != 0x12 {
		return ErrType
	}
	if len(b) >= 8 && typeName(binary.BigEndian.Uint16(b[6:])) == "" {
		return ErrType
	}
	return nil
}

// parseHeader parses a header at the start of b. It returns ok=false with a
// nil error while b holds only part of a valid header.
func parseHeader(b []byte) (h header, ok bool, err error) {
	if err := checkStart(b[:min(len(b), 8)]); err != nil {
		return h, false, err
	}
	if len(b) < 8 {
		return h, false, nil
	}
	h.length = int(binary.BigEndian.Uint16(b[4:]))
	if len(b) < h.length {
		return h, false, nil
	}
	be := binary.BigEndian
	h.version = b[3]
	h.typ = be.Uint16(b[6:])
	copy(h.cookie[:], b[8:16])
	h.encrypt = be.Uint16(b[16:])
	h.compress = be.Uint16(b[18:])
	h.totalFiles = be.Uint16(b[20:])
	h.filesLeft = be.Uint16(b[22:])
	h.totalSize = be.Uint32(b[28:])
	h.size = be.Uint32(b[32:])
	h.modTime = be.Uint32(b[36:])
	h.checksum = be.Uint32(b[40:])
	h.recvBytes = be.Uint32(b[60:])
	h.recvChecksum = be.Uint32(b[64:])
	h.encoding = be.Uint16(b[188:])
	h.name = decodeName(b[nameOffset:h.length], h.encoding)
	return h, true, nil
}

// decodeName turns the NUL-padded name field into UTF-8. UCS-2BE names end
// at a 0x0000 unit; others at the first NUL, and are kept as UTF-8 when
// valid (clients send UTF-8 with encoding 0) and read as Latin-1 otherwise.
func decodeName(b []byte, enc uint16) string {
	if enc == encUCS2 {
		u := make([]uint16, 0, len(b)/2)
		for i := 0; i+1 < len(b); i += 2 {
			c := binary.BigEndian.Uint16(b[i:])
			if c == 0 {
				break
			}
			u = append(u, c)
		}
		return string(utf16.Decode(u))
	}
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	if enc != encLatin1 && utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
