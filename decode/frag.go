package decode

import (
	"net/netip"
	"time"
)

// Fragment reassembly.
//
// Only the first fragment of a datagram carries ports, so fragments are put
// back together here, before packets are sharded by flow. The table is
// bounded three ways: a datagram lives FragTimeout of capture time after its
// first fragment, at most FragMaxDatagrams datagrams and FragMemory bytes of
// fragment data are held, the oldest datagram being dropped to make room.
//
// Overlaps drop the whole datagram, for IPv6 as RFC 5722 requires and for
// IPv4 as well: Linux has discarded overlapping IPv4 fragments since 4.19, a
// receiver that keeps "first" or "last" data is attackable with ambiguous
// overlaps, and a sensor that picked one policy would see different bytes
// from some end hosts. Exact duplicates (same offset and length, seen when a
// network duplicates packets) are ignored rather than treated as overlaps, as
// RFC 5722's erratum 3089 allows.

// maxFreeSets bounds the recycled datagram records kept for reuse.
const maxFreeSets = 32

// fragKey identifies a datagram: RFC 791 §3.2 (source, destination,
// protocol, identification) and RFC 8200 §4.5 (source, destination,
// identification).
type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8 // IPv4 protocol; 0 for IPv6
	v6       bool
}

// fragPart is one stored fragment: payload bytes [off, end) of the datagram,
// stored at data[at:].
type fragPart struct{ off, end, at int }

// fragSet is an incomplete datagram.
type fragSet struct {
	key   fragKey
	first time.Time // capture time of the first fragment seen
	end   int       // payload length once the last fragment is seen, else -1
	nh    byte      // upper protocol: IPv4 protocol or the first fragment's IPv6 next header
	held  int       // fragment bytes stored
	parts []fragPart
	data  []byte
}

// fragTable holds incomplete datagrams, oldest first.
type fragTable struct {
	cfg   Config
	stats *FragStats
	sets  map[fragKey]*fragSet
	order []*fragSet
	free  []*fragSet
	held  int
	buf   []byte // the last reassembled datagram payload
}

func (t *fragTable) init(cfg Config, stats *FragStats) {
	t.cfg = cfg
	t.stats = stats
}

// pending reports whether any datagram is waiting.
func (t *fragTable) pending() bool { return len(t.order) > 0 }

// expire drops datagrams whose first fragment is older than the timeout.
func (t *fragTable) expire(now time.Time) {
	for len(t.order) > 0 && now.Sub(t.order[0].first) > t.cfg.FragTimeout {
		s := t.order[0]
		t.stats.Timeout += uint64(len(s.parts))
		t.remove(s)
	}
}

// remove forgets s and recycles its record.
func (t *fragTable) remove(s *fragSet) {
	delete(t.sets, s.key)
	for i, o := range t.order {
		if o == s {
			copy(t.order[i:], t.order[i+1:])
			t.order[len(t.order)-1] = nil
			t.order = t.order[:len(t.order)-1]
			break
		}
	}
	t.held -= s.held
	if len(t.free) < maxFreeSets {
		*s = fragSet{parts: s.parts[:0], data: s.data[:0]}
		t.free = append(t.free, s)
	}
}

// drop removes s and counts its fragments, plus the current one, under c.
func (t *fragTable) drop(s *fragSet, c *uint64) {
	*c += uint64(len(s.parts)) + 1
	t.remove(s)
}

// insert stores one fragment: payload bytes [off, off+len(data)) of the
// datagram key, more telling whether fragments follow, nh the upper protocol
// if off is 0. maxEnd is the largest payload length the datagram may have.
// It returns the reassembled payload and its upper protocol with OK when the
// datagram is complete, or FragmentHeld or FragmentDropped.
func (t *fragTable) insert(key fragKey, ts time.Time, off int, data []byte, more bool, nh byte, maxEnd int) ([]byte, byte, Reason) {
	t.stats.Received++
	end := off + len(data)
	if len(data) == 0 || end > maxEnd || (more && len(data)%8 != 0) {
		// Non-final fragments carry multiples of 8 bytes (RFC 791 §3.2,
		// RFC 8200 §4.5); nothing may reach past 65535 bytes.
		t.stats.Bogus++
		return nil, 0, FragmentDropped
	}
	if len(data) > t.cfg.FragMemory {
		t.stats.Memory++
		return nil, 0, FragmentDropped
	}
	if t.sets == nil {
		t.sets = make(map[fragKey]*fragSet)
	}
	s := t.sets[key]
	if s == nil {
		for len(t.order) >= t.cfg.FragMaxDatagrams {
			t.stats.Datagrams += uint64(len(t.order[0].parts))
			t.remove(t.order[0])
		}
		s = t.newSet()
		s.key = key
		s.first = ts
		s.end = -1
		t.sets[key] = s
		t.order = append(t.order, s)
	}
	if !more {
		if s.end >= 0 && s.end != end {
			t.drop(s, &t.stats.Bogus)
			return nil, 0, FragmentDropped
		}
		s.end = end
	}
	for _, q := range s.parts {
		switch {
		case q.off == off && q.end == end:
			t.stats.Duplicate++
			return nil, 0, FragmentDropped
		case off < q.end && q.off < end:
			t.drop(s, &t.stats.Overlap)
			return nil, 0, FragmentDropped
		case s.end >= 0 && q.end > s.end:
			// A final fragment ends before data already held.
			t.drop(s, &t.stats.Bogus)
			return nil, 0, FragmentDropped
		}
	}
	if s.end >= 0 && end > s.end {
		t.drop(s, &t.stats.Bogus)
		return nil, 0, FragmentDropped
	}
	// Make room: evict the oldest other datagrams, then give up on this one.
	for t.held+len(data) > t.cfg.FragMemory {
		victim := t.order[0]
		if victim == s {
			if len(t.order) == 1 {
				t.drop(s, &t.stats.Memory)
				return nil, 0, FragmentDropped
			}
			victim = t.order[1]
		}
		t.stats.Memory += uint64(len(victim.parts))
		t.remove(victim)
	}
	s.parts = append(s.parts, fragPart{off: off, end: end, at: len(s.data)})
	s.data = append(s.data, data...)
	s.held += len(data)
	t.held += len(data)
	if off == 0 {
		s.nh = nh
	}
	if s.end < 0 || s.held != s.end {
		return nil, 0, FragmentHeld
	}
	// Parts do not overlap and lie within [0, end), so held == end means
	// they cover it exactly.
	if t.buf == nil {
		t.buf = make([]byte, 0xffff)
	}
	out := t.buf[:s.end]
	for _, q := range s.parts {
		copy(out[q.off:q.end], s.data[q.at:])
	}
	nh = s.nh
	t.remove(s)
	t.stats.Reassembled++
	return out, nh, OK
}

// newSet returns a recycled or new datagram record.
func (t *fragTable) newSet() *fragSet {
	if n := len(t.free); n > 0 {
		s := t.free[n-1]
		t.free = t.free[:n-1]
		return s
	}
	return &fragSet{}
}

// fragment4 handles an IPv4 fragment; b is the datagram cut to its total
// length, hl its header length, ff its flags and offset field.
func (d *Decoder) fragment4(b []byte, hl, missing int, ff uint16, p *Packet) Reason {
	if missing > 0 {
		d.stats.Frags.Received++
		d.stats.Frags.Truncated++
		return FragmentDropped
	}
	key := fragKey{src: p.Src, dst: p.Dst, id: uint32(be16(b[4:])), proto: b[9]}
	data, nh, r := d.frag.insert(key, p.Timestamp, int(ff&0x1fff)*8, b[hl:], ff&0x2000 != 0, b[9], 0xffff-hl)
	if r != OK {
		return r
	}
	p.Reassembled = true
	return d.transport(nh, data, 0, p)
}

// fragment6 handles an IPv6 fragment whose fragmentable part starts at
// b[off]; next is its fragment header's next header.
func (d *Decoder) fragment6(b []byte, off int, next byte, fragOff int, more bool, id uint32, missing int, p *Packet) Reason {
	if missing > 0 {
		d.stats.Frags.Received++
		d.stats.Frags.Truncated++
		return FragmentDropped
	}
	key := fragKey{src: p.Src, dst: p.Dst, id: id, v6: true}
	data, nh, r := d.frag.insert(key, p.Timestamp, fragOff, b[off:], more, next, 0xffff-(off-48))
	if r != OK {
		return r
	}
	p.Reassembled = true
	return d.ipv6Ext(nh, data, 0, 0, p, true)
}
