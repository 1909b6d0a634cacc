package gnutella

import (
	"bytes"
	"encoding/base32"
	"strconv"

	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/httpwire"
)

// HTTP transfer forms (HUGE v0.94; gtk-gnutella uploads.c/downloads.c).
const (
	pathGet     = "/get/"
	pathURIRes  = "/uri-res/"
	pathGnut    = "/gnutella/"
	urnSHA1     = "urn:sha1:"
	urnBitprint = "urn:bitprint:"
	sha1Base32  = 32
	maxURI      = 256 // bytes of request target kept in records
)

// markerHeaders are header names only Gnutella servents send.
var markerHeaders = []string{
	"x-gnutella-content-urn", "x-gnutella-alternate-location", "x-alt", "x-nalt", "x-gnutella-",
}

// isMarker reports whether a header makes an HTTP message Gnutella's:
// a Gnutella-only header, a Gnutella content type, or a Gnutella client
// name in User-Agent/Server.
func isMarker(name, value []byte) bool {
	for _, m := range markerHeaders {
		if m[len(m)-1] == '-' {
			if len(name) > len(m) && bytes.EqualFold(name[:len(m)], []byte(m)) {
				return true
			}
		} else if bytes.EqualFold(name, []byte(m)) {
			return true
		}
	}
	switch {
	case bytes.EqualFold(name, []byte("user-agent")), bytes.EqualFold(name, []byte("server")):
		return productOf(value) != ""
	case bytes.EqualFold(name, []byte("accept")), bytes.EqualFold(name, []byte("content-type")):
		return bytes.Contains(value, []byte("application/x-gnutella"))
	}
	return false
}

// targetForm says how much a request target alone proves.
type targetForm uint8

const (
	formOther  targetForm = iota // needs a marker header
	formGet                      // /get/<index>/<name>: any web server could have it; needs a marker header
	formURIRes                   // /uri-res/N2R?urn:... (HUGE): Gnutella's own
	formGnut                     // /gnutella/... (THEX, push proxy, metadata, browse)
)

// formOf classifies a request target.
func formOf(t []byte) targetForm {
	switch {
	case bytes.HasPrefix(t, []byte(pathURIRes)):
		r := t[len(pathURIRes):]
		if len(r) > 3 && r[0] == 'N' && r[1] == '2' && bytes.Contains(r[:min(len(r), 12)], []byte("?urn:")) {
			return formURIRes
		}
	case bytes.HasPrefix(t, []byte(pathGnut)) && len(t) > len(pathGnut):
		return formGnut
	case bytes.HasPrefix(t, []byte(pathGet)):
		r := t[len(pathGet):]
		i := 0
		for i < len(r) && r[i] >= '0' && r[i] <= '9' {
			i++
		}
		if i > 0 && i < len(r) && r[i] == '/' {
			return formGet
		}
	}
	return formOther
}

// probeHTTP accepts a GET/HEAD request (either direction: after a GIV the
// responder asks) whose target is Gnutella's own (/uri-res/N2R?, /gnutella/)
// once the request line is complete, or whose complete head carries a
// Gnutella marker header; and a response head with such a marker. It does
// not allocate.
func probeHTTP(d []byte, dir flow.Dir) classify.Result {
	var start int
	switch {
	case prefixOf(d, "GET "):
		start = 4
	case prefixOf(d, "HEAD "):
		start = 5
	case prefixOf(d, "HTTP/1."):
		if len(d) < len("HTTP/1.") {
			return classify.NeedMore
		}
		return probeMarkers(d)
	default:
		return classify.NoMatch
	}
	if len(d) <= start {
		return classify.NeedMore
	}
	end := indexByte(d, '\n')
	if end < 0 {
		if len(d) > maxLine {
			return classify.NoMatch
		}
		return classify.NeedMore
	}
	line := d[:end]
	sp := bytes.IndexByte(line[start:], ' ')
	if sp <= 0 {
		return classify.NoMatch
	}
	target := line[start : start+sp]
	rest := bytes.TrimRight(line[start+sp+1:], "\r")
	if len(rest) != 8 || !bytes.HasPrefix(rest, []byte("HTTP/1.")) {
		return classify.NoMatch
	}
	switch formOf(target) {
	case formURIRes, formGnut:
		return classify.Match
	}
	return probeMarkers(d)
}

// probeMarkers scans a complete head for a marker header.
func probeMarkers(d []byte) classify.Result {
	n := headEnd(d)
	if n == 0 {
		if len(d) >= probeMax {
			return classify.NoMatch
		}
		return classify.NeedMore
	}
	_, rest := nextLine(d[:n])
	for len(rest) > 0 {
		var line []byte
		line, rest = nextLine(rest)
		c := bytes.IndexByte(line, ':')
		if c <= 0 {
			continue
		}
		if isMarker(bytes.TrimSpace(line[:c]), bytes.TrimSpace(line[c+1:])) {
			return classify.Match
		}
	}
	return classify.NoMatch
}

// sha1OfURN decodes the SHA-1 of "urn:sha1:<32 base32>" or
// "urn:bitprint:<32 base32>.<tiger>"; nil when v is neither.
func sha1OfURN(v []byte) []byte {
	var b32 []byte
	switch {
	case len(v) >= len(urnSHA1)+sha1Base32 && bytes.EqualFold(v[:len(urnSHA1)], []byte(urnSHA1)):
		b32 = v[len(urnSHA1) : len(urnSHA1)+sha1Base32]
	case len(v) >= len(urnBitprint)+sha1Base32 && bytes.EqualFold(v[:len(urnBitprint)], []byte(urnBitprint)):
		b32 = v[len(urnBitprint) : len(urnBitprint)+sha1Base32]
	default:
		return nil
	}
	out := make([]byte, 20)
	n, err := base32.StdEncoding.Decode(out, bytes.ToUpper(b32))
	if err != nil || n != 20 {
		return nil
	}
	return out
}

// canonURN returns "urn:sha1:<BASE32>" for a sha1 or bitprint URN, ""
// for anything else.
func canonURN(v []byte) string {
	if sha1OfURN(v) == nil {
		return ""
	}
	off := len(urnBitprint)
	if bytes.EqualFold(v[:len(urnSHA1)], []byte(urnSHA1)) {
		off = len(urnSHA1)
	}
	return urnSHA1 + string(bytes.ToUpper(v[off:off+sha1Base32]))
}

// contentRange parses "bytes first-last/total" (total may be "*": -1).
func contentRange(v []byte) (first, last, total int64, ok bool) {
	v = bytes.TrimSpace(v)
	if !bytes.HasPrefix(v, []byte("bytes")) {
		return 0, 0, 0, false
	}
	v = bytes.TrimLeft(v[5:], " =")
	dash := bytes.IndexByte(v, '-')
	slash := bytes.IndexByte(v, '/')
	if dash <= 0 || slash < dash {
		return 0, 0, 0, false
	}
	var err1, err2 error
	first, err1 = strconv.ParseInt(string(v[:dash]), 10, 64)
	last, err2 = strconv.ParseInt(string(v[dash+1:slash]), 10, 64)
	if err1 != nil || err2 != nil || last < first || first < 0 {
		return 0, 0, 0, false
	}
	total = -1
	if t := v[slash+1:]; string(t) != "*" {
		n, err := strconv.ParseInt(string(t), 10, 64)
		if err != nil || n <= last {
			return 0, 0, 0, false
		}
		total = n
	}
	return first, last, total, true
}

// fileNameOf returns the file name a transfer request or response names:
// /get/<index>/<name> (URL-escaped), or Content-Disposition's filename.
func fileNameOf(target, disposition []byte) string {
	if formOf(target) == formGet {
		r := target[len(pathGet):]
		r = r[bytes.IndexByte(r, '/')+1:]
		return pathName(r)
	}
	if i := bytes.Index(disposition, []byte("filename=")); i >= 0 {
		v := bytes.Trim(disposition[i+len("filename="):], "\" ")
		if j := bytes.IndexByte(v, '"'); j >= 0 {
			v = v[:j]
		}
		return pathName(v)
	}
	return ""
}

// pathName percent-decodes a name the way servents do: an escape that is
// not one stays as sent.
func pathName(b []byte) string { return string(httpwire.PathUnescape(b)) }
