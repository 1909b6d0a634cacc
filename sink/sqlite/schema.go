package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema steps, applied in order: after migrations[i]
// the database's PRAGMA user_version is i+1. Released steps never change;
// a schema change is a new step appended here and described in SCHEMA.md.
var migrations = []string{
	// Version 1: the record tables.
	`CREATE TABLE runs (
		run_id       INTEGER PRIMARY KEY,
		started_us   INTEGER NOT NULL,
		ended_us     INTEGER,
		version      TEXT NOT NULL,
		args         TEXT NOT NULL,
		inputs       TEXT NOT NULL,
		home_net     TEXT NOT NULL,
		all_flows    INTEGER NOT NULL,
		first_us     INTEGER,
		last_us      INTEGER,
		records      INTEGER NOT NULL DEFAULT 0,
		flows_seen   INTEGER NOT NULL DEFAULT 0,
		flows_stored INTEGER NOT NULL DEFAULT 0,
		events       INTEGER NOT NULL DEFAULT 0,
		alerts       INTEGER NOT NULL DEFAULT 0,
		files        INTEGER NOT NULL DEFAULT 0,
		uptime       INTEGER,
		stats           TEXT,
		peerwatch_stats TEXT
	);
	CREATE TABLE flows (
		run_id         INTEGER NOT NULL REFERENCES runs(run_id),
		flow_id        INTEGER NOT NULL,
		start_us       INTEGER,
		end_us         INTEGER,
		age            INTEGER NOT NULL,
		src_ip         TEXT NOT NULL,
		src_port       INTEGER NOT NULL,
		dst_ip         TEXT NOT NULL,
		dst_port       INTEGER NOT NULL,
		proto          TEXT NOT NULL,
		vlan           TEXT NOT NULL,
		app_proto      TEXT NOT NULL,
		app_proto_orig TEXT NOT NULL,
		service        TEXT NOT NULL,
		product        TEXT NOT NULL,
		category       TEXT NOT NULL,
		confidence     TEXT NOT NULL,
		evidence       TEXT NOT NULL,
		pkts_toserver  INTEGER NOT NULL,
		pkts_toclient  INTEGER NOT NULL,
		bytes_toserver INTEGER NOT NULL,
		bytes_toclient INTEGER NOT NULL,
		state          TEXT NOT NULL,
		reason         TEXT NOT NULL,
		alerted        INTEGER NOT NULL,
		interim        INTEGER NOT NULL,
		community_id   TEXT NOT NULL,
		local_side     TEXT NOT NULL,
		proxy_kind     TEXT NOT NULL,
		proxy_addr     TEXT NOT NULL,
		proxy_target   TEXT NOT NULL,
		pcap_cnt       INTEGER NOT NULL,
		pcap_file      TEXT NOT NULL
	);
	CREATE TABLE events (
		event_id   INTEGER PRIMARY KEY,
		run_id     INTEGER NOT NULL REFERENCES runs(run_id),
		flow_id    INTEGER NOT NULL,
		seq        INTEGER NOT NULL,
		time_us    INTEGER,
		event_type TEXT NOT NULL,
		kind       TEXT NOT NULL,
		app_proto  TEXT NOT NULL,
		service    TEXT NOT NULL,
		product    TEXT NOT NULL,
		feature    TEXT NOT NULL,
		user_local TEXT NOT NULL,
		user_peer  TEXT NOT NULL,
		src_ip     TEXT NOT NULL,
		src_port   INTEGER NOT NULL,
		dst_ip     TEXT NOT NULL,
		dst_port   INTEGER NOT NULL,
		local_side TEXT NOT NULL,
		json       TEXT NOT NULL
	);
	CREATE TABLE alerts (
		event_id     INTEGER PRIMARY KEY REFERENCES events(event_id),
		run_id       INTEGER NOT NULL REFERENCES runs(run_id),
		flow_id      INTEGER NOT NULL,
		time_us      INTEGER,
		action       TEXT NOT NULL,
		gid          INTEGER NOT NULL,
		signature_id INTEGER NOT NULL,
		rev          INTEGER NOT NULL,
		signature    TEXT NOT NULL,
		category     TEXT NOT NULL,
		severity     INTEGER NOT NULL,
		metadata     TEXT NOT NULL,
		service      TEXT NOT NULL,
		src_ip       TEXT NOT NULL,
		dst_ip       TEXT NOT NULL,
		local_side   TEXT NOT NULL
	);
	CREATE TABLE files (
		event_id  INTEGER PRIMARY KEY REFERENCES events(event_id),
		run_id    INTEGER NOT NULL REFERENCES runs(run_id),
		flow_id   INTEGER NOT NULL,
		time_us   INTEGER,
		filename  TEXT NOT NULL,
		size      INTEGER NOT NULL,
		state     TEXT NOT NULL,
		stored    INTEGER NOT NULL,
		gaps      INTEGER NOT NULL,
		md5       TEXT NOT NULL,
		sha1      TEXT NOT NULL,
		sha256    TEXT NOT NULL,
		magic     TEXT NOT NULL,
		tx_id     INTEGER NOT NULL,
		file_type TEXT NOT NULL,
		service   TEXT NOT NULL
	);`,

	// Version 2: per-host and per-protocol aggregates.
	`CREATE TABLE host_protocols (
		run_id         INTEGER NOT NULL REFERENCES runs(run_id),
		host           TEXT NOT NULL,
		app_proto      TEXT NOT NULL,
		service        TEXT NOT NULL,
		flows          INTEGER NOT NULL,
		pkts           INTEGER NOT NULL,
		bytes_sent     INTEGER NOT NULL,
		bytes_received INTEGER NOT NULL,
		first_us       INTEGER,
		last_us        INTEGER,
		peers          INTEGER NOT NULL,
		peers_capped   INTEGER NOT NULL
	);
	CREATE TABLE protocols (
		run_id       INTEGER NOT NULL REFERENCES runs(run_id),
		app_proto    TEXT NOT NULL,
		service      TEXT NOT NULL,
		flows        INTEGER NOT NULL,
		flows_stored INTEGER NOT NULL,
		pkts         INTEGER NOT NULL,
		bytes        INTEGER NOT NULL,
		hosts        INTEGER NOT NULL,
		events       INTEGER NOT NULL,
		alerts       INTEGER NOT NULL,
		first_us     INTEGER,
		last_us      INTEGER
	);
	ALTER TABLE runs ADD COLUMN aggregates_dropped INTEGER NOT NULL DEFAULT 0;`,
	// Version 3: the measured threat matrix (risk.Cell), from the
	// peerwatch_stats record's risk_matrix.
	`CREATE TABLE risk_matrix (
		run_id   INTEGER NOT NULL REFERENCES runs(run_id),
		host     TEXT NOT NULL,
		home     INTEGER NOT NULL,
		service  TEXT NOT NULL,
		product  TEXT NOT NULL,
		risk     TEXT NOT NULL,
		count    INTEGER NOT NULL,
		alerts   INTEGER NOT NULL,
		worst    INTEGER NOT NULL,
		first_us INTEGER,
		last_us  INTEGER
	);
	ALTER TABLE flows ADD COLUMN evasion TEXT NOT NULL DEFAULT '';`,
}

// SchemaVersion is the PRAGMA user_version of a database this package
// writes: the number of migrations (a test keeps the two equal).
const SchemaVersion = 3

// indexes are created by Open, before the first row: maintaining them
// while rows arrive costs far less than building them from a full table
// at the end (see the package comment). Each is IF NOT EXISTS: a database
// that already holds a run keeps its indexes.
var indexes = []string{
	`CREATE INDEX IF NOT EXISTS flows_flow ON flows(run_id, flow_id)`,
	`CREATE INDEX IF NOT EXISTS flows_service ON flows(run_id, service, app_proto)`,
	`CREATE INDEX IF NOT EXISTS flows_src ON flows(src_ip)`,
	`CREATE INDEX IF NOT EXISTS flows_dst ON flows(dst_ip)`,
	`CREATE INDEX IF NOT EXISTS events_flow ON events(run_id, flow_id, seq)`,
	`CREATE INDEX IF NOT EXISTS events_kind ON events(run_id, kind, service)`,
	`CREATE INDEX IF NOT EXISTS alerts_signature ON alerts(run_id, signature_id)`,
	`CREATE INDEX IF NOT EXISTS alerts_flow ON alerts(run_id, flow_id)`,
	`CREATE INDEX IF NOT EXISTS files_flow ON files(run_id, flow_id)`,
	`CREATE INDEX IF NOT EXISTS files_sha256 ON files(sha256)`,
	`CREATE INDEX IF NOT EXISTS host_protocols_host ON host_protocols(run_id, host)`,
	`CREATE INDEX IF NOT EXISTS protocols_key ON protocols(run_id, app_proto, service)`,
}

// userVersion reads PRAGMA user_version.
func userVersion(ctx context.Context, c *sql.Conn) (int, error) {
	var v int
	if err := c.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: read user_version: %w", err)
	}
	return v, nil
}

// migrate brings the database up to version target (at most
// len(migrations)) in one immediate transaction, so two writers racing on a
// new file cannot both apply a step. A database newer than this package
// knows is refused.
func migrate(ctx context.Context, c *sql.Conn, target int) (err error) {
	if _, err := c.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("sqlite: begin migration: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = c.ExecContext(ctx, `ROLLBACK`)
		}
	}()
	v, err := userVersion(ctx, c)
	if err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("%w: database is version %d, this build knows %d", ErrNewerSchema, v, len(migrations))
	}
	for ; v < target; v++ {
		if _, err := c.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("sqlite: migration to version %d: %w", v+1, err)
		}
		// PRAGMA takes no bound parameters; v+1 is our own integer.
		if _, err := c.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v+1)); err != nil {
			return fmt.Errorf("sqlite: set user_version %d: %w", v+1, err)
		}
	}
	if _, err := c.ExecContext(ctx, `COMMIT`); err != nil {
		return fmt.Errorf("sqlite: commit migration: %w", err)
	}
	return nil
}
