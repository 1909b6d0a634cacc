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
