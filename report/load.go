package report

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/peerwatch/peerwatch/event"
)

// maxGroups bounds the (host, application, risk) groups Load aggregates in
// memory; a capture with more is summarised and a note says so.
const maxGroups = 1 << 18

// loader holds the state of one Load.
type loader struct {
	ctx     context.Context
	db      *sql.DB
	run     int64
	home    homeNet
	opts    Options
	r       *Report
	evasion bool // flows has the evasion column (schema version 3)
	apps    map[appKey]*appAgg
	cells   map[cellKey]*Cell
}

// appKey identifies one host's use of one application.
type appKey struct{ host, service, product string }

// cellKey identifies one matrix cell.
type cellKey struct {
	host             string
	home             bool
	service, product string
	risk             event.Risk
}

// appAgg collects an App.
type appAgg struct {
	App
	clients, users, ports, proxies map[string]bool
}

// Load reads one run of the database at dbPath and builds its Report. The
// database is opened read-only; analyze may still be writing it.
func Load(ctx context.Context, dbPath string, opts Options) (*Report, error) {
	if opts.Top <= 0 {
		opts.Top = 20
	}
	if opts.MaxRows <= 0 {
		opts.MaxRows = 1000
	}
	db, err := openDB(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	l := &loader{ctx: ctx, db: db, opts: opts, apps: map[appKey]*appAgg{}, cells: map[cellKey]*Cell{},
		r: &Report{Schema: SchemaID, Matrix: Matrix{Columns: event.Risks}}}
	steps := []func() error{l.loadRun, l.loadFlows, l.loadUsers, l.loadMatrix, l.loadFindings,
		l.loadFiles, l.loadCredentials, l.loadProtocols, l.loadActivity}
	for _, f := range steps {
		if err := f(); err != nil {
			return nil, err
		}
	}
	l.build()
	return l.r, nil
}

// query runs q and calls scan for each row.
func (l *loader) query(what string, scan func(*sql.Rows) error, q string, args ...any) error {
	rows, err := l.db.QueryContext(l.ctx, q, args...)
	if err != nil {
		return fmt.Errorf("report: query %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("report: query %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("report: query %s: %w", what, err)
	}
	return nil
}

// note adds a line to Report.Notes.
func (l *loader) note(format string, args ...any) {
	l.r.Notes = append(l.r.Notes, fmt.Sprintf(format, args...))
}

// loadRun reads the runs row.
func (l *loader) loadRun() error {
	id := l.opts.RunID
	if id == 0 {
		var v sql.NullInt64
		if err := l.db.QueryRowContext(l.ctx, `SELECT max(run_id) FROM runs`).Scan(&v); err != nil {
			return fmt.Errorf("report: read runs: %w", err)
		}
		if !v.Valid {
			return ErrNoRun
		}
		id = v.Int64
	}
	var inputs, home string
	var ended, first, last sql.NullInt64
	var flows, events, alerts, files sql.NullInt64
	run := &l.r.Run
	err := l.db.QueryRowContext(l.ctx, `SELECT run_id, version, inputs, home_net, ended_us, first_us, last_us,
		flows_seen, events, alerts, files FROM runs WHERE run_id = ?`, id).Scan(&run.ID, &run.Version,
		&inputs, &home, &ended, &first, &last, &flows, &events, &alerts, &files)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: run %d", ErrNoRun, id)
	}
	if err != nil {
		return fmt.Errorf("report: read runs: %w", err)
	}
	l.run = id
	run.Finished = ended.Valid
	run.First, run.Last = micros(first), micros(last)
	run.Flows, run.Events, run.Alerts, run.Files = flows.Int64, events.Int64, alerts.Int64, files.Int64
	if json.Unmarshal([]byte(inputs), &run.Inputs) != nil || run.Inputs == nil {
		run.Inputs = []string{}
	}
	l.home = parseHome(home)
	run.HomeNet = []string{}
	for _, p := range l.home {
		run.HomeNet = append(run.HomeNet, p.String())
	}
	if !run.Finished {
		l.note("the run has not finished (or analyze stopped): counts are those committed so far and the aggregates may be empty")
		// The counters of runs are written at close; count what is there.
		for _, c := range []struct {
			dst *int64
			q   string
		}{
			{&run.Events, `SELECT count(*) FROM events WHERE run_id = ?`},
			{&run.Alerts, `SELECT count(*) FROM alerts WHERE run_id = ?`},
			{&run.Files, `SELECT count(*) FROM files WHERE run_id = ?`},
		} {
			if err := l.db.QueryRowContext(l.ctx, c.q, id).Scan(c.dst); err != nil {
				return fmt.Errorf("report: count: %w", err)
			}
		}
	}
	// The capture's span comes from the records themselves: the runs row's
	// first_us/last_us also cover the stats records, stamped at run end.
	{
		var a, b sql.NullInt64
		if err := l.db.QueryRowContext(l.ctx, `SELECT min(t), max(t) FROM (
			SELECT min(start_us) AS t FROM flows WHERE run_id = ?1 UNION ALL SELECT max(end_us) FROM flows WHERE run_id = ?1
			UNION ALL SELECT min(time_us) FROM events WHERE run_id = ?1 UNION ALL SELECT max(time_us) FROM events WHERE run_id = ?1)`,
			id).Scan(&a, &b); err != nil {
			return fmt.Errorf("report: time range: %w", err)
		}
		run.First, run.Last = micros(a), micros(b)
	}
	return nil
}

// app returns the aggregate of a host's application, or nil when the
// group limit is reached.
func (l *loader) app(host, service, product, category string) *appAgg {
	k := appKey{host, service, product}
	a := l.apps[k]
	if a == nil {
		if len(l.apps) >= maxGroups {
			return nil
		}
		a = &appAgg{App: App{Service: service, Product: product, Category: category},
			clients: map[string]bool{}, users: map[string]bool{}, ports: map[string]bool{}, proxies: map[string]bool{}}
		l.apps[k] = a
	}
	if a.Category == "" || a.Category == string(event.CatCarrier) {
		a.Category = category // an IM/P2P claim wins over its carrier
	}
	return a
}

// loadFlows reads every IM/P2P flow once: the inventory and the evasions.
func (l *loader) loadFlows() error {
	var err error
	if l.evasion, err = hasColumn(l.ctx, l.db, "flows", "evasion"); err != nil {
		return err
	}
	evCol := `''`
	if l.evasion {
		evCol = `evasion`
	} else {
		l.note("flows has no evasion column (schema before version 3): other_port evasions are not shown; proxies and HTTP tunnels are derived from the proxy and carrier columns")
	}
	return l.query("flows", func(rows *sql.Rows) error {
		var id uint64
		var start, end sql.NullInt64
		var sip, dip, proto, appProto, appOrig, service, product, category, pkind, paddr, ptarget, evasion string
		var sport, dport, bytes int64
		if err := rows.Scan(&id, &start, &end, &sip, &sport, &dip, &dport, &proto, &appProto, &appOrig, &service,
			&product, &category, &pkind, &paddr, &ptarget, &bytes, &evasion); err != nil {
			return err
		}
		proxy := ""
		if pkind != "" {
			proxy = pkind + " " + paddr
			if ptarget != "" {
				proxy += " -> " + ptarget
			}
		}
		for side, ip := range [2]string{sip, dip} {
			if !l.home.contains(ip) {
				continue
			}
			a := l.app(ip, service, product, category)
			if a == nil {
				continue
			}
			dir := "out"
			if side == 1 {
				dir = "in"
			}
			a.ports[fmt.Sprintf("%s %s/%d", dir, strings.ToLower(proto), dport)] = true
			if proxy != "" {
				a.proxies[proxy] = true
			}
			a.Flows++
			a.Bytes += bytes
			widen(&a.First, &a.Last, micros(start))
			widen(&a.First, &a.Last, micros(end))
		}
		if !l.evasion {
			switch {
			case pkind != "":
				evasion = event.ViaProxy
			case appOrig == "http" || strings.HasSuffix(appProto, "_http") || (category == string(event.CatCarrier) && appProto == "http"):
				evasion = event.HTTPTunnel
			}
		}
		if evasion == event.OtherPort || evasion == event.ViaProxy || evasion == event.HTTPTunnel {
			if len(l.r.Evasions) < l.opts.MaxRows {
				l.r.Evasions = append(l.r.Evasions, Evasion{FlowID: id, Host: l.homeEnd(sip, dip), Service: service,
					How: evasion, Src: hostPort(sip, sport), Dst: hostPort(dip, dport), Proxy: proxy})
			} else if len(l.r.Evasions) == l.opts.MaxRows {
				l.note("evasions: only the first %d are listed", l.opts.MaxRows)
				l.r.Evasions = append(l.r.Evasions, Evasion{}) // marker, removed in build
			}
		}
		return nil
	}, `SELECT flow_id, start_us, end_us, src_ip, src_port, dst_ip, dst_port, proto, app_proto, app_proto_orig,
		service, product, category, proxy_kind, proxy_addr, proxy_target,
		bytes_toserver + bytes_toclient, `+evCol+` FROM flows WHERE run_id = ? AND service != '' ORDER BY flow_id`, l.run)
}

// homeEnd returns the home_net end of a record: the source if both are.
func (l *loader) homeEnd(src, dst string) string {
	switch {
	case l.home.contains(src):
		return src
	case l.home.contains(dst):
		return dst
	}
	return ""
}

// widen stretches [first, last] to include t (if t is set).
func widen(first, last *time.Time, t time.Time) {
	if t.IsZero() {
		return
	}
	if first.IsZero() || t.Before(*first) {
		*first = t
	}
	if last.IsZero() || t.After(*last) {
		*last = t
	}
}

// loadUsers adds user names and client strings to the inventory.
func (l *loader) loadUsers() error {
	return l.query("users", func(rows *sql.Rows) error {
		var sip, dip, service, product, category, user, client string
		if err := rows.Scan(&sip, &dip, &service, &product, &category, &user, &client); err != nil {
			return err
		}
		host := l.homeEnd(sip, dip)
		if host == "" {
			return nil
		}
		a := l.app(host, service, product, category)
		if a == nil {
			return nil
		}
		if user != "" {
			a.users[user] = true
		}
		if client != "" {
			a.clients[client] = true
		}
		return nil
	}, `SELECT DISTINCT src_ip, dst_ip, service, product,
		coalesce(json_extract(json, '$.peerwatch.category'), ''), user_local,
		coalesce(json_extract(json, '$.peerwatch.login.client'), '')
		FROM events WHERE run_id = ? AND service != '' AND (user_local != '' OR kind = 'login')
		LIMIT 100000`, l.run)
}

// cell returns the matrix cell of a group, or nil past the group limit.
func (l *loader) cell(k cellKey) *Cell {
	c := l.cells[k]
	if c == nil {
		if len(l.cells) >= maxGroups {
			return nil
		}
		c = &Cell{}
		l.cells[k] = c
	}
	return c
}

// merge adds one group's figures to a cell.
func merge(c *Cell, count, alerts int64, worst string, first, last time.Time) {
	c.Count += count
	c.Alerts += alerts
	if sevRank(worst) > sevRank(c.Worst) {
		c.Worst = worst
	}
	widen(&c.First, &c.Last, first)
	widen(&c.First, &c.Last, last)
}

// loadMatrix reads the measured matrix from risk_matrix, or from the
// alerts of a database without it.
func (l *loader) loadMatrix() error {
	ok, err := hasTable(l.ctx, l.db, "risk_matrix")
	if err != nil {
		return err
	}
	if ok {
		// A run whose risk stage wrote alerts but no cells (an analyze
		// that stopped before its final stats) falls back to the alerts.
		var cells, alerts int64
		if err := l.db.QueryRowContext(l.ctx, `SELECT (SELECT count(*) FROM risk_matrix WHERE run_id = ?1),
			(SELECT count(*) FROM alerts WHERE run_id = ?1)`, l.run).Scan(&cells, &alerts); err != nil {
			return fmt.Errorf("report: count risk_matrix: %w", err)
		}
		ok = cells > 0 || alerts == 0
	}
	if ok {
		l.r.Matrix.Source = "risk_matrix"
		return l.query("risk_matrix", func(rows *sql.Rows) error {
			var k cellKey
			var risk string
			var count, alerts, worst int64
			var first, last sql.NullInt64
			if err := rows.Scan(&k.host, &k.home, &k.service, &k.product, &risk, &count, &alerts, &worst, &first, &last); err != nil {
				return err
			}
			k.risk = event.Risk(risk)
			if c := l.cell(k); c != nil {
				merge(c, count, alerts, sevName(worst), micros(first), micros(last))
			}
			return nil
		}, `SELECT host, home, service, product, risk, count, alerts, worst, first_us, last_us
			FROM risk_matrix WHERE run_id = ?`, l.run)
	}
	l.r.Matrix.Source = "alerts"
	l.note("no risk_matrix rows for this run (a database before schema version 3, or a run that did not finish): the matrix counts alerts only, not findings the policy allowed")
	return l.query("alerts", func(rows *sql.Rows) error {
		var sip, dip, service, product, meta string
		var sev, t int64
		if err := rows.Scan(&sip, &dip, &service, &product, &sev, &meta, &t); err != nil {
			return err
		}
		m := parseMeta(meta)
		host := l.homeEnd(sip, dip)
		k := cellKey{host: host, home: host != "", service: service, product: product, risk: event.Risk(one(m["risk"]))}
		if k.host == "" {
			k.host = sip
		}
		if p := one(m["product"]); k.product == "" && p != "" {
			k.product = p
		}
		if c := l.cell(k); c != nil {
			tm := time.UnixMicro(t).UTC()
			merge(c, 1, 1, alertSeverity(sev, m), tm, tm)
		}
		return nil
	}, `SELECT a.src_ip, a.dst_ip, a.service, e.product, a.severity, a.metadata, a.time_us
		FROM alerts a JOIN events e ON e.event_id = a.event_id WHERE a.run_id = ?`, l.run)
}

// parseMeta decodes alert.metadata; a bad value gives an empty map.
func parseMeta(s string) map[string][]string {
	var m map[string][]string
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil
	}
	return m
}

// one returns the first element of a list, or "".
func one(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// alertSeverity names an alert's severity: the rule's own from the
// signature_severity metadata when it names one, else from alert.severity
// (1 → high, 2 → medium, 3 → low).
func alertSeverity(sev int64, m map[string][]string) string {
	if s := strings.ToLower(one(m["signature_severity"])); sevRank(s) > 0 {
		return s
	}
	switch sev {
	case 1:
		return "high"
	case 2:
		return "medium"
	case 3:
		return "low"
	}
	return ""
}

// loadFindings reads the top alerts with their evidence.
func (l *loader) loadFindings() error {
	err := l.query("findings", func(rows *sql.Rows) error {
		var f Finding
		var t int64
		var sip, dip, meta string
		var sport, dport, sev int64
		var wb sql.NullBool
		if err := rows.Scan(&f.FlowID, &t, &f.Action, &f.SignatureID, &f.Rev, &f.Signature, &f.Category, &sev,
			&meta, &f.Service, &sip, &dip, &f.Product, &f.UserLocal, &f.UserPeer, &sport, &dport, &wb); err != nil {
			return err
		}
		m := parseMeta(meta)
		f.Time = time.UnixMicro(t).UTC()
		f.Severity = alertSeverity(sev, m)
		f.Risk = event.Risk(one(m["risk"]))
		if f.Product == "" {
			f.Product = one(m["product"])
		}
		f.WouldBlock = wb.Bool
		f.Host = l.homeEnd(sip, dip)
		f.Src, f.Dst = hostPort(sip, sport), hostPort(dip, dport)
		f.Files = []string{}
		l.r.Findings = append(l.r.Findings, f)
		return nil
	}, `SELECT a.flow_id, a.time_us, a.action, a.signature_id, a.rev, a.signature, a.category, a.severity,
		a.metadata, a.service, a.src_ip, a.dst_ip, e.product, e.user_local, e.user_peer, e.src_port, e.dst_port,
		json_extract(e.json, '$.peerwatch.would_block')
		FROM alerts a JOIN events e ON e.event_id = a.event_id WHERE a.run_id = ?
		ORDER BY a.severity, CASE lower(coalesce(json_extract(a.metadata, '$.signature_severity[0]'), ''))
			WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END,
			a.local_side = 'none', a.time_us, a.event_id LIMIT ?`, l.run, l.opts.Top)
	if err != nil {
		return err
	}
	for i := range l.r.Findings {
		f := &l.r.Findings[i]
		if f.FlowID == 0 {
			continue
		}
		if err := l.evidence(f); err != nil {
			return err
		}
	}
	return nil
}

// evidence adds a finding's flow and the files moved on it.
func (l *loader) evidence(f *Finding) error {
	var b FlowBrief
	var start, end sql.NullInt64
	evCol := `''`
	if l.evasion {
		evCol = `evasion`
	}
	err := l.db.QueryRowContext(l.ctx, `SELECT proto, app_proto, app_proto_orig, start_us, end_us,
		bytes_toserver + bytes_toclient, `+evCol+` FROM flows WHERE run_id = ? AND flow_id = ? LIMIT 1`,
		l.run, f.FlowID).Scan(&b.Proto, &b.AppProto, &b.AppProtoOrig, &start, &end, &b.Bytes, &b.Evasion)
	switch {
	case err == nil:
		b.Start, b.End = micros(start), micros(end)
		f.Flow = &b
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("report: query flow %d: %w", f.FlowID, err)
	}
	return l.query("finding files", func(rows *sql.Rows) error {
		var name, typ, sha string
		if err := rows.Scan(&name, &typ, &sha); err != nil {
			return err
		}
		s := name
		if typ != "" || sha != "" {
			s += " (" + strings.TrimSpace(typ+" sha256 "+shortHash(sha)) + ")"
		}
		f.Files = append(f.Files, s)
		return nil
	}, `SELECT filename, file_type, sha256 FROM files WHERE run_id = ? AND flow_id = ? ORDER BY time_us, event_id LIMIT 5`,
		l.run, f.FlowID)
}

// shortHash shortens a hex digest for a one-line mention.
func shortHash(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// loadFiles reads the files moved.
func (l *loader) loadFiles() error {
	err := l.query("files", func(rows *sql.Rows) error {
		var f File
		var t, sport, dport int64
		var sip, dip string
		if err := rows.Scan(&t, &f.FlowID, &f.Name, &f.Size, &f.State, &f.MD5, &f.SHA1, &f.SHA256, &f.Magic,
			&f.Type, &f.Service, &sip, &sport, &dip, &dport); err != nil {
			return err
		}
		f.Time = time.UnixMicro(t).UTC()
		f.Host = l.homeEnd(sip, dip)
		f.Src, f.Dst = hostPort(sip, sport), hostPort(dip, dport)
		l.r.Files = append(l.r.Files, f)
		return nil
	}, `SELECT f.time_us, f.flow_id, f.filename, f.size, f.state, f.md5, f.sha1, f.sha256, f.magic, f.file_type,
		f.service, e.src_ip, e.src_port, e.dst_ip, e.dst_port
		FROM files f JOIN events e ON e.event_id = f.event_id WHERE f.run_id = ?
		ORDER BY f.time_us, f.event_id LIMIT ?`, l.run, l.opts.MaxRows+1)
	if len(l.r.Files) > l.opts.MaxRows {
		l.r.Files = l.r.Files[:l.opts.MaxRows]
		l.note("files: only the first %d are listed", l.opts.MaxRows)
	}
	return err
}

// loadCredentials reads the credential events.
func (l *loader) loadCredentials() error {
	err := l.query("credentials", func(rows *sql.Rows) error {
		var c Credential
		var t int64
		var sip, dip, local string
		if err := rows.Scan(&t, &c.FlowID, &c.Service, &sip, &dip, &local, &c.User, &c.Class, &c.What,
			&c.LengthClass, &c.Masked, &c.Fingerprint); err != nil {
			return err
		}
		c.Time = time.UnixMicro(t).UTC()
		c.Host = l.homeEnd(sip, dip)
		if c.User == "" {
			c.User = local
		}
		l.r.Credentials = append(l.r.Credentials, c)
		return nil
	}, `SELECT time_us, flow_id, service, src_ip, dst_ip, user_local,
		coalesce(json_extract(json, '$.peerwatch.credential.user'), ''),
		coalesce(json_extract(json, '$.peerwatch.credential.class'), ''),
		coalesce(json_extract(json, '$.peerwatch.credential.what'), ''),
		coalesce(json_extract(json, '$.peerwatch.credential.length_class'), ''),
		coalesce(json_extract(json, '$.peerwatch.credential.masked'), ''),
		coalesce(json_extract(json, '$.peerwatch.credential.fingerprint'), '')
		FROM events WHERE run_id = ? AND kind = 'credential' ORDER BY time_us, event_id LIMIT ?`,
		l.run, l.opts.MaxRows+1)
	if len(l.r.Credentials) > l.opts.MaxRows {
		l.r.Credentials = l.r.Credentials[:l.opts.MaxRows]
		l.note("credentials: only the first %d are listed", l.opts.MaxRows)
	}
	return err
}

// loadProtocols reads the protocols aggregate, or sums the stored flows
// when it is empty (the writer has not closed).
func (l *loader) loadProtocols() error {
	scan := func(rows *sql.Rows) error {
		var p Protocol
		if err := rows.Scan(&p.AppProto, &p.Service, &p.Flows, &p.Bytes, &p.Hosts, &p.Events, &p.Alerts); err != nil {
			return err
		}
		l.r.Protocols = append(l.r.Protocols, p)
		return nil
	}
	if ok, err := hasTable(l.ctx, l.db, "protocols"); err != nil {
		return err
	} else if ok {
		if err := l.query("protocols", scan, `SELECT app_proto, service, flows, bytes, hosts, events, alerts
			FROM protocols WHERE run_id = ? ORDER BY bytes DESC, app_proto, service LIMIT ?`, l.run, l.opts.MaxRows); err != nil {
			return err
		}
	}
	if len(l.r.Protocols) > 0 {
		return nil
	}
	return l.query("protocols from flows", scan, `SELECT app_proto, service, count(*),
		sum(bytes_toserver + bytes_toclient), 0, 0, 0 FROM flows WHERE run_id = ?
		GROUP BY app_proto, service ORDER BY 4 DESC, app_proto, service LIMIT ?`, l.run, l.opts.MaxRows)
}

// activityBuckets is how many slices the activity chart has at most.
const activityBuckets = 48

// steps are the bucket widths the activity chart chooses from.
var steps = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second,
	30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute,
	30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// bucketWidth picks the smallest width that covers span in
// activityBuckets slices.
func bucketWidth(span time.Duration) time.Duration {
	for _, s := range steps {
		if span < s*activityBuckets {
			return s
		}
	}
	d := steps[len(steps)-1]
	for span >= d*activityBuckets {
		d *= 2
	}
	return d
}

// loadActivity counts flows, events and alerts per slice of capture time.
func (l *loader) loadActivity() error {
	first, last := l.r.Run.First, l.r.Run.Last
	if first.IsZero() || last.Before(first) {
		return nil
	}
	w := bucketWidth(last.Sub(first))
	origin := first.Truncate(w)
	n := int(last.Sub(origin)/w) + 1
	b := make([]Bucket, n)
	for i := range b {
		b[i].Start = origin.Add(time.Duration(i) * w)
	}
	o, wu := origin.UnixMicro(), w.Microseconds()
	count := func(what string, field func(*Bucket) *int64, q string) error {
		return l.query(what, func(rows *sql.Rows) error {
			var i, c int64
			if err := rows.Scan(&i, &c); err != nil {
				return err
			}
			if i >= 0 && i < int64(n) {
				*field(&b[i]) += c
			}
			return nil
		}, q, o, wu, l.run)
	}
	if err := count("activity flows", func(x *Bucket) *int64 { return &x.Flows },
		`SELECT (start_us - ?) / ?, count(*) FROM flows WHERE run_id = ? AND start_us IS NOT NULL GROUP BY 1`); err != nil {
		return err
	}
	if err := count("activity events", func(x *Bucket) *int64 { return &x.Events },
		`SELECT (time_us - ?) / ?, count(*) FROM events WHERE run_id = ? AND event_type NOT IN ('alert', 'fileinfo')
		AND time_us IS NOT NULL GROUP BY 1`); err != nil {
		return err
	}
	if err := count("activity alerts", func(x *Bucket) *int64 { return &x.Alerts },
		`SELECT (time_us - ?) / ?, count(*) FROM alerts WHERE run_id = ? AND time_us IS NOT NULL GROUP BY 1`); err != nil {
		return err
	}
	l.r.Activity = b
	return nil
}

// weight is a cell's contribution to a host's score.
func weight(worst string) int64 {
	return [...]int64{0, 1, 3, 9, 27}[sevRank(worst)]
}

// build turns the aggregates into the sorted lists of the Report.
func (l *loader) build() {
	if n := len(l.r.Evasions); n > 0 && l.r.Evasions[n-1].FlowID == 0 && l.r.Evasions[n-1].How == "" {
		l.r.Evasions = l.r.Evasions[:n-1]
	}
	if len(l.apps) >= maxGroups || len(l.cells) >= maxGroups {
		l.note("more than %d host/application groups: the rest are left out", maxGroups)
	}
	hosts := map[string]*Host{}
	host := func(addr string) *Host {
		h := hosts[addr]
		if h == nil {
			h = &Host{Addr: addr, Cells: map[event.Risk]Cell{}, Apps: []App{}}
			hosts[addr] = h
		}
		return h
	}
	for k, a := range l.apps {
		app := a.App
		app.Clients, app.Users, app.Ports, app.Proxies = keys(a.clients), keys(a.users), keys(a.ports), keys(a.proxies)
		h := host(k.host)
		h.Apps = append(h.Apps, app)
	}
	type appID struct{ service, product string }
	apps := map[appID]*AppRow{}
	nonHome := map[string]bool{}
	for k, c := range l.cells {
		id := appID{k.service, k.product}
		row := apps[id]
		if row == nil {
			row = &AppRow{Service: k.service, Product: k.product, Cells: map[event.Risk]Cell{}}
			apps[id] = row
		}
		ac := row.Cells[k.risk]
		merge(&ac, c.Count, c.Alerts, c.Worst, c.First, c.Last)
		row.Cells[k.risk] = ac
		if !k.home || k.host == "" {
			nonHome[k.host] = true
			continue
		}
		h := host(k.host)
		hc := h.Cells[k.risk]
		merge(&hc, c.Count, c.Alerts, c.Worst, c.First, c.Last)
		h.Cells[k.risk] = hc
		h.Score += weight(c.Worst)
		if sevRank(c.Worst) > sevRank(h.Worst) {
			h.Worst = c.Worst
		}
	}
	if len(nonHome) > 0 {
		l.note("%d address(es) outside home_net raised findings; they count in the per-application matrix but are not ranked", len(nonHome))
	}
	l.r.Hosts = make([]Host, 0, len(hosts))
	for _, h := range hosts {
		slices.SortFunc(h.Apps, func(a, b App) int {
			return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Product, b.Product))
		})
		l.r.Hosts = append(l.r.Hosts, *h)
	}
	slices.SortFunc(l.r.Hosts, func(a, b Host) int {
		return cmp.Or(-cmp.Compare(a.Score, b.Score), -cmp.Compare(len(a.Cells), len(b.Cells)),
			-cmp.Compare(flowsOf(a), flowsOf(b)), cmp.Compare(a.Addr, b.Addr))
	})
	if len(l.r.Hosts) > l.opts.MaxRows {
		l.note("hosts: only the first %d are listed", l.opts.MaxRows)
		l.r.Hosts = l.r.Hosts[:l.opts.MaxRows]
	}
	for i := range l.r.Hosts {
		l.r.Hosts[i].Rank = i + 1
	}
	l.r.Matrix.Apps = make([]AppRow, 0, len(apps))
	seenPaper := map[string]bool{}
	for _, row := range apps {
		p := paperFor(row.Service)
		row.Beyond, row.Unseen = []event.Risk{}, []event.Risk{}
		if p != nil {
			row.Paper = p.Client
			seenPaper[p.Service] = true
		}
		for _, r := range event.Risks {
			_, seen := row.Cells[r]
			switch {
			case seen && p != nil && !p.has(r) && paperColumn(r):
				row.Beyond = append(row.Beyond, r)
			case !seen && p.has(r):
				row.Unseen = append(row.Unseen, r)
			}
		}
		l.r.Matrix.Apps = append(l.r.Matrix.Apps, *row)
	}
	slices.SortFunc(l.r.Matrix.Apps, func(a, b AppRow) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Product, b.Product))
	})
	l.r.Matrix.Paper = []PaperRow{}
	for _, p := range Paper {
		if seenPaper[p.Service] {
			l.r.Matrix.Paper = append(l.r.Matrix.Paper, p)
		}
	}
	for _, s := range []*[]Finding{&l.r.Findings} {
		if *s == nil {
			*s = []Finding{}
		}
	}
	if l.r.Files == nil {
		l.r.Files = []File{}
	}
	if l.r.Credentials == nil {
		l.r.Credentials = []Credential{}
	}
	if l.r.Evasions == nil {
		l.r.Evasions = []Evasion{}
	}
	if l.r.Protocols == nil {
		l.r.Protocols = []Protocol{}
	}
	if l.r.Activity == nil {
		l.r.Activity = []Bucket{}
	}
	if l.r.Notes == nil {
		l.r.Notes = []string{}
	}
}

// paperColumn reports whether r is one of the paper's nine columns.
func paperColumn(r event.Risk) bool {
	for _, c := range PaperColumns {
		if c.Risk == r {
			return true
		}
	}
	return false
}

// flowsOf counts a host's IM/P2P flows.
func flowsOf(h Host) int64 {
	var n int64
	for _, a := range h.Apps {
		n += a.Flows
	}
	return n
}

// keys returns the sorted keys of a set, never nil.
func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
