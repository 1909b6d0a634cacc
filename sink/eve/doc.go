// Package eve writes records as Suricata EVE JSON lines (eve.json).
//
// It is a sink: the pipeline hands it batches of event.Record and it writes
// one JSON object per line, in the key order and formats of DESIGN §5, so
// that tools reading Suricata's eve.json read ours. The envelope and
// Suricata's own objects (flow, anomaly, fileinfo, alert, stats) are
// encoded by hand with strconv, so that flow, anomaly and fileinfo records
// allocate nothing once the pooled JSON encoder is warm; peerwatch's additions (the "peerwatch" object,
// protocol fields, counters) go through encoding/json with sorted keys, so
// the output is deterministic for a given capture. Append is the one
// encoder: golden files are produced exactly like the EVE file.
//
// Addresses are written as Go's netip text (RFC 5952 for IPv6). Timestamps
// are UTC with six decimals: 2006-01-02T15:04:05.000000+0000.
//
// The schema directory holds Suricata's EVE schema and ours
// (peerwatch.schema.json); Validate checks a line against Suricata's schema
// extended with our keys, never with any of Suricata's constraints removed.
package eve
