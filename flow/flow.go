package flow

import (
	"net/netip"
	"time"

	"github.com/peerwatch/peerwatch/decode"
)

// Dir is the direction of data within a flow.
type Dir uint8

// Directions: Orig is the originator's data (toserver in EVE), Resp the
// responder's (toclient).
const (
	Orig Dir = iota
	Resp
)

// Other returns the opposite direction.
func (d Dir) Other() Dir { return d ^ 1 }

// String returns "orig" or "resp".
func (d Dir) String() string {
	if d == Orig {
		return "orig"
	}
	return "resp"
}

// Confidence says how a flow's protocol was decided, weakest first.
type Confidence uint8

// Confidence levels. Names are stable (event/vocab.go lists them).
const (
	None      Confidence = iota
	Port                 // only a port hint matched: never a claim alone
	Hostname             // a TLS SNI or DNS name of a known service
	Pattern              // a registered prefix matched
	Probe                // a probe function accepted the bytes
	Expected             // announced by another flow (rendezvous, XFR, PUSH, DNS)
	Confirmed            // the analyzer parsed a real message
)

var confidenceNames = [...]string{"none", "port", "hostname", "pattern", "probe", "expected", "confirmed"}

// String returns the level's stable name.
func (c Confidence) String() string {
	if int(c) < len(confidenceNames) {
		return confidenceNames[c]
	}
	return "unknown"
}

// Evidence is a set of reasons behind a classification.
type Evidence uint16

// Evidence bits. Names are stable (event/vocab.go lists them).
const (
	EvPort Evidence = 1 << iota
	EvPrefix
	EvProbe
	EvParse
	EvExpectation
	EvSNI
	EvDNS
	EvCorroboration
	numEvidence = iota
)

var evidenceNames = [numEvidence]string{"port", "prefix", "probe", "parse", "expectation", "sni", "dns", "corroboration"}

// Names returns the set's names in a fixed order. It allocates; call it
// only when writing a record.
func (e Evidence) Names() []string {
	var out []string
	for i := 0; i < numEvidence; i++ {
		if e&(1<<i) != 0 {
			out = append(out, evidenceNames[i])
		}
	}
	return out
}

// EndReason says why a flow ended (EVE flow.reason).
type EndReason uint8

// End reasons.
const (
	EndTimeout  EndReason = iota // idle timeout
	EndClosed                    // FIN/RST seen and the linger time passed
	EndEvicted                   // the flow table was full
	EndReused                    // a new SYN on a closed tuple started a new flow
	EndShutdown                  // end of input or a signal
)

var endNames = [...]string{"timeout", "closed", "evicted", "reused", "shutdown"}

// String returns the EVE name of the reason.
func (r EndReason) String() string {
	if int(r) < len(endNames) {
		return endNames[r]
	}
	return "unknown"
}

// TCPState is the coarse TCP state of a flow (EVE flow.state).
type TCPState uint8

// TCP states.
const (
	StateNew         TCPState = iota // no handshake completed (or UDP with one direction)
	StateEstablished                 // SYN/SYN-ACK seen, or data both ways
	StateClosed                      // FIN both ways or RST
)

var stateNames = [...]string{"new", "established", "closed"}

// String returns the EVE name of the state.
func (s TCPState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Key identifies a flow regardless of direction: endpoint A is the smaller
// address:port of the two.
type Key struct {
	A, B  netip.AddrPort
	Proto decode.IPProto
	VLAN  [2]uint16
}

// Flow is one bidirectional flow. It is owned by one worker; other goroutines
// see only Ref snapshots.
type Flow struct {
	ID          uint64 // capture index (1-based) of the flow's first packet
	Slot        uint32 // index in the owning table's slab; valid while the flow is live
	Key         Key
	Orig, Resp  netip.AddrPort // originator and responder endpoints
	Proto       decode.IPProto
	VLAN        [2]uint16
	First, Last time.Time
	Pkts, Bytes [2]uint64 // indexed by Dir; Bytes counts wire bytes of frames
	State       TCPState
	// MidStream is true for a TCP flow whose handshake was not captured.
	MidStream bool
	// SawSYN[d] is true once direction d sent a SYN.
	SawSYN [2]bool
	// SawFIN[d] is true once direction d sent a FIN; SawRST once either sent a RST.
	SawFIN [2]bool
	SawRST bool
	// Interims counts interim (active-timeout) records written for this flow.
	Interims uint32
}

// Ref is a value snapshot of a flow's identity, safe to keep after the flow ends.
type Ref struct {
	ID         uint64
	Orig, Resp netip.AddrPort
	Proto      decode.IPProto
	VLAN       [2]uint16
}

// Ref returns the flow's identity snapshot.
func (f *Flow) Ref() Ref {
	return Ref{ID: f.ID, Orig: f.Orig, Resp: f.Resp, Proto: f.Proto, VLAN: f.VLAN}
}
