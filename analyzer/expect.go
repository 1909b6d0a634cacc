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
	mu      sync.Mutex
	cfg     ExpectConfig
	list    []*Expectation // in announcement order
	perHost map[netip.Addr]int
	stats   ExpectStats
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
	return &Expectations{cfg: cfg, perHost: map[netip.Addr]int{}}
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
	if len(t.list) >= t.cfg.Max {
		t.expireLocked(x.Created)
		if len(t.list) >= t.cfg.Max {
			t.removeLocked(0)
			t.stats.DroppedFull++
		}
	}
	t.list = append(t.list, &x)
	t.perHost[h]++
	t.stats.Added++
	if len(t.list) > t.stats.Peak {
		t.stats.Peak = len(t.list)
	}
	return true
}

func (t *Expectations) removeLocked(i int) {
	h := host(t.list[i])
	if t.perHost[h]--; t.perHost[h] <= 0 {
		delete(t.perHost, h)
	}
	copy(t.list[i:], t.list[i+1:])
	t.list[len(t.list)-1] = nil
	t.list = t.list[:len(t.list)-1]
}

// expireLocked drops expectations that expired well before now. Only used
// under memory pressure; Match checks expiry itself, so lazy removal never
// changes a match.
func (t *Expectations) expireLocked(now time.Time) {
	for i := 0; i < len(t.list); {
		x := t.list[i]
		if now.Sub(x.Created) > x.TTL {
			t.removeLocked(i)
			t.stats.Expired++
			continue
		}
		i++
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
	// Workers add concurrently, so list order is not announcement order:
	// pick the highest capture index explicitly.
	best := -1
	for i, x := range t.list {
		if x.Index >= index || now.Before(x.Created) || now.Sub(x.Created) > x.TTL {
			continue
		}
		if !x.matches(orig, resp) {
			continue
		}
		if best < 0 || x.Index > t.list[best].Index {
			best = i
		}
	}
	if best < 0 {
		return Expectation{}, false
	}
	t.stats.Matched++
	m := *t.list[best]
	if !m.Hostname {
		t.removeLocked(best)
	}
	return m, true
}

// Len returns the number of pending expectations.
func (t *Expectations) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.list)
}

// Stats returns the table's counters.
func (t *Expectations) Stats() ExpectStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}
