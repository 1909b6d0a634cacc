package pcapfile

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"

	"github.com/peerwatch/peerwatch/capture"
	"github.com/peerwatch/peerwatch/decode"
)

// Limits on what one record may claim. A claim above them is refused before
// anything is allocated for it.
const (
	// MaxPacket is the largest captured frame accepted, in bytes. It is
	// the limit libpcap and Wireshark use for ordinary link types.
	MaxPacket = 256 << 10
	// MaxBlock is the largest pcapng block accepted, in bytes.
	MaxBlock = 16 << 20
	// MaxInterfaces is the largest number of pcapng interfaces accepted in
	// one section.
	MaxInterfaces = 1 << 16
)

// bufSize is the size of the bufio buffers over the file and over the gzip
// output: few, large reads. Frames are returned straight from the buffer,
// which the compile-time check below keeps larger than any frame.
const bufSize = 1 << 20

// A negative constant does not compile: bufSize must hold MaxPacket bytes.
const _ = uint(bufSize - MaxPacket)

// Reader reads frames from a pcap or pcapng stream. It implements
// capture.Source. A Reader is not safe for concurrent use.
//
// The uncompressed stream comes through the bufio.Reader src, and frames are
// slices of its buffer.
type Reader struct {
	name   string
	src    *bufio.Reader // uncompressed stream
	gz     *gzip.Reader  // non-nil iff the input is gzip-compressed
	closer io.Closer     // the file opened by Open, nil for NewReader
	off    int64         // bytes of the uncompressed stream consumed
	err    error         // sticky: once set, every ReadPacket returns it
	format string
	ng     bool // pcapng rather than pcap
	big    bool // current byte order is big-endian

	// pcap
	nanos bool            // timestamps are in nanoseconds
	extra int             // bytes after the standard 16-byte record header
	swap  bool            // old minor version: lengths may be swapped
	link  decode.LinkType // the file's link type

	// pcapng, for the current section
	ifaces []iface

	links []decode.LinkType // distinct link types in order of appearance
	seen  [1 << 10]uint64   // bitmap of link types in links

	hdr [32]byte // record or block header
}

var _ capture.Source = (*Reader)(nil)

// Open opens the capture file at path and reads it as a stream through a
// buffer. The format is decided by the file's content; gzip compression is
// undone transparently. Errors name the file as path.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads a capture from rd and checks its file header (pcap) or
// first Section Header Block (pcapng). Errors name the input as name. The
// Reader does not close rd.
func NewReader(rd io.Reader, name string) (*Reader, error) {
	r := &Reader{name: name}
	br := bufio.NewReaderSize(rd, bufSize)
	if p, _ := br.Peek(2); isGzip(p) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, r.fail(0, ErrTruncated, nil, "truncated gzip header")
			}
			return nil, r.fail(0, ErrCorrupt, err, "bad gzip header: %v", err)
		}
		r.gz = gz
		r.src = bufio.NewReaderSize(gz, bufSize)
	} else {
		r.src = br
	}
	if err := r.readFileHeader(); err != nil {
		if r.gz != nil {
			r.gz.Close()
		}
		return nil, err
	}
	if r.gz != nil {
		r.format += "+gzip"
	}
	return r, nil
}

// isGzip reports whether b starts with the gzip magic 1f 8b.
func isGzip(b []byte) bool {
	return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b
}

// Magic numbers as they appear in the first four bytes of the stream.
var (
	magicPcapngSHB = [4]byte{0x0a, 0x0d, 0x0d, 0x0a}
	pcapMagics     = []struct {
		b     [4]byte
		big   bool
		nanos bool
		extra int
	}{
		{[4]byte{0xa1, 0xb2, 0xc3, 0xd4}, true, false, 0},
		{[4]byte{0xd4, 0xc3, 0xb2, 0xa1}, false, false, 0},
		{[4]byte{0xa1, 0xb2, 0x3c, 0x4d}, true, true, 0},
		{[4]byte{0x4d, 0x3c, 0xb2, 0xa1}, false, true, 0},
		// Kuznetsov's modified pcap: ifindex(4), protocol(2),
		// pkt_type(1), pad(1) follow the standard record header.
		{[4]byte{0xa1, 0xb2, 0xcd, 0x34}, true, false, 8},
		{[4]byte{0x34, 0xcd, 0xb2, 0xa1}, false, false, 8},
	}
)

// readFileHeader identifies the format by its magic and reads the pcap file
// header or the first pcapng Section Header Block.
func (r *Reader) readFileHeader() error {
	m := r.hdr[:4]
	n, err := r.fill(m)
	if err != nil {
		switch {
		case n == 0 && err == io.EOF:
			return r.fail(0, ErrEmpty, nil, "empty file")
		case n == 0 || err != io.ErrUnexpectedEOF || isMagicPrefix(m[:n]):
			return r.short(0, "file header", 4, int64(n), err)
		default:
			return r.fail(0, ErrNotCapture, nil, "not a pcap or pcapng file (starts with % x)", m[:n])
		}
	}
	if [4]byte(m) == magicPcapngSHB {
		r.ng = true
		r.format = "pcapng"
		if n, err := r.fill(r.hdr[4:8]); err != nil {
			return r.short(0, "section header block", 28, int64(4+n), err)
		}
		return r.readSHB(0, true)
	}
	for _, pm := range pcapMagics {
		if [4]byte(m) == pm.b {
			r.big, r.nanos, r.extra = pm.big, pm.nanos, pm.extra
			r.format = "pcap"
			return r.readPcapHeader()
		}
	}
	return r.fail(0, ErrNotCapture, nil, "not a pcap or pcapng file (starts with % x)", m)
}

func isMagicPrefix(b []byte) bool {
	if string(b) == string(magicPcapngSHB[:len(b)]) {
		return true
	}
	for _, pm := range pcapMagics {
		if string(b) == string(pm.b[:len(b)]) {
			return true
		}
	}
	return false
}

// ReadPacket returns the next frame. The data aliases the Reader's buffer
// and is valid until the next call to ReadPacket or Close. The data must not
// be modified; its capacity equals its length, so appending to it copies.
// ReadPacket returns io.EOF at a clean end of the stream and a *Error for
// anything else; after an error every call returns the same error.
func (r *Reader) ReadPacket() ([]byte, capture.CaptureInfo, error) {
	if r.err != nil {
		return nil, capture.CaptureInfo{}, r.err
	}
	var (
		data []byte
		ci   capture.CaptureInfo
		err  error
	)
	if r.ng {
		data, ci, err = r.readBlocks()
	} else {
		data, ci, err = r.readRecord()
	}
	if err != nil {
		r.err = err
		return nil, capture.CaptureInfo{}, err
	}
	return data, ci, nil
}

// Close releases the gzip decompressor and, for a Reader made by Open, the
// file. It does not close the io.Reader given to NewReader. Frames returned
// before Close are invalid afterwards.
func (r *Reader) Close() error {
	var err error
	if r.gz != nil {
		if gerr := r.gz.Close(); err == nil {
			err = gerr
		}
		r.gz = nil
	}
	if r.closer != nil {
		if cerr := r.closer.Close(); err == nil {
			err = cerr
		}
		r.closer = nil
	}
	r.err = ErrClosed
	return err
}

// Offset returns the number of bytes of the uncompressed stream consumed so
// far. After ReadPacket returns a frame it is the offset just past that
// frame's record or block.
func (r *Reader) Offset() int64 { return r.off }

// Format returns "pcap" or "pcapng", followed by "+gzip" for a compressed
// stream.
func (r *Reader) Format() string { return r.format }

// LinkTypes returns the distinct link types seen so far, in order of first
// appearance: the file's one for pcap, those of the Interface Description
// Blocks read so far for pcapng. The slice is a copy.
func (r *Reader) LinkTypes() []decode.LinkType {
	return append([]decode.LinkType(nil), r.links...)
}

func (r *Reader) noteLink(lt decode.LinkType) {
	w, bit := lt>>6, uint64(1)<<(lt&63)
	if r.seen[w]&bit == 0 {
		r.seen[w] |= bit
		r.links = append(r.links, lt)
	}
}

// take consumes the next n bytes of the stream (n <= bufSize) and returns
// them without copying, as a slice of the bufio buffer valid until the next
// read. Its capacity is its length. Like io.ReadFull, on a short stream it
// consumes and returns what there is, with io.EOF if that is nothing and
// io.ErrUnexpectedEOF otherwise; another error from below is returned as it
// is.
func (r *Reader) take(n int) ([]byte, error) {
	p, err := r.src.Peek(n)
	if len(p) > 0 {
		// Peek returned the first len(p) bytes of the buffer: Discard
		// of as many only moves the read position.
		r.src.Discard(len(p))
		r.off += int64(len(p))
	}
	switch {
	case err == nil:
		return p[:n:n], nil
	case err == io.EOF && len(p) > 0:
		err = io.ErrUnexpectedEOF
	}
	return p[:len(p):len(p)], err
}

// fill reads exactly len(p) bytes into p and counts them, with take's
// result for a short stream.
func (r *Reader) fill(p []byte) (int, error) {
	b, err := r.take(len(p))
	return copy(p, b), err
}

// skip discards n bytes and counts them. On a short stream it discards what
// there is and returns an error.
func (r *Reader) skip(n int) (int, error) {
	d, err := r.src.Discard(n)
	r.off += int64(d) // bufio returns an error whenever d < n
	return d, err
}

func (r *Reader) u16(b []byte) uint16 {
	if r.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *Reader) u32(b []byte) uint32 {
	if r.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *Reader) u64(b []byte) uint64 {
	if r.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}
