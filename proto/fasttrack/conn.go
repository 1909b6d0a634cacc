package fasttrack

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/httpwire"
)

// ipProtoUDP is UDP's IP protocol number (IANA).
const ipProtoUDP = 17

// httpLimits bound heads well below the engine's per-direction buffer.
var httpLimits = httpwire.Limits{MaxLine: 4 << 10, MaxHeaders: 64, MaxHeaderBytes: 16 << 10}

const maxPending = 8 // pipelined requests waiting for their response

// Direction states of the TCP side.
const (
	stStart uint8 = iota // nothing parsed yet: a GIVE line may come first
	stHead
	stBody
	stLost // a gap the body could not skip: the direction is ignored
)

// request is what a response needs from the request it answers.
type request struct {
	head   bool // HEAD: the response has no body
	target target
}

// conn is the per-flow state of the fasttrack analyzer: UDP discovery
// datagrams, or the HTTP side (with an optional GIVE line first).
type conn struct {
	s       *analyzer.Session
	udp     bool
	reqDir  flow.Dir // the direction carrying requests (Resp after GIVE)
	hdrs    []httpwire.Header
	state   [2]uint8
	body    [2]httpwire.Body
	pending [maxPending]request
	head, n int
	file    *analyzer.File // the response body being received
	users   [2]string      // X-Kazaa-Username per direction
	addrs   [2]string      // last disclosed X-Kazaa-IP/SupernodeIP pair per direction
	product string
	unknown bool // an unknown datagram type was reported
	onBody  func([]byte)
}

func newConn(s *analyzer.Session) analyzer.Conn {
	f := s.Flow()
	c := &conn{s: s, udp: f != nil && f.Proto == ipProtoUDP, hdrs: make([]httpwire.Header, 0, 16)}
	c.onBody = c.bodyData
	return c
}

// spyware marks every FastTrack record: every FastTrack client of 2002
// bundled adware/spyware (the paper's threat matrix, KaZaA row); the risk
// catalogue reads the field.
func fields(kv ...any) map[string]any {
	m := map[string]any{"bundled_spyware": true}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// Feed parses one datagram (UDP) or the heads and bodies of one direction.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	if c.udp {
		c.datagram(dir, data)
		return len(data), nil
	}
	d := dir & 1
	n := 0
	for n < len(data) {
		switch c.state[d] {
		case stLost:
			return len(data), nil
		case stStart:
			if d == flow.Orig && len(data) > 0 && data[0] == 'G' && (len(data) < 2 || data[1] == 'I') {
				id, m, err := parseGive(data[:min(len(data), maxGive)])
				if err != nil {
					return 0, err
				}
				if m == 0 {
					if len(data) >= maxGive {
						return 0, ErrGive
					}
					return 0, nil
				}
				c.give(id)
				n += m
			}
			c.state[d] = stHead
		case stBody:
			m, done, err := c.body[d].Feed(data[n:], c.onBody)
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
			if d == c.reqDir {
				m, err = c.request(d, data[n:])
			} else {
				m, err = c.response(d, data[n:])
			}
			if err != nil || m == 0 {
				return n, err
			}
			n += m
		}
	}
	return n, nil
}

// give handles the push line: the firewalled uploader connected back to
// the requester, which now sends the requests.
func (c *conn) give(id uint32) {
	c.s.Confirm()
	c.reqDir = flow.Resp
	c.state[flow.Resp] = stHead
	orig := c.s.Flow().Orig
	c.s.Emit(event.Event{Kind: event.Direct, Dir: flow.Orig, Feature: event.Push,
		Direct: &event.DirectInfo{Addrs: []netip.AddrPort{orig}, Outcome: event.Success},
		Fields: fields("message", "GIVE", "push_id", id)})
}

// request parses one request head.
func (c *conn) request(d flow.Dir, b []byte) (int, error) {
	req, n, err := httpwire.ParseRequestHead(b, httpLimits, c.hdrs)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrHTTPHead, err)
	}
	if n == 0 {
		return 0, nil
	}
	c.hdrs = req.Headers[:0]
	if c.n == maxPending {
		return 0, ErrPipeline
	}
	r := request{head: string(req.Method) == "HEAD", target: parseTarget(req.Target)}
	c.pending[(c.head+c.n)%maxPending] = r
	c.n++
	h := c.kazaa(d, req.Headers, "useragent", "user-agent")
	f := h.fields
	f["request"] = clean(req.Method)
	f["target_form"] = r.target.form
	if r.target.form == formIndex {
		f["file_index"] = r.target.index
	}
	c.s.Emit(event.Event{Kind: event.File, Dir: d, Feature: event.GetFile, Users: c.who(), Fields: f,
		File: &event.FileInfo{Name: r.target.fileName(), Hash: r.target.announced(), Outcome: event.Pending}})
	length, chunked := req.Framing()
	c.body[d] = httpwire.NewBody(length, chunked, false)
	if !c.body[d].Done() {
		c.state[d] = stBody
	}
	return n, nil
}

// response parses one response head and starts the file it carries.
func (c *conn) response(d flow.Dir, b []byte) (int, error) {
	resp, n, err := httpwire.ParseResponseHead(b, httpLimits, c.hdrs)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrHTTPHead, err)
	}
	if n == 0 {
		return 0, nil
	}
	c.hdrs = resp.Headers[:0]
	var r request
	if c.n > 0 {
		r = c.pending[c.head]
		c.head, c.n = (c.head+1)%maxPending, c.n-1
	} else {
		r.target.form = formOther
	}
	h := c.kazaa(d, resp.Headers, "server")
	f := h.fields
	f["status"] = resp.Status
	total := int64(-1)
	if cr := resp.Get("content-range"); cr != nil {
		f["content_range"] = clean(cr)
		total = rangeTotal(cr)
	}
	var method []byte
	if r.head {
		method = []byte("HEAD")
	}
	length, chunked, closed := resp.Framing(method)
	if total < 0 && resp.Status == 200 && !chunked && !closed {
		total = length
	}
	out := event.Failure
	switch {
	case resp.Status == 200 || resp.Status == 206:
		out = event.Accepted
	case resp.Status == 503:
		out = event.RateLimited // busy: all upload slots taken
	case resp.Status >= 400:
		out = event.Refused
	}
	fi := &event.FileInfo{Name: r.target.fileName(), Hash: r.target.announced(), Outcome: out}
	if fi.Hash == "" && h.hash != "" {
		fi.Hash = "fasttrack:" + h.hash
	}
	if total > 0 {
		fi.Size = total
	}
	c.s.Emit(event.Event{Kind: event.File, Dir: d, Feature: event.GetFile, Users: c.who(), Fields: f, File: fi})
	c.body[d] = httpwire.NewBody(length, chunked, closed)
	if c.body[d].Done() {
		return n, nil
	}
	c.state[d] = stBody
	if out == event.Accepted {
		size := int64(-1)
		if !chunked && !closed {
			size = length
		}
		name := fi.Name
		if r.target.form == formHash {
			name = r.target.path
		}
		c.file = c.s.File(name, size, event.GetFile)
	}
	return n, nil
}

// bodyData hands response bytes to the file.
func (c *conn) bodyData(p []byte) {
	if c.file != nil {
		c.file.Write(p)
	}
}

// bodyDone ends a body: the file is complete.
func (c *conn) bodyDone(d flow.Dir) {
	c.state[d] = stHead
	if d != c.reqDir && c.file != nil {
		c.file.Close(analyzer.FileClosed)
		c.file = nil
	}
}

// who returns the user names: Local is the originator's, Peer the
// responder's.
func (c *conn) who() event.Users {
	return event.Users{Local: c.users[flow.Orig], Peer: c.users[flow.Resp]}
}

// kazaaHead is what the X-Kazaa headers of one head said.
type kazaaHead struct {
	fields map[string]any
	hash   string // from X-KazaaTag 3
}

// kazaa reads the X-Kazaa headers of a head sent in direction d: the user
// name (a login event, once per name), the network (the product), the
// client's and its supernode's addresses (a direct event: IP disclosure),
// the X-KazaaTag metadata and the client header (one of clientHeaders).
func (c *conn) kazaa(d flow.Dir, hs []httpwire.Header, clientHeaders ...string) kazaaHead {
	out := kazaaHead{fields: fields()}
	f := out.fields
	var user, network, client, ip, snip string
	var tags map[string]string
	var other []string
	for _, h := range hs {
		name := string(h.Name)
		switch {
		case eqFold(name, "x-kazaa-username"):
			user = clean(h.Value)
		case eqFold(name, "x-kazaa-network"):
			network = clean(h.Value)
		case eqFold(name, "x-kazaa-ip"):
			ip = clean(h.Value)
		case eqFold(name, "x-kazaa-supernodeip"):
			snip = clean(h.Value)
		case eqFold(name, "x-kazaa-xferid"):
			f["xfer_id"] = clean(h.Value)
		case eqFold(name, "x-kazaa-xferuid"):
			f["xfer_uid"] = clean(h.Value)
		case eqFold(name, "x-kazaatag"):
			k, v, ok := parseTag(h.Value)
			if !ok {
				c.s.Anomaly("fasttrack_bad_tag", "X-KazaaTag not <number>=<value>")
				continue
			}
			if tags == nil {
				tags = map[string]string{}
			}
			if _, dup := tags[k]; !dup && len(tags) < maxTags {
				tags[k] = v
			}
			if k == "hash" {
				out.hash = v
			}
		case hasPrefixFold(h.Name, "x-kazaa"):
			if len(other) < maxOther {
				other = append(other, clean(h.Name))
			}
		default:
			for _, ch := range clientHeaders {
				if eqFold(name, ch) && client == "" {
					client = clean(h.Value)
				}
			}
		}
	}
	if user != "" || network != "" || ip != "" || snip != "" || tags != nil || other != nil {
		c.s.Confirm()
	}
	if client != "" {
		f["client"] = client
	}
	if network != "" {
		f["network"] = network
	}
	if tags != nil {
		f["tags"] = tags
	}
	if other != nil {
		f["other_headers"] = other
	}
	if p := productOfNetwork(network); p != "" {
		c.setProduct(p)
	} else if p := productOfClient(client); p != "" {
		c.setProduct(p)
	}
	if user != "" && user != c.users[d] {
		c.users[d] = user
		lf := fields("header", "X-Kazaa-Username", "self_asserted", true)
		if network != "" {
			lf["network"] = network
		}
		c.s.Emit(event.Event{Kind: event.Login, Dir: d, Users: c.who(), Fields: lf,
			Login: &event.LoginInfo{User: user, Client: client}})
	}
	if (ip != "" || snip != "") && ip+"|"+snip != c.addrs[d] {
		c.addrs[d] = ip + "|" + snip
		c.disclose(d, ip, snip)
	}
	return out
}

// disclose reports the addresses a head gave away: the sender's own
// (X-Kazaa-IP, often its private address behind NAT) and its supernode's.
func (c *conn) disclose(d flow.Dir, ip, snip string) {
	df := fields()
	var addrs []netip.AddrPort
	if ip != "" {
		df["kazaa_ip"] = ip
		if ap, ok := parseAddr([]byte(ip)); ok {
			addrs = append(addrs, ap)
		} else {
			c.s.Anomaly("fasttrack_bad_address", "X-Kazaa-IP is not an address")
		}
	}
	if snip != "" {
		df["supernode_ip"] = snip
		if ap, ok := parseAddr([]byte(snip)); ok {
			addrs = append(addrs, ap)
		} else {
			c.s.Anomaly("fasttrack_bad_address", "X-Kazaa-SupernodeIP is not an address")
		}
	}
	if addrs == nil {
		return
	}
	c.s.Emit(event.Event{Kind: event.Direct, Dir: d, Feature: event.GetFile, Users: c.who(), Fields: df,
		Direct: &event.DirectInfo{Addrs: addrs, Outcome: event.Offered}})
}

func (c *conn) setProduct(p string) {
	if p != c.product {
		c.product = p
		c.s.SetService(service, p)
	}
}

// datagram handles one UDP discovery datagram.
func (c *conn) datagram(dir flow.Dir, b []byte) {
	m, err := parseUDP(b)
	if err != nil {
		if err == ErrType {
			if !c.unknown {
				c.unknown = true
				c.s.Anomaly("fasttrack_unknown_datagram", "type 0x"+strconv.FormatUint(uint64(b[0]), 16))
			}
			return
		}
		c.s.Anomaly("fasttrack_bad_datagram", err.Error())
		return
	}
	c.s.Confirm()
	f := fields("min_enc_type", m.minEnc)
	var addrs []netip.AddrPort
	out := event.Success
	fl := c.s.Flow()
	peer := fl.Resp // the other end of the datagram's sender
	if dir == flow.Resp {
		peer = fl.Orig
	}
	switch m.typ {
	case udpPing:
		f["message"] = "ping"
		out = event.Pending
		addrs = []netip.AddrPort{peer}
	case udpPong:
		f["message"] = "pong"
		if m.load >= 0 {
			f["load"] = m.load
		}
		sender := fl.Orig
		if dir == flow.Resp {
			sender = fl.Resp
		}
		addrs = []netip.AddrPort{sender}
	case udpPong2:
		f["message"] = "pong2"
		f["id"] = m.id
		f["open"] = m.flag
		out = event.Refused // KaZaA connects only to nodes that answered 0x28
		if m.flag {
			addrs = []netip.AddrPort{m.addr}
		}
	default: // udpAck: an answer to a 0x29, nothing to report
		return
	}
	if m.network != nil {
		nw := string(m.network)
		f["network"] = nw
		if p := productOfNetwork(nw); p != "" {
			c.setProduct(p)
		}
	}
	if addrs == nil {
		addrs = []netip.AddrPort{}
	}
	c.s.Emit(event.Event{Kind: event.Direct, Dir: dir, Fields: f, Direct: &event.DirectInfo{Addrs: addrs, Outcome: out}})
}

// Gap skips missing body bytes (the file records the gap); a gap in a head
// loses the direction.
func (c *conn) Gap(dir flow.Dir, size int) {
	d := dir & 1
	if c.state[d] == stBody && c.body[d].Skip(int64(size)) {
		if d != c.reqDir && c.file != nil {
			c.file.Gap(size)
		}
		if c.body[d].Done() {
			c.bodyDone(d)
		}
		return
	}
	if c.state[d] != stLost {
		c.state[d] = stLost
		if d != c.reqDir && c.file != nil {
			c.file.Gap(size)
		}
		c.s.Anomaly("fasttrack_gap", "bytes missing in an http head: this direction is skipped")
	}
}

// End closes a file still open: the flow ended before its last byte (or a
// close-delimited body ended with the connection).
func (c *conn) End(flow.EndReason) {
	if c.file == nil {
		return
	}
	state := analyzer.FileTruncated
	f := c.s.Flow()
	if c.file.Announced() < 0 && f.SawFIN[flow.Orig] && f.SawFIN[flow.Resp] && !f.SawRST {
		state = analyzer.FileClosed
	}
	c.file.Close(state)
	c.file = nil
}

// eqFold compares ASCII case-insensitively; b is lower case.
func eqFold(a, b string) bool {
	return len(a) == len(b) && hasPrefixFold([]byte(a), b)
}

// fileName is the name a request asks for (for /.hash= requests, the hash
// path: the file name is not sent).
func (t target) fileName() string {
	if t.form == formIndex {
		return t.name
	}
	return t.path
}

// announced is the hash the request names, as FileInfo.Hash.
func (t target) announced() string {
	if t.hash == "" {
		return ""
	}
	return "fasttrack:" + t.hash
}

// rangeTotal returns the total of "bytes a-b/total", or -1.
func rangeTotal(v []byte) int64 {
	sl := indexByte(v, '/')
	if sl < 0 || sl == len(v)-1 {
		return -1
	}
	n, err := strconv.ParseInt(string(v[sl+1:]), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
