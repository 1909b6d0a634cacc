// Package report turns the SQLite database that `peerwatch analyze` writes
// into the threat-matrix report of DESIGN §6: the risks measured per host
// and per application beside the paper's 2002 matrix, the home hosts
// ranked, the top findings with their evidence, each host's IM/P2P
// inventory, the files moved and the credentials exposed.
//
// Load reads one run (the latest by default) through its own read-only
// queries and builds a Report; WriteText, WriteSummary, WriteJSON and
// WriteHTML render it. The report sits after the sinks in the pipeline: it
// never sees packets, only stored records, so it can run while analyze is
// still writing (it then sees the batches committed so far).
//
// Everything in the database came from the capture and is attacker
// controlled: the text renderers strip control and formatting characters
// (Clean), the HTML renderer escapes through html/template under a strict
// Content-Security-Policy, and every section is bounded by
// Options.MaxRows.
package report
