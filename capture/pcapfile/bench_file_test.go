package pcapfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// benchFilePackets and benchFrame set the size of the capture file the
// file benchmarks read: 200k frames of 300 bytes, about 63 MB.
const (
	benchFilePackets = 200_000
	benchFrame       = 300
)

// writeBenchFile writes a pcap of benchFilePackets frames of benchFrame
// bytes into dir and returns its path and size.
func writeBenchFile(b *testing.B, dir string) (string, int64) {
	b.Helper()
	f := pcapHeader(le, 0xa1b2c3d4, 4, 1)
	f.b = append(make([]byte, 0, 24+benchFilePackets*(16+benchFrame)), f.b...)
	data := frameN(benchFrame, 7)
	for i := range benchFilePackets {
		f.rec(uint32(i), uint32(i%1_000_000), data)
	}
	path := filepath.Join(dir, "bench.pcap")
	if err := os.WriteFile(path, f.b, 0o600); err != nil {
		b.Fatal(err)
	}
	return path, int64(len(f.b))
}

// BenchmarkReadFile measures ReadPacket over a capture file on disk read by
// Open, one frame per operation. bytes/s counts the file's bytes, so MB/s is
// read throughput and ns/op the cost per packet.
func BenchmarkReadFile(b *testing.B) {
	path, size := writeBenchFile(b, b.TempDir())
	b.SetBytes(size / benchFilePackets)
	r, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_, _, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			r.Close()
			if r, err = Open(path); err != nil {
				b.Fatal(err)
			}
			_, _, err = r.ReadPacket()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	r.Close()
}
