package reassembly

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/decode"
	"github.com/peerwatch/peerwatch/flow"
)

// The fuzz input is 8 bytes of ISNs (orig, resp; big endian) followed by
// records of recLen bytes, each one packet or a Close:
//
//	0    TCP flags
//	1    bit 0 direction, bit 1 flow (two flows share the Assembler), bit 7 Close the flow instead
//	2-3  seq - ISN of the direction, signed
//	4    payload length
//	5    missing (snaplen-truncated) bytes
//	6-7  ack - ISN of the other direction, signed
//	8    window / 4
//
// Payload bytes are a fixed function of direction and sequence number, so
// every delivered byte can be checked against what was "sent".
const recLen = 9

// fuzzByte is the content of byte seq of direction d.
func fuzzByte(d flow.Dir, seq uint32) byte {
	return byte((seq*2654435761)>>24) ^ byte(d)*0x5a
}

// fuzzDir is the harness's model of one direction of one flow.
type fuzzDir struct {
	started bool
	start   uint32 // first sequence number the Assembler delivers from
	pos     int64  // delivered bytes + gaps, relative to start
	bound   int64  // furthest segment end or ACK seen, relative to start
	sent    int64  // payload bytes sent since start
	data    int64  // payload bytes delivered
}

type fuzzHandler struct {
	t     *testing.T
	flows [2]*flow.Flow
	dirs  [2][2]fuzzDir
}

func (h *fuzzHandler) Data(f *flow.Flow, c Chunk) {
	fd := &h.dirs[f.Slot%2][c.Dir]
	if !fd.started {
		h.t.Fatalf("data for a direction that never sent")
	}
	if c.Gap < 0 || (len(c.Data) == 0 && c.Gap == 0) {
		h.t.Fatalf("chunk with gap %d and %d bytes", c.Gap, len(c.Data))
	}
	fd.pos += int64(c.Gap)
	for i, b := range c.Data {
		if want := fuzzByte(c.Dir, fd.start+uint32(fd.pos)+uint32(i)); b != want {
			h.t.Fatalf("dir %v byte at offset %d: got %#x want %#x", c.Dir, fd.pos+int64(i), b, want)
		}
	}
	fd.pos += int64(len(c.Data))
	fd.data += int64(len(c.Data))
	if fd.pos > fd.bound {
		h.t.Fatalf("dir %v delivered up to offset %d, beyond anything sent or acknowledged (%d)", c.Dir, fd.pos, fd.bound)
	}
	if fd.data > fd.sent {
		h.t.Fatalf("dir %v delivered %d bytes of %d sent", c.Dir, fd.data, fd.sent)
	}
}

func (h *fuzzHandler) Event(f *flow.Flow, name, detail string) {
	if name == EventOverlapDifferent {
		h.t.Fatalf("overlap reported different but every copy is the same: %s", detail)
	}
}

// stretch moves a bound to cover x, a sequence number of the direction.
func (fd *fuzzDir) stretch(x uint32) {
	if rel := int64(int32(x - fd.start)); rel > fd.bound {
		fd.bound = rel
	}
}

func FuzzAssembler(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 8 {
			return
		}
		isn := [2]uint32{binary.BigEndian.Uint32(in), binary.BigEndian.Uint32(in[4:])}
		in = in[8:]
		h := &fuzzHandler{t: t}
		a := New(Config{MaxBufferedPerDir: 300, MaxBufferedTotal: 500, MaxSegmentsPerDir: 4, KeepDelivered: 100}, h)
		ids := uint64(1)
		for i := range h.flows {
			h.flows[i] = &flow.Flow{ID: ids, Slot: uint32(i * 5), Proto: decode.TCP} // slots 0 and 5
			ids++
		}
		payload := make([]byte, 256)
		var p decode.Packet
		for n := uint64(1); len(in) >= recLen; n++ {
			r := in[:recLen]
			in = in[recLen:]
			fi := int(r[1]>>1) & 1
			fl := h.flows[fi]
			if r[1]&0x80 != 0 {
				a.Close(fl)
				h.dirs[fi] = [2]fuzzDir{}
				fl.ID = ids // the slot's next flow
				ids++
				checkInvariants(t, a)
				continue
			}
			d := flow.Dir(r[1] & 1)
			od := d.Other()
			flags := decode.TCPFlags(r[0])
			seq := isn[d] + uint32(int16(binary.BigEndian.Uint16(r[2:])))
			ack := isn[od] + uint32(int16(binary.BigEndian.Uint16(r[6:])))
			data := payload[:r[4]]
			dataSeq := seq
			if flags&decode.SYN != 0 {
				dataSeq++
			}
			for i := range data {
				data[i] = fuzzByte(d, dataSeq+uint32(i))
			}
			p = decode.Packet{
				Timestamp: time.Unix(int64(n), 0),
				Proto:     decode.TCP,
				TCP:       decode.TCPInfo{Seq: seq, Ack: ack, Flags: flags, Window: uint16(r[8]) * 4},
				Payload:   data,
				Missing:   int(r[5]),
			}
			fd := &h.dirs[fi][d]
			if flags&decode.RST == 0 {
				if !fd.started {
					fd.started, fd.start = true, dataSeq
				}
				fd.sent += int64(len(data))
				fd.stretch(dataSeq + uint32(len(data)+p.Missing))
			}
			if flags&decode.ACK != 0 && flags&decode.RST == 0 && h.dirs[fi][od].started {
				h.dirs[fi][od].stretch(ack)
			}
			a.Add(fl, d, &p, n)
			checkInvariants(t, a)
		}
		for i, fl := range h.flows {
			a.Close(fl)
			h.dirs[i] = [2]fuzzDir{}
		}
		checkInvariants(t, a)
		if st := a.Stats(); st.Buffered != 0 || st.Streams != 0 {
			t.Fatalf("after Close: %+v", st)
		}
	})
}

// fuzzSeeds encodes the table test cases (those whose numbers fit the
// record format) as fuzz inputs, plus a few hand-written records.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, steps := range tableSteps() {
		var isn [2]uint32
		var have [2]bool
		for _, s := range steps {
			if !s.close && s.flags&R == 0 && !have[s.dir] {
				isn[s.dir], have[s.dir] = s.seq, true
			}
		}
		in := binary.BigEndian.AppendUint32(nil, isn[0])
		in = binary.BigEndian.AppendUint32(in, isn[1])
		ok := true
		for _, s := range steps {
			if s.close {
				in = append(in, 0, 0x80, 0, 0, 0, 0, 0, 0, 0)
				continue
			}
			sd, ad := int64(int32(s.seq-isn[s.dir])), int64(int32(s.ack-isn[s.dir.Other()]))
			if sd < math.MinInt16 || sd > math.MaxInt16 || ad < math.MinInt16 || ad > math.MaxInt16 || len(s.data) > 255 || s.missing > 255 {
				ok = false
				break
			}
			rec := []byte{byte(s.flags), byte(s.dir), 0, 0, byte(len(s.data)), byte(s.missing), 0, 0, byte(s.win / 4)}
			binary.BigEndian.PutUint16(rec[2:], uint16(int16(sd)))
			binary.BigEndian.PutUint16(rec[6:], uint16(int16(ad)))
			in = append(in, rec...)
		}
		if ok {
			seeds = append(seeds, in)
		}
	}
	// Two flows interleaved, each with a segment out of order, then the
	// second closed mid-way and its slot reused.
	seeds = append(seeds, []byte{
		0, 0, 0, 100, 0, 0, 0, 200,
		byte(PA), 0, 0, 10, 20, 0, 0, 0, 255, // flow 0 orig: 20 bytes at +10
		byte(PA), 2, 0, 40, 20, 0, 0, 0, 255, // flow 1 orig: 20 bytes at +40
		byte(PA), 2, 0, 0, 30, 0, 0, 0, 255, // flow 1 orig: fills to +30, still a hole
		byte(A), 3, 0, 0, 0, 0, 0, 60, 255, // flow 1 resp acks +60: gap declared
		0, 0x82, 0, 0, 0, 0, 0, 0, 0, // close flow 1
		byte(PA), 2, 0, 0, 5, 0, 0, 0, 255, // flow 1 slot reused
	})
	return seeds
}
