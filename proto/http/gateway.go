package http

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// The MSN Messenger HTTP gateway (Messenger 4.6 and later, pidgin
// httpconn.c) carries MSNP in HTTP bodies: the client POSTs its commands to
// /gateway/gateway.dll with Content-Type application/x-msn-messenger, first
// with ?Action=open&Server=NS&IP=<server>, later with ?SessionID=<id> or
// ?Action=poll&SessionID=<id>; the gateway answers with the server's
// commands in the body and names the session in an
// "X-MSN-Messenger: SessionID=<id>; GW-IP=<ip>" field ("; Session=close"
// when it ends). One MSNP session spans many HTTP connections, so the bodies
// go to Session.Embed under the session id, not to this flow.

// Gateway vocabulary.
const (
	gwProto   = "msnp"          // the embedded analyzer
	gwService = "msn"           // its service
	gwProduct = "MSN Messenger" // its product
	gwCtype   = "application/x-msn-messenger"
	gwField   = "x-msn-messenger"
)

// maxHeld bounds the body of an open request kept until the response names
// its session.
const maxHeld = 16 << 10

// maxSessionID bounds a session id taken from the wire.
const maxSessionID = 64

// gateway is the MSN gateway state of one HTTP connection.
type gateway struct {
	reported bool // the tunnel event was written

	// The request whose body is being received.
	reqOn  bool   // it is a gateway request whose body is wanted
	reqID  uint32 // its transaction id
	reqKey string // its session key; "" while held

	// The body of a request that named no session (Action=open), kept
	// until its response names one.
	held     []byte
	heldOn   bool
	heldID   uint32
	heldLost bool // over maxHeld or cut by a gap: the body is dropped

	// The response whose body is being received.
	respOn    bool
	respKey   string
	respClose bool // Session=close: the session ends with this body

	// The stream of the last key used.
	key    string
	stream analyzer.Stream
}

// gwInfo is what a gateway response head says.
type gwInfo struct {
	present bool   // an X-MSN-Messenger field was there
	session string // SessionID, as a key
	close   bool   // Session=close
	bad     bool   // the SessionID was malformed
}

// isGatewayRequest reports whether a request goes to the MSN gateway: its
// path ends in /gateway.dll, or its body is declared as MSN Messenger data.
func isGatewayRequest(target, ctype []byte) bool {
	return isGatewayPath(target) || hasCtype(ctype)
}

// hasCtype reports whether a Content-Type value is the gateway's type
// (parameters allowed).
func hasCtype(ctype []byte) bool {
	ct := bytes.TrimSpace(ctype)
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = bytes.TrimSpace(ct[:i])
	}
	return bytes.EqualFold(ct, []byte(gwCtype))
}

// isGatewayPath reports whether the path of a request-target (origin or
// absolute form) ends in /gateway.dll.
func isGatewayPath(target []byte) bool {
	p := target
	if i := bytes.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	const suffix = "/gateway.dll"
	return len(p) >= len(suffix) && bytes.EqualFold(p[len(p)-len(suffix):], []byte(suffix))
}

// sessionKey turns a gateway session id into the key of the embedded
// session: the part before the first dot, which pidgin keeps as the session
// id (the full id may change from one answer to the next). ok is false for
// an empty, overlong or non-token id.
func sessionKey(id string) (key string, ok bool) {
	if i := strings.IndexByte(id, '.'); i >= 0 {
		id = id[:i]
	}
	if id == "" || len(id) > maxSessionID {
		return "", false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return "", false
		}
	}
	return id, true
}

// urlSession returns the SessionID query parameter of a request-target:
// present is true when the parameter is there, ok when it is a valid id.
func urlSession(target string) (key string, present, ok bool) {
	i := strings.IndexByte(target, '?')
	if i < 0 {
		return "", false, false
	}
	q := target[i+1:]
	if j := strings.IndexByte(q, '#'); j >= 0 {
		q = q[:j]
	}
	for q != "" {
		var p string
		p, q, _ = strings.Cut(q, "&")
		name, val, _ := strings.Cut(p, "=")
		if strings.EqualFold(name, "SessionID") {
			key, ok = sessionKey(val)
			return key, true, ok
		}
	}
	return "", false, false
}

// parseGatewayField reads an X-MSN-Messenger value:
// "SessionID=<id>; GW-IP=<ip>[; Session=close]".
func parseGatewayField(v []byte) gwInfo {
	g := gwInfo{present: v != nil}
	for len(v) > 0 {
		var p []byte
		if i := bytes.IndexByte(v, ';'); i >= 0 {
			p, v = v[:i], v[i+1:]
		} else {
			p, v = v, nil
		}
		name, val, _ := bytes.Cut(bytes.TrimSpace(p), []byte("="))
		switch {
		case bytes.EqualFold(name, []byte("SessionID")):
			if k, ok := sessionKey(string(val)); ok {
				g.session = k
			} else {
				g.bad = true
			}
		case bytes.EqualFold(name, []byte("Session")):
			g.close = bytes.EqualFold(bytes.TrimSpace(val), []byte("close"))
		}
	}
	return g
}

// gwStream returns the embedded MSNP stream of key, reusing the last one.
func (c *conn) gwStream(key string) analyzer.Stream {
	g := &c.gw
	if g.stream == nil || g.key != key {
		g.key, g.stream = key, c.s.Embed(gwProto, key)
	}
	return g.stream
}

// gwRequest starts a gateway request whose head was just parsed: its body
// goes to the session the URL names or, without one, is held for the
// response.
func (c *conn) gwRequest(t *txn) {
	g := &c.gw
	g.reqOn = t.gw
	if !t.gw {
		return
	}
	g.reqID, g.reqKey = t.id, t.gwKey
	if t.gwKey != "" {
		return
	}
	if g.heldOn && len(g.held) > 0 {
		c.s.Anomaly("http_msn_gateway_unanswered", "a gateway request body was dropped: a second request without SessionID came before its answer")
	}
	g.held, g.heldOn, g.heldID, g.heldLost = g.held[:0], true, t.id, false
}

// gwReqBody takes decoded request body bytes.
func (c *conn) gwReqBody(p []byte) {
	g := &c.gw
	if !g.reqOn {
		return
	}
	if g.reqKey != "" {
		c.gwStream(g.reqKey).Feed(flow.Orig, p)
		return
	}
	if !g.heldOn || g.heldID != g.reqID || g.heldLost {
		return
	}
	if len(g.held)+len(p) > maxHeld {
		g.heldLost, g.held = true, g.held[:0]
		c.s.Anomaly("http_msn_gateway_buffer_limit", "gateway open request body over "+strconv.Itoa(maxHeld)+" bytes before its answer")
		return
	}
	g.held = append(g.held, p...)
}

// gwResponse starts the response to t, whose head carried the
// X-MSN-Messenger field value v (nil when absent), with status status.
func (c *conn) gwResponse(t *txn, hasReq bool, status int, v []byte) {
	g := &c.gw
	info := parseGatewayField(v)
	g.respOn, g.respClose = false, false
	if !info.present && !(hasReq && t.gw) {
		return
	}
	if info.bad {
		c.s.Anomaly("http_msn_gateway_session_id", "malformed SessionID in X-MSN-Messenger")
	}
	key := info.session
	if hasReq && t.gwKey != "" {
		key = t.gwKey
	}
	c.gwReport(t, key, status, info.present)
	if key == "" {
		if g.heldOn && hasReq && g.heldID == t.id {
			g.heldOn = false
		}
		if g.reqOn && hasReq && g.reqID == t.id {
			g.reqOn = false
		}
		return
	}
	if g.heldOn && hasReq && g.heldID == t.id {
		g.heldOn = false
		if len(g.held) > 0 && !g.heldLost {
			c.gwStream(key).Feed(flow.Orig, g.held)
		}
		g.held = g.held[:0]
	}
	if g.reqOn && hasReq && g.reqID == t.id && g.reqKey == "" && !g.heldLost {
		// The answer came before the end of the request body: the rest
		// goes straight to the session.
		g.reqKey = key
	}
	g.respOn, g.respKey, g.respClose = true, key, info.close
}

// gwReport writes the connection's tunnel event, once, and labels the flow
// as MSN.
func (c *conn) gwReport(t *txn, key string, status int, confirmed bool) {
	g := &c.gw
	if g.reported {
		return
	}
	g.reported = true
	c.s.SetService(gwService, gwProduct)
	out := event.Pending
	switch {
	case status == 0:
	case status >= 200 && status < 300 && confirmed:
		out = event.Success
	case status >= 500:
		out = event.Failure
	case status >= 200:
		out = event.Refused
	}
	target := "msnp gateway"
	if key != "" {
		target += " " + key
	}
	f := make(map[string]any, 3)
	if t.host != "" {
		f["hostname"] = t.host
	}
	if t.url != "" {
		f["url"] = t.url
	}
	if t.method != "" {
		f["http_method"] = t.method
	}
	c.s.Emit(event.Event{
		Kind: event.Tunnel, Dir: flow.Resp, Service: gwService, Product: gwProduct, Fields: f,
		Tunnel: &event.TunnelInfo{Kind: "http_tunnel", Target: target, Outcome: out},
	})
}

// gwRespBody takes decoded response body bytes.
func (c *conn) gwRespBody(p []byte) {
	if g := &c.gw; g.respOn {
		c.gwStream(g.respKey).Feed(flow.Resp, p)
	}
}

// gwFinish ends the current response; Session=close ends the session.
func (c *conn) gwFinish() {
	g := &c.gw
	if g.respOn && g.respClose {
		c.gwStream(g.respKey).Close()
		g.stream = nil
	}
	g.respOn, g.respClose = false, false
}

// gwReqDone ends the current request body.
func (c *conn) gwReqDone() { c.gw.reqOn = false }

// gwGap stops feeding the body of dir: the embedded stream cannot be told
// about lost bytes.
func (c *conn) gwGap(dir flow.Dir) {
	g := &c.gw
	if dir == flow.Orig && g.reqOn {
		g.reqOn = false
		if g.heldOn && g.heldID == g.reqID {
			g.heldLost, g.held = true, g.held[:0]
		}
		c.s.Anomaly("http_msn_gateway_gap", "capture gap in a gateway request body")
	}
	if dir == flow.Resp && g.respOn {
		g.respOn = false
		c.s.Anomaly("http_msn_gateway_gap", "capture gap in a gateway response body")
	}
}

// gwEnd handles a held open request that got no answer: its commands still
// show who tried to sign on, so they go to a session of their own, keyed by
// this flow.
func (c *conn) gwEnd(pendingReq *txn) {
	g := &c.gw
	if pendingReq != nil && !g.reported {
		c.gwReport(pendingReq, pendingReq.gwKey, 0, false)
	}
	if g.heldOn && len(g.held) > 0 && !g.heldLost {
		key := "unanswered-" + strconv.FormatUint(c.s.Flow().ID, 10)
		st := c.gwStream(key)
		st.Feed(flow.Orig, g.held)
		st.Close()
		g.stream = nil
	}
	g.heldOn, g.held = false, nil
}
