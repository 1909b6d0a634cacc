package odc

import "github.com/peerwatch/peerwatch/classify"

// probeBytes is what the probe looks at: magic, header length, type and
// subtype.
const probeBytes = 10

// probe accepts a direction that starts with an ODC2 header whose length,
// type and subtype are possible. It does not allocate.
func probe(in *classify.Input) classify.Result {
	switch err := checkStart(in.Data[:min(len(in.Data), probeBytes)]); {
	case err != nil:
		return classify.NoMatch
	case len(in.Data) < probeBytes:
		return classify.NeedMore
	}
	return classify.Match
}
