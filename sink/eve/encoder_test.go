package eve

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/event"
)

// TestEncoderReusesBatch checks that Writer.Encoder returns Append's bytes
// for records of the last batch, in order or not, and for other records.
func TestEncoderReusesBatch(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)
	mk := func(i int) event.Record {
		return event.Record{Time: ts.Add(time.Duration(i) * time.Second), FlowID: uint64(i + 1), Type: "http",
			Src: netip.MustParseAddrPort("192.0.2.1:1234"), Dst: netip.MustParseAddrPort("198.51.100.2:80"),
			App: &event.App{Event: event.Detected, Fields: map[string]any{"n": i, "url": "/<x>"}}}
	}
	recs := []event.Record{mk(0), mk(1), mk(2)}
	other := mk(7)
	var out bytes.Buffer
	w := NewWriter(&out)
	enc := w.Encoder()
	tests := []struct {
		name string
		r    *event.Record
	}{
		{"first", &recs[0]}, {"third", &recs[2]}, {"back to second", &recs[1]}, {"not in batch", &other},
	}
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := enc([]byte("x"), tc.r)
			if want := Append([]byte("x"), tc.r); !bytes.Equal(got, want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(out.Bytes(), []byte("\n")); n != len(recs) {
		t.Errorf("%d lines written, want %d", n, len(recs))
	}
}

// TestLines checks Lines directly: a record of the batch is found once,
// in batch order; a record elsewhere, or one asked for out of order, is
// not; AddFrom keeps what the other encoder wrote; Reset forgets.
func TestLines(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	recs := []event.Record{
		{Time: ts, FlowID: 1, Type: "flow", Flow: &event.FlowRec{State: "new"}},
		{Time: ts, FlowID: 2, Type: "flow", Flow: &event.FlowRec{State: "closed"}},
	}
	var l Lines
	l.Reset(recs)
	for range recs {
		if _, err := l.Add(); err != nil {
			t.Fatal(err)
		}
	}
	if l.Len() != 2 {
		t.Fatalf("Len %d", l.Len())
	}
	got, ok := l.Line(nil, &recs[1])
	if want := Append(nil, &recs[1]); !ok || !bytes.Equal(got, want) {
		t.Errorf("second record: %v %s", ok, got)
	}
	if _, ok := l.Line(nil, &recs[0]); ok {
		t.Error("a record before the last one asked for was found")
	}
	copyOf := recs[0]
	if _, ok := l.Line(nil, &copyOf); ok {
		t.Error("a record outside the batch was found")
	}

	// AddFrom: the lines of a copy of the batch, taken from recs.
	dup := append([]event.Record(nil), recs...)
	var m Lines
	m.Reset(dup)
	for i := range recs {
		m.AddFrom(&recs[i], Append)
	}
	got, ok = m.Line(nil, &dup[0])
	if want := Append(nil, &recs[0]); !ok || !bytes.Equal(got, want) {
		t.Errorf("AddFrom line: %v %s", ok, got)
	}
	m.Reset(nil)
	if _, ok := m.Line(nil, &dup[1]); ok || m.Len() != 0 {
		t.Error("Reset kept lines")
	}
	bad := []event.Record{{Time: ts, Type: ""}}
	m.Reset(bad)
	if _, err := m.Add(); err == nil || m.Len() != 0 {
		t.Errorf("a record without a type: %v, %d lines kept", err, m.Len())
	}
}
