package ymsg

import (
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/flow"
)

// httpProbeMax bounds the request line the probe waits for.
const httpProbeMax = 2048

// httpProbe accepts an originator whose first line is a complete HTTP/1.x
// request line for one of the Yahoo forms (httpFormOf). It reads no more
// than httpProbeMax bytes and allocates nothing.
func httpProbe(in *classify.Input) classify.Result {
	if in.Dir != flow.Orig {
		return classify.NoMatch
	}
	d := in.Data[:min(len(in.Data), httpProbeMax)]
	var post bool
	switch {
	case hasPrefix(d, "GET "):
	case hasPrefix(d, "POST "):
		post = true
	case isStartOf(d, "GET ") || isStartOf(d, "POST "):
		return classify.NeedMore
	default:
		return classify.NoMatch
	}
	start := 4
	if post {
		start = 5
	}
	i := start
	for i < len(d) && d[i] > ' ' && d[i] != 0x7f {
		i++
	}
	if i == len(d) {
		if len(d) == httpProbeMax {
			return classify.NoMatch
		}
		return classify.NeedMore
	}
	if i == start || d[i] != ' ' {
		return classify.NoMatch
	}
	if httpFormOf(post, d[start:i]) == httpFormNone {
		return classify.NoMatch
	}
	return httpVersionLine(d[i+1:])
}

// httpVersionLine checks "HTTP/1." DIGIT [CR] LF.
func httpVersionLine(d []byte) classify.Result {
	const v = "HTTP/1."
	for j := 0; j < len(v); j++ {
		if j == len(d) {
			return classify.NeedMore
		}
		if d[j] != v[j] {
			return classify.NoMatch
		}
	}
	d = d[len(v):]
	if len(d) == 0 {
		return classify.NeedMore
	}
	if d[0] < '0' || d[0] > '9' {
		return classify.NoMatch
	}
	d = d[1:]
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

// hasPrefix reports whether b starts with p.
func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

// isStartOf reports whether b is a proper prefix of p.
func isStartOf(b []byte, p string) bool {
	return len(b) < len(p) && string(b) == p[:len(b)]
}
