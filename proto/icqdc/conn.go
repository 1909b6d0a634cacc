package icqdc

import (
	"encoding/binary"
	"net/netip"
	"strconv"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// conn is the per-flow state of one peer connection.
type conn struct {
	s     *analyzer.Session
	uin   [2]string // each side's UIN from its PEER_INIT
	inits [2]bool   // PEER_INIT seen per direction
	lost  [2]bool   // a direction lost bytes
	count [2]map[string]int
}

func newConn(s *analyzer.Session) analyzer.Conn { return &conn{s: s} }

// Feed parses whole length-prefixed packets. The first packet of a
// direction that sends one must be a PEER_INIT; later ones are counted by
// type (v6+ message bodies are scrambled, see README Limitations).
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	if c.lost[dir] {
		return len(data), nil
	}
	n := 0
	for len(data)-n >= 2 {
		size := int(binary.LittleEndian.Uint16(data[n:]))
		if len(data)-n < 2+size {
			break
		}
		frame := data[n : n+2+size]
		if size == 0 {
			n += 2
			continue
		}
		if frame[2] == typeInit && !c.inits[dir] {
			p, err := parseInit(frame)
			if err != nil {
				return n, err
			}
			c.inits[dir] = true
			c.s.Confirm()
			c.init(dir, p)
		} else {
			if c.count[dir] == nil {
				c.count[dir] = map[string]int{}
			}
			c.count[dir][packetName(frame[2])]++
		}
		n += 2 + size
	}
	return n, nil
}

// init reports the UINs and the addresses a PEER_INIT advertises.
func (c *conn) init(dir flow.Dir, p peerInit) {
	from, to := strconv.FormatUint(uint64(p.from), 10), strconv.FormatUint(uint64(p.to), 10)
	c.uin[dir] = from
	fields := map[string]any{"packet": "peer_init", "version": int(p.version), "mode": modes[p.mode]}
	addrs := p.addrs()
	if len(addrs) == 0 {
		c.s.Anomaly("icqdc_no_address", "peer init advertises no usable address")
		return
	}
	c.s.Emit(event.Event{Kind: event.Direct, Dir: dir, Feature: event.DirectIM,
		Users: event.Users{Local: from, Peer: to}, Fields: fields,
		Direct: &event.DirectInfo{Addrs: addrs}})
}

// Gap stops parsing a direction: frames cannot be found again.
func (c *conn) Gap(dir flow.Dir, size int) {
	c.lost[dir] = true
	c.s.Anomaly("icqdc_gap", "bytes missing: packets of this direction are skipped")
}

// End reports the connection as seen: accepted when both sides sent
// their PEER_INIT and one acknowledged, with the number of packets of each
// type per direction (message bodies are scrambled: counts only).
func (c *conn) End(why flow.EndReason) {
	if !c.inits[flow.Orig] && !c.inits[flow.Resp] {
		return
	}
	out := event.Pending
	if c.inits[flow.Orig] && c.inits[flow.Resp] && (c.count[flow.Orig]["peer_init_ack"] > 0 || c.count[flow.Resp]["peer_init_ack"] > 0) {
		out = event.Accepted
	}
	fields := map[string]any{"packet": "summary"}
	for dir, key := range [2]string{"packets_orig", "packets_resp"} {
		if len(c.count[dir]) > 0 {
			fields[key] = c.count[dir]
		}
	}
	f := c.s.Flow()
	c.s.Emit(event.Event{Kind: event.Direct, Dir: flow.Orig, Feature: event.DirectIM,
		Users: event.Users{Local: c.uin[flow.Orig], Peer: c.uin[flow.Resp]}, Fields: fields,
		Direct: &event.DirectInfo{Addrs: []netip.AddrPort{f.Resp}, Outcome: out}})
}
