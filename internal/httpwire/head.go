package httpwire

import "bytes"

// Default limits, used for any Limits field that is zero or negative.
const (
	DefaultMaxLine        = 8 << 10  // bytes in one start or header line, without its line ending
	DefaultMaxHeaders     = 100      // header fields in one head
	DefaultMaxHeaderBytes = 64 << 10 // bytes in a whole head, line endings and the blank line included
)

// Limits bounds what a head parser accepts. A zero field means its default.
type Limits struct {
	MaxLine        int // bytes per line, line ending excluded
	MaxHeaders     int // header fields per head
	MaxHeaderBytes int // bytes per head, from its first byte to the end of the blank line
}

func (l Limits) norm() Limits {
	if l.MaxLine <= 0 {
		l.MaxLine = DefaultMaxLine
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultMaxHeaders
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	return l
}

// Header is one header field. Name and Value alias the parsed input; Value
// has no leading or trailing whitespace (see the package comment for folded
// values).
type Header struct {
	Name, Value []byte
}

// Request is a parsed request head. Its slices alias the input.
type Request struct {
	Method  []byte
	Target  []byte // the request-target as sent: origin-form, absolute-form, authority-form or "*"
	Proto   []byte // "HTTP/1.1"
	Headers []Header
}

// Response is a parsed response head. Its slices alias the input.
type Response struct {
	Proto   []byte // "HTTP/1.1"
	Status  int    // 100..999
	Reason  []byte // may be empty
	Headers []Header
}

// ParseRequestHead parses the request head at the start of b. Header fields
// are appended to hdrs[:0], so a caller that passes the Headers of its
// previous Request (or a slice with spare capacity) parses without
// allocating. Empty lines before the request line are skipped (RFC 9112
// §2.2) and counted in n.
//
// It returns n > 0, the length of the head including its blank line, when
// the head is complete; n == 0 and a nil error when b is a valid but
// incomplete head; and an error matching ErrMalformed or ErrTooLarge
// otherwise. A head with a Content-Length that is malformed or ambiguous is
// rejected, as is one with a Transfer-Encoding that does not end in chunked.
func ParseRequestHead(b []byte, lim Limits, hdrs []Header) (req Request, n int, err error) {
	lim = lim.norm()
	w, truncated := window(b, lim)
	off := 0
	var line []byte
	for {
		var ok bool
		line, off, ok, err = nextLine(w, off, lim.MaxLine)
		if err != nil || !ok {
			return Request{}, 0, incomplete(err, truncated)
		}
		if len(line) > 0 {
			break
		}
	}
	if err = parseRequestLine(line, &req); err != nil {
		return Request{}, 0, err
	}
	req.Headers, n, err = parseFields(w, off, lim, hdrs[:0])
	if err != nil || n == 0 {
		return Request{}, 0, incomplete(err, truncated)
	}
	if _, err = framingLength(req.Headers); err != nil {
		return Request{}, 0, err
	}
	if te, ok := lastTransferCoding(req.Headers); ok && !bytes.EqualFold(te, []byte("chunked")) {
		return Request{}, 0, ErrBadTransferEncoding
	}
	return req, n, nil
}

// ParseResponseHead parses the response head at the start of b, with the
// same contract as ParseRequestHead except that no leading empty lines are
// skipped and any Transfer-Encoding is accepted (a response whose final
// coding is not chunked is delimited by the connection close).
func ParseResponseHead(b []byte, lim Limits, hdrs []Header) (resp Response, n int, err error) {
	lim = lim.norm()
	w, truncated := window(b, lim)
	line, off, ok, err := nextLine(w, 0, lim.MaxLine)
	if err != nil || !ok {
		return Response{}, 0, incomplete(err, truncated)
	}
	if err = parseStatusLine(line, &resp); err != nil {
		return Response{}, 0, err
	}
	resp.Headers, n, err = parseFields(w, off, lim, hdrs[:0])
	if err != nil || n == 0 {
		return Response{}, 0, incomplete(err, truncated)
	}
	if _, err = framingLength(resp.Headers); err != nil {
		return Response{}, 0, err
	}
	return resp, n, nil
}

// window limits b to the head size limit and says whether it cut.
func window(b []byte, lim Limits) ([]byte, bool) {
	if len(b) > lim.MaxHeaderBytes {
		return b[:lim.MaxHeaderBytes], true
	}
	return b, false
}

// incomplete turns "no complete line" into ErrHeadTooLarge when the input
// was cut at the head size limit, so a head that never ends is an error.
func incomplete(err error, truncated bool) error {
	if err == nil && truncated {
		return ErrHeadTooLarge
	}
	return err
}

// nextLine returns the line starting at b[off] without its line ending
// (CRLF or LF) and the offset after the line ending. ok is false if the line
// is not complete yet.
func nextLine(b []byte, off, maxLine int) (line []byte, next int, ok bool, err error) {
	end := len(b)
	if end-off > maxLine+2 {
		end = off + maxLine + 2
	}
	i := bytes.IndexByte(b[off:end], '\n')
	if i < 0 {
		if end-off >= maxLine+2 {
			return nil, 0, false, ErrLineTooLong
		}
		return nil, 0, false, nil
	}
	line = b[off : off+i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) > maxLine {
		return nil, 0, false, ErrLineTooLong
	}
	return line, off + i + 1, true, nil
}

// parseRequestLine parses method SP request-target SP HTTP-version.
func parseRequestLine(line []byte, req *Request) error {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 || !isToken(line[:sp]) {
		return ErrBadRequestLine
	}
	req.Method = line[:sp]
	rest := line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return ErrBadRequestLine
	}
	req.Target = rest[:sp]
	for _, c := range req.Target {
		if c <= ' ' || c == 0x7f {
			return ErrBadRequestLine
		}
	}
	req.Proto = rest[sp+1:]
	if !isVersion(req.Proto) {
		return ErrBadRequestLine
	}
	return nil
}

// parseStatusLine parses HTTP-version SP 3DIGIT [SP reason-phrase]. The
// space before an empty reason is optional: servers omit it.
func parseStatusLine(line []byte, resp *Response) error {
	if len(line) < 12 || line[8] != ' ' || !isVersion(line[:8]) {
		return ErrBadStatusLine
	}
	resp.Proto = line[:8]
	d0, d1, d2 := line[9]-'0', line[10]-'0', line[11]-'0'
	if d0 < 1 || d0 > 9 || d1 > 9 || d2 > 9 {
		return ErrBadStatusLine
	}
	resp.Status = int(d0)*100 + int(d1)*10 + int(d2)
	rest := line[12:]
	switch {
	case len(rest) == 0:
		resp.Reason = rest
	case rest[0] == ' ':
		resp.Reason = rest[1:]
		if !isFieldText(resp.Reason) {
			return ErrBadStatusLine
		}
	default:
		return ErrBadStatusLine
	}
	return nil
}

// parseFields parses header field lines from b[off] through the blank line
// and returns the fields and the offset after the blank line (0: incomplete).
func parseFields(b []byte, off int, lim Limits, hdrs []Header) ([]Header, int, error) {
	valStart := 0 // offset in b of the last field's value
	for {
		start := off
		line, next, ok, err := nextLine(b, off, lim.MaxLine)
		if err != nil || !ok {
			return hdrs, 0, err
		}
		off = next
		if len(line) == 0 {
			return hdrs, off, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			// obs-fold: extend the previous value over this line.
			if len(hdrs) == 0 {
				return hdrs, 0, ErrBadHeader
			}
			cont := trimOWS(line)
			if !isFieldText(cont) {
				return hdrs, 0, ErrBadHeader
			}
			if len(cont) == 0 {
				continue
			}
			h := &hdrs[len(hdrs)-1]
			if len(h.Value) == 0 {
				valStart = start + len(line) - len(trimLeftOWS(line))
			}
			h.Value = b[valStart : start+len(trimRightOWS(line))]
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !isToken(line[:colon]) {
			return hdrs, 0, ErrBadHeader
		}
		raw := line[colon+1:]
		v := trimOWS(raw)
		if !isFieldText(v) {
			return hdrs, 0, ErrBadHeader
		}
		if len(hdrs) >= lim.MaxHeaders {
			return hdrs, 0, ErrTooManyHeaders
		}
		valStart = start + colon + 1 + len(raw) - len(trimLeftOWS(raw))
		hdrs = append(hdrs, Header{Name: line[:colon], Value: v})
	}
}

func trimOWS(b []byte) []byte { return trimRightOWS(trimLeftOWS(b)) }

func trimLeftOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func trimRightOWS(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// isVersion reports whether b is "HTTP/" DIGIT "." DIGIT.
func isVersion(b []byte) bool {
	return len(b) == 8 && string(b[:5]) == "HTTP/" && isDigit(b[5]) && b[6] == '.' && isDigit(b[7])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// tchar per RFC 9110 §5.6.2.
var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenTable[c] {
			return false
		}
	}
	return true
}

// isFieldText reports whether b holds only HT, SP, VCHAR and obs-text
// (RFC 9110 §5.5 field-content; also the reason-phrase alphabet).
func isFieldText(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
