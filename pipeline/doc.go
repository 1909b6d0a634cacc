// Package pipeline wires the stages of DESIGN §2: capture files are read and
// decoded (with IP defragmentation) by one reader goroutine, which shards
// packets by flow hash to workers; each worker owns a flow table, a TCP
// reassembler, the classifier state and the analyzers of its flows, so
// analyzers take no locks. Records go to the sinks through one writer
// goroutine that applies back-pressure and never drops. With more than one
// worker the SQLite sink runs in a goroutine of its own beside the writer,
// fed copies of the batches and of their EVE lines (async.go); with one
// worker reading, analysis and output share one goroutine.
//
// The writer first passes every record through the correlation stage
// (correlate.go): the risk stage (alerts and the threat matrix, package
// risk), the corroboration of tentative flows (Session.Tentative) by other
// flows of the same hosts, and the per-host volume windows (volume.go);
// it also drops message text unless content capture is on.
//
// Cross-flow state is global and ordered: expectations are stamped with the
// capture index of the announcing packet, and a worker that looks one up for
// a new flow first waits until every worker has passed that flow's first
// packet, so one and many workers produce the same records.
package pipeline
