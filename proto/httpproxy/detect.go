package httpproxy

import (
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/flow"
)

// maxProbe bounds the request line the probe waits for: a longer first
// line is left to the http carrier.
const maxProbe = 2048

// forwardMethods are the methods whose absolute-form requests are taken
// as forward proxying (RFC 9112 §3.2.2).
var forwardMethods = []string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"}

// probe accepts an originator whose first line is a proxy request line:
// "CONNECT" SP host ":" port SP "HTTP/1." DIGIT line-end (authority-form,
// RFC 9112 §3.2.3), or a method of forwardMethods SP an absolute http,
// https or ftp URI with a non-empty host SP "HTTP/1." DIGIT line-end. It
// reads at most maxProbe bytes and allocates nothing.
func probe(in *classify.Input) classify.Result {
	if in.Dir != flow.Orig {
		return classify.NoMatch
	}
	d := in.Data
	if len(d) > maxProbe {
		d = d[:maxProbe]
	}
	sp := 0
	for sp < len(d) && d[sp] != ' ' {
		if sp >= len("OPTIONS") || d[sp] < 'A' || d[sp] > 'Z' {
			return classify.NoMatch
		}
		sp++
	}
	if sp == len(d) {
		return classify.NeedMore
	}
	method := d[:sp]
	end := sp + 1
	for end < len(d) && d[end] > ' ' && d[end] != 0x7f {
		end++
	}
	if end == len(d) {
		if len(d) == maxProbe {
			return classify.NoMatch
		}
		return classify.NeedMore
	}
	if d[end] != ' ' {
		return classify.NoMatch
	}
	target := d[sp+1 : end]
	if string(method) == "CONNECT" {
		if _, _, ok := splitAuthority(target); !ok {
			return classify.NoMatch
		}
		if r := versionLine(d[end+1:]); r != classify.NoMatch {
			return r
		}
		return connectLineEnd(d[end+1:])
	}
	if !isForwardMethod(method) {
		return classify.NoMatch
	}
	u, ok := parseAbsolute(target)
	if !ok {
		return classify.NoMatch
	}
	if r := versionLine(d[end+1:]); r != classify.Match || !directSuspect(in) {
		return r
	}
	if len(u.host) == len(msnGateway) && hasPrefixFold(u.host, msnGateway) {
		return classify.NoMatch // the http carrier parses the MSN gateway
	}
	if isIMHost(u.host) {
		return classify.Match
	}
	return proxyFields(d, len(d) == maxProbe)
}

// directSuspect reports whether an absolute-form request may be going
// straight to the origin server rather than to a proxy: some clients
// (WeChat, Skype 1.x) send absolute URIs to the web server on port 80.
// Requests to another port, or to a private or loopback address (a LAN
// proxy), are taken as proxied without more evidence.
func directSuspect(in *classify.Input) bool {
	a := in.Resp.Addr()
	return in.Resp.Port() == 80 && !a.IsPrivate() && !a.IsLoopback()
}

// proxyFields looks for a field that only a request to a proxy carries
// (Proxy-Connection, Proxy-Authorization) in the head at the start of d:
// Match when one is there, NoMatch when the head ended without one (or
// full: the probe window is used up), else NeedMore.
func proxyFields(d []byte, full bool) classify.Result {
	for i := 0; i+1 < len(d); i++ {
		if d[i] != '\n' {
			continue
		}
		rest := d[i+1:]
		if len(rest) > 0 && (rest[0] == '\n' || rest[0] == '\r' && len(rest) > 1 && rest[1] == '\n') {
			return classify.NoMatch // the empty line: end of the head
		}
		if hasPrefixFold(rest, "proxy-connection:") || hasPrefixFold(rest, "proxy-authorization:") {
			return classify.Match
		}
	}
	if full {
		return classify.NoMatch
	}
	return classify.NeedMore
}

// isForwardMethod reports whether m is one of forwardMethods.
func isForwardMethod(m []byte) bool {
	for _, f := range forwardMethods {
		if string(m) == f {
			return true
		}
	}
	return false
}

// versionLine checks "HTTP/1." DIGIT, an optional CR and LF at the start
// of d.
func versionLine(d []byte) classify.Result {
	const v = "HTTP/1.?"
	for i := 0; i < len(v); i++ {
		if i == len(d) {
			return classify.NeedMore
		}
		if v[i] == '?' {
			if d[i] < '0' || d[i] > '9' {
				return classify.NoMatch
			}
		} else if d[i] != v[i] {
			return classify.NoMatch
		}
	}
	d = d[len(v):]
	if len(d) > 0 && d[0] == '\r' {
		d = d[1:]
	}
	switch {
	case len(d) == 0:
		return classify.NeedMore
	case d[0] == '\n':
		return classify.Match
	}
	return classify.NoMatch
}

// connectLineEnd accepts the rest of a malformed CONNECT line whose last
// token is still "HTTP/1." DIGIT, as open-proxy abusers send it
// ("CONNECT host:25 / HTTP/1.0"): printable bytes, then the version and
// the line end.
func connectLineEnd(d []byte) classify.Result {
	const v = "HTTP/1.?"
	for i, c := range d {
		if c == '\n' {
			line := d[:i]
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			if len(line) < len(v)+1 || line[len(line)-len(v)-1] != ' ' {
				return classify.NoMatch
			}
			if versionLine(line[len(line)-len(v):]) == classify.NoMatch {
				return classify.NoMatch
			}
			return classify.Match
		}
		if c < ' ' && c != '\r' || c == 0x7f {
			return classify.NoMatch
		}
	}
	return classify.NeedMore
}
