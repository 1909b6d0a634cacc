package msnp

import (
	"bytes"
	"errors"
)

const (
	maxLine    = 4096  // a command line, CRLF included (TWN tickets are the longest)
	maxFields  = 16    // arguments kept per line; more are an error
	maxPayload = 61440 // bytes after a payload command (the engine buffers 64 KiB)
)

// Errors of the command grammar.
var (
	ErrCommand = errors.New("msnp: bad command")
	ErrLine    = errors.New("msnp: bad command line")
	ErrLength  = errors.New("msnp: bad payload length")
)

// line is one parsed command line. Arguments alias the input.
type line struct {
	cmd     [3]byte
	args    [maxFields][]byte
	nargs   int
	size    int // bytes of the line, CRLF included
	payload int // bytes of payload following the line (payload commands)
}

// arg returns argument i, or nil.
func (l *line) arg(i int) []byte {
	if i < 0 || i >= l.nargs {
		return nil
	}
	return l.args[i]
}

// is reports whether the command is name.
func (l *line) is(name string) bool { return string(l.cmd[:]) == name }

// numeric reports whether the command is a 3-digit error code.
func (l *line) numeric() bool { return isDigit(l.cmd[0]) }

// code returns a numeric command's value.
func (l *line) code() int {
	return int(l.cmd[0]-'0')*100 + int(l.cmd[1]-'0')*10 + int(l.cmd[2]-'0')
}

// payloadCmds carry a byte count as their last argument, followed by that
// many bytes (MSG from MSNP2; the others from later versions).
var payloadCmds = [...]string{"MSG", "QRY", "NOT", "UUX", "UBX", "GCF", "ADL", "RML", "FQY", "UUN", "UUM", "IPG"}

func isPayloadCmd(c [3]byte) bool {
	for _, p := range payloadCmds {
		if string(c[:]) == p {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// parseLine parses the command line at the start of b: three upper-case
// letters or three digits, then arguments separated by single spaces, then
// CRLF. It returns ok=false with a nil error when b holds only the start of
// a line that may still become valid.
func parseLine(b []byte) (l line, ok bool, err error) {
	if err := checkCmd(b); err != nil {
		return l, false, err
	}
	end := bytes.IndexByte(b[:min(len(b), maxLine)], '\n')
	if end < 0 {
		if len(b) >= maxLine {
			return l, false, ErrLine
		}
		return l, false, nil
	}
	if end < 4 || b[end-1] != '\r' {
		return l, false, ErrLine
	}
	copy(l.cmd[:], b[:3])
	body := b[3 : end-1]
	if len(body) > 0 {
		if body[0] != ' ' {
			return l, false, ErrCommand
		}
		body = body[1:]
		for len(body) > 0 {
			sp := bytes.IndexByte(body, ' ')
			f := body
			if sp >= 0 {
				f, body = body[:sp], body[sp+1:]
				if len(body) == 0 {
					// A trailing space ends the line (some servers send it).
					sp = -1
				}
			} else {
				body = nil
			}
			if len(f) == 0 || l.nargs == maxFields {
				return l, false, ErrLine
			}
			for _, c := range f {
				if c < 0x21 || c == 0x7f {
					return l, false, ErrLine
				}
			}
			l.args[l.nargs] = f
			l.nargs++
			if sp < 0 {
				break
			}
		}
	}
	l.size = end + 1
	if isPayloadCmd(l.cmd) && (l.nargs >= 2 || l.is("NOT") && l.nargs == 1) {
		// MSG always ends in its byte count. The later commands' server
		// acknowledgements ("QRY 5", "ADL 7 OK") carry no payload.
		n, ok := atoi(l.arg(l.nargs - 1))
		switch {
		case ok && n > maxPayload, !ok && l.is("MSG"):
			return l, false, ErrLength
		case ok:
			l.payload = n
		}
	} else if l.is("MSG") {
		return l, false, ErrLength
	}
	return l, true, nil
}

// checkCmd rejects a start that is not three upper-case letters or three
// digits followed by a space or CR.
func checkCmd(b []byte) error {
	for i := 0; i < len(b) && i < 4; i++ {
		c := b[i]
		switch {
		case i < 3 && isUpper(c) && (i == 0 || isUpper(b[0])):
		case i < 3 && isDigit(c) && (i == 0 || isDigit(b[0])):
		case i == 3 && (c == ' ' || c == '\r'):
		default:
			return ErrCommand
		}
	}
	return nil
}

// atoi parses a decimal number of at most 9 digits.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// isEmail reports whether b looks like a passport: local@domain.tld, printable.
func isEmail(b []byte) bool {
	at := bytes.IndexByte(b, '@')
	if at < 1 || at > 128 || len(b) > 256 || bytes.Count(b, []byte{'@'}) != 1 {
		return false
	}
	dom := b[at+1:]
	dot := bytes.LastIndexByte(dom, '.')
	if dot < 1 || dot == len(dom)-1 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == ':' {
			return false
		}
	}
	return true
}

// isCookie reports whether b is a switchboard cookie: digits and dots with
// at least one dot ("17262740.1050826919.32308").
func isCookie(b []byte) bool {
	if len(b) < 3 || len(b) > 128 || !isDigit(b[0]) || !isDigit(b[len(b)-1]) {
		return false
	}
	dots := 0
	for _, c := range b {
		switch {
		case c == '.':
			dots++
		case !isDigit(c):
			return false
		}
	}
	return dots > 0
}

// isNumber reports whether b is 1 to 10 decimal digits.
func isNumber(b []byte) bool {
	if len(b) == 0 || len(b) > 10 {
		return false
	}
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// isMSNP reports whether b is "MSNP" and a version number.
func isMSNP(b []byte) bool {
	return len(b) > 4 && len(b) <= 8 && string(b[:4]) == "MSNP" && isNumber(b[4:])
}

// urlDecode decodes %XX escapes (friendly names, font names), keeping
// malformed escapes as they are; the result is at most len(b) bytes.
func urlDecode(b []byte) string {
	if bytes.IndexByte(b, '%') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) && unhex(b[i+1]) >= 0 && unhex(b[i+2]) >= 0 {
			out = append(out, byte(unhex(b[i+1])<<4|unhex(b[i+2])))
			i += 2
			continue
		}
		out = append(out, b[i])
	}
	return string(out)
}

// decodedLen is len(urlDecode(b)) without allocating.
func decodedLen(b []byte) int {
	n := 0
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) && unhex(b[i+1]) >= 0 && unhex(b[i+2]) >= 0 {
			i += 2
		}
		n++
	}
	return n
}

func unhex(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
