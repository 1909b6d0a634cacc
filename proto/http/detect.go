package http

import (
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/httpwire"
)

// longTarget is the length of printable request-target after which an
// unterminated request line counts as HTTP without waiting for the version:
// a known method, a space and this much URL is not a coincidence.
const longTarget = 64

// probe checks the shape of the first line: in the originator's direction
// method SP target SP "HTTP/1." DIGIT line-end (RFC 9112 §3), in the
// responder's "HTTP/1." DIGIT SP 3DIGIT (SP or line-end) (§4). It looks at
// no more than the first line and allocates nothing.
func probe(in *classify.Input) classify.Result {
	if in.Dir == flow.Resp {
		return probeStatusLine(in.Data)
	}
	return probeRequestLine(in.Data)
}

func probeRequestLine(d []byte) classify.Result {
	m := httpwire.MethodLen(d)
	if m == 0 {
		if len(d) < len("PROPPATCH ") && isMethodPrefix(d) {
			return classify.NeedMore
		}
		return classify.NoMatch
	}
	i := m + 1
	start := i
	for i < len(d) && d[i] > ' ' && d[i] != 0x7f {
		i++
	}
	if i == len(d) {
		if i-start >= longTarget {
			return classify.Match
		}
		return classify.NeedMore
	}
	if i == start || d[i] != ' ' {
		return classify.NoMatch
	}
	return matchLiteral(d[i+1:], "HTTP/1.?\r\n", true)
}

func probeStatusLine(d []byte) classify.Result {
	return matchLiteral(d, "HTTP/1.? ###\r\n", false)
}

// matchLiteral compares d with pattern, where '?' is any digit, '#' a digit
// (the first of a status code 1-9), '\r' an optional CR and '\n' a line end.
// In a status line the reason phrase may follow the code after a space.
func matchLiteral(d []byte, pattern string, request bool) classify.Result {
	j := 0
	for p := 0; p < len(pattern); p++ {
		if j == len(d) {
			return classify.NeedMore
		}
		c := d[j]
		switch pattern[p] {
		case '?':
			if c < '0' || c > '9' {
				return classify.NoMatch
			}
		case '#':
			if c < '0' || c > '9' || (pattern[p-1] == ' ' && c == '0') {
				return classify.NoMatch
			}
		case '\r':
			if c != '\r' {
				continue // optional: compare this byte with the next pattern byte
			}
		case '\n':
			if c == '\n' {
				return classify.Match
			}
			if !request && c == ' ' {
				return classify.Match // a reason phrase follows
			}
			return classify.NoMatch
		default:
			if c != pattern[p] {
				return classify.NoMatch
			}
		}
		j++
	}
	return classify.Match
}

// isMethodPrefix reports whether d is a proper prefix of "<METHOD> " for a
// known method.
func isMethodPrefix(d []byte) bool {
	for _, m := range methodNames {
		if len(d) <= len(m) && string(d) == m[:len(d)] {
			return true
		}
	}
	return false
}

// methodNames is httpwire's method list, fetched once.
var methodNames = httpwire.Methods()
