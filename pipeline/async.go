package pipeline

import (
	"sync"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/sink/eve"
)

// With more than one worker, the SQLite sink runs in a goroutine of its own
// (asyncSink): the writer goroutine correlates, runs the risk stage and
// writes eve.json while the previous batches go into the database. With one
// worker everything stays in one goroutine, as DESIGN §2 promises.
//
// The SQLite json column is the EVE line. The writer goroutine copies the
// lines the EVE sink has just encoded into the batch (lineBatch) and the
// sink goroutine serves them to the store's encoder, so nothing is encoded
// twice.

// asyncBatches is how many batches may wait for, or be in, the sink
// goroutine: the bound on what the hand-off holds.
const asyncBatches = 3

// lineBatch is a copy of a batch of records with the EVE line of each.
type lineBatch struct {
	recs  []event.Record
	lines eve.Lines
}

// maxKeptBatch bounds the buffers a lineBatch keeps between batches.
const maxKeptBatch = 16 << 20

// asyncSink runs a sink in its own goroutine. Write copies the batch and
// returns once the copy is queued; a failure of the inner sink is returned
// by the next Write and by Close.
type asyncSink struct {
	inner Sink
	// pre is the encoder whose lines are copied (the EVE sink's cache of
	// its last batch); it runs in the calling goroutine, right after that
	// sink's Write. Nil: the inner sink encodes in its own goroutine.
	pre func(dst []byte, r *event.Record) []byte

	ch   chan *lineBatch
	free chan *lineBatch
	done chan struct{}

	mu  sync.Mutex
	err error
	cur *lineBatch // the batch the inner sink is writing (its goroutine only)
}

// newAsyncSink starts the goroutine. open builds the inner sink given the
// encoder it must use for its json column: the copied line of a record of
// the batch being written, else eve.Append.
func newAsyncSink(pre func([]byte, *event.Record) []byte,
	open func(encode func([]byte, *event.Record) []byte) (Sink, error)) (*asyncSink, error) {
	a := &asyncSink{pre: pre, ch: make(chan *lineBatch, asyncBatches), free: make(chan *lineBatch, asyncBatches), done: make(chan struct{})}
	inner, err := open(func(dst []byte, r *event.Record) []byte {
		if a.cur != nil {
			if out, ok := a.cur.lines.Line(dst, r); ok {
				return out
			}
		}
		return eve.Append(dst, r)
	})
	if err != nil {
		return nil, err
	}
	a.inner = inner
	for range asyncBatches {
		a.free <- &lineBatch{}
	}
	go a.run()
	return a, nil
}

func (a *asyncSink) run() {
	defer close(a.done)
	for b := range a.ch {
		if a.failed() == nil {
			a.cur = b
			if err := a.inner.Write(b.recs); err != nil {
				a.mu.Lock()
				a.err = err
				a.mu.Unlock()
			}
			a.cur = nil
		}
		clear(b.recs)
		b.recs = b.recs[:0]
		b.lines.Reset(nil)
		if b.lines.Size() > maxKeptBatch {
			*b = lineBatch{}
		}
		a.free <- b
	}
}

func (a *asyncSink) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Write queues a copy of recs and their lines.
func (a *asyncSink) Write(recs []event.Record) error {
	if err := a.failed(); err != nil {
		return err
	}
	b := <-a.free
	b.recs = append(b.recs, recs...)
	b.lines.Reset(b.recs)
	if a.pre != nil {
		for i := range recs {
			b.lines.AddFrom(&recs[i], a.pre)
		}
	}
	a.ch <- b
	return nil
}

// Close waits for the queued batches, closes the inner sink and returns
// the first error.
func (a *asyncSink) Close() error {
	close(a.ch)
	<-a.done
	err := a.failed()
	if cerr := a.inner.Close(); err == nil {
		err = cerr
	}
	return err
}
