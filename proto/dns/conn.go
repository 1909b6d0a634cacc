package dns

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"time"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/hostnames"
)

const (
	// maxPending bounds the unanswered queries remembered per flow.
	maxPending = 32
	// maxBad is how many malformed messages a flow may carry before the
	// analyzer gives up on it.
	maxBad = 4
	// maxTTL caps how long a DNS answer labels connections (seconds).
	maxTTL = 3600
	// maxAddrs bounds the expectations one answer registers.
	maxAddrs = 32
	// ipProtoUDP is UDP's IP protocol number (IANA).
	ipProtoUDP = 17
	// eveVersion is the version of Suricata's EVE DNS record we write.
	eveVersion = 3
)

// ErrMalformed is returned by Feed after too many malformed messages.
var ErrMalformed = errors.New("dns: too many malformed messages")

// pendingQuery is a query not answered yet.
type pendingQuery struct {
	dir    flow.Dir
	id     uint16
	fields map[string]any
}

// conn is the per-flow state.
type conn struct {
	s       *analyzer.Session
	udp     bool
	bad     int
	lost    [2]bool // a TCP direction lost bytes: the framing is gone
	pending []pendingQuery
}

func newConn(s *analyzer.Session) analyzer.Conn {
	f := s.Flow()
	return &conn{s: s, udp: f != nil && f.Proto == ipProtoUDP}
}

// Feed parses one datagram (UDP) or every whole length-prefixed message
// (TCP, RFC 1035 §4.2.2).
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	if c.udp {
		return len(data), c.message(dir, data)
	}
	if c.lost[dir] {
		return len(data), nil
	}
	n := 0
	for len(data)-n >= 2 {
		l := int(binary.BigEndian.Uint16(data[n:]))
		if l < headerLen {
			return n, ErrHeader
		}
		if len(data)-n-2 < l {
			break
		}
		if err := c.message(dir, data[n+2:n+2+l]); err != nil {
			return n, err
		}
		n += 2 + l
	}
	return n, nil
}

// message handles one message.
func (c *conn) message(dir flow.Dir, b []byte) error {
	m, err := parseMessage(b)
	if err != nil {
		c.s.Anomaly("dns_malformed", err.Error())
		if c.bad++; c.bad >= maxBad {
			return ErrMalformed
		}
		return nil
	}
	c.s.Confirm()
	fields := c.fields(m, b)
	c.names(m, b)
	if !m.qr() {
		if len(c.pending) < maxPending {
			c.pending = append(c.pending, pendingQuery{dir: dir, id: m.id, fields: fields})
		}
		return nil
	}
	for i, p := range c.pending {
		if p.id == m.id {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			break
		}
	}
	c.s.Emit(event.Event{Kind: event.Detected, Dir: dir, Fields: fields})
	return nil
}

// fields builds Suricata's EVE DNS v3 object of a message.
func (c *conn) fields(m message, b []byte) map[string]any {
	typ := "request"
	if m.qr() {
		typ = "response"
	}
	f := map[string]any{
		"version": eveVersion,
		"type":    typ,
		"id":      int(m.id),
		"flags":   strconv.FormatUint(uint64(m.flags), 16),
		"opcode":  m.opcode(),
	}
	for _, b := range []struct {
		key string
		on  bool
	}{{"qr", m.qr()}, {"aa", m.flag(flagAA)}, {"tc", m.flag(flagTC)}, {"rd", m.flag(flagRD)}, {"ra", m.flag(flagRA)}} {
		if b.on {
			f[b.key] = true
		}
	}
	if m.qr() {
		f["rcode"] = rcodeName(m.rcode())
	}
	if len(m.questions) > 0 {
		qs := make([]map[string]any, len(m.questions))
		for i, q := range m.questions {
			qs[i] = map[string]any{"rrname": q.name, "rrtype": typeName(q.qtype)}
		}
		f["queries"] = qs
	}
	if len(m.answers) > 0 {
		as := make([]map[string]any, len(m.answers))
		for i, r := range m.answers {
			a := map[string]any{"rrname": r.name, "rrtype": typeName(r.rtype), "ttl": int64(r.ttl)}
			if t := r.rdataText(b); t != "" {
				a["rdata"] = t
			}
			as[i] = a
		}
		f["answers"] = as
	}
	return f
}

// names labels the flow when a question or CNAME names a known IM/P2P
// service, and turns the addresses the answer gives for that chain into
// hostname expectations.
func (c *conn) names(m message, b []byte) {
	list := c.s.Options().Names()
	var hit hostnames.Entry
	found := false
	// chain holds the question names and the CNAME targets reached from them.
	var chain []string
	for _, q := range m.questions {
		chain = append(chain, q.name)
	}
	for grew := true; grew && len(chain) < maxKept; {
		grew = false
		for _, r := range m.answers {
			if r.rtype != typeCNAME || !contains(chain, r.name) {
				continue
			}
			if t, ok := r.target(b); ok && !contains(chain, t) {
				chain = append(chain, t)
				grew = true
			}
		}
	}
	for _, n := range chain {
		if e, ok := list.Lookup(n); ok {
			hit, found = e, true
			break
		}
	}
	if !found {
		return
	}
	c.s.Label(hit.Service, hit.Product, flow.EvDNS)
	if !m.qr() {
		return
	}
	seen := 0
	for _, r := range m.answers {
		a, ok := r.addr()
		if !ok || !contains(chain, r.name) || seen >= maxAddrs {
			continue
		}
		seen++
		ttl := time.Duration(max(min(r.ttl, maxTTL), 1)) * time.Second
		c.s.Expect(analyzer.Expectation{
			Addrs:    []netip.AddrPort{netip.AddrPortFrom(a.Unmap(), 0)},
			Hostname: true,
			Service:  hit.Service,
			Product:  hit.Product,
			Reason:   "dns_answer",
			TTL:      ttl,
		})
	}
}

// contains reports whether names holds n, ignoring ASCII case.
func contains(names []string, n string) bool {
	for _, x := range names {
		if equalFold(x, n) {
			return true
		}
	}
	return false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Gap loses the TCP framing of that direction.
func (c *conn) Gap(dir flow.Dir, size int) {
	if !c.lost[dir] {
		c.lost[dir] = true
		c.s.Anomaly("dns_gap", "bytes missing: messages of this direction are skipped")
	}
}

// End reports the queries that got no response.
func (c *conn) End(why flow.EndReason) {
	for _, p := range c.pending {
		c.s.Emit(event.Event{Kind: event.Detected, Dir: p.dir, Fields: p.fields})
	}
	c.pending = nil
}
