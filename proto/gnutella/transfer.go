package gnutella

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/httpwire"
)

// maxQueued bounds the requests waiting for their responses (pipelining).
const maxQueued = 8

// request is a transfer request waiting for its response.
type request struct {
	method string
	target string // bounded by maxURI
	name   string
	urn    string
}

// transfer is the HTTP side of a Gnutella flow: downloads by /get/,
// /uri-res/ or after a GIV.
type transfer struct {
	reqDir  flow.Dir
	giv     bool // the originator opened with GIV: requests come from the responder
	givDone bool
	queue   []request
	hdrs    []httpwire.Header

	// The response body being read, valid iff file != nil.
	body  httpwire.Body
	file  *analyzer.File
	urn   []byte // SHA-1 the URN announces
	whole bool   // the body is the whole file (200 without range, or a range covering it)
	close bool   // body ends with the connection
}

func (c *conn) ensureHTTP(reqDir flow.Dir) {
	if c.http == nil {
		c.http = &transfer{reqDir: reqDir, hdrs: make([]httpwire.Header, 0, 32)}
	}
}

// feedHTTP parses requests, responses and bodies.
func (c *conn) feedHTTP(dir flow.Dir, data []byte) (int, error) {
	t := c.http
	if t.giv && dir == flow.Orig && !t.givDone {
		n := headEnd(data[:min(len(data), maxLine)])
		if n == 0 {
			if len(data) >= maxLine {
				return 0, ErrGIV
			}
			return 0, nil
		}
		line, _ := nextLine(data[:n])
		g, err := parseGIV(line)
		if err != nil {
			return 0, err
		}
		t.givDone = true
		c.giv(dir, g)
		m, err := c.feedHTTP(dir, data[n:])
		return n + m, err
	}
	n := 0
	for n < len(data) && c.st[dir] == dsHTTP {
		var m int
		var err error
		if dir == t.reqDir {
			m, err = c.httpRequest(dir, data[n:])
		} else {
			m, err = c.httpResponse(dir, data[n:])
		}
		if err != nil {
			if n == 0 && c.events == 0 && !c.confirmed() {
				return 0, err
			}
			c.anomalyOnce("gnutella_http_error", err.Error())
			c.st[dir] = dsSkip
			return len(data), nil
		}
		if m == 0 {
			break
		}
		n += m
	}
	if c.st[dir] != dsHTTP {
		return len(data), nil
	}
	return n, nil
}

// confirmed reports whether anything Gnutella was seen on the flow.
func (c *conn) confirmed() bool { return c.product != "" || c.hsSeen > 0 || len(c.counts) > 0 }

// giv reports a push connection's opening line.
func (c *conn) giv(dir flow.Dir, g giv) {
	c.s.Confirm()
	sid := hex.EncodeToString(g.servent[:])
	fields := map[string]any{"giv": true, "index": g.index, "servent_id": sid}
	if x := c.s.Expected(); x != nil && x.Reason == "gnutella_push" {
		fields["push_matched"] = x.Data["servent_id"] == sid
	}
	f := c.s.Flow()
	c.s.Emit(event.Event{Kind: event.Direct, Dir: dir, Feature: event.Push, Fields: fields,
		File:   nil,
		Direct: &event.DirectInfo{Addrs: []netip.AddrPort{f.Orig}, Outcome: event.Accepted}})
	if len(g.name) > 0 {
		c.counts["giv"]++
	}
}

// httpRequest parses one request head.
func (c *conn) httpRequest(dir flow.Dir, d []byte) (int, error) {
	t := c.http
	req, n, err := httpwire.ParseRequestHead(d, httpwire.Limits{MaxHeaderBytes: maxHead}, t.hdrs)
	if err != nil || n == 0 {
		return 0, err
	}
	if l, chunked := req.Framing(); l > 0 || chunked {
		// Transfer requests carry no body; anything else is not followed.
		c.st[dir] = dsSkip
	}
	r := request{method: text(req.Method, 16), target: text(req.Target, maxURI)}
	r.name = fileNameOf(req.Target, nil)
	if formOf(req.Target) == formURIRes {
		if q := bytes.IndexByte(req.Target, '?'); q >= 0 {
			r.urn = canonURN(req.Target[q+1:])
		}
	}
	marker := false
	for _, h := range req.Headers {
		marker = marker || isMarker(h.Name, h.Value)
	}
	if f := formOf(req.Target); f == formURIRes || f == formGnut || marker || t.giv {
		c.s.Confirm()
	}
	if p := productOf(req.Get("User-Agent")); p != "" && c.product == "" {
		c.product = p
		c.s.SetService("gnutella", p)
	}
	c.altLocs(dir, req.Headers)
	if len(t.queue) >= maxQueued {
		t.queue = t.queue[1:]
	}
	t.queue = append(t.queue, r)
	c.counts["requests"]++
	return n, nil
}

// httpResponse parses a response head, or feeds the body being read.
func (c *conn) httpResponse(dir flow.Dir, d []byte) (int, error) {
	t := c.http
	if t.file != nil {
		n, done, err := t.body.Feed(d, t.file.Write)
		if err != nil {
			return n, err
		}
		if done {
			c.finish(analyzer.FileClosed)
		}
		return n, nil
	}
	resp, n, err := httpwire.ParseResponseHead(d, httpwire.Limits{MaxHeaderBytes: maxHead}, t.hdrs)
	if err != nil || n == 0 {
		return 0, err
	}
	if resp.Status < 200 {
		return n, nil
	}
	var r request
	if len(t.queue) > 0 {
		r, t.queue = t.queue[0], t.queue[1:]
	}
	if p := productOf(resp.Get("Server")); p != "" && c.product == "" {
		c.product = p
		c.s.SetService("gnutella", p)
	}
	c.s.Confirm()
	c.altLocs(dir, resp.Headers)
	urn := r.urn
	for _, h := range resp.Headers {
		if bytes.EqualFold(h.Name, []byte("X-Gnutella-Content-URN")) || bytes.EqualFold(h.Name, []byte("X-Content-URN")) {
			for _, v := range bytes.Split(h.Value, []byte(",")) {
				if u := canonURN(bytes.TrimSpace(v)); u != "" && urn == "" {
					urn = u
				}
			}
		}
	}
	name := fileNameOf([]byte(r.target), resp.Get("Content-Disposition"))
	if name == "" {
		name = r.name
	}
	if name == "" {
		name = urn
	}
	length, chunked, closeDelim := resp.Framing([]byte(r.method))
	size := length
	fields := map[string]any{"status": resp.Status}
	if r.method != "" {
		fields["method"], fields["uri"] = r.method, r.target
	}
	whole := resp.Status == 200 && !chunked && !closeDelim
	if cr := resp.Get("Content-Range"); cr != nil {
		fields["content_range"] = text(cr, 64)
		first, last, total, ok := contentRange(cr)
		whole = ok && first == 0 && total == last+1
		if ok && total >= 0 {
			size = total
		}
	}
	if v := resp.Get("Server"); v != nil {
		fields["server"] = text(v, 128)
	}
	out := event.Accepted
	switch {
	case resp.Status == 503:
		out = event.Refused
	case resp.Status >= 300:
		out = event.Failure
	}
	fi := &event.FileInfo{Name: text([]byte(name), analyzer.MaxFileName), Size: max(size, 0), Hash: urn, Outcome: out}
	c.s.Emit(event.Event{Kind: event.File, Dir: dir, Feature: event.GetFile, File: fi, Fields: fields})
	if r.method == "HEAD" || out != event.Accepted && length == 0 && !chunked && !closeDelim {
		return n, nil
	}
	t.body = httpwire.NewBody(length, chunked, closeDelim)
	t.close = closeDelim
	announced := int64(-1)
	if !chunked && !closeDelim {
		announced = length
	}
	t.file = c.s.File(name, announced, event.GetFile)
	t.whole = whole && out == event.Accepted
	t.urn = sha1OfURN([]byte(urn))
	if t.body.Done() {
		c.finish(analyzer.FileClosed)
	}
	return n, nil
}

// finish closes the body's file and checks its SHA-1 against the URN when
// the whole file passed.
func (c *conn) finish(state analyzer.FileState) {
	t := c.http
	f := t.file
	t.file = nil
	f.Close(state)
	if !t.whole || t.urn == nil || state != analyzer.FileClosed {
		return
	}
	got := f.SHA1()
	if got == nil {
		return
	}
	if !bytes.Equal(got, t.urn) {
		c.s.Anomaly("gnutella_urn_mismatch", fmt.Sprintf("content SHA-1 %x differs from the announced urn:sha1 (%x)", got, t.urn))
		return
	}
	c.counts["urn_verified"]++
}

// gap notes missing bytes in a body; elsewhere HTTP parsing stops.
func (t *transfer) gap(c *conn, dir flow.Dir, size int) {
	if dir != t.reqDir && t.file != nil {
		t.file.Gap(size)
		if t.body.Skip(int64(size)) {
			if t.body.Done() {
				c.finish(analyzer.FileTruncated)
			}
			return
		}
		c.finish(analyzer.FileTruncated)
	}
	c.st[dir] = dsSkip
}

// end closes a body still open when the flow ends.
func (t *transfer) end(c *conn) {
	if t.file == nil {
		return
	}
	f := c.s.Flow()
	state := analyzer.FileTruncated
	if t.close && f.SawFIN[flow.Orig] && f.SawFIN[flow.Resp] && !f.SawRST {
		state = analyzer.FileClosed
	}
	c.finish(state)
}

// altLocs reports the alternate sources a message names (X-Alt,
// X-Gnutella-Alternate-Location: "http://ip:port/uri-res/... date").
func (c *conn) altLocs(dir flow.Dir, hs []httpwire.Header) {
	var addrs []netip.AddrPort
	for _, h := range hs {
		if !bytes.EqualFold(h.Name, []byte("X-Alt")) && !bytes.EqualFold(h.Name, []byte("X-Gnutella-Alternate-Location")) {
			continue
		}
		for _, item := range bytes.Split(h.Value, []byte(",")) {
			if len(addrs) >= maxAddrs {
				break
			}
			item = bytes.TrimSpace(item)
			item = bytes.TrimPrefix(item, []byte("http://"))
			if i := bytes.IndexAny(item, "/ \t"); i >= 0 {
				item = item[:i]
			}
			if ap, ok := parseAddr(item); ok && !containsAddr(addrs, ap) {
				addrs = append(addrs, ap)
			}
		}
	}
	if len(addrs) > 0 {
		c.s.Emit(event.Event{Kind: event.Direct, Dir: dir, Feature: event.GetFile, Fields: map[string]any{"source": "alt_locations"},
			Direct: &event.DirectInfo{Addrs: addrs, Outcome: event.Offered}})
	}
}
