// Package sqlite stores peerwatch records in an SQLite database
// (peerwatch.db), the queryable twin of eve.json that reports read.
//
// It sits at the end of the pipeline beside the EVE sink and receives the
// same event.Record batches. The schema is documented column by column in
// SCHEMA.md and versioned with PRAGMA user_version: Open applies the
// migrations a database lacks, in order, inside one transaction.
//
// By default only the flows that matter to peerwatch are stored as rows:
// those with an app_proto or a peerwatch service (IM, P2P and carrier
// flows). Every flow, stored or not, is counted into per-host and
// per-protocol aggregates, where home_net decides which side of a flow is
// our host; Options.AllFlows stores every flow. App-layer, anomaly, fileinfo
// and alert records are always stored, with the whole record kept as JSON so
// nothing is lost; the stats records go into the runs row.
//
// The database runs in WAL mode with synchronous=NORMAL, or OFF with
// Options.NoSync (analyze: its database is re-created from the capture, and
// the syncs at checkpoints were seconds of wall time); Writes are
// grouped into transactions over statements prepared once, on a write
// connection that binds values through SQLite's C API without database/sql
// (lite.go). The secondary indexes exist from Open on and grow with the
// rows: building them after the load was measured to cost about five times
// more, since each build rescans the wide events table (its json column).
// A report may read the database while analyze writes it (OpenReadOnly),
// but until Close it sees no aggregates. Close leaves a finished database
// in rollback-journal mode, one file without -wal and -shm.
package sqlite
