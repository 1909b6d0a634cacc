package sink

import "github.com/peerwatch/peerwatch/event"

// Sink stores records. The pipeline calls Write and Close from one
// goroutine, so an implementation needs no locking of its own. Write may
// buffer or batch; the records and everything they point to belong to the
// caller again once Write returns, so a sink that keeps data past the call
// copies it. Close flushes what is buffered and releases the sink's
// resources; no call may follow it. Errors are returned, never swallowed:
// an error from Write or Close means records may be lost, and the pipeline
// stops.
type Sink interface {
	// Write stores recs in order.
	Write(recs []event.Record) error
	// Close flushes buffered records and releases the sink.
	Close() error
}
