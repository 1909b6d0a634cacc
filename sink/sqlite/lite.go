package sqlite

import (
	"errors"
	"fmt"
	"math"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// The write path talks to SQLite's C API (as compiled to Go by
// modernc.org/sqlite/lib) on a connection of its own. database/sql costs
// more per row than the insert itself: every argument is boxed, checked
// by a converter and copied into a fresh C string that is freed after the
// step. Here a row's values are copied into one C buffer per statement,
// bound without copies (SQLITE_STATIC), stepped and reset: no allocation
// per row on either side. database/sql still opens the database, migrates
// it and answers queries.

// errLite reports a failure of the low-level connection itself (no memory
// for a buffer, a statement with unexpected parameters).
var errLite = errors.New("sqlite: write connection")

// lite is one SQLite connection used from one goroutine.
type lite struct {
	tls   *libc.TLS
	db    uintptr
	stmts []*liteStmt
	// out is a word of C memory that receives the handles
	// sqlite3_open_v2 and sqlite3_prepare_v2 return through a pointer.
	// Go memory must not be handed to the C code as an address: the
	// runtime's pointer checks (-race, -d=checkptr) reject it.
	out uintptr
}

// cBytes returns the n bytes of C memory (modernc's allocator, outside the
// Go heap) at addr as a slice.
func cBytes(addr uintptr, n int) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(nil, addr)), n)
}

// cWord reads the pointer-sized word of C memory at addr.
func cWord(addr uintptr) uintptr {
	return *(*uintptr)(unsafe.Add(nil, addr))
}

// value is one bound parameter: an integer, a text or NULL.
type value struct {
	kind uint8
	i    int64
	s    string
}

const (
	kindNull uint8 = iota
	kindInt
	kindText
)

// Constructors for values.
func vInt(i int64) value   { return value{kind: kindInt, i: i} }
func vText(s string) value { return value{kind: kindText, s: s} }
func vBool(b bool) value {
	if b {
		return vInt(1)
	}
	return vInt(0)
}

// vU64 stores a counter or id, saturating at SQLite's largest integer.
func vU64(v uint64) value {
	if v > math.MaxInt64 {
		v = math.MaxInt64
	}
	return vInt(int64(v))
}

// vNullable is an integer or, when ok is false, NULL.
func vNullable(i int64, ok bool) value {
	if !ok {
		return value{}
	}
	return vInt(i)
}

// openLite opens the existing database file at path for writing, with a
// busy timeout of 10 s.
func openLite(path string) (*lite, error) {
	l := &lite{tls: libc.NewTLS()}
	name, err := libc.CString(path)
	if err != nil {
		l.tls.Close()
		return nil, fmt.Errorf("%w: %v", errLite, err)
	}
	defer libc.Xfree(l.tls, name)
	if l.out = libc.Xmalloc(l.tls, types.Size_t(unsafe.Sizeof(uintptr(0)))); l.out == 0 {
		l.tls.Close()
		return nil, fmt.Errorf("%w: out of memory", errLite)
	}
	clear(cBytes(l.out, int(unsafe.Sizeof(uintptr(0)))))
	rc := sqlite3.Xsqlite3_open_v2(l.tls, name, l.out, sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	l.db = cWord(l.out)
	if rc != sqlite3.SQLITE_OK {
		err := l.errorf(rc, "open %s", path)
		l.close()
		return nil, err
	}
	sqlite3.Xsqlite3_extended_result_codes(l.tls, l.db, 1)
	sqlite3.Xsqlite3_busy_timeout(l.tls, l.db, 10000)
	return l, nil
}

// errorf builds an error from a result code and the connection's message.
func (l *lite) errorf(rc int32, format string, args ...any) error {
	msg := libc.GoString(sqlite3.Xsqlite3_errstr(l.tls, rc))
	if l.db != 0 {
		if m := libc.GoString(sqlite3.Xsqlite3_errmsg(l.tls, l.db)); m != "" {
			msg = m
		}
	}
	return fmt.Errorf("sqlite: %s: %s (%d)", fmt.Sprintf(format, args...), msg, rc)
}

// exec runs one or more statements without parameters.
func (l *lite) exec(sql string) error {
	q, err := libc.CString(sql)
	if err != nil {
		return fmt.Errorf("%w: %v", errLite, err)
	}
	defer libc.Xfree(l.tls, q)
	if rc := sqlite3.Xsqlite3_exec(l.tls, l.db, q, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		return l.errorf(rc, "%s", firstWords(sql))
	}
	return nil
}

// firstWords names a statement in an error: its first 40 bytes.
func firstWords(sql string) string {
	if len(sql) > 40 {
		return sql[:40] + "…"
	}
	return sql
}

// lastID returns the rowid of the last row inserted.
func (l *lite) lastID() int64 { return sqlite3.Xsqlite3_last_insert_rowid(l.tls, l.db) }

// busyTimeout sets how long a statement waits for another connection's
// lock before failing with SQLITE_BUSY (10 s from openLite).
func (l *lite) busyTimeout(ms int32) { sqlite3.Xsqlite3_busy_timeout(l.tls, l.db, ms) }

// close finalizes the statements and closes the connection.
func (l *lite) close() error {
	for _, st := range l.stmts {
		st.finalize()
	}
	l.stmts = nil
	var err error
	if l.db != 0 {
		if rc := sqlite3.Xsqlite3_close_v2(l.tls, l.db); rc != sqlite3.SQLITE_OK {
			err = l.errorf(rc, "close")
		}
		l.db = 0
	}
	if l.out != 0 {
		libc.Xfree(l.tls, l.out)
		l.out = 0
	}
	if l.tls != nil {
		l.tls.Close()
		l.tls = nil
	}
	return err
}

// liteStmt is a prepared statement with a buffer for its text values.
type liteStmt struct {
	l      *lite
	p      uintptr
	n      int     // parameters
	buf    uintptr // C memory the text values are copied into
	bufCap int
	sql    string
}

// prepare compiles one statement; the connection finalizes it at close.
func (l *lite) prepare(sql string) (*liteStmt, error) {
	q, err := libc.CString(sql)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errLite, err)
	}
	defer libc.Xfree(l.tls, q)
	clear(cBytes(l.out, int(unsafe.Sizeof(uintptr(0)))))
	if rc := sqlite3.Xsqlite3_prepare_v2(l.tls, l.db, q, -1, l.out, 0); rc != sqlite3.SQLITE_OK {
		return nil, l.errorf(rc, "prepare %s", firstWords(sql))
	}
	st := &liteStmt{l: l, p: cWord(l.out), sql: sql}
	st.n = int(sqlite3.Xsqlite3_bind_parameter_count(l.tls, st.p))
	l.stmts = append(l.stmts, st)
	return st, nil
}

// exec binds vals to the statement's parameters in order, runs it to
// completion and resets it.
func (st *liteStmt) exec(vals ...value) error {
	if len(vals) != st.n {
		return fmt.Errorf("%w: %d values for %d parameters of %s", errLite, len(vals), st.n, firstWords(st.sql))
	}
	tls := st.l.tls
	// Copy every text into the statement's buffer first: growing it after
	// a bind would leave the earlier bindings pointing at freed memory.
	need := 0
	for i := range vals {
		if vals[i].kind == kindText {
			need += len(vals[i].s)
		}
	}
	// A buffer always exists: a NULL pointer would bind NULL, not "".
	if need > st.bufCap || st.buf == 0 {
		c := max(need, 2*st.bufCap, 4096)
		if need > math.MaxInt32 {
			return fmt.Errorf("%w: row of %d bytes is too large", errLite, need)
		}
		p := libc.Xmalloc(tls, types.Size_t(c))
		if p == 0 {
			return fmt.Errorf("%w: out of memory for a %d-byte row", errLite, need)
		}
		if st.buf != 0 {
			libc.Xfree(tls, st.buf)
		}
		st.buf, st.bufCap = p, c
	}
	off := 0
	for i := range vals {
		v := &vals[i]
		idx := int32(i + 1)
		var rc int32
		switch v.kind {
		case kindInt:
			rc = sqlite3.Xsqlite3_bind_int64(tls, st.p, idx, v.i)
		case kindText:
			n := len(v.s)
			copy(cBytes(st.buf+uintptr(off), n), v.s)
			rc = sqlite3.Xsqlite3_bind_text(tls, st.p, idx, st.buf+uintptr(off), int32(n), sqlite3.SQLITE_STATIC)
			off += n
		default:
			rc = sqlite3.Xsqlite3_bind_null(tls, st.p, idx)
		}
		if rc != sqlite3.SQLITE_OK {
			sqlite3.Xsqlite3_reset(tls, st.p)
			return st.l.errorf(rc, "bind %s", firstWords(st.sql))
		}
	}
	rc := sqlite3.Xsqlite3_step(tls, st.p)
	for rc == sqlite3.SQLITE_ROW {
		rc = sqlite3.Xsqlite3_step(tls, st.p)
	}
	if rc != sqlite3.SQLITE_DONE {
		err := st.l.errorf(rc, "%s", firstWords(st.sql))
		sqlite3.Xsqlite3_reset(tls, st.p)
		return err
	}
	sqlite3.Xsqlite3_reset(tls, st.p)
	return nil
}

// finalize releases the statement and its buffer.
func (st *liteStmt) finalize() {
	tls := st.l.tls
	if st.p != 0 {
		sqlite3.Xsqlite3_finalize(tls, st.p)
		st.p = 0
	}
	if st.buf != 0 {
		libc.Xfree(tls, st.buf)
		st.buf, st.bufCap = 0, 0
	}
}
