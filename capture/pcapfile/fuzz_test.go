package pcapfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader feeds arbitrary bytes to NewReader and ReadPacket. Whatever
// the input, reading must not panic, must end with io.EOF or a *Error that
// wraps a sentinel, and every frame must be within bounds.
func FuzzReader(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*cap*"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	a := frameN(14, 1)
	for _, fl := range truncationFiles() {
		f.Add(fl.b) // every format variant the truncation test knows
	}
	// Nanosecond pcap with an FCS-flagged link type.
	f.Add(pcapHeader(be, 0xa1b23c4d, 4, 0x44000001).rec(1, 2, a).b)
	// Old pcap 2.1 with swapped lengths.
	f.Add(pcapHeader(le, 0xa1b2c3d4, 1, 1).record(1, 2, 60, 14, 0, a).b)
	// pcapng with binary tsresol, tsoffset, an unknown block and an SPB.
	ng := pcapng(be)
	ng.idb(1, 16, ng.tsresol(0x80|30), ng.tsoffset(-5)).block(0xBAD, []byte{1, 2, 3}, false).
		epb(0, 1<<40, 99, a).spb(14, a)
	f.Add(ng.b)
	// The same, gzip-compressed.
	f.Add(gz(ng.b))

	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewReader(bytes.NewReader(in), "fuzz")
		var frames int
		last := int64(-1)
		for err == nil {
			var data []byte
			data, ci, rerr := r.ReadPacket()
			if rerr != nil {
				err = rerr
				break
			}
			frames++
			if len(data) != ci.CaptureLen || ci.CaptureLen > MaxPacket {
				t.Fatalf("frame %d: %d bytes, CaptureLen %d", frames, len(data), ci.CaptureLen)
			}
			if ci.Offset <= last || ci.Offset >= r.Offset() {
				t.Fatalf("frame %d: offset %d after %d, reader at %d", frames, ci.Offset, last, r.Offset())
			}
			last = ci.Offset
			if r.gz == nil && r.Offset() > int64(len(in)) {
				t.Fatalf("consumed %d of %d bytes", r.Offset(), len(in))
			}
			if len(r.LinkTypes()) == 0 {
				t.Fatalf("frame %d but no link type", frames)
			}
		}
		if err == io.EOF {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %T %v is not *Error", err, err)
		}
		known := false
		for _, s := range []error{ErrNotCapture, ErrEmpty, ErrTruncated, ErrCorrupt, ErrTooLarge} {
			known = known || errors.Is(err, s)
		}
		if !known {
			t.Fatalf("error %v wraps no sentinel", err)
		}
		if r != nil {
			if _, _, again := r.ReadPacket(); again != err {
				t.Fatalf("error not sticky: %v then %v", err, again)
			}
		}
	})
}
