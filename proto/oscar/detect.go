package oscar

import "github.com/peerwatch/peerwatch/classify"

// probe accepts a direction whose first bytes are the strict OSCAR signon
// frame of aim-oscar.md §1.4: '*', channel 1, a payload length of at least
// 4 and at most maxSignon, the version 00000001 and a TLV list that fills
// the frame exactly (the server hello is the bare 10-byte version frame).
// It allocates nothing and reads at most one frame.
func probe(in *classify.Input) classify.Result {
	ok, err := isSignon(in.Data[:min(len(in.Data), flapHeader+maxSignon)])
	switch {
	case err != nil:
		return classify.NoMatch
	case ok:
		return classify.Match
	}
	return classify.NeedMore
}
