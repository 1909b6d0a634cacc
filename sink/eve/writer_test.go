package eve

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/event"
)

func fixtureRecords() []event.Record {
	var recs []event.Record
	for _, f := range fixtures() {
		recs = append(recs, f.rec)
	}
	return recs
}

func TestWriterMatchesAppend(t *testing.T) {
	recs := fixtureRecords()
	var want []byte
	for i := range recs {
		want = append(Append(want, &recs[i]), '\n')
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	// Two batches, the second empty: batching must not change the output.
	if err := w.Write(recs[:3]); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(recs[3:]); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes written before Close: want them buffered", buf.Len())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Writer output differs from Append:\n%s\nwant\n%s", buf.Bytes(), want)
	}
	if err := w.Write(recs); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

func TestCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eve.json")
	if err := os.WriteFile(path, []byte("old contents\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	recs := fixtureRecords()
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != len(recs) {
		t.Fatalf("%d lines, want %d", len(lines), len(recs))
	}
	for i, l := range lines {
		if err := Validate([]byte(l)); err != nil {
			t.Errorf("line %d: %v", i+1, err)
		}
	}
	if _, err := Create(filepath.Join(t.TempDir(), "missing", "eve.json")); err == nil {
		t.Errorf("Create in a missing directory succeeded")
	}
}

var errDisk = errors.New("disk full")

// failWriter accepts n bytes, then fails.
type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return len(p), nil
	}
	n := f.n
	f.n = 0
	return n, errDisk
}

func TestWriterErrors(t *testing.T) {
	recs := fixtureRecords()
	t.Run("flush error from Close", func(t *testing.T) {
		w := NewWriter(&failWriter{n: 10})
		if err := w.Write(recs); err != nil {
			t.Fatalf("Write = %v; the buffer should have held the batch", err)
		}
		if err := w.Close(); !errors.Is(err, errDisk) {
			t.Errorf("Close = %v, want errDisk", err)
		}
	})
	t.Run("write error is sticky", func(t *testing.T) {
		w := NewWriter(&failWriter{n: 10})
		var big []event.Record
		for range 200 { // about 400 KiB: more than the buffer
			big = append(big, recs...)
		}
		if err := w.Write(big); !errors.Is(err, errDisk) {
			t.Fatalf("Write of more than the buffer = %v, want errDisk", err)
		}
		if err := w.Write(recs[:1]); !errors.Is(err, errDisk) {
			t.Errorf("next Write = %v, want errDisk", err)
		}
		if err := w.Close(); !errors.Is(err, errDisk) {
			t.Errorf("Close = %v, want errDisk", err)
		}
	})
	t.Run("encode error stops the batch", func(t *testing.T) {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		batch := []event.Record{recs[0], {Type: "flow", Time: t0}, recs[1]}
		err := w.Write(batch)
		if !errors.Is(err, ErrObject) || !strings.Contains(err.Error(), "record 1") {
			t.Fatalf("Write = %v, want ErrObject at record 1", err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(buf.String(), "\n"); got != 1 {
			t.Errorf("%d lines written, want the 1 before the bad record", got)
		}
	})
}

func TestWriterAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("-race empties sync.Pool at random: allocation counts mean nothing")
	}
	recs := fixtureRecords()[:4] // flow, flow, anomaly, fileinfo
	var sink discard
	w := NewWriter(&sink)
	_ = w.Write(recs)
	got := testing.AllocsPerRun(100, func() {
		if err := w.Write(recs); err != nil {
			t.Fatal(err)
		}
	})
	if got != 0 {
		t.Errorf("Writer.Write: %v allocations per batch, want 0", got)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkWriter(b *testing.B) {
	recs := fixtureRecords()
	w := NewWriter(discard{})
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(recs); err != nil {
			b.Fatal(err)
		}
	}
}
