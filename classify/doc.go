// Package classify decides which analyzer a flow belongs to.
//
// Detection is data: each protocol registers a Signature of port hints,
// byte prefixes and a bounded probe. The Engine indexes every prefix by its
// first bytes so a flow's first payload is matched against the few
// candidates that can apply instead of every probe; probes answer NeedMore,
// Match or NoMatch, and NoMatch excludes the protocol for the rest of the flow
// (nDPI's exclusion bitmask). Port hints only order candidates and give the
// weakest confidence; they never decide alone.
package classify
