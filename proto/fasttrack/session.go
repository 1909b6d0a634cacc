package fasttrack

import (
	"encoding/binary"
	"net/netip"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// giftRand is the constant first word giFT-FastTrack sends (PROTOCOL:
// "giFT-FastTrack uses a constant (0xFA00B62B)"); KaZaA sends random values.
const giftRand = 0xFA00B62B

// session is the per-flow state of an encrypted supernode session. Its
// bytes cannot be read without the cipher, so it reports the opening once
// and consumes the rest.
type session struct {
	s        *analyzer.Session
	open     [2][]byte // the openings, up to their size
	reported bool
}

// newSession marks the flow tentative before anything is written for it:
// the opening sizes and the entropy are weak evidence, so the engine labels
// the flow kazaa only when another flow of the same hosts shows FastTrack by
// its payload (corroboration), and otherwise writes it unclassified.
func newSession(s *analyzer.Session) analyzer.Conn {
	s.Tentative(service, products[0])
	return &session{s: s}
}

// Feed keeps the two openings and reports them once both are complete.
func (c *session) Feed(dir flow.Dir, data []byte) (int, error) {
	d := dir & 1
	want := clientOpening
	if d == flow.Resp {
		want = serverOpening
	}
	if k := want - len(c.open[d]); k > 0 {
		c.open[d] = append(c.open[d], data[:min(k, len(data))]...)
	}
	if !c.reported && len(c.open[0]) == clientOpening && len(c.open[1]) == serverOpening {
		c.reported = true
		c.report()
	}
	return len(data), nil
}

// report emits the session as a direct event: the user node's connection to
// its supernode, whose address it exposes.
func (c *session) report() {
	f := fields("message", "session", "encrypted", true)
	cl, sv := c.open[flow.Orig], c.open[flow.Resp]
	f["client"] = "KaZaA"
	if binary.BigEndian.Uint32(cl[:4]) == giftRand {
		f["client"] = "giFT-FastTrack"
		c.s.Tentative(service, "giFT-FastTrack")
	}
	f["client_enc_type"] = binary.BigEndian.Uint32(cl[8:12])
	f["server_enc_type"] = binary.BigEndian.Uint32(sv[4:8])
	c.s.Emit(event.Event{Kind: event.Direct, Dir: flow.Resp, Fields: f,
		Direct: &event.DirectInfo{Addrs: []netip.AddrPort{c.s.Flow().Resp}, Outcome: event.Success}})
}
