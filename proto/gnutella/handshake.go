package gnutella

import (
	"bytes"
	"net/netip"
	"strconv"
)

// Handshake limits: gtk-gnutella refuses heads above 16 KiB; the longest
// real header line (X-Try-Ultrapeers with 10+ addresses) is a few hundred
// bytes.
const (
	maxHead    = 16 << 10
	maxLine    = 4 << 10
	maxHeaders = 64
	maxAddrs   = 32 // addresses reported per handshake message
)

// Handshake first lines (gtk-gnutella doc/gnutella/handshaking_0.6).
const (
	connectPrefix = "GNUTELLA CONNECT/"
	okPrefix      = "GNUTELLA OK"
	respPrefix    = "GNUTELLA/"
)

// hsKind is the kind of a handshake message.
type hsKind uint8

const (
	hsConnect  hsKind = iota + 1 // GNUTELLA CONNECT/<version>
	hsResponse                   // GNUTELLA/<version> <code> <reason>, or 0.4's GNUTELLA OK
)

// field is one header of a handshake.
type field struct {
	name, value []byte
}

// handshake is one parsed handshake message.
type handshake struct {
	kind    hsKind
	version []byte // "0.6"; "0.4" for 0.4 messages
	code    int    // response code (200 for 0.4's OK)
	reason  []byte
	fields  []field
}

// get returns the first value of header name (case-insensitive), or nil.
func (h *handshake) get(name string) []byte {
	for _, f := range h.fields {
		if bytes.EqualFold(f.name, []byte(name)) {
			return f.value
		}
	}
	return nil
}

// headEnd returns the length of the head at the start of b (through the
// empty line), 0 when the head is not complete yet.
func headEnd(b []byte) int {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		j := i + 1
		if j < len(b) && b[j] == '\r' {
			j++
		}
		if j < len(b) && b[j] == '\n' {
			return j + 1
		}
	}
	return 0
}

// parseHandshake parses a handshake message at the start of b. It returns
// n == 0 and a nil error while the message is incomplete.
func parseHandshake(b []byte) (hs handshake, n int, err error) {
	if err := handshakeStart(b); err != nil {
		return hs, 0, err
	}
	n = headEnd(b[:min(len(b), maxHead)])
	if n == 0 {
		if len(b) >= maxHead {
			return hs, 0, ErrHeadLimit
		}
		if i := bytes.IndexByte(b, '\n'); i < 0 && len(b) > maxLine || i > maxLine {
			return hs, 0, ErrHeadLimit
		}
		return hs, 0, nil
	}
	lines := b[:n]
	first, rest := nextLine(lines)
	if err := parseFirstLine(first, &hs); err != nil {
		return hs, 0, err
	}
	for len(rest) > 0 {
		var line []byte
		line, rest = nextLine(rest)
		if len(line) == 0 {
			break
		}
		if len(line) > maxLine {
			return hs, 0, ErrHeadLimit
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(hs.fields) == 0 {
				return hs, 0, ErrHandshake
			}
			// Continuation: the value goes on; keep the first part only
			// (values are bounded by maxLine anyway).
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return hs, 0, ErrHandshake
		}
		if len(hs.fields) >= maxHeaders {
			return hs, 0, ErrHeadLimit
		}
		hs.fields = append(hs.fields, field{name: bytes.TrimSpace(line[:colon]), value: bytes.TrimSpace(line[colon+1:])})
	}
	return hs, n, nil
}

// nextLine splits off one line, without its CR LF.
func nextLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	line, rest = b[:i], b[i+1:]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, rest
}

// handshakeStart rejects bytes that cannot start a handshake message: it
// checks the fixed part of the first line (as far as b goes) without
// allocating.
func handshakeStart(b []byte) error {
	const g = "GNUTELLA"
	n := min(len(b), len(g)+1)
	if n <= len(g) {
		if string(b[:n]) != g[:n] {
			return ErrNotGnut
		}
		return nil
	}
	if string(b[:len(g)]) != g || (b[len(g)] != ' ' && b[len(g)] != '/') {
		return ErrNotGnut
	}
	if b[len(g)] == ' ' {
		// "GNUTELLA CONNECT/" or "GNUTELLA OK"
		r := b[len(g)+1:]
		if !prefixOf(r, "CONNECT/") && !prefixOf(r, "OK") {
			return ErrNotGnut
		}
	}
	return nil
}

// prefixOf reports whether b starts with p, or is a prefix of p.
func prefixOf(b []byte, p string) bool {
	n := min(len(b), len(p))
	return string(b[:n]) == p[:n]
}

// parseFirstLine reads "GNUTELLA CONNECT/<v>", "GNUTELLA OK" or
// "GNUTELLA/<v> <code> <reason>".
func parseFirstLine(l []byte, hs *handshake) error {
	switch {
	case bytes.HasPrefix(l, []byte(connectPrefix)):
		hs.kind = hsConnect
		hs.version = l[len(connectPrefix):]
		if !isVersion(hs.version) {
			return ErrHandshake
		}
	case bytes.Equal(l, []byte(okPrefix)):
		hs.kind, hs.version, hs.code, hs.reason = hsResponse, []byte("0.4"), 200, []byte("OK")
	case bytes.HasPrefix(l, []byte(respPrefix)):
		hs.kind = hsResponse
		r := l[len(respPrefix):]
		sp := bytes.IndexByte(r, ' ')
		if sp < 0 || !isVersion(r[:sp]) {
			return ErrHandshake
		}
		hs.version = r[:sp]
		r = r[sp+1:]
		if len(r) < 3 {
			return ErrHandshake
		}
		code, err := strconv.Atoi(string(r[:3]))
		if err != nil || code < 100 || code > 999 {
			return ErrHandshake
		}
		hs.code = code
		if len(r) > 3 {
			if r[3] != ' ' {
				return ErrHandshake
			}
			hs.reason = r[4:]
		}
	default:
		return ErrHandshake
	}
	return nil
}

// isVersion accepts "<digits>.<digits>", at most 8 bytes.
func isVersion(v []byte) bool {
	dot := bytes.IndexByte(v, '.')
	if len(v) > 8 || dot <= 0 || dot == len(v)-1 {
		return false
	}
	for i, c := range v {
		if i != dot && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// parseAddrList reads a comma-separated list of "ip[:port]" (X-Try,
// X-Try-Ultrapeers, X-Alt, Listen-IP, Remote-IP), skipping junk and
// anything after an address (X-Try-Ultrapeers may carry timestamps
// after a space), appending at most max-len(out) addresses.
func parseAddrList(v []byte, out []netip.AddrPort, max int) []netip.AddrPort {
	for len(v) > 0 && len(out) < max {
		item := v
		if i := bytes.IndexByte(v, ','); i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		item = bytes.TrimSpace(item)
		if i := bytes.IndexAny(item, " \t;"); i >= 0 {
			item = item[:i]
		}
		if ap, ok := parseAddr(item); ok && !containsAddr(out, ap) {
			out = append(out, ap)
		}
	}
	return out
}

// parseAddr reads "a.b.c.d:port" or "a.b.c.d" (port 0).
func parseAddr(b []byte) (netip.AddrPort, bool) {
	if len(b) == 0 || len(b) > 64 {
		return netip.AddrPort{}, false
	}
	if ap, err := netip.ParseAddrPort(string(b)); err == nil {
		return ap, true
	}
	if a, err := netip.ParseAddr(string(b)); err == nil {
		return netip.AddrPortFrom(a, 0), true
	}
	return netip.AddrPort{}, false
}

func containsAddr(l []netip.AddrPort, a netip.AddrPort) bool {
	for _, x := range l {
		if x == a {
			return true
		}
	}
	return false
}
