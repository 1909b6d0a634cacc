package socks

import (
	"errors"
	"net/netip"
	"strconv"
)

// Limits of the wire format.
const (
	maxName = 255 // SOCKS4 USERID and SOCKS4a host name, without the NUL
	// maxMethod is the highest IANA-assigned SOCKS5 method below the
	// private range 0x80-0xFE (0x09: JSON parameter block).
	maxMethod = 0x09
	// maxHandshake bounds the bytes the probe looks at: a greeting (257),
	// an RFC 1929 request (513) and a request (262) fit.
	maxHandshake = 1100
)

// Commands (SOCKS4 CD and SOCKS5 CMD share 1 and 2).
const (
	cmdConnect = 1
	cmdBind    = 2
	cmdUDP     = 3
)

// SOCKS5 address types (RFC 1928 §4).
const (
	atypIPv4   = 1
	atypDomain = 3
	atypIPv6   = 4
)

// SOCKS5 methods (RFC 1928 §3).
const (
	methodNone     = 0x00
	methodGSSAPI   = 0x01
	methodUserPass = 0x02
	methodNoneOK   = 0xFF // no acceptable methods
)

// Errors of the wire format.
var (
	ErrVersion = errors.New("socks: bad version")
	ErrCommand = errors.New("socks: bad command")
	ErrAddress = errors.New("socks: bad address")
	ErrName    = errors.New("socks: bad user id or host name")
	ErrMethod  = errors.New("socks: bad authentication method")
	ErrAuth    = errors.New("socks: bad authentication message")
	ErrReply   = errors.New("socks: bad reply")
	ErrOrder   = errors.New("socks: proxy spoke before the client")
)

// request4 is a SOCKS4 or SOCKS4a request. Slices alias the input.
type request4 struct {
	cmd    byte
	port   uint16
	ip     [4]byte
	userid []byte
	host   []byte // SOCKS4a only
	size   int
}

// is4a reports whether the address is SOCKS4a's 0.0.0.x (x != 0) marker.
func (r *request4) is4a() bool { return r.ip[0] == 0 && r.ip[1] == 0 && r.ip[2] == 0 && r.ip[3] != 0 }

// target returns host:port or address:port.
func (r *request4) target() string {
	if r.is4a() {
		return string(r.host) + ":" + strconv.Itoa(int(r.port))
	}
	return netip.AddrPortFrom(netip.AddrFrom4(r.ip), r.port).String()
}

// parseRequest4 parses `04 CD port(2) ip(4) userid\0 [host\0]`. It returns
// ok=false with a nil error when b holds only the start of a valid request.
func parseRequest4(b []byte) (r request4, ok bool, err error) {
	if len(b) > 0 && b[0] != 4 {
		return r, false, ErrVersion
	}
	if len(b) > 1 && b[1] != cmdConnect && b[1] != cmdBind {
		return r, false, ErrCommand
	}
	if len(b) < 8 {
		return r, false, nil
	}
	r.cmd = b[1]
	r.port = uint16(b[2])<<8 | uint16(b[3])
	copy(r.ip[:], b[4:8])
	if r.port == 0 || r.ip == [4]byte{} {
		return r, false, ErrAddress
	}
	n, uid, done, err := cstring(b[8:], 0x20)
	if err != nil || !done {
		return r, false, err
	}
	r.userid = uid
	r.size = 8 + n
	if !r.is4a() {
		return r, true, nil
	}
	n, host, done, err := cstring(b[r.size:], 0x21)
	if err != nil || !done {
		return r, false, err
	}
	if len(host) == 0 {
		return r, false, ErrName
	}
	r.host = host
	r.size += n
	return r, true, nil
}

// cstring reads a NUL-terminated printable string (bytes lo..0x7E) of at
// most maxName bytes. n counts the NUL.
func cstring(b []byte, lo byte) (n int, s []byte, done bool, err error) {
	for i, c := range b {
		switch {
		case c == 0:
			return i + 1, b[:i], true, nil
		case i >= maxName || c < lo || c > 0x7e:
			return 0, nil, false, ErrName
		}
	}
	return 0, nil, false, nil
}

// reply4 is a SOCKS4 reply: `00 CD port(2) ip(4)`.
type reply4 struct {
	code byte
	port uint16
	ip   [4]byte
}

// size4Reply is the fixed size of a SOCKS4 reply.
const size4Reply = 8

// parseReply4 parses a SOCKS4 reply; ok=false with a nil error means more
// bytes are needed.
func parseReply4(b []byte) (r reply4, ok bool, err error) {
	if len(b) > 0 && b[0] != 0 {
		return r, false, ErrVersion
	}
	if len(b) > 1 && (b[1] < 0x5A || b[1] > 0x5D) {
		return r, false, ErrReply
	}
	if len(b) < size4Reply {
		return r, false, nil
	}
	r.code = b[1]
	r.port = uint16(b[2])<<8 | uint16(b[3])
	copy(r.ip[:], b[4:8])
	return r, true, nil
}

// greeting is a SOCKS5 method negotiation request: `05 n methods`.
type greeting struct {
	methods []byte // aliases the input
	size    int
}

// parseGreeting parses a SOCKS5 greeting.
func parseGreeting(b []byte) (g greeting, ok bool, err error) {
	if len(b) > 0 && b[0] != 5 {
		return g, false, ErrVersion
	}
	if len(b) > 1 && b[1] == 0 {
		return g, false, ErrMethod
	}
	for i := 2; i < len(b) && i < 2+int(b[1]); i++ {
		if !validMethod(b[i]) {
			return g, false, ErrMethod
		}
	}
	if len(b) < 2 || len(b) < 2+int(b[1]) {
		return g, false, nil
	}
	g.size = 2 + int(b[1])
	g.methods = b[2:g.size]
	return g, true, nil
}

// validMethod reports whether m is an assigned or private SOCKS5 method.
func validMethod(m byte) bool { return m <= maxMethod || (m >= 0x80 && m <= 0xFE) }

// offered reports whether the greeting lists method m.
func (g *greeting) offered(m byte) bool {
	for _, x := range g.methods {
		if x == m {
			return true
		}
	}
	return false
}

// parseChoice parses the proxy's method selection `05 method`.
func parseChoice(b []byte) (m byte, ok bool, err error) {
	if len(b) > 0 && b[0] != 5 {
		return 0, false, ErrVersion
	}
	if len(b) < 2 {
		return 0, false, nil
	}
	if b[1] != methodNoneOK && !validMethod(b[1]) {
		return 0, false, ErrMethod
	}
	return b[1], true, nil
}

// userPass is an RFC 1929 request: `01 ulen user plen pass`.
type userPass struct {
	user, pass []byte // alias the input
	size       int
}

// parseUserPass parses an RFC 1929 username/password request. The
// password may be empty (some clients send none); the user name may not.
func parseUserPass(b []byte) (u userPass, ok bool, err error) {
	if len(b) > 0 && b[0] != 1 {
		return u, false, ErrAuth
	}
	if len(b) > 1 && b[1] == 0 {
		return u, false, ErrAuth
	}
	if len(b) < 3 || len(b) < 3+int(b[1]) {
		return u, false, nil
	}
	ul := int(b[1])
	pl := int(b[2+ul])
	if len(b) < 3+ul+pl {
		return u, false, nil
	}
	u.user = b[2 : 2+ul]
	u.pass = b[3+ul : 3+ul+pl]
	u.size = 3 + ul + pl
	return u, true, nil
}

// parseAuthStatus parses the RFC 1929 reply `01 status`. Some proxies
// answer with version 05 instead of 01; both are accepted.
func parseAuthStatus(b []byte) (status byte, ok bool, err error) {
	if len(b) > 0 && b[0] != 1 && b[0] != 5 {
		return 0, false, ErrAuth
	}
	if len(b) < 2 {
		return 0, false, nil
	}
	return b[1], true, nil
}

// msg5 is a SOCKS5 request (`05 CMD 00 ATYP addr port`) or reply (`05 REP
// 00 ATYP addr port`): code is CMD or REP.
type msg5 struct {
	code byte
	atyp byte
	addr []byte // 4 or 16 address bytes, or the domain name; aliases the input
	port uint16
	size int
}

// addrPort returns host:port or address:port.
func (m *msg5) addrPort() string {
	switch m.atyp {
	case atypIPv4:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(m.addr)), m.port).String()
	case atypIPv6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(m.addr)), m.port).String()
	}
	return string(m.addr) + ":" + strconv.Itoa(int(m.port))
}

// parseMsg5 parses a SOCKS5 request (reply=false: CMD 1-3, a printable
// domain name) or reply (reply=true: REP 0-8).
func parseMsg5(b []byte, reply bool) (m msg5, ok bool, err error) {
	if len(b) > 0 && b[0] != 5 {
		return m, false, ErrVersion
	}
	if len(b) > 1 {
		if reply && b[1] > 8 {
			return m, false, ErrReply
		}
		if !reply && (b[1] < cmdConnect || b[1] > cmdUDP) {
			return m, false, ErrCommand
		}
	}
	if len(b) > 2 && b[2] != 0 {
		return m, false, ErrVersion
	}
	if len(b) < 4 {
		return m, false, nil
	}
	m.code, m.atyp = b[1], b[3]
	var start, alen int
	switch m.atyp {
	case atypIPv4:
		start, alen = 4, 4
	case atypIPv6:
		start, alen = 4, 16
	case atypDomain:
		if len(b) < 5 {
			return m, false, nil
		}
		start, alen = 5, int(b[4])
		if alen == 0 {
			return m, false, ErrAddress
		}
		for i := start; i < len(b) && i < start+alen; i++ {
			if c := b[i]; c <= 0x20 || c >= 0x7f {
				return m, false, ErrAddress
			}
		}
	default:
		return m, false, ErrAddress
	}
	if len(b) < start+alen+2 {
		return m, false, nil
	}
	m.addr = b[start : start+alen]
	m.port = uint16(b[start+alen])<<8 | uint16(b[start+alen+1])
	m.size = start + alen + 2
	return m, true, nil
}
