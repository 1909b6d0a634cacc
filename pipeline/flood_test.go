package pipeline_test

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
	"github.com/peerwatch/peerwatch/pipeline"
)

// floodScale multiplies the flood's size: CI runs 1 (a few seconds);
// `go test ./pipeline -run TestFloodMemory -v -args -flood.scale=5` is a
// bigger run.
var floodScale = flag.Int("flood.scale", 1, "size multiplier of TestFloodMemory")

// discard counts records and keeps none, so the heap holds only what the
// engine keeps.
type discard struct{ n atomic.Int64 }

func (d *discard) Write(recs []event.Record) error { d.n.Add(int64(len(recs))); return nil }
func (d *discard) Close() error                    { return nil }

// floodCapture writes a capture of n units, each: a short TCP connection
// with a line of payload, a one-datagram UDP flow, a half-open TCP
// connection (SYN only) and a connection whose first data segment is lost
// so that everything after it waits in the reassembler and never fills.
func floodCapture(t *testing.T, n int) (string, int) {
	t.Helper()
	w := pcaptest.NewWriter()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	payload := make([]byte, 1200)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	host := func(net byte, i int) netip.Addr {
		return netip.AddrFrom4([4]byte{10, net, byte(i >> 8), byte(i)})
	}
	server := netip.MustParseAddr("198.51.100.7")
	packets := 0
	for i := 0; i < n; i++ {
		ts := t0.Add(time.Duration(i) * time.Millisecond)
		port := uint16(1024 + i%60000)
		// A short, complete connection.
		c := w.TCP(ts, netip.AddrPortFrom(host(1, i), port), netip.AddrPortFrom(server, 80))
		c.Step = time.Microsecond
		c.Handshake()
		c.Send(0, []byte("HELLO peerwatch\r\n"))
		c.Close()
		packets += 3 + 2 + 3
		// A one-datagram UDP flow.
		w.UDP(ts, netip.AddrPortFrom(host(2, i), port), netip.AddrPortFrom(server, 9999), payload[:64])
		packets++
		// A half-open connection.
		h := w.TCP(ts, netip.AddrPortFrom(host(3, i), port), netip.AddrPortFrom(server, 443))
		h.Segment(0, pcaptest.SYN, nil)
		packets++
		// Out of order forever: the first segment is lost, the rest wait.
		o := w.TCP(ts, netip.AddrPortFrom(host(4, i), port), netip.AddrPortFrom(server, 8080))
		o.Step = time.Microsecond
		o.Handshake()
		o.Skip(0, 100)
		for k := 0; k < 8; k++ {
			o.Segment(0, pcaptest.PSH|pcaptest.ACK, payload)
		}
		packets += 3 + 8
	}
	path := filepath.Join(t.TempDir(), "flood.pcap")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path, packets
}

// TestFloodMemory runs a flood of short, half-open and never-filling flows
// through small caps, with the memory limit set from the configuration,
// and checks that the heap in use stays under 1.5 × the caps + 64 MiB and
// that the engine says what it shed.
func TestFloodMemory(t *testing.T) {
	n := 8000 * *floodScale
	path, packets := floodCapture(t, n)

	cfg := config.Default()
	cfg.Workers = 1
	cfg.Flow.MaxFlows = 4096
	cfg.Stream.MaxBufferedPerDir = 64 << 10
	cfg.Stream.MaxBufferedTotal = 4 << 20
	cfg.Expect.Max = 1024
	cfg.Memory.Headroom = 32 << 20
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	prevGC := debug.SetGCPercent(-1)
	debug.SetGCPercent(prevGC)
	prevLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(prevGC)
		debug.SetMemoryLimit(prevLimit)
	})
	limit := cfg.ApplyMemory()
	caps := cfg.MemoryCaps()
	bound := caps*3/2 + 64<<20

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	sink := &discard{}
	start := time.Now()
	sum, err := pipeline.Run(context.Background(), pipeline.Options{Config: cfg, Files: []string{path}, Sinks: []pipeline.Sink{sink}})
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	shed := fmt.Sprintf("flows_evicted %d, stream_buffer_limit %d, stream_gaps %d, expectations_dropped %d",
		sum.Engine["flows_evicted"], sum.Engine["stream_buffer_limit"], sum.Engine["stream_gaps"], sum.Engine["expectations_dropped"])
	t.Logf("%d packets (%d units) in %v; caps %d MiB, memory limit %d MiB, bound %d MiB; heap in use %d MiB before, peak %d MiB; %d records; shed: %s; flow end reasons %v",
		packets, n, time.Since(start).Round(time.Millisecond), caps>>20, limit>>20, bound>>20, base>>20, peak.Load()>>20, sink.n.Load(), shed, sum.FlowReasons)
	if sum.Packets != uint64(packets) {
		t.Errorf("read %d packets, wrote %d", sum.Packets, packets)
	}
	if p := peak.Load(); p > uint64(bound) {
		t.Errorf("heap in use peaked at %d MiB, over the bound %d MiB", p>>20, bound>>20)
	}
	// 4n flows through a table of 4096: the table must have shed flows and
	// said so, and the reassembler must have dropped the bytes that wait
	// behind the lost segments.
	if sum.Engine["flows_evicted"] == 0 {
		t.Error("no flow evicted: the flood did not fill the flow table, or the summary does not count it")
	}
	if sum.Engine["stream_gaps"]+sum.Engine["stream_buffer_limit"] == 0 {
		t.Error("no stream gap or buffer limit counted for segments that never fill")
	}
}
