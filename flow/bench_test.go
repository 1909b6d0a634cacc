package flow

import (
	"testing"
	"time"
)

// BenchmarkLookup measures Advance+Lookup of packets of 10000 live flows.
func BenchmarkLookup(b *testing.B) {
	tab := NewTable(DefaultConfig(), Hooks{End: func(*Flow, EndReason) {}})
	ps := trafficPackets(10000, t0)
	for i := range ps {
		tab.Lookup(&ps[i], uint64(i+1))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := &ps[i%len(ps)]
		tab.Advance(p.Timestamp)
		tab.Lookup(p, uint64(i))
		i++
	}
}

// BenchmarkLookupCreate measures a full table where every packet starts a
// new flow and evicts the least recent one.
func BenchmarkLookupCreate(b *testing.B) {
	tab := NewTable(Config{MaxFlows: 4096}, Hooks{End: func(*Flow, EndReason) {}})
	ps := trafficPackets(1<<17, t0)
	for i := range ps {
		tab.Lookup(&ps[i], uint64(i+1))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := &ps[i%len(ps)]
		tab.Lookup(p, uint64(i))
		i++
	}
}

// BenchmarkAdvanceTimeouts measures flows ending by timeout from Advance at
// the rate they are created.
func BenchmarkAdvanceTimeouts(b *testing.B) {
	tab := NewTable(Config{UDPIdle: time.Second}, Hooks{End: func(*Flow, EndReason) {}})
	ps := trafficPackets(1<<17, t0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := &ps[i%len(ps)]
		p.Timestamp = t0.Add(time.Duration(i) * time.Millisecond)
		tab.Advance(p.Timestamp)
		tab.Lookup(p, uint64(i))
		i++
	}
}

// BenchmarkHash measures the sharding hash.
func BenchmarkHash(b *testing.B) {
	p := tcpP(cli6, srv6, syn, 0).packet()
	b.ReportAllocs()
	var sink uint64
	for b.Loop() {
		sink += Hash(p)
	}
	_ = sink
}
