package icqdc

import "github.com/peerwatch/peerwatch/classify"

// probe accepts a direction that starts with a whole, valid PEER_INIT of
// version 6, 7 or 8: exact length and size words, plausible UINs, zero
// padding, 16-bit ports and a known mode byte. It is bounded by the
// 50-byte frame and does not allocate.
func probe(in *classify.Input) classify.Result {
	ok, err := checkInit(in.Data[:min(len(in.Data), 2+initLenV7)])
	switch {
	case err != nil:
		return classify.NoMatch
	case ok:
		return classify.Match
	}
	return classify.NeedMore
}
