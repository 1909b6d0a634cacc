// Package event defines what analyzers report and the records every sink
// writes.
//
// vocab.go is the only place where names that leave the process are defined:
// event kinds, features, credential classes, outcomes, confidence levels and
// evidence. Analyzers build Events; the engine wraps each in a Record with the
// EVE envelope (time, flow id, addresses, app_proto) and hands Records to the
// sinks, which never see analyzer state.
package event
