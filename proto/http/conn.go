package http

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/httpwire"
)

// Errors returned by Feed; each wraps the httpwire error that caused it.
var (
	// ErrRequest means a request head is malformed or over a limit.
	ErrRequest = errors.New("http: bad request head")
	// ErrResponse means a response head is malformed or over a limit.
	ErrResponse = errors.New("http: bad response head")
	// ErrBody means a chunked body is malformed.
	ErrBody = errors.New("http: bad message body")
	// ErrPipeline means more requests are waiting for responses than the
	// analyzer keeps (maxPending).
	ErrPipeline = errors.New("http: too many pipelined requests")
)

// limits bound heads below the engine's default 64 KiB per-direction
// buffer, so an oversized head is reported as a bad head rather than as a
// buffer overflow.
var limits = httpwire.Limits{MaxLine: 8 << 10, MaxHeaders: 100, MaxHeaderBytes: 32 << 10}

// maxPending bounds the requests waiting for a response (pipelining).
const maxPending = 32

// states of one direction.
const (
	stHead uint8 = iota // expecting a message head
	stBody              // inside a message body
	stWait              // originator after CONNECT or Upgrade: hold bytes until the answer
	stLost              // a gap made the direction unparseable: ignore it
)

// side is the parse state of one direction.
type side struct {
	state uint8
	// waitAfterBody moves the originator to stWait when the current body ends.
	waitAfterBody bool
	body          httpwire.Body
	// off counts the bytes of this direction consumed so far, gaps
	// included: the offsets handed to Session.Reclassify.
	off int
}

// txn is what a request contributes to its transaction record.
type txn struct {
	method, url, host, ua, proto string
	connect, upgrade             bool
	id                           uint32 // order of the request on the connection
	gw                           bool   // an MSN gateway request (gateway.go)
	gwKey                        string // the session its URL names
}

// answer is the response being received.
type answer struct {
	req     txn
	hasReq  bool
	status  int
	proto   string
	ctype   string
	upgrade string
}

// conn is the state of one HTTP flow.
type conn struct {
	s    *analyzer.Session
	hdrs []httpwire.Header
	side [2]side
	// pending is a ring of the requests still waiting for their
	// response: first index head, count n. It starts empty and doubles up
	// to maxPending, so a connection with one request at a time holds two
	// slots, not 32.
	pending  []txn
	head, n  int
	cur      answer
	switched bool // Reclassify was called: no more parsing
	nextID   uint32
	gw       gateway
	// bodyOut receives the decoded body bytes of each direction while the
	// MSN gateway wants them.
	bodyOut [2]func([]byte)
}

func newConn(s *analyzer.Session) analyzer.Conn {
	c := &conn{s: s, hdrs: make([]httpwire.Header, 0, 24)}
	c.bodyOut = [2]func([]byte){c.gwReqBody, c.gwRespBody}
	return c
}

// Feed parses the bytes of one direction: heads, then bodies, in a loop,
// until the data runs out or a head is incomplete.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	sd := &c.side[dir&1]
	n := 0
	for n < len(data) && !c.switched {
		var m int
		var err error
		switch sd.state {
		case stLost:
			m = len(data) - n
		case stWait:
			return n, nil
		case stBody:
			var done bool
			var out func([]byte)
			if (dir&1 == flow.Orig && c.gw.reqOn) || (dir&1 == flow.Resp && c.gw.respOn) {
				out = c.bodyOut[dir&1]
			}
			m, done, err = sd.body.Feed(data[n:], out)
			if err != nil {
				err = fmt.Errorf("%w: %w", ErrBody, err)
			} else if done {
				c.bodyDone(dir)
			}
		case stHead:
			if dir == flow.Orig {
				m, err = c.request(data[n:])
			} else {
				m, err = c.response(data[n:])
			}
			if m == 0 && err == nil {
				return n, nil
			}
		}
		n += m
		sd.off += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// request parses one request head at the start of b.
func (c *conn) request(b []byte) (int, error) {
	req, n, err := httpwire.ParseRequestHead(b, limits, c.hdrs)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	if n == 0 {
		return 0, nil
	}
	c.hdrs = req.Headers[:0] // keep any growth for the next head
	c.s.Confirm()
	if c.n == maxPending {
		return 0, ErrPipeline
	}
	t := txn{
		method:  string(req.Method),
		url:     string(req.Target),
		host:    hostname(req.Get("host"), req.Target),
		ua:      string(req.Get("user-agent")),
		proto:   string(req.Proto),
		connect: string(req.Method) == "CONNECT",
		upgrade: req.Get("upgrade") != nil,
		id:      c.nextID,
	}
	c.nextID++
	if isGatewayRequest(req.Target, req.Get("content-type")) {
		t.gw = true
		if key, present, ok := urlSession(t.url); ok {
			t.gwKey = key
		} else if present {
			c.s.Anomaly("http_msn_gateway_session_id", "malformed SessionID in the request URL")
		}
	}
	c.push(t)
	c.gwRequest(&t)
	c.checkFraming(flow.Orig, req.Headers)
	length, chunked := req.Framing()
	sd := &c.side[flow.Orig]
	sd.waitAfterBody = t.connect || t.upgrade
	sd.body = httpwire.NewBody(length, chunked, false)
	sd.state = stBody
	if sd.body.Done() {
		c.bodyDone(flow.Orig)
	}
	return n, nil
}

// response parses one response head at the start of b.
func (c *conn) response(b []byte) (int, error) {
	resp, n, err := httpwire.ParseResponseHead(b, limits, c.hdrs)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrResponse, err)
	}
	if n == 0 {
		return 0, nil
	}
	c.hdrs = resp.Headers[:0]
	c.s.Confirm()
	a := answer{
		status:  resp.Status,
		proto:   string(resp.Proto),
		ctype:   string(resp.Get("content-type")),
		upgrade: string(resp.Get("upgrade")),
	}
	if c.n > 0 {
		a.req, a.hasReq = c.pending[c.head], true
	}
	switch {
	case resp.Status == 101:
		// Switching Protocols: what follows this head is another protocol
		// (RFC 9110 §15.2.2).
		c.cur = a
		c.finish(flow.Resp, 0)
		c.handOff(c.side[flow.Resp].off + n)
		return n, nil
	case resp.Status < 200:
		// Other 1xx are interim: the final response follows for the same
		// request (RFC 9110 §15.2).
		return n, nil
	case a.req.connect && resp.Status < 300:
		// A 2xx to CONNECT turns the connection into a tunnel
		// (RFC 9110 §9.3.6); it has no body.
		c.cur = a
		c.finish(flow.Resp, 0)
		c.handOff(c.side[flow.Resp].off + n)
		return n, nil
	}
	c.cur = a
	c.gwResponse(&a.req, a.hasReq, a.status, resp.Get(gwField))
	c.checkFraming(flow.Resp, resp.Headers)
	var method []byte
	if a.hasReq {
		method = []byte(a.req.method)
	}
	length, chunked, closeDelimited := resp.Framing(method)
	sd := &c.side[flow.Resp]
	sd.body = httpwire.NewBody(length, chunked, closeDelimited)
	sd.state = stBody
	if sd.body.Done() {
		c.bodyDone(flow.Resp)
	}
	return n, nil
}

// checkFraming reports a message with both Transfer-Encoding and
// Content-Length: legal to receive, but the classic request-smuggling shape
// (RFC 9112 §6.3 item 3).
func (c *conn) checkFraming(dir flow.Dir, hs []httpwire.Header) {
	var te, cl bool
	for _, h := range hs {
		te = te || bytes.EqualFold(h.Name, []byte("transfer-encoding"))
		cl = cl || bytes.EqualFold(h.Name, []byte("content-length"))
	}
	if te && cl {
		c.s.Anomaly("http_te_and_cl", dir.String()+" message has both transfer-encoding and content-length")
	}
}

// bodyDone moves a direction on after its message body ended.
func (c *conn) bodyDone(dir flow.Dir) {
	sd := &c.side[dir]
	sd.state = stHead
	if dir == flow.Orig {
		c.gwReqDone()
		if sd.waitAfterBody {
			sd.state = stWait
		}
		return
	}
	c.finish(flow.Resp, sd.body.Decoded())
}

// push appends t to the ring of pending requests, which must hold fewer
// than maxPending.
func (c *conn) push(t txn) {
	if c.n == len(c.pending) {
		grown := make([]txn, min(max(2, 2*len(c.pending)), maxPending))
		for i := 0; i < c.n; i++ {
			grown[i] = c.pending[(c.head+i)%len(c.pending)]
		}
		c.pending, c.head = grown, 0
	}
	c.pending[(c.head+c.n)%len(c.pending)] = t
	c.n++
}

// finish emits the record of the current response and retires its request.
func (c *conn) finish(dir flow.Dir, length int64) {
	a := c.cur
	c.cur = answer{}
	c.gwFinish()
	if a.hasReq {
		c.pending[c.head] = txn{}
		c.head = (c.head + 1) % len(c.pending)
		c.n--
		if (a.req.connect || a.req.upgrade) && c.side[flow.Orig].state == stWait {
			c.side[flow.Orig].state = stHead
		}
	}
	c.emit(dir, &a.req, &a, length)
}

// handOff gives the rest of both directions back to the classifier.
func (c *conn) handOff(respOff int) {
	c.switched = true
	c.s.Reclassify(c.side[flow.Orig].off, respOff)
}

// emit writes one transaction record: a tunnel event for CONNECT, else a
// detected event. a is nil for a request that got no response.
func (c *conn) emit(dir flow.Dir, t *txn, a *answer, length int64) {
	f := make(map[string]any, 8)
	put := func(k, v string) {
		if v != "" {
			f[k] = v
		}
	}
	put("hostname", t.host)
	put("url", t.url)
	put("http_method", t.method)
	put("http_user_agent", t.ua)
	put("protocol", t.proto)
	if a != nil {
		if t.proto == "" {
			put("protocol", a.proto)
		}
		f["status"] = a.status
		put("http_content_type", a.ctype)
		if a.upgrade != "" {
			// Suricata's http object has no upgrade field: the header goes
			// in its response_headers shape.
			f["response_headers"] = []map[string]string{{"name": "Upgrade", "value": a.upgrade}}
		}
		f["length"] = length
	}
	e := event.Event{Kind: event.Detected, Dir: dir, Fields: f}
	if t.connect {
		out := event.Pending
		switch {
		case a == nil:
		case a.status >= 200 && a.status < 300:
			out = event.Success
		case a.status >= 500:
			out = event.Failure
		default:
			out = event.Refused
		}
		e.Kind = event.Tunnel
		e.Tunnel = &event.TunnelInfo{Kind: "http_connect", Target: t.url, Outcome: out}
	}
	c.s.Emit(e)
}

// Gap skips lost bytes inside a body whose length is known; anywhere else
// the direction cannot be resynchronised and is ignored from then on.
func (c *conn) Gap(dir flow.Dir, size int) {
	sd := &c.side[dir&1]
	sd.off += size
	c.gwGap(dir & 1)
	if sd.state == stBody && sd.body.Skip(int64(size)) {
		if sd.body.Done() {
			c.bodyDone(dir)
		}
		return
	}
	sd.state = stLost
}

// End writes the records still open: a response cut short (or delimited by
// the close), then requests that got no response.
func (c *conn) End(flow.EndReason) {
	if c.switched {
		return
	}
	if rs := &c.side[flow.Resp]; rs.state == stBody {
		rs.state = stLost
		c.finish(flow.Resp, rs.body.Decoded())
	}
	var gwReq *txn
	for i := 0; i < c.n; i++ {
		if t := &c.pending[(c.head+i)%len(c.pending)]; t.gw {
			gwReq = t
			break
		}
	}
	c.gwEnd(gwReq)
	for ; c.n > 0; c.n-- {
		c.emit(flow.Orig, &c.pending[c.head], nil, 0)
		c.head = (c.head + 1) % len(c.pending)
	}
}

// hostname returns the Host field without its port or, when there is no
// Host field, the host of an absolute-form or authority-form (CONNECT)
// target.
func hostname(host, target []byte) string {
	if host == nil {
		t := string(target)
		if i := strings.Index(t, "://"); i >= 0 {
			t = t[i+3:] // absolute-form
		} else if t == "" || t[0] == '/' || t[0] == '*' {
			return "" // origin-form or asterisk-form: no host
		}
		if j := strings.IndexAny(t, "/?#"); j >= 0 {
			t = t[:j]
		}
		if j := strings.LastIndexByte(t, '@'); j >= 0 {
			t = t[j+1:]
		}
		host = []byte(t)
	}
	h := host
	if len(h) > 0 && h[0] == '[' {
		if j := bytes.IndexByte(h, ']'); j > 0 {
			return string(h[1:j])
		}
		return string(h)
	}
	if j := bytes.LastIndexByte(h, ':'); j >= 0 {
		h = h[:j]
	}
	return string(h)
}
