package eve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/sink"
)

// ErrClosed is returned by Write and Close after Close.
var ErrClosed = errors.New("eve: writer closed")

// bufSize is the size of the output buffer.
const bufSize = 256 << 10

// Writer is the EVE sink: it writes records as JSON lines through a
// 256 KiB buffer. It is not safe for concurrent use; the pipeline calls it
// from one goroutine (see sink.Sink).
type Writer struct {
	bw     *bufio.Writer
	file   *os.File // set by Create: closed by Close
	err    error    // first write error; sticky
	closed bool

	// The last batch and its lines, for Encoder: it keeps the records
	// alive, so a pointer into them cannot name another record.
	last Lines
}

var _ sink.Sink = (*Writer)(nil)

// Create creates (or truncates) the file at path and returns a Writer to
// it. Whether an existing eve.json may be overwritten is the caller's
// decision, made before calling Create.
func Create(path string) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("eve: %w", err)
	}
	w := NewWriter(f)
	w.file = f
	return w, nil
}

// NewWriter returns a Writer to w. Close flushes but does not close w,
// which stays the caller's.
func NewWriter(w io.Writer) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, bufSize)}
}

// Write encodes recs in order, one line each. It stops at the first record
// that cannot be encoded (ErrType, ErrObject or ErrValue, wrapped with the
// record's position) after writing the records before it. A failure of the
// underlying writer is returned by this and every later call.
func (w *Writer) Write(recs []event.Record) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	w.last.Reset(recs)
	for i := range recs {
		line, err := w.last.Add()
		if err != nil {
			return fmt.Errorf("eve: record %d of batch: %w", i, err)
		}
		_, err = w.bw.Write(line)
		if err == nil {
			err = w.bw.WriteByte('\n')
		}
		if err != nil {
			w.err = fmt.Errorf("eve: write: %w", err)
			w.last = Lines{}
			return w.err
		}
	}
	if w.last.Size() > maxBatchBuf {
		w.last = Lines{}
	}
	return nil
}

// maxBatchBuf bounds the encoded batch kept for Encoder.
const maxBatchBuf = 16 << 20

// Encoder returns an encoder with Append's output for another sink of the
// same records (the SQLite json column). A record of the batch last passed
// to Write, asked for in the order of that batch, costs a copy of its line;
// any other record is encoded again. The encoder is called from the
// goroutine calling Write.
func (w *Writer) Encoder() func(dst []byte, r *event.Record) []byte {
	return func(dst []byte, r *event.Record) []byte {
		if out, ok := w.last.Line(dst, r); ok {
			return out
		}
		return Append(dst, r)
	}
}

// Close flushes the buffer and, for a Writer made by Create, closes the
// file. It returns the first error met since the Writer was made.
func (w *Writer) Close() error {
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	w.last = Lines{}
	err := w.err
	if err == nil {
		if ferr := w.bw.Flush(); ferr != nil {
			err = fmt.Errorf("eve: flush: %w", ferr)
		}
	}
	if w.file != nil {
		if cerr := w.file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("eve: close: %w", cerr)
		}
	}
	return err
}
