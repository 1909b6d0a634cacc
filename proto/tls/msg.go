package tls

import (
	"errors"
	"fmt"
)

// Record content types (RFC 8446 §5.1; heartbeat: RFC 6520).
const (
	recChangeCipherSpec = 20
	recAlert            = 21
	recHandshake        = 22
	recApplicationData  = 23
	recHeartbeat        = 24
)

// maxRecord is the largest record body accepted: 2^14 bytes of plaintext
// plus the 2048 bytes of expansion RFC 5246 §6.2.3 allows a ciphertext.
const maxRecord = 16384 + 2048

// Handshake message types (RFC 8446 §4, RFC 5246 §7.4).
const (
	hsClientHello     = 1
	hsServerHello     = 2
	hsCertificate     = 11
	hsServerHelloDone = 14
)

// Extension types (RFC 6066 §3, RFC 7301 §3.1, RFC 8446 §4.2.1).
const (
	extServerName        = 0
	extALPN              = 16
	extSupportedVersions = 43
)

// Protocol versions as they appear on the wire.
const (
	verSSL3  = 0x0300
	verTLS10 = 0x0301
	verTLS11 = 0x0302
	verTLS12 = 0x0303
	verTLS13 = 0x0304
)

// Bounds on what a hello keeps: a DNS name is at most 253 bytes, and a
// client offering more protocols than this is not telling us more.
const (
	maxName  = 255
	maxALPNs = 16
)

// Errors of the hello parsers and of Feed.
var (
	// ErrShort means a handshake message ends before its fields do.
	ErrShort = errors.New("tls: truncated handshake message")
	// ErrHello means a ClientHello or ServerHello field is inconsistent.
	ErrHello = errors.New("tls: malformed hello")
	// ErrRecord means a record header is not TLS (type, version or length).
	ErrRecord = errors.New("tls: bad record header")
)

// versionName returns the name Suricata's tls.version uses for v.
func versionName(v uint16) string {
	switch v {
	case verSSL3:
		return "SSLv3"
	case verTLS10:
		return "TLSv1"
	case verTLS11:
		return "TLS 1.1"
	case verTLS12:
		return "TLS 1.2"
	case verTLS13:
		return "TLS 1.3"
	}
	if v>>8 == 0x7f { // TLS 1.3 drafts: 0x7f00 | draft number
		return fmt.Sprintf("TLS 1.3 draft %d", v&0xff)
	}
	return fmt.Sprintf("0x%04x", v)
}

// isGrease reports whether v is a GREASE value (RFC 8701): 0x?a?a with
// both bytes equal.
func isGrease(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// reader walks a handshake message body; every read is bounds-checked and
// a short read sets bad, so the parsers check once at the end of a block.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() int {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := int(r.b[0])
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() int {
	if len(r.b) < 2 {
		r.bad = true
		r.b = nil
		return 0
	}
	v := int(r.b[0])<<8 | int(r.b[1])
	r.b = r.b[2:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// clientHello is what a ClientHello tells (RFC 8446 §4.1.2).
type clientHello struct {
	version   uint16 // legacy_version
	sessionID []byte // aliases the message
	ciphers   int    // number of cipher suites offered
	sni       string // the first host_name of server_name; "" if none
	alpns     []string
	// maxVersion is the highest non-GREASE version of supported_versions;
	// 0 if the extension is absent.
	maxVersion uint16
}

// parseClientHello parses a ClientHello body (after the 4-byte handshake
// header). It returns ErrShort if b ends early, ErrHello for a field that
// contradicts another.
func parseClientHello(b []byte) (clientHello, error) {
	var ch clientHello
	r := reader{b: b}
	ch.version = uint16(r.u16())
	r.bytes(32) // random
	sid := r.bytes(r.u8())
	cs := r.u16()
	suites := r.bytes(cs)
	comp := r.bytes(r.u8())
	if r.bad {
		return ch, ErrShort
	}
	if ch.version>>8 != 3 || len(sid) > 32 || cs < 2 || cs%2 != 0 || len(comp) == 0 {
		return ch, ErrHello
	}
	ch.sessionID = sid
	ch.ciphers = len(suites) / 2
	if len(r.b) == 0 {
		return ch, nil // no extensions (SSLv3, early TLS)
	}
	exts := r.bytes(r.u16())
	if r.bad {
		return ch, ErrShort
	}
	if len(r.b) != 0 {
		return ch, ErrHello
	}
	return ch, ch.extensions(exts)
}

// extensions parses the ClientHello extension block.
func (ch *clientHello) extensions(b []byte) error {
	r := reader{b: b}
	for len(r.b) > 0 {
		typ := r.u16()
		body := r.bytes(r.u16())
		if r.bad {
			return ErrShort
		}
		var err error
		switch typ {
		case extServerName:
			ch.sni, err = parseServerName(body)
		case extALPN:
			ch.alpns, err = parseALPN(body)
		case extSupportedVersions:
			ch.maxVersion, err = parseClientVersions(body)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseServerName returns the first host_name of a server_name list
// (RFC 6066 §3).
func parseServerName(b []byte) (string, error) {
	r := reader{b: b}
	list := r.bytes(r.u16())
	if r.bad {
		return "", ErrShort
	}
	l := reader{b: list}
	for len(l.b) > 0 {
		typ := l.u8()
		name := l.bytes(l.u16())
		if l.bad {
			return "", ErrShort
		}
		if typ == 0 && len(name) > 0 {
			if len(name) > maxName {
				name = name[:maxName]
			}
			return string(name), nil
		}
	}
	return "", nil
}

// parseALPN returns the protocol names of an ALPN extension (RFC 7301
// §3.1), at most maxALPNs of them.
func parseALPN(b []byte) ([]string, error) {
	r := reader{b: b}
	list := r.bytes(r.u16())
	if r.bad {
		return nil, ErrShort
	}
	var out []string
	l := reader{b: list}
	for len(l.b) > 0 {
		p := l.bytes(l.u8())
		if l.bad {
			return nil, ErrShort
		}
		if len(out) < maxALPNs && len(p) > 0 {
			out = append(out, string(p))
		}
	}
	return out, nil
}

// parseClientVersions returns the highest non-GREASE version of a
// ClientHello supported_versions extension (RFC 8446 §4.2.1).
func parseClientVersions(b []byte) (uint16, error) {
	r := reader{b: b}
	list := r.bytes(r.u8())
	if r.bad {
		return 0, ErrShort
	}
	if len(list)%2 != 0 {
		return 0, ErrHello
	}
	var max uint16
	for i := 0; i+1 < len(list); i += 2 {
		v := uint16(list[i])<<8 | uint16(list[i+1])
		if !isGrease(v) && v > max {
			max = v
		}
	}
	return max, nil
}

// serverHello is what a ServerHello tells (RFC 8446 §4.1.3).
type serverHello struct {
	version   uint16 // legacy_version
	sessionID []byte // aliases the message
	cipher    uint16
	alpn      string
	// selected is the version of supported_versions (TLS 1.3); 0 if absent.
	selected uint16
}

// parseServerHello parses a ServerHello body (after the handshake header).
func parseServerHello(b []byte) (serverHello, error) {
	var sh serverHello
	r := reader{b: b}
	sh.version = uint16(r.u16())
	r.bytes(32) // random
	sid := r.bytes(r.u8())
	sh.cipher = uint16(r.u16())
	r.u8() // compression method
	if r.bad {
		return sh, ErrShort
	}
	if sh.version>>8 != 3 || len(sid) > 32 {
		return sh, ErrHello
	}
	sh.sessionID = sid
	if len(r.b) == 0 {
		return sh, nil
	}
	exts := r.bytes(r.u16())
	if r.bad {
		return sh, ErrShort
	}
	if len(r.b) != 0 {
		return sh, ErrHello
	}
	e := reader{b: exts}
	for len(e.b) > 0 {
		typ := e.u16()
		body := e.bytes(e.u16())
		if e.bad {
			return sh, ErrShort
		}
		switch typ {
		case extSupportedVersions:
			if len(body) != 2 {
				return sh, ErrHello
			}
			sh.selected = uint16(body[0])<<8 | uint16(body[1])
		case extALPN:
			p, err := parseALPN(body)
			if err != nil {
				return sh, err
			}
			if len(p) > 0 {
				sh.alpn = p[0]
			}
		}
	}
	return sh, nil
}

// negotiated returns the negotiated version: supported_versions when the
// server sent it, legacy_version otherwise.
func (sh *serverHello) negotiated() uint16 {
	if sh.selected != 0 {
		return sh.selected
	}
	return sh.version
}

// firstCertificate returns the DER of the first certificate of a TLS ≤ 1.2
// Certificate message body (RFC 5246 §7.4.2: a 24-bit list length, then
// 24-bit-length-prefixed certificates).
func firstCertificate(b []byte) ([]byte, error) {
	if len(b) < 3 {
		return nil, ErrShort
	}
	list := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	if list == 0 {
		return nil, nil // an empty chain
	}
	b = b[3:]
	if len(b) < list || list < 3 {
		return nil, ErrShort
	}
	n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	if n > list-3 {
		return nil, ErrHello
	}
	return b[3 : 3+n], nil
}

// alertName returns the RFC 8446 §6 name of an alert description.
func alertName(d byte) string {
	switch d {
	case 0:
		return "close_notify"
	case 10:
		return "unexpected_message"
	case 20:
		return "bad_record_mac"
	case 22:
		return "record_overflow"
	case 40:
		return "handshake_failure"
	case 42:
		return "bad_certificate"
	case 43:
		return "unsupported_certificate"
	case 44:
		return "certificate_revoked"
	case 45:
		return "certificate_expired"
	case 46:
		return "certificate_unknown"
	case 47:
		return "illegal_parameter"
	case 48:
		return "unknown_ca"
	case 49:
		return "access_denied"
	case 50:
		return "decode_error"
	case 51:
		return "decrypt_error"
	case 70:
		return "protocol_version"
	case 71:
		return "insufficient_security"
	case 80:
		return "internal_error"
	case 86:
		return "inappropriate_fallback"
	case 90:
		return "user_canceled"
	case 109:
		return "missing_extension"
	case 110:
		return "unsupported_extension"
	case 112:
		return "unrecognized_name"
	case 116:
		return "certificate_required"
	case 120:
		return "no_application_protocol"
	}
	return fmt.Sprintf("alert_%d", d)
}
