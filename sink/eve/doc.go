// Package eve writes records as Suricata EVE JSON lines (eve.json).
//
// It is a sink: the pipeline hands it batches of event.Record and it writes
// one JSON object per line, in the key order and formats of DESIGN §5, so
// that tools reading Suricata's eve.json read ours. Everything is encoded
// by hand with strconv: the envelope, Suricata's own objects (flow,
// anomaly, fileinfo, alert, stats), the "peerwatch" object and the plain
// values protocols put in their fields (strings, numbers, booleans, and
// maps and slices of them), byte for byte as encoding/json would write
// them, with sorted map keys, so the output is deterministic for a given
// capture and a record allocates nothing. A field value of any other type
// goes through a pooled encoding/json encoder. Append is the one encoder:
// golden files are produced exactly like the EVE file.
//
// Addresses are written as Go's netip text (RFC 5952 for IPv6). Timestamps
// are UTC with six decimals: 2006-01-02T15:04:05.000000+0000.
//
// The schema directory holds Suricata's EVE schema and ours
// (peerwatch.schema.json); Validate checks a line against Suricata's schema
// extended with our keys, never with any of Suricata's constraints removed.
package eve
