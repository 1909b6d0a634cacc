package fasttrack

import (
	"math"

	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/flow"
)

// probe decides the payload-confirmed forms: a UDP discovery datagram that
// parses (parseUDP), a GIVE push line, or an HTTP head that carries a KaZaA
// marker (hasMarker). A plain HTTP request is NoMatch: the http carrier
// keeps it. It reads at most maxProbe bytes and allocates nothing.
func probe(in *classify.Input) classify.Result {
	d := in.Data
	if in.UDP {
		if _, err := parseUDP(d); err != nil || d[0] == udpAck {
			return classify.NoMatch
		}
		return classify.Match
	}
	if len(d) == 0 {
		return classify.NeedMore
	}
	if d[0] != 'G' && d[0] != 'H' {
		return classify.NoMatch
	}
	if d[0] == 'G' && len(d) > 1 && d[1] == 'I' {
		if in.Dir != flow.Orig {
			return classify.NoMatch
		}
		_, n, err := parseGive(d[:min(len(d), maxGive)])
		switch {
		case err != nil:
			return classify.NoMatch
		case n > 0:
			return classify.Match
		case len(d) >= maxGive:
			return classify.NoMatch
		}
		return classify.NeedMore
	}
	return probeHTTP(d[:min(len(d), maxProbe)], in.Dir == flow.Orig)
}

// probeHTTP accepts a request whose target is /.hash=<40 hex> (on its
// request line alone), or a complete request or response head with a
// header whose name starts with "X-Kazaa" or a "User-Agent: PeerEnabler/"
// (nDPI's two FastTrack markers).
func probeHTTP(d []byte, request bool) classify.Result {
	eol := indexByte(d, '\n')
	if eol < 0 {
		if len(d) >= maxProbe {
			return classify.NoMatch
		}
		return classify.NeedMore
	}
	line := d[:eol]
	if request {
		if !hasPrefix(line, "GET /") && !hasPrefix(line, "HEAD /") {
			return classify.NoMatch
		}
		sp := indexByte(line, ' ')
		rest := line[sp+1:]
		end := indexByte(rest, ' ')
		if end < 0 || !hasPrefix(rest[end+1:], "HTTP/1.") {
			return classify.NoMatch
		}
		if t := rest[:end]; len(t) == 47 && hasPrefix(t, "/.hash=") && isHex(t[7:]) {
			return classify.Match
		}
	} else if !hasPrefix(line, "HTTP/1.") {
		return classify.NoMatch
	}
	// Header lines up to the blank line.
	for off := eol + 1; ; {
		nl := indexByte(d[off:], '\n')
		if nl < 0 {
			if len(d) >= maxProbe {
				return classify.NoMatch
			}
			return classify.NeedMore
		}
		h := d[off : off+nl]
		if len(h) > 0 && h[len(h)-1] == '\r' {
			h = h[:len(h)-1]
		}
		if len(h) == 0 {
			return classify.NoMatch // the head ended without a marker
		}
		if hasPrefixFold(h, "x-kazaa") || hasPrefixFold(h, "user-agent: peerenabler/") {
			return classify.Match
		}
		off += nl + 1
	}
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

// hasPrefixFold is hasPrefix with ASCII letters compared case-insensitively
// (p is lower case).
func hasPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != p[i] {
			return false
		}
	}
	return true
}

// The encrypted session opening (PROTOCOL "Session establishment"): the
// client sends exactly 12 bytes (rand, outgoing seed, encryption type)
// before the server answers with 8 (incoming seed, encryption type), then
// everything is encrypted.
const (
	clientOpening = 12
	serverOpening = 8
	// entropySample is how many bytes after the openings are measured.
	entropySample = 64
	// minEntropy is the Shannon entropy (bits per byte) the sample must
	// reach. Over 100,000 samples of 64 random bytes the lowest was 5.30,
	// the median 5.77 (6 is the maximum for 64 bytes); English text gives
	// about 4, structured binary less.
	minEntropy = 5.2
	// sessionMaxBytes bounds what the session probe looks at.
	sessionMaxBytes = 512
)

// probeSession recognises the opening of an encrypted supernode session:
// a new TCP stream (handshake seen) whose originator sent exactly 12 bytes
// before the responder sent anything, a responder that starts with 8
// bytes, both openings not text, then encrypted data whose first
// entropySample bytes (both directions after the openings) are
// high-entropy. This is weak evidence: the session analyzer only calls
// Session.Tentative. Stateless: a NoMatch excludes the flow for good, so
// the order rules hold over the whole flow. It allocates nothing.
func probeSession(in *classify.Input) classify.Result {
	if in.UDP || in.MidStream {
		return classify.NoMatch
	}
	orig, resp := in.Data, in.Other
	if in.Dir == flow.Resp {
		orig, resp = in.Other, in.Data
	}
	switch {
	case len(resp) == 0:
		// Only the client has spoken: at most its 12 bytes.
		if len(orig) > clientOpening {
			return classify.NoMatch
		}
		return classify.NeedMore
	case len(orig) < clientOpening:
		return classify.NoMatch // the server spoke first, or early
	case len(resp) < serverOpening:
		if len(orig) > clientOpening {
			return classify.NoMatch // the client did not wait for the answer
		}
		return classify.NeedMore
	}
	if !opaque(orig[:clientOpening], 6) || !opaque(resp[:serverOpening], 5) {
		return classify.NoMatch
	}
	var sample [entropySample]byte
	n := copy(sample[:], resp[serverOpening:])
	n += copy(sample[n:], orig[clientOpening:])
	if n < entropySample {
		return classify.NeedMore
	}
	if entropy(sample[:]) < minEntropy {
		return classify.NoMatch
	}
	return classify.Match
}

// opaque reports whether an opening looks like binary key material: not
// all printable text, at least minDistinct distinct byte values.
func opaque(b []byte, minDistinct int) bool {
	var seen [256]bool
	distinct, text := 0, true
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			distinct++
		}
		if c < 0x20 && c != '\r' && c != '\n' && c != '\t' || c >= 0x7f {
			text = false
		}
	}
	return !text && distinct >= minDistinct
}

// entropy returns the Shannon entropy of b in bits per byte.
func entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var hist [256]uint16
	for _, c := range b {
		hist[c]++
	}
	n := float64(len(b))
	h := 0.0
	for _, k := range hist {
		if k > 0 {
			p := float64(k) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
