package oscar

import (
	"errors"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/internal/wire"
)

// Rendezvous errors. parseRendezvous returns them alone or beside a partial
// result (see parseRendezvous).
var (
	// ErrRendezvousShort means the block is shorter than its 26-byte
	// header (status, cookie, capability).
	ErrRendezvousShort = errors.New("oscar: short rendezvous header")
	// ErrRendezvousTruncated means a TLV of the rendezvous block runs past
	// the end of the input.
	ErrRendezvousTruncated = errors.New("oscar: truncated rendezvous tlv")
	// ErrRendezvousType means the status word is not propose, cancel or
	// accept.
	ErrRendezvousType = errors.New("oscar: unknown rendezvous type")
	// ErrRendezvousServiceData means the send-file service data (TLV
	// 0x2711) is shorter than its 8-byte fixed part.
	ErrRendezvousServiceData = errors.New("oscar: short send-file service data")
)

// Rendezvous status words (aim-oscar.md §4, offset 0 of ICBM channel-2 TLV
// 0x0005).
const (
	rvPropose = 0x0000
	rvCancel  = 0x0001
	rvAccept  = 0x0002
)

// Inner rendezvous TLVs (aim-oscar.md §4; pidgin incomingim_ch2).
const (
	rvTLVProxyIP     = 0x0002 // 4 bytes, proxy / rendezvous IP
	rvTLVInternalIP  = 0x0003 // 4 bytes, the client's own IP
	rvTLVExternalIP  = 0x0004 // 4 bytes, external IP added by the server
	rvTLVPort        = 0x0005 // 2 bytes, listening port
	rvTLVMessage     = 0x000C // invitation text
	rvTLVCharset     = 0x000D // charset of 0x000C
	rvTLVUseProxy    = 0x0010 // empty, use the ARS proxy
	rvTLVServiceData = 0x2711 // feature-specific data
)

// Bounds on decoded strings, in input bytes. A legitimate file name is at
// most a few hundred bytes (aim-oscar.md §9.2 flags > 255) and an invitation
// is one line; anything beyond is cut.
const (
	rvMaxFileName = 1024
	rvMaxMessage  = 1024
)

// rvHeaderLen is status(2) + cookie(8) + capability(16).
const rvHeaderLen = 26

// rendezvous is a decoded ICBM channel-2 rendezvous block (aim-oscar.md §4).
// Fields other than Type, Cookie, Cap, CapName, Feature and PeerProto are
// valid iff the matching TLV was present and complete.
type rendezvous struct {
	Type      uint16        // 0 propose, 1 cancel, 2 accept
	Cookie    [8]byte       // equals the ICBM cookie
	Cap       [16]byte      // capability UUID: the feature in use
	CapName   string        // capTable name, e.g. "send_file"; "" if unknown
	Feature   event.Feature // e.g. event.FileTransfer; "" if unknown cap
	PeerProto string        // "oft", "odc" or "" (no peer connection)
	// InternalIP is TLV 0x0003, the proposer's own address. ExternalIP is
	// TLV 0x0004, the address the AOL server saw and added. VerifiedIP is
	// TLV 0x0002, which the spec calls the proxy / rendezvous IP (the ARS
	// proxy when Proxy is set). Each is the zero Addr when absent or not 4
	// bytes long.
	InternalIP, ExternalIP, VerifiedIP netip.Addr
	Port                               uint16 // TLV 0x0005; 0 when absent
	Proxy                              bool   // TLV 0x0010 present
	// FileName, FileSize (bytes) and FileCount come from the send_file
	// service data (subtype(2) count(2) size(4) name NUL-terminated).
	// FileName is UTF-8 when valid, else Latin-1, with control characters
	// escaped as \xNN and cut at rvMaxFileName input bytes.
	FileName  string
	FileSize  int64
	FileCount int
	// Message is TLV 0x000C decoded by the charset in TLV 0x000D, control
	// characters escaped, cut at rvMaxMessage input bytes.
	Message string
	// ServiceData is TLV 0x2711 as sent; it aliases the input.
	ServiceData []byte
}

// parseRendezvous parses the value of ICBM channel-2 TLV 0x0005 (rendezvous
// data: type(2) cookie(8) capability(16) then TLVs). Input shorter than the
// header gives ErrRendezvousShort and a zero result. Otherwise the result
// holds the header and every complete TLV; a TLV running past the end gives
// ErrRendezvousTruncated, an unknown type ErrRendezvousType, and send-file
// service data shorter than 8 bytes ErrRendezvousServiceData, each beside
// that partial result. The first instance of a repeated TLV wins.
func parseRendezvous(b []byte) (rendezvous, error) {
	var r rendezvous
	if len(b) < rvHeaderLen {
		return r, ErrRendezvousShort
	}
	c := wire.NewCursor(b)
	r.Type = c.U16BE()
	copy(r.Cookie[:], c.Bytes(8))
	copy(r.Cap[:], c.Bytes(16))
	r.CapName, r.Feature, r.PeerProto, _ = capInfo(r.Cap)

	var err error
	if r.Type > rvAccept {
		err = ErrRendezvousType
	}
	var seenProxyIP, seenInternal, seenExternal, seenPort, seenMsg, seenCharset, seenData bool
	var msg, charset []byte
	for c.Len() > 0 {
		if c.Len() < 4 {
			return r, ErrRendezvousTruncated
		}
		typ := c.U16BE()
		n := int(c.U16BE())
		if n > c.Len() {
			return r, ErrRendezvousTruncated
		}
		v := c.Bytes(n)
		switch typ {
		case rvTLVProxyIP:
			r.VerifiedIP, seenProxyIP = rvAddr(r.VerifiedIP, seenProxyIP, v)
		case rvTLVInternalIP:
			r.InternalIP, seenInternal = rvAddr(r.InternalIP, seenInternal, v)
		case rvTLVExternalIP:
			r.ExternalIP, seenExternal = rvAddr(r.ExternalIP, seenExternal, v)
		case rvTLVPort:
			if !seenPort && n == 2 {
				r.Port = uint16(v[0])<<8 | uint16(v[1])
				seenPort = true
			}
		case rvTLVUseProxy:
			r.Proxy = true
		case rvTLVMessage:
			if !seenMsg {
				msg, seenMsg = v, true
			}
		case rvTLVCharset:
			if !seenCharset {
				charset, seenCharset = v, true
			}
		case rvTLVServiceData:
			if !seenData {
				r.ServiceData, seenData = v, true
			}
		}
	}
	if seenMsg {
		r.Message = rvDecodeText(msg, charset, rvMaxMessage)
	}
	if seenData && r.Feature == event.FileTransfer && r.Type == rvPropose {
		if e := r.parseSendFile(); e != nil && err == nil {
			err = e
		}
	}
	return r, err
}

// rvAddr keeps the first 4-byte instance of an IPv4 TLV.
func rvAddr(cur netip.Addr, seen bool, v []byte) (netip.Addr, bool) {
	if seen || len(v) != 4 {
		return cur, seen
	}
	return netip.AddrFrom4([4]byte{v[0], v[1], v[2], v[3]}), true
}

// parseSendFile decodes the send-file service data (aim-oscar.md §4.2;
// pidgin incomingim_ch2_sendfile): subtype(2) file count(2) total size(4)
// file name NUL-terminated. A missing NUL takes the name to the end.
func (r *rendezvous) parseSendFile() error {
	c := wire.NewCursor(r.ServiceData)
	_ = c.U16BE() // subtype: 1 single file, 2 directory / several files
	count := c.U16BE()
	size := c.U32BE()
	if !c.OK() {
		return ErrRendezvousServiceData
	}
	r.FileCount = int(count)
	r.FileSize = int64(size)
	name := c.Rest()
	for i, ch := range name {
		if ch == 0 {
			name = name[:i]
			break
		}
	}
	r.FileName = rvDecodeText(name, nil, rvMaxFileName)
	return nil
}

// rvDecodeText turns wire text into a safe UTF-8 string. charset is the
// rendezvous charset TLV (0x000D): "unicode-2-0" / "utf-16be" mean UCS-2BE,
// "iso-8859-1" Latin-1, "utf-8" UTF-8 with invalid bytes escaped; with no or
// another charset ("us-ascii" included) the text is taken as UTF-8 when
// valid, else Latin-1. Control characters become \xNN. At most max input
// bytes are read.
func rvDecodeText(b, charset []byte, max int) string {
	if len(b) > max {
		// Cut on a UTF-8 rune start so that a valid UTF-8 text stays valid
		// (and is not re-read as Latin-1). max is even, which keeps UCS-2
		// pairs whole; Latin-1 text loses at most 3 more bytes.
		cut := max
		for k := 0; k < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(b[cut]); k++ {
			cut--
		}
		if rvCharsetIs(charset, "unicode-2-0") || rvCharsetIs(charset, "utf-16be") ||
			rvCharsetIs(charset, "ucs-2be") {
			cut = max
		}
		b = b[:cut]
	}
	if len(b) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/4)
	switch {
	case rvCharsetIs(charset, "unicode-2-0") || rvCharsetIs(charset, "utf-16be") ||
		rvCharsetIs(charset, "ucs-2be"):
		for i := 0; i+1 < len(b); i += 2 {
			ru := rune(b[i])<<8 | rune(b[i+1])
			if ru >= 0xD800 && ru <= 0xDFFF {
				// Surrogates are not decoded (UCS-2 has none); escape both bytes.
				rvEscape(&sb, b[i])
				rvEscape(&sb, b[i+1])
				continue
			}
			rvRune(&sb, ru)
		}
		if len(b)%2 == 1 {
			rvEscape(&sb, b[len(b)-1])
		}
	case rvCharsetIs(charset, "iso-8859-1") || rvCharsetIs(charset, "latin1") ||
		!rvCharsetIs(charset, "utf-8") && !utf8.Valid(b):
		for _, ch := range b {
			rvRune(&sb, rune(ch))
		}
	default:
		for len(b) > 0 {
			ru, n := utf8.DecodeRune(b)
			if ru == utf8.RuneError && n <= 1 {
				rvEscape(&sb, b[0])
				b = b[1:]
				continue
			}
			rvRune(&sb, ru)
			b = b[n:]
		}
	}
	return sb.String()
}

// rvCharsetIs compares a charset TLV with a lower-case name, ignoring case
// and surrounding quotes or NULs.
func rvCharsetIs(cs []byte, name string) bool {
	for len(cs) > 0 && (cs[len(cs)-1] == 0 || cs[len(cs)-1] == '"') {
		cs = cs[:len(cs)-1]
	}
	for len(cs) > 0 && cs[0] == '"' {
		cs = cs[1:]
	}
	if len(cs) != len(name) {
		return false
	}
	for i := range cs {
		ch := cs[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != name[i] {
			return false
		}
	}
	return true
}

// rvRune writes a rune, escaping C0/C1 controls and DEL (tab kept).
func rvRune(sb *strings.Builder, ru rune) {
	if ru < 0x20 && ru != '\t' || ru >= 0x7F && ru < 0xA0 {
		rvEscape(sb, byte(ru))
		return
	}
	sb.WriteRune(ru)
}

// rvEscape writes \xNN.
func rvEscape(sb *strings.Builder, ch byte) {
	const hexdigits = "0123456789abcdef"
	sb.WriteString(`\x`)
	sb.WriteByte(hexdigits[ch>>4])
	sb.WriteByte(hexdigits[ch&0xF])
}
