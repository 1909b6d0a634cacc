package analyzer

import (
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/hostnames"
)

// Host is the engine behind a Session. The pipeline implements it; tests use
// Recorder. Analyzers never call it directly.
type Host interface {
	Flow() *flow.Flow
	Confirm()
	SetService(service, product string)
	Label(service, product string, ev flow.Evidence)
	Tentative(service, product string)
	Emit(e event.Event)
	Anomaly(name, detail string)
	Expect(x Expectation)
	Reclassify(origOff, respOff int)
	FileDone(f *File)
	Embed(proto, key string) Stream
	Options() Options
	Now() time.Time
}

// Options are the operator's choices that change what analyzers may keep.
type Options struct {
	CaptureContent    bool // --capture-content: message text may be stored
	RevealCredentials bool // --reveal-credentials: recovered secrets may be stored
	// Fingerprint returns a keyed fingerprint of a secret (HMAC with the
	// install key), so reuse shows without revealing it. Never nil in the engine.
	Fingerprint func(secret []byte) string
	// Hostnames maps host names to services (TLS SNI, DNS names); nil
	// means hostnames.Default().
	Hostnames *hostnames.List
	// Params are per-protocol tunables from the configuration's protocols
	// section (protocols.<name>.<key>), read with Param.
	Params map[string]map[string]int64
	// ExtractDir (--extract-files DIR) is the existing directory where
	// transferred files are stored, each named by the hex SHA-256 of its
	// content; empty: files are not stored.
	ExtractDir string
	// ExtractMax caps the bytes stored per file; a larger file is not
	// stored at all. Zero or negative: no cap. Valid iff ExtractDir != "".
	ExtractMax int64
}

// Session is the engine's side of one flow, given to Spec.New.
type Session struct {
	host     Host
	spec     *Spec
	expected *Expectation
}

// NewSession binds a Session to its host. The engine calls it; protocol tests
// call it with a Recorder.
func NewSession(h Host, spec *Spec, expected *Expectation) *Session {
	return &Session{host: h, spec: spec, expected: expected}
}

// Flow returns the flow, read-only.
func (s *Session) Flow() *flow.Flow { return s.host.Flow() }

// Spec returns the analyzer's registration. Every session of the protocol
// (on every worker) shares it: read it, never change it.
func (s *Session) Spec() *Spec { return s.spec }

// Expected returns the expectation this flow matched, or nil.
func (s *Session) Expected() *Expectation { return s.expected }

// Now returns the capture time of the packet being processed.
func (s *Session) Now() time.Time { return s.host.Now() }

// Options returns the operator's content and credential choices.
func (s *Session) Options() Options { return s.host.Options() }

// Confirm says a real message parsed: the flow's confidence becomes
// Confirmed (Zeek's AnalyzerConfirmation). Calling it again is harmless.
func (s *Session) Confirm() { s.host.Confirm() }

// SetService refines the flow's service and product from evidence in the
// payload (an OSCAR login with a numeric UIN is "icq"/"ICQ").
func (s *Session) SetService(service, product string) { s.host.SetService(service, product) }

// Label names the IM/P2P service a carrier flow belongs to from a hostname
// (a TLS SNI or certificate name, evidence flow.EvSNI; a DNS name,
// flow.EvDNS): the flow gets the service with confidence Hostname. A label
// never overrides what a payload parser decided: on a flow whose analyzer
// is itself an IM/P2P protocol it only adds the evidence.
func (s *Session) Label(service, product string, ev flow.Evidence) {
	s.host.Label(service, product, ev)
}

// Tentative says the flow looks like service but its own bytes are too
// weak to claim it (FastTrack's encrypted supernode sessions: an opening of
// fixed sizes, then random-looking data). The engine labels the flow only
// if another flow of the same hosts shows the service by its payload
// (cross-flow corroboration, DESIGN §2): the flow then gets the service with
// evidence "corroboration". Otherwise it is written as unclassified (no
// app_proto, no service). Events a tentative flow emits are withheld with
// it and dropped if it is never corroborated.
func (s *Session) Tentative(service, product string) { s.host.Tentative(service, product) }

// Emit reports an event; the engine fills in time, flow and protocol.
func (s *Session) Emit(e event.Event) { s.host.Emit(e) }

// Anomaly reports a named oddity; name is "<proto>_<what>".
func (s *Session) Anomaly(name, detail string) { s.host.Anomaly(name, detail) }

// Expect announces a coming connection (a rendezvous, an XFR, a PUSH).
func (s *Session) Expect(x Expectation) { s.host.Expect(x) }

// Reclassify hands the stream back to the classifier after a proxy
// handshake: from byte origOff of the originator's stream and respOff of the
// responder's (counted from the start of each direction), the bytes are
// classified and analyzed as a new inner protocol. The current analyzer gets
// no more data.
func (s *Session) Reclassify(origOff, respOff int) { s.host.Reclassify(origOff, respOff) }

// Embed returns the stream of a protocol carried inside this one (MSNP in
// HTTP bodies), shared by every connection that names the same key.
func (s *Session) Embed(proto, key string) Stream { return s.host.Embed(proto, key) }

// Stream is an embedded protocol session fed by its carrier.
type Stream interface {
	Feed(dir flow.Dir, data []byte)
	Close()
}

// Expectation announces that a connection will carry a protocol.
type Expectation struct {
	// Addrs are the addresses the coming connection may go to (or, with
	// EitherEnd, come from). A zero port matches any port.
	Addrs []netip.AddrPort
	// From optionally restricts the connecting side's address.
	From netip.Addr
	// EitherEnd matches Addrs against either end of the coming connection.
	EitherEnd bool
	// Proto is the analyzer the connection is handed to ("oscar_oft").
	Proto            string
	Service, Product string
	Feature          event.Feature
	Users            event.Users
	FileName         string
	// Reason says why it was announced ("oscar_rendezvous", "msnp_xfr").
	Reason string
	// TTL bounds how long the expectation waits; 0: the engine default.
	TTL time.Duration
	// Hostname marks an expectation derived from a DNS answer: it labels
	// with confidence Hostname and never overrides what the payload shows.
	Hostname bool
	// Data is handed to the new flow's analyzer via Session.Expected.
	Data map[string]any

	// Set by the engine.
	Index   uint64    // capture index of the announcing packet
	Created time.Time // capture time of the announcing packet
	Source  uint64    // flow id of the announcing flow
}

// Names returns the host name list in force.
func (o Options) Names() *hostnames.List {
	if o.Hostnames != nil {
		return o.Hostnames
	}
	return hostnames.Default()
}

// Param returns the configured value of a protocol's tunable, or def when
// the configuration does not set it.
func (o Options) Param(proto, key string, def int64) int64 {
	if v, ok := o.Params[proto][key]; ok {
		return v
	}
	return def
}

// Secret describes an exposed secret the way DESIGN §7 asks: its class, what
// it is, and a keyed fingerprint that shows reuse across accounts without
// revealing it. Passwords (plaintext, reversible, password-equivalent) get
// only a length class and a fixed mask; tokens and hashes (session tokens,
// offline-crackable responses) keep their exact length, which tells their
// format, not the secret. The secret itself is stored only with
// --reveal-credentials. secret is the protocol's text, decoded by the
// analyzer per the protocol's charset (a token may be raw bytes).
func (s *Session) Secret(class event.CredClass, user, what, secret string) *event.CredentialInfo {
	ci := &event.CredentialInfo{Class: class, User: user, What: what}
	switch class {
	case event.SessionToken, event.OfflineCrackable:
		ci.Length = len(secret)
	default:
		ci.LengthClass = LengthClass(utf8.RuneCountInString(secret))
		ci.Masked = "********"
	}
	o := s.Options()
	if o.Fingerprint != nil && secret != "" {
		ci.Fingerprint = o.Fingerprint([]byte(secret))
	}
	if o.RevealCredentials {
		ci.Secret = revealable(secret)
	}
	return ci
}

// LengthClass buckets a password length so records do not give it exactly.
func LengthClass(n int) string {
	switch {
	case n <= 4:
		return "1-4"
	case n <= 8:
		return "5-8"
	case n <= 12:
		return "9-12"
	case n <= 16:
		return "13-16"
	}
	return "17+"
}

// revealable returns a revealed secret as printable UTF-8: invalid bytes
// and control characters are written as \xNN.
func revealable(secret string) string {
	var b strings.Builder
	for i := 0; i < len(secret); {
		r, n := utf8.DecodeRuneInString(secret[i:])
		if (r == utf8.RuneError && n == 1) || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\\' {
			for _, c := range []byte(secret[i : i+n]) {
				b.WriteString(`\x`)
				b.WriteByte("0123456789abcdef"[c>>4])
				b.WriteByte("0123456789abcdef"[c&15])
			}
		} else {
			b.WriteString(secret[i : i+n])
		}
		i += n
	}
	return b.String()
}
