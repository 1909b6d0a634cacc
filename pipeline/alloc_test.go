package pipeline

import (
	"net/netip"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/decode"
	"github.com/peerwatch/peerwatch/event"
)

// TestPacketPathAllocs: once a flow is known, a packet's way through the
// worker (clock, flow lookup, reassembly, classification of an unknown
// flow) allocates nothing.
func TestPacketPathAllocs(t *testing.T) {
	cfg := config.Default()
	cfg.Workers = 1
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := newRun(cfg, []byte("k"))
	w := newWorker(0, r, func(b []event.Record) []event.Record { return b[:0] })
	r.workers = []*worker{w}
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	payload := make([]byte, 200)
	for i := range payload {
		payload[i] = byte(i*7 + 3) // no protocol's prefix
	}
	p := decode.Packet{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), SrcPort: 4000, DstPort: 5000,
		Proto: decode.TCP, TCP: decode.TCPInfo{Seq: 100, Ack: 1, Flags: decode.ACK | decode.PSH}, Payload: payload, WireLen: 254}
	idx := uint64(0)
	step := func() {
		idx++
		ts = ts.Add(time.Millisecond)
		p.Timestamp = ts
		w.packet(&p, idx, ts.UnixNano(), "x.pcap")
		p.TCP.Seq += uint32(len(payload))
	}
	for i := 0; i < 64; i++ { // classification gives up; buffers warm
		step()
	}
	if n := testing.AllocsPerRun(1000, step); n != 0 {
		t.Fatalf("packet path allocates %v times per packet", n)
	}
}

func BenchmarkPacketPath(b *testing.B) {
	cfg := config.Default()
	cfg.Workers = 1
	cfg.Validate()
	r := newRun(cfg, []byte("k"))
	w := newWorker(0, r, func(b []event.Record) []event.Record { return b[:0] })
	r.workers = []*worker{w}
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	p := decode.Packet{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), SrcPort: 4000, DstPort: 5000,
		Proto: decode.TCP, TCP: decode.TCPInfo{Seq: 100, Ack: 1, Flags: decode.ACK | decode.PSH}, Payload: make([]byte, 300), WireLen: 354}
	b.ReportAllocs()
	idx := uint64(0)
	for b.Loop() {
		idx++
		ts = ts.Add(time.Microsecond)
		p.Timestamp = ts
		w.packet(&p, idx, ts.UnixNano(), "x.pcap")
		p.TCP.Seq += 300
	}
}
