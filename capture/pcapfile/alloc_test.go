package pcapfile

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// benchFile builds a capture of n frames of mixed sizes (60..1514 bytes) in
// the named format: "pcap", "pcapng" or either with "+gzip".
func benchFile(format string, n int) []byte {
	var f *capFile
	base, gzipped := strings.CutSuffix(format, "+gzip")
	if base == "pcap" {
		f = pcapHeader(le, 0xa1b23c4d, 4, 1)
	} else {
		f = pcapng(le)
		f.idb(1, 0, f.tsresol(9))
	}
	sizes := []int{60, 1514, 590, 66, 1200, 1514, 54}
	for i := range n {
		data := frameN(sizes[i%len(sizes)], byte(i))
		if base == "pcap" {
			f.rec(uint32(i), uint32(i*1000), data)
		} else {
			f.epb(0, uint64(i)*1_000_000_123, uint32(len(data)), data)
		}
	}
	if gzipped {
		return gz(f.b)
	}
	return f.b
}

var benchFormats = []string{"pcap", "pcapng", "pcap+gzip", "pcapng+gzip"}

// TestReadPacketAllocs checks that ReadPacket allocates nothing in steady
// state, for every format.
func TestReadPacketAllocs(t *testing.T) {
	for _, format := range benchFormats {
		t.Run(format, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(benchFile(format, 400)), "alloc")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for range 20 { // warm-up
				if _, _, err := r.ReadPacket(); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(300, func() {
				if _, _, err := r.ReadPacket(); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("ReadPacket: %v allocations per frame, want 0", allocs)
			}
		})
	}
}

// BenchmarkRead measures reading frames from memory; bytes/s counts the
// uncompressed capture stream.
func BenchmarkRead(b *testing.B) {
	for _, format := range benchFormats {
		b.Run(format, func(b *testing.B) {
			const frames = 2000
			in := benchFile(format, frames)
			raw := benchFile(strings.TrimSuffix(format, "+gzip"), frames)
			b.SetBytes(int64(len(raw) / frames))
			br := bytes.NewReader(in)
			r, err := NewReader(br, "bench")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				_, _, err := r.ReadPacket()
				if errors.Is(err, io.EOF) {
					br.Reset(in)
					if r, err = NewReader(br, "bench"); err != nil {
						b.Fatal(err)
					}
					_, _, err = r.ReadPacket()
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
