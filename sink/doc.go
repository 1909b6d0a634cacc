// Package sink defines where records go once the pipeline has produced them.
//
// The pipeline's last stage hands batches of event.Record to every
// configured Sink: eve (Suricata-compatible JSON lines), sqlite, and others.
// A sink sees only records, never analyzer or flow state, so it cannot hold
// up packet processing except through back-pressure: offline, Write blocks
// until the batch is stored and never drops a record.
package sink
