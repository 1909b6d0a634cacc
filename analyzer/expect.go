package analyzer

import (
	"net/netip"
	"sync"
	"time"
)

// ExpectConfig bounds the expectation table.
type ExpectConfig struct {
	Max     int           // pending expectations at most (default 65536)
	PerHost int           // pending expectations announced for one address (default 256)
	TTL     time.Duration // default lifetime in capture time (default 5 minutes)
}

// ExpectStats counts what the table did.
type ExpectStats struct {
	Added, Matched, Expired, DroppedFull, DroppedQuota uint64
	Peak                                               int
}

// Expectations is the global table of announced connections. Flows on any
// worker add to it and match against it; an expectation is visible to a flow
// only if it was announced by an earlier packet (lower capture index) and
// has not expired by the flow's capture time, so the outcome does not depend
// on which worker runs first (the pipeline makes a matcher wait until every
// worker has passed its packet's index).
type Expectations struct {
	mu  sync.Mutex
	cfg ExpectConfig
	// list holds the entries in the order they were added; removed entries
	// stay behind as dead until the next compaction. Entries before head
	// are all dead.
	list []*expEntry
	head int
	dead int
	live int
	seq  uint64
	// byAddr indexes the live entries by every address in their Addrs: a
	// connection can only fulfil an expectation that names one of its ends,
	// so Match looks at two short lists instead of the whole table.
	byAddr  map[netip.Addr][]*expEntry
	perHost map[netip.Addr]int
	stats   ExpectStats
}

// expEntry is one stored expectation; seq orders entries added with the
// same capture index.
type expEntry struct {
	x    Expectation
	seq  uint64
	dead bool
}

// NewExpectations returns an empty table.
func NewExpectations(cfg ExpectConfig) *Expectations {
	if cfg.Max <= 0 {
		cfg.Max = 65536
	}
	if cfg.PerHost <= 0 {
		cfg.PerHost = 256
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * time.Minute
	}
	return &Expectations{cfg: cfg, perHost: map[netip.Addr]int{}, byAddr: map[netip.Addr][]*expEntry{}}
}

func host(x *Expectation) netip.Addr {
	if len(x.Addrs) > 0 {
		return x.Addrs[0].Addr()
	}
	return x.From
}

// Add stores x; Index, Created and Source must be set. It reports false when
// a bound refused it.
func (t *Expectations) Add(x Expectation) bool {
	if len(x.Addrs) == 0 {
		return false
	}
	if x.TTL <= 0 || x.TTL > t.cfg.TTL*12 {
		x.TTL = t.cfg.TTL
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	h := host(&x)
	if t.perHost[h] >= t.cfg.PerHost {
		t.stats.DroppedQuota++
		return false
	}
	if t.live >= t.cfg.Max {
		t.expireLocked(x.Created)
		if t.live >= t.cfg.Max {
			t.removeLocked(t.oldestLocked())
			t.stats.DroppedFull++
		}
	}
	t.seq++
	e := &expEntry{x: x, seq: t.seq}
	t.list = append(t.list, e)
	t.live++
	for i, a := range x.Addrs {
		if !seenAddr(x.Addrs[:i], a.Addr()) {
			t.byAddr[a.Addr()] = append(t.byAddr[a.Addr()], e)
		}
	}
	t.perHost[h]++
	t.stats.Added++
	if t.live > t.stats.Peak {
		t.stats.Peak = t.live
	}
	return true
}

// seenAddr reports whether a is the address of one of ps.
func seenAddr(ps []netip.AddrPort, a netip.Addr) bool {
	for _, p := range ps {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

// oldestLocked returns the oldest live entry; the table must not be empty.
func (t *Expectations) oldestLocked() *expEntry {
	for t.list[t.head].dead {
		t.head++
	}
	return t.list[t.head]
}

func (t *Expectations) removeLocked(e *expEntry) {
	h := host(&e.x)
	if t.perHost[h]--; t.perHost[h] <= 0 {
		delete(t.perHost, h)
	}
	for i, a := range e.x.Addrs {
		k := a.Addr()
		if seenAddr(e.x.Addrs[:i], k) {
			continue
		}
		b := t.byAddr[k]
		for j, o := range b {
			if o == e {
				copy(b[j:], b[j+1:])
				b[len(b)-1] = nil
				b = b[:len(b)-1]
				break
			}
		}
		if len(b) == 0 {
			delete(t.byAddr, k)
		} else {
			t.byAddr[k] = b
		}
	}
	e.dead = true
	t.live--
	t.dead++
	if t.dead > 64 && t.dead > t.live {
		n := 0
		for _, o := range t.list {
			if !o.dead {
				t.list[n] = o
				n++
			}
		}
		clear(t.list[n:])
		t.list = t.list[:n]
		t.head, t.dead = 0, 0
	}
}

// expireLocked drops expectations that expired well before now. Only used
// under memory pressure; Match checks expiry itself, so lazy removal never
// changes a match.
func (t *Expectations) expireLocked(now time.Time) {
	var old []*expEntry
	for _, e := range t.list[t.head:] {
		if !e.dead && now.Sub(e.x.Created) > e.x.TTL {
			old = append(old, e)
		}
	}
	for _, e := range old {
		t.removeLocked(e)
		t.stats.Expired++
	}
}

func addrMatch(a netip.AddrPort, ep netip.AddrPort) bool {
	return a.Addr() == ep.Addr() && (a.Port() == 0 || a.Port() == ep.Port())
}

func (x *Expectation) matches(orig, resp netip.AddrPort) bool {
	if x.From.IsValid() && x.From != orig.Addr() && !(x.EitherEnd && x.From == resp.Addr()) {
		return false
	}
	for _, a := range x.Addrs {
		if addrMatch(a, resp) || (x.EitherEnd && addrMatch(a, orig)) {
			return true
		}
	}
	return false
}

// Match returns the latest expectation, announced before capture index
// index and alive at now, that the connection orig→resp fulfils. A matched
// expectation is consumed unless it came from a DNS answer (Hostname), which
// may label many connections.
func (t *Expectations) Match(index uint64, now time.Time, orig, resp netip.AddrPort) (Expectation, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.live == 0 {
		return Expectation{}, false
	}
	// Workers add concurrently, so insertion order is not announcement
	// order: pick the highest capture index explicitly (the earliest added
	// among equals).
	var best *expEntry
	pick := func(b []*expEntry) {
		for _, e := range b {
			x := &e.x
			if x.Index >= index || now.Before(x.Created) || now.Sub(x.Created) > x.TTL {
				continue
			}
			if !x.matches(orig, resp) {
				continue
			}
			if best == nil || x.Index > best.x.Index || (x.Index == best.x.Index && e.seq < best.seq) {
				best = e
			}
		}
	}
	pick(t.byAddr[resp.Addr()])
	if orig.Addr() != resp.Addr() {
		pick(t.byAddr[orig.Addr()])
	}
	if best == nil {
		return Expectation{}, false
	}
	t.stats.Matched++
	m := best.x
	if !m.Hostname {
		t.removeLocked(best)
	}
	return m, true
}

// Len returns the number of pending expectations.
func (t *Expectations) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.live
}

// Stats returns the table's counters.
func (t *Expectations) Stats() ExpectStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}
