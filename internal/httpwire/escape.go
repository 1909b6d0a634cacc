package httpwire

// Unhex returns the value of the hexadecimal digit c.
func Unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// PathUnescape percent-decodes a request path the way a lenient server
// does: a '%' not followed by two hexadecimal digits stays as it is, and a
// '+' stays a '+'. It never fails; the result is never longer than b.
func PathUnescape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) {
			h, ok1 := Unhex(b[i+1])
			l, ok2 := Unhex(b[i+2])
			if ok1 && ok2 {
				out = append(out, h<<4|l)
				i += 2
				continue
			}
		}
		out = append(out, b[i])
	}
	return out
}
