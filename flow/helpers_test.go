package flow

import (
	"net/netip"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/decode"
)

// t0 is the capture time the tests start at.
var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// Flag sets used by the tests.
const (
	syn    = decode.SYN
	synAck = decode.SYN | decode.ACK
	ack    = decode.ACK
	psh    = decode.PSH | decode.ACK
	finAck = decode.FIN | decode.ACK
	rst    = decode.RST
)

// pkt describes one test packet: endpoints "addr:port", transport, TCP flags,
// and capture time as an offset from t0.
type pkt struct {
	src, dst string
	proto    decode.IPProto
	flags    decode.TCPFlags
	at       time.Duration
}

// tcpP returns a TCP test packet.
func tcpP(src, dst string, flags decode.TCPFlags, at time.Duration) pkt {
	return pkt{src, dst, decode.TCP, flags, at}
}

// udpP returns a UDP test packet.
func udpP(src, dst string, at time.Duration) pkt {
	return pkt{src, dst, decode.UDP, 0, at}
}

// packet builds the decoded packet of d.
func (d pkt) packet() *decode.Packet {
	s, dst := netip.MustParseAddrPort(d.src), netip.MustParseAddrPort(d.dst)
	return &decode.Packet{
		Timestamp: t0.Add(d.at),
		Src:       s.Addr(),
		Dst:       dst.Addr(),
		SrcPort:   s.Port(),
		DstPort:   dst.Port(),
		Proto:     d.proto,
		TCP:       decode.TCPInfo{Flags: d.flags},
		WireLen:   100,
	}
}

// ended is one End call seen by a recorder.
type ended struct {
	id    uint64
	why   EndReason
	state TCPState
	pkts  [2]uint64
}

// recorder collects hook calls.
type recorder struct {
	ends     []ended
	interims []uint32 // f.Interims at each Interim call
	interimF []uint64 // flow ID at each Interim call
}

// hooks returns hooks that record into r.
func (r *recorder) hooks() Hooks {
	return Hooks{
		End: func(f *Flow, why EndReason) {
			r.ends = append(r.ends, ended{id: f.ID, why: why, state: f.State, pkts: f.Pkts})
		},
		Interim: func(f *Flow) {
			r.interims = append(r.interims, f.Interims)
			r.interimF = append(r.interimF, f.ID)
		},
	}
}

// harness feeds packets to a table as the pipeline does: Advance to the
// packet's time, then Lookup with the next capture index.
type harness struct {
	t     *testing.T
	tab   *Table
	rec   *recorder
	index uint64
}

// newHarness returns a harness over a new table with cfg.
func newHarness(t *testing.T, cfg Config) *harness {
	rec := &recorder{}
	return &harness{t: t, tab: NewTable(cfg, rec.hooks()), rec: rec}
}

// feed advances to and looks up each packet, checking the table's invariants
// after each; it returns the result of the last lookup.
func (h *harness) feed(ps ...pkt) (f *Flow, dir Dir, created bool) {
	h.t.Helper()
	for _, d := range ps {
		p := d.packet()
		h.tab.Advance(p.Timestamp)
		h.index++
		f, dir, created = h.tab.Lookup(p, h.index)
		checkInvariants(h.t, h.tab)
	}
	return f, dir, created
}

// advance moves the table clock to t0+at.
func (h *harness) advance(at time.Duration) {
	h.t.Helper()
	h.tab.Advance(t0.Add(at))
	checkInvariants(h.t, h.tab)
	checkNothingDue(h.t, h.tab)
}

// checkInvariants verifies the table's internal structures agree: map,
// slab, heap (order, positions, lazy deadlines never late) and LRU list.
func checkInvariants(t *testing.T, tab *Table) {
	t.Helper()
	if tab.idx.n != tab.live || len(tab.heap) != tab.live {
		t.Fatalf("live %d, index %d, heap %d", tab.live, tab.idx.n, len(tab.heap))
	}
	liveSlots := 0
	for i := uint32(0); i < tab.used; i++ {
		if tab.slot(i).live {
			liveSlots++
		}
	}
	if liveSlots != tab.live || liveSlots+len(tab.free) != int(tab.used) {
		t.Fatalf("live slots %d, live %d, free %d, used %d", liveSlots, tab.live, len(tab.free), tab.used)
	}
	entries := 0
	for p, e := range tab.idx.ents {
		if e.slot == 0 {
			continue
		}
		entries++
		i := e.slot - 1
		s := tab.slot(i)
		if !s.live || s.f.Slot != i || hashKey(&s.f.Key) != e.h {
			t.Fatalf("index entry %d (hash %#x) -> slot %d holds %+v", p, e.h, i, s.f)
		}
		// Probing from the entry's home must reach it without an empty
		// entry on the way (what backward-shift deletion keeps true).
		for q := e.h & tab.idx.mask; q != uint64(p); q = (q + 1) & tab.idx.mask {
			if tab.idx.ents[q].slot == 0 {
				t.Fatalf("index entry %d (home %d) is cut off by the empty entry %d", p, e.h&tab.idx.mask, q)
			}
		}
	}
	if entries != tab.idx.n {
		t.Fatalf("index holds %d entries, counts %d", entries, tab.idx.n)
	}
	for i := uint32(0); i < tab.used; i++ {
		if s := tab.slot(i); s.live {
			if got, ok := tab.find(&s.f.Key, hashKey(&s.f.Key)); !ok || got != i {
				t.Fatalf("live slot %d (%v) not found in the index (got %d, %v)", i, s.f.Key, got, ok)
			}
		}
	}
	for pos := range tab.heap {
		e := &tab.heap[pos]
		s := tab.slot(e.slot)
		if int(s.hpos) != pos {
			t.Fatalf("heap[%d] names slot %d whose hpos is %d", pos, e.slot, s.hpos)
		}
		if e.when > tab.deadline(s) {
			t.Fatalf("flow %d scheduled at %d after its deadline %d", s.f.ID, e.when, tab.deadline(s))
		}
		if pos > 0 && less(e, &tab.heap[(pos-1)/2]) {
			t.Fatalf("heap order broken at %d", pos)
		}
	}
	n, prev := 0, noSlot
	for i := tab.head; i != noSlot; i = tab.slot(i).next {
		if tab.slot(i).prev != prev || !tab.slot(i).live {
			t.Fatalf("LRU list broken at slot %d", i)
		}
		prev = i
		n++
		if n > tab.live {
			t.Fatalf("LRU list longer than %d", tab.live)
		}
	}
	if n != tab.live || prev != tab.tail {
		t.Fatalf("LRU list has %d flows, tail %d, want %d, %d", n, prev, tab.live, tab.tail)
	}
}

// checkNothingDue verifies that no live flow's idle deadline is at or
// before the table clock, as Advance promises.
func checkNothingDue(t *testing.T, tab *Table) {
	t.Helper()
	for i := uint32(0); i < tab.used; i++ {
		s := tab.slot(i)
		if s.live && tab.idleDeadline(s) <= tab.now {
			t.Fatalf("flow %d due at %d still live at %d", s.f.ID, tab.idleDeadline(s), tab.now)
		}
	}
}
