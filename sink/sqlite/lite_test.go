package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	sqlite3 "modernc.org/sqlite/lib"
)

// TestLiteRoundTrip writes values through the C-API connection and reads
// them back through database/sql: texts (empty, NUL bytes, invalid UTF-8,
// one larger than every earlier row so the buffer grows mid-run),
// integers at the extremes, NULL.
func TestLiteRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (k INTEGER, a TEXT, b INTEGER)`); err != nil {
		t.Fatal(err)
	}
	l, err := openLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	st, err := l.prepare(`INSERT INTO t (k, a, b) VALUES (?, ?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 100_000)
	rows := []struct {
		a     string
		b     value
		wantB sql.NullInt64
	}{
		{"", vInt(0), sql.NullInt64{Valid: true}},
		{"plain", vInt(math.MaxInt64), sql.NullInt64{Int64: math.MaxInt64, Valid: true}},
		{"nul\x00inside", vInt(math.MinInt64), sql.NullInt64{Int64: math.MinInt64, Valid: true}},
		{"bad \xff utf-8", value{}, sql.NullInt64{}},
		{big, vU64(math.MaxUint64), sql.NullInt64{Int64: math.MaxInt64, Valid: true}},
		{"after growth", vBool(true), sql.NullInt64{Int64: 1, Valid: true}},
	}
	if err := l.exec(`BEGIN`); err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if err := st.exec(vInt(int64(i)), vText(r.a), r.b); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	if err := l.exec(`COMMIT`); err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		var a string
		var b sql.NullInt64
		if err := db.QueryRowContext(context.Background(), `SELECT a, b FROM t WHERE k = ?`, i).Scan(&a, &b); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if a != r.a || b != r.wantB {
			t.Errorf("row %d: got (%.20q, %v), want (%.20q, %v)", i, a, b, r.a, r.wantB)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM t WHERE a IS NULL`).Scan(&n); err != nil || n != 0 {
		t.Errorf("empty text stored as NULL: %d rows, %v", n, err)
	}
}

// TestLiteErrors checks that failures come back as errors naming the
// statement and SQLite's message, and leave the statement usable.
func TestLiteErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (a TEXT NOT NULL UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	if _, err := openLite(filepath.Join(t.TempDir(), "missing", "x.db")); err == nil {
		t.Error("opening a file in a missing directory succeeded")
	}
	l, err := openLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	if _, err := l.prepare(`INSERT INTO nosuch VALUES (?)`); err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Errorf("prepare on a missing table: %v", err)
	}
	if err := l.exec(`NOT SQL`); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("exec of bad SQL: %v", err)
	}
	st, err := l.prepare(`INSERT INTO t (a) VALUES (?)`)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.exec(vText("a"), vText("b")); !errors.Is(err, errLite) {
		t.Errorf("two values for one parameter: %v", err)
	}
	if err := st.exec(value{}); err == nil || !strings.Contains(err.Error(), "NOT NULL") {
		t.Errorf("NULL into NOT NULL: %v", err)
	}
	if err := st.exec(vText("once")); err != nil {
		t.Fatalf("statement unusable after an error: %v", err)
	}
	if err := st.exec(vText("once")); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("duplicate into UNIQUE: %v", err)
	}
}

// TestLiteExecAllocs asserts the per-row path allocates nothing.
func TestLiteExecAllocs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (a INTEGER, b TEXT, c TEXT)`); err != nil {
		t.Fatal(err)
	}
	l, err := openLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	st, err := l.prepare(`INSERT INTO t VALUES (?, ?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.exec(`BEGIN`); err != nil {
		t.Fatal(err)
	}
	vals := []value{vInt(1), vText("192.0.2.1"), vText(`{"event_type":"flow"}`)}
	if n := testing.AllocsPerRun(1000, func() {
		if err := st.exec(vals...); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("liteStmt.exec allocates %v times per row", n)
	}
	if err := l.exec(`COMMIT`); err != nil {
		t.Fatal(err)
	}
}

// TestNoSync checks Options.NoSync on both connections of a writer:
// synchronous is OFF (0) with it and NORMAL (1) without. A connection
// left at SQLite's default (FULL, 2) would sync at every commit.
func TestNoSync(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		s, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{NoSync: noSync})
		if err != nil {
			t.Fatal(err)
		}
		want := int64(1)
		if noSync {
			want = 0
		}
		var got int64
		if err := s.conn.QueryRowContext(context.Background(), `PRAGMA synchronous`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("NoSync %v: database/sql connection synchronous = %d, want %d", noSync, got, want)
		}
		st, err := s.w.prepare(`PRAGMA synchronous`)
		if err != nil {
			t.Fatal(err)
		}
		if rc := sqlite3.Xsqlite3_step(s.w.tls, st.p); rc != sqlite3.SQLITE_ROW {
			t.Fatalf("PRAGMA synchronous on the write connection: step returned %d", rc)
		}
		if got := sqlite3.Xsqlite3_column_int64(s.w.tls, st.p, 0); got != want {
			t.Errorf("NoSync %v: write connection synchronous = %d, want %d", noSync, got, want)
		}
		sqlite3.Xsqlite3_reset(s.w.tls, st.p)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
