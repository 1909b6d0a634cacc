package pcapfile

import (
	"io"
	"math/bits"
	"time"

	"github.com/peerwatch/peerwatch/capture"
	"github.com/peerwatch/peerwatch/decode"
)

// pcapng block types.
const (
	blockSHB = 0x0A0D0D0A // Section Header Block
	blockIDB = 1          // Interface Description Block
	blockPB  = 2          // Packet Block (obsolete)
	blockSPB = 3          // Simple Packet Block
	blockEPB = 6          // Enhanced Packet Block
)

// Interface Description Block options peerwatch uses.
const (
	optEnd      = 0  // opt_endofopt
	optTSResol  = 9  // if_tsresol: 1 byte
	optTSOffset = 14 // if_tsoffset: 8 bytes, signed seconds
)

// Minimum total lengths: 12 bytes of framing (type, length, trailing length)
// plus each block's fixed fields.
const (
	minBlock = 12
	minSHB   = 12 + 16 // byte-order magic(4), major(2), minor(2), section length(8)
	minIDB   = 12 + 8  // linktype(2), reserved(2), snaplen(4)
	minSPB   = 12 + 4  // original length(4)
	minEPB   = 12 + 20 // interface(4), ts high(4), ts low(4), caplen(4), origlen(4)
	minPB    = 12 + 20 // interface(2), drops(2), ts high(4), ts low(4), caplen(4), origlen(4)
)

// iface is an Interface Description Block of the current section.
type iface struct {
	link    decode.LinkType
	snaplen uint32
	res     tsres
	offset  int64 // if_tsoffset, seconds
}

// tsres converts a 64-bit pcapng timestamp to seconds and nanoseconds.
type tsres struct {
	binary bool
	shift  uint   // binary: ticks per second = 1<<shift
	units  uint64 // decimal: ticks per second
	mul    uint64 // decimal with units <= 1e9: nanoseconds per tick
	div    uint64 // decimal with units > 1e9: ticks per nanosecond
}

// microseconds is the default resolution (no if_tsresol option).
var microseconds = decimalRes(6)

func decimalRes(exp uint) tsres {
	t := tsres{units: pow10(exp)}
	if exp <= 9 {
		t.mul = pow10(9 - exp)
	} else {
		t.div = pow10(exp - 9)
	}
	return t
}

func pow10(e uint) uint64 {
	p := uint64(1)
	for range e {
		p *= 10
	}
	return p
}

// parseTSResol decodes if_tsresol: the high bit selects a power of 2, else
// a power of 10, and the low 7 bits are the negative exponent. Exponents
// whose tick count does not fit in 64 bits are refused.
func parseTSResol(v byte) (tsres, bool) {
	exp := uint(v & 0x7f)
	if v&0x80 != 0 {
		if exp > 63 {
			return tsres{}, false
		}
		return tsres{binary: true, shift: exp}, true
	}
	if exp > 19 {
		return tsres{}, false
	}
	return decimalRes(exp), true
}

func (t tsres) time(ts uint64, offset int64) time.Time {
	var sec, nsec uint64
	if t.binary {
		sec = ts >> t.shift
		if t.shift > 0 {
			frac := ts & (1<<t.shift - 1)
			hi, lo := bits.Mul64(frac, 1e9)
			nsec = hi<<(64-t.shift) | lo>>t.shift
		}
	} else {
		sec, nsec = ts/t.units, ts%t.units
		if t.mul != 0 {
			nsec *= t.mul
		} else {
			nsec /= t.div
		}
	}
	return time.Unix(int64(sec)+offset, int64(nsec)).UTC()
}

func blockName(typ uint32) string {
	switch typ {
	case blockSHB:
		return "section header block"
	case blockIDB:
		return "interface description block"
	case blockPB:
		return "packet block"
	case blockSPB:
		return "simple packet block"
	case blockEPB:
		return "enhanced packet block"
	}
	return "block"
}

// readBlocks reads blocks until one carries a frame.
func (r *Reader) readBlocks() ([]byte, capture.CaptureInfo, error) {
	for {
		start := r.off
		h := r.hdr[:8]
		if n, err := r.fill(h); err != nil {
			if n == 0 && err == io.EOF {
				return nil, capture.CaptureInfo{}, io.EOF
			}
			return nil, capture.CaptureInfo{}, r.short(start, "block header", 8, int64(n), err)
		}
		typ := r.u32(h)
		if typ == blockSHB {
			if err := r.readSHB(start, false); err != nil {
				return nil, capture.CaptureInfo{}, err
			}
			continue
		}
		length := r.u32(h[4:])
		if err := r.checkLength(start, typ, length, minBlock); err != nil {
			return nil, capture.CaptureInfo{}, err
		}
		var err error
		switch typ {
		case blockEPB, blockPB:
			return r.readPacketBlock(start, typ, length)
		case blockSPB:
			return r.readSPB(start, length)
		case blockIDB:
			err = r.readIDB(start, length)
		default:
			err = r.endBlock(start, typ, length, int(length)-minBlock)
		}
		if err != nil {
			return nil, capture.CaptureInfo{}, err
		}
	}
}

// checkLength validates a block's total length before anything is read or
// allocated for it.
func (r *Reader) checkLength(start int64, typ, length, least uint32) error {
	switch {
	case length > MaxBlock:
		return r.fail(start, ErrTooLarge, nil, "%s length %d exceeds limit %d", blockName(typ), length, MaxBlock)
	case length%4 != 0:
		return r.fail(start, ErrCorrupt, nil, "%s length %d is not a multiple of 4", blockName(typ), length)
	case length < least:
		return r.fail(start, ErrCorrupt, nil, "%s length %d is below the minimum %d", blockName(typ), length, least)
	}
	return nil
}

// readSHB reads a Section Header Block whose type and length fields are in
// r.hdr[0:8]. The byte-order magic that follows decides how the length, and
// everything up to the next section, is read. A new section forgets the
// previous section's interfaces.
func (r *Reader) readSHB(start int64, first bool) error {
	bom := r.hdr[8:12]
	if n, err := r.fill(bom); err != nil {
		return r.short(start, "section header block", minSHB, int64(8+n), err)
	}
	switch {
	case bom[0] == 0x1a && bom[1] == 0x2b && bom[2] == 0x3c && bom[3] == 0x4d:
		r.big = true
	case bom[0] == 0x4d && bom[1] == 0x3c && bom[2] == 0x2b && bom[3] == 0x1a:
		r.big = false
	default:
		kind := ErrCorrupt
		if first {
			kind = ErrNotCapture
		}
		return r.fail(start, kind, nil, "bad pcapng byte-order magic % x", bom)
	}
	length := r.u32(r.hdr[4:])
	if err := r.checkLength(start, blockSHB, length, minSHB); err != nil {
		return err
	}
	f := r.hdr[12:24]
	if n, err := r.fill(f); err != nil {
		return r.short(start, "section header block", int64(length), int64(12+n), err)
	}
	if major := r.u16(f); major != 1 {
		return r.fail(start, ErrCorrupt, nil, "unsupported pcapng version %d.%d", major, r.u16(f[2:]))
	}
	r.ifaces = r.ifaces[:0]
	return r.endBlock(start, blockSHB, length, int(length)-minSHB)
}

// endBlock discards the rest (n bytes) of a block's body, then reads the
// trailing total length and checks it against the leading one.
func (r *Reader) endBlock(start int64, typ, length uint32, n int) error {
	if n > 0 {
		if _, err := r.skip(n); err != nil {
			return r.short(start, blockName(typ), int64(length), r.off-start, err)
		}
	}
	t := r.hdr[28:32]
	if _, err := r.fill(t); err != nil {
		return r.short(start, blockName(typ), int64(length), r.off-start, err)
	}
	if trail := r.u32(t); trail != length {
		return r.fail(start, ErrCorrupt, nil, "%s trailing length %d differs from leading length %d", blockName(typ), trail, length)
	}
	return nil
}

// readIDB reads an Interface Description Block: linktype(2), reserved(2),
// snaplen(4), then options (code(2), length(2), value padded to 4 bytes).
func (r *Reader) readIDB(start int64, length uint32) error {
	if err := r.checkLength(start, blockIDB, length, minIDB); err != nil {
		return err
	}
	if len(r.ifaces) >= MaxInterfaces {
		return r.fail(start, ErrTooLarge, nil, "more than %d interfaces in one section", MaxInterfaces)
	}
	f := r.hdr[8:16]
	if _, err := r.fill(f); err != nil {
		return r.short(start, "interface description block", int64(length), r.off-start, err)
	}
	ifc := iface{link: decode.LinkType(r.u16(f)), snaplen: r.u32(f[4:]), res: microseconds}
	rest := int(length) - minIDB
	for rest >= 4 {
		o := r.hdr[16:20]
		if _, err := r.fill(o); err != nil {
			return r.short(start, "interface description block", int64(length), r.off-start, err)
		}
		rest -= 4
		code, olen := r.u16(o), int(r.u16(o[2:]))
		if code == optEnd {
			break
		}
		padded := (olen + 3) &^ 3
		if padded > rest {
			return r.fail(start, ErrCorrupt, nil, "interface description block option %d overruns the block", code)
		}
		v := r.hdr[20:28]
		switch {
		case code == optTSResol && olen == 1:
			if _, err := r.fill(v[:4]); err != nil {
				return r.short(start, "interface description block", int64(length), r.off-start, err)
			}
			res, ok := parseTSResol(v[0])
			if !ok {
				return r.fail(start, ErrCorrupt, nil, "unsupported if_tsresol 0x%02x", v[0])
			}
			ifc.res = res
		case code == optTSOffset && olen == 8:
			if _, err := r.fill(v); err != nil {
				return r.short(start, "interface description block", int64(length), r.off-start, err)
			}
			ifc.offset = int64(r.u64(v))
		default:
			if _, err := r.skip(padded); err != nil {
				return r.short(start, "interface description block", int64(length), r.off-start, err)
			}
		}
		rest -= padded
	}
	if err := r.endBlock(start, blockIDB, length, rest); err != nil {
		return err
	}
	r.ifaces = append(r.ifaces, ifc)
	r.noteLink(ifc.link)
	return nil
}

// readPacketBlock reads an Enhanced Packet Block — interface(4),
// ts high(4), ts low(4), caplen(4), origlen(4) — or an obsolete Packet
// Block, whose interface field is interface(2) + drops count(2). Frame
// data, padding and options follow.
func (r *Reader) readPacketBlock(start int64, typ, length uint32) ([]byte, capture.CaptureInfo, error) {
	var ci capture.CaptureInfo
	if err := r.checkLength(start, typ, length, minEPB); err != nil {
		return nil, ci, err
	}
	f := r.hdr[8:28]
	if _, err := r.fill(f); err != nil {
		return nil, ci, r.short(start, blockName(typ), int64(length), r.off-start, err)
	}
	var id uint32
	if typ == blockPB {
		id = uint32(r.u16(f))
	} else {
		id = r.u32(f)
	}
	ts := uint64(r.u32(f[4:]))<<32 | uint64(r.u32(f[8:]))
	caplen, origlen := r.u32(f[12:]), r.u32(f[16:])
	room := length - minEPB
	if caplen > room {
		return nil, ci, r.fail(start, ErrCorrupt, nil, "%s captured length %d exceeds block length %d", blockName(typ), caplen, length)
	}
	if caplen > MaxPacket {
		return nil, ci, r.fail(start, ErrTooLarge, nil, "packet capture length %d exceeds limit %d", caplen, MaxPacket)
	}
	if id >= uint32(len(r.ifaces)) {
		return nil, ci, r.fail(start, ErrCorrupt, nil, "%s for undefined interface %d", blockName(typ), id)
	}
	data, err := r.take(int(caplen))
	if err != nil {
		return nil, ci, r.short(start, blockName(typ), int64(length), r.off-start, err)
	}
	if err := r.endBlock(start, typ, length, int(room-caplen)); err != nil {
		return nil, ci, err
	}
	ifc := &r.ifaces[id]
	ci = capture.CaptureInfo{
		Timestamp:  ifc.res.time(ts, ifc.offset),
		CaptureLen: int(caplen),
		Length:     int(origlen),
		LinkType:   ifc.link,
		Interface:  int(id),
		Offset:     start,
	}
	return data, ci, nil
}

// readSPB reads a Simple Packet Block: original length(4), then frame data.
// It belongs to interface 0 of the section; the captured length is the
// smallest of the original length, the interface's snaplen and the room in
// the block. It has no timestamp.
func (r *Reader) readSPB(start int64, length uint32) ([]byte, capture.CaptureInfo, error) {
	var ci capture.CaptureInfo
	if err := r.checkLength(start, blockSPB, length, minSPB); err != nil {
		return nil, ci, err
	}
	if len(r.ifaces) == 0 {
		return nil, ci, r.fail(start, ErrCorrupt, nil, "simple packet block before any interface description block")
	}
	f := r.hdr[8:12]
	if _, err := r.fill(f); err != nil {
		return nil, ci, r.short(start, "simple packet block", int64(length), r.off-start, err)
	}
	ifc := &r.ifaces[0]
	origlen := r.u32(f)
	room := length - minSPB
	caplen := min(origlen, room)
	if ifc.snaplen != 0 {
		caplen = min(caplen, ifc.snaplen)
	}
	if caplen > MaxPacket {
		return nil, ci, r.fail(start, ErrTooLarge, nil, "packet capture length %d exceeds limit %d", caplen, MaxPacket)
	}
	data, err := r.take(int(caplen))
	if err != nil {
		return nil, ci, r.short(start, "simple packet block", int64(length), r.off-start, err)
	}
	if err := r.endBlock(start, blockSPB, length, int(room-caplen)); err != nil {
		return nil, ci, err
	}
	ci = capture.CaptureInfo{
		CaptureLen: int(caplen),
		Length:     int(origlen),
		LinkType:   ifc.link,
		Offset:     start,
	}
	return data, ci, nil
}
