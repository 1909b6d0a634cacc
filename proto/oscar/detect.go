package oscar

import (
	"encoding/binary"

	"github.com/peerwatch/peerwatch/classify"
)

// probe accepts a direction whose first bytes are the strict OSCAR signon
// frame of aim-oscar.md §1.4: '*', channel 1, a payload length of at least
// 4 and at most maxSignon, the version 00000001 and a TLV list that fills
// the frame exactly (the server hello is the bare 10-byte version frame).
// On a flow picked up mid-stream it instead asks for midFrames consecutive
// channel-2 frames (§1.4 test 2). It allocates nothing and reads at most
// MaxBytes.
func probe(in *classify.Input) classify.Result {
	data := in.Data[:min(len(in.Data), flapHeader+maxSignon)]
	if in.MidStream && len(data) >= 2 && data[1] == chanData {
		return probeMid(data)
	}
	ok, err := isSignon(data)
	switch {
	case err != nil:
		return classify.NoMatch
	case ok:
		return classify.Match
	}
	return classify.NeedMore
}

// midFrames is how many whole SNAC frames a mid-stream pickup needs.
const midFrames = 2

// probeMid walks frames from the start of data: each must be a channel-2
// frame holding at least a SNAC header with a family of 0x0001-0x0025, and
// each sequence number must follow the previous one.
func probeMid(data []byte) classify.Result {
	var seq uint16
	for i := 0; i < midFrames; i++ {
		f, ok, err := parseFLAP(data)
		if err != nil || len(data) >= 2 && data[1] != chanData {
			return classify.NoMatch
		}
		if len(data) >= flapHeader {
			if n := binary.BigEndian.Uint16(data[4:6]); n < snacHeader {
				return classify.NoMatch
			}
		}
		if len(data) >= flapHeader+2 {
			if fam := binary.BigEndian.Uint16(data[6:8]); fam == 0 || fam > 0x25 {
				return classify.NoMatch
			}
		}
		if !ok {
			return classify.NeedMore
		}
		if i > 0 && f.seq != seq+1 {
			return classify.NoMatch
		}
		seq = f.seq
		data = data[f.size:]
	}
	return classify.Match
}
