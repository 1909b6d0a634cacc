package wire

import (
	"encoding/binary"
	"errors"
)

// ErrShort is returned by Cursor.Err after a read ran past the end of the
// input.
var ErrShort = errors.New("wire: short buffer")

// Cursor reads a byte slice front to back. The zero Cursor is an empty,
// healthy cursor. Once a read runs past the end, the Cursor is failed: every
// later read returns zero values (nil for Bytes) and consumes nothing, and OK
// reports false. Slices returned by Bytes, Peek and Rest alias the input.
type Cursor struct {
	b      []byte
	off    int
	failed bool
}

// NewCursor returns a Cursor at the start of b.
func NewCursor(b []byte) Cursor { return Cursor{b: b} }

// Len returns the number of unread bytes (0 once the Cursor has failed).
func (c *Cursor) Len() int {
	if c.failed {
		return 0
	}
	return len(c.b) - c.off
}

// Offset returns the number of bytes consumed so far.
func (c *Cursor) Offset() int { return c.off }

// OK reports whether every read so far was within bounds.
func (c *Cursor) OK() bool { return !c.failed }

// Err returns ErrShort if a read ran past the end, else nil.
func (c *Cursor) Err() error {
	if c.failed {
		return ErrShort
	}
	return nil
}

// take returns the next n bytes and advances, or fails the cursor.
func (c *Cursor) take(n int) []byte {
	if c.failed || n < 0 || n > len(c.b)-c.off {
		c.failed = true
		return nil
	}
	p := c.b[c.off : c.off+n : c.off+n]
	c.off += n
	return p
}

// U8 reads one byte.
func (c *Cursor) U8() uint8 {
	p := c.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

// U16BE reads a big-endian 16-bit integer.
func (c *Cursor) U16BE() uint16 {
	p := c.take(2)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint16(p)
}

// U16LE reads a little-endian 16-bit integer.
func (c *Cursor) U16LE() uint16 {
	p := c.take(2)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(p)
}

// U32BE reads a big-endian 32-bit integer.
func (c *Cursor) U32BE() uint32 {
	p := c.take(4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

// U32LE reads a little-endian 32-bit integer.
func (c *Cursor) U32LE() uint32 {
	p := c.take(4)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

// U64BE reads a big-endian 64-bit integer.
func (c *Cursor) U64BE() uint64 {
	p := c.take(8)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

// U64LE reads a little-endian 64-bit integer.
func (c *Cursor) U64LE() uint64 {
	p := c.take(8)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(p)
}

// Bytes reads the next n bytes. It returns nil and fails the cursor if fewer
// than n remain or n is negative; test OK, not the result, to tell an empty
// read from a failed one. The result aliases the input and its capacity is
// clipped, so appending to it never overwrites later input.
func (c *Cursor) Bytes(n int) []byte { return c.take(n) }

// Skip advances over n bytes, failing the cursor if fewer remain.
func (c *Cursor) Skip(n int) { c.take(n) }

// Peek returns the next n bytes without consuming them, or nil if fewer
// remain. It never fails the cursor.
func (c *Cursor) Peek(n int) []byte {
	if c.failed || n < 0 || n > len(c.b)-c.off {
		return nil
	}
	return c.b[c.off : c.off+n : c.off+n]
}

// Rest consumes and returns every unread byte (nil once the cursor has
// failed).
func (c *Cursor) Rest() []byte { return c.take(c.Len()) }
