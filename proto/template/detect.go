package template

import "github.com/peerwatch/peerwatch/classify"

// probe accepts a direction whose first bytes are a well-formed header (or
// the start of one). It is bounded by maxHeader and does not allocate.
func probe(in *classify.Input) classify.Result {
	_, ok, err := parseHeader(in.Data[:min(len(in.Data), maxHeader)])
	switch {
	case err != nil:
		return classify.NoMatch
	case ok:
		return classify.Match
	}
	return classify.NeedMore
}
