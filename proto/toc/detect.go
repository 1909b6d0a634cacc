package toc

import (
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/flow"
)

// maxProbe is how far the probe looks: FLAPON, then the client's FLAP
// signon header and the 4-byte FLAP version.
const maxProbe = len(flapon) + frameHeader + 4

// probe accepts an originator stream that starts with "FLAPON\r\n\r\n"
// followed (when present) by a FLAP signon frame of FLAP version 1, and a
// responder stream (when present) that starts with a FLAP signon frame.
// It is bounded by maxProbe and does not allocate.
func probe(in *classify.Input) classify.Result {
	if in.Dir != flow.Orig {
		return classify.NoMatch
	}
	d := in.Data[:min(len(in.Data), maxProbe)]
	n := min(len(d), len(flapon))
	if string(d[:n]) != flapon[:n] {
		return classify.NoMatch
	}
	if !signonStart(d[n:]) || !signonStart(in.Other[:min(len(in.Other), frameHeader+4)]) {
		return classify.NoMatch
	}
	if n < len(flapon) {
		return classify.NeedMore
	}
	return classify.Match
}

// signonStart reports whether b can be the start of a FLAP signon frame:
// '*', channel 1, any sequence number, a length of at least 4, and the
// FLAP version 00 00 00 01.
func signonStart(b []byte) bool {
	for i, c := range b {
		switch {
		case i == 0 && c != '*',
			i == 1 && c != chanSignon,
			i >= 6 && i < 9 && c != 0,
			i == 9 && c != 1:
			return false
		}
	}
	return len(b) < frameHeader || int(b[4])<<8|int(b[5]) >= 4
}
