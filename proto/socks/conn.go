package socks

import (
	"strings"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// Client (originator) parse states.
const (
	cStart  uint8 = iota // expecting a SOCKS4 request or a SOCKS5 greeting
	cGreet               // SOCKS5 greeting seen: authentication or request next
	cAuthed              // SOCKS5 authentication done: request next
	cHold                // request sent (or nothing we parse follows): hold every byte
)

// Proxy (responder) parse states.
const (
	sStart uint8 = iota // expecting the SOCKS4 reply or the SOCKS5 method choice
	sAuth               // expecting the RFC 1929 status
	sReply              // expecting the SOCKS5 reply
	sHold               // done: hold every byte
)

// request is a parsed client request, kept until its reply arrives.
type request struct {
	kind   string // "socks4", "socks4a", "socks5"
	cmd    byte
	target string
	userid string
	end    int // client stream offset just past the request
}

// reply is a parsed proxy reply.
type reply struct {
	code byte
	bnd  string
	end  int // proxy stream offset just past the reply
}

// conn is the state of one SOCKS flow.
type conn struct {
	s       *analyzer.Session
	ver     byte
	cst     uint8
	sst     uint8
	off     [2]int // bytes consumed per direction: Reclassify offsets
	offered [256 / 64]uint64
	method  int // SOCKS5 method the proxy chose; -1 until seen
	user    string
	authOK  int // RFC 1929 status: -1 none, 0 success, 1 failure
	req     *request
	rep     *reply
	done    bool // the tunnel event is out: no more parsing
}

func newConn(s *analyzer.Session) analyzer.Conn {
	return &conn{s: s, method: -1, authOK: -1}
}

// Feed parses the handshake messages of one direction. Bytes past the
// handshake are never consumed: after a granted CONNECT they are handed back
// to the classifier, otherwise they wait unparsed.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	n := 0
	for !c.done && n < len(data) {
		var m int
		var err error
		if dir == flow.Orig {
			m, err = c.client(data[n:])
		} else {
			m, err = c.proxy(data[n:])
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
		n += m
		c.off[dir&1] += m
		c.complete()
	}
	return n, nil
}

// client parses one client message at the start of b; 0 means wait.
func (c *conn) client(b []byte) (int, error) {
	switch c.cst {
	case cStart:
		switch b[0] {
		case 4:
			return c.request4(b)
		case 5:
			g, ok, err := parseGreeting(b)
			if err != nil || !ok {
				return 0, err
			}
			c.ver = 5
			for _, m := range g.methods {
				c.offered[m>>6] |= 1 << (m & 63)
			}
			c.cst = cGreet
			return g.size, nil
		}
		return 0, ErrVersion
	case cGreet:
		switch {
		case c.method == methodUserPass, c.method < 0 && b[0] == 1 && c.offers(methodUserPass) && !c.offers(methodGSSAPI):
			return c.userPass(b)
		case c.method == methodNone, c.method < 0 && b[0] == 5:
			c.cst = cAuthed
			return c.client(b)
		case c.method < 0:
			return 0, nil // wait for the proxy's choice
		}
		c.cst = cHold // another method: its subnegotiation is not parsed
	case cAuthed:
		return c.request5(b)
	}
	return 0, nil
}

// offers reports whether the greeting offered method m.
func (c *conn) offers(m byte) bool { return c.offered[m>>6]&(1<<(m&63)) != 0 }

func (c *conn) request4(b []byte) (int, error) {
	r, ok, err := parseRequest4(b)
	if err != nil || !ok {
		return 0, err
	}
	c.ver = 4
	kind := "socks4"
	if r.is4a() {
		kind = "socks4a"
	}
	c.req = &request{kind: kind, cmd: r.cmd, target: clean(r.target()), userid: clean(string(r.userid)), end: c.off[flow.Orig] + r.size}
	c.cst = cHold
	return r.size, nil
}

func (c *conn) userPass(b []byte) (int, error) {
	u, ok, err := parseUserPass(b)
	if err != nil || !ok {
		return 0, err
	}
	c.user = clean(string(u.user))
	ci := c.s.Secret(event.Plaintext, c.user, "password", string(u.pass))
	c.s.Emit(event.Event{Kind: event.Credential, Dir: flow.Orig, Credential: ci,
		Fields: map[string]any{"auth_method": methodName(methodUserPass)}})
	c.cst = cAuthed
	return u.size, nil
}

func (c *conn) request5(b []byte) (int, error) {
	m, ok, err := parseMsg5(b, false)
	if err != nil || !ok {
		return 0, err
	}
	c.req = &request{kind: "socks5", cmd: m.code, target: clean(m.addrPort()), end: c.off[flow.Orig] + m.size}
	c.cst = cHold
	return m.size, nil
}

// proxy parses one proxy message at the start of b; 0 means wait.
func (c *conn) proxy(b []byte) (int, error) {
	if c.sst == sHold {
		return 0, nil
	}
	switch c.ver {
	case 0:
		return 0, ErrOrder
	case 4:
		r, ok, err := parseReply4(b)
		if err != nil || !ok {
			return 0, err
		}
		c.s.Confirm()
		c.rep = &reply{code: r.code, end: c.off[flow.Resp] + size4Reply}
		c.sst = sHold
		return size4Reply, nil
	}
	switch c.sst {
	case sStart:
		m, ok, err := parseChoice(b)
		if err != nil || !ok {
			return 0, err
		}
		if m != methodNoneOK && !c.offers(m) {
			return 0, ErrMethod
		}
		c.s.Confirm()
		c.method = int(m)
		switch m {
		case methodNone:
			c.sst = sReply
		case methodUserPass:
			c.sst = sAuth
		case methodNoneOK:
			c.emit(event.Refused, "no_acceptable_methods")
		default:
			c.sst = sHold // the method's subnegotiation is not parsed
		}
		return 2, nil
	case sAuth:
		st, ok, err := parseAuthStatus(b)
		if err != nil || !ok {
			return 0, err
		}
		c.authOK = 0
		c.sst = sReply
		if st != 0 {
			c.authOK = 1
			c.emit(event.Refused, "authentication_failed")
		}
		return 2, nil
	}
	m, ok, err := parseMsg5(b, true)
	if err != nil || !ok {
		return 0, err
	}
	c.rep = &reply{code: m.code, bnd: clean(m.addrPort()), end: c.off[flow.Resp] + m.size}
	c.sst = sHold
	return m.size, nil
}

// complete reports the tunnel once both the request and its reply are
// known, and hands a granted CONNECT's stream back to the classifier.
func (c *conn) complete() {
	if c.done || c.req == nil || c.rep == nil {
		return
	}
	out, name := c.outcome()
	c.emit(out, name)
	if c.req.cmd == cmdConnect && out == event.Success {
		c.s.Reclassify(c.req.end, c.rep.end)
	}
}

// outcome maps the reply code (SOCKS4 CD, SOCKS5 REP) to an outcome and
// the code's name.
func (c *conn) outcome() (event.Outcome, string) {
	if c.ver == 4 {
		switch c.rep.code {
		case 0x5A:
			return event.Success, "granted"
		case 0x5B:
			return event.Refused, "rejected"
		case 0x5C:
			return event.Refused, "identd_unreachable"
		}
		return event.Refused, "identd_mismatch"
	}
	names := [...]string{"succeeded", "general_failure", "not_allowed", "network_unreachable", "host_unreachable",
		"connection_refused", "ttl_expired", "command_not_supported", "address_type_not_supported"}
	switch c.rep.code {
	case 0:
		return event.Success, names[0]
	case 2:
		return event.Refused, names[2]
	}
	return event.Failure, names[min(int(c.rep.code), len(names)-1)]
}

// emit writes the one tunnel event of the connection and stops parsing.
func (c *conn) emit(out event.Outcome, replyName string) {
	c.done = true
	c.sst, c.cst = sHold, cHold
	ti := &event.TunnelInfo{Kind: "socks5", Outcome: out}
	fields := map[string]any{"reply": replyName}
	if c.req != nil {
		ti.Kind, ti.Target = c.req.kind, c.req.target
		fields["command"] = commandName(c.req.cmd)
		if c.req.userid != "" {
			fields["userid"] = c.req.userid
		}
		if c.rep != nil && c.req.cmd != cmdConnect && c.rep.bnd != "" {
			fields["bnd_addr"] = c.rep.bnd
		}
	}
	if c.ver == 5 && c.method >= 0 {
		fields["auth_method"] = methodName(byte(c.method))
	}
	if c.user != "" {
		fields["user"] = c.user
	}
	switch c.authOK {
	case 0:
		fields["auth_status"] = "success"
	case 1:
		fields["auth_status"] = "failure"
	}
	c.s.Emit(event.Event{Kind: event.Tunnel, Dir: flow.Resp, Tunnel: ti, Fields: fields})
}

// commandName names a SOCKS command.
func commandName(cmd byte) string {
	switch cmd {
	case cmdConnect:
		return "connect"
	case cmdBind:
		return "bind"
	}
	return "udp_associate"
}

// methodName names a SOCKS5 authentication method (IANA registry).
func methodName(m byte) string {
	names := [...]string{"none", "gssapi", "username_password", "chap", "unassigned", "challenge_response",
		"ssl", "nds", "multi_authentication", "json"}
	switch {
	case int(m) < len(names):
		return names[m]
	case m == methodNoneOK:
		return "no_acceptable_methods"
	}
	return "private"
}

// clean makes wire text valid UTF-8.
func clean(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
