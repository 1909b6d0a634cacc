package pcapfile

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
)

// capFile builds a capture byte by byte. units records where each header,
// record or block starts, so tests know every offset and boundary.
type capFile struct {
	o     binary.AppendByteOrder
	b     []byte
	units []int64 // start offset of every record or block, in order
	pkts  []int64 // start offsets of the units that carry a frame
}

var (
	le binary.AppendByteOrder = binary.LittleEndian
	be binary.AppendByteOrder = binary.BigEndian
)

// pcapHeader starts a pcap file: magic, version 2.minor, zone 0, sigfigs 0,
// snaplen 65535, the given link-type field.
func pcapHeader(o binary.AppendByteOrder, magic uint32, minor uint16, link uint32) *capFile {
	f := &capFile{o: o}
	b := o.AppendUint32(nil, magic)
	b = o.AppendUint16(b, 2)
	b = o.AppendUint16(b, minor)
	b = o.AppendUint32(b, 0)
	b = o.AppendUint32(b, 0)
	b = o.AppendUint32(b, 65535)
	b = o.AppendUint32(b, link)
	f.b = b
	return f
}

// record appends a pcap record with explicit incl/orig fields and extra
// bytes after the standard record header (Kuznetsov).
func (f *capFile) record(sec, frac, incl, orig uint32, extra int, data []byte) *capFile {
	f.units = append(f.units, int64(len(f.b)))
	f.pkts = append(f.pkts, int64(len(f.b)))
	o := f.o
	f.b = o.AppendUint32(f.b, sec)
	f.b = o.AppendUint32(f.b, frac)
	f.b = o.AppendUint32(f.b, incl)
	f.b = o.AppendUint32(f.b, orig)
	f.b = append(f.b, make([]byte, extra)...)
	f.b = append(f.b, data...)
	return f
}

// rec appends an ordinary pcap record.
func (f *capFile) rec(sec, frac uint32, data []byte) *capFile {
	return f.record(sec, frac, uint32(len(data)), uint32(len(data)), 0, data)
}

// block appends a pcapng block: type, total length, body padded to 4 bytes,
// total length again.
func (f *capFile) block(typ uint32, body []byte, packet bool) *capFile {
	f.units = append(f.units, int64(len(f.b)))
	if packet {
		f.pkts = append(f.pkts, int64(len(f.b)))
	}
	pad := (4 - len(body)%4) % 4
	n := uint32(12 + len(body) + pad)
	f.b = f.o.AppendUint32(f.b, typ)
	f.b = f.o.AppendUint32(f.b, n)
	f.b = append(f.b, body...)
	f.b = append(f.b, make([]byte, pad)...)
	f.b = f.o.AppendUint32(f.b, n)
	return f
}

// shb appends a Section Header Block in byte order o, which becomes the
// order of everything that follows.
func (f *capFile) shb(o binary.AppendByteOrder, opts ...[]byte) *capFile {
	f.o = o
	body := o.AppendUint32(nil, 0x1A2B3C4D)
	body = o.AppendUint16(body, 1)
	body = o.AppendUint16(body, 0)
	body = o.AppendUint64(body, ^uint64(0)) // section length unknown
	body = append(body, optList(o, opts)...)
	return f.block(blockSHB, body, false)
}

func pcapng(o binary.AppendByteOrder) *capFile { return (&capFile{}).shb(o) }

// opt encodes one option (code, length, value padded to 4 bytes).
func opt(o binary.AppendByteOrder, code uint16, val []byte) []byte {
	b := o.AppendUint16(nil, code)
	b = o.AppendUint16(b, uint16(len(val)))
	b = append(b, val...)
	return append(b, make([]byte, (4-len(val)%4)%4)...)
}

func optList(o binary.AppendByteOrder, opts [][]byte) []byte {
	if len(opts) == 0 {
		return nil
	}
	var b []byte
	for _, x := range opts {
		b = append(b, x...)
	}
	return append(b, 0, 0, 0, 0) // opt_endofopt
}

func (f *capFile) idb(link uint16, snaplen uint32, opts ...[]byte) *capFile {
	body := f.o.AppendUint16(nil, link)
	body = f.o.AppendUint16(body, 0)
	body = f.o.AppendUint32(body, snaplen)
	body = append(body, optList(f.o, opts)...)
	return f.block(blockIDB, body, false)
}

func (f *capFile) tsresol(v byte) []byte { return opt(f.o, optTSResol, []byte{v}) }

func (f *capFile) tsoffset(sec int64) []byte {
	return opt(f.o, optTSOffset, f.o.AppendUint64(nil, uint64(sec)))
}

func (f *capFile) epb(id uint32, ts uint64, orig uint32, data []byte, opts ...[]byte) *capFile {
	body := f.o.AppendUint32(nil, id)
	body = f.o.AppendUint32(body, uint32(ts>>32))
	body = f.o.AppendUint32(body, uint32(ts))
	body = f.o.AppendUint32(body, uint32(len(data)))
	body = f.o.AppendUint32(body, orig)
	body = append(body, data...)
	body = append(body, make([]byte, (4-len(data)%4)%4)...)
	body = append(body, optList(f.o, opts)...)
	return f.block(blockEPB, body, true)
}

func (f *capFile) pb(id uint16, ts uint64, data []byte) *capFile {
	body := f.o.AppendUint16(nil, id)
	body = f.o.AppendUint16(body, 0) // drops
	body = f.o.AppendUint32(body, uint32(ts>>32))
	body = f.o.AppendUint32(body, uint32(ts))
	body = f.o.AppendUint32(body, uint32(len(data)))
	body = f.o.AppendUint32(body, uint32(len(data)))
	body = append(body, data...)
	return f.block(blockPB, body, true)
}

func (f *capFile) spb(orig uint32, data []byte) *capFile {
	body := f.o.AppendUint32(nil, orig)
	body = append(body, data...)
	return f.block(blockSPB, body, true)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// frameN returns n recognisable bytes.
func frameN(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}
