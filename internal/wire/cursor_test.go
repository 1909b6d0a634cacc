package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestCursorReads(t *testing.T) {
	in := []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f}
	c := NewCursor(in)
	if got := c.U8(); got != 0x01 {
		t.Errorf("U8 = %#x", got)
	}
	if got := c.U16BE(); got != 0x0203 {
		t.Errorf("U16BE = %#x", got)
	}
	if got := c.U16LE(); got != 0x0504 {
		t.Errorf("U16LE = %#x", got)
	}
	if got := c.U32BE(); got != 0x06070809 {
		t.Errorf("U32BE = %#x", got)
	}
	if got := c.U32LE(); got != 0x0d0c0b0a {
		t.Errorf("U32LE = %#x", got)
	}
	if got := c.U64BE(); got != 0x0e0f101112131415 {
		t.Errorf("U64BE = %#x", got)
	}
	if got := c.U64LE(); got != 0x1d1c1b1a19181716 {
		t.Errorf("U64LE = %#x", got)
	}
	if c.Offset() != 29 || c.Len() != 2 {
		t.Errorf("Offset, Len = %d, %d; want 29, 2", c.Offset(), c.Len())
	}
	if p := c.Peek(2); !bytes.Equal(p, []byte{0x1e, 0x1f}) || c.Len() != 2 {
		t.Errorf("Peek = %x, Len %d", p, c.Len())
	}
	if p := c.Rest(); !bytes.Equal(p, []byte{0x1e, 0x1f}) {
		t.Errorf("Rest = %x", p)
	}
	if !c.OK() || c.Err() != nil || c.Len() != 0 {
		t.Errorf("healthy cursor at end: OK %v Err %v Len %d", c.OK(), c.Err(), c.Len())
	}
}

// TestCursorShort truncates a fixed layout at every byte and checks that the
// failure is sticky and reads past the end return zero values.
func TestCursorShort(t *testing.T) {
	in := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	const need = 1 + 2 + 4 + 4 // U8, U16BE, U32LE, Bytes(4)
	for cut := 0; cut <= need; cut++ {
		c := NewCursor(in[:cut])
		a, b, d, e := c.U8(), c.U16BE(), c.U32LE(), c.Bytes(4)
		if cut == need {
			if !c.OK() || a != 0xff || b != 0xffff || d != 0xffffffff || len(e) != 4 {
				t.Errorf("cut %d: complete read failed", cut)
			}
			continue
		}
		if c.OK() || !errors.Is(c.Err(), ErrShort) {
			t.Errorf("cut %d: OK after short read", cut)
		}
		if e != nil || c.Len() != 0 {
			t.Errorf("cut %d: Bytes = %x, Len %d after failure", cut, e, c.Len())
		}
		// Sticky: a read that would fit the remaining bytes still fails.
		if c.U8() != 0 || c.OK() {
			t.Errorf("cut %d: failure not sticky", cut)
		}
	}
}

func TestCursorEdges(t *testing.T) {
	tests := []struct {
		name string
		run  func(c *Cursor)
		ok   bool
		off  int
	}{
		{"negative bytes", func(c *Cursor) { c.Bytes(-1) }, false, 0},
		{"negative skip", func(c *Cursor) { c.Skip(-5) }, false, 0},
		{"skip all", func(c *Cursor) { c.Skip(3) }, true, 3},
		{"skip past end", func(c *Cursor) { c.Skip(4) }, false, 0},
		{"zero bytes", func(c *Cursor) { c.Bytes(0) }, true, 0},
		{"peek too far keeps cursor", func(c *Cursor) { c.Peek(9) }, true, 0},
		{"peek negative", func(c *Cursor) { c.Peek(-1) }, true, 0},
		{"u64 on 3 bytes", func(c *Cursor) { c.U64LE() }, false, 0},
	}
	for _, tt := range tests {
		c := NewCursor([]byte("abc"))
		tt.run(&c)
		if c.OK() != tt.ok || c.Offset() != tt.off {
			t.Errorf("%s: OK %v off %d; want %v %d", tt.name, c.OK(), c.Offset(), tt.ok, tt.off)
		}
	}
	var zero Cursor
	if zero.U8() != 0 || zero.OK() {
		t.Error("zero Cursor: read succeeded")
	}
}

func TestBytesCapacityClipped(t *testing.T) {
	in := []byte("abcdef")
	c := NewCursor(in)
	p := c.Bytes(2)
	_ = append(p, 'X')
	if string(in) != "abcdef" {
		t.Errorf("append through Bytes overwrote input: %q", in)
	}
}

func TestCursorAllocs(t *testing.T) {
	in := make([]byte, 64)
	var sink uint64
	allocs := testing.AllocsPerRun(100, func() {
		c := NewCursor(in)
		sink += uint64(c.U8()) + uint64(c.U16BE()) + uint64(c.U32LE()) + c.U64BE()
		sink += uint64(len(c.Bytes(8)))
		c.Skip(4)
		sink += uint64(len(c.Rest()))
		if !c.OK() {
			sink++
		}
	})
	if allocs != 0 {
		t.Errorf("allocs = %v, want 0", allocs)
	}
	_ = sink
}

func BenchmarkCursor(b *testing.B) {
	in := make([]byte, 64)
	b.ReportAllocs()
	var sink uint64
	for b.Loop() {
		c := NewCursor(in)
		sink += uint64(c.U8()) + uint64(c.U16BE()) + uint64(c.U32LE()) + c.U64BE()
		sink += uint64(len(c.Bytes(8)))
	}
	_ = sink
}
