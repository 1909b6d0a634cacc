package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/sink/eve"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Errors returned by this package.
var (
	ErrClosed        = errors.New("sqlite: store is closed")
	ErrReadOnly      = errors.New("sqlite: store is read-only")
	ErrNewerSchema   = errors.New("sqlite: database schema is newer than this build")
	ErrSchemaVersion = errors.New("sqlite: database schema version does not match")
)

// maxTx is the most records one transaction holds: a larger Write is
// committed in several steps so the WAL stays bounded.
const maxTx = 16384

// RunInfo describes the analyze run that fills the database; it becomes the
// runs row.
type RunInfo struct {
	Started time.Time // wall clock at start; zero: time.Now() at Open
	Args    string    // the command line, as the user typed it
	Version string    // peerwatch version
	Files   []string  // the capture files read, in order
}

// Options configure a writable Store.
type Options struct {
	// AllFlows stores every flow record; by default only flows with an
	// app_proto or a peerwatch service are stored, the others only counted
	// into the aggregates.
	AllFlows bool

	// HomeNet decides which side of a flow is our host in the aggregates
	// and the local_side columns. Empty: RFC 1918 and fc00::/7.
	HomeNet []netip.Prefix

	// Run describes this run for the runs row.
	Run RunInfo

	// Encode appends the EVE text of r to dst and returns the result; it
	// fills the json columns. The pipeline passes the EVE sink's encoder so
	// both outputs agree byte for byte. Nil: an encoding/json encoder of
	// the same shape. Encode is called from the goroutine calling Write and
	// must not keep dst or r.
	Encode func(dst []byte, r *event.Record) []byte

	// CommitRecords, if positive, groups Writes into one transaction,
	// committed once it holds this many records or CommitInterval after it
	// began (checked at each Write), and at Close. Fewer commits mean
	// fewer WAL writes; readers see a Write only once its transaction
	// commits, and a failure loses the whole uncommitted group (see
	// Write). 0: every Write commits. CommitInterval 0: no time limit.
	CommitRecords  int
	CommitInterval time.Duration

	// NoSync turns fsync off (PRAGMA synchronous = OFF) for a database
	// that is re-created from its input when lost, as analyze's is. In WAL
	// mode the database still survives the process dying at any point; an
	// operating-system crash or power loss before the kernel has written
	// it back may damage it. The default (synchronous = NORMAL) syncs at
	// each checkpoint; on a large run those waits are seconds of wall time.
	NoSync bool
}

// Store is an SQLite database of peerwatch records. A Store from Open
// writes one run; one from OpenReadOnly only answers queries. Write and
// Close are called from one goroutine, as every sink's are.
type Store struct {
	db       *sql.DB
	conn     *sql.Conn // the one connection; statements are prepared on it
	readOnly bool
	closed   bool
	runID    int64
	opt      Options
	agg      *aggregates

	// w is the write connection (lite.go); database/sql's conn opens,
	// migrates and answers queries.
	w                                                                   *lite
	insFlow, updFlow, insEvent, insAlert, insFile, updStats, updPWStats *liteStmt
	delMatrix, insMatrix                                                *liteStmt

	vals    []value // a row's values, reused
	scratch []byte  // texts built for a row (addresses, lists), reused

	// interim maps the flow id of a stored interim flow record to its rowid,
	// so the final record replaces it without an index on flow_id. An entry
	// lives only while its flow does, so the flow table bounds it.
	interim map[uint64]int64

	// The transaction kept open across Writes (Options.CommitRecords), and
	// the interim changes it makes.
	inTx    bool
	txRecs  int
	txStart time.Time
	pending []pendingInterim

	failed error // the first write failure; sticky

	buf         []byte // Encode output, reused
	meta        []byte // alert metadata text, reused
	first, last time.Time
	n           struct{ records, flowsSeen, flowsStored, events, alerts, files uint64 }
}

// dsn turns a file path into an SQLite URI, so that a '?' or '#' in the
// path is part of the name rather than a query.
func dsn(path, query string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: query}
	return u.String(), nil
}

// connect opens the database with a single pinned connection.
func connect(ctx context.Context, path, query string) (*sql.DB, *sql.Conn, error) {
	name, err := dsn(path, query)
	if err != nil {
		return nil, nil, err
	}
	db, err := sql.Open("sqlite", name)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	c, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, c, nil
}

// Open creates or opens the database at path for writing, brings its schema
// up to SchemaVersion, switches it to WAL with synchronous=NORMAL (OFF
// with NoSync) and inserts the runs row for this run.
func Open(path string, opt Options) (*Store, error) {
	return open(path, opt, len(migrations))
}

// open is Open with the schema brought only to version target, which lets
// tests create an older database.
func open(path string, opt Options, target int) (*Store, error) {
	ctx := context.Background()
	db, c, err := connect(ctx, path, "_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, conn: c, opt: opt, agg: newAggregates(opt.HomeNet), interim: make(map[uint64]int64)}
	if s.opt.Encode == nil {
		s.opt.Encode = encodeJSON
	}
	if err := s.init(ctx, path, target); err != nil {
		s.release()
		return nil, err
	}
	return s, nil
}

// init sets the pragmas, migrates, prepares the statements and inserts the
// runs row.
func (s *Store) init(ctx context.Context, path string, target int) error {
	// Large pages: a bulk load of wide rows (the json column) makes far
	// fewer page writes, WAL frames and B-tree splits. It only takes effect
	// on a new, empty database; an existing one keeps its page size.
	if _, err := s.conn.ExecContext(ctx, `PRAGMA page_size = 65536`); err != nil {
		return fmt.Errorf("sqlite: set page size: %w", err)
	}
	var mode string
	if err := s.conn.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: set WAL: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: set WAL: journal mode is %q", mode)
	}
	// NORMAL: a commit in WAL mode is not synced, a checkpoint is; a crash
	// loses at most the last batches, never the database. OFF (NoSync)
	// syncs nothing. The page cache is 32 MiB (negative means KiB); temporary
	// B-trees stay in memory.
	for _, p := range []string{s.syncPragma(), `PRAGMA cache_size = -32768`, `PRAGMA temp_store = MEMORY`} {
		if _, err := s.conn.ExecContext(ctx, p); err != nil {
			return fmt.Errorf("sqlite: %s: %w", p, err)
		}
	}
	if err := migrate(ctx, s.conn, target); err != nil {
		return err
	}
	if target < len(migrations) {
		return nil // a test's old database: no runs row, no statements
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := s.prepare(abs); err != nil {
		return err
	}
	for _, q := range indexes {
		if err := s.w.exec(q); err != nil {
			return fmt.Errorf("%w (create index)", err)
		}
	}
	started := s.opt.Run.Started
	if started.IsZero() {
		started = time.Now()
	}
	files := s.opt.Run.Files
	if files == nil {
		files = []string{}
	}
	inputs, _ := json.Marshal(files) // a []string always marshals
	res, err := s.conn.ExecContext(ctx,
		`INSERT INTO runs (started_us, version, args, inputs, home_net, all_flows) VALUES (?, ?, ?, ?, ?, ?)`,
		started.UnixMicro(), s.opt.Run.Version, s.opt.Run.Args, string(inputs),
		prefixList(s.agg.home), s.opt.AllFlows)
	if err != nil {
		return fmt.Errorf("sqlite: insert run: %w", err)
	}
	if s.runID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("sqlite: insert run: %w", err)
	}
	return nil
}

// prefixList writes prefixes as a comma-separated list.
func prefixList(ps []netip.Prefix) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

const flowColumns = `start_us, end_us, age, src_ip, src_port, dst_ip, dst_port, proto, vlan,
	app_proto, app_proto_orig, service, product, category, confidence, evidence,
	pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient, state, reason,
	alerted, interim, community_id, local_side, proxy_kind, proxy_addr, proxy_target,
	pcap_cnt, pcap_file, evasion`

// syncPragma is the synchronous setting of both connections (see NoSync).
func (s *Store) syncPragma() string {
	if s.opt.NoSync {
		return `PRAGMA synchronous = OFF`
	}
	return `PRAGMA synchronous = NORMAL`
}

// prepare opens the write connection and compiles the statements Write
// uses.
func (s *Store) prepare(path string) error {
	w, err := openLite(path)
	if err != nil {
		return err
	}
	s.w = w
	// Per-connection settings, as on the database/sql connection: see init.
	if err := w.exec(s.syncPragma() + `; PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY`); err != nil {
		return err
	}
	q := []struct {
		dst **liteStmt
		sql string
	}{
		{&s.insFlow, `INSERT INTO flows (run_id, flow_id, ` + flowColumns + `) VALUES (?, ?` + strings.Repeat(", ?", 32) + `)`},
		{&s.updFlow, `UPDATE flows SET (` + flowColumns + `) = (?` + strings.Repeat(", ?", 31) + `) WHERE rowid = ?`},
		{&s.insEvent, `INSERT INTO events (run_id, flow_id, seq, time_us, event_type, kind, app_proto,
			service, product, feature, user_local, user_peer, src_ip, src_port, dst_ip, dst_port,
			local_side, json) VALUES (?` + strings.Repeat(", ?", 17) + `)`},
		{&s.insAlert, `INSERT INTO alerts (event_id, run_id, flow_id, time_us, action, gid, signature_id,
			rev, signature, category, severity, metadata, service, src_ip, dst_ip, local_side)
			VALUES (?` + strings.Repeat(", ?", 15) + `)`},
		{&s.insFile, `INSERT INTO files (event_id, run_id, flow_id, time_us, filename, size, state,
			stored, gaps, md5, sha1, sha256, magic, tx_id, file_type, service)
			VALUES (?` + strings.Repeat(", ?", 15) + `)`},
		{&s.updStats, `UPDATE runs SET stats = ?, uptime = ? WHERE run_id = ?`},
		{&s.updPWStats, `UPDATE runs SET peerwatch_stats = ? WHERE run_id = ?`},
		{&s.delMatrix, `DELETE FROM risk_matrix WHERE run_id = ?`},
		{&s.insMatrix, `INSERT INTO risk_matrix (run_id, host, home, service, product, risk,
			count, alerts, worst, first_us, last_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
	}
	for _, x := range q {
		st, err := w.prepare(x.sql)
		if err != nil {
			return err
		}
		*x.dst = st
	}
	return nil
}

// OpenReadOnly opens an existing database for queries, for instance while
// analyze is still writing it. Its schema must be SchemaVersion.
func OpenReadOnly(path string) (*Store, error) {
	ctx := context.Background()
	db, c, err := connect(ctx, path, "mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, conn: c, readOnly: true}
	v, err := userVersion(ctx, c)
	if err == nil && v != SchemaVersion {
		err = fmt.Errorf("%w: %s is version %d, want %d", ErrSchemaVersion, path, v, SchemaVersion)
	}
	if err == nil {
		var id sql.NullInt64
		if err = c.QueryRowContext(ctx, `SELECT max(run_id) FROM runs`).Scan(&id); err != nil {
			err = fmt.Errorf("sqlite: read runs: %w", err)
		}
		s.runID = id.Int64
	}
	if err != nil {
		s.release()
		return nil, err
	}
	return s, nil
}

// RunID returns the run this Store writes, or for a read-only Store the
// latest run in the database (0 if none).
func (s *Store) RunID() int64 { return s.runID }

// Write stores a batch of records in one transaction (several if the batch
// is longer than maxTx), or in the open group (Options.CommitRecords).
// Records are stored as the package comment says; recs and what they point
// to are not kept. A failure rolls back what was not committed and is
// returned again by every later Write and by Close, which then leaves the
// run unfinished.
func (s *Store) Write(recs []event.Record) error {
	switch {
	case s.closed:
		return ErrClosed
	case s.readOnly:
		return ErrReadOnly
	}
	for len(recs) > 0 {
		n := min(len(recs), maxTx)
		if err := s.writeTx(recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// writeTx writes records in the open transaction, starting one if needed,
// and commits it when the group is full (Options.CommitRecords) or at
// once without grouping. A failure rolls back every record not yet
// committed and is sticky: later Writes return it and Close only releases
// the database, leaving the run unfinished. Without grouping a failed
// Write therefore leaves no trace. The interim map changes only at commit.
// (Savepoints per Write were measured: with the indexes maintained during
// the load, their sub-journal of index pages cost more than the inserts.)
func (s *Store) writeTx(recs []event.Record) (err error) {
	if s.failed != nil {
		return s.failed
	}
	defer func() {
		if err != nil {
			s.rollback()
			s.failed = err
		}
	}()
	if !s.inTx {
		if err := s.w.exec(`BEGIN`); err != nil {
			return err
		}
		s.inTx, s.txRecs, s.txStart = true, 0, time.Now()
	}
	for i := range recs {
		if err := s.writeOne(&recs[i]); err != nil {
			return err
		}
	}
	for i := range recs {
		s.count(&recs[i])
	}
	s.txRecs += len(recs)
	if s.opt.CommitRecords <= 0 || s.txRecs >= s.opt.CommitRecords ||
		(s.opt.CommitInterval > 0 && time.Since(s.txStart) >= s.opt.CommitInterval) {
		return s.commit()
	}
	return nil
}

// commit ends the open transaction and applies its interim changes.
func (s *Store) commit() error {
	if !s.inTx {
		return nil
	}
	if err := s.w.exec(`COMMIT`); err != nil {
		return err
	}
	s.inTx = false
	for _, p := range s.pending {
		if p.rowid == 0 {
			delete(s.interim, p.flowID)
		} else {
			s.interim[p.flowID] = p.rowid
		}
	}
	s.pending = s.pending[:0]
	return nil
}

// rollback abandons the open transaction and its interim changes.
func (s *Store) rollback() {
	if s.inTx {
		_ = s.w.exec(`ROLLBACK`)
	}
	s.inTx = false
	s.pending = s.pending[:0]
}

// pendingInterim is a change to Store.interim that takes effect at commit;
// rowid 0 deletes the entry.
type pendingInterim struct {
	flowID uint64
	rowid  int64
}

// keyOf returns the aggregate key of a record.
func keyOf(r *event.Record) protoKey {
	k := protoKey{appProto: r.AppProto}
	if r.PW != nil {
		k.service = r.PW.Service
	}
	return k
}

// stores reports whether a flow record gets a row.
func (s *Store) stores(r *event.Record) bool {
	return s.opt.AllFlows || r.AppProto != "" || (r.PW != nil && r.PW.Service != "")
}

// count updates the counters and aggregates for a committed record.
func (s *Store) count(r *event.Record) {
	s.n.records++
	if r.Stats == nil { // a stats record's time is the wall clock
		widen(&s.first, &s.last, r.Time)
	}
	switch {
	case r.Flow != nil:
		if r.PW != nil && r.PW.Interim {
			return
		}
		s.n.flowsSeen++
		stored := s.stores(r)
		if stored {
			s.n.flowsStored++
		}
		s.agg.flow(r, keyOf(r), stored)
	case r.Stats != nil:
	default:
		s.n.events++
		if r.Alert != nil {
			s.n.alerts++
		}
		if r.File != nil {
			s.n.files++
		}
		s.agg.event(r, keyOf(r))
	}
}

// writeOne writes the rows of one record.
func (s *Store) writeOne(r *event.Record) error {
	s.scratch = s.scratch[:0]
	switch {
	case r.Flow != nil:
		return s.writeFlow(r)
	case r.Stats != nil:
		return s.writeStats(r)
	}
	return s.writeEvent(r)
}

// appendMetadata appends the alerts.metadata text of m: what json.Marshal
// writes, and {} for no metadata.
func appendMetadata(dst []byte, m map[string][]string) []byte {
	if len(m) == 0 {
		return append(dst, "{}"...)
	}
	return eve.AppendStringLists(dst, m)
}

// writeFlow inserts a flow row, or replaces the interim row of the same
// flow. A flow that is not stored gets no row.
func (s *Store) writeFlow(r *event.Record) error {
	interim := r.PW != nil && r.PW.Interim
	rowid, had := s.interim[r.FlowID]
	for _, p := range s.pending { // an earlier record of this transaction
		if p.flowID == r.FlowID {
			rowid, had = p.rowid, p.rowid != 0
		}
	}
	if !had && !s.stores(r) {
		return nil
	}
	if had {
		v := s.flowValues(s.vals[:0], r)
		s.vals = append(v, vInt(rowid))
		if err := s.updFlow.exec(s.vals...); err != nil {
			return fmt.Errorf("%w (update flow %d)", err, r.FlowID)
		}
		if !interim {
			s.pending = append(s.pending, pendingInterim{flowID: r.FlowID})
		}
		return nil
	}
	s.vals = s.flowValues(append(s.vals[:0], vInt(s.runID), vU64(r.FlowID)), r)
	if err := s.insFlow.exec(s.vals...); err != nil {
		return fmt.Errorf("%w (insert flow %d)", err, r.FlowID)
	}
	if interim {
		s.pending = append(s.pending, pendingInterim{flowID: r.FlowID, rowid: s.w.lastID()})
	}
	return nil
}

// flowValues appends the values of flowColumns for r.
func (s *Store) flowValues(v []value, r *event.Record) []value {
	f := r.Flow
	var pw event.Peerwatch
	if r.PW != nil {
		pw = *r.PW
	}
	var proxy event.Proxy
	if pw.Proxy != nil {
		proxy = *pw.Proxy
	}
	return append(v,
		vMicros(f.Start), vMicros(f.End), vInt(f.Age),
		s.addr(r.Src), vInt(int64(r.Src.Port())), s.addr(r.Dst), vInt(int64(r.Dst.Port())), vText(r.Proto), s.vlans(r.VLAN),
		vText(r.AppProto), vText(r.AppProtoOrig), vText(pw.Service), vText(pw.Product), vText(string(pw.Category)), vText(pw.Confidence),
		s.joined(pw.Evidence),
		vU64(f.PktsToServer), vU64(f.PktsToClient), vU64(f.BytesToServer), vU64(f.BytesToClient),
		vText(f.State), vText(f.Reason), vBool(f.Alerted), vBool(pw.Interim), vText(r.CommunityID), vText(s.agg.home.side(r.Src, r.Dst)),
		vText(proxy.Kind), vText(proxy.Addr), vText(proxy.Target), vU64(r.PcapCnt), vText(r.PcapFile), vText(pw.Evasion),
	)
}

// writeEvent inserts an events row, and an alerts or files row for those
// records.
func (s *Store) writeEvent(r *event.Record) error {
	var pw event.Peerwatch
	if r.PW != nil {
		pw = *r.PW
	}
	var users event.Users
	if pw.Users != nil {
		users = *pw.Users
	}
	kind := string(pw.Kind)
	switch {
	case kind != "":
	case r.App != nil:
		kind = string(r.App.Event)
	case r.Anomaly != nil:
		kind = string(event.Anomaly)
	case r.File != nil:
		kind = string(event.File)
	}
	side := vText(s.agg.home.side(r.Src, r.Dst))
	src, dst := s.addr(r.Src), s.addr(r.Dst)
	s.buf = s.opt.Encode(s.buf[:0], r)
	s.vals = append(s.vals[:0], vInt(s.runID), vU64(r.FlowID), vInt(int64(r.Seq)), vMicros(r.Time),
		vText(r.Type), vText(kind), vText(r.AppProto), vText(pw.Service), vText(pw.Product), vText(string(pw.Feature)),
		vText(users.Local), vText(users.Peer), src, vInt(int64(r.Src.Port())), dst, vInt(int64(r.Dst.Port())),
		side, vBytes(s.buf))
	if err := s.insEvent.exec(s.vals...); err != nil {
		return fmt.Errorf("%w (insert event)", err)
	}
	if r.Alert == nil && r.File == nil {
		return nil
	}
	id := s.w.lastID()
	if a := r.Alert; a != nil {
		s.meta = appendMetadata(s.meta[:0], a.Metadata)
		s.vals = append(s.vals[:0], vInt(id), vInt(s.runID), vU64(r.FlowID), vMicros(r.Time),
			vText(a.Action), vInt(int64(a.GID)), vInt(int64(a.SignatureID)), vInt(int64(a.Rev)), vText(a.Signature), vText(a.Category),
			vInt(int64(a.Severity)), vBytes(s.meta), vText(pw.Service), src, dst, side)
		if err := s.insAlert.exec(s.vals...); err != nil {
			return fmt.Errorf("%w (insert alert)", err)
		}
	}
	if f := r.File; f != nil {
		s.vals = append(s.vals[:0], vInt(id), vInt(s.runID), vU64(r.FlowID), vMicros(r.Time),
			vText(f.Filename), vInt(f.Size), vText(f.State), vBool(f.Stored), vBool(f.Gaps), vText(f.MD5), vText(f.SHA1), vText(f.SHA256), vText(f.Magic),
			vInt(int64(f.TxID)), vText(pw.FileType), vText(pw.Service))
		if err := s.insFile.exec(s.vals...); err != nil {
			return fmt.Errorf("%w (insert file)", err)
		}
	}
	return nil
}

// writeStats puts a stats or peerwatch_stats record into the runs row; a
// later record of the same type replaces an earlier one.
func (s *Store) writeStats(r *event.Record) error {
	st := r.Stats
	if err := s.writeMatrix(st.Peerwatch); err != nil {
		return err
	}
	if r.Type == event.TypePeerwatchStats {
		if err := s.updPWStats.exec(vText(statsJSON(st.Peerwatch)), vInt(s.runID)); err != nil {
			return fmt.Errorf("%w (store peerwatch_stats)", err)
		}
		return nil
	}
	if err := s.updStats.exec(vText(statsJSON(st.Suricata)), vInt(st.Uptime), vInt(s.runID)); err != nil {
		return fmt.Errorf("%w (store stats)", err)
	}
	if st.Peerwatch != nil { // one record carrying both objects
		if err := s.updPWStats.exec(vText(statsJSON(st.Peerwatch)), vInt(s.runID)); err != nil {
			return fmt.Errorf("%w (store peerwatch_stats)", err)
		}
	}
	return nil
}

// statsJSON encodes a stats map, keeping an error in place of a value
// encoding/json refuses.
func statsJSON(m map[string]any) string {
	if m == nil {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return `{"encode_error":` + quote(err.Error()) + `}`
	}
	return string(b)
}

// Close commits what is pending, writes the aggregates, finishes the runs
// row and closes the database. A read-only Store is only closed; after a
// write failure Close only releases the database and returns that failure.
// Close after Close returns ErrClosed.
func (s *Store) Close() error {
	if s.closed {
		return ErrClosed
	}
	if s.readOnly || s.w == nil {
		return s.release()
	}
	if s.failed != nil {
		s.release()
		return s.failed
	}
	err := s.finish()
	if err == nil {
		if err = s.closeSQL(); err == nil {
			s.leaveWAL()
		}
	}
	if rerr := s.release(); err == nil {
		err = rerr
	}
	return err
}

// closeSQL closes the database/sql connection and pool.
func (s *Store) closeSQL() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	if derr := s.db.Close(); err == nil {
		err = derr
	}
	s.conn, s.db = nil, nil
	if err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// leaveWAL switches a finished database back to a rollback journal, which
// checkpoints and removes the WAL: the result is one file that a reader
// opens without creating -wal and -shm files beside it (a read-only
// connection cannot remove them again), on read-only media too. A writer
// opening it later switches it to WAL again. Best effort: while another
// connection has the database open (a report reading it), SQLite refuses
// at once and the database stays in WAL mode, complete all the same.
func (s *Store) leaveWAL() {
	s.w.busyTimeout(0)
	_ = s.w.exec(`PRAGMA journal_mode = DELETE`)
}

// finish writes what Close adds to a writable database.
func (s *Store) finish() (err error) {
	if err := s.commit(); err != nil {
		return err
	}
	if err := s.w.exec(`BEGIN`); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = s.w.exec(`ROLLBACK`)
		}
	}()
	if err := s.writeAggregates(); err != nil {
		return err
	}
	fin, err := s.w.prepare(`UPDATE runs SET ended_us = ?, first_us = ?, last_us = ?,
		records = ?, flows_seen = ?, flows_stored = ?, events = ?, alerts = ?, files = ?,
		aggregates_dropped = ? WHERE run_id = ?`)
	if err != nil {
		return err
	}
	if err := fin.exec(vInt(time.Now().UnixMicro()), vMicros(s.first), vMicros(s.last), vU64(s.n.records),
		vU64(s.n.flowsSeen), vU64(s.n.flowsStored), vU64(s.n.events), vU64(s.n.alerts),
		vU64(s.n.files), vU64(s.agg.dropped), vInt(s.runID)); err != nil {
		return fmt.Errorf("%w (finish run)", err)
	}
	return s.w.exec(`COMMIT`)
}

// writeAggregates inserts the host_protocols and protocols rows.
func (s *Store) writeAggregates() error {
	hs, err := s.w.prepare(`INSERT INTO host_protocols (run_id, host, app_proto,
		service, flows, pkts, bytes_sent, bytes_received, first_us, last_us, peers, peers_capped)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for k, h := range s.agg.hosts {
		if err := hs.exec(vInt(s.runID), vText(k.host.String()), vText(k.appProto), vText(k.service),
			vU64(h.flows), vU64(h.pkts), vU64(h.sent), vU64(h.received), vMicros(h.first),
			vMicros(h.last), vInt(int64(len(h.peers))), vBool(h.capped)); err != nil {
			return fmt.Errorf("%w (insert host aggregate)", err)
		}
	}
	ps, err := s.w.prepare(`INSERT INTO protocols (run_id, app_proto, service,
		flows, flows_stored, pkts, bytes, hosts, events, alerts, first_us, last_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	hosts := s.agg.hostCounts()
	for k, p := range s.agg.protos {
		if err := ps.exec(vInt(s.runID), vText(k.appProto), vText(k.service), vU64(p.flows),
			vU64(p.stored), vU64(p.pkts), vU64(p.bytes), vU64(hosts[k]), vU64(p.events),
			vU64(p.alerts), vMicros(p.first), vMicros(p.last)); err != nil {
			return fmt.Errorf("%w (insert protocol aggregate)", err)
		}
	}
	return nil
}

// release closes the write connection, the query connection and the
// database.
func (s *Store) release() error {
	s.closed = true
	var err error
	if s.w != nil {
		if s.inTx {
			s.rollback()
		}
		err = s.w.close()
		s.w = nil
	}
	if s.conn != nil {
		if cerr := s.conn.Close(); err == nil {
			err = cerr
		}
		if derr := s.db.Close(); err == nil {
			err = derr
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// vMicros is a time as microseconds since the Unix epoch, or NULL for the
// zero time.
func vMicros(t time.Time) value {
	return vNullable(t.UnixMicro(), !t.IsZero())
}

// vBytes is a text aliasing b: valid while b is not changed, which covers
// one statement's exec (the values are copied into C memory there).
func vBytes(b []byte) value {
	return vText(unsafe.String(unsafe.SliceData(b), len(b)))
}

// text appends b to the row's scratch buffer and returns it as a text value.
// Growing scratch leaves earlier values on the old array, which they keep
// alive.
func (s *Store) text(start int) value {
	return vBytes(s.scratch[start:len(s.scratch):len(s.scratch)])
}

// addr is the address of an endpoint in netip text, or "" if absent.
func (s *Store) addr(ap netip.AddrPort) value {
	if !ap.IsValid() {
		return vText("")
	}
	start := len(s.scratch)
	s.scratch = ap.Addr().AppendTo(s.scratch)
	return s.text(start)
}

// vlans writes VLAN ids outermost first as a comma-separated list.
func (s *Store) vlans(v []uint16) value {
	start := len(s.scratch)
	for i, id := range v {
		if i > 0 {
			s.scratch = append(s.scratch, ',')
		}
		s.scratch = strconv.AppendUint(s.scratch, uint64(id), 10)
	}
	return s.text(start)
}

// joined writes strings as a comma-separated list.
func (s *Store) joined(list []string) value {
	start := len(s.scratch)
	for i, e := range list {
		if i > 0 {
			s.scratch = append(s.scratch, ',')
		}
		s.scratch = append(s.scratch, e...)
	}
	return s.text(start)
}
