package httpproxy

import (
	"bytes"
	"strconv"
	"strings"
)

// maxHost bounds a host name taken from a request (DNS names are at most
// 253 characters).
const maxHost = 255

// uri is the part of an absolute-form request-target that names the
// destination; host aliases the input.
type uri struct {
	host []byte // without brackets for an IPv6 literal
	port int
	v6   bool
}

// splitAuthority splits an authority-form target host ":" port (RFC 9112
// §3.2.3); the port is required. host keeps the brackets of an IPv6
// literal.
func splitAuthority(t []byte) (host []byte, port int, ok bool) {
	i := bytes.LastIndexByte(t, ':')
	if i <= 0 {
		return nil, 0, false
	}
	port, ok = parsePort(t[i+1:])
	if !ok || port == 0 || !validHost(t[:i]) {
		return nil, 0, false
	}
	return t[:i], port, true
}

// parseAbsolute reads scheme "://" [userinfo "@"] host [":" port] of an
// absolute-form target (RFC 3986 §3) for the schemes http, https and ftp,
// any case; the port defaults to the scheme's.
func parseAbsolute(t []byte) (u uri, ok bool) {
	var def int
	switch {
	case hasPrefixFold(t, "http://"):
		t, def = t[7:], 80
	case hasPrefixFold(t, "https://"):
		t, def = t[8:], 443
	case hasPrefixFold(t, "ftp://"):
		t, def = t[6:], 21
	default:
		return uri{}, false
	}
	if i := bytes.IndexAny(t, "/?#"); i >= 0 {
		t = t[:i]
	}
	if i := bytes.LastIndexByte(t, '@'); i >= 0 {
		t = t[i+1:]
	}
	host := t
	u.port = def
	if i := bytes.LastIndexByte(t, ':'); i >= 0 && bytes.IndexByte(t[i:], ']') < 0 {
		host = t[:i]
		if p := t[i+1:]; len(p) > 0 {
			n, ok := parsePort(p)
			if !ok || n == 0 {
				return uri{}, false
			}
			u.port = n
		}
	}
	if !validHost(host) {
		return uri{}, false
	}
	if host[0] == '[' {
		host, u.v6 = host[1:len(host)-1], true
	}
	u.host = host
	return u, true
}

// validHost checks a host: an IP literal in brackets, or a reg-name or
// IPv4 address of unreserved, sub-delims and pct-encoded characters (RFC
// 3986 §3.2.2), non-empty and at most maxHost bytes.
func validHost(h []byte) bool {
	if len(h) == 0 || len(h) > maxHost {
		return false
	}
	if h[0] == '[' {
		if len(h) < 4 || h[len(h)-1] != ']' {
			return false
		}
		for _, c := range h[1 : len(h)-1] {
			if !(isHex(c) || c == ':' || c == '.') {
				return false
			}
		}
		return true
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~%!$&'()*+,;=", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// parsePort reads 1 to 5 decimal digits up to 65535.
func parsePort(p []byte) (int, bool) {
	if len(p) == 0 || len(p) > 5 {
		return 0, false
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= 65535
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// hasPrefixFold reports whether b starts with the lower-case ASCII s, any
// case.
func hasPrefixFold(b []byte, s string) bool {
	if len(b) < len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// hostPort writes host:port, bracketing an IPv6 literal.
func hostPort(host []byte, port int, v6 bool) string {
	if v6 {
		return "[" + string(host) + "]:" + strconv.Itoa(port)
	}
	return string(host) + ":" + strconv.Itoa(port)
}
