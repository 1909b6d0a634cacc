package ymsg

import "github.com/peerwatch/peerwatch/classify"

// Probe bounds: probeWindow is the most a probe reads; probePDUs how many
// consecutive PDUs it walks.
const (
	probeWindow = 1024
	probePDUs   = 2
)

// probe accepts a direction that starts with a YMSG header whose payload is
// a well-formed key/value list (ymsg.md §1 "Identification", nDPI yahoo.c):
// the 4-byte magic, then a payload whose keys are decimal numbers between
// C0 80 separators. It walks up to probePDUs consecutive PDUs by their
// lengths; each following one must start with the magic. It matches when
// a PDU ends exactly at the end of the data (one PDU per segment, nDPI's
// test), when the next PDU's header follows, or when a well-formed payload
// fills the probe window. It reads at most probeWindow bytes and allocates
// nothing.
func probe(in *classify.Input) classify.Result {
	data := in.Data[:min(len(in.Data), probeWindow)]
	full := len(in.Data) >= probeWindow
	for i := 0; ; i++ {
		h, ok, err := parseHeader(data)
		switch {
		case err != nil:
			return classify.NoMatch
		case !ok:
			if i > 0 && len(data) >= len(magic) {
				return classify.Match // a second header's magic follows a whole PDU
			}
			return classify.NeedMore
		}
		end := min(len(data), h.size())
		if !checkFields(data[headerLen:end]) {
			return classify.NoMatch
		}
		if h.size() > len(data) {
			if full {
				return classify.Match
			}
			return classify.NeedMore
		}
		if !wholeFields(data[headerLen:end]) {
			return classify.NoMatch
		}
		data = data[end:]
		if len(data) == 0 || i+1 == probePDUs {
			return classify.Match
		}
	}
}

// wholeFields reports whether a complete payload is a well-formed list:
// empty, or ending in a separator after a value.
func wholeFields(p []byte) bool {
	it := fieldIter{b: p}
	for {
		_, ok, err := it.next()
		if err != nil {
			return false
		}
		if !ok {
			return true
		}
	}
}
