package flow

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/peerwatch/peerwatch/decode"
)

// Defaults of Config, used for fields left zero (see Config).
const (
	DefaultMaxFlows      = 1 << 20
	DefaultTCPIdle       = 5 * time.Minute
	DefaultTCPEmbryonic  = 30 * time.Second
	DefaultUDPIdle       = time.Minute
	DefaultLinger        = 5 * time.Second
	DefaultActiveTimeout = 30 * time.Minute
)

// Config bounds a Table and sets its timeouts. All durations are capture
// time. A zero MaxFlows, TCPIdle, TCPEmbryonic, UDPIdle or Linger takes its
// default; a zero ActiveTimeout disables interim records (DefaultConfig
// enables them), as config's active_timeout does.
type Config struct {
	// MaxFlows bounds the live flows (default 1<<20); past it the least
	// recently active flow is evicted. The pipeline divides its bound among
	// workers.
	MaxFlows int
	// TCPIdle is the idle timeout of an established TCP flow (default 5m).
	TCPIdle time.Duration
	// TCPEmbryonic is the idle timeout of a TCP flow that has not seen
	// packets both ways, such as a SYN without reply (default 30s).
	TCPEmbryonic time.Duration
	// UDPIdle is the idle timeout of a UDP flow, and of any other non-TCP
	// flow (default 60s).
	UDPIdle time.Duration
	// Linger is how long a TCP flow stays after FIN both ways or a RST
	// (default 5s), so that trailing ACKs and retransmissions join it rather
	// than start a bogus flow. A negative Linger ends closed flows at the
	// first Advance after their last packet.
	Linger time.Duration
	// ActiveTimeout is the interval between interim records of a long flow
	// (default in DefaultConfig: 30m); zero or negative disables them.
	ActiveTimeout time.Duration
}

// DefaultConfig returns the configuration with every default set, active
// timeout included.
func DefaultConfig() Config {
	return Config{
		MaxFlows:      DefaultMaxFlows,
		TCPIdle:       DefaultTCPIdle,
		TCPEmbryonic:  DefaultTCPEmbryonic,
		UDPIdle:       DefaultUDPIdle,
		Linger:        DefaultLinger,
		ActiveTimeout: DefaultActiveTimeout,
	}
}

// Hooks are a Table's callbacks. Both are called on the goroutine that
// calls the Table, from inside Lookup, Advance or Flush; they must not call
// back into the Table. Either may be nil.
type Hooks struct {
	// End is called exactly once per flow, when it ends and before its slot
	// is reused: from Lookup (EndReused, EndEvicted, or a timeout noticed by
	// the packet that arrives after it), Advance (EndTimeout, EndClosed) or
	// Flush. f is valid only during the call: keep f.Ref(), not f.
	End func(f *Flow, why EndReason)
	// Interim is called from Advance when a flow has been live for another
	// ActiveTimeout; f.Interims has already been incremented, so the first
	// interim record sees 1. The flow stays live and keeps its counters.
	Interim func(f *Flow)
}

// Stats counts what a Table did since it was made.
type Stats struct {
	Created uint64                // flows created
	Ended   [len(endNames)]uint64 // flows ended, indexed by EndReason
	Evicted uint64                // flows ended because the table was full (= Ended[EndEvicted])
	Reused  uint64                // closed tuples restarted by a new SYN (= Ended[EndReused])
	Interim uint64                // interim records fired
	Live    int                   // flows live now
	Peak    int                   // most flows live at once
}

// Slab layout: slots live in fixed-size chunks, so a *Flow handed out stays
// valid while the flow is live even as the slab grows, and memory grows
// with the number of flows rather than MaxFlows.
const (
	chunkBits = 9
	chunkSize = 1 << chunkBits
	noSlot    = ^uint32(0)
)

// slot is a slab entry: a flow and the table's bookkeeping for it.
type slot struct {
	f        Flow
	lastNs   int64  // f.Last in Unix nanoseconds
	activeNs int64  // time of the next interim record; math.MaxInt64 if none
	interNs  int64  // deadline of the last interim written; math.MinInt64 before the first
	idle     int64  // SetIdle override in nanoseconds; 0 for the transport's default
	hpos     int32  // index in Table.heap; -1 when not live
	prev     uint32 // LRU neighbours (slot indexes), noSlot at the ends
	next     uint32
	live     bool
}

// timer is an entry of the expiry heap. when may be earlier than the flow's
// real deadline: packets only extend deadlines, and an extension is applied
// lazily when the entry reaches the top, so a packet costs no heap work.
// Shortened deadlines (a FIN, SetIdle) are applied at once.
type timer struct {
	when int64 // Unix nanoseconds
	id   uint64
	slot uint32
}

// Table is a bounded flow table owned by one goroutine. Flows live in an
// index-addressed slab found through an open-addressing index from Key to
// slot (index.go); an expiry heap orders them by deadline and an LRU list
// picks the eviction victim. Looking up an existing flow and reusing a
// freed slot do not allocate.
type Table struct {
	max                                         int
	tcpIdle, embryonic, udpIdle, linger, active int64 // nanoseconds; active is 0 when disabled
	hooks                                       Hooks

	chunks [][]slot
	used   uint32   // slots handed out so far: the slab's high-water mark
	free   []uint32 // freed slots, reused last-in first-out
	idx    index    // Key → slot
	heap   []timer
	head   uint32 // least recently active live flow
	tail   uint32 // most recently active live flow
	live   int
	now    int64 // table clock (Unix nanoseconds): the latest Advance
	stats  Stats
	order  []uint32 // Flush's scratch list
}

// NewTable returns an empty table with configuration cfg (zero fields take
// their defaults, see Config) and hooks h.
func NewTable(cfg Config, h Hooks) *Table {
	t := &Table{
		max:       cfg.MaxFlows,
		tcpIdle:   durOr(cfg.TCPIdle, DefaultTCPIdle),
		embryonic: durOr(cfg.TCPEmbryonic, DefaultTCPEmbryonic),
		udpIdle:   durOr(cfg.UDPIdle, DefaultUDPIdle),
		linger:    durOr(cfg.Linger, DefaultLinger),
		hooks:     h,
		head:      noSlot,
		tail:      noSlot,
		now:       math.MinInt64,
	}
	if t.max <= 0 {
		t.max = DefaultMaxFlows
	}
	// Slot indexes are uint32 and heap positions int32.
	t.max = min(t.max, math.MaxInt32)
	if cfg.Linger < 0 {
		t.linger = 0
	}
	if cfg.ActiveTimeout > 0 {
		t.active = int64(cfg.ActiveTimeout)
	}
	return t
}

// durOr returns d in nanoseconds, or def when d is not positive.
func durOr(d, def time.Duration) int64 {
	if d <= 0 {
		return int64(def)
	}
	return int64(d)
}

// satAdd returns a+b (b >= 0), saturating instead of wrapping: capture
// timestamps are attacker-controlled and may sit near the end of time.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// slot returns slot i.
func (t *Table) slot(i uint32) *slot {
	return &t.chunks[i>>chunkBits][i&(chunkSize-1)]
}

// pureSYN reports whether p opens a TCP connection: SYN without ACK.
func pureSYN(p *decode.Packet) bool {
	return p.Proto == decode.TCP && p.TCP.Flags&(decode.SYN|decode.ACK) == decode.SYN
}

// Lookup finds or creates the flow of packet p, whose capture index (1-based)
// is index; index becomes the ID of a new flow. It counts the packet (Pkts,
// Bytes of p.WireLen, Last) and updates the TCP state, and returns the flow,
// the packet's direction and whether the flow was created. The flow is valid
// until it ends (see Hooks.End).
//
// A packet ends the flow it would join, calling End first, when that flow's
// idle timeout passed before p.Timestamp (EndTimeout or EndClosed) or when p
// is a SYN without ACK on a tuple that saw a FIN or RST (EndReused). A new
// flow in a full table evicts the least recently active flow (EndEvicted).
// Call Advance with the packet's time before Lookup so that timers fire in
// capture order.
func (t *Table) Lookup(p *decode.Packet, index uint64) (f *Flow, dir Dir, created bool) {
	k := KeyOf(p)
	h := hashKey(&k)
	ts := p.Timestamp.UnixNano()
	if i, ok := t.find(&k, h); ok {
		s := t.slot(i)
		switch {
		case t.idleDeadline(s) <= ts:
			t.end(i, s.endReason())
		case pureSYN(p) && s.closing():
			t.end(i, EndReused)
		default:
			dir = s.dirOf(p)
			t.count(s, p, ts, dir)
			t.lruToTail(i)
			if d := t.deadline(s); d < t.heap[s.hpos].when {
				t.heap[s.hpos].when = d
				t.siftUp(int(s.hpos))
			}
			return &s.f, dir, false
		}
	}
	return t.create(k, h, p, ts, index)
}

// create starts a flow for packet p with key k, whose hash is h.
func (t *Table) create(k Key, h uint64, p *decode.Packet, ts int64, index uint64) (*Flow, Dir, bool) {
	if t.live >= t.max {
		victim := t.slot(t.head)
		why := EndEvicted
		if t.idleDeadline(victim) <= ts {
			why = victim.endReason()
		}
		t.end(t.head, why)
	}
	var i uint32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		if t.used&(chunkSize-1) == 0 {
			t.chunks = append(t.chunks, make([]slot, chunkSize))
		}
		i = t.used
		t.used++
	}
	s := t.slot(i)
	sp, _ := ports(p)
	src := p.Src
	orig, resp := k.A, k.B
	if orig.Addr() != src || orig.Port() != sp {
		orig, resp = resp, orig
	}
	dir := Orig
	// The sender of a SYN-ACK is the responder of the handshake whose SYN
	// the capture missed.
	if p.Proto == decode.TCP && p.TCP.Flags&(decode.SYN|decode.ACK) == decode.SYN|decode.ACK {
		orig, resp = resp, orig
		dir = Resp
	}
	s.f = Flow{
		ID:        index,
		Slot:      i,
		Key:       k,
		Orig:      orig,
		Resp:      resp,
		Proto:     p.Proto,
		VLAN:      p.VLAN,
		First:     p.Timestamp,
		Last:      p.Timestamp,
		MidStream: p.Proto == decode.TCP && !pureSYN(p),
	}
	s.lastNs = ts
	s.idle = 0
	s.activeNs = math.MaxInt64
	s.interNs = math.MinInt64
	if t.active > 0 {
		s.activeNs = satAdd(ts, t.active)
	}
	s.live = true
	t.count(s, p, ts, dir)
	t.idx.insert(h, i)
	t.lruPush(i)
	t.push(timer{when: t.deadline(s), id: index, slot: i})
	t.live++
	t.stats.Created++
	t.stats.Peak = max(t.stats.Peak, t.live)
	return &s.f, dir, true
}

// dirOf returns the direction of packet p within the slot's flow.
func (s *slot) dirOf(p *decode.Packet) Dir {
	sp, _ := ports(p)
	if p.Src == s.f.Orig.Addr() && sp == s.f.Orig.Port() {
		return Orig
	}
	return Resp
}

// count adds packet p, sent in direction dir at ts, to the slot's flow.
func (t *Table) count(s *slot, p *decode.Packet, ts int64, dir Dir) {
	f := &s.f
	f.Pkts[dir]++
	if p.WireLen > 0 {
		f.Bytes[dir] += uint64(p.WireLen)
	}
	// Capture times can step back; Last never does.
	if ts > s.lastNs {
		s.lastNs = ts
		f.Last = p.Timestamp
	}
	if p.Proto == decode.TCP {
		fl := p.TCP.Flags
		if fl&decode.SYN != 0 {
			f.SawSYN[dir] = true
		}
		if fl&decode.FIN != 0 {
			f.SawFIN[dir] = true
		}
		if fl&decode.RST != 0 {
			f.SawRST = true
		}
	}
	switch {
	case f.State == StateClosed:
	case f.SawRST || f.SawFIN[Orig] && f.SawFIN[Resp]:
		f.State = StateClosed
	case f.Pkts[Orig] > 0 && f.Pkts[Resp] > 0:
		// A SYN answered by a SYN-ACK, or data both ways on a flow whose
		// handshake was missed; UDP the same.
		f.State = StateEstablished
	}
}

// closing reports whether the flow saw a FIN or RST: a new SYN on its tuple
// starts a new flow.
func (s *slot) closing() bool {
	return s.f.SawRST || s.f.SawFIN[Orig] || s.f.SawFIN[Resp]
}

// endReason is the reason a flow ends when its idle timeout passes.
func (s *slot) endReason() EndReason {
	if s.f.State == StateClosed {
		return EndClosed
	}
	return EndTimeout
}

// idleFor returns the slot's idle timeout in nanoseconds.
func (t *Table) idleFor(s *slot) int64 {
	if s.f.Proto == decode.TCP {
		switch {
		case s.f.State == StateClosed:
			return t.linger
		case s.idle > 0:
			return s.idle
		case s.f.State == StateEstablished:
			return t.tcpIdle
		}
		return t.embryonic
	}
	if s.idle > 0 {
		return s.idle
	}
	return t.udpIdle
}

// idleDeadline returns when the slot's flow times out unless a packet comes.
func (t *Table) idleDeadline(s *slot) int64 { return satAdd(s.lastNs, t.idleFor(s)) }

// deadline returns the slot's next timer: its idle deadline or its next
// interim record, whichever comes first.
func (t *Table) deadline(s *slot) int64 { return min(t.idleDeadline(s), s.activeNs) }

// SetIdle sets the idle timeout of live flow f to d, replacing the
// transport's default (a protocol's own idle time, such as a UDP P2P
// overlay's); d <= 0 restores the default. A closed TCP flow keeps the
// linger time. It does nothing if f is not a live flow of t.
func (t *Table) SetIdle(f *Flow, d time.Duration) {
	if f == nil || f.Slot >= t.used {
		return
	}
	s := t.slot(f.Slot)
	if !s.live || &s.f != f {
		return
	}
	s.idle = max(int64(d), 0)
	if nd := t.deadline(s); nd < t.heap[s.hpos].when {
		t.heap[s.hpos].when = nd
		t.siftUp(int(s.hpos))
	}
}

// Advance moves the table's clock to now (capture time; the clock never
// goes back) and fires the timers that are due, in order of deadline then
// flow ID: flows idle past their timeout end (EndClosed after FIN/RST,
// else EndTimeout), and flows live for another ActiveTimeout get an Interim
// call. Its cost is that of the timers that fire, so it may be called for
// every packet.
func (t *Table) Advance(now time.Time) {
	t.now = max(t.now, now.UnixNano())
	for len(t.heap) > 0 && t.heap[0].when <= t.now {
		i := t.heap[0].slot
		s := t.slot(i)
		if d := t.deadline(s); d != t.heap[0].when {
			// A deadline extended by later packets: requeue it, so flows
			// still fire in deadline order.
			t.heap[0].when = d
			t.siftDown(0)
			continue
		}
		// Timers fire as if the clock had moved continuously: an interim
		// due before the idle deadline is written first, however far this
		// call moves the clock, so the records do not depend on how often
		// Advance runs (one worker or many).
		if idle := t.idleDeadline(s); idle <= t.now && (t.active == 0 || s.activeNs >= idle) {
			t.end(i, s.endReason())
			continue
		}
		// An interim is written only for a period with packets, so a silent
		// flow kept alive by a long idle time writes nothing new. (A packet
		// stamped exactly at a deadline is counted after that deadline's
		// interim, hence >=.)
		if s.lastNs >= s.interNs {
			s.f.Interims++
			t.stats.Interim++
			if t.hooks.Interim != nil {
				t.hooks.Interim(&s.f)
			}
			s.interNs = s.activeNs
		}
		s.activeNs = satAdd(s.activeNs, t.active)
		t.heap[0].when = t.deadline(s)
		t.siftDown(0)
	}
}

// Flush ends every live flow with reason why (EndShutdown at the end of
// input), in order of flow ID. The table stays usable.
func (t *Table) Flush(why EndReason) {
	t.order = t.order[:0]
	for i := t.head; i != noSlot; i = t.slot(i).next {
		t.order = append(t.order, i)
	}
	slices.SortFunc(t.order, func(a, b uint32) int {
		if c := cmp.Compare(t.slot(a).f.ID, t.slot(b).f.ID); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for _, i := range t.order {
		t.end(i, why)
	}
}

// Rewind ends every live flow with reason why and sets the clock back to
// now. The pipeline calls it when capture time goes back for good (a file
// from an earlier epoch, or normal packets after a bogus future timestamp):
// flows of the other epoch cannot continue, and without a rewind every new
// flow would look idle past its timeout at once.
func (t *Table) Rewind(now time.Time, why EndReason) {
	t.Flush(why)
	t.heap = t.heap[:0]
	t.now = now.UnixNano()
}

// Len returns the number of live flows.
func (t *Table) Len() int { return t.live }

// Stats returns the table's counters.
func (t *Table) Stats() Stats {
	s := t.stats
	s.Live = t.live
	return s
}

// end calls the End hook for slot i and frees the slot.
func (t *Table) end(i uint32, why EndReason) {
	s := t.slot(i)
	if t.hooks.End != nil {
		t.hooks.End(&s.f, why)
	}
	t.idx.remove(hashKey(&s.f.Key), i)
	t.remove(int(s.hpos))
	t.lruRemove(i)
	s.f = Flow{}
	s.live = false
	t.free = append(t.free, i)
	t.live--
	if int(why) < len(t.stats.Ended) {
		t.stats.Ended[why]++
	}
	switch why {
	case EndEvicted:
		t.stats.Evicted++
	case EndReused:
		t.stats.Reused++
	}
}

// lruPush appends slot i as the most recently active flow.
func (t *Table) lruPush(i uint32) {
	s := t.slot(i)
	s.prev, s.next = t.tail, noSlot
	if t.tail != noSlot {
		t.slot(t.tail).next = i
	} else {
		t.head = i
	}
	t.tail = i
}

// lruRemove unlinks slot i from the LRU list.
func (t *Table) lruRemove(i uint32) {
	s := t.slot(i)
	if s.prev != noSlot {
		t.slot(s.prev).next = s.next
	} else {
		t.head = s.next
	}
	if s.next != noSlot {
		t.slot(s.next).prev = s.prev
	} else {
		t.tail = s.prev
	}
	s.prev, s.next = noSlot, noSlot
}

// lruToTail marks slot i as the most recently active flow.
func (t *Table) lruToTail(i uint32) {
	if t.tail == i {
		return
	}
	t.lruRemove(i)
	t.lruPush(i)
}

// less orders timers by time, then flow ID, then slot: a total order, so
// timers fire in the same order on every run.
func less(a, b *timer) bool {
	if a.when != b.when {
		return a.when < b.when
	}
	if a.id != b.id {
		return a.id < b.id
	}
	return a.slot < b.slot
}

// push adds timer e to the heap.
func (t *Table) push(e timer) {
	t.heap = append(t.heap, e)
	n := len(t.heap) - 1
	t.slot(e.slot).hpos = int32(n)
	t.siftUp(n)
}

// remove deletes the heap entry at position i.
func (t *Table) remove(i int) {
	last := len(t.heap) - 1
	t.slot(t.heap[i].slot).hpos = -1
	if i != last {
		t.heap[i] = t.heap[last]
		t.slot(t.heap[i].slot).hpos = int32(i)
	}
	t.heap = t.heap[:last]
	if i < last {
		t.siftDown(i)
		t.siftUp(i)
	}
}

// swap exchanges heap entries i and j and their slots' positions.
func (t *Table) swap(i, j int) {
	h := t.heap
	h[i], h[j] = h[j], h[i]
	t.slot(h[i].slot).hpos = int32(i)
	t.slot(h[j].slot).hpos = int32(j)
}

// siftUp restores the heap order above position i.
func (t *Table) siftUp(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !less(&t.heap[i], &t.heap[p]) {
			return
		}
		t.swap(i, p)
		i = p
	}
}

// siftDown restores the heap order below position i.
func (t *Table) siftDown(i int) {
	n := len(t.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && less(&t.heap[r], &t.heap[l]) {
			m = r
		}
		if !less(&t.heap[m], &t.heap[i]) {
			return
		}
		t.swap(i, m)
		i = m
	}
}
