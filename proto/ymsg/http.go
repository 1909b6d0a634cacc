package ymsg

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/httpwire"
)

// Errors returned by the ymsg_http analyzer's Feed.
var (
	// ErrHTTPHead means a request or response head is malformed or over a
	// limit.
	ErrHTTPHead = errors.New("ymsg: bad http head")
	// ErrHTTPBody means a chunked body is malformed.
	ErrHTTPBody = errors.New("ymsg: bad http body")
	// ErrHTTPPipeline means more requests wait for responses than the
	// analyzer keeps.
	ErrHTTPPipeline = errors.New("ymsg: too many pipelined http requests")
	// ErrHTTPUpload means a /notifyft body does not start with a YMSG
	// packet.
	ErrHTTPUpload = errors.New("ymsg: notifyft body is not a ymsg packet")
)

// httpLimits bound heads below the engine's per-direction buffer.
var httpLimits = httpwire.Limits{MaxLine: 8 << 10, MaxHeaders: 100, MaxHeaderBytes: 32 << 10}

// Bounds of the per-connection state.
const (
	httpMaxPending = 8    // requests waiting for a response
	httpMaxForm    = 2048 // kept bytes of a POST /config/ncclogin body
	httpMaxReply   = 128  // kept bytes of a login response body
	httpMaxSeen    = 16   // distinct cookies remembered for de-duplication
)

// Direction states.
const (
	httpStHead uint8 = iota
	httpStBody
	httpStLost
)

// httpTxn is one request and what its response needs to finish it.
type httpTxn struct {
	form     uint8
	path     string // without the query: the login URL carries the password
	url      string // the whole target, kept for /notifyft only
	hostname string
	user     string
	up       *httpUpload
}

// httpUpload is a /notifyft body being received.
type httpUpload struct {
	head   []byte // the YMSG packet before the file bytes (bounded)
	ft     httpFT
	parsed bool
	failed bool
	raw    bool // the body is the bare file
	length int64
	file   *analyzer.File
}

// httpConn is the state of one Yahoo HTTP flow.
type httpConn struct {
	s       *analyzer.Session
	hdrs    []httpwire.Header
	state   [2]uint8
	body    [2]httpwire.Body
	pending [httpMaxPending]httpTxn
	head, n int
	cur     httpTxn // the request the response being read answers
	curResp bool    // a response is being read
	status  int
	reply   []byte      // start of a login response body
	form    []byte      // POST ncclogin body
	oform   uint8       // form of the request whose body is being read
	oup     *httpUpload // its upload, if /notifyft
	user    string      // the Yahoo id, once known
	tunnel  bool        // the tunnel event was written
	seen    []string
	cookies []httpCookie
	onOrig  func([]byte)
	onResp  func([]byte)
}

func newHTTPConn(s *analyzer.Session) analyzer.Conn {
	c := &httpConn{s: s, hdrs: make([]httpwire.Header, 0, 16)}
	c.onOrig, c.onResp = c.origBody, c.respBody
	return c
}

// Feed parses heads and bodies of one direction until the data runs out or
// a head is incomplete.
func (c *httpConn) Feed(dir flow.Dir, data []byte) (int, error) {
	d := dir & 1
	n := 0
	for n < len(data) {
		switch c.state[d] {
		case httpStLost:
			return len(data), nil
		case httpStBody:
			out := c.onOrig
			if d == flow.Resp {
				out = c.onResp
			}
			m, done, err := c.body[d].Feed(data[n:], out)
			n += m
			if err != nil {
				return n, fmt.Errorf("%w: %w", ErrHTTPBody, err)
			}
			if done {
				c.bodyDone(d)
			}
		default:
			var m int
			var err error
			if d == flow.Orig {
				m, err = c.request(data[n:])
			} else {
				m, err = c.response(data[n:])
			}
			if err != nil {
				return n, err
			}
			if m == 0 {
				return n, nil
			}
			n += m
		}
	}
	return n, nil
}

// request parses one request head.
func (c *httpConn) request(b []byte) (int, error) {
	req, n, err := httpwire.ParseRequestHead(b, httpLimits, c.hdrs)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrHTTPHead, err)
	}
	if n == 0 {
		return 0, nil
	}
	c.hdrs = req.Headers[:0]
	if c.n == httpMaxPending {
		return 0, ErrHTTPPipeline
	}
	c.s.Confirm()
	post := string(req.Method) == "POST"
	host, path, query := httpSplitTarget(req.Target)
	if h := req.Get("host"); h != nil {
		host = h
	}
	t := httpTxn{form: httpFormOf(post, req.Target), path: string(path[:min(len(path), 256)])}
	t.hostname, _ = httpHostPort(host, c.s.Flow().Resp.Port())
	if !c.tunnel {
		c.tunnel = true
		hn, port := httpHostPort(host, c.s.Flow().Resp.Port())
		if hn == "" {
			hn = c.s.Flow().Resp.Addr().String()
		}
		c.s.Emit(event.Event{Kind: event.Tunnel, Dir: flow.Orig,
			Fields: map[string]any{"form": httpFormNames[t.form], "hostname": t.hostname},
			Tunnel: &event.TunnelInfo{Kind: "http_tunnel", Target: net.JoinHostPort(hn, strconv.Itoa(int(port))), Outcome: event.Success}})
	}
	switch t.form {
	case httpFormNCCLogin, httpFormLogin:
		if u, ok := httpParam(query, "login"); ok {
			t.user = httpUnescape(u)
			c.user = t.user
		}
		if pw, ok := httpParam(query, "passwd"); ok {
			c.password(t.user, httpUnescape(pw))
		}
	case httpFormNotifyFT:
		t.url = string(req.Target[:min(len(req.Target), 1024)])
		t.user = c.user
	}
	c.cookies = c.cookies[:0]
	for _, h := range req.Headers {
		if equalFold(h.Name, "cookie") {
			c.cookies = httpCookies(c.cookies, h.Value, false)
		}
	}
	c.emitCookies(flow.Orig, c.user)
	length, chunked := req.Framing()
	if t.form == httpFormNotifyFT {
		t.up = &httpUpload{length: length}
		if chunked {
			t.up.length = -1
		}
	}
	c.form = c.form[:0]
	c.oform, c.oup = t.form, t.up
	c.pending[(c.head+c.n)%httpMaxPending] = t
	c.n++
	c.body[flow.Orig] = httpwire.NewBody(length, chunked, false)
	c.state[flow.Orig] = httpStBody
	if c.body[flow.Orig].Done() {
		c.bodyDone(flow.Orig)
	}
	return n, nil
}

// last returns the newest pending request (the one whose body is being
// received), or nil.
func (c *httpConn) last() *httpTxn {
	if c.n == 0 {
		return nil
	}
	return &c.pending[(c.head+c.n-1)%httpMaxPending]
}

// password reports the plaintext password of a login form.
func (c *httpConn) password(user, pw string) {
	if pw == "" {
		return
	}
	c.s.Emit(event.Event{Kind: event.Credential, Dir: flow.Orig, Users: event.Users{Local: user},
		Credential: c.s.Secret(event.Plaintext, user, "password", pw)})
}

// emitCookies reports the Y and T cookies in c.cookies not reported yet on
// this connection.
func (c *httpConn) emitCookies(dir flow.Dir, user string) {
	for _, k := range c.cookies {
		key := k.name + "=" + k.value
		dup := false
		for _, s := range c.seen {
			dup = dup || s == key
		}
		if dup {
			continue
		}
		if len(c.seen) < httpMaxSeen {
			c.seen = append(c.seen, key)
		}
		what := "y_cookie"
		if k.name == "T" {
			what = "t_cookie"
		}
		c.s.Emit(event.Event{Kind: event.Credential, Dir: dir, Users: event.Users{Local: user},
			Credential: c.s.Secret(event.SessionToken, user, what, k.value)})
	}
}

// origBody receives the decoded bytes of a request body.
func (c *httpConn) origBody(p []byte) {
	switch {
	case c.oup != nil:
		c.upload(c.oup, p)
	case c.oform == httpFormNCCLogin && len(c.form) < httpMaxForm:
		c.form = append(c.form, p[:min(len(p), httpMaxForm-len(c.form))]...)
	}
}

// upload receives /notifyft body bytes: the YMSG packet, then the file.
func (c *httpConn) upload(u *httpUpload, p []byte) {
	switch {
	case u.file != nil:
		u.file.Write(p)
		return
	case u.failed:
		return
	}
	take := min(len(p), httpMaxFTHead-len(u.head))
	u.head = append(u.head, p[:take]...)
	ft, ok, err := httpParseFT(u.head)
	switch {
	case errors.Is(err, ErrHTTPUpload):
		// Not a YMSG packet: the body is the bare file.
		u.raw = true
		c.openFile(u, "", u.length)
		u.file.Write(u.head)
		u.file.Write(p[take:])
		u.head = nil
	case ok:
		u.ft, u.parsed = ft, true
		if ft.service != httpYMSGSvcFT {
			c.s.Anomaly("ymsg_http_notifyft_service", fmt.Sprintf("notifyft packet has service 0x%x, not 0x46", ft.service))
		}
		size := ft.size
		if size < 0 && u.length >= 0 {
			size = max(u.length-int64(ft.dataOffset), 0)
		}
		c.openFile(u, ft.name, size)
		u.file.Write(u.head[ft.dataOffset:])
		u.file.Write(p[take:])
		u.head = nil
	case len(u.head) == httpMaxFTHead:
		u.failed = true
		c.s.Anomaly("ymsg_http_notifyft_head", fmt.Sprintf("no file data marker in the first %d bytes", httpMaxFTHead))
	}
}

// openFile starts tracking the uploaded file.
func (c *httpConn) openFile(u *httpUpload, name string, size int64) {
	u.file = c.s.File(name, size, event.FileTransfer)
}

// bodyDone moves a direction on after its body ended.
func (c *httpConn) bodyDone(d flow.Dir) {
	c.state[d] = httpStHead
	if d == flow.Resp {
		c.finish()
		return
	}
	if c.oform == httpFormNCCLogin && len(c.form) > 0 {
		if u, ok := httpParam(c.form, "login"); ok {
			c.user = httpUnescape(u)
			if t := c.last(); t != nil {
				t.user = c.user
			}
		}
		if pw, ok := httpParam(c.form, "passwd"); ok {
			c.password(c.user, httpUnescape(pw))
		}
		c.form = c.form[:0]
	}
	if c.oup != nil {
		c.closeUpload(c.oup)
	}
	c.oform, c.oup = httpFormNone, nil
}

// closeUpload ends the file of an upload body (truncated if short).
func (c *httpConn) closeUpload(u *httpUpload) {
	if u.file == nil && !u.failed && len(u.head) > 0 {
		c.s.Anomaly("ymsg_http_notifyft_short", "notifyft body ended inside the ymsg packet")
		u.failed = true
	}
	if u.file != nil && !u.file.Closed() {
		u.file.Close(analyzer.FileClosed)
	}
}

// response parses one response head.
func (c *httpConn) response(b []byte) (int, error) {
	resp, n, err := httpwire.ParseResponseHead(b, httpLimits, c.hdrs)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrHTTPHead, err)
	}
	if n == 0 {
		return 0, nil
	}
	c.hdrs = resp.Headers[:0]
	c.s.Confirm()
	if resp.Status < 200 {
		return n, nil
	}
	c.cur, c.curResp = httpTxn{}, true
	if c.n > 0 {
		c.cur = c.pending[c.head]
		c.pending[c.head] = httpTxn{}
		c.head = (c.head + 1) % httpMaxPending
		c.n--
	}
	c.status = resp.Status
	c.reply = c.reply[:0]
	c.cookies = c.cookies[:0]
	for _, h := range resp.Headers {
		if equalFold(h.Name, "set-cookie") {
			c.cookies = httpCookies(c.cookies, h.Value, true)
		}
	}
	c.emitCookies(flow.Resp, c.cur.user)
	method := []byte("GET")
	if c.cur.form == httpFormNotifyFT {
		method = []byte("POST")
	}
	length, chunked, closed := resp.Framing(method)
	c.body[flow.Resp] = httpwire.NewBody(length, chunked, closed)
	c.state[flow.Resp] = httpStBody
	if c.body[flow.Resp].Done() {
		c.bodyDone(flow.Resp)
	}
	return n, nil
}

// respBody keeps the start of a login response body.
func (c *httpConn) respBody(p []byte) {
	if (c.cur.form == httpFormNCCLogin || c.cur.form == httpFormLogin) && len(c.reply) < httpMaxReply {
		c.reply = append(c.reply, p[:min(len(p), httpMaxReply-len(c.reply))]...)
	}
}

// finish writes the record of the response just read.
func (c *httpConn) finish() {
	if !c.curResp {
		return
	}
	c.curResp = false
	c.emitTxn(&c.cur, c.status, true)
	c.cur = httpTxn{}
}

// emitTxn writes the login or file record of a transaction; answered is
// false for a request that got no response.
func (c *httpConn) emitTxn(t *httpTxn, status int, answered bool) {
	f := map[string]any{"form": httpFormNames[t.form], "hostname": t.hostname}
	if answered {
		f["status"] = status
	}
	switch t.form {
	case httpFormNCCLogin, httpFormLogin:
		f["url"] = t.path
		li := &event.LoginInfo{User: t.user, Outcome: event.Pending}
		if answered {
			li.Outcome, li.Reason = httpLoginOutcome(status, c.reply)
		}
		dir := flow.Orig
		if answered {
			dir = flow.Resp
		}
		c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: event.Users{Local: t.user}, Login: li, Fields: f})
	case httpFormNotifyFT:
		f["url"] = t.url
		fi := &event.FileInfo{Outcome: event.Pending}
		var users event.Users
		if u := t.up; u != nil {
			fi.Name = u.ft.name
			fi.Size = max(u.ft.size, 0)
			users = event.Users{Local: u.ft.from, Peer: u.ft.to}
			if u.raw {
				f["raw"] = true
			}
		}
		if answered {
			fi.Outcome = event.Success
			if status >= 300 {
				fi.Outcome = event.Failure
			}
		}
		c.s.Emit(event.Event{Kind: event.File, Dir: flow.Orig, Feature: event.FileTransfer, Users: users, File: fi, Fields: f})
	}
}

// httpLoginOutcome reads a login answer: the body starts "OK" or
// "ERROR…" (e.g. "ERROR: Invalid NCC Login").
func httpLoginOutcome(status int, body []byte) (event.Outcome, string) {
	line := body
	if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	switch {
	case status >= 300:
		return event.Failure, "http " + strconv.Itoa(status)
	case hasPrefix(line, "OK"):
		return event.Success, ""
	case hasPrefix(line, "ERROR"):
		return event.Failure, httpPrintable(line)
	}
	return event.Failure, "unrecognised answer"
}

// httpPrintable returns b with bytes outside printable ASCII as '?'.
func httpPrintable(b []byte) string {
	out := make([]byte, len(b))
	for i, ch := range b {
		if ch < 0x20 || ch > 0x7e {
			ch = '?'
		}
		out[i] = ch
	}
	return string(out)
}

// httpHostPort splits a Host value (or absolute-form authority) into the
// host name and port, defaulting the port to def.
func httpHostPort(h []byte, def uint16) (string, uint16) {
	h = h[:min(len(h), 256)]
	if i := bytes.LastIndexByte(h, '@'); i >= 0 {
		h = h[i+1:]
	}
	host, port := h, def
	if i := bytes.LastIndexByte(h, ':'); i >= 0 && bytes.IndexByte(h[i:], ']') < 0 {
		if p, err := strconv.ParseUint(string(h[i+1:]), 10, 16); err == nil {
			port = uint16(p)
		}
		host = h[:i]
	}
	host = bytes.Trim(host, "[]")
	return httpPrintable(host), port
}

// Gap skips lost bytes inside a body of known length (the upload's file is
// marked); elsewhere the direction is abandoned.
func (c *httpConn) Gap(dir flow.Dir, size int) {
	d := dir & 1
	if c.state[d] == httpStBody && c.body[d].Skip(int64(size)) {
		if u := c.oup; d == flow.Orig && u != nil {
			if u.file != nil {
				u.file.Gap(size)
			} else {
				u.failed = true
			}
		}
		if c.body[d].Done() {
			c.bodyDone(d)
		}
		return
	}
	c.state[d] = httpStLost
}

// End finishes what the connection close leaves open: a close-delimited
// response, an upload cut short, requests without an answer.
func (c *httpConn) End(flow.EndReason) {
	if c.state[flow.Resp] == httpStBody {
		c.finish()
	}
	if c.state[flow.Orig] == httpStBody && c.oup != nil {
		c.closeUpload(c.oup)
		c.oup = nil
	}
	for ; c.n > 0; c.n-- {
		c.emitTxn(&c.pending[c.head], 0, false)
		c.head = (c.head + 1) % httpMaxPending
	}
}
