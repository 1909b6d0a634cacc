package classify

import (
	"sort"

	"github.com/peerwatch/peerwatch/flow"
)

// MaxEntries is the most protocols an Engine holds: the per-flow exclusion
// set is a fixed-size bitmask so State never allocates.
const MaxEntries = 256

// DefaultMaxBytes is how many bytes per direction are inspected when a
// Signature does not say.
const DefaultMaxBytes = 4096

// Entry is one protocol known to the Engine.
type Entry struct {
	Name string
	Sig  Signature
	TCP  bool
	UDP  bool
}

type prefixRef struct {
	entry uint16
	pre   Prefix
}

// Engine matches flows against every registered Signature. It is built once
// and is safe for concurrent use; per-flow state lives in State.
type Engine struct {
	entries []Entry
	// byByte[dir][b] lists the prefixes whose first byte is b in direction dir.
	byByte [2][256][]prefixRef
	// anyByte[dir] lists prefixes that start with a wildcard.
	anyByte [2][]prefixRef
	// heur lists the entries with heuristic probes, by priority.
	heur     []uint16
	maxBytes int
}

// State is the classification state of one flow: which protocols are
// excluded and which were already seen to need more data. Its zero value is
// ready to use; Reset clears it for reuse.
type State struct {
	excluded [MaxEntries / 64]uint64
	// port is the best entry hinted by port (+1; 0 none).
	port uint16
}

// Reset clears st.
func (st *State) Reset() { *st = State{} }

func (st *State) exclude(i uint16)         { st.excluded[i>>6] |= 1 << (i & 63) }
func (st *State) isExcluded(i uint16) bool { return st.excluded[i>>6]&(1<<(i&63)) != 0 }

// New builds an Engine. Entries are kept in the given order, which should be
// stable (sorted by name) so results are deterministic.
func New(entries []Entry) *Engine {
	if len(entries) > MaxEntries {
		entries = entries[:MaxEntries]
	}
	e := &Engine{entries: entries, maxBytes: DefaultMaxBytes}
	for i, en := range entries {
		for _, p := range en.Sig.Prefixes {
			// An empty prefix says nothing (and has no first byte to
			// index); a direction other than Orig or Resp has no index.
			if p.Bytes == "" || p.Offset < 0 || (!p.Either && p.Dir > flow.Resp) {
				continue
			}
			ref := prefixRef{entry: uint16(i), pre: p}
			dirs := []flow.Dir{p.Dir}
			if p.Either {
				dirs = []flow.Dir{flow.Orig, flow.Resp}
			}
			for _, d := range dirs {
				if p.Offset > 0 || p.Bytes[0] == '?' {
					e.anyByte[d] = append(e.anyByte[d], ref)
					continue
				}
				b := p.Bytes[0]
				e.byByte[d][b] = append(e.byByte[d][b], ref)
				if p.Fold && lower(b) != upper(b) {
					o := lower(b)
					if o == b {
						o = upper(b)
					}
					e.byByte[d][o] = append(e.byByte[d][o], ref)
				}
			}
		}
		if en.Sig.Heuristic && en.Sig.Probe != nil {
			e.heur = append(e.heur, uint16(i))
		}
		if en.Sig.MaxBytes > e.maxBytes {
			e.maxBytes = en.Sig.MaxBytes
		}
	}
	sort.SliceStable(e.heur, func(a, b int) bool {
		return entries[e.heur[a]].Sig.Priority < entries[e.heur[b]].Sig.Priority
	})
	return e
}

// Entries returns the engine's protocols in index order.
func (e *Engine) Entries() []Entry { return e.entries }

// MaxBytes is the most bytes per direction any signature inspects: past it
// the caller stops classifying.
func (e *Engine) MaxBytes() int { return e.maxBytes }

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 32
	}
	return b
}

func upper(b byte) byte {
	if 'a' <= b && b <= 'z' {
		return b - 32
	}
	return b
}

// prefixState compares a prefix against data: 1 match, 0 need more, -1 mismatch.
func prefixState(p *Prefix, data []byte) int {
	if p.Offset > len(data) {
		return 0 // also keeps Offset+i below from overflowing
	}
	for i := 0; i < len(p.Bytes); i++ {
		j := p.Offset + i
		if j >= len(data) {
			return 0
		}
		c := p.Bytes[i]
		if c == '?' {
			continue
		}
		d := data[j]
		if d == c || (p.Fold && lower(d) == lower(c)) {
			continue
		}
		return -1
	}
	return 1
}

// Hint records which protocol the flow's ports suggest, so it is tried first
// among heuristic probes and reported with confidence Port if nothing else
// matches. Call it once when the flow starts.
func (e *Engine) Hint(st *State, udp bool, orig, resp uint16) {
	best := -1
	for i := range e.entries {
		en := &e.entries[i]
		if !en.fits(udp) {
			continue
		}
		for _, p := range en.Sig.Ports {
			if p == resp || p == orig {
				if best < 0 || en.Sig.Priority < e.entries[best].Sig.Priority {
					best = i
				}
			}
		}
	}
	st.port = uint16(best + 1)
}

// PortHint returns the protocol the ports suggest, if any.
func (e *Engine) PortHint(st *State) (int, bool) {
	if st.port == 0 {
		return 0, false
	}
	return int(st.port - 1), true
}

// Verdict is the outcome of one Classify call.
type Verdict struct {
	Entry      int // index into Entries; valid iff Done and Entry >= 0
	Confidence flow.Confidence
	Evidence   flow.Evidence
	// Done is true when a protocol matched (Entry >= 0), or when no protocol
	// can match this direction with more bytes (Entry == -1).
	Done bool
}

// Classify looks at the first bytes of direction in.Dir (from its start)
// and returns a verdict. It does not allocate. Candidates come from the
// prefix index and, when no prefix hit is still waiting on its probe, the
// heuristic probes. A probe's NoMatch (or a heuristic probe's MaxBytes
// running out) excludes the protocol for the rest of the flow; a prefix that
// does not match these bytes only stops being a candidate for this call.
// Among several matches the higher confidence wins, then the lower Priority
// (a protocol's declared precedence, e.g. a specific HTTP form before the
// HTTP carrier), then the port-hinted entry, then the one found first.
func (e *Engine) Classify(st *State, in *Input) Verdict {
	data := in.Data
	if len(data) == 0 {
		return Verdict{Entry: -1}
	}
	if in.Dir > flow.Resp {
		return Verdict{Entry: -1, Done: true}
	}
	best, bestPrio, bestHinted := -1, 0, false
	var bestConf flow.Confidence
	var bestEv flow.Evidence
	consider := func(i uint16, c flow.Confidence, ev flow.Evidence) {
		prio := e.entries[i].Sig.Priority
		hinted := st.port == i+1
		if hinted {
			ev |= flow.EvPort
		}
		if best < 0 || c > bestConf || (c == bestConf &&
			(prio < bestPrio || prio == bestPrio && hinted && !bestHinted)) {
			best, bestPrio, bestHinted, bestConf, bestEv = int(i), prio, hinted, c, ev
		}
	}
	// pending: some protocol may still match with more bytes. hitPending: a
	// prefix matched and its probe wants more bytes, which keeps the
	// heuristic probes (weaker evidence) from claiming the flow meanwhile.
	pending, hitPending := false, false
	check := func(refs []prefixRef) {
		for k := range refs {
			r := &refs[k]
			if st.isExcluded(r.entry) {
				continue
			}
			en := &e.entries[r.entry]
			if !en.fits(in.UDP) {
				continue
			}
			switch prefixState(&r.pre, data) {
			case 0:
				pending = true
			case 1:
				if en.Sig.Probe == nil {
					consider(r.entry, flow.Pattern, flow.EvPrefix)
					continue
				}
				switch en.Sig.Probe(in) {
				case Match:
					consider(r.entry, flow.Probe, flow.EvPrefix|flow.EvProbe)
				case NeedMore:
					pending, hitPending = true, true
				case NoMatch:
					st.exclude(r.entry)
				}
			}
		}
	}
	check(e.byByte[in.Dir][data[0]])
	check(e.anyByte[in.Dir])
	if best >= 0 {
		return Verdict{Entry: best, Confidence: bestConf, Evidence: bestEv, Done: true}
	}
	if hitPending {
		return Verdict{Entry: -1}
	}
	// Heuristic probes: the port-hinted one first, then by priority.
	if st.port != 0 && int(st.port) <= len(e.entries) {
		i := st.port - 1
		en := &e.entries[i]
		switch {
		case !en.Sig.Heuristic || en.Sig.Probe == nil || st.isExcluded(i) || !en.fits(in.UDP):
			// Not a heuristic candidate for this flow.
		case len(data) > e.limit(en):
			st.exclude(i)
		default:
			switch en.Sig.Probe(in) {
			case Match:
				return Verdict{Entry: int(i), Confidence: flow.Probe, Evidence: flow.EvProbe | flow.EvPort, Done: true}
			case NoMatch:
				st.exclude(i)
			default:
				pending = true
			}
		}
	}
	for _, i := range e.heur {
		if st.isExcluded(i) || st.port == i+1 {
			continue
		}
		en := &e.entries[i]
		if !en.fits(in.UDP) {
			continue
		}
		if len(data) > e.limit(en) {
			st.exclude(i)
			continue
		}
		switch en.Sig.Probe(in) {
		case Match:
			return Verdict{Entry: int(i), Confidence: flow.Probe, Evidence: flow.EvProbe, Done: true}
		case NoMatch:
			st.exclude(i)
		default:
			pending = true
		}
	}
	// Nothing pending: no protocol can match this direction however many
	// more bytes arrive (prefixes only grow from the start).
	return Verdict{Entry: -1, Done: !pending}
}

// fits reports whether en runs over UDP (udp) or TCP (!udp).
func (en *Entry) fits(udp bool) bool {
	if udp {
		return en.UDP
	}
	return en.TCP
}

func (e *Engine) limit(en *Entry) int {
	if en.Sig.MaxBytes > 0 {
		return en.Sig.MaxBytes
	}
	return DefaultMaxBytes
}
