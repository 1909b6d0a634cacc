package reassembly

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/peerwatch/peerwatch/decode"
	"github.com/peerwatch/peerwatch/flow"
)

// got is one delivered chunk, copied.
type got struct {
	Dir  flow.Dir
	Gap  int
	Data string
}

// recorder is a Handler that keeps copies of everything it receives.
type recorder struct {
	chunks []got
	events []string
	index  []uint64
}

func (r *recorder) Data(f *flow.Flow, c Chunk) {
	r.chunks = append(r.chunks, got{c.Dir, c.Gap, string(c.Data)})
	r.index = append(r.index, c.Index)
}

func (r *recorder) Event(f *flow.Flow, name, detail string) {
	if detail == "" {
		panic("event without detail: " + name)
	}
	r.events = append(r.events, name)
}

// seg is a test packet: one TCP segment in a direction.
type step struct {
	dir     flow.Dir
	flags   decode.TCPFlags
	seq     uint32
	ack     uint32
	data    string
	missing int
	win     uint16
	close   bool // instead of a packet, call Close
}

const (
	o   = flow.Orig
	r   = flow.Resp
	A   = decode.ACK
	S   = decode.SYN
	F   = decode.FIN
	R   = decode.RST
	SA  = decode.SYN | decode.ACK
	FA  = decode.FIN | decode.ACK
	PA  = decode.PSH | decode.ACK
	win = 65535
)

// hs is a captured handshake: orig ISN 1000, resp ISN 5000.
var hs = []step{
	{dir: o, flags: S, seq: 1000, win: win},
	{dir: r, flags: SA, seq: 5000, ack: 1001, win: win},
	{dir: o, flags: A, seq: 1001, ack: 5001, win: win},
}

func with(steps ...[]step) []step {
	var out []step
	for _, s := range steps {
		out = append(out, s...)
	}
	return out
}

func packet(s step, t time.Time) *decode.Packet {
	return &decode.Packet{
		Timestamp: t,
		Proto:     decode.TCP,
		TCP:       decode.TCPInfo{Seq: s.seq, Ack: s.ack, Flags: s.flags, Window: s.win},
		Payload:   []byte(s.data),
		Missing:   s.missing,
	}
}

// run feeds steps to a fresh Assembler for one flow and returns what it
// delivered, and the Assembler.
func run(cfg Config, steps []step) (*recorder, *Assembler) {
	rec := &recorder{}
	a := New(cfg, rec)
	f := &flow.Flow{ID: 1, Slot: 2, Proto: decode.TCP}
	t0 := time.Unix(1700000000, 0)
	for i, s := range steps {
		if s.close {
			a.Close(f)
			continue
		}
		a.Add(f, s.dir, packet(s, t0.Add(time.Duration(i)*time.Millisecond)), uint64(i+1))
	}
	return rec, a
}

// counters is the part of Stats the table checks.
type counters struct {
	Gaps, GapBytes, Overlaps, OverlapsDiffer, Retransmissions, BufferLimit, AckGaps, RSTOutOfWindow, FINOutOfWindow, AfterClose uint64
}

func countersOf(s Stats) counters {
	return counters{s.Gaps, s.GapBytes, s.Overlaps, s.OverlapsDiffer, s.Retransmissions, s.BufferLimit, s.AckGaps, s.RSTOutOfWindow, s.FINOutOfWindow, s.AfterClose}
}

// assemblerCase is one table case: packets in, chunks, events and counters out.
type assemblerCase struct {
	name   string
	cfg    Config
	steps  []step
	want   []got
	events []string
	stats  counters
}

// tableSteps returns the packet sequences of the table cases (fuzz seeds).
func tableSteps() [][]step {
	var out [][]step
	for _, c := range assemblerCases() {
		out = append(out, c.steps)
	}
	return out
}

func assemblerCases() []assemblerCase {
	end := step{close: true}
	return []assemblerCase{
		{
			name: "handshake sets the ISN; the SYN takes one sequence number",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "hello"},
				{dir: r, flags: PA, seq: 5001, ack: 1006, data: "world"},
				{dir: o, flags: PA, seq: 1006, ack: 5006, data: "!"},
				end,
			}),
			want: []got{{o, 0, "hello"}, {r, 0, "world"}, {o, 0, "!"}},
		},
		{
			name: "data on the SYN is delivered",
			steps: []step{
				{dir: o, flags: S, seq: 100, data: "abc"},
				{dir: r, flags: SA, seq: 900, ack: 104},
				{dir: o, flags: PA, seq: 104, ack: 901, data: "de"},
				end,
			},
			want: []got{{o, 0, "abc"}, {o, 0, "de"}},
		},
		{
			name: "mid-stream pickup starts at the first segment of each direction",
			steps: []step{
				{dir: o, flags: PA, seq: 7777, ack: 9999, data: "GET"},
				{dir: o, flags: PA, seq: 7780, ack: 9999, data: " /"},
				{dir: r, flags: PA, seq: 9999, ack: 7782, data: "HTTP"},
				end,
			},
			want: []got{{o, 0, "GET"}, {o, 0, " /"}, {r, 0, "HTTP"}},
		},
		{
			name: "mid-stream pickup: bytes before the first segment seen are old",
			steps: []step{
				{dir: o, flags: PA, seq: 7780, ack: 9999, data: " /"},
				{dir: o, flags: PA, seq: 7777, ack: 9999, data: "GET"},
				{dir: o, flags: PA, seq: 7782, ack: 9999, data: "x"},
			},
			want:  []got{{o, 0, " /"}, {o, 0, "x"}},
			stats: counters{Retransmissions: 1},
		},
		{
			name: "out-of-order segment is buffered until the hole fills",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "def"},
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc"},
				end,
			}),
			want: []got{{o, 0, "abc"}, {o, 0, "def"}},
		},
		{
			name: "three segments in reverse order",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1007, ack: 5001, data: "ghi"},
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "def"},
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc"},
			}),
			want: []got{{o, 0, "abc"}, {o, 0, "def"}, {o, 0, "ghi"}},
		},
		{
			name: "per-direction byte cap skips to the lowest buffered segment",
			cfg:  Config{MaxBufferedPerDir: 4},
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1011, ack: 5001, data: "aaa"},
				{dir: o, flags: PA, seq: 1021, ack: 5001, data: "bbb"},
				end,
			}),
			want:   []got{{o, 10, "aaa"}, {o, 7, "bbb"}},
			events: []string{EventBufferLimit},
			stats:  counters{Gaps: 2, GapBytes: 17, BufferLimit: 1},
		},
		{
			name: "a piece larger than the cap is delivered at once after a gap",
			cfg:  Config{MaxBufferedPerDir: 2},
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1011, ack: 5001, data: "aaa"},
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "0123456789"},
			}),
			want:   []got{{o, 10, "aaa"}},
			events: []string{EventBufferLimit},
			stats:  counters{Gaps: 1, GapBytes: 10, BufferLimit: 1, Retransmissions: 1},
		},
		{
			name: "per-direction segment cap",
			cfg:  Config{MaxSegmentsPerDir: 2},
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1003, ack: 5001, data: "b"},
				{dir: o, flags: PA, seq: 1005, ack: 5001, data: "c"},
				{dir: o, flags: PA, seq: 1007, ack: 5001, data: "d"},
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "a"},
				end,
			}),
			want:   []got{{o, 2, "b"}, {o, 1, "c"}, {o, 1, "d"}},
			events: []string{EventBufferLimit},
			stats:  counters{Gaps: 3, GapBytes: 4, BufferLimit: 1, Retransmissions: 1},
		},
		{
			name: "global cap forces the direction that needs room to skip",
			cfg:  Config{MaxBufferedTotal: 4},
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "ooo"},
				{dir: r, flags: PA, seq: 5004, ack: 1001, data: "rrr"},
				end,
			}),
			want:   []got{{r, 3, "rrr"}, {o, 3, "ooo"}},
			events: []string{EventBufferLimit},
			stats:  counters{Gaps: 2, GapBytes: 6, BufferLimit: 1},
		},
		{
			name: "peer acknowledges lost bytes: buffered data is delivered after the gap",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "def"},
				{dir: r, flags: A, seq: 5001, ack: 1007},
				{dir: o, flags: PA, seq: 1007, ack: 5001, data: "ghi"},
			}),
			want:   []got{{o, 3, "def"}, {o, 0, "ghi"}},
			events: []string{EventGapAcked},
			stats:  counters{Gaps: 1, GapBytes: 3, AckGaps: 1},
		},
		{
			name: "peer acknowledges lost bytes: the next data carries a pending gap",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc"},
				{dir: r, flags: A, seq: 5001, ack: 1007},
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "def"}, // arrives after its ACK: too late
				{dir: o, flags: PA, seq: 1007, ack: 5001, data: "ghi"},
			}),
			want:   []got{{o, 0, "abc"}, {o, 3, "ghi"}},
			events: []string{EventGapAcked},
			stats:  counters{Gaps: 1, GapBytes: 3, AckGaps: 1, Retransmissions: 1},
		},
		{
			name: "an ack ending where buffered data starts delivers it",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "def"},
				{dir: r, flags: A, seq: 5001, ack: 1004},
			}),
			want:   []got{{o, 3, "def"}},
			events: []string{EventGapAcked},
			stats:  counters{Gaps: 1, GapBytes: 3, AckGaps: 1},
		},
		{
			name: "an ack covering several holes delivers every buffered piece below it",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1003, ack: 5001, data: "c"},
				{dir: o, flags: PA, seq: 1006, ack: 5001, data: "f"},
				{dir: o, flags: PA, seq: 1010, ack: 5001, data: "j"},
				{dir: r, flags: A, seq: 5001, ack: 1009},
				end,
			}),
			want:   []got{{o, 2, "c"}, {o, 2, "f"}, {o, 3, "j"}},
			events: []string{EventGapAcked},
			stats:  counters{Gaps: 3, GapBytes: 7, AckGaps: 1},
		},
		{
			name: "the ACK of a FIN is not a gap",
			steps: with(hs, []step{
				{dir: o, flags: FA, seq: 1001, ack: 5001, data: "bye"},
				{dir: r, flags: FA, seq: 5001, ack: 1005},
				{dir: o, flags: A, seq: 1005, ack: 5002},
				end,
			}),
			want: []got{{o, 0, "bye"}},
		},
		{
			name: "ACKs behind or far beyond the stream declare nothing",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc"},
				{dir: r, flags: A, seq: 5001, ack: 900},
				{dir: r, flags: A, seq: 5001, ack: 1004 + 1<<31},
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "def"},
			}),
			want: []got{{o, 0, "abc"}, {o, 0, "def"}},
		},
		{
			name: "snaplen truncation: captured part, then a gap",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc", missing: 5},
				{dir: o, flags: PA, seq: 1009, ack: 5001, data: "xyz"},
			}),
			want:  []got{{o, 0, "abc"}, {o, 5, "xyz"}},
			stats: counters{Gaps: 1, GapBytes: 5},
		},
		{
			name: "snaplen truncation out of order",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1009, ack: 5001, data: "xyz", missing: 2},
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc", missing: 5},
				{dir: o, flags: PA, seq: 1014, ack: 5001, data: "!"},
			}),
			want:  []got{{o, 0, "abc"}, {o, 5, "xyz"}, {o, 2, "!"}},
			stats: counters{Gaps: 2, GapBytes: 7},
		},
		{
			name: "a truncated last segment is reported by Close as a trailing gap",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc", missing: 100},
				end,
			}),
			want:  []got{{o, 0, "abc"}, {o, 100, ""}},
			stats: counters{Gaps: 1, GapBytes: 100},
		},
		{
			name: "sequence numbers wrap past 2^32 in order",
			steps: []step{
				{dir: o, flags: S, seq: 0xfffffff0},
				{dir: r, flags: SA, seq: 0xfffffffe, ack: 0xfffffff1},
				{dir: o, flags: PA, seq: 0xfffffff1, ack: 0xffffffff, data: "0123456789abcde"}, // ends at 0
				{dir: o, flags: PA, seq: 0, ack: 0xffffffff, data: "xyz"},
				{dir: r, flags: PA, seq: 0xffffffff, ack: 3, data: "ab"}, // the resp SYN-ACK wrapped to 0xffffffff, data crosses 0
				{dir: r, flags: PA, seq: 1, ack: 3, data: "cd"},
			},
			want: []got{{o, 0, "0123456789abcde"}, {o, 0, "xyz"}, {r, 0, "ab"}, {r, 0, "cd"}},
		},
		{
			name: "sequence numbers wrap past 2^32 out of order, with a gap across the wrap",
			steps: []step{
				{dir: o, flags: S, seq: 0xfffffff0},
				{dir: o, flags: PA, seq: 5, data: "tail"},
				{dir: o, flags: PA, seq: 0xfffffffa, data: "mid"},
				{dir: o, flags: PA, seq: 0xfffffff1, data: "head"},
				end,
			},
			want:  []got{{o, 0, "head"}, {o, 5, "mid"}, {o, 8, "tail"}},
			stats: counters{Gaps: 2, GapBytes: 13},
		},
		{
			name: "a retransmission is dropped silently",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc"},
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc"},
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "XYZ"}, // differs, but delivered bytes are not kept
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "d"},
			}),
			want:  []got{{o, 0, "abc"}, {o, 0, "d"}},
			stats: counters{Retransmissions: 2},
		},
		{
			name: "retransmissions compared with kept delivered bytes: first wins",
			cfg:  Config{KeepDelivered: 8},
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abcdefghij"},
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "aXc"},  // before the kept window: not compared
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "dXf"},  // inside it and different
				{dir: o, flags: PA, seq: 1008, ack: 5001, data: "hij"},  // inside it and the same
				{dir: o, flags: PA, seq: 1010, ack: 5001, data: "JKL"},  // partial overlap, different old byte
				{dir: o, flags: PA, seq: 1013, ack: 5001, data: "MNOP"}, // in order
				{dir: o, flags: PA, seq: 1012, ack: 5001, data: "L"},    // the same, across the ring's wrap
				{dir: o, flags: PA, seq: 1011, ack: 5001, data: "kL"},   // different, across the wrap
			}),
			want:   []got{{o, 0, "abcdefghij"}, {o, 0, "KL"}, {o, 0, "MNOP"}},
			events: []string{EventOverlapDifferent, EventOverlapDifferent, EventOverlapDifferent},
			stats:  counters{OverlapsDiffer: 3, Retransmissions: 5},
		},
		{
			name: "kept bytes are forgotten across a gap",
			cfg:  Config{KeepDelivered: 8},
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc", missing: 2},
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "XYZ"}, // pending gap: not compared
				{dir: o, flags: PA, seq: 1006, ack: 5001, data: "fg"},
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "XYZ"}, // before the gap: forgotten
				{dir: o, flags: PA, seq: 1006, ack: 5001, data: "Fg"},  // after it: compared
			}),
			want:   []got{{o, 0, "abc"}, {o, 2, "fg"}},
			events: []string{EventOverlapDifferent},
			stats:  counters{Gaps: 1, GapBytes: 2, OverlapsDiffer: 1, Retransmissions: 3},
		},
		{
			name: "kept bytes after a FIN line up with the data, not the FIN",
			cfg:  Config{KeepDelivered: 4},
			steps: with(hs, []step{
				{dir: o, flags: FA, seq: 1001, ack: 5001, data: "abcd"},
				{dir: o, flags: PA, seq: 1003, ack: 5001, data: "cd"},
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "D"},
			}),
			want:   []got{{o, 0, "abcd"}},
			events: []string{EventOverlapDifferent},
			stats:  counters{OverlapsDiffer: 1, Retransmissions: 2},
		},
		{
			name: "a partial overlap keeps only the new bytes",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc"},
				{dir: o, flags: PA, seq: 1002, ack: 5001, data: "bcdef"},
			}),
			want: []got{{o, 0, "abc"}, {o, 0, "def"}},
		},
		{
			name: "overlap with buffered bytes that differ: first wins",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "def"},
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abcXYZg"},
			}),
			want:   []got{{o, 0, "abc"}, {o, 0, "def"}, {o, 0, "g"}},
			events: []string{EventOverlapDifferent},
			stats:  counters{Overlaps: 1, OverlapsDiffer: 1},
		},
		{
			name: "overlap between two buffered segments: first wins",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "de"},
				{dir: o, flags: PA, seq: 1008, ack: 5001, data: "hi"},
				{dir: o, flags: PA, seq: 1005, ack: 5001, data: "EFGHI"}, // E and H, I differ; F, G are new
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc"},
			}),
			want:   []got{{o, 0, "abc"}, {o, 0, "de"}, {o, 0, "FG"}, {o, 0, "hi"}},
			events: []string{EventOverlapDifferent},
			stats:  counters{Overlaps: 1, OverlapsDiffer: 1},
		},
		{
			name: "overlap with identical buffered bytes is quiet",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "def"},
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "def"},
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abcdefg"},
			}),
			want:  []got{{o, 0, "abc"}, {o, 0, "def"}, {o, 0, "g"}},
			stats: counters{Overlaps: 2, Retransmissions: 1},
		},
		{
			name: "RST in window ends the stream",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc"},
				{dir: r, flags: R, seq: 5001},
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "def"},
				{dir: r, flags: PA, seq: 5001, ack: 1004, data: "late"},
			}),
			want:  []got{{o, 0, "abc"}},
			stats: counters{AfterClose: 2},
		},
		{
			name: "RST out of window is ignored",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc", win: 100},
				{dir: r, flags: R, seq: 5001 + 101},
				{dir: r, flags: R, seq: 5000},
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "def"},
				{dir: r, flags: R, seq: 5001 + 100}, // orig's last window was 0: only an exact match counts
			}),
			want:   []got{{o, 0, "abc"}, {o, 0, "def"}},
			events: []string{EventRSTOutOfWindow, EventRSTOutOfWindow, EventRSTOutOfWindow},
			stats:  counters{RSTOutOfWindow: 3},
		},
		{
			name: "RST at the edge of the receiver's window is accepted",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc", win: 100},
				{dir: r, flags: R, seq: 5001 + 100},
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "def"},
			}),
			want:  []got{{o, 0, "abc"}},
			stats: counters{AfterClose: 1},
		},
		{
			name: "RST from a direction that never sent is accepted",
			steps: []step{
				{dir: o, flags: PA, seq: 10, data: "abc"},
				{dir: r, flags: R, seq: 12345},
				{dir: o, flags: PA, seq: 13, data: "def"},
			},
			want:  []got{{o, 0, "abc"}},
			stats: counters{AfterClose: 1},
		},
		{
			name: "no data beyond an accepted FIN",
			steps: with(hs, []step{
				{dir: o, flags: FA, seq: 1001, ack: 5001, data: "abc"},
				{dir: o, flags: PA, seq: 1005, ack: 5001, data: "def"},
				{dir: o, flags: PA, seq: 1003, ack: 5001, data: "cXYZ"}, // old byte and bytes beyond the FIN
			}),
			want:  []got{{o, 0, "abc"}},
			stats: counters{AfterClose: 2, Retransmissions: 1},
		},
		{
			name: "an out-of-order FIN still takes the data before it",
			steps: with(hs, []step{
				{dir: o, flags: FA, seq: 1004, ack: 5001, data: "def"},
				{dir: o, flags: PA, seq: 1007, ack: 5001, data: "zzz"},
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc"},
				{dir: r, flags: A, seq: 5001, ack: 1008},
			}),
			want:  []got{{o, 0, "abc"}, {o, 0, "def"}},
			stats: counters{AfterClose: 1},
		},
		{
			name: "a FIN drops buffered data beyond it",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "defgh"},
				{dir: o, flags: PA, seq: 1010, ack: 5001, data: "zz"},
				{dir: o, flags: FA, seq: 1001, ack: 5001, data: "abcd"},
				end,
			}),
			want:  []got{{o, 0, "abc"}, {o, 0, "d"}}, // the FIN at 1005 cut "defgh" to "d"; the copies agree
			stats: counters{AfterClose: 1, Overlaps: 1},
		},
		{
			name: "FIN out of window is ignored",
			steps: with(hs, []step{
				{dir: o, flags: PA, seq: 1001, ack: 5001, data: "abc"},
				{dir: r, flags: A, seq: 5001, ack: 1004, win: 10},
				{dir: o, flags: FA, seq: 1004 + 11, ack: 5001},
				{dir: o, flags: PA, seq: 1004, ack: 5001, data: "def"},
			}),
			want:   []got{{o, 0, "abc"}, {o, 0, "def"}},
			events: []string{EventFINOutOfWindow},
			stats:  counters{FINOutOfWindow: 1},
		},
		{
			name: "Close delivers buffered segments in order with gaps",
			steps: with(hs, []step{
				{dir: r, flags: PA, seq: 5011, ack: 1001, data: "r"},
				{dir: o, flags: PA, seq: 1010, ack: 5001, data: "b"},
				{dir: o, flags: PA, seq: 1005, ack: 5001, data: "a"},
				end,
			}),
			want:  []got{{o, 4, "a"}, {o, 4, "b"}, {r, 10, "r"}},
			stats: counters{Gaps: 3, GapBytes: 18},
		},
		{
			name: "Close on a flow without state does nothing, and a second Close neither",
			steps: []step{
				end,
				{dir: o, flags: PA, seq: 1, data: "a"},
				end,
				end,
			},
			want: []got{{o, 0, "a"}},
		},
		{
			name: "after Close the slot starts over",
			steps: []step{
				{dir: o, flags: PA, seq: 1, data: "a"},
				{dir: o, flags: PA, seq: 5, data: "b"},
				end,
				{dir: o, flags: PA, seq: 100, data: "c"},
			},
			want:  []got{{o, 0, "a"}, {o, 3, "b"}, {o, 0, "c"}},
			stats: counters{Gaps: 1, GapBytes: 3},
		},
	}
}

func TestAssembler(t *testing.T) {
	for _, tt := range assemblerCases() {
		t.Run(tt.name, func(t *testing.T) {
			rec, a := run(tt.cfg, tt.steps)
			if diff := cmp.Diff(tt.want, rec.chunks); diff != "" {
				t.Errorf("chunks (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.events, rec.events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.stats, countersOf(a.Stats())); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			for i := 1; i < len(rec.index); i++ {
				if rec.index[i] < rec.index[i-1] {
					t.Errorf("chunk %d index %d < previous %d", i, rec.index[i], rec.index[i-1])
				}
			}
			checkInvariants(t, a)
		})
	}
}

// checkInvariants verifies the internal state every Add and Close must
// leave: buffers sorted, non-overlapping, after next, within the limits, and
// the byte accounting right.
func checkInvariants(t testing.TB, a *Assembler) {
	t.Helper()
	total, streams := 0, 0
	for ci := range a.conns {
		c := &a.conns[ci]
		if !c.active {
			for _, h := range c.dirs {
				if len(h.segs) != 0 || h.buffered != 0 {
					t.Fatalf("slot %d: inactive with buffered data", ci)
				}
			}
			continue
		}
		streams++
		for d := range c.dirs {
			h := &c.dirs[d]
			n := 0
			prev := h.next
			for i, s := range h.segs {
				if diff(s.seq, prev) <= 0 {
					t.Fatalf("slot %d dir %d seg %d at %d not after %d", ci, d, i, s.seq, prev)
				}
				if len(s.data)+s.missing == 0 {
					t.Fatalf("slot %d dir %d seg %d empty", ci, d, i)
				}
				if h.fin && diff(s.end(), h.finSeq) > 0 {
					t.Fatalf("slot %d dir %d seg %d beyond FIN", ci, d, i)
				}
				n += len(s.data)
				prev = s.end() - 1
			}
			if n != h.buffered {
				t.Fatalf("slot %d dir %d: buffered %d, segments hold %d", ci, d, h.buffered, n)
			}
			if h.buffered > a.cfg.MaxBufferedPerDir || len(h.segs) > a.cfg.MaxSegmentsPerDir {
				t.Fatalf("slot %d dir %d: %d bytes in %d segments beyond the limits", ci, d, h.buffered, len(h.segs))
			}
			total += n
		}
	}
	st := a.Stats()
	if total != st.Buffered || st.Buffered > a.cfg.MaxBufferedTotal || st.Buffered > st.PeakBuffered {
		t.Fatalf("buffered %d, stats say %d (peak %d, cap %d)", total, st.Buffered, st.PeakBuffered, a.cfg.MaxBufferedTotal)
	}
	if streams != st.Streams {
		t.Fatalf("%d active streams, stats say %d", streams, st.Streams)
	}
	if a.pool.idle > a.pool.limit {
		t.Fatalf("pool keeps %d idle bytes, limit %d", a.pool.idle, a.pool.limit)
	}
}

func TestNonTCPIgnored(t *testing.T) {
	rec := &recorder{}
	a := New(Config{}, rec)
	f := &flow.Flow{ID: 1, Proto: decode.UDP}
	a.Add(f, flow.Orig, &decode.Packet{Proto: decode.UDP, Payload: []byte("x")}, 1)
	a.Add(f, flow.Dir(7), &decode.Packet{Proto: decode.TCP, Payload: []byte("x")}, 2)
	if len(rec.chunks) != 0 || a.Stats().Streams != 0 {
		t.Fatalf("got %v, %d streams", rec.chunks, a.Stats().Streams)
	}
}

func TestSlotReusedWithoutClose(t *testing.T) {
	rec := &recorder{}
	a := New(Config{}, rec)
	f1 := &flow.Flow{ID: 1, Slot: 0, Proto: decode.TCP}
	f2 := &flow.Flow{ID: 9, Slot: 0, Proto: decode.TCP}
	a.Add(f1, flow.Orig, packet(step{flags: PA, seq: 10, data: "a"}, time.Time{}), 1)
	a.Add(f1, flow.Orig, packet(step{flags: PA, seq: 20, data: "lost"}, time.Time{}), 2)
	a.Add(f2, flow.Orig, packet(step{flags: PA, seq: 500, data: "b"}, time.Time{}), 3)
	a.Close(f1) // stale: the slot belongs to f2 now
	a.Close(f2)
	want := []got{{o, 0, "a"}, {o, 0, "b"}}
	if diff := cmp.Diff(want, rec.chunks); diff != "" {
		t.Fatalf("chunks (-want +got):\n%s", diff)
	}
	checkInvariants(t, a)
	if st := a.Stats(); st.Buffered != 0 || st.Streams != 0 {
		t.Fatalf("after Close: %+v", st)
	}
}

func TestDefaults(t *testing.T) {
	a := New(Config{MaxBufferedPerDir: -1, KeepDelivered: -5}, nil)
	want := Config{MaxBufferedPerDir: DefaultMaxBufferedPerDir, MaxBufferedTotal: DefaultMaxBufferedTotal, MaxSegmentsPerDir: DefaultMaxSegmentsPerDir}
	if a.cfg != want {
		t.Fatalf("config %+v, want %+v", a.cfg, want)
	}
	// A nil handler discards.
	a.Add(&flow.Flow{Proto: decode.TCP}, flow.Orig, packet(step{seq: 1, data: "x"}, time.Time{}), 1)
}

// TestSplit feeds a stream as two segments split at every point, in both
// orders, with and without overlap, and checks the bytes come out whole.
func TestSplit(t *testing.T) {
	const msg = "GNUTELLA CONNECT/0.6\r\nUser-Agent: x\r\n\r\n"
	for k := 1; k < len(msg); k++ {
		for _, overlap := range []int{0, 1, 3} {
			for _, reverse := range []bool{false, true} {
				lo := k - overlap
				if lo < 0 {
					lo = 0
				}
				first := step{dir: o, flags: PA, seq: 1001, ack: 5001, data: msg[:k]}
				second := step{dir: o, flags: PA, seq: 1001 + uint32(lo), ack: 5001, data: msg[lo:]}
				steps := with(hs, []step{first, second, {close: true}})
				if reverse {
					steps = with(hs, []step{second, first, {close: true}})
				}
				rec, a := run(Config{}, steps)
				var b strings.Builder
				for _, c := range rec.chunks {
					if c.Gap != 0 {
						t.Fatalf("split %d overlap %d reverse %v: gap %d", k, overlap, reverse, c.Gap)
					}
					b.WriteString(c.Data)
				}
				if b.String() != msg {
					t.Fatalf("split %d overlap %d reverse %v: got %q", k, overlap, reverse, b.String())
				}
				if len(rec.events) != 0 {
					t.Fatalf("split %d: events %v", k, rec.events)
				}
				checkInvariants(t, a)
			}
		}
	}
}

// TestInOrderAllocs asserts that in-order data and pure ACKs allocate
// nothing once the flow's state exists.
func TestInOrderAllocs(t *testing.T) {
	for _, cfg := range []Config{{}, {KeepDelivered: 4096}} {
		inOrderAllocs(t, cfg)
	}
}

func inOrderAllocs(t *testing.T, cfg Config) {
	a := New(cfg, &countHandler{})
	f := &flow.Flow{ID: 1, Slot: 5, Proto: decode.TCP}
	payload := make([]byte, 1460)
	seq, ack := uint32(1000), uint32(5001)
	p := &decode.Packet{Proto: decode.TCP, TCP: decode.TCPInfo{Seq: seq, Flags: decode.SYN, Window: 65535}}
	a.Add(f, flow.Orig, p, 1)
	pa := &decode.Packet{Proto: decode.TCP, TCP: decode.TCPInfo{Seq: 5000, Ack: seq + 1, Flags: SA, Window: 65535}}
	a.Add(f, flow.Resp, pa, 2)
	seq++
	var idx uint64 = 3
	allocs := testing.AllocsPerRun(1000, func() {
		p.TCP = decode.TCPInfo{Seq: seq, Ack: ack, Flags: PA, Window: 65535}
		p.Payload = payload
		a.Add(f, flow.Orig, p, idx)
		seq += uint32(len(payload))
		idx++
		pa.TCP = decode.TCPInfo{Seq: ack, Ack: seq, Flags: A, Window: 65535}
		a.Add(f, flow.Resp, pa, idx)
		idx++
	})
	if allocs != 0 {
		t.Fatalf("%+v: in-order path allocates %v times per segment", cfg, allocs)
	}
}

// countHandler counts bytes and checks nothing else.
type countHandler struct{ n, gaps int }

func (h *countHandler) Data(f *flow.Flow, c Chunk)                     { h.n += len(c.Data); h.gaps += c.Gap }
func (h *countHandler) Event(f *flow.Flow, name string, detail string) {}

func BenchmarkInOrder(b *testing.B) {
	for _, size := range []int{64, 1460} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			h := &countHandler{}
			a := New(Config{}, h)
			f := &flow.Flow{ID: 1, Proto: decode.TCP}
			p := &decode.Packet{Proto: decode.TCP, Payload: make([]byte, size)}
			seq := uint32(0xfff00000) // crosses the wrap during long runs
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				p.TCP = decode.TCPInfo{Seq: seq, Ack: 1, Flags: PA, Window: 65535}
				a.Add(f, flow.Orig, p, uint64(i))
				seq += uint32(size)
			}
			if h.gaps != 0 {
				b.Fatalf("gaps %d", h.gaps)
			}
		})
	}
}

// BenchmarkOutOfOrder measures the buffering path: pairs of segments
// arriving swapped.
func BenchmarkOutOfOrder(b *testing.B) {
	const size = 1460
	h := &countHandler{}
	a := New(Config{}, h)
	f := &flow.Flow{ID: 1, Proto: decode.TCP}
	p := &decode.Packet{Proto: decode.TCP, Payload: make([]byte, size)}
	seq := uint32(1)
	b.SetBytes(2 * size)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.TCP = decode.TCPInfo{Seq: seq + size, Flags: PA}
		a.Add(f, flow.Orig, p, uint64(2*i))
		p.TCP = decode.TCPInfo{Seq: seq, Flags: PA}
		a.Add(f, flow.Orig, p, uint64(2*i+1))
		seq += 2 * size
	}
	if h.gaps != 0 {
		b.Fatalf("gaps %d", h.gaps)
	}
}

// TestEventCap checks that a flood of one anomaly is counted in full but
// reported only maxEvents times per flow, and that the count starts over
// for the slot's next flow.
func TestEventCap(t *testing.T) {
	steps := with(hs)
	for i := range 3 * maxEvents {
		steps = append(steps, step{dir: r, flags: R, seq: 5001 + 70000 + uint32(i)})
	}
	steps = append(steps, step{close: true}, step{dir: r, flags: A, seq: 1})
	steps = append(steps, step{dir: r, flags: R, seq: 1 + 70000})
	rec, a := run(Config{}, steps)
	if len(rec.events) != maxEvents+1 {
		t.Errorf("%d events reported, want %d", len(rec.events), maxEvents+1)
	}
	if got := a.Stats().RSTOutOfWindow; got != 3*maxEvents+1 {
		t.Errorf("counted %d, want %d", got, 3*maxEvents+1)
	}
}

// TestStateSize logs the per-flow slab entry size, which a flow table of N
// slots multiplies, and keeps it from growing unnoticed.
func TestStateSize(t *testing.T) {
	size := unsafe.Sizeof(conn{})
	t.Logf("per-flow state: %d bytes", size)
	if size > 256 {
		t.Errorf("per-flow state grew to %d bytes", size)
	}
}

func TestPoolClass(t *testing.T) {
	for _, tt := range []struct{ n, class int }{
		{0, 0}, {1, 0}, {256, 0}, {257, 1}, {512, 1}, {513, 2}, {1460, 3}, {65535, 8}, {65536, 8}, {65537, 9},
	} {
		if got := class(tt.n); got != tt.class {
			t.Errorf("class(%d) = %d, want %d", tt.n, got, tt.class)
		}
		if minBuf<<tt.class < tt.n {
			t.Errorf("class %d holds %d bytes, fewer than %d", tt.class, minBuf<<tt.class, tt.n)
		}
	}
	var p pool
	p.init(1024, 600)
	a, b, c := p.get(300), p.get(300), p.get(2000) // c is beyond the largest class
	p.put(a)
	p.put(b) // would exceed the idle limit: dropped
	p.put(c)
	if p.idle != 512 {
		t.Errorf("idle %d, want 512", p.idle)
	}
	if d := p.get(400); &d[:1][0] != &a[:1][0] || len(d) != 400 {
		t.Errorf("get did not reuse the idle buffer")
	}
}

// TestChunkStamp checks that buffered data delivered by a later packet
// carries that packet's index and time, and that Close uses the last
// packet's.
func TestChunkStamp(t *testing.T) {
	type stamp struct {
		Index uint64
		Time  time.Time
	}
	var got []stamp
	h := &stampHandler{fn: func(c Chunk) { got = append(got, stamp{c.Index, c.Time}) }}
	a := New(Config{}, h)
	f := &flow.Flow{ID: 3, Slot: 1, Proto: decode.TCP}
	t0 := time.Unix(1000, 0)
	for i, s := range []step{
		{flags: PA, seq: 10, data: "a"},
		{flags: PA, seq: 12, data: "c"},
		{flags: PA, seq: 11, data: "b"},
		{flags: PA, seq: 20, data: "z"},
		{dir: r, flags: A, seq: 1, ack: 5},
	} {
		a.Add(f, s.dir, packet(s, t0.Add(time.Duration(i)*time.Second)), uint64(10+i))
	}
	a.Close(f)
	want := []stamp{
		{10, t0},
		{12, t0.Add(2 * time.Second)}, {12, t0.Add(2 * time.Second)}, // "b", then the buffered "c"
		{14, t0.Add(4 * time.Second)}, // "z", delivered by Close
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("stamps (-want +got):\n%s", diff)
	}
}

type stampHandler struct{ fn func(Chunk) }

func (h *stampHandler) Data(f *flow.Flow, c Chunk)                     { h.fn(c) }
func (h *stampHandler) Event(f *flow.Flow, name string, detail string) {}
