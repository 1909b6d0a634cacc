package reassembly

import (
	"bytes"
	"math/bits"
	"strconv"
	"time"

	"github.com/peerwatch/peerwatch/flow"
)

// half is the state of one direction of a flow.
type half struct {
	started bool   // next is known: set by the first segment (or SYN) seen
	fin     bool   // a FIN was accepted; finSeq is valid
	finDone bool   // everything before the FIN was delivered and next is past it
	winSeen bool   // win is valid
	next    uint32 // sequence number of the next byte to deliver
	finSeq  uint32 // sequence number of the FIN: the stream's end
	win     uint32 // last window this direction advertised, unscaled
	pending int    // bytes declared missing, to report as the next chunk's Gap
	// buffered is the number of data bytes held in segs.
	buffered int
	// segs holds out-of-order data: sorted, non-overlapping, every segment
	// strictly after next.
	segs []seg
	// kept is a ring of the last delivered bytes (Config.KeepDelivered):
	// keptLen bytes ending at keptHead. Unless pending is set, they are the
	// bytes just before next (before finSeq once finDone).
	kept     []byte
	keptHead int
	keptLen  int
}

// keep appends delivered bytes to the ring.
func (h *half) keep(data []byte) {
	k := len(h.kept)
	if k == 0 {
		return
	}
	if len(data) >= k {
		copy(h.kept, data[len(data)-k:])
		h.keptHead, h.keptLen = 0, k
		return
	}
	n := copy(h.kept[h.keptHead:], data)
	copy(h.kept, data[n:])
	h.keptHead = (h.keptHead + len(data)) % k
	h.keptLen = min(h.keptLen+len(data), k)
}

// differsKept reports whether data, starting at seq, differs from kept
// delivered bytes at the same sequence numbers.
func (h *half) differsKept(seq uint32, data []byte) bool {
	if h.keptLen == 0 || h.pending > 0 {
		return false
	}
	end := h.next
	if h.finDone {
		end-- // the FIN's sequence number carries no byte
	}
	lo, hi := end-uint32(h.keptLen), seq+uint32(len(data))
	if diff(seq, lo) > 0 {
		lo = seq
	}
	if diff(hi, end) > 0 {
		hi = end
	}
	k := len(h.kept)
	for s := lo; diff(hi, s) > 0; s++ {
		// Ring position of s: keptHead is the slot just after end-1.
		i := (h.keptHead - int(diff(end, s)) + k) % k
		if h.kept[i] != data[diff(s, seq)] {
			return true
		}
	}
	return false
}

// window returns the receive window h last advertised. The scale factor is
// not known (the decoder does not keep TCP options), so the raw value is a
// lower bound of the real window.
func (h *half) window() uint32 {
	if !h.winSeen {
		return defaultWindow
	}
	return h.win
}

// search returns the index of the first buffered segment ending after s.
func (h *half) search(s uint32) int {
	lo, hi := 0, len(h.segs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if diff(h.segs[m].end(), s) > 0 {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// seg is a buffered out-of-order piece: captured bytes followed by missing
// bytes that snaplen truncation cut off.
type seg struct {
	seq     uint32
	data    []byte // from the pool
	missing int
}

func (s *seg) end() uint32 { return s.seq + uint32(len(s.data)+s.missing) }

// segment takes the captured bytes data starting at seq, followed by missing
// bytes lost to truncation, into h.
func (a *Assembler) segment(f *flow.Flow, d flow.Dir, h *half, seq uint32, data []byte, missing int, t time.Time, index uint64) {
	end := seq + uint32(len(data)+missing)
	if h.fin {
		if diff(seq, h.finSeq) >= 0 {
			a.stats.AfterClose++
			return
		}
		if over := int(diff(end, h.finSeq)); over > 0 {
			a.stats.AfterClose++
			data, missing = cutTail(data, missing, over)
			end = h.finSeq
		}
	}
	if diff(seq, h.next) < 0 && h.differsKept(seq, data) {
		a.stats.OverlapsDiffer++
		if a.allow(f, evOverlapDifferent) {
			a.h.Event(f, EventOverlapDifferent, "segment at seq "+strconv.FormatUint(uint64(seq), 10)+
				" differs from delivered bytes; the first copy was kept")
		}
	}
	if diff(end, h.next) <= 0 {
		a.stats.Retransmissions++
		return
	}
	if k := int(diff(h.next, seq)); k > 0 {
		// Partial retransmission: keep only the new bytes.
		if k <= len(data) {
			data = data[k:]
		} else {
			missing -= k - len(data)
			data = data[len(data):]
		}
		seq = h.next
	}

	// The in-order path: no copy, no allocation.
	if seq == h.next && len(h.segs) == 0 {
		a.deliver(f, d, h, data, t, index)
		h.next = end
		h.pending += missing
		return
	}

	a.compare(f, h, seq, data, end)

	took := false
	cur := seq
	for diff(end, cur) > 0 {
		if diff(h.next, cur) > 0 {
			cur = h.next // a drain below delivered buffered bytes covering this range
			continue
		}
		i := h.search(cur)
		if i < len(h.segs) && diff(h.segs[i].seq, cur) <= 0 {
			cur = h.segs[i].end() // first wins: the buffered bytes stay
			continue
		}
		pend := end
		if i < len(h.segs) && diff(h.segs[i].seq, end) < 0 {
			pend = h.segs[i].seq
		}
		pdata, pmiss := piece(seq, data, cur, pend)
		took = true
		for cur != h.next && !a.fits(h, len(pdata)) {
			a.limit(f, d, h, cur)
			if len(h.segs) == 0 || diff(h.segs[0].seq, cur) > 0 {
				a.skipTo(h, cur) // the new piece is the lowest: deliver it now
				break
			}
			a.skipTo(h, h.segs[0].seq)
			a.drain(f, d, h, t, index)
		}
		if cur == h.next {
			a.deliver(f, d, h, pdata, t, index)
			h.next = pend
			h.pending += pmiss
			a.drain(f, d, h, t, index)
		} else {
			a.insert(h, h.search(cur), cur, pdata, pmiss) // a skip may have drained segments below cur
		}
		cur = pend
	}
	if !took {
		a.stats.Retransmissions++
	}
}

// compare checks the bytes of a new segment against the buffered bytes they
// overlap. Buffered bytes win; a difference is reported once per segment.
func (a *Assembler) compare(f *flow.Flow, h *half, seq uint32, data []byte, end uint32) {
	overlap, differ := false, false
	dataEnd := seq + uint32(len(data))
	for j := h.search(seq); j < len(h.segs) && diff(h.segs[j].seq, end) < 0; j++ {
		s := &h.segs[j]
		overlap = true
		lo, hi := s.seq, s.seq+uint32(len(s.data))
		if diff(seq, lo) > 0 {
			lo = seq
		}
		if diff(hi, dataEnd) > 0 {
			hi = dataEnd
		}
		if diff(hi, lo) <= 0 {
			continue
		}
		n := int(diff(hi, lo))
		x := data[diff(lo, seq):][:n]
		y := s.data[diff(lo, s.seq):][:n]
		if !bytes.Equal(x, y) {
			differ = true
		}
	}
	if overlap {
		a.stats.Overlaps++
	}
	if differ {
		a.stats.OverlapsDiffer++
		if a.allow(f, evOverlapDifferent) {
			a.h.Event(f, EventOverlapDifferent, "segment at seq "+strconv.FormatUint(uint64(seq), 10)+
				" differs from buffered bytes; the first copy is kept")
		}
	}
}

// piece returns the captured and missing parts of [lo, hi), a sub-range of
// a segment whose captured bytes data start at seq.
func piece(seq uint32, data []byte, lo, hi uint32) ([]byte, int) {
	a, b := int(diff(lo, seq)), int(diff(hi, seq))
	n := len(data)
	switch {
	case b <= n:
		return data[a:b], 0
	case a >= n:
		return nil, b - a
	default:
		return data[a:], b - n
	}
}

// cutTail removes n bytes from the end of a segment's range: missing bytes
// first, then captured ones.
func cutTail(data []byte, missing, n int) ([]byte, int) {
	if n <= missing {
		return data, missing - n
	}
	n -= missing
	if n > len(data) {
		n = len(data)
	}
	return data[:len(data)-n], 0
}

// fits reports whether n more bytes and one more segment may be buffered
// for h.
func (a *Assembler) fits(h *half, n int) bool {
	return len(h.segs) < a.cfg.MaxSegmentsPerDir &&
		h.buffered+n <= a.cfg.MaxBufferedPerDir &&
		a.stats.Buffered+n <= a.cfg.MaxBufferedTotal
}

// limit counts and reports a skip forced by a buffer limit.
func (a *Assembler) limit(f *flow.Flow, d flow.Dir, h *half, cur uint32) {
	a.stats.BufferLimit++
	if !a.allow(f, evBufferLimit) {
		return
	}
	to := cur
	if len(h.segs) > 0 && diff(h.segs[0].seq, cur) < 0 {
		to = h.segs[0].seq
	}
	a.h.Event(f, EventBufferLimit, "direction "+d.String()+": skipping "+
		strconv.Itoa(int(diff(to, h.next)))+" bytes with "+strconv.Itoa(h.buffered)+
		" bytes in "+strconv.Itoa(len(h.segs))+" segments buffered")
}

// insert copies a piece into h's buffer at index i.
func (a *Assembler) insert(h *half, i int, s uint32, data []byte, missing int) {
	var b []byte
	if len(data) > 0 {
		b = a.pool.get(len(data))
		copy(b, data)
	}
	h.segs = append(h.segs, seg{})
	copy(h.segs[i+1:], h.segs[i:])
	h.segs[i] = seg{seq: s, data: b, missing: missing}
	h.buffered += len(b)
	a.stats.Buffered += len(b)
	if a.stats.Buffered > a.stats.PeakBuffered {
		a.stats.PeakBuffered = a.stats.Buffered
	}
}

// release returns a segment's buffer to the pool.
func (a *Assembler) release(h *half, s *seg) {
	h.buffered -= len(s.data)
	a.stats.Buffered -= len(s.data)
	if s.data != nil {
		a.pool.put(s.data)
	}
	s.data = nil
}

// shrink cuts a buffered segment's captured bytes to n.
func (a *Assembler) shrink(h *half, s *seg, n int) {
	cut := len(s.data) - n
	h.buffered -= cut
	a.stats.Buffered -= cut
	s.data = s.data[:n]
}

// minBuf is the smallest buffer the pool hands out.
const minBuf = 256

// pool is a free list of buffers in power-of-two size classes. It keeps at
// most limit bytes of idle buffers; the rest go to the garbage collector.
type pool struct {
	free  [][][]byte // by class: class k holds buffers of capacity minBuf<<k
	idle  int
	limit int
}

func (p *pool) init(maxBuf, limit int) {
	p.free = make([][][]byte, class(maxBuf)+1)
	p.limit = limit
}

// class returns the smallest k with minBuf<<k >= n.
func class(n int) int {
	if n <= minBuf {
		return 0
	}
	return bits.Len(uint(n-1)) - bits.Len(minBuf-1)
}

func (p *pool) get(n int) []byte {
	k := class(n)
	if k < len(p.free) {
		if l := len(p.free[k]); l > 0 {
			b := p.free[k][l-1]
			p.free[k][l-1] = nil
			p.free[k] = p.free[k][:l-1]
			p.idle -= cap(b)
			return b[:n]
		}
	}
	return make([]byte, n, minBuf<<k)
}

func (p *pool) put(b []byte) {
	k := class(cap(b))
	if k >= len(p.free) || p.idle+cap(b) > p.limit {
		return
	}
	p.idle += cap(b)
	p.free[k] = append(p.free[k], b[:0])
}
