package ymsg

import (
	"bytes"
	"strconv"
)

// The Yahoo forms a request line can carry (ymsg.md §3.1, §5).
const (
	httpFormNone     uint8 = iota
	httpFormNCCLogin       // GET/POST /config/ncclogin: the pager login, until mid-2002
	httpFormLogin          // GET /config/login?…login=…&passwd=…: its successor
	httpFormNotifyFT       // POST /notifyft: file upload to filetransfer.msg.yahoo.com
)

// httpFormNames are the values of the "form" field.
var httpFormNames = [...]string{"", "ncclogin", "login", "notifyft"}

// httpFormOf names the Yahoo form of a request target, or httpFormNone.
// An absolute-form target (through a proxy) must name a Yahoo host. It
// does not allocate.
func httpFormOf(post bool, target []byte) uint8 {
	host, path, query := httpSplitTarget(target)
	if host != nil && !containsFold(host, "yahoo.") {
		return httpFormNone
	}
	switch string(path) {
	case "/config/ncclogin":
		// POST sends the parameters in the body.
		if post || httpHasParam(query, "login") {
			return httpFormNCCLogin
		}
	case "/config/login":
		if !post && httpHasParam(query, "login") && httpHasParam(query, "passwd") {
			return httpFormLogin
		}
	case "/notifyft":
		if post {
			return httpFormNotifyFT
		}
	}
	return httpFormNone
}

// httpSplitTarget splits a request target into the authority of an
// absolute-form target (nil for origin-form), the path and the query
// (nil without '?'). A fragment is dropped.
func httpSplitTarget(t []byte) (host, path, query []byte) {
	if len(t) > 7 && equalFold(t[:7], "http://") {
		rest := t[7:]
		end := bytes.IndexAny(rest, "/?#")
		if end < 0 {
			return rest, nil, nil
		}
		host, t = rest[:end], rest[end:]
	}
	if i := bytes.IndexByte(t, '#'); i >= 0 {
		t = t[:i]
	}
	if i := bytes.IndexByte(t, '?'); i >= 0 {
		return host, t[:i], t[i+1:]
	}
	return host, t, nil
}

// httpParam returns the raw (still percent-encoded) value of the first
// parameter called name in an application/x-www-form-urlencoded string.
func httpParam(q []byte, name string) ([]byte, bool) {
	for len(q) > 0 {
		var kv []byte
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			kv, q = q[:i], q[i+1:]
		} else {
			kv, q = q, nil
		}
		k, v, _ := bytes.Cut(kv, []byte{'='})
		if string(k) == name {
			return v, true
		}
	}
	return nil, false
}

// httpHasParam reports whether q has a parameter called name.
func httpHasParam(q []byte, name string) bool {
	_, ok := httpParam(q, name)
	return ok
}

// httpMaxParam bounds a decoded user name or password.
const httpMaxParam = 256

// httpUnescape decodes '+' and %XX of a form value, keeping a malformed
// escape as is, and stops at httpMaxParam bytes.
func httpUnescape(v []byte) string {
	out := make([]byte, 0, min(len(v), httpMaxParam))
	for i := 0; i < len(v) && len(out) < httpMaxParam; i++ {
		c := v[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			c = unhex(v[i+1])<<4 | unhex(v[i+2])
			i += 2
		}
		out = append(out, c)
	}
	return string(out)
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// equalFold compares b with the lower-case ASCII string s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// containsFold reports whether b contains the lower-case ASCII string s,
// ignoring case.
func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if equalFold(b[i:i+len(s)], s) {
			return true
		}
	}
	return false
}

// httpCookie is one Y or T cookie seen in a header.
type httpCookie struct {
	name  string // "Y" or "T"
	value string
}

// httpMaxCookie bounds a cookie value kept.
const httpMaxCookie = 1024

// httpCookies appends the Y and T cookies of a Cookie header value
// ("Y=v=1&n=…; T=z=…"); with set, the value is one Set-Cookie header
// ("Y=v=1&n=…; path=/; domain=.yahoo.com") and only its first pair counts.
func httpCookies(dst []httpCookie, v []byte, set bool) []httpCookie {
	for len(v) > 0 {
		var pair []byte
		if i := bytes.IndexByte(v, ';'); i >= 0 {
			pair, v = v[:i], v[i+1:]
		} else {
			pair, v = v, nil
		}
		pair = bytes.TrimSpace(pair)
		k, val, ok := bytes.Cut(pair, []byte{'='})
		if ok && (string(k) == "Y" || string(k) == "T") && len(val) > 0 {
			dst = append(dst, httpCookie{name: string(k), value: string(val[:min(len(val), httpMaxCookie)])})
		}
		if set {
			break
		}
	}
	return dst
}

// httpFT is what the YMSG FILETRANSFER packet at the head of a /notifyft
// body says (gaim 0.75 yahoo_filexfer.c): 0 sender, 5 recipient, 27 file
// name, 28 size; the key 29 then starts the file's bytes.
type httpFT struct {
	service    uint16
	from, to   string
	name       string
	size       int64 // -1: not announced
	dataOffset int   // offset of the file's first byte in the body
}

// YMSG framing constants used by the /notifyft body.
const (
	httpYMSGHeader = 20
	httpYMSGSvcFT  = 0x46
	// httpMaxFTHead bounds the packet before the file bytes.
	httpMaxFTHead = 4096
)

var httpSep = []byte{0xC0, 0x80}

// httpParseFT walks the YMSG packet at the start of b up to the key 29. It
// returns ok once the data marker is found; ok false and a nil error when
// more bytes are needed; ErrHTTPUpload when b is not such a packet.
func httpParseFT(b []byte) (ft httpFT, ok bool, err error) {
	if len(b) < httpYMSGHeader {
		if !bytes.HasPrefix([]byte("YMSG"), b[:min(len(b), 4)]) {
			return ft, false, ErrHTTPUpload
		}
		return ft, false, nil
	}
	if string(b[:4]) != "YMSG" {
		return ft, false, ErrHTTPUpload
	}
	ft.service = uint16(b[10])<<8 | uint16(b[11])
	ft.size = -1
	pos := httpYMSGHeader
	for {
		k := bytes.Index(b[pos:], httpSep)
		if k < 0 {
			return ft, false, nil
		}
		key := b[pos : pos+k]
		pos += k + 2
		if string(key) == "29" {
			ft.dataOffset = pos
			return ft, true, nil
		}
		v := bytes.Index(b[pos:], httpSep)
		if v < 0 {
			return ft, false, nil
		}
		val := b[pos : pos+v]
		pos += v + 2
		switch string(key) {
		case "0":
			ft.from = string(val[:min(len(val), httpMaxParam)])
		case "5":
			ft.to = string(val[:min(len(val), httpMaxParam)])
		case "27":
			ft.name = string(val[:min(len(val), httpMaxFTHead)])
		case "28":
			if n, e := strconv.ParseInt(string(val), 10, 64); e == nil && n >= 0 {
				ft.size = n
			}
		}
	}
}
