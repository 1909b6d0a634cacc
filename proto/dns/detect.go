package dns

import (
	"encoding/binary"
	"errors"

	"github.com/peerwatch/peerwatch/classify"
)

// maxBytes is how much of a direction the classifier shows the probe: a
// query or a small answer (a UDP datagram longer than this is not probed).
const maxBytes = 1024

// Probe bounds on the section counts. A query asks one question (RFC 9619;
// mDNS may ask a few) and carries at most an EDNS OPT and a TSIG record.
const (
	maxQD      = 4
	maxQueryAN = 16 // mDNS known answers, dynamic update prerequisites
	maxQueryNS = 16
	maxQueryAR = 4
	maxRespAN  = 128
	maxRespNS  = 64
	maxRespAR  = 64
	mdnsPort   = 5353
)

var errImplausible = errors.New("dns: implausible message")

// probe accepts a direction that starts with a whole, well-formed DNS
// message (over TCP after its 2-byte length). DNS has no magic, so it is
// strict: a plausible header, names that parse, known classes and types,
// and sections that end exactly where the message does. Over TCP it asks
// for more bytes while the message is incomplete but consistent so far; a
// UDP datagram is always whole. It allocates nothing.
func probe(in *classify.Input) classify.Result {
	mdns := in.Orig.Port() == mdnsPort || in.Resp.Port() == mdnsPort
	d := in.Data
	if in.UDP {
		if check(d, mdns) != nil {
			return classify.NoMatch
		}
		return classify.Match
	}
	if in.MidStream {
		return classify.NoMatch // the length prefix cannot be found
	}
	if len(d) < 2 {
		return classify.NeedMore
	}
	l := int(binary.BigEndian.Uint16(d))
	if l < headerLen || l > maxBytes-2 {
		return classify.NoMatch
	}
	msg := d[2:]
	whole := len(msg) >= l
	if whole {
		msg = msg[:l]
	}
	switch err := check(msg, false); {
	case err == nil:
		return classify.Match
	case err == ErrShort && !whole:
		return classify.NeedMore
	}
	return classify.NoMatch
}

// check validates a whole message (or, with ErrShort, the prefix of one
// that may still become valid).
func check(b []byte, mdns bool) error {
	h, err := parseHeader(b)
	if err != nil {
		return err
	}
	if err := checkHeader(h); err != nil {
		return err
	}
	off := headerLen
	for i := 0; i < int(h.qd); i++ {
		ni, _, err := walkName(b, off, nil)
		if err != nil {
			return err
		}
		if i == 0 && !h.qr() && ni.pointer {
			return errImplausible // nothing earlier to point at
		}
		if ni.ctrl || (ni.space && !mdns) || (i == 0 && ni.nbns) {
			return errImplausible
		}
		if ni.next+4 > len(b) {
			return ErrShort
		}
		qt, qc := binary.BigEndian.Uint16(b[ni.next:]), binary.BigEndian.Uint16(b[ni.next+2:])
		if !knownType(qt) || !knownClass(qc, mdns) {
			return errImplausible
		}
		off = ni.next + 4
	}
	for i := 0; i < int(h.an)+int(h.ns)+int(h.ar); i++ {
		ni, _, err := walkName(b, off, nil)
		if err != nil {
			return err
		}
		if ni.ctrl {
			return errImplausible
		}
		next := ni.next
		if next+10 > len(b) {
			return ErrShort
		}
		t, c := binary.BigEndian.Uint16(b[next:]), binary.BigEndian.Uint16(b[next+2:])
		rdlen := int(binary.BigEndian.Uint16(b[next+8:]))
		if t == 0 || (t != typeOPT && !knownClass(c, mdns)) {
			return errImplausible
		}
		if c&0x7fff == 1 && ((t == typeA && rdlen != 4) || (t == typeAAAA && rdlen != 16)) {
			return errImplausible
		}
		off = next + 10 + rdlen
		if off > len(b) {
			return ErrShort
		}
	}
	if off != len(b) {
		return ErrLength
	}
	return nil
}

// checkHeader rejects headers a DNS implementation does not send.
func checkHeader(h header) error {
	switch op := h.opcode(); {
	case op == 3 || op > 5:
		return errImplausible
	case h.flag(flagZ):
		return errImplausible
	}
	if !h.qr() {
		if h.rcode() != 0 || h.flag(flagAA|flagRA) || h.qd == 0 || h.qd > maxQD ||
			h.an > maxQueryAN || h.ns > maxQueryNS || h.ar > maxQueryAR {
			return errImplausible
		}
		return nil
	}
	if h.rcode() > 10 || h.qd > maxQD || h.an > maxRespAN || h.ns > maxRespNS || h.ar > maxRespAR {
		return errImplausible
	}
	if h.qd == 0 && h.an == 0 && h.ns == 0 && h.ar == 0 {
		return errImplausible
	}
	return nil
}

// knownType accepts the assigned RR types and QTYPEs (1-260, TA and DLV).
func knownType(t uint16) bool {
	return (t >= 1 && t <= 260) || t == 32768 || t == 32769
}

// knownClass accepts IN, CH, HS, NONE and ANY; on mDNS the top bit is the
// unicast-response (question) or cache-flush (record) bit (RFC 6762 §5.4,
// §10.2).
func knownClass(c uint16, mdns bool) bool {
	if mdns {
		c &= 0x7fff
	}
	switch c {
	case 1, 3, 4, 254, 255:
		return true
	}
	return false
}
