// Package risk turns peerwatch's output records into findings: it holds the
// risk catalogue (one rule per finding, each in one column of the 2002
// paper's threat matrix plus peerwatch's own columns), the known-bad file
// list (IOC), the content rules that read message text in memory (payment
// card numbers, requests for passwords or card details, staff
// impersonation lures), the operator's policy and the measured threat
// matrix.
//
// It sits in the pipeline's cross-flow correlation stage (DESIGN §2, §6):
// the pipeline hands every output record to Engine.Observe in per-flow
// order and writes the alert records it returns right after the record;
// it calls Engine.Volume once per local host, service and tumbling window
// with the window's byte total, Engine.FlowEnd after a flow's final record,
// and reads Engine.Matrix and Engine.Counters at the end of the run.
//
// Design trade-off: rules are code behind a data table (rules.go) rather
// than a rule language. The table is what SIEM teams map (stable ids and
// signature ids, `peerwatch rules`); the triggers are a handful of typed
// checks on the event vocabulary, which a rule language would only
// re-express. Findings never carry message text or secrets: content rules
// report masked card numbers and phrase ids only.
package risk
