package eve

import "github.com/peerwatch/peerwatch/event"

// Lines is a batch of records with the EVE line of each, so that another
// output (the SQLite json column) takes a record's line instead of
// encoding it again. The Writer keeps one for the batch it last wrote; the
// pipeline copies batches into one when the database is written in a
// goroutine of its own.
type Lines struct {
	recs  []event.Record
	lines []byte // the lines of recs[:len(ends)], without newlines
	ends  []int  // end offset in lines of each record's line
	next  int    // where Line's forward search starts
}

// Reset empties l for the records recs, keeping its buffers; recs is kept
// (its records are the ones Line recognises) until the next Reset.
func (l *Lines) Reset(recs []event.Record) {
	l.recs, l.lines, l.ends, l.next = recs, l.lines[:0], l.ends[:0], 0
}

// Add encodes the next record of the batch, recs[l.Len()], and keeps its
// line. It returns the line (valid until the next Add or Reset) and the
// error of encoding, if any, in which case nothing is kept.
func (l *Lines) Add() ([]byte, error) {
	start := len(l.lines)
	var err error
	l.lines, err = encode(l.lines, &l.recs[len(l.ends)])
	if err != nil {
		l.lines = l.lines[:start]
		return nil, err
	}
	l.ends = append(l.ends, len(l.lines))
	return l.lines[start:], nil
}

// AddFrom keeps as the next record's line what enc appends for r: r is a
// record with the same content elsewhere, for instance in the batch the
// Writer has just written, whose Encoder then copies its line.
func (l *Lines) AddFrom(r *event.Record, enc func([]byte, *event.Record) []byte) {
	l.lines = enc(l.lines, r)
	l.ends = append(l.ends, len(l.lines))
}

// Len returns how many records have a line.
func (l *Lines) Len() int { return len(l.ends) }

// Size returns the bytes the lines take.
func (l *Lines) Size() int { return cap(l.lines) }

// Line appends the line of r to dst if r points at a record of the batch
// at or after the last one asked for (records are asked for in batch
// order), reporting whether it did.
func (l *Lines) Line(dst []byte, r *event.Record) ([]byte, bool) {
	for i := l.next; i < len(l.ends); i++ {
		if &l.recs[i] == r {
			l.next = i + 1
			start := 0
			if i > 0 {
				start = l.ends[i-1]
			}
			return append(dst, l.lines[start:l.ends[i]]...), true
		}
	}
	return dst, false
}
