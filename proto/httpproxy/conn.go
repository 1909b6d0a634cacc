package httpproxy

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/httpwire"
)

// Errors returned by Feed; the head and body errors wrap the httpwire
// error that caused them.
var (
	// ErrRequest means a request head is malformed or over a limit.
	ErrRequest = errors.New("httpproxy: bad request head")
	// ErrResponse means a response head is malformed or over a limit.
	ErrResponse = errors.New("httpproxy: bad response head")
	// ErrBody means a chunked body is malformed.
	ErrBody = errors.New("httpproxy: bad message body")
	// ErrPipeline means more requests wait for responses than the analyzer
	// keeps (maxPending).
	ErrPipeline = errors.New("httpproxy: too many pipelined requests")
)

// limits bound heads below the engine's per-direction buffer.
var limits = httpwire.Limits{MaxLine: 8 << 10, MaxHeaders: 100, MaxHeaderBytes: 32 << 10}

// Bounds of what is kept from the wire.
const (
	maxPending = 16   // requests waiting for a response (pipelining)
	maxField   = 256  // bytes of a URL or User-Agent kept in a record
	maxAuth    = 1024 // bytes of a Basic credential decoded
)

// states of one direction.
const (
	stHead uint8 = iota // expecting a message head
	stBody              // inside a message body
	stWait              // originator after CONNECT: hold bytes until the answer
	stLost              // a gap made the direction unparseable: ignore it
)

// embedding states of the body being received.
const (
	embUndecided uint8 = iota // its first bytes are not in yet
	embNo                     // no known magic: not embedded
	embYes                    // fed to the embedded analyzer
)

// side is the parse state of one direction.
type side struct {
	state uint8
	body  httpwire.Body
	// off counts the bytes of this direction consumed so far, gaps
	// included: the offsets handed to Session.Reclassify.
	off int
	// waitAfterBody moves the originator to stWait when the body ends.
	waitAfterBody bool

	// The body's embedding: its first bytes, the analyzer they name and
	// the session key.
	emb    uint8
	magic  [len(ymsgMagic)]byte
	nmagic int
	proto  string
	key    string
}

// txn is what a request contributes to its record.
type txn struct {
	method  string
	connect bool   // CONNECT in authority-form
	forward bool   // absolute-form: forward proxying
	target  string // host:port of the destination
	url     string // the absolute URI (bounded)
	host    string // the destination host, for the IM table and the embed key
	ua      string
	auth    string // "basic", "none" or the scheme named in Proxy-Authorization
	im      imHost
	isIM    bool
}

// conn is the state of one proxy connection.
type conn struct {
	s        *analyzer.Session
	hdrs     []httpwire.Header
	side     [2]side
	pending  [maxPending]txn
	head, n  int // ring of pending requests
	resp     txn // the request of the response being received
	hasResp  bool
	switched bool // Reclassify was called
	reported bool // the IM http_tunnel record was written
	lastCred string
	// The last embedded stream used and its analyzer and key.
	stProto, stKey string
	stream         analyzer.Stream
	out            [2]func([]byte)
	client         string // the originator's address, for embed keys
}

func newConn(s *analyzer.Session) analyzer.Conn {
	c := &conn{s: s, hdrs: make([]httpwire.Header, 0, 24)}
	c.out = [2]func([]byte){
		func(p []byte) { c.bodyBytes(flow.Orig, p) },
		func(p []byte) { c.bodyBytes(flow.Resp, p) },
	}
	if f := s.Flow(); f != nil {
		c.client = f.Orig.Addr().String()
	}
	return c
}

// Feed parses the bytes of one direction: heads and bodies in a loop until
// the data runs out or a head is incomplete.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	dir &= 1
	sd := &c.side[dir]
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
			m, done, err = sd.body.Feed(data[n:], c.out[dir])
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
	if err != nil && bytes.HasPrefix(b, []byte("CONNECT ")) {
		return c.looseConnect(b, err)
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	if n == 0 {
		return 0, nil
	}
	c.hdrs = req.Headers[:0]
	if c.n == maxPending {
		return 0, ErrPipeline
	}
	c.s.Confirm()
	t := txn{method: string(req.Method), ua: text(req.Get("user-agent"))}
	if t.method == "CONNECT" {
		t.connect = true
		if host, port, ok := splitAuthority(req.Target); ok {
			t.target = text(host) + ":" + strconv.Itoa(port)
			t.host = strings.Trim(text(host), "[]")
		} else {
			t.target = text(req.Target)
			c.s.Anomaly("httpproxy_connect_target", "CONNECT target is not host:port")
		}
	} else if u, ok := parseAbsolute(req.Target); ok {
		t.forward = true
		t.target = hostPort(u.host, u.port, u.v6)
		t.host = string(u.host)
		t.url = text(req.Target)
	}
	if t.host == "" {
		t.host = hostOnly(text(req.Get("host")))
	}
	t.im, t.isIM = imOf(t.host)
	t.auth = c.proxyAuth(req.Get("proxy-authorization"))
	c.pending[(c.head+c.n)%maxPending] = t
	c.n++
	if t.isIM && !t.connect {
		c.reportIM(&t)
	}
	length, chunked := req.Framing()
	sd := &c.side[flow.Orig]
	sd.waitAfterBody = t.connect
	c.startBody(flow.Orig, &t, httpwire.NewBody(length, chunked, false))
	return n, nil
}

// proxyAuth reads a Proxy-Authorization value (RFC 9110 §11.7.1): it
// returns the scheme, lower-case ("none" without the field), and for Basic
// (RFC 7617) reports the user and password as a plaintext credential.
func (c *conn) proxyAuth(v []byte) string {
	if v == nil {
		return "none"
	}
	scheme, cred, _ := bytes.Cut(bytes.TrimSpace(v), []byte(" "))
	if len(scheme) == 0 || len(scheme) > 32 {
		return "other"
	}
	name := strings.ToLower(text(scheme))
	if name != "basic" {
		return name
	}
	cred = bytes.TrimSpace(cred)
	if len(cred) > base64.StdEncoding.EncodedLen(maxAuth) {
		c.s.Anomaly("httpproxy_basic_too_long", "proxy basic credential over 1 KiB")
		return name
	}
	var buf [maxAuth]byte
	k, err := base64.StdEncoding.Decode(buf[:], cred)
	if err != nil {
		c.s.Anomaly("httpproxy_bad_basic", "proxy basic credential is not base64")
		return name
	}
	user, pw, ok := strings.Cut(string(buf[:k]), ":")
	if !ok {
		c.s.Anomaly("httpproxy_bad_basic", "proxy basic credential has no colon")
		return name
	}
	user = latin1(user)
	if key := user + "\x00" + pw; key != c.lastCred {
		c.lastCred = key
		c.s.Emit(event.Event{
			Kind: event.Credential, Dir: flow.Orig, Users: event.Users{Local: user},
			Credential: c.s.Secret(event.Plaintext, user, "proxy_password", latin1(pw)),
		})
	}
	return name
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
	if resp.Status < 200 && resp.Status != 101 {
		return n, nil // interim (RFC 9110 §15.2): the final answer follows
	}
	var t txn
	has := c.n > 0
	if has {
		t = c.pending[c.head]
		c.pending[c.head] = txn{}
		c.head = (c.head + 1) % maxPending
		c.n--
		if c.side[flow.Orig].state == stWait {
			c.side[flow.Orig].state = stHead
		}
	}
	c.emit(&t, has, resp.Status)
	if (t.connect && resp.Status < 300) || resp.Status == 101 {
		// The tunnel starts after this head (RFC 9110 §9.3.6, §15.2.2).
		c.switched = true
		c.s.Reclassify(c.side[flow.Orig].off, c.side[flow.Resp].off+n)
		return n, nil
	}
	var method []byte
	if has {
		method = []byte(t.method)
	}
	length, chunked, closed := resp.Framing(method)
	c.startBody(flow.Resp, &t, httpwire.NewBody(length, chunked, closed))
	return n, nil
}

// startBody starts the body of a message of t in direction dir.
func (c *conn) startBody(dir flow.Dir, t *txn, b httpwire.Body) {
	sd := &c.side[dir]
	sd.body = b
	sd.state = stBody
	sd.emb, sd.nmagic, sd.proto = embUndecided, 0, ""
	sd.key = c.client + " " + strings.ToLower(t.host)
	if sd.body.Done() {
		c.bodyDone(dir)
	}
}

// bodyDone moves a direction on after its message body ended.
func (c *conn) bodyDone(dir flow.Dir) {
	sd := &c.side[dir]
	sd.state = stHead
	if dir == flow.Orig && sd.waitAfterBody {
		sd.state = stWait
	}
}

// bodyBytes takes decoded body bytes: a body that starts with FLAP or YMSG
// goes to that analyzer's embedded session (proxies.md §4).
func (c *conn) bodyBytes(dir flow.Dir, p []byte) {
	sd := &c.side[dir]
	switch sd.emb {
	case embNo:
		return
	case embYes:
		c.embedded(sd.proto, sd.key).Feed(dir, p)
		return
	}
	k := copy(sd.magic[sd.nmagic:], p)
	sd.nmagic += k
	proto, need := bodyProto(sd.magic[:sd.nmagic])
	if need {
		return // all of p is in magic
	}
	if proto == "" {
		sd.emb = embNo
		return
	}
	sd.emb, sd.proto = embYes, proto
	st := c.embedded(proto, sd.key)
	st.Feed(dir, sd.magic[:sd.nmagic])
	st.Feed(dir, p[k:])
}

// embedded returns the embedded stream of proto and key, reusing the last.
func (c *conn) embedded(proto, key string) analyzer.Stream {
	if c.stream == nil || c.stProto != proto || c.stKey != key {
		c.stProto, c.stKey, c.stream = proto, key, c.s.Embed(proto, key)
	}
	return c.stream
}

// reportIM labels the flow with the IM service a request goes to and
// writes its http_tunnel record, once per connection.
func (c *conn) reportIM(t *txn) {
	if c.reported {
		return
	}
	c.reported = true
	c.s.SetService(t.im.service, t.im.product)
	f := map[string]any{"http_method": t.method, "proxy_auth": t.auth}
	if t.url != "" {
		f["url"] = t.url
	}
	if t.ua != "" {
		f["user_agent"] = t.ua
	}
	target := t.target
	if target == "" {
		target = t.host
	}
	c.s.Emit(event.Event{
		Kind: event.Tunnel, Dir: flow.Orig, Service: t.im.service, Product: t.im.product, Fields: f,
		Tunnel: &event.TunnelInfo{Kind: "http_tunnel", Target: target},
	})
}

// emit writes the tunnel record of a CONNECT or forward request; status is
// 0 when no answer came. Other requests (origin-form) get no record.
func (c *conn) emit(t *txn, has bool, status int) {
	if !has || (!t.connect && !t.forward) {
		return
	}
	f := map[string]any{"http_method": t.method, "proxy_auth": t.auth}
	if t.ua != "" {
		f["user_agent"] = t.ua
	}
	if t.url != "" {
		f["url"] = t.url
	}
	if status != 0 {
		f["status"] = status
	}
	kind := "http_forward"
	if t.connect {
		kind = "http_connect"
	}
	c.s.Emit(event.Event{
		Kind: event.Tunnel, Dir: flow.Resp, Fields: f,
		Tunnel: &event.TunnelInfo{Kind: kind, Target: t.target, Outcome: outcome(t.connect, status)},
	})
}

// outcome maps an answer's status to the proxy request's outcome: for
// CONNECT a 2xx opens the tunnel, 407 asks for proxy credentials, anything
// else failed; a forward request failed only when the proxy itself says
// so (407, or 502/503/504 from the gateway), since other statuses are the
// origin server's.
func outcome(connect bool, status int) event.Outcome {
	switch {
	case status == 0:
		return event.Pending
	case status == 407:
		return event.Refused
	case connect && status >= 200 && status < 300:
		return event.Success
	case connect:
		return event.Failure
	case status == 502 || status == 503 || status == 504:
		return event.Failure
	}
	return event.Success
}

// Gap skips lost bytes inside a body whose length is known; anywhere else
// the direction cannot be resynchronised and is ignored from then on.
func (c *conn) Gap(dir flow.Dir, size int) {
	dir &= 1
	sd := &c.side[dir]
	sd.off += size
	if sd.emb == embYes || sd.emb == embUndecided {
		sd.emb = embNo // the embedded stream cannot be told about lost bytes
	}
	if sd.state == stBody && sd.body.Skip(int64(size)) {
		if sd.body.Done() {
			c.bodyDone(dir)
		}
		return
	}
	sd.state = stLost
}

// End writes the records of requests that got no answer.
func (c *conn) End(flow.EndReason) {
	if c.switched {
		return
	}
	for ; c.n > 0; c.n-- {
		c.emit(&c.pending[c.head], true, 0)
		c.pending[c.head] = txn{}
		c.head = (c.head + 1) % maxPending
	}
}

// text returns wire bytes as a bounded string of valid UTF-8 (bytes that
// are not UTF-8 are read as Latin-1).
func text(b []byte) string {
	if len(b) > maxField {
		b = b[:maxField]
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return latin1(string(b))
}

// latin1 returns s unchanged when it is valid UTF-8, else decodes it as
// ISO 8859-1.
func latin1(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// hostOnly returns a Host field value without its port or brackets.
func hostOnly(h string) string {
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			return h[1:i]
		}
		return ""
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		return h[:i]
	}
	return h
}

// looseConnect reads a CONNECT head that httpwire rejected (parseErr), as
// open-proxy abusers and old spam tools wrote them: extra tokens on the
// request line, header lines without a colon. The target is the token
// after CONNECT and must be host:port; Proxy-Authorization and User-Agent
// are taken from the lines that have a colon. The head ends at the first
// empty line, within limits.MaxHeaderBytes.
func (c *conn) looseConnect(b []byte, parseErr error) (int, error) {
	w := b[:min(len(b), limits.MaxHeaderBytes)]
	end, sep := bytes.Index(w, []byte("\r\n\r\n")), 4
	if i := bytes.Index(w, []byte("\n\n")); i >= 0 && (end < 0 || i < end) {
		end, sep = i, 2
	}
	if end < 0 {
		if len(b) >= limits.MaxHeaderBytes {
			return 0, fmt.Errorf("%w: %w", ErrRequest, parseErr)
		}
		return 0, nil
	}
	lines := bytes.Split(w[:end], []byte("\n"))
	fields := bytes.Fields(lines[0])
	if len(fields) < 3 || !bytes.HasPrefix(fields[len(fields)-1], []byte("HTTP/1.")) {
		return 0, fmt.Errorf("%w: %w", ErrRequest, parseErr)
	}
	host, port, ok := splitAuthority(fields[1])
	if !ok {
		return 0, fmt.Errorf("%w: %w", ErrRequest, parseErr)
	}
	if c.n == maxPending {
		return 0, ErrPipeline
	}
	c.s.Confirm()
	c.s.Anomaly("httpproxy_malformed_connect", "CONNECT head that is not valid HTTP/1.x")
	t := txn{method: "CONNECT", connect: true, target: text(host) + ":" + strconv.Itoa(port), host: strings.Trim(text(host), "[]")}
	var auth []byte
	for _, l := range lines[1:] {
		name, val, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		switch strings.ToLower(string(bytes.TrimSpace(name))) {
		case "user-agent":
			t.ua = text(bytes.TrimSpace(val))
		case "proxy-authorization":
			auth = bytes.TrimSpace(val)
		}
	}
	t.auth = c.proxyAuth(auth)
	c.pending[(c.head+c.n)%maxPending] = t
	c.n++
	c.side[flow.Orig].state = stWait
	return end + sep, nil
}
