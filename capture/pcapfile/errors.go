package pcapfile

import (
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Sentinel errors. A *Error wraps exactly one of them; test with errors.Is.
var (
	// ErrNotCapture means the stream starts with neither a pcap magic nor a
	// pcapng Section Header Block.
	ErrNotCapture = errors.New("pcapfile: not a pcap or pcapng file")
	// ErrEmpty means the stream (after gzip decompression) holds no bytes.
	ErrEmpty = errors.New("pcapfile: empty file")
	// ErrTruncated means the stream ends inside a header, record or block.
	ErrTruncated = errors.New("pcapfile: truncated file")
	// ErrCorrupt means a header or block is malformed: bad lengths, an
	// unknown version, a packet for an undefined interface, or a damaged
	// gzip stream.
	ErrCorrupt = errors.New("pcapfile: corrupt file")
	// ErrTooLarge means a packet or block is longer than MaxPacket or
	// MaxBlock.
	ErrTooLarge = errors.New("pcapfile: record too large")
	// ErrClosed is returned by ReadPacket after Close.
	ErrClosed = errors.New("pcapfile: reader closed")
)

// Error is a failure at a known place in a capture file.
type Error struct {
	// File is the name given to Open or NewReader.
	File string
	// Offset is the byte offset, in the uncompressed stream, of the header,
	// record or block at fault.
	Offset int64
	// Err describes the failure; it wraps one of the package's sentinel
	// errors, or is the underlying I/O error.
	Err error
}

// Error returns "FILE: offset N: what went wrong".
func (e *Error) Error() string {
	name, msg := e.File, "unknown error"
	if name == "" {
		name = "pcapfile"
	}
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return name + ": offset " + strconv.FormatInt(e.Offset, 10) + ": " + msg
}

// Unwrap returns the wrapped error, so errors.Is(err, ErrTruncated) works.
func (e *Error) Unwrap() error { return e.Err }

// problem is a detailed message that classifies as one sentinel (kind) and,
// when the failure came from below (gzip), also as its cause.
type problem struct {
	kind  error
	cause error
	msg   string
}

func (p *problem) Error() string { return p.msg }

func (p *problem) Unwrap() []error {
	if p.cause != nil {
		return []error{p.kind, p.cause}
	}
	return []error{p.kind}
}

// fail builds the *Error for a failure of the given kind at off.
func (r *Reader) fail(off int64, kind, cause error, format string, args ...any) error {
	return &Error{File: r.name, Offset: off, Err: &problem{kind: kind, cause: cause, msg: fmt.Sprintf(format, args...)}}
}

// short classifies a failed read inside the structure what, which starts at
// start and needs need bytes of which have were present.
func (r *Reader) short(start int64, what string, need, have int64, err error) error {
	switch {
	case err == io.ErrUnexpectedEOF && have == 0 && r.gz != nil:
		// The gzip layer ran dry between records: the compressed file,
		// not the capture inside it, was cut.
		return r.fail(start, ErrTruncated, err, "truncated gzip stream before %s", what)
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return r.fail(start, ErrTruncated, nil, "truncated %s (need %d bytes, have %d)", what, need, have)
	case isGzipDamage(err):
		return r.fail(start, ErrCorrupt, err, "damaged gzip stream in %s: %v", what, err)
	default:
		return &Error{File: r.name, Offset: start, Err: err}
	}
}

func isGzipDamage(err error) bool {
	var ce flate.CorruptInputError
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, &ce)
}
