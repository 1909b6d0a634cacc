package gnutella

import (
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/flow"
)

// Probe bounds.
const (
	probeMax = 4096 // bytes per direction the probe reads
	// probeRun is how many consecutive plausible descriptors a stream
	// without handshake must show: one 23-byte header is easy to fake by
	// chance, three chained ones with fitting payloads are not.
	probeRun = 3
	// probeScan is how far into a mid-stream direction the probe looks for
	// the start of a descriptor.
	probeScan = 512
)

// probe recognises Gnutella in one direction's first bytes: a handshake
// line, a GIV line, a Gnutella HTTP transfer request, a Gnutella UDP
// datagram, or (mid-stream TCP only) a run of descriptors. It reads at most
// probeMax bytes and does not allocate.
func probe(in *classify.Input) classify.Result {
	d := in.Data[:min(len(in.Data), probeMax)]
	if in.UDP {
		if datagramKind(d) != dgNone {
			return classify.Match
		}
		return classify.NoMatch
	}
	if len(d) == 0 {
		return classify.NeedMore
	}
	switch d[0] {
	case 'G':
		if r := probeHandshake(d); r != classify.NoMatch {
			return r
		}
		if r := probeGIV(d, in.Dir); r != classify.NoMatch {
			return r
		}
		if r := probeHTTP(d, in.Dir); r != classify.NoMatch {
			return r
		}
	case 'H':
		if r := probeHTTP(d, in.Dir); r != classify.NoMatch {
			return r
		}
	}
	if in.MidStream {
		return probeRunAt(d)
	}
	return classify.NoMatch
}

// probeHandshake accepts "GNUTELLA CONNECT/<v>" or a response line once
// the first line is complete and well formed.
func probeHandshake(d []byte) classify.Result {
	if handshakeStart(d) != nil {
		return classify.NoMatch
	}
	end := indexByte(d, '\n')
	if end < 0 {
		if len(d) > 64 {
			return classify.NoMatch
		}
		return classify.NeedMore
	}
	line := d[:end]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	var hs handshake
	if parseFirstLine(line, &hs) != nil {
		return classify.NoMatch
	}
	return classify.Match
}

// probeGIV accepts "GIV <index>:<32 hex>/" from the originator.
func probeGIV(d []byte, dir flow.Dir) classify.Result {
	if dir != flow.Orig || !prefixOf(d, "GIV ") {
		return classify.NoMatch
	}
	end := indexByte(d, '\n')
	if end < 0 {
		if len(d) > maxLine {
			return classify.NoMatch
		}
		// Decide on the part we have: index and servent ID must fit.
		if _, ok := givPrefixOK(d); !ok {
			return classify.NoMatch
		}
		return classify.NeedMore
	}
	if _, err := parseGIV(d[:end]); err != nil {
		return classify.NoMatch
	}
	return classify.Match
}

// probeRunAt looks for probeRun chained plausible descriptors starting at
// one of the first probeScan offsets.
func probeRunAt(d []byte) classify.Result {
	need := false
	for off := 0; off < min(len(d), probeScan); off++ {
		// runAt's first descriptor needs a known type at byte 16: where
		// there is none it is a NoMatch, which a table lookup says
		// without parsing.
		if off+16 >= len(d) || !probeType[d[off+16]] {
			continue
		}
		switch runAt(d[off:]) {
		case classify.Match:
			return classify.Match
		case classify.NeedMore:
			need = true
		}
	}
	if need || len(d) < probeScan {
		if len(d) >= probeMax {
			return classify.NoMatch
		}
		return classify.NeedMore
	}
	return classify.NoMatch
}

// probeType holds the payload types runAt accepts for a descriptor.
var probeType = func() (t [256]bool) {
	for i := range t {
		t[i] = typeName(byte(i)) != "" && byte(i) != typeMojito
	}
	return t
}()

// runAt checks for probeRun chained plausible descriptors at the start of d.
func runAt(d []byte) classify.Result {
	for i := 0; i < probeRun; i++ {
		h, err := parseHeader(d)
		if err == ErrShort {
			if i == 0 || !plausibleStart(d) {
				return classify.NoMatch
			}
			return classify.NeedMore
		}
		if err != nil || h.typ == typeMojito || h.length > probePayload {
			return classify.NoMatch
		}
		if len(d) < headerLen+h.length {
			if i == 0 || !plausibleHeaderOnly(h) {
				return classify.NoMatch
			}
			return classify.NeedMore
		}
		if !plausible(h, d[headerLen:headerLen+h.length], probePayload) {
			return classify.NoMatch
		}
		d = d[headerLen+h.length:]
	}
	return classify.Match
}

// plausibleStart reports whether a partial header may still become valid.
func plausibleStart(d []byte) bool {
	if len(d) > 16 && (typeName(d[16]) == "" || d[16] == typeMojito) {
		return false
	}
	return !(len(d) > 17 && (d[17] == 0 || d[17] > maxHopsTTL)) && !(len(d) > 18 && d[18] > maxHopsTTL)
}

// plausibleHeaderOnly checks a header whose payload has not arrived.
func plausibleHeaderOnly(h header) bool {
	return typeName(h.typ) != "" && h.typ != typeMojito && plausibleHeader(h)
}
