package analyzer

import (
	"fmt"
	"regexp"
	"sort"
	"sync"

	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// Transport says which transports a protocol runs over.
type Transport uint8

// Transports (a bit set).
const (
	TCP Transport = 1 << iota
	UDP
)

// String returns "tcp", "udp" or "tcp+udp".
func (t Transport) String() string {
	switch t {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case TCP | UDP:
		return "tcp+udp"
	}
	return "none"
}

// Spec describes one protocol analyzer.
type Spec struct {
	// Name is the wire protocol: the folder name, or prefixed by it
	// ("oscar", "oscar_oft"). It is the app_proto of the flows it parses.
	Name string
	// Service is the IM/P2P service a flow of this protocol belongs to
	// ("aim", "msn", "gnutella"); empty for carriers and tunnels.
	Service string
	// Products are what users call it ("AIM", "ICQ").
	Products  []string
	Category  event.Category
	Transport Transport
	Detect    classify.Signature
	// Detects is a one-line description for `peerwatch protocols`.
	Detects string
	// New creates the per-flow analyzer state.
	New func(s *Session) Conn
	// Idle overrides the idle timeout of this protocol's flows (UDP P2P
	// protocols outlive the short UDP default). 0: the transport default.
	IdleSeconds int
	// MaxBuffer bounds the unconsumed bytes per direction held for Feed
	// (0: the engine default, 64 KiB). Past it the analyzer is detached
	// with anomaly <name>_buffer_limit.
	MaxBuffer int
}

// Conn is one analyzer's state for one flow.
type Conn interface {
	// Feed consumes bytes sent in direction dir and returns how many it
	// consumed. For TCP, data is reassembled and in order; for UDP each call
	// is one whole datagram (return len(data) or an error). Unconsumed bytes
	// are offered again, with more, on the next call. data is valid only
	// during the call. A non-nil error is a protocol violation: the engine
	// reports it as an anomaly and detaches the analyzer.
	Feed(dir flow.Dir, data []byte) (n int, err error)
}

// GapHandler is implemented by a Conn that can resynchronise after missing
// bytes. Without it, a gap ends the analysis of that direction.
type GapHandler interface {
	// Gap says size bytes are missing before the next Feed in direction dir.
	Gap(dir flow.Dir, size int)
}

// Ender is implemented by a Conn that wants to know when its flow ends.
// End is called once, after the last Feed.
type Ender interface {
	End(why flow.EndReason)
}

var (
	regMu sync.RWMutex
	specs = map[string]Spec{}
)

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// Register adds a protocol. It panics on an invalid or duplicate Spec:
// registration happens in init, so a mistake fails at start-up.
func Register(s Spec) {
	if err := s.validate(); err != nil {
		panic(err)
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := specs[s.Name]; dup {
		panic(fmt.Sprintf("analyzer: duplicate protocol %q", s.Name))
	}
	specs[s.Name] = s
}

func (s Spec) validate() error {
	if !nameRE.MatchString(s.Name) {
		return fmt.Errorf("analyzer: invalid protocol name %q", s.Name)
	}
	if s.New == nil {
		return fmt.Errorf("analyzer: %s: New is nil", s.Name)
	}
	if s.Transport == 0 || s.Transport&^(TCP|UDP) != 0 {
		return fmt.Errorf("analyzer: %s: invalid transport", s.Name)
	}
	known := false
	for _, c := range event.Categories {
		known = known || c == s.Category
	}
	if !known {
		return fmt.Errorf("analyzer: %s: unknown category %q", s.Name, s.Category)
	}
	d := s.Detect
	if len(d.Prefixes) == 0 && d.Probe == nil {
		return fmt.Errorf("analyzer: %s: no prefixes and no probe: ports alone never decide", s.Name)
	}
	if d.Heuristic && d.Probe == nil {
		return fmt.Errorf("analyzer: %s: Heuristic without Probe", s.Name)
	}
	for _, p := range d.Prefixes {
		if p.Bytes == "" || p.Offset < 0 || p.Offset > 64 {
			return fmt.Errorf("analyzer: %s: bad prefix %q at %d", s.Name, p.Bytes, p.Offset)
		}
	}
	return nil
}

// Lookup returns the registered Spec of a protocol.
func Lookup(name string) (Spec, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	s, ok := specs[name]
	return s, ok
}

// All returns every registered Spec, sorted by name.
func All() []Spec {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]Spec, 0, len(specs))
	for _, s := range specs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// IsClaim reports whether a flow labelled with this Spec counts as an
// IM/P2P/tunnel claim (carriers and the template never do by themselves).
func (s Spec) IsClaim() bool {
	return s.Category != event.CatCarrier && s.Category != event.CatTest
}
