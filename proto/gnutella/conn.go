package gnutella

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// maxEvents bounds the descriptor events (pongs, queries, hits, pushes) one
// flow reports; the rest are only counted.
const maxEvents = 256

// dirState is what one direction of a TCP flow carries now.
type dirState uint8

const (
	dsStart     dirState = iota // nothing seen yet
	dsHandshake                 // handshake messages
	dsDesc                      // descriptor stream
	dsResync                    // descriptor stream after a gap: looking for a run of descriptors
	dsHTTP                      // HTTP transfer (requests or responses)
	dsSkip                      // ignored: G2 stream, TLS after Upgrade, refused, broken
)

// conn is the per-flow state.
type conn struct {
	s        *analyzer.Session
	st       [2]dirState
	inf      [2]*inflater
	plain    [2][]byte // inflated bytes not yet parsed
	g2       [2]bool   // the direction carries Gnutella2 packets
	tls      [2]bool   // the direction switched to TLS
	connDir  flow.Dir  // direction that sent GNUTELLA CONNECT
	hsSeen   int       // handshake messages seen
	v04      bool
	product  string
	counts   map[string]int
	dgram    map[string]int
	events   int
	warned   map[string]bool
	inflated [2]int64
	infMax   int64
	infRatio int64
	http     *transfer
}

func newConn(s *analyzer.Session) analyzer.Conn {
	o := s.Options()
	c := &conn{s: s, counts: map[string]int{}, dgram: map[string]int{}, warned: map[string]bool{},
		infMax: o.Param("gnutella", "inflate_max", defInflateMax), infRatio: o.Param("gnutella", "inflate_ratio", defInflateRatio)}
	if c.infMax <= 0 {
		c.infMax = defInflateMax
	}
	if c.infRatio <= 0 {
		c.infRatio = defInflateRatio
	}
	return c
}

// Feed dispatches by what the flow turned out to carry.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	if c.s.Flow().Proto == udpProto {
		c.datagram(dir, data)
		return len(data), nil
	}
	if c.st[dir] == dsStart {
		c.start(dir, data)
		if c.st[dir] == dsStart {
			return 0, nil
		}
	}
	switch c.st[dir] {
	case dsHandshake:
		return c.feedHandshake(dir, data)
	case dsDesc:
		return c.feedDesc(dir, data)
	case dsResync:
		return c.resync(dir, data)
	case dsHTTP:
		return c.feedHTTP(dir, data)
	}
	return len(data), nil
}

// start decides what a direction carries from its first bytes (and what
// the other direction already showed).
func (c *conn) start(dir flow.Dir, d []byte) {
	o := c.st[dir.Other()]
	switch {
	case len(d) == 0:
	case handshakeStart(d) == nil:
		if len(d) < len("GNUTELLA ") {
			return
		}
		c.st[dir] = dsHandshake
	case c.http != nil || o == dsHTTP:
		c.st[dir] = dsHTTP
		c.ensureHTTP(dir)
	case d[0] == 'G' && dir == flow.Orig && prefixOf(d, "GIV "):
		c.st[dir] = dsHTTP
		c.ensureHTTP(dir.Other())
		c.http.giv = true
	case prefixOf(d, "GET ") || prefixOf(d, "HEAD ") || prefixOf(d, "HTTP/1."):
		if len(d) < 5 {
			return
		}
		c.st[dir] = dsHTTP
		if prefixOf(d, "HTTP/1.") {
			c.ensureHTTP(dir.Other())
		} else {
			c.ensureHTTP(dir)
		}
	case o == dsHandshake:
		// The other side spoke first; these bytes must be its answer.
		c.st[dir] = dsHandshake
	default:
		c.st[dir] = dsResync
	}
}

// feedHandshake parses one handshake message at a time.
func (c *conn) feedHandshake(dir flow.Dir, data []byte) (int, error) {
	hs, n, err := parseHandshake(data)
	if err != nil {
		if c.hsSeen == 0 {
			return 0, err
		}
		c.anomalyOnce("gnutella_bad_handshake", err.Error())
		c.st[dir] = dsSkip
		return len(data), nil
	}
	if n == 0 {
		return 0, nil
	}
	c.hsSeen++
	c.handshake(dir, &hs)
	if c.st[dir] != dsHandshake || len(data) == n {
		return n, nil
	}
	m, err := c.Feed(dir, data[n:])
	return n + m, err
}

// handshake reports one handshake message and moves the direction on.
func (c *conn) handshake(dir flow.Dir, hs *handshake) {
	ua := hs.get("User-Agent")
	if p := productOf(ua); p != "" && c.product == "" {
		c.product = p
		c.s.SetService("gnutella", p)
	}
	fields := map[string]any{"version": string(hs.version)}
	if len(ua) > 0 {
		fields["user_agent"] = text(ua, 256)
	}
	if v := hs.get("X-Ultrapeer"); v != nil {
		role := "leaf"
		if bytes.EqualFold(v, []byte("true")) {
			role = "ultrapeer"
		}
		fields["role"] = role
	}
	for _, h := range []struct{ name, key string }{
		{"Accept-Encoding", "accept_encoding"}, {"Content-Encoding", "content_encoding"}, {"Content-Type", "content_type"},
		{"Accept", "accept"}, {"Upgrade", "upgrade"},
	} {
		if v := hs.get(h.name); v != nil {
			fields[h.key] = text(v, 64)
		}
	}
	li := &event.LoginInfo{Client: text(ua, 256)}
	switch {
	case hs.kind == hsConnect:
		c.connDir = dir
		c.v04 = string(hs.version) == "0.4"
		fields["handshake"] = "connect"
		li.Outcome = event.Pending
	case dir != c.connDir || c.hsSeen == 1:
		fields["handshake"] = "response"
		fields["code"] = hs.code
	default:
		fields["handshake"] = "final"
		fields["code"] = hs.code
	}
	if hs.kind == hsResponse {
		li.Outcome = event.Success
		if hs.code != 200 {
			li.Outcome = event.Refused
			li.Reason = text([]byte(strconv.Itoa(hs.code)+" "+string(hs.reason)), 128)
		}
	}
	c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Login: li, Fields: fields})
	c.addresses(dir, hs)

	// What follows this message in this direction.
	compressed := bytes.EqualFold(hs.get("Content-Encoding"), []byte("deflate"))
	c.g2[dir] = bytes.Contains(hs.get("Content-Type"), []byte("application/x-gnutella2"))
	c.tls[dir] = bytes.Contains(bytes.ToLower(hs.get("Connection")), []byte("upgrade")) && hs.get("Upgrade") != nil ||
		bytes.Contains(bytes.ToLower(hs.get("Connection")), []byte("upgrade")) && c.hsSeen >= 3
	switch {
	case hs.kind == hsConnect && !c.v04:
		return // the final 200 comes later from this side
	case hs.kind == hsResponse && hs.code != 200:
		c.st[dir] = dsSkip
		return
	case hs.kind == hsResponse && dir == c.connDir && c.hsSeen >= 3 || hs.kind == hsResponse && c.v04:
		c.s.Confirm()
	}
	if c.tls[dir] {
		c.st[dir] = dsSkip
		c.noteOnce("tls_upgrade")
		return
	}
	c.st[dir] = dsDesc
	if compressed {
		c.inf[dir] = newInflater(c.infMax, c.infRatio)
	}
}

// addresses reports the addresses a handshake message discloses.
func (c *conn) addresses(dir flow.Dir, hs *handshake) {
	var addrs []netip.AddrPort
	var from []string
	for _, h := range []struct{ name, key string }{
		{"Listen-IP", "listen_ip"}, {"X-My-Address", "x_my_address"}, {"Node", "node"}, {"Remote-IP", "remote_ip"},
		{"X-Try", "x_try"}, {"X-Try-Ultrapeers", "x_try_ultrapeers"}, {"X-Try-Hubs", "x_try_hubs"},
	} {
		v := hs.get(h.name)
		if v == nil {
			continue
		}
		n := len(addrs)
		addrs = parseAddrList(v, addrs, maxAddrs)
		if len(addrs) > n {
			from = append(from, h.key)
		}
	}
	if len(addrs) == 0 {
		return
	}
	c.s.Emit(event.Event{Kind: event.Direct, Dir: dir, Direct: &event.DirectInfo{Addrs: addrs, Outcome: event.Offered},
		Fields: map[string]any{"source": from}})
}

// feedDesc parses a descriptor stream, inflating it first if it is
// compressed.
func (c *conn) feedDesc(dir flow.Dir, data []byte) (int, error) {
	if c.inf[dir] == nil {
		if c.g2[dir] {
			c.counts["g2_bytes"] += len(data)
			return len(data), nil
		}
		return c.descriptors(dir, data, false), nil
	}
	out, err := c.inf[dir].feed(data)
	switch {
	case errors.Is(err, ErrInflateMax):
		c.s.Anomaly("gnutella_inflate_limit", fmt.Sprintf("%s: more than %d bytes or ratio above %d: inflating stopped", dir, c.infMax, c.infRatio))
		c.stop(dir)
		return len(data), nil
	case err != nil:
		c.s.Anomaly("gnutella_inflate_error", err.Error())
		c.stop(dir)
		return len(data), nil
	}
	c.inflated[dir] += int64(len(out))
	if c.g2[dir] {
		c.counts["g2_bytes"] += len(out)
		return len(data), nil
	}
	c.plain[dir] = append(c.plain[dir], out...)
	n := c.descriptors(dir, c.plain[dir], true)
	c.plain[dir] = c.plain[dir][:copy(c.plain[dir], c.plain[dir][n:])]
	return len(data), nil
}

func (c *conn) stop(dir flow.Dir) {
	c.st[dir] = dsSkip
	c.inf[dir] = nil
	c.plain[dir] = nil
}

// descriptors handles every whole descriptor at the start of d and returns
// the bytes consumed.
func (c *conn) descriptors(dir flow.Dir, d []byte, inflated bool) int {
	n := 0
	for c.st[dir] == dsDesc {
		h, err := parseHeader(d[n:])
		if errors.Is(err, ErrShort) {
			break
		}
		if err != nil {
			c.s.Anomaly("gnutella_payload_limit", fmt.Sprintf("%s: payload length above %d: descriptors of this direction are skipped", dir, maxPayload))
			c.stop(dir)
			return len(d)
		}
		if len(d)-n < headerLen+h.length {
			break
		}
		c.descriptor(dir, h, d[n+headerLen:n+headerLen+h.length], inflated)
		n += headerLen + h.length
	}
	if c.st[dir] != dsDesc {
		return len(d)
	}
	return n
}

// resync looks for a run of descriptors (mid-stream pickup, or after a
// gap) and goes on from there.
func (c *conn) resync(dir flow.Dir, d []byte) (int, error) {
	for off := 0; off < len(d); off++ {
		switch runAt(d[off:]) {
		case classify.NeedMore:
			if len(d) > maxPayload {
				return len(d) - maxPayload, nil
			}
			return off, nil
		case classify.Match:
			c.st[dir] = dsDesc
			return off + c.descriptors(dir, d[off:], false), nil
		}
	}
	return len(d), nil
}

// descriptor reports one descriptor.
func (c *conn) descriptor(dir flow.Dir, h header, p []byte, inflated bool) {
	name := typeName(h.typ)
	if name == "" || h.typ == typeMojito {
		c.counts["unknown"]++
		c.anomalyOnce("gnutella_unknown_type", fmt.Sprintf("payload type 0x%02x", h.typ))
		return
	}
	c.s.Confirm()
	c.counts[name]++
	if h.ttl > usualTTL {
		c.anomalyOnce("gnutella_ttl", fmt.Sprintf("%s with TTL %d", name, h.ttl))
	}
	if int(h.ttl)+int(h.hops) > usualTTL {
		c.anomalyOnce("gnutella_hops_ttl", fmt.Sprintf("%s with TTL %d + hops %d", name, h.ttl, h.hops))
	}
	fields := map[string]any{"descriptor": name, "ttl": h.ttl, "hops": h.hops}
	if inflated {
		fields["compressed"] = true
	}
	switch h.typ {
	case typePong:
		x, err := parsePong(p)
		if err != nil || !c.budget() {
			return
		}
		fields["files"], fields["kbytes"] = x.files, x.kbyte
		c.s.Emit(event.Event{Kind: event.Direct, Dir: dir, Fields: fields,
			Direct: &event.DirectInfo{Addrs: []netip.AddrPort{x.addr}, Outcome: event.Offered}})
	case typeQuery:
		q, err := parseQuery(p)
		if err != nil {
			c.anomalyOnce("gnutella_bad_payload", "query without NUL-terminated text")
			return
		}
		if !c.budget() {
			return
		}
		if len(q.urns) > 0 {
			fields["urns"] = texts(q.urns)
		}
		if h.hops == 0 {
			fields["origin"] = "neighbour" // the TCP peer itself searched
		}
		c.s.Emit(event.Event{Kind: event.Search, Dir: dir, Feature: event.SearchFeature, Fields: fields,
			Search: &event.SearchInfo{Query: text(q.text, maxTextPayload)}})
	case typeQueryHit:
		qh, err := parseQueryHit(p)
		if err != nil {
			c.anomalyOnce("gnutella_bad_payload", "malformed query hit")
			return
		}
		c.queryHit(dir, qh, fields)
	case typePush:
		x, err := parsePush(p)
		if err != nil {
			return
		}
		c.push(dir, x, fields)
	case typeBye:
		b, err := parseBye(p)
		if err != nil {
			return
		}
		fields["code"] = b.code
		c.s.Emit(event.Event{Kind: event.Logout, Dir: dir, Fields: fields,
			Login: &event.LoginInfo{Reason: text([]byte(strconv.Itoa(int(b.code))+" "+string(b.reason)), 128)}})
	case typeVendor, typeStdVendor:
		if len(p) >= 4 && vendorCode(p[:4]) {
			c.counts["vendor_"+string(p[:4])]++
		}
	}
}

// queryHit reports the responder's address and each result.
func (c *conn) queryHit(dir flow.Dir, qh queryHit, fields map[string]any) {
	if !c.budget() {
		return
	}
	sid := hex.EncodeToString(qh.servent[:])
	fields["servent_id"] = sid
	fields["results"] = qh.count
	fields["speed"] = qh.speed
	product := ""
	if qh.vendor != "" {
		fields["vendor"] = text([]byte(qh.vendor), 4)
		product = vendors[qh.vendor]
		if qh.flags&0x01 != 0 {
			fields["firewalled"] = true
		}
	}
	c.s.Emit(event.Event{Kind: event.Direct, Dir: dir, Fields: fields, Product: product,
		Direct: &event.DirectInfo{Addrs: []netip.AddrPort{qh.addr}, Outcome: event.Offered}})
	for _, r := range qh.results {
		fi := &event.FileInfo{Name: text(r.name, analyzer.MaxFileName), Size: int64(r.size), Outcome: event.Offered}
		for _, u := range r.urns {
			if h := canonURN(u); h != "" {
				fi.Hash = h
				break
			}
		}
		c.s.Emit(event.Event{Kind: event.File, Dir: dir, Feature: event.GetFile, File: fi, Product: product,
			Fields: map[string]any{"descriptor": "query_hit", "index": r.index, "servent_id": sid, "addr": qh.addr.String()}})
	}
}

// push reports a Push and announces the GIV connection it asks for: the
// firewalled servent will connect to the requester's address.
func (c *conn) push(dir flow.Dir, x push, fields map[string]any) {
	sid := hex.EncodeToString(x.servent[:])
	fields["servent_id"] = sid
	fields["index"] = x.index
	if c.budget() {
		c.s.Emit(event.Event{Kind: event.Direct, Dir: dir, Feature: event.Push, Fields: fields,
			Direct: &event.DirectInfo{Addrs: []netip.AddrPort{x.addr}, Outcome: event.Offered}})
	}
	if !x.addr.Addr().IsUnspecified() && x.addr.Port() != 0 {
		c.s.Expect(analyzer.Expectation{Addrs: []netip.AddrPort{x.addr}, Proto: "gnutella", Service: "gnutella",
			Product: c.product, Feature: event.Push, Reason: "gnutella_push",
			Data: map[string]any{"servent_id": sid, "index": x.index}})
	}
}

// budget counts a descriptor event and reports whether it may be emitted.
func (c *conn) budget() bool {
	if c.events >= maxEvents {
		c.counts["events_suppressed"]++
		return false
	}
	c.events++
	return true
}

// anomalyOnce reports a named anomaly the first time only and counts the rest.
func (c *conn) anomalyOnce(name, detail string) {
	if c.warned[name] {
		c.counts[name]++
		return
	}
	c.warned[name] = true
	c.s.Anomaly(name, detail)
}

func (c *conn) noteOnce(k string) { c.counts[k] = 1 }

// Gap resynchronises: an HTTP body notes the loss; a plain descriptor
// stream looks for the next run of descriptors; a compressed one cannot
// go on.
func (c *conn) Gap(dir flow.Dir, size int) {
	switch c.st[dir] {
	case dsHTTP:
		if c.http != nil {
			c.http.gap(c, dir, size)
		}
	case dsDesc:
		if c.inf[dir] != nil {
			c.s.Anomaly("gnutella_gap", "bytes missing in a compressed stream: this direction is skipped")
			c.stop(dir)
			return
		}
		c.st[dir] = dsResync
	case dsHandshake, dsStart:
		c.st[dir] = dsResync
	}
}

// End closes an open transfer and writes the flow's counters.
func (c *conn) End(why flow.EndReason) {
	if c.http != nil {
		c.http.end(c)
	}
	fields := map[string]any{"summary": true}
	if len(c.counts) > 0 {
		fields["counts"] = c.counts
	}
	if len(c.dgram) > 0 {
		fields["datagrams"] = c.dgram
	}
	if c.inflated[0] > 0 || c.inflated[1] > 0 {
		fields["inflated_bytes"] = map[string]int64{"toserver": c.inflated[flow.Orig], "toclient": c.inflated[flow.Resp]}
	}
	if len(fields) > 1 {
		c.s.Emit(event.Event{Kind: event.Detected, Fields: fields})
	}
}

// text returns wire bytes as printable UTF-8 (Latin-1 where not UTF-8),
// cut to max bytes.
func text(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
	}
	if utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "")
	}
	r := make([]rune, 0, len(b))
	for _, c := range b {
		r = append(r, rune(c))
	}
	return string(r)
}

func texts(l [][]byte) []string {
	out := make([]string, 0, len(l))
	for _, b := range l {
		out = append(out, text(b, 128))
	}
	return out
}
