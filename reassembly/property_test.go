package reassembly

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/decode"
	"github.com/peerwatch/peerwatch/flow"
)

// streamHandler collects each direction's bytes and gaps.
type streamHandler struct {
	data   [2][]byte
	gaps   [2]int
	events []string
}

func (h *streamHandler) Data(f *flow.Flow, c Chunk) {
	h.data[c.Dir] = append(h.data[c.Dir], c.Data...)
	h.gaps[c.Dir] += c.Gap
}

func (h *streamHandler) Event(f *flow.Flow, name, detail string) { h.events = append(h.events, name) }

// TestPermutedStream cuts a known byte stream per direction into segments
// of random sizes, sends them shuffled within a window, with duplicates and
// overlapping resends, interleaved with the peer's ACKs of what it could
// have received, and checks that each direction comes out exactly as sent.
// ISNs are random and some are just below 2^32 so the streams wrap.
func TestPermutedStream(t *testing.T) {
	for iter := 0; iter < 300; iter++ {
		rng := rand.New(rand.NewPCG(uint64(iter), 42))
		var streams [2][]byte
		for d := range streams {
			streams[d] = make([]byte, 1+rng.IntN(20000))
			for i := range streams[d] {
				streams[d][i] = byte(rng.Uint32())
			}
		}
		var isn [2]uint32
		for d := range isn {
			isn[d] = rng.Uint32()
			if iter%3 == 0 {
				isn[d] = 0xffffffff - uint32(rng.IntN(3000))
			}
		}
		const window = 8 // segments in flight at once
		const maxSeg = 700
		type pkt struct {
			dir flow.Dir
			off int // stream offset of the first byte
			n   int
			fin bool
		}
		var sched []pkt
		for d := range 2 {
			var segs []pkt
			for off := 0; off < len(streams[d]); {
				n := 1 + rng.IntN(maxSeg)
				if off+n > len(streams[d]) {
					n = len(streams[d]) - off
				}
				segs = append(segs, pkt{dir: flow.Dir(d), off: off, n: n})
				off += n
			}
			segs[len(segs)-1].fin = true
			// Shuffle within consecutive windows, add duplicates and resends that
			// straddle two segments.
			var out []pkt
			for lo := 0; lo < len(segs); lo += window {
				hi := min(lo+window, len(segs))
				blk := append([]pkt(nil), segs[lo:hi]...)
				rng.Shuffle(len(blk), func(i, j int) { blk[i], blk[j] = blk[j], blk[i] })
				for _, s := range blk {
					out = append(out, s)
					if rng.IntN(5) == 0 {
						out = append(out, s) // duplicate
					}
					if rng.IntN(5) == 0 && s.off+s.n < len(streams[d]) {
						// resend overlapping this segment and the next bytes
						start := s.off + rng.IntN(s.n)
						out = append(out, pkt{dir: flow.Dir(d), off: start, n: min(maxSeg, len(streams[d])-start)})
					}
				}
			}
			if d == 0 {
				sched = out
			} else {
				// Interleave the two directions randomly, keeping each one's order.
				merged := make([]pkt, 0, len(sched)+len(out))
				i, j := 0, 0
				for i < len(sched) || j < len(out) {
					if j == len(out) || (i < len(sched) && rng.IntN(2) == 0) {
						merged = append(merged, sched[i])
						i++
					} else {
						merged = append(merged, out[j])
						j++
					}
				}
				sched = merged
			}
		}

		h := &streamHandler{}
		a := New(Config{KeepDelivered: []int{0, 1, 1000}[iter%3]}, h)
		f := &flow.Flow{ID: uint64(iter + 1), Slot: uint32(iter % 7), Proto: decode.TCP}
		t0 := time.Unix(0, 0)
		idx := uint64(1)
		add := func(d flow.Dir, p *decode.Packet) {
			p.Proto = decode.TCP
			p.Timestamp = t0
			a.Add(f, d, p, idx)
			idx++
		}
		add(flow.Orig, &decode.Packet{TCP: decode.TCPInfo{Seq: isn[0], Flags: decode.SYN, Window: 65535}})
		add(flow.Resp, &decode.Packet{TCP: decode.TCPInfo{Seq: isn[1], Ack: isn[0] + 1, Flags: SA, Window: 65535}})
		// recv[d] tracks, per byte, whether the peer has received it, so ACKs
		// only cover what a receiver could acknowledge.
		var recv [2][]bool
		var acked [2]int
		for d := range 2 {
			recv[d] = make([]bool, len(streams[d]))
		}
		for _, s := range sched {
			d := s.dir
			od := d.Other()
			flags := PA
			if s.fin && s.off+s.n == len(streams[d]) {
				flags |= decode.FIN
			}
			for i := s.off; i < s.off+s.n; i++ {
				recv[d][i] = true
			}
			for acked[od] < len(recv[od]) && recv[od][acked[od]] {
				acked[od]++
			}
			add(d, &decode.Packet{
				TCP:     decode.TCPInfo{Seq: isn[d] + 1 + uint32(s.off), Ack: isn[od] + 1 + uint32(acked[od]), Flags: flags, Window: 65535},
				Payload: streams[d][s.off : s.off+s.n],
			})
			checkInvariants(t, a)
		}
		a.Close(f)
		for d := range 2 {
			if h.gaps[d] != 0 || !bytes.Equal(h.data[d], streams[d]) {
				t.Fatalf("iter %d dir %d: got %d bytes with %d gap bytes, want %d bytes; equal=%v",
					iter, d, len(h.data[d]), h.gaps[d], len(streams[d]), bytes.Equal(h.data[d], streams[d]))
			}
		}
		for _, e := range h.events {
			t.Fatalf("iter %d: unexpected event %s", iter, e)
		}
		if st := a.Stats(); st.Buffered != 0 || st.Streams != 0 || st.Gaps != 0 || st.BufferLimit != 0 {
			t.Fatalf("iter %d: stats after Close %+v", iter, st)
		}
	}
}
