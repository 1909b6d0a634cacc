package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/peerwatch/peerwatch/event"

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

	// CommitRecords, if positive, groups Writes: each Write goes into a
	// savepoint of one transaction, committed once it holds this many
	// records or CommitInterval after it began (checked at each Write),
	// and at Close. Fewer commits mean fewer WAL writes; readers see a
	// Write only once its transaction commits. 0: every Write commits.
	// CommitInterval 0: no time limit.
	CommitRecords  int
	CommitInterval time.Duration
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

	insFlow, updFlow, insEvent, insAlert, insFile, updStats, updPWStats *sql.Stmt

	// interim maps the flow id of a stored interim flow record to its rowid,
	// so the final record replaces it without an index on flow_id. An entry
	// lives only while its flow does, so the flow table bounds it.
	interim map[uint64]int64

	// The transaction kept open across Writes (Options.CommitRecords).
	inTx    bool
	txRecs  int
	txStart time.Time

	buf         []byte // Encode output, reused
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
// up to SchemaVersion, switches it to WAL with synchronous=NORMAL and
// inserts the runs row for this run.
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
	if err := s.init(ctx, target); err != nil {
		s.release()
		return nil, err
	}
	return s, nil
}

// init sets the pragmas, migrates, prepares the statements and inserts the
// runs row.
func (s *Store) init(ctx context.Context, target int) error {
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
	// loses at most the last batches, never the database. The page cache
	// (32 MiB, negative means KiB) keeps index building in Close in memory.
	// Sorting for the indexes built in Close stays in memory too.
	for _, p := range []string{`PRAGMA synchronous = NORMAL`, `PRAGMA cache_size = -32768`, `PRAGMA temp_store = MEMORY`} {
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
	if err := s.prepare(ctx); err != nil {
		return err
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

// prepare compiles the statements Write uses.
func (s *Store) prepare(ctx context.Context) error {
	q := []struct {
		dst **sql.Stmt
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
	}
	for _, x := range q {
		st, err := s.conn.PrepareContext(ctx, x.sql)
		if err != nil {
			return fmt.Errorf("sqlite: prepare: %w", err)
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
// is longer than maxTx). Records are stored as the package comment says;
// recs and what they point to are not kept.
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

// writeTx writes records in one transaction, or with Options.CommitRecords
// in a savepoint of the transaction kept open across Writes. The counters,
// aggregates and interim map change only once the records are in (the
// transaction committed or the savepoint released), so a failed batch
// leaves no trace anywhere and may be written again.
func (s *Store) writeTx(recs []event.Record) (err error) {
	ctx := context.Background()
	grouped := s.opt.CommitRecords > 0
	if !s.inTx {
		if _, err := s.conn.ExecContext(ctx, `BEGIN`); err != nil {
			return fmt.Errorf("sqlite: begin: %w", err)
		}
		s.inTx, s.txRecs, s.txStart = true, 0, time.Now()
	}
	if grouped {
		if _, err := s.conn.ExecContext(ctx, `SAVEPOINT batch`); err != nil {
			s.rollback(ctx)
			return fmt.Errorf("sqlite: savepoint: %w", err)
		}
	}
	pending := make([]pendingInterim, 0, 4)
	for i := range recs {
		if err = s.writeOne(ctx, &recs[i], &pending); err != nil {
			break
		}
	}
	switch {
	case err != nil && grouped && s.txRecs > 0:
		// Undo this batch only: the earlier ones stay in the transaction.
		if _, rerr := s.conn.ExecContext(ctx, `ROLLBACK TO batch`); rerr != nil {
			s.rollback(ctx)
			return err
		}
		if _, rerr := s.conn.ExecContext(ctx, `RELEASE batch`); rerr != nil {
			s.rollback(ctx)
		}
		return err
	case err != nil:
		s.rollback(ctx)
		return err
	}
	if grouped {
		if _, err = s.conn.ExecContext(ctx, `RELEASE batch`); err != nil {
			s.rollback(ctx)
			return fmt.Errorf("sqlite: release: %w", err)
		}
	}
	s.txRecs += len(recs)
	if !grouped || s.txRecs >= s.opt.CommitRecords ||
		(s.opt.CommitInterval > 0 && time.Since(s.txStart) >= s.opt.CommitInterval) {
		if err := s.commit(ctx); err != nil {
			return err
		}
	}
	for _, p := range pending {
		if p.rowid == 0 {
			delete(s.interim, p.flowID)
		} else {
			s.interim[p.flowID] = p.rowid
		}
	}
	for i := range recs {
		s.count(&recs[i])
	}
	return nil
}

// commit ends the open transaction.
func (s *Store) commit(ctx context.Context) error {
	if !s.inTx {
		return nil
	}
	if _, err := s.conn.ExecContext(ctx, `COMMIT`); err != nil {
		s.rollback(ctx)
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	s.inTx = false
	return nil
}

// rollback abandons the open transaction.
func (s *Store) rollback(ctx context.Context) {
	_, _ = s.conn.ExecContext(ctx, `ROLLBACK`)
	s.inTx = false
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
func (s *Store) writeOne(ctx context.Context, r *event.Record, pending *[]pendingInterim) error {
	switch {
	case r.Flow != nil:
		return s.writeFlow(ctx, r, pending)
	case r.Stats != nil:
		return s.writeStats(ctx, r)
	}
	return s.writeEvent(ctx, r)
}

// writeFlow inserts a flow row, or replaces the interim row of the same
// flow. A flow that is not stored gets no row.
func (s *Store) writeFlow(ctx context.Context, r *event.Record, pending *[]pendingInterim) error {
	interim := r.PW != nil && r.PW.Interim
	rowid, had := s.interim[r.FlowID]
	for _, p := range *pending { // an earlier record of this transaction
		if p.flowID == r.FlowID {
			rowid, had = p.rowid, p.rowid != 0
		}
	}
	if !had && !s.stores(r) {
		return nil
	}
	args := s.flowArgs(r)
	if had {
		if _, err := s.updFlow.ExecContext(ctx, append(args, rowid)...); err != nil {
			return fmt.Errorf("sqlite: update flow %d: %w", r.FlowID, err)
		}
		if !interim {
			*pending = append(*pending, pendingInterim{flowID: r.FlowID})
		}
		return nil
	}
	res, err := s.insFlow.ExecContext(ctx, append([]any{s.runID, u64(r.FlowID)}, args...)...)
	if err != nil {
		return fmt.Errorf("sqlite: insert flow %d: %w", r.FlowID, err)
	}
	if interim {
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("sqlite: insert flow %d: %w", r.FlowID, err)
		}
		*pending = append(*pending, pendingInterim{flowID: r.FlowID, rowid: id})
	}
	return nil
}

// flowArgs returns the values of flowColumns for r.
func (s *Store) flowArgs(r *event.Record) []any {
	f := r.Flow
	var pw event.Peerwatch
	if r.PW != nil {
		pw = *r.PW
	}
	var proxy event.Proxy
	if pw.Proxy != nil {
		proxy = *pw.Proxy
	}
	return []any{
		micros(f.Start), micros(f.End), f.Age,
		addr(r.Src), int64(r.Src.Port()), addr(r.Dst), int64(r.Dst.Port()), r.Proto, vlans(r.VLAN),
		r.AppProto, r.AppProtoOrig, pw.Service, pw.Product, string(pw.Category), pw.Confidence,
		strings.Join(pw.Evidence, ","),
		u64(f.PktsToServer), u64(f.PktsToClient), u64(f.BytesToServer), u64(f.BytesToClient),
		f.State, f.Reason, f.Alerted, pw.Interim, r.CommunityID, s.agg.home.side(r.Src, r.Dst),
		proxy.Kind, proxy.Addr, proxy.Target, u64(r.PcapCnt), r.PcapFile, pw.Evasion,
	}
}

// writeEvent inserts an events row, and an alerts or files row for those
// records.
func (s *Store) writeEvent(ctx context.Context, r *event.Record) error {
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
	side := s.agg.home.side(r.Src, r.Dst)
	s.buf = s.opt.Encode(s.buf[:0], r)
	res, err := s.insEvent.ExecContext(ctx, s.runID, u64(r.FlowID), int64(r.Seq), micros(r.Time),
		r.Type, kind, r.AppProto, pw.Service, pw.Product, string(pw.Feature), users.Local, users.Peer,
		addr(r.Src), int64(r.Src.Port()), addr(r.Dst), int64(r.Dst.Port()), side, string(s.buf))
	if err != nil {
		return fmt.Errorf("sqlite: insert event: %w", err)
	}
	if r.Alert == nil && r.File == nil {
		return nil
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: insert event: %w", err)
	}
	if a := r.Alert; a != nil {
		meta := "{}"
		if len(a.Metadata) > 0 {
			b, _ := json.Marshal(a.Metadata) // map[string][]string always marshals
			meta = string(b)
		}
		if _, err := s.insAlert.ExecContext(ctx, id, s.runID, u64(r.FlowID), micros(r.Time),
			a.Action, int64(a.GID), int64(a.SignatureID), int64(a.Rev), a.Signature, a.Category,
			int64(a.Severity), meta, pw.Service, addr(r.Src), addr(r.Dst), side); err != nil {
			return fmt.Errorf("sqlite: insert alert: %w", err)
		}
	}
	if f := r.File; f != nil {
		if _, err := s.insFile.ExecContext(ctx, id, s.runID, u64(r.FlowID), micros(r.Time),
			f.Filename, f.Size, f.State, f.Stored, f.Gaps, f.MD5, f.SHA1, f.SHA256, f.Magic,
			int64(f.TxID), pw.FileType, pw.Service); err != nil {
			return fmt.Errorf("sqlite: insert file: %w", err)
		}
	}
	return nil
}

// writeStats puts a stats or peerwatch_stats record into the runs row; a
// later record of the same type replaces an earlier one.
func (s *Store) writeStats(ctx context.Context, r *event.Record) error {
	st := r.Stats
	if err := s.writeMatrix(ctx, st.Peerwatch); err != nil {
		return err
	}
	if r.Type == event.TypePeerwatchStats {
		if _, err := s.updPWStats.ExecContext(ctx, statsJSON(st.Peerwatch), s.runID); err != nil {
			return fmt.Errorf("sqlite: store peerwatch_stats: %w", err)
		}
		return nil
	}
	if _, err := s.updStats.ExecContext(ctx, statsJSON(st.Suricata), st.Uptime, s.runID); err != nil {
		return fmt.Errorf("sqlite: store stats: %w", err)
	}
	if st.Peerwatch != nil { // one record carrying both objects
		if _, err := s.updPWStats.ExecContext(ctx, statsJSON(st.Peerwatch), s.runID); err != nil {
			return fmt.Errorf("sqlite: store peerwatch_stats: %w", err)
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

// Close writes the aggregates, finishes the runs row, builds the indexes
// and closes the database. A read-only Store is only closed. Close after
// Close returns ErrClosed.
func (s *Store) Close() error {
	if s.closed {
		return ErrClosed
	}
	if s.readOnly {
		return s.release()
	}
	err := s.finish(context.Background())
	if rerr := s.release(); err == nil {
		err = rerr
	}
	return err
}

// finish writes what Close adds to a writable database.
func (s *Store) finish(ctx context.Context) (err error) {
	if err := s.commit(ctx); err != nil {
		return err
	}
	if _, err := s.conn.ExecContext(ctx, `BEGIN`); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = s.conn.ExecContext(ctx, `ROLLBACK`)
		}
	}()
	if err := s.writeAggregates(ctx); err != nil {
		return err
	}
	if _, err := s.conn.ExecContext(ctx, `UPDATE runs SET ended_us = ?, first_us = ?, last_us = ?,
		records = ?, flows_seen = ?, flows_stored = ?, events = ?, alerts = ?, files = ?,
		aggregates_dropped = ? WHERE run_id = ?`,
		time.Now().UnixMicro(), micros(s.first), micros(s.last), u64(s.n.records),
		u64(s.n.flowsSeen), u64(s.n.flowsStored), u64(s.n.events), u64(s.n.alerts),
		u64(s.n.files), u64(s.agg.dropped), s.runID); err != nil {
		return fmt.Errorf("sqlite: finish run: %w", err)
	}
	for _, q := range indexes {
		if _, err := s.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlite: build index: %w", err)
		}
	}
	if _, err := s.conn.ExecContext(ctx, `COMMIT`); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// writeAggregates inserts the host_protocols and protocols rows.
func (s *Store) writeAggregates(ctx context.Context) error {
	hs, err := s.conn.PrepareContext(ctx, `INSERT INTO host_protocols (run_id, host, app_proto,
		service, flows, pkts, bytes_sent, bytes_received, first_us, last_us, peers, peers_capped)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("sqlite: prepare: %w", err)
	}
	defer hs.Close()
	for k, h := range s.agg.hosts {
		if _, err := hs.ExecContext(ctx, s.runID, k.host.String(), k.appProto, k.service,
			u64(h.flows), u64(h.pkts), u64(h.sent), u64(h.received), micros(h.first),
			micros(h.last), int64(len(h.peers)), h.capped); err != nil {
			return fmt.Errorf("sqlite: insert host aggregate: %w", err)
		}
	}
	ps, err := s.conn.PrepareContext(ctx, `INSERT INTO protocols (run_id, app_proto, service,
		flows, flows_stored, pkts, bytes, hosts, events, alerts, first_us, last_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("sqlite: prepare: %w", err)
	}
	defer ps.Close()
	hosts := s.agg.hostCounts()
	for k, p := range s.agg.protos {
		if _, err := ps.ExecContext(ctx, s.runID, k.appProto, k.service, u64(p.flows),
			u64(p.stored), u64(p.pkts), u64(p.bytes), u64(hosts[k]), u64(p.events),
			u64(p.alerts), micros(p.first), micros(p.last)); err != nil {
			return fmt.Errorf("sqlite: insert protocol aggregate: %w", err)
		}
	}
	return nil
}

// release closes statements, the connection and the database.
func (s *Store) release() error {
	s.closed = true
	for _, st := range []*sql.Stmt{s.insFlow, s.updFlow, s.insEvent, s.insAlert, s.insFile, s.updStats, s.updPWStats} {
		if st != nil {
			st.Close()
		}
	}
	err := s.conn.Close()
	if derr := s.db.Close(); err == nil {
		err = derr
	}
	if err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// micros is a time as microseconds since the Unix epoch, or NULL for the
// zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// u64 converts a counter or id for SQLite's signed 64-bit integers,
// saturating instead of failing on values past math.MaxInt64.
func u64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// addr is the address of an endpoint in netip text, or "" if absent.
func addr(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return ""
	}
	return ap.Addr().String()
}

// vlans writes VLAN ids outermost first as a comma-separated list.
func vlans(v []uint16) string {
	if len(v) == 0 {
		return ""
	}
	b := make([]byte, 0, 6*len(v))
	for i, id := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(id), 10)
	}
	return string(b)
}
