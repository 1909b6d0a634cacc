package dns

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
)

// Wire limits (RFC 1035 §2.3.4, §4.1.4).
const (
	headerLen  = 12
	maxLabel   = 63
	maxName    = 255 // wire bytes of a name, length octets included
	maxJumps   = 10  // compression pointers followed per name
	maxNameTxt = 4 * maxName
)

// Errors of the wire format.
var (
	ErrShort   = errors.New("dns: message truncated")
	ErrLabel   = errors.New("dns: label longer than 63 bytes or reserved label type")
	ErrName    = errors.New("dns: name longer than 255 bytes")
	ErrPointer = errors.New("dns: bad compression pointer")
	ErrHeader  = errors.New("dns: implausible header")
	ErrLength  = errors.New("dns: message length inconsistent")
)

// header is the fixed 12-byte message header.
type header struct {
	id, flags      uint16
	qd, an, ns, ar uint16
}

func (h header) qr() bool           { return h.flags&0x8000 != 0 }
func (h header) opcode() int        { return int(h.flags>>11) & 0xf }
func (h header) rcode() int         { return int(h.flags & 0xf) }
func (h header) flag(m uint16) bool { return h.flags&m != 0 }

// Header flag bits.
const (
	flagAA = 0x0400
	flagTC = 0x0200
	flagRD = 0x0100
	flagRA = 0x0080
	flagZ  = 0x0040
)

// parseHeader reads the header at the start of b.
func parseHeader(b []byte) (header, error) {
	if len(b) < headerLen {
		return header{}, ErrShort
	}
	return header{
		id: binary.BigEndian.Uint16(b), flags: binary.BigEndian.Uint16(b[2:]),
		qd: binary.BigEndian.Uint16(b[4:]), an: binary.BigEndian.Uint16(b[6:]),
		ns: binary.BigEndian.Uint16(b[8:]), ar: binary.BigEndian.Uint16(b[10:]),
	}, nil
}

// nameInfo describes a name walked by walkName.
type nameInfo struct {
	next    int  // offset just past the name where it starts (past the first pointer, if any)
	pointer bool // the name uses a compression pointer
	wire    int  // wire length of the expanded name
	labels  int
	ctrl    bool // a label holds a control byte (< 0x20 or 0x7f)
	space   bool // a label holds a space
	nbns    bool // the first label is 32 letters A-P: a NetBIOS encoded name
}

// walkName checks the name at msg[off:], following compression pointers
// (each must point strictly backwards, at most maxJumps of them, so no loop
// is possible), and writes its text form into dst if dst is not nil. It
// returns the text length written. It does not allocate.
func walkName(msg []byte, off int, dst *[maxNameTxt]byte) (nameInfo, int, error) {
	var ni nameInfo
	ni.next = -1
	pos, jumps, n := off, 0, 0
	for {
		if pos >= len(msg) {
			return ni, 0, ErrShort
		}
		c := int(msg[pos])
		switch c & 0xc0 {
		case 0x00:
		case 0xc0:
			if pos+1 >= len(msg) {
				return ni, 0, ErrShort
			}
			ptr := (c&0x3f)<<8 | int(msg[pos+1])
			if ni.next < 0 {
				ni.next = pos + 2
			}
			jumps++
			if jumps > maxJumps || ptr >= pos || ptr < headerLen {
				return ni, 0, ErrPointer
			}
			ni.pointer = true
			pos = ptr
			continue
		default:
			return ni, 0, ErrLabel
		}
		ni.wire += c + 1
		if ni.wire > maxName {
			return ni, 0, ErrName
		}
		if c == 0 {
			if ni.next < 0 {
				ni.next = pos + 1
			}
			if dst != nil && ni.labels == 0 {
				n = copy(dst[:], "<root>")
			}
			return ni, n, nil
		}
		if pos+1+c > len(msg) {
			return ni, 0, ErrShort
		}
		label := msg[pos+1 : pos+1+c]
		if ni.labels == 0 && c == 32 {
			ni.nbns = true
			for _, b := range label {
				ni.nbns = ni.nbns && b >= 'A' && b <= 'P'
			}
		}
		if dst != nil && ni.labels > 0 {
			dst[n] = '.'
			n++
		}
		for _, b := range label {
			switch {
			case b < 0x20 || b == 0x7f:
				ni.ctrl = true
			case b == ' ':
				ni.space = true
			}
			if dst != nil {
				n = appendByte(dst, n, b)
			}
		}
		ni.labels++
		pos += 1 + c
	}
}

// appendByte writes b into dst at n, escaping it as \DDD (RFC 1035 §5.1)
// when it is not a printable ASCII byte other than '.' and '\'.
func appendByte(dst *[maxNameTxt]byte, n int, b byte) int {
	if b > 0x20 && b < 0x7f && b != '.' && b != '\\' {
		dst[n] = b
		return n + 1
	}
	dst[n] = '\\'
	dst[n+1] = '0' + b/100
	dst[n+2] = '0' + b/10%10
	dst[n+3] = '0' + b%10
	return n + 4
}

// readName returns the text form of the name at msg[off:] and the offset
// past it.
func readName(msg []byte, off int) (string, int, error) {
	var buf [maxNameTxt]byte
	ni, n, err := walkName(msg, off, &buf)
	if err != nil {
		return "", 0, err
	}
	return string(buf[:n]), ni.next, nil
}

// question is one entry of the question section.
type question struct {
	name          string
	qtype, qclass uint16
}

// rr is a resource record; rdata is the raw data, within msg.
type rr struct {
	name  string
	rtype uint16
	class uint16
	ttl   uint32
	rdata []byte
	rdoff int // offset of rdata in the message (names in it may point back)
}

// message is a parsed DNS message.
type message struct {
	header
	questions []question
	answers   []rr
}

// Record types named in events (IANA DNS parameters registry).
const (
	typeA     = 1
	typeNS    = 2
	typeCNAME = 5
	typeSOA   = 6
	typePTR   = 12
	typeMX    = 15
	typeTXT   = 16
	typeAAAA  = 28
	typeSRV   = 33
	typeOPT   = 41
)

// maxKept bounds the questions and answers kept from one message.
const maxKept = 64

// parseMessage parses a whole message: header, questions and the answer
// section (authority and additional records are walked, not kept, so the
// message length is checked). At most maxKept questions and answers are
// kept.
func parseMessage(b []byte) (message, error) {
	var m message
	h, err := parseHeader(b)
	if err != nil {
		return m, err
	}
	m.header = h
	off := headerLen
	for i := 0; i < int(h.qd); i++ {
		name, next, err := readName(b, off)
		if err != nil {
			return m, err
		}
		if next+4 > len(b) {
			return m, ErrShort
		}
		q := question{name: name, qtype: binary.BigEndian.Uint16(b[next:]), qclass: binary.BigEndian.Uint16(b[next+2:])}
		if len(m.questions) < maxKept {
			m.questions = append(m.questions, q)
		}
		off = next + 4
	}
	for i := 0; i < int(h.an); i++ {
		r, next, err := readRR(b, off, len(m.answers) < maxKept)
		if err != nil {
			return m, err
		}
		if len(m.answers) < maxKept {
			m.answers = append(m.answers, r)
		}
		off = next
	}
	for i := 0; i < int(h.ns)+int(h.ar); i++ {
		_, next, err := readRR(b, off, false)
		if err != nil {
			return m, err
		}
		off = next
	}
	return m, nil
}

// readRR reads the resource record at off; the owner name's text is made
// only when keep is set.
func readRR(b []byte, off int, keep bool) (rr, int, error) {
	var r rr
	var next int
	if keep {
		name, nx, err := readName(b, off)
		if err != nil {
			return r, 0, err
		}
		r.name, next = name, nx
	} else {
		ni, _, err := walkName(b, off, nil)
		if err != nil {
			return r, 0, err
		}
		next = ni.next
	}
	if next+10 > len(b) {
		return r, 0, ErrShort
	}
	r.rtype = binary.BigEndian.Uint16(b[next:])
	r.class = binary.BigEndian.Uint16(b[next+2:])
	r.ttl = binary.BigEndian.Uint32(b[next+4:])
	rdlen := int(binary.BigEndian.Uint16(b[next+8:]))
	r.rdoff = next + 10
	if r.rdoff+rdlen > len(b) {
		return r, 0, ErrShort
	}
	r.rdata = b[r.rdoff : r.rdoff+rdlen]
	return r, r.rdoff + rdlen, nil
}

// addr returns the address of an A or AAAA record.
func (r rr) addr() (netip.Addr, bool) {
	switch {
	case r.rtype == typeA && len(r.rdata) == 4:
		return netip.AddrFrom4([4]byte(r.rdata)), true
	case r.rtype == typeAAAA && len(r.rdata) == 16:
		return netip.AddrFrom16([16]byte(r.rdata)), true
	}
	return netip.Addr{}, false
}

// target returns the name a CNAME, NS, PTR or MX record points to.
func (r rr) target(msg []byte) (string, bool) {
	off := r.rdoff
	switch r.rtype {
	case typeCNAME, typeNS, typePTR:
	case typeMX:
		off += 2
	default:
		return "", false
	}
	if off >= r.rdoff+len(r.rdata) {
		return "", false
	}
	// The name must end inside the rdata (pointers may leave it).
	name, next, err := readName(msg[:r.rdoff+len(r.rdata)], off)
	if err != nil || next != r.rdoff+len(r.rdata) {
		return "", false
	}
	return name, true
}

// rdataText is the rdata of an answer as Suricata logs it, or "".
func (r rr) rdataText(msg []byte) string {
	if a, ok := r.addr(); ok {
		return a.String()
	}
	if t, ok := r.target(msg); ok {
		return t
	}
	if r.rtype == typeTXT {
		return txtText(r.rdata)
	}
	return ""
}

// txtText joins the character strings of a TXT record, escaping
// non-printable bytes.
func txtText(d []byte) string {
	var out []byte
	for len(d) > 0 {
		n := int(d[0])
		if 1+n > len(d) {
			return ""
		}
		for _, b := range d[1 : 1+n] {
			if b >= 0x20 && b < 0x7f && b != '\\' {
				out = append(out, b)
			} else {
				out = append(out, '\\', '0'+b/100, '0'+b/10%10, '0'+b%10)
			}
		}
		d = d[1+n:]
	}
	return string(out)
}

var typeNames = map[uint16]string{
	1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 10: "NULL", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT",
	17: "RP", 18: "AFSDB", 24: "SIG", 25: "KEY", 28: "AAAA", 29: "LOC", 33: "SRV", 35: "NAPTR",
	37: "CERT", 39: "DNAME", 41: "OPT", 43: "DS", 44: "SSHFP", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY",
	50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA", 64: "SVCB", 65: "HTTPS", 99: "SPF", 249: "TKEY",
	250: "TSIG", 251: "IXFR", 252: "AXFR", 255: "ANY", 256: "URI", 257: "CAA",
}

// typeName returns a record type's mnemonic, or TYPEn (RFC 3597).
func typeName(t uint16) string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

var rcodeNames = [...]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"}

// rcodeName returns a response code's mnemonic, or RCODEn.
func rcodeName(c int) string {
	if c < len(rcodeNames) {
		return rcodeNames[c]
	}
	return "RCODE" + strconv.Itoa(c)
}
