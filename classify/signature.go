package classify

import (
	"net/netip"

	"github.com/peerwatch/peerwatch/flow"
)

// Result is a probe's answer.
type Result uint8

// Probe answers.
const (
	NeedMore Result = iota // cannot tell yet: ask again with more bytes
	Match                  // these bytes are this protocol
	NoMatch                // never this protocol: do not ask again for this flow
)

// Input is what a probe sees: the first bytes of one direction of a flow.
// Data aliases engine buffers and is valid only during the call.
type Input struct {
	Dir  flow.Dir
	Data []byte // the direction's first bytes, from its start (or from the pickup point)
	// Other holds the first bytes of the opposite direction seen so far (may be empty).
	Other []byte
	// MidStream is true when the TCP handshake was not captured: Data may
	// start in the middle of a message.
	MidStream bool
	UDP       bool
	Orig      netip.AddrPort
	Resp      netip.AddrPort
}

// ProbeFunc inspects a flow's first bytes. It must be bounded, must not
// allocate and must not keep Data.
type ProbeFunc func(in *Input) Result

// Prefix is a byte pattern at an offset of the first payload of one
// direction, e.g. {Dir: flow.Orig, Bytes: "GNUTELLA CONNECT/"}. A '?' in Bytes
// matches any byte, as in image.RegisterFormat.
type Prefix struct {
	Dir    flow.Dir
	Either bool // match in either direction
	Offset int
	Bytes  string
	// Fold matches ASCII letters case-insensitively.
	Fold bool
}

// Signature is how a protocol is recognised.
type Signature struct {
	// Ports are hints: they raise a candidate's priority and give confidence
	// Port when nothing else matched, never a claim alone.
	Ports []uint16
	// Prefixes are indexed; a hit makes Probe run, or decides if Probe is nil.
	Prefixes []Prefix
	// Probe is run on flows no prefix matched only if Heuristic is set (it
	// then sees every unclassified flow, so it must reject quickly); on
	// prefix hits always.
	Probe ProbeFunc
	// Heuristic makes Probe run on flows that no prefix matched.
	Heuristic bool
	// MaxBytes stops probing this protocol after this many bytes per
	// direction (Suricata's max_depth). 0: the engine default.
	MaxBytes int
	// Priority orders candidates: lower runs first (libprotoident).
	Priority int
}
