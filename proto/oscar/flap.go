package oscar

import (
	"encoding/binary"
	"errors"
)

// FLAP framing (aim-oscar.md §1.1): '*', channel, sequence, payload length.
const (
	flapStart   = 0x2A
	flapHeader  = 6
	snacHeader  = 10
	maxSignon   = 2048 // a first (channel 1) frame: version + TLVs, cookie included
	flapVersion = 1

	chanSignon    = 1
	chanData      = 2
	chanError     = 3
	chanSignoff   = 4
	chanKeepalive = 5
)

// Errors of the wire format.
var (
	ErrFLAPStart   = errors.New("oscar: frame does not start with '*'")
	ErrFLAPChannel = errors.New("oscar: frame channel out of range")
	ErrSNAC        = errors.New("oscar: short SNAC header")
	ErrTLV         = errors.New("oscar: TLV runs past its block")
	ErrFLAPLength  = errors.New("oscar: impossible signon frame length")
	ErrFLAPVersion = errors.New("oscar: signon without version 1")
)

// flapFrame is one parsed FLAP frame; payload aliases the input.
type flapFrame struct {
	channel uint8
	seq     uint16
	payload []byte
	size    int // header + payload
}

// parseFLAP parses the frame at the start of b. It returns ok=false with a
// nil error when b holds only part of a frame.
func parseFLAP(b []byte) (f flapFrame, ok bool, err error) {
	if len(b) == 0 {
		return f, false, nil
	}
	if b[0] != flapStart {
		return f, false, ErrFLAPStart
	}
	if len(b) < 2 {
		return f, false, nil
	}
	if b[1] < chanSignon || b[1] > chanKeepalive {
		return f, false, ErrFLAPChannel
	}
	if len(b) < flapHeader {
		return f, false, nil
	}
	n := int(binary.BigEndian.Uint16(b[4:6]))
	if len(b) < flapHeader+n {
		return f, false, nil
	}
	f = flapFrame{channel: b[1], seq: binary.BigEndian.Uint16(b[2:4]), payload: b[flapHeader : flapHeader+n : flapHeader+n], size: flapHeader + n}
	return f, true, nil
}

// snac is a parsed SNAC header; body aliases the input and starts after
// the optional extra block (flag 0x8000).
type snac struct {
	family, subtype, flags uint16
	reqID                  uint32
	body                   []byte
}

// parseSNAC parses the SNAC header of a channel-2 payload (§1.2).
func parseSNAC(b []byte) (s snac, err error) {
	if len(b) < snacHeader {
		return s, ErrSNAC
	}
	s.family = binary.BigEndian.Uint16(b[0:2])
	s.subtype = binary.BigEndian.Uint16(b[2:4])
	s.flags = binary.BigEndian.Uint16(b[4:6])
	s.reqID = binary.BigEndian.Uint32(b[6:10])
	s.body = b[snacHeader:]
	if s.flags&0x8000 != 0 {
		if len(s.body) < 2 {
			return s, ErrSNAC
		}
		n := int(binary.BigEndian.Uint16(s.body[:2]))
		if len(s.body) < 2+n {
			return s, ErrTLV
		}
		s.body = s.body[2+n:]
	}
	return s, nil
}

// tlvItem is one type-length-value; val aliases the input.
type tlvItem struct {
	typ uint16
	val []byte
}

// tlvIter walks a TLV block (§1.3) without allocating.
type tlvIter struct {
	b   []byte
	err error
}

// next returns the next TLV, or ok=false at the end of the block or on a
// TLV whose length runs past it (err is then ErrTLV).
func (it *tlvIter) next() (t tlvItem, ok bool) {
	if len(it.b) == 0 || it.err != nil {
		return t, false
	}
	if len(it.b) < 4 {
		it.err = ErrTLV
		return t, false
	}
	n := int(binary.BigEndian.Uint16(it.b[2:4]))
	if len(it.b) < 4+n {
		it.err = ErrTLV
		return t, false
	}
	t = tlvItem{typ: binary.BigEndian.Uint16(it.b[:2]), val: it.b[4 : 4+n : 4+n]}
	it.b = it.b[4+n:]
	return t, true
}

// tlvBlock holds the TLVs of a block that matter to the analyzer, by type.
// Later repeats of a type win. Only types below 0x60 are kept.
type tlvBlock struct {
	v   [0x60][]byte
	has [0x60]bool
	n   int // TLVs in the block
}

// get returns the value of TLV typ.
func (b *tlvBlock) get(typ uint16) ([]byte, bool) {
	if int(typ) >= len(b.v) {
		return nil, false
	}
	return b.v[typ], b.has[typ]
}

// parseTLVs fills blk from a TLV list; on a bad length it keeps what came
// before and returns ErrTLV.
func parseTLVs(b []byte, blk *tlvBlock) error {
	it := tlvIter{b: b}
	for {
		t, ok := it.next()
		if !ok {
			return it.err
		}
		blk.n++
		if int(t.typ) < len(blk.v) {
			blk.v[t.typ], blk.has[t.typ] = t.val, true
		}
	}
}

// skipTLVCount skips count TLVs (a user-info block) and returns the rest.
func skipTLVCount(b []byte, count int, blk *tlvBlock) ([]byte, error) {
	it := tlvIter{b: b}
	for range count {
		t, ok := it.next()
		if !ok {
			if it.err == nil {
				return nil, ErrTLV
			}
			return nil, it.err
		}
		if blk != nil && int(t.typ) < len(blk.v) {
			blk.v[t.typ], blk.has[t.typ] = t.val, true
			blk.n++
		}
	}
	return it.b, nil
}

// userInfo is the start of an OSCAR user-info block: screen name, warning
// level and a counted TLV list (aim-oscar.md §3.2).
type userInfo struct {
	name string
	tlvs tlvBlock
	rest []byte
}

// parseUserInfo parses a user-info block at the start of b.
func parseUserInfo(b []byte, ui *userInfo) error {
	if len(b) < 1 {
		return ErrTLV
	}
	n := int(b[0])
	if len(b) < 1+n+4 {
		return ErrTLV
	}
	ui.name = string(b[1 : 1+n])
	count := int(binary.BigEndian.Uint16(b[1+n+2 : 1+n+4]))
	rest, err := skipTLVCount(b[1+n+4:], count, &ui.tlvs)
	ui.rest = rest
	return err
}

// isSignon reports whether b starts with the strict first frame of an
// OSCAR connection (§1.4): channel 1, a length of at least 4 that fits the
// signon bound, version 00000001 and, after it, a well-formed TLV list.
// It returns ok=false, err=nil when more bytes are needed.
func isSignon(b []byte) (ok bool, err error) {
	f, whole, err := parseFLAP(b)
	if err != nil {
		return false, err
	}
	if len(b) >= 2 && b[1] != chanSignon {
		return false, ErrFLAPChannel
	}
	if len(b) >= flapHeader {
		n := int(binary.BigEndian.Uint16(b[4:6]))
		if n < 4 || n > maxSignon {
			return false, ErrFLAPLength
		}
	}
	// The version may be checked before the frame is whole.
	for i := flapHeader; i < min(len(b), flapHeader+4); i++ {
		want := byte(0)
		if i == flapHeader+3 {
			want = flapVersion
		}
		if b[i] != want {
			return false, ErrFLAPVersion
		}
	}
	if !whole {
		return false, nil
	}
	it := tlvIter{b: f.payload[4:]}
	for {
		if _, more := it.next(); !more {
			break
		}
	}
	if it.err != nil {
		return false, it.err
	}
	return true, nil
}
