package sqlite

import (
	"path/filepath"
	"testing"
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
