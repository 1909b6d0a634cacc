package icqv5

import (
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/flow"
)

// probe accepts one datagram that is a whole ICQ v5 client packet (version
// 5, zero field, plausible UIN, known command after decryption, consistent
// checkcode) or a server packet sent from the server port 4000 (version 5,
// known command with room for its parameters, plausible UIN). Each UDP
// datagram is probed alone, so it never asks for more bytes. It does not
// allocate.
func probe(in *classify.Input) classify.Result {
	if _, _, err := parseClient(in.Data); err == nil {
		return classify.Match
	}
	// A server packet opens a flow only when the client's packets were
	// missed; the header is unscrambled and weaker, so the sender must use
	// the server port as well.
	src := in.Orig
	if in.Dir == flow.Resp {
		src = in.Resp
	}
	if src.Port() == serverPort {
		if _, err := parseServer(in.Data); err == nil {
			return classify.Match
		}
	}
	return classify.NoMatch
}
