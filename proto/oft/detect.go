package oft

import "github.com/peerwatch/peerwatch/classify"

// probeBytes is what the probe looks at: magic, header length and type.
const probeBytes = 8

// probe accepts a direction that starts with an OFT header whose length
// and type are possible. It reads at most probeBytes and does not allocate.
func probe(in *classify.Input) classify.Result {
	switch err := checkStart(in.Data[:min(len(in.Data), probeBytes)]); {
	case err != nil:
		return classify.NoMatch
	case len(in.Data) < probeBytes:
		return classify.NeedMore
	}
	return classify.Match
}
