package template

import (
	"bytes"
	"errors"
)

const (
	magic     = "TPL/1 "
	maxHeader = 32 // "TPL/1 HELLO 65535\r\n" fits with room
	maxBody   = 65535
)

// Errors of the wire format.
var (
	ErrMagic  = errors.New("template: bad magic")
	ErrVerb   = errors.New("template: unknown verb")
	ErrLength = errors.New("template: bad length")
	ErrHeader = errors.New("template: header line too long")
)

// verb is a message type.
type verb uint8

const (
	verbHello verb = iota + 1
	verbOK
	verbNo
	verbMsg
	verbBye
	verbOffer
)

var verbs = [...]struct {
	name string
	v    verb
}{{"HELLO", verbHello}, {"OK", verbOK}, {"NO", verbNo}, {"MSG", verbMsg}, {"BYE", verbBye}, {"OFFER", verbOffer}}

// name returns the verb as it appears on the wire.
func (h header) name() string {
	for _, v := range verbs {
		if v.v == h.verb {
			return v.name
		}
	}
	return ""
}

// header is a parsed header line.
type header struct {
	verb   verb
	length int
	size   int // bytes of the header line, CRLF included
}

// parseHeader parses a header line at the start of b. It returns ok=false
// with a nil error when b holds only part of a valid header.
func parseHeader(b []byte) (h header, ok bool, err error) {
	n := min(len(b), len(magic))
	if !bytes.Equal(b[:n], []byte(magic)[:n]) {
		return h, false, ErrMagic
	}
	end := bytes.IndexByte(b, '\n')
	if end < 0 {
		if len(b) >= maxHeader {
			return h, false, ErrHeader
		}
		if len(b) > len(magic) {
			if err := partialHeader(b[len(magic):]); err != nil {
				return h, false, err
			}
		}
		return h, false, nil
	}
	if end+1 > maxHeader || end < 1 || b[end-1] != '\r' {
		return h, false, ErrHeader
	}
	line := b[len(magic) : end-1]
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return h, false, ErrVerb
	}
	for _, v := range verbs {
		if string(line[:sp]) == v.name {
			h.verb = v.v
		}
	}
	if h.verb == 0 {
		return h, false, ErrVerb
	}
	num := line[sp+1:]
	if len(num) == 0 || len(num) > 5 {
		return h, false, ErrLength
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return h, false, ErrLength
		}
		h.length = h.length*10 + int(c-'0')
	}
	if h.length > maxBody {
		return h, false, ErrLength
	}
	h.size = end + 1
	return h, true, nil
}

// partialHeader rejects an incomplete header that can no longer become
// valid: only upper-case letters, one space, digits and CR may follow the magic.
func partialHeader(rest []byte) error {
	spaces := 0
	for i, c := range rest {
		switch {
		case c >= 'A' && c <= 'Z' && spaces == 0:
		case c == ' ' && spaces == 0 && i > 0:
			spaces++
		case c >= '0' && c <= '9' && spaces == 1:
		case c == '\r' && spaces == 1 && i == len(rest)-1:
		default:
			return ErrVerb
		}
	}
	return nil
}
