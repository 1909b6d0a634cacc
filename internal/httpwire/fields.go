package httpwire

import "bytes"

// Get returns the value of the first header field named name (compared
// case-insensitively), or nil if there is none.
func (r *Request) Get(name string) []byte { return get(r.Headers, name) }

// ContentLength returns the Content-Length and true, or 0 and false if the
// head has none or it is invalid (ParseRequestHead rejects invalid ones).
func (r *Request) ContentLength() (int64, bool) { return contentLength(r.Headers) }

// Chunked reports whether the final transfer coding is chunked.
func (r *Request) Chunked() bool { return chunked(r.Headers) }

// Framing returns how the request's body is delimited (RFC 9112 §6.3): by
// chunked coding, else by Content-Length, else it is empty. A
// Transfer-Encoding overrides a Content-Length. The results are the
// arguments of NewBody (closeDelimited is always false for requests).
func (r *Request) Framing() (length int64, isChunked bool) {
	if chunked(r.Headers) {
		return 0, true
	}
	n, _ := contentLength(r.Headers)
	return n, false
}

// Get returns the value of the first header field named name (compared
// case-insensitively), or nil if there is none.
func (r *Response) Get(name string) []byte { return get(r.Headers, name) }

// ContentLength returns the Content-Length and true, or 0 and false if the
// head has none or it is invalid (ParseResponseHead rejects invalid ones).
func (r *Response) ContentLength() (int64, bool) { return contentLength(r.Headers) }

// Chunked reports whether the final transfer coding is chunked.
func (r *Response) Chunked() bool { return chunked(r.Headers) }

// Framing returns how the response's body is delimited (RFC 9112 §6.3),
// given the method of the request it answers (nil if unknown): responses to
// HEAD, 1xx, 204 and 304 responses and 2xx responses to CONNECT have no
// body; otherwise a final chunked coding, else any other Transfer-Encoding
// (close-delimited), else a Content-Length, else the connection close
// delimits it. The results are the arguments of NewBody.
func (r *Response) Framing(method []byte) (length int64, isChunked, closeDelimited bool) {
	switch {
	case string(method) == "HEAD", r.Status < 200, r.Status == 204, r.Status == 304:
		return 0, false, false
	case string(method) == "CONNECT" && r.Status < 300:
		return 0, false, false
	}
	if te, ok := lastTransferCoding(r.Headers); ok {
		if bytes.EqualFold(te, []byte("chunked")) {
			return 0, true, false
		}
		return 0, false, true
	}
	if n, ok := contentLength(r.Headers); ok {
		return n, false, false
	}
	return 0, false, true
}

func get(hs []Header, name string) []byte {
	for i := range hs {
		if equalFoldString(hs[i].Name, name) {
			return hs[i].Value
		}
	}
	return nil
}

// equalFoldString compares ASCII case-insensitively without allocating.
func equalFoldString(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x|0x20 != y|0x20 || (x|0x20) < 'a' || (x|0x20) > 'z' {
			if x != y {
				return false
			}
		}
	}
	return true
}

func contentLength(hs []Header) (int64, bool) {
	n, err := framingLength(hs)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// framingLength returns the Content-Length, -1 if there is none, or
// ErrBadContentLength. A field may hold a list of identical values
// ("5, 5"), and several fields must agree (RFC 9112 §6.3 item 5).
func framingLength(hs []Header) (int64, error) {
	n := int64(-1)
	for i := range hs {
		if !equalFoldString(hs[i].Name, "content-length") {
			continue
		}
		v := hs[i].Value
		for {
			elem := v
			comma := bytes.IndexByte(v, ',')
			if comma >= 0 {
				elem, v = v[:comma], v[comma+1:]
			}
			m, ok := parseDecimal(trimOWS(elem))
			if !ok || (n >= 0 && m != n) {
				return 0, ErrBadContentLength
			}
			n = m
			if comma < 0 {
				break
			}
		}
	}
	return n, nil
}

// parseDecimal parses a non-empty run of ASCII digits that fits an int64.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		if n > (1<<63-1-9)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func chunked(hs []Header) bool {
	te, ok := lastTransferCoding(hs)
	return ok && bytes.EqualFold(te, []byte("chunked"))
}

// lastTransferCoding returns the name of the final coding of the last
// Transfer-Encoding field, without parameters, and whether there is one.
func lastTransferCoding(hs []Header) ([]byte, bool) {
	var v []byte
	found := false
	for i := range hs {
		if equalFoldString(hs[i].Name, "transfer-encoding") {
			v, found = hs[i].Value, true
		}
	}
	if !found {
		return nil, false
	}
	if i := bytes.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	if i := bytes.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return trimOWS(v), true
}
