package event

import (
	"net/netip"

	"github.com/peerwatch/peerwatch/flow"
)

// Event is one fact an analyzer reports about its flow. The engine fills in
// the time, the flow and the protocol; the analyzer sets Kind, the typed part
// that matches Kind (if any) and protocol-specific Fields.
type Event struct {
	Kind Kind
	Dir  flow.Dir // the direction whose bytes produced the event

	// Service and Product override the session's (e.g. "icq"/"ICQ" once an
	// OSCAR login shows a numeric UIN). Empty: the session's.
	Service, Product string
	Feature          Feature
	Users            Users

	Login      *LoginInfo      // valid iff Kind is Login or Logout
	Message    *MessageInfo    // valid iff Kind == Message
	File       *FileInfo       // valid iff Kind == File
	Credential *CredentialInfo // valid iff Kind == Credential
	Direct     *DirectInfo     // valid iff Kind == Direct
	Tunnel     *TunnelInfo     // valid iff Kind == Tunnel
	Search     *SearchInfo     // valid iff Kind == Search

	// Fields are protocol-specific values, written inside the protocol's
	// object. Keys are snake_case; values must marshal to JSON.
	Fields map[string]any
}

// Users names the people involved, as the protocol identifies them.
type Users struct {
	Local string `json:"local,omitempty"` // the user on the home_net side (or the originator's)
	Peer  string `json:"peer,omitempty"`  // the other party
}

// LoginInfo describes a sign-on or sign-off.
type LoginInfo struct {
	User    string  `json:"user,omitempty"`
	Client  string  `json:"client,omitempty"` // client id or version string
	Outcome Outcome `json:"outcome,omitempty"`
	Reason  string  `json:"reason,omitempty"`
}

// MessageInfo describes a message. Analyzers always set Text: the risk
// stage's content rules read it in memory; the engine writes it only with
// --capture-content and drops it otherwise.
type MessageInfo struct {
	From    string   `json:"from,omitempty"`
	To      []string `json:"to,omitempty"`
	Length  int      `json:"length"`
	Charset string   `json:"charset,omitempty"`
	Text    string   `json:"text,omitempty"`
}

// FileInfo describes a file offered, transferred or found by a search.
type FileInfo struct {
	Name    string  `json:"name,omitempty"`
	Size    int64   `json:"size,omitempty"`
	Hash    string  `json:"hash,omitempty"` // hash the protocol announces (urn:sha1:..., AOL checksum)
	Outcome Outcome `json:"outcome,omitempty"`
}

// CredentialInfo describes a secret on the wire. Secret is set only with
// --reveal-credentials; Fingerprint is a keyed HMAC that shows reuse.
type CredentialInfo struct {
	Class CredClass `json:"class"`
	User  string    `json:"user,omitempty"`
	What  string    `json:"what"` // "password", "md5_response", "cookie", ...
	// Length is the exact length of a token or hash (it tells the format,
	// not the secret); a password has only its LengthClass.
	Length      int    `json:"length,omitempty"`
	LengthClass string `json:"length_class,omitempty"` // "1-4", "5-8", "9-12", "13-16", "17+"`
	Masked      string `json:"masked,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Secret      string `json:"secret,omitempty"`
}

// DirectInfo describes a peer connection that a message announces or that
// was seen, and the addresses it discloses.
type DirectInfo struct {
	Addrs   []netip.AddrPort `json:"addrs"`
	Outcome Outcome          `json:"outcome,omitempty"`
}

// TunnelInfo describes a proxy request.
type TunnelInfo struct {
	Kind    string  `json:"kind"`   // "socks4", "socks5", "http_connect", "http_forward", "http_tunnel"
	Target  string  `json:"target"` // host:port or address:port
	Outcome Outcome `json:"outcome,omitempty"`
}

// SearchInfo describes a search request.
type SearchInfo struct {
	Query string `json:"query"`
}
