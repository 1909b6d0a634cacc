package decode

// Reason says what Decode made of a frame. OK means p holds a TCP or UDP
// packet; every other value names why the frame yields no packet now, and is
// counted by the caller per reason.
type Reason uint8

// Decode outcomes. Append new reasons before numReasons; names are stable
// (they appear in the run summary and the stats record).
const (
	OK              Reason = iota // p holds a TCP or UDP packet
	FragmentHeld                  // an IP fragment was stored; its datagram is not complete yet
	FragmentDropped               // a fragment was dropped: overlap (RFC 5722), timeout, memory cap, bad offsets
	NotIP                         // a non-IP frame (ARP, LLDP, STP, ...)
	OtherTransport                // IP, but neither TCP nor UDP (ICMP, ESP, ...)
	UnsupportedLink               // a link type this package does not decode
	Truncated                     // the capture ends inside a header
	Malformed                     // a header with impossible lengths or version
	TooDeep                       // more nested tunnels than the decoder follows
	numReasons
)

var reasonNames = [numReasons]string{
	OK:              "ok",
	FragmentHeld:    "fragment_held",
	FragmentDropped: "fragment_dropped",
	NotIP:           "not_ip",
	OtherTransport:  "other_transport",
	UnsupportedLink: "unsupported_link",
	Truncated:       "truncated_header",
	Malformed:       "malformed",
	TooDeep:         "tunnel_too_deep",
}

// String returns the reason's stable snake_case name.
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// NumReasons is the number of Reason values, for arrays of counters.
const NumReasons = int(numReasons)
