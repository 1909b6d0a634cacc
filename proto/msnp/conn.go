package msnp

import (
	"net/netip"
	"strings"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

const (
	product      = "MSN Messenger"
	maxMembers   = 32  // switchboard participants tracked
	maxInvites   = 16  // open invitations remembered per switchboard
	maxFieldLen  = 256 // longest protocol string copied into a record
	maxFontField = 96  // longest font name or format header copied into a record
	fontNameMax  = 64  // default X-MMS-IM-Format FN= limit (spec §6)
	cveFont      = "CVE-2002-1698"
)

// role is what kind of server the connection talks to.
type role uint8

const (
	roleUnknown role = iota
	roleNS           // notification server
	roleSB           // switchboard
)

func (r role) String() string {
	switch r {
	case roleNS:
		return "notification"
	case roleSB:
		return "switchboard"
	}
	return ""
}

// conn is the per-flow state.
type conn struct {
	s        *analyzer.Session
	role     role
	user     string // the local passport
	protocol string // MSNPn the server chose (or the client's best)
	client   string // from CVR
	method   string // "md5", "twn", "cookie"
	usrTrid  string // transaction id of the pending login, "" when none
	seed     string // MD5 challenge
	members  []string
	invites  []invite
	lost     [2]bool
}

func newConn(s *analyzer.Session) analyzer.Conn {
	c := &conn{s: s}
	if x := s.Expected(); x != nil {
		c.user = x.Users.Local
		switch x.Reason {
		case reasonXfrSB, reasonRng:
			c.role = roleSB
		case reasonXfrNS:
			c.role = roleNS
		}
	}
	return c
}

// Expectation reasons.
const (
	reasonXfrNS  = "msnp_xfr_ns"
	reasonXfrSB  = "msnp_xfr_sb"
	reasonRng    = "msnp_rng"
	reasonInvite = "msnp_invite"
)

// Feed parses whole command lines (and their payloads) and leaves a
// partial one for the next call.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	if c.lost[dir] {
		return len(data), nil
	}
	n := 0
	for n < len(data) {
		l, ok, err := parseLine(data[n:])
		if err != nil {
			return n, err
		}
		if !ok || len(data)-n < l.size+l.payload {
			return n, nil
		}
		payload := data[n+l.size : n+l.size+l.payload]
		c.s.Confirm()
		c.handle(dir, &l, payload)
		n += l.size + l.payload
	}
	return n, nil
}

// str copies a protocol string, bounded and valid UTF-8.
func str(b []byte) string {
	if len(b) > maxFieldLen {
		b = b[:maxFieldLen]
	}
	return strings.ToValidUTF8(string(b), "\ufffd")
}

// friendly decodes a URL-encoded friendly name.
func friendly(b []byte) string {
	if len(b) > maxFieldLen*3 {
		b = b[:maxFieldLen*3]
	}
	return strings.ToValidUTF8(urlDecode(b), "\ufffd")
}

func (c *conn) users(peer string) event.Users { return event.Users{Local: c.user, Peer: peer} }

// fields starts a record's protocol fields with the command and the role.
func (c *conn) fields(l *line) map[string]any {
	f := map[string]any{"command": string(l.cmd[:])}
	if c.role != roleUnknown {
		f["role"] = c.role.String()
	}
	if c.protocol != "" {
		f["protocol"] = c.protocol
	}
	return f
}

func (c *conn) handle(dir flow.Dir, l *line, payload []byte) {
	switch {
	case l.numeric():
		c.errorReply(dir, l)
	case l.is("VER"):
		c.role = max(c.role, roleNS)
		for i := 1; i < l.nargs; i++ {
			if a := l.arg(i); isMSNP(a) && (dir == flow.Resp || c.protocol == "") {
				c.protocol = string(a)
				break
			}
		}
	case l.is("CVR") && dir == flow.Orig && l.nargs >= 7:
		// CVR trid locale os osver arch client clientver [MSMSGS passport]
		c.client = str(l.arg(5)) + " " + str(l.arg(6))
	case l.is("USR"):
		c.usr(dir, l)
	case l.is("ANS"):
		c.ans(dir, l)
	case l.is("XFR") && dir == flow.Resp:
		c.xfr(dir, l)
	case l.is("RNG") && dir == flow.Resp:
		c.rng(dir, l)
	case l.is("CHG") && dir == flow.Orig && l.nargs >= 2:
		f := c.fields(l)
		f["status"] = str(l.arg(1))
		c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Users: c.users(""), Fields: f})
	case (l.is("ILN") || l.is("NLN")) && dir == flow.Resp:
		c.contactPresence(dir, l)
	case l.is("FLN") && dir == flow.Resp && l.nargs >= 1:
		f := c.fields(l)
		f["status"] = "FLN"
		c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Users: c.users(str(l.arg(0))), Fields: f})
	case (l.is("JOI") || l.is("IRO") || l.is("BYE")) && dir == flow.Resp:
		c.member(dir, l)
	case l.is("OUT"):
		f := c.fields(l)
		if l.nargs > 0 {
			f["reason"] = str(l.arg(0))
		}
		c.s.Emit(event.Event{Kind: event.Logout, Dir: dir, Users: c.users(""), Fields: f, Login: &event.LoginInfo{User: c.user}})
	case l.is("MSG"):
		c.msg(dir, l, payload)
	}
}

// usr handles the login command of both servers.
func (c *conn) usr(dir flow.Dir, l *line) {
	trid, a1, a2, a3 := l.arg(0), l.arg(1), l.arg(2), l.arg(3)
	if dir == flow.Resp {
		switch {
		case string(a1) == "OK":
			c.loginOK(dir, l, a2, a3)
		case string(a2) == "S" && string(a1) == "MD5":
			c.seed = str(a3)
		}
		return
	}
	switch {
	case l.nargs == 3 && isEmail(a1) && isCookie(a2):
		// Switchboard: USR trid passport cookie.
		c.role = roleSB
		c.user, c.method, c.usrTrid = str(a1), "cookie", string(trid)
		c.loginPending(dir, l)
		c.cookieCred(dir, l, a2, "")
	case l.nargs >= 4 && string(a2) == "I":
		c.role = max(c.role, roleNS)
		c.method, c.usrTrid = strings.ToLower(str(a1)), string(trid)
		c.user = str(a3)
		c.loginPending(dir, l)
	case l.nargs >= 4 && string(a2) == "S" && string(a1) == "MD5":
		c.usrTrid = string(trid)
		f := c.fields(l)
		f["method"] = "md5"
		if c.seed != "" {
			f["seed"] = c.seed
		}
		c.s.Emit(event.Event{Kind: event.Credential, Dir: dir, Users: c.users(""), Fields: f,
			Credential: c.s.Secret(event.OfflineCrackable, c.user, "md5_response", str(a3))})
	case l.nargs >= 4 && string(a2) == "S" && string(a1) == "TWN":
		c.usrTrid = string(trid)
		f := c.fields(l)
		f["method"] = "twn"
		c.s.Emit(event.Event{Kind: event.Credential, Dir: dir, Users: c.users(""), Fields: f,
			Credential: c.s.Secret(event.SessionToken, c.user, "passport_ticket", string(a3[:min(len(a3), maxLine)]))})
	}
}

// ans handles a switchboard invitee's login: ANS trid passport cookie sessid.
func (c *conn) ans(dir flow.Dir, l *line) {
	if dir == flow.Resp {
		if string(l.arg(1)) == "OK" {
			c.loginOK(dir, l, nil, nil)
		}
		return
	}
	if l.nargs < 4 || !isEmail(l.arg(1)) {
		return
	}
	c.role = roleSB
	c.user, c.method, c.usrTrid = str(l.arg(1)), "cookie", string(l.arg(0))
	c.loginPending(dir, l)
	c.cookieCred(dir, l, l.arg(2), "")
}

func (c *conn) loginPending(dir flow.Dir, l *line) {
	f := c.fields(l)
	f["method"] = c.method
	c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: c.users(""), Fields: f,
		Login: &event.LoginInfo{User: c.user, Client: c.client, Outcome: event.Pending}})
}

// loginOK handles "USR trid OK passport friendly" and "ANS trid OK".
func (c *conn) loginOK(dir flow.Dir, l *line, passport, name []byte) {
	if isEmail(passport) {
		c.user = str(passport)
	}
	f := c.fields(l)
	if c.method != "" {
		f["method"] = c.method
	}
	if len(name) > 0 {
		f["friendly_name"] = friendly(name)
	}
	c.usrTrid = ""
	c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: c.users(""), Fields: f,
		Login: &event.LoginInfo{User: c.user, Client: c.client, Outcome: event.Success}})
}

// errorReply turns a numeric reply to the pending login into its outcome.
func (c *conn) errorReply(dir flow.Dir, l *line) {
	if dir != flow.Resp || c.usrTrid == "" || string(l.arg(0)) != c.usrTrid {
		return
	}
	c.usrTrid = ""
	code := string(l.cmd[:])
	out := event.Failure
	switch l.code() {
	case 911:
		out = event.WrongPassword
	case 800:
		out = event.RateLimited
	}
	f := c.fields(l)
	f["error"] = l.code()
	c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: c.users(""), Fields: f,
		Login: &event.LoginInfo{User: c.user, Client: c.client, Outcome: out, Reason: "error " + code}})
}

// cookieCred reports a switchboard cookie.
func (c *conn) cookieCred(dir flow.Dir, l *line, cookie []byte, peer string) {
	f := c.fields(l)
	c.s.Emit(event.Event{Kind: event.Credential, Dir: dir, Users: c.users(peer), Fields: f,
		Credential: c.s.Secret(event.SessionToken, c.user, "sb_cookie", str(cookie))})
}

// xfr handles a redirect: "XFR trid NS addr:port ..." or
// "XFR trid SB addr:port CKI cookie".
func (c *conn) xfr(dir flow.Dir, l *line) {
	ap, err := netip.ParseAddrPort(str(l.arg(2)))
	if err != nil || l.nargs < 3 {
		c.s.Anomaly("msnp_bad_xfr", "bad server address")
		return
	}
	x := analyzer.Expectation{Addrs: []netip.AddrPort{ap}, Proto: "msnp", Service: "msn", Product: product, Users: c.users("")}
	switch string(l.arg(1)) {
	case "NS":
		x.Reason = reasonXfrNS
	case "SB":
		x.Reason = reasonXfrSB
		if l.nargs >= 5 {
			f := c.fields(l)
			f["server"] = ap.String()
			c.s.Emit(event.Event{Kind: event.Credential, Dir: dir, Users: c.users(""), Fields: f,
				Credential: c.s.Secret(event.SessionToken, c.user, "sb_cookie", str(l.arg(4)))})
		}
	default:
		return
	}
	c.s.Expect(x)
}

// rng handles a switchboard invitation from the server:
// RNG sessid addr:port CKI cookie caller friendly.
func (c *conn) rng(dir flow.Dir, l *line) {
	ap, err := netip.ParseAddrPort(str(l.arg(1)))
	if err != nil || l.nargs < 5 {
		c.s.Anomaly("msnp_bad_rng", "bad switchboard address")
		return
	}
	caller := str(l.arg(4))
	f := c.fields(l)
	f["server"] = ap.String()
	f["session_id"] = str(l.arg(0))
	if l.nargs >= 6 {
		f["caller_name"] = friendly(l.arg(5))
	}
	c.s.Emit(event.Event{Kind: event.Credential, Dir: dir, Users: c.users(caller), Fields: f,
		Credential: c.s.Secret(event.SessionToken, c.user, "sb_cookie", str(l.arg(3)))})
	c.s.Expect(analyzer.Expectation{Addrs: []netip.AddrPort{ap}, Proto: "msnp", Service: "msn", Product: product,
		Users: c.users(caller), Reason: reasonRng, Data: map[string]any{"session_id": str(l.arg(0))}})
}

// contactPresence handles "ILN trid status passport friendly" and
// "NLN status passport friendly".
func (c *conn) contactPresence(dir flow.Dir, l *line) {
	i := 0
	if l.is("ILN") {
		i = 1
	}
	if l.nargs < i+2 {
		return
	}
	f := c.fields(l)
	f["status"] = str(l.arg(i))
	if l.nargs > i+2 {
		f["friendly_name"] = friendly(l.arg(i + 2))
	}
	c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Users: c.users(str(l.arg(i + 1))), Fields: f})
}

// member tracks who is in the switchboard: "JOI passport friendly",
// "IRO trid n total passport friendly", "BYE passport".
func (c *conn) member(dir flow.Dir, l *line) {
	i, status := 0, "joined"
	switch {
	case l.is("IRO"):
		i, status = 3, "present"
	case l.is("BYE"):
		status = "left"
	}
	p := l.arg(i)
	if !isEmail(p) {
		return
	}
	who := str(p)
	idx := -1
	for j, m := range c.members {
		if m == who {
			idx = j
		}
	}
	switch {
	case status == "left" && idx >= 0:
		c.members = append(c.members[:idx], c.members[idx+1:]...)
	case status != "left" && idx < 0 && len(c.members) < maxMembers:
		c.members = append(c.members, who)
	}
	f := c.fields(l)
	f["status"] = status
	if n := l.arg(i + 1); len(n) > 0 && status != "left" {
		f["friendly_name"] = friendly(n)
	}
	c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Users: c.users(who), Fields: f})
}

// Gap stops the direction: a line stream cannot find its framing again.
func (c *conn) Gap(dir flow.Dir, size int) {
	c.lost[dir] = true
	c.s.Anomaly("msnp_gap", "bytes missing: commands of this direction are skipped")
}
