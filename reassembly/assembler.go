package reassembly

import (
	"strconv"
	"time"

	"github.com/peerwatch/peerwatch/decode"
	"github.com/peerwatch/peerwatch/flow"
)

// Default limits used for Config fields left at zero.
const (
	// DefaultMaxBufferedPerDir is the default Config.MaxBufferedPerDir, in bytes.
	DefaultMaxBufferedPerDir = 256 << 10
	// DefaultMaxBufferedTotal is the default Config.MaxBufferedTotal, in bytes.
	DefaultMaxBufferedTotal = 64 << 20
	// DefaultMaxSegmentsPerDir is the default Config.MaxSegmentsPerDir.
	DefaultMaxSegmentsPerDir = 1024
)

// maxJump bounds how far ahead of the expected sequence number an ACK may
// point and still declare a gap. Anything further is taken as garbage (a
// forged or corrupt ACK), not as capture loss.
const maxJump = 1 << 30

// defaultWindow is the receive window assumed before the receiver has sent
// a packet of its own.
const defaultWindow = 65535

// Event names handed to Handler.Event. They follow the anomaly naming of
// event/vocab.go (<proto>_<what>) with "stream" as the protocol.
const (
	// EventOverlapDifferent is reported when a segment's bytes differ from
	// buffered bytes at the same sequence numbers; the buffered ones are kept.
	EventOverlapDifferent = "stream_overlap_different"
	// EventBufferLimit is reported when a buffer or segment limit forced the
	// stream to skip ahead over a hole.
	EventBufferLimit = "stream_buffer_limit"
	// EventGapAcked is reported when the peer acknowledged bytes the capture
	// never held, so the stream moved on past them.
	EventGapAcked = "stream_gap_acked"
	// EventRSTOutOfWindow is reported for an RST ignored because its sequence
	// number lay outside the receiver's window.
	EventRSTOutOfWindow = "stream_rst_out_of_window"
	// EventFINOutOfWindow is reported for a FIN ignored because it lay
	// outside the receiver's window.
	EventFINOutOfWindow = "stream_fin_out_of_window"
)

// Config holds the memory limits of an Assembler. Zero or negative fields
// take their defaults.
type Config struct {
	// MaxBufferedPerDir is the most out-of-order bytes buffered for one
	// direction of one flow (default 256 KiB).
	MaxBufferedPerDir int
	// MaxBufferedTotal is the most out-of-order bytes buffered across all
	// flows of one Assembler (default 64 MiB).
	MaxBufferedTotal int
	// MaxSegmentsPerDir is the most out-of-order segments buffered for one
	// direction of one flow (default 1024).
	MaxSegmentsPerDir int
	// KeepDelivered is how many of the most recently delivered bytes are
	// kept per direction to compare retransmissions against (default 0: none,
	// so retransmissions of delivered bytes are dropped unchecked). The
	// buffers are taken when a flow's state is created and cost
	// 2*KeepDelivered bytes per live flow, outside the buffer limits.
	KeepDelivered int
}

func (c Config) withDefaults() Config {
	if c.MaxBufferedPerDir <= 0 {
		c.MaxBufferedPerDir = DefaultMaxBufferedPerDir
	}
	if c.MaxBufferedTotal <= 0 {
		c.MaxBufferedTotal = DefaultMaxBufferedTotal
	}
	if c.MaxSegmentsPerDir <= 0 {
		c.MaxSegmentsPerDir = DefaultMaxSegmentsPerDir
	}
	if c.KeepDelivered < 0 {
		c.KeepDelivered = 0
	}
	return c
}

// Chunk is in-order data for one direction of a flow. Gap bytes are missing
// immediately before Data. Data is valid only during the Handler.Data call;
// a handler that needs it later must copy it. Data is empty only in the last
// chunk of a direction, delivered by Close to report a trailing gap.
type Chunk struct {
	Dir  flow.Dir  // direction the bytes travelled
	Data []byte    // the bytes, in order; valid only during the call
	Gap  int       // bytes missing before Data, 0 if none
	Time time.Time // capture time of the packet whose Add delivered the chunk (for Close, the flow's last packet)
	// Index is the capture index of the packet whose Add delivered the chunk
	// (for Close, the flow's last packet). It never decreases within a flow,
	// so records stamped with it stay in capture order.
	Index uint64
}

// Handler receives reassembled data. Calls for one flow come from the
// goroutine calling Add and Close, in order: within one direction, chunks
// arrive in sequence order and never overlap. A Handler must not call back
// into the Assembler.
type Handler interface {
	// Data receives the next in-order chunk of one direction. c.Data is valid
	// only during the call.
	Data(f *flow.Flow, c Chunk)
	// Event reports a stream anomaly by name (the Event* constants) with a
	// human-readable detail. Each name is reported at most 16 times per
	// flow; Stats counts every occurrence.
	Event(f *flow.Flow, name string, detail string)
}

// Stats counts what an Assembler did since New.
type Stats struct {
	Gaps            uint64 // chunks delivered with Gap > 0 (a trailing gap at Close counts too)
	GapBytes        uint64 // sum of their Gap
	Overlaps        uint64 // segments that overlapped buffered bytes
	OverlapsDiffer  uint64 // of those, segments whose overlapping bytes differed (first wins)
	Retransmissions uint64 // segments with no new bytes (all delivered or buffered already), dropped
	BufferLimit     uint64 // skips forced by a buffer or segment limit
	AckGaps         uint64 // gaps declared because the peer acknowledged unseen bytes
	RSTOutOfWindow  uint64 // RSTs ignored because their seq was outside the window
	FINOutOfWindow  uint64 // FINs ignored because their seq was outside the window
	AfterClose      uint64 // segments dropped because they lie beyond an accepted FIN or follow an accepted RST
	Buffered        int    // out-of-order bytes buffered now
	PeakBuffered    int    // most out-of-order bytes ever buffered at once
	Streams         int    // flows with live state now
}

// Assembler reassembles the TCP streams of the flows of one flow table. It
// is not safe for concurrent use: each worker owns one.
type Assembler struct {
	cfg   Config
	h     Handler
	conns []conn // indexed by flow.Flow.Slot
	pool  pool
	stats Stats
}

// New returns an Assembler delivering to h with the limits of cfg. A nil h
// discards everything (useful to measure).
func New(cfg Config, h Handler) *Assembler {
	cfg = cfg.withDefaults()
	if h == nil {
		h = discard{}
	}
	a := &Assembler{cfg: cfg, h: h}
	a.pool.init(max(cfg.MaxBufferedPerDir, cfg.KeepDelivered), cfg.MaxBufferedTotal/4)
	return a
}

// discard is the Handler of an Assembler given none.
type discard struct{}

func (discard) Data(*flow.Flow, Chunk)           {}
func (discard) Event(*flow.Flow, string, string) {}

// Stats returns the counters and current buffer use.
func (a *Assembler) Stats() Stats {
	return a.stats
}

// Event kinds, indexing conn.events.
const (
	evOverlapDifferent = iota
	evBufferLimit
	evGapAcked
	evRSTOutOfWindow
	evFINOutOfWindow
	numEvents
)

// maxEvents is how many times each event is reported per flow. Every
// occurrence is counted in Stats; the cap keeps a flood of forged RSTs or
// overlaps from becoming a flood of records.
const maxEvents = 16

// allow reports whether event kind k may still be reported for f, and
// counts it.
func (a *Assembler) allow(f *flow.Flow, k int) bool {
	c := &a.conns[f.Slot]
	if c.events[k] >= maxEvents {
		return false
	}
	c.events[k]++
	return true
}

// conn is the reassembly state of one flow.
type conn struct {
	events    [numEvents]uint8 // events reported so far, by kind
	active    bool
	reset     bool // an RST was accepted: no more data is taken
	id        uint64
	lastTime  time.Time
	lastIndex uint64
	dirs      [2]half
}

// state returns the flow's conn, creating it on first use. A slot that still
// holds another flow's state (the table reused it without Close) is freed
// silently first.
func (a *Assembler) state(f *flow.Flow) *conn {
	s := int(f.Slot)
	if s >= len(a.conns) {
		if s < cap(a.conns) {
			a.conns = a.conns[:s+1]
		} else {
			n := make([]conn, s+1, 2*s+16)
			copy(n, a.conns)
			a.conns = n
		}
	}
	c := &a.conns[s]
	if c.active && c.id != f.ID {
		a.free(c)
	}
	if !c.active {
		c.active = true
		c.id = f.ID
		a.stats.Streams++
		if k := a.cfg.KeepDelivered; k > 0 {
			for d := range c.dirs {
				c.dirs[d].kept = a.pool.get(k)
			}
		}
	}
	return c
}

// free drops a conn's buffers without delivering them and resets it,
// keeping the segment slices' capacity for the slot's next flow.
func (a *Assembler) free(c *conn) {
	for d := range c.dirs {
		h := &c.dirs[d]
		for i := range h.segs {
			a.release(h, &h.segs[i])
		}
		if h.kept != nil {
			a.pool.put(h.kept)
		}
		segs := h.segs[:0]
		if cap(segs) > 64 {
			segs = nil // do not pin a flood's worth of descriptors to the slot
		}
		*h = half{segs: segs}
	}
	*c = conn{dirs: c.dirs}
	a.stats.Streams--
}

// Add processes one TCP packet of flow f travelling in direction dir. index
// is the packet's capture index. Packets that are not TCP are ignored.
// f.Slot indexes the Assembler's slab of per-flow state, which grows to the
// largest slot seen, so slots must be bounded by the flow table's size; a
// slot holding another flow's state (by f.ID) is reset first.
func (a *Assembler) Add(f *flow.Flow, dir flow.Dir, p *decode.Packet, index uint64) {
	if p.Proto != decode.TCP || dir > flow.Resp {
		return
	}
	c := a.state(f)
	c.lastTime, c.lastIndex = p.Timestamp, index
	h := &c.dirs[dir]
	o := &c.dirs[dir.Other()]
	flags := p.TCP.Flags
	seq := p.TCP.Seq

	if flags&decode.RST != 0 {
		a.rst(f, c, h, o, seq)
		return
	}
	h.win, h.winSeen = uint32(p.TCP.Window), true
	if c.reset {
		if len(p.Payload) > 0 || p.Missing > 0 {
			a.stats.AfterClose++
		}
		return
	}

	dataSeq := seq
	if flags&decode.SYN != 0 {
		dataSeq = seq + 1 // the SYN takes one sequence number
	}
	if !h.started {
		h.started = true
		h.next = dataSeq
	}

	missing := p.Missing
	if missing < 0 {
		missing = 0
	}
	if len(p.Payload) > maxJump || missing > maxJump-len(p.Payload) {
		missing = 0 // impossible for a real segment; keep the arithmetic sane
	}
	if flags&decode.FIN != 0 {
		a.fin(f, h, o, dataSeq+uint32(len(p.Payload)+missing), len(p.Payload)+missing)
	}
	if len(p.Payload) > 0 || missing > 0 {
		a.segment(f, dir, h, dataSeq, p.Payload, missing, p.Timestamp, index)
	}
	a.finReached(h)

	if flags&decode.ACK != 0 {
		a.ackGap(f, dir.Other(), o, p.TCP.Ack, p.Timestamp, index)
	}
}

// rst decides whether an RST sent by h (received by o) is believable: its
// seq must lie within the receiver's window of what h is expected to send
// next. An RST in a direction with no reference point is accepted: there is
// nothing of that direction to protect.
func (a *Assembler) rst(f *flow.Flow, c *conn, h, o *half, seq uint32) {
	if c.reset {
		return
	}
	if h.started {
		off := diff(seq, h.next)
		if off < 0 || uint32(off) > o.window() {
			a.stats.RSTOutOfWindow++
			if a.allow(f, evRSTOutOfWindow) {
				a.h.Event(f, EventRSTOutOfWindow, "seq "+strconv.FormatUint(uint64(seq), 10)+
					" expected "+strconv.FormatUint(uint64(h.next), 10)+
					" window "+strconv.FormatUint(uint64(o.window()), 10))
			}
			return
		}
	}
	c.reset = true
}

// fin records the end of h's stream at end, if end is plausible: not before
// what was already delivered and within the receiver's window (plus the
// segment's own length) of it. The first accepted FIN wins.
func (a *Assembler) fin(f *flow.Flow, h, o *half, end uint32, segLen int) {
	if h.fin {
		return
	}
	off := diff(end, h.next)
	if off < 0 || int64(off) > int64(o.window())+int64(segLen) {
		a.stats.FINOutOfWindow++
		if a.allow(f, evFINOutOfWindow) {
			a.h.Event(f, EventFINOutOfWindow, "fin at "+strconv.FormatUint(uint64(end), 10)+
				" expected "+strconv.FormatUint(uint64(h.next), 10))
		}
		return
	}
	h.fin = true
	h.finSeq = end
	// Buffered data beyond the FIN can never be delivered.
	for i := len(h.segs) - 1; i >= 0; i-- {
		s := &h.segs[i]
		if diff(s.seq, end) >= 0 {
			a.release(h, s)
			h.segs = h.segs[:i]
			a.stats.AfterClose++
			continue
		}
		if diff(s.end(), end) > 0 {
			cut := int(diff(s.end(), end))
			if cut <= s.missing {
				s.missing -= cut
			} else {
				cut -= s.missing
				s.missing = 0
				a.shrink(h, s, len(s.data)-cut)
			}
		}
		break
	}
}

// finReached consumes the FIN's sequence number once everything before it
// has been delivered, so that the peer's ACK of the FIN is not a gap.
func (a *Assembler) finReached(h *half) {
	if h.fin && !h.finDone && h.next == h.finSeq {
		h.next++
		h.finDone = true
	}
}

// ackGap applies the ACK rule: o's bytes up to ack were received by the
// peer, so any of them still missing here were lost by the capture and will
// never be retransmitted. Buffered data beyond each hole is delivered with
// the hole as its gap; a hole with nothing buffered after it becomes a
// pending gap reported with the next data.
func (a *Assembler) ackGap(f *flow.Flow, od flow.Dir, o *half, ack uint32, t time.Time, index uint64) {
	if !o.started || o.finDone {
		return
	}
	limit := ack
	if o.fin && diff(limit, o.finSeq) > 0 {
		limit = o.finSeq
	}
	jump := diff(limit, o.next)
	if jump <= 0 || jump > maxJump {
		return
	}
	a.stats.AckGaps++
	if a.allow(f, evGapAcked) {
		a.h.Event(f, EventGapAcked, strconv.Itoa(int(jump))+" bytes acknowledged but not captured in direction "+od.String())
	}
	for diff(limit, o.next) > 0 {
		// A segment starting right at limit follows the hole: deliver it too.
		if len(o.segs) > 0 && diff(o.segs[0].seq, limit) <= 0 {
			a.skipTo(o, o.segs[0].seq)
			a.drain(f, od, o, t, index)
			continue
		}
		a.skipTo(o, limit)
	}
	a.finReached(o)
}

// skipTo declares the bytes from h.next to s missing.
func (a *Assembler) skipTo(h *half, s uint32) {
	if n := diff(s, h.next); n > 0 {
		h.pending += int(n)
		h.next = s
	}
}

// deliver hands data to the handler with any pending gap before it.
func (a *Assembler) deliver(f *flow.Flow, d flow.Dir, h *half, data []byte, t time.Time, index uint64) {
	if len(data) == 0 {
		return
	}
	gap := h.pending
	if gap > 0 {
		a.stats.Gaps++
		a.stats.GapBytes += uint64(gap)
		h.pending = 0
		h.keptLen = 0 // what is kept must run up to next without a hole
	}
	h.keep(data)
	a.h.Data(f, Chunk{Dir: d, Data: data, Gap: gap, Time: t, Index: index})
}

// drain delivers the buffered segments that now follow h.next without a hole.
func (a *Assembler) drain(f *flow.Flow, d flow.Dir, h *half, t time.Time, index uint64) {
	n := 0
	for n < len(h.segs) && h.segs[n].seq == h.next {
		s := &h.segs[n]
		a.deliver(f, d, h, s.data, t, index)
		h.next = s.end()
		h.pending += s.missing
		a.release(h, s)
		n++
	}
	if n > 0 {
		m := copy(h.segs, h.segs[n:])
		clear(h.segs[m:])
		h.segs = h.segs[:m]
	}
	a.finReached(h)
}

// Close delivers what is buffered for f in sequence order, each direction
// in turn (orig first), with the holes between segments as gaps, reports a
// trailing gap as an empty chunk, and frees the flow's state. It does
// nothing for a flow with no state.
func (a *Assembler) Close(f *flow.Flow) {
	s := int(f.Slot)
	if s >= len(a.conns) {
		return
	}
	c := &a.conns[s]
	if !c.active || c.id != f.ID {
		return
	}
	for d := flow.Orig; d <= flow.Resp; d++ {
		h := &c.dirs[d]
		for len(h.segs) > 0 {
			a.skipTo(h, h.segs[0].seq)
			a.drain(f, d, h, c.lastTime, c.lastIndex)
		}
		if h.pending > 0 {
			a.stats.Gaps++
			a.stats.GapBytes += uint64(h.pending)
			a.h.Data(f, Chunk{Dir: d, Gap: h.pending, Time: c.lastTime, Index: c.lastIndex})
			h.pending = 0
		}
	}
	a.free(c)
}

// diff returns a-b in serial-number arithmetic (RFC 1982): positive when a
// is after b, valid while the two are less than 2^31 apart.
func diff(a, b uint32) int32 { return int32(a - b) }
