package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGroupedCommits checks Options.CommitRecords: Writes stay invisible to
// a reader until the group commits, and every row is there after Close
// whatever the group size.
func TestGroupedCommits(t *testing.T) {
	c := makeCorpus(60)
	tests := []struct {
		name      string
		group     int
		seenEarly bool // a reader sees rows after the first half
	}{
		{"per write", 0, true},
		{"small groups", 7, true},
		{"one group", 1 << 20, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "g.db")
			w, err := Open(path, Options{CommitRecords: tc.group})
			if err != nil {
				t.Fatal(err)
			}
			half := len(c.recs) / 2
			writeAll(t, w, c.recs[:half], 10)
			r, err := OpenReadOnly(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			n1 := count(t, r, `SELECT count(*) FROM events`) + count(t, r, `SELECT count(*) FROM flows`)
			if (n1 > 0) != tc.seenEarly {
				t.Errorf("reader saw %d rows after the first half", n1)
			}
			writeAll(t, w, c.recs[half:], 10)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			n2 := count(t, r, `SELECT count(*) FROM events`) + count(t, r, `SELECT count(*) FROM flows`)
			if n2 != c.events+c.known {
				t.Errorf("%d rows after Close, want %d", n2, c.events+c.known)
			}
		})
	}
}

// TestWriteFailure: a failing Write rolls back everything not yet
// committed, its error is sticky, and Close leaves the run unfinished.
func TestWriteFailure(t *testing.T) {
	c := makeCorpus(12)
	var firstAlert int
	for i, r := range c.recs {
		if r.Alert != nil {
			firstAlert = i
			break
		}
	}
	for _, tc := range []struct {
		name     string
		group    int
		wantRows int // events rows left: what committed before the failure
	}{
		{"per write", 0, -1}, // -1: some, committed Write by Write
		{"grouped", 1 << 20, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.db")
			w, err := Open(path, Options{CommitRecords: tc.group})
			if err != nil {
				t.Fatal(err)
			}
			// Every alert row now violates a CHECK constraint.
			if err := w.w.exec(`CREATE TABLE refuse (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, CHECK (0))`); err != nil {
				t.Fatal(err)
			}
			if w.insAlert, err = w.w.prepare(`INSERT INTO refuse VALUES (?` + strings.Repeat(", ?", 15) + `)`); err != nil {
				t.Fatal(err)
			}
			writeAll(t, w, c.recs[:firstAlert], 1)
			committed := count(t, w, `SELECT count(*) FROM events`)
			if (tc.wantRows < 0 && committed == 0) || (tc.wantRows >= 0 && committed != tc.wantRows) {
				t.Fatalf("%d events visible before the failure, want %d", committed, tc.wantRows)
			}
			err = w.Write(c.recs[firstAlert : firstAlert+1])
			if err == nil || !strings.Contains(err.Error(), "CHECK") {
				t.Fatalf("Write of the alert: %v", err)
			}
			if err2 := w.Write(c.recs[firstAlert+1:]); err2 != err {
				t.Errorf("Write after the failure: %v, want the same error", err2)
			}
			if got := count(t, w, `SELECT count(*) FROM events`); got != committed {
				t.Errorf("%d events rows after the failure, want %d", got, committed)
			}
			if cerr := w.Close(); cerr != err {
				t.Errorf("Close after the failure: %v, want %v", cerr, err)
			}
			r, err := OpenReadOnly(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if n := count(t, r, `SELECT count(*) FROM runs WHERE ended_us IS NULL`); n != 1 {
				t.Errorf("the failed run is finished (%d unfinished runs)", n)
			}
		})
	}
}

// TestLeaveWAL: a finished database is one file in rollback-journal mode,
// and reading it leaves no -wal or -shm file behind. With a reader open
// while the writer closes, Close still succeeds at once and the database
// is complete (it stays in WAL mode). A later writer switches to WAL again.
func TestLeaveWAL(t *testing.T) {
	c := makeCorpus(20)
	mode := func(path string) string {
		t.Helper()
		r, err := OpenReadOnly(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var m string
		if err := r.conn.QueryRowContext(context.Background(), `PRAGMA journal_mode`).Scan(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	gone := func(path string) {
		t.Helper()
		for _, p := range []string{path + "-wal", path + "-shm"} {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("%s exists (%v)", filepath.Base(p), err)
			}
		}
	}
	t.Run("alone", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.db")
		w, err := Open(path, Options{CommitRecords: 7, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		writeAll(t, w, c.recs, 10)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		gone(path)
		if m := mode(path); m != "delete" {
			t.Errorf("journal mode %q after Close, want delete", m)
		}
		gone(path) // the read-only open above created nothing
		w2, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var m string
		if err := w2.conn.QueryRowContext(context.Background(), `PRAGMA journal_mode`).Scan(&m); err != nil || m != "wal" {
			t.Errorf("second writer: journal mode %q (%v), want wal", m, err)
		}
		writeAll(t, w2, c.recs, 10)
		if err := w2.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := OpenReadOnly(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if n := count(t, r, `SELECT count(*) FROM runs WHERE ended_us IS NOT NULL`); n != 2 {
			t.Errorf("%d finished runs, want 2", n)
		}
	})
	t.Run("reader open", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "b.db")
		w, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		writeAll(t, w, c.recs, 10)
		r, err := OpenReadOnly(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		start := time.Now()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Close waited %v for the reader", d)
		}
		if n := count(t, r, `SELECT count(*) FROM events`) + count(t, r, `SELECT count(*) FROM flows`); n != c.events+c.known {
			t.Errorf("reader sees %d rows, want %d", n, c.events+c.known)
		}
	})
}
