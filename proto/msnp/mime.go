package msnp

import (
	"bytes"
	"errors"
)

const maxHeaders = 64 // header lines read per MIME part

// Errors of the MIME header parser.
var (
	ErrHeader = errors.New("msnp: bad MIME header")
)

// mime is the part of a MSG payload's headers peerwatch uses. Values alias
// the payload.
type mime struct {
	contentType []byte // media type, lower-cased comparison, parameters cut
	typingUser  []byte
	format      []byte // X-MMS-IM-Format
	body        []byte // after the blank line; nil when there is none
}

// parseMIME reads "Name: value" lines up to the blank line. A payload
// without a blank line has no body.
func parseMIME(b []byte) (m mime, err error) {
	err = eachHeader(b, func(name, value []byte) {
		switch {
		case bytes.EqualFold(name, []byte("Content-Type")):
			if i := bytes.IndexByte(value, ';'); i >= 0 {
				value = value[:i]
			}
			m.contentType = bytes.TrimSpace(value)
		case bytes.EqualFold(name, []byte("TypingUser")):
			m.typingUser = value
		case bytes.EqualFold(name, []byte("X-MMS-IM-Format")):
			m.format = value
		}
	}, &m.body)
	return m, err
}

// eachHeader calls fn for every header line of b, up to maxHeaders, and
// sets *body to what follows the blank line. Lines end in CRLF or LF.
func eachHeader(b []byte, fn func(name, value []byte), body *[]byte) error {
	for n := 0; len(b) > 0; n++ {
		if n == maxHeaders {
			return ErrHeader
		}
		end := bytes.IndexByte(b, '\n')
		ln, rest := b, []byte(nil)
		if end >= 0 {
			ln, rest = b[:end], b[end+1:]
		}
		ln = bytes.TrimSuffix(ln, []byte{'\r'})
		if len(ln) == 0 {
			if end >= 0 {
				*body = rest
			}
			return nil
		}
		colon := bytes.IndexByte(ln, ':')
		if colon < 1 {
			return ErrHeader
		}
		fn(bytes.TrimSpace(ln[:colon]), bytes.TrimSpace(ln[colon+1:]))
		b = rest
	}
	return nil
}

// formatParam returns the value of key (e.g. "FN") in an X-MMS-IM-Format
// header "FN=MS%20Sans%20Serif; EF=; CO=0; CS=0; PF=22".
func formatParam(format []byte, key string) ([]byte, bool) {
	for len(format) > 0 {
		item := format
		if i := bytes.IndexByte(format, ';'); i >= 0 {
			item, format = format[:i], format[i+1:]
		} else {
			format = nil
		}
		item = bytes.TrimSpace(item)
		if eq := bytes.IndexByte(item, '='); eq >= 0 && string(item[:eq]) == key {
			return item[eq+1:], true
		}
	}
	return nil, false
}
