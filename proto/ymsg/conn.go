package ymsg

import (
	"bytes"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// maxSeed bounds the challenge seed kept between AUTH and AUTHRESP.
const maxSeed = 128

// conn is the per-flow state of one YMSG connection. The originator is the
// client: Orig PDUs are client to server, Resp PDUs server to client.
type conn struct {
	s        *analyzer.Session
	user     string // the local Yahoo ID
	session  uint32 // server-assigned session id (header bytes 16-19)
	pending  bool   // a login was sent and not yet answered
	loggedIn bool
	method   string // "md5crypt" or "challenge_response"
	seed     string // the 0x57 challenge, bounded
	authType string // field 13 of the challenge: "0" old, "1" new method
	resync   [2]bool
	parsed   bool    // a whole PDU parsed on this flow
	buf      []field // reused field slice
}

func newConn(s *analyzer.Session) analyzer.Conn {
	return &conn{s: s}
}

// Feed parses whole PDUs and leaves a partial one for the next call. A
// flow whose first bytes are not a YMSG header is rejected; later bad
// headers are reported and the direction resynchronises on the next magic.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	n := 0
	if c.resync[dir] {
		i := bytes.Index(data, []byte(magic))
		if i < 0 {
			return max(0, len(data)-len(magic)+1), nil
		}
		n, c.resync[dir] = i, false
	}
	for {
		h, ok, err := parseHeader(data[n:])
		if err != nil {
			if !c.parsed {
				return n, err
			}
			c.s.Anomaly("ymsg_bad_header", "no YMSG magic where a header should start: resynchronising")
			c.resync[dir] = true
			return n + 1, nil
		}
		if !ok || len(data)-n < h.size() {
			return n, nil
		}
		c.pdu(dir, h, data[n+headerLen:n+h.size()])
		n += h.size()
	}
}

// Gap: the next bytes of that direction start somewhere inside a PDU.
func (c *conn) Gap(dir flow.Dir, size int) {
	c.resync[dir] = true
	c.s.Anomaly("ymsg_gap", strconv.Itoa(size)+" bytes missing: resynchronising on the next header")
}

// pdu parses one PDU's fields and dispatches it.
func (c *conn) pdu(dir flow.Dir, h header, payload []byte) {
	fs, err := parseFields(payload, c.buf[:0])
	defer func() {
		// Keep the slice, not the payload it points into.
		if cap(fs) <= 256 {
			clear(fs)
			c.buf = fs[:0]
		}
	}()
	if err != nil {
		c.s.Anomaly("ymsg_bad_fields", fmt.Sprintf("service 0x%02x: %v", h.service, err))
		if !c.parsed {
			return
		}
	}
	c.parsed = true
	c.s.Confirm()
	for _, f := range fs {
		if len(f.val) > longField {
			c.s.Anomaly("ymsg_long_field", fmt.Sprintf("service 0x%02x: field %d is %d bytes", h.service, f.key, len(f.val)))
			break
		}
	}
	if h.session != 0 {
		c.session = h.session
	}
	set := fieldSet(fs)
	if c.user == "" {
		c.learnUser(dir, h.service, set)
	}
	c.dispatch(dir, h, set)
}

// learnUser takes the local user's id from a client login (fields 1, 0) or
// from what the server addresses to us.
func (c *conn) learnUser(dir flow.Dir, svc uint16, fs fieldSet) {
	switch {
	case dir == flow.Orig && (svc == svcLogon || svc == svcAuth || svc == svcAuthResp || svc == svcMessage):
		c.user = first(fs, 1, 0)
	case dir == flow.Resp && (svc == svcLogon || svc == svcList || svc == svcAuth):
		c.user = first(fs, 1, 0)
	case dir == flow.Resp && svc == svcMessage:
		c.user = fs.str(5)
	}
}

// first returns the first non-empty value among keys.
func first(fs fieldSet, keys ...int) string {
	for _, k := range keys {
		if s := fs.str(k); s != "" {
			return s
		}
	}
	return ""
}

func (c *conn) fields(h header, more ...any) map[string]any {
	m := map[string]any{"service": svcName(h.service)}
	for i := 0; i+1 < len(more); i += 2 {
		if v, ok := more[i+1].(string); ok && v == "" {
			continue
		}
		m[more[i].(string)] = more[i+1]
	}
	return m
}

func svcName(s uint16) string {
	if n, ok := serviceNames[s]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", s)
}

func (c *conn) users(peer string) event.Users { return event.Users{Local: c.user, Peer: peer} }

// dispatch turns one PDU into events.
func (c *conn) dispatch(dir flow.Dir, h header, fs fieldSet) {
	switch h.service {
	case svcLogon:
		c.logon(dir, h, fs)
	case svcAuth:
		c.auth(dir, h, fs)
	case svcAuthResp:
		c.authResp(dir, h, fs)
	case svcList:
		c.list(dir, h, fs)
	case svcLogoff:
		c.logoff(dir, h, fs)
	case svcIsAway, svcIsBack:
		c.status(dir, h, fs)
	case svcMessage:
		c.messages(dir, h, fs, "", 4, 5, 14)
	case svcConfInvite, svcConfAddInv, svcConfLogon, svcConfDecline, svcConfLogoff:
		c.conference(dir, h, fs)
	case svcConfMsg:
		c.confMsg(dir, h, fs)
	case svcChatJoin, svcChatLogon, svcChatLeave, svcChatExit, svcChatLogout, svcChatLogoff, svcChatAddInv:
		c.chat(dir, h, fs)
	case svcComment, svcChatMsg:
		c.chatMsg(dir, h, fs)
	case svcNotify:
		c.notify(dir, h, fs)
	case svcGameLogon, svcGameLogoff, svcGameMsg:
		c.invite(dir, h, fs, event.Games, "")
	case svcVoiceChat:
		c.invite(dir, h, fs, event.Voice, "")
	case svcWebcam:
		c.invite(dir, h, fs, event.Webcam, "")
	case svcFileTransfer:
		c.fileOffer(dir, h, fs)
	}
}

// login emits a login event.
func (c *conn) login(dir flow.Dir, h header, out event.Outcome, reason string, more ...any) {
	if c.session != 0 {
		more = append(more, "session_id", int64(c.session))
	}
	more = append(more, "method", c.method)
	c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: c.users(""), Fields: c.fields(h, more...),
		Login: &event.LoginInfo{User: c.user, Outcome: out, Reason: reason}})
}

// succeed reports a login answered by the server's buddy list or logon.
func (c *conn) succeed(dir flow.Dir, h header) {
	if c.pending && !c.loggedIn {
		c.pending, c.loggedIn = false, true
		c.login(dir, h, event.Success, "")
	}
}

// logon handles service 0x01: the v6 client login with its md5crypt field
// 6 (ymsg.md §3.2), or the server's answer listing the buddies online.
func (c *conn) logon(dir flow.Dir, h header, fs fieldSet) {
	if dir == flow.Orig {
		pw, ok := fs.get(6)
		if !ok {
			return
		}
		c.method, c.pending = "md5crypt", true
		c.login(dir, h, event.Pending, "")
		// md5crypt(password, "$1$_2S43d5f$"): the salt is constant, so the
		// field logs in as is (password-equivalent).
		ci := c.s.Secret(event.PasswordEquivalent, c.user, "md5crypt_password", string(pw))
		c.s.Emit(event.Event{Kind: event.Credential, Dir: dir, Users: c.users(""), Credential: ci,
			Fields: c.fields(h, "method", c.method, "constant_salt", bytes.HasPrefix(pw, []byte("$1$_2S43d5f$")))})
		return
	}
	if h.status == statusDisconnected || h.status == statusOffline {
		if c.pending {
			c.pending = false
			c.login(dir, h, event.Failure, "logon refused (status "+statusName(h.status)+")")
		}
		return
	}
	c.succeed(dir, h)
	c.buddies(dir, h, fs)
}

// buddies reports each buddy record (7 = id, 10 = status) as presence.
func (c *conn) buddies(dir flow.Dir, h header, fs fieldSet) {
	fs.groups(func(g fieldSet) {
		b := g.str(7)
		if b == "" {
			return
		}
		more := []any{}
		if v, ok := g.get(10); ok {
			st, _ := strconv.ParseUint(string(v), 10, 32)
			more = append(more, "status", statusName(uint32(st)))
		}
		if _, ok := g.get(19); ok {
			more = append(more, "custom_message", true)
		}
		c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Users: c.users(b), Fields: c.fields(h, more...)})
	})
}

// auth handles service 0x57: the client names itself, the server answers
// with the challenge seed (94) and the method (13) (ymsg.md §3.3).
func (c *conn) auth(dir flow.Dir, h header, fs fieldSet) {
	if dir == flow.Orig {
		c.method, c.pending = "challenge_response", true
		c.login(dir, h, event.Pending, "")
		return
	}
	if v, ok := fs.get(94); ok {
		c.seed = string(v[:min(len(v), maxSeed)])
		c.authType = fs.str(13)
	}
}

// authResp handles service 0x54: the client's two responses (6, 96) are a
// function of id, seed and password, so a passive observer can run a
// dictionary against them; the server's 0x54 carries an error (66).
func (c *conn) authResp(dir flow.Dir, h header, fs fieldSet) {
	if dir == flow.Resp {
		c.pending = false
		code := fs.str(66)
		out, reason := event.Failure, "error "+code
		// gaim 0.75 yahoo_process_authresp: 3 unknown id, 13 wrong
		// password, 14 account locked.
		switch code {
		case "3":
			reason = "unknown user"
		case "13":
			out, reason = event.WrongPassword, "wrong password"
		case "14":
			out, reason = event.Refused, "account locked"
		}
		c.login(dir, h, out, reason, "error_code", code)
		return
	}
	r6, ok6 := fs.get(6)
	r96, ok96 := fs.get(96)
	if !ok6 && !ok96 {
		return
	}
	if c.method == "" {
		c.method = "challenge_response"
	}
	c.pending = true
	secret := string(r6) + " " + string(r96)
	ci := c.s.Secret(event.OfflineCrackable, c.user, "challenge_response", secret)
	more := []any{"method", c.method, "challenge_seen", c.seed != ""}
	if c.seed != "" {
		more = append(more, "challenge_length", len(c.seed), "auth_type", c.authType)
		if c.s.Options().RevealCredentials {
			more = append(more, "challenge", c.seed)
		}
	}
	c.s.Emit(event.Event{Kind: event.Credential, Dir: dir, Users: c.users(""), Credential: ci, Fields: c.fields(h, more...)})
}

// list handles service 0x55, the buddy list; field 59 carries the Y and T
// web cookies in clear (ymsg.md §3.4).
func (c *conn) list(dir flow.Dir, h header, fs fieldSet) {
	if dir != flow.Resp {
		return
	}
	c.succeed(dir, h)
	for _, f := range fs {
		if f.key != 59 {
			continue
		}
		// "Y\tv=1&n=...; path=/; domain=.yahoo.com": the name, a tab, the
		// value the browser would send.
		name, val, ok := bytes.Cut(f.val, []byte("\t"))
		if !ok || len(name) != 1 {
			continue
		}
		val, _, _ = bytes.Cut(val, []byte(";"))
		what := ""
		switch name[0] {
		case 'Y', 'y':
			what = "y_cookie"
		case 'T', 't':
			what = "t_cookie"
		default:
			continue
		}
		ci := c.s.Secret(event.SessionToken, c.user, what, string(val))
		c.s.Emit(event.Event{Kind: event.Credential, Dir: dir, Users: c.users(""), Credential: ci, Fields: c.fields(h)})
	}
}

// logoff handles service 0x02: the client signing off, a buddy leaving
// (7), or the server disconnecting us.
func (c *conn) logoff(dir flow.Dir, h header, fs fieldSet) {
	if dir == flow.Resp && fs.count(7) > 0 {
		fs.groups(func(g fieldSet) {
			if b := g.str(7); b != "" {
				c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Users: c.users(b), Fields: c.fields(h, "status", "offline")})
			}
		})
		return
	}
	c.loggedIn = false
	more := []any{}
	if dir == flow.Resp {
		more = append(more, "by_server", true)
	}
	c.s.Emit(event.Event{Kind: event.Logout, Dir: dir, Users: c.users(""), Fields: c.fields(h, more...),
		Login: &event.LoginInfo{User: c.user}})
}

// status handles 0x03/0x04: our own away/back (client), or buddies' (server).
func (c *conn) status(dir flow.Dir, h header, fs fieldSet) {
	if dir == flow.Resp {
		c.buddies(dir, h, fs)
		return
	}
	st := h.status
	if v, ok := fs.get(10); ok {
		n, _ := strconv.ParseUint(string(v), 10, 32)
		st = uint32(n)
	}
	more := []any{"status", statusName(st)}
	if _, ok := fs.get(19); ok {
		more = append(more, "custom_message", true)
	}
	c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Users: c.users(""), Fields: c.fields(h, more...)})
}

// text decodes a message body: field 97 = 1 means UTF-8, otherwise the
// client's code page (taken as Latin-1); formatting is removed.
func text(g fieldSet, key int) (length int, charset, txt string) {
	v, _ := g.get(key)
	utf := string(first97(g)) == "1"
	charset = "iso-8859-1"
	if utf {
		charset = "utf-8"
	}
	return len(v), charset, decode(stripMarkup(v[:min(len(v), maxText)]), utf, maxText)
}

func first97(g fieldSet) []byte {
	v, _ := g.get(97)
	return v
}

// messages handles instant messages (0x06): one per record with text
// (offline messages arrive several in one PDU, ymsg.md §4). The client
// sends 1 = me, 5 = to, 14 = text; the server 4 = from, 5 = me.
func (c *conn) messages(dir flow.Dir, h header, fs fieldSet, feature event.Feature, fromKey, toKey, textKey int) {
	fs.groups(func(g fieldSet) {
		if _, ok := g.get(textKey); !ok {
			return
		}
		n, cs, txt := text(g, textKey)
		m := &event.MessageInfo{Length: n, Charset: cs}
		var peer string
		if dir == flow.Orig {
			m.From = c.user
			peer = g.str(toKey)
		} else {
			peer = g.str(fromKey)
			m.From = peer
			m.To = []string{c.user}
		}
		if dir == flow.Orig && peer != "" {
			m.To = []string{peer}
		}
		// Kept in memory for the content rules; the engine writes it only
		// with --capture-content.
		m.Text = txt
		more := []any{}
		if ts := g.str(15); ts != "" {
			more = append(more, "offline", true)
		}
		c.s.Emit(event.Event{Kind: event.Message, Dir: dir, Feature: feature, Users: c.users(peer), Message: m, Fields: c.fields(h, more...)})
	})
}

// conference handles invitations, joins, declines and departures
// (0x18-0x1C): 50 inviter, 52 invitees, 53 joined, 54 declined, 56 left,
// 57 room.
func (c *conn) conference(dir flow.Dir, h header, fs fieldSet) {
	action, peerKey := "", 0
	switch h.service {
	case svcConfInvite, svcConfAddInv:
		action, peerKey = "invite", 50
	case svcConfLogon:
		action, peerKey = "join", 53
	case svcConfDecline:
		action, peerKey = "decline", 54
	case svcConfLogoff:
		action, peerKey = "leave", 56
	}
	peer := fs.str(peerKey)
	if peer == c.user {
		peer = ""
	}
	more := []any{"action", action, "room", fs.str(57)}
	if n := fs.count(52); n > 0 {
		more = append(more, "invitees", n)
	}
	c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Feature: event.Conference, Users: c.users(peer), Fields: c.fields(h, more...)})
}

// confMsg handles 0x1D: the client sends 1 me, 53 each member, 57 room,
// 14 text; the server relays it with 3 = sender.
func (c *conn) confMsg(dir flow.Dir, h header, fs fieldSet) {
	n, cs, txt := text(fs, 14)
	m := &event.MessageInfo{Length: n, Charset: cs}
	var peer string
	if dir == flow.Orig {
		m.From = c.user
		for _, f := range fs {
			if f.key == 53 && len(m.To) < 64 {
				m.To = append(m.To, printable(f.val, 128))
			}
		}
	} else {
		peer = fs.str(3)
		m.From = peer
		m.To = []string{c.user}
	}
	// Kept in memory for the content rules; the engine writes it only
	// with --capture-content.
	m.Text = txt
	c.s.Emit(event.Event{Kind: event.Message, Dir: dir, Feature: event.Conference, Users: c.users(peer), Message: m,
		Fields: c.fields(h, "room", fs.str(57))})
}

// chat handles chat-room joins, departures and invitations: 104 room,
// 109 member nick (repeated in the server's join answer), 118 invitee.
func (c *conn) chat(dir flow.Dir, h header, fs fieldSet) {
	action := "leave"
	switch h.service {
	case svcChatJoin, svcChatLogon:
		action = "join"
	case svcChatAddInv:
		action = "invite"
	}
	more := []any{"action", action, "room", fs.str(104)}
	if n := fs.count(109); dir == flow.Resp && n > 0 {
		more = append(more, "members", n)
	}
	c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Feature: event.ChatRoom, Users: c.users(fs.str(118)), Fields: c.fields(h, more...)})
}

// chatMsg handles a chat-room message (0xA8 COMMENT, 0x20 CHATMSG): 104
// room, 109 the sender's nick, 117 text.
func (c *conn) chatMsg(dir flow.Dir, h header, fs fieldSet) {
	n, cs, txt := text(fs, 117)
	m := &event.MessageInfo{Length: n, Charset: cs}
	peer := ""
	if dir == flow.Orig {
		m.From = c.user
	} else {
		peer = fs.str(109)
		m.From = peer
	}
	// Kept in memory for the content rules; the engine writes it only
	// with --capture-content.
	m.Text = txt
	c.s.Emit(event.Event{Kind: event.Message, Dir: dir, Feature: event.ChatRoom, Users: c.users(peer), Message: m,
		Fields: c.fields(h, "room", fs.str(104))})
}

// notify handles 0x4B: 49 = TYPING (13 = 1 started, 0 stopped), GAME or
// WEBCAMINVITE; 4 from, 5 to.
func (c *conn) notify(dir flow.Dir, h header, fs fieldSet) {
	kind := strings.ToUpper(fs.str(49))
	switch kind {
	case "TYPING":
		c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Users: c.users(c.peer(dir, fs)),
			Fields: c.fields(h, "typing", fs.str(13) == "1")})
	case "GAME":
		c.invite(dir, h, fs, event.Games, "game")
	case "WEBCAMINVITE":
		c.invite(dir, h, fs, event.Webcam, "webcam_invite")
	}
}

// peer is the other party of a two-party PDU: 5 = to (client), 4 = from
// (server).
func (c *conn) peer(dir flow.Dir, fs fieldSet) string {
	if dir == flow.Orig {
		return fs.str(5)
	}
	return fs.str(4)
}

// invite reports a games, voice or webcam invitation or session as
// presence with its feature: these run through Yahoo's servers, so no
// peer address is disclosed (ymsg.md §5).
func (c *conn) invite(dir flow.Dir, h header, fs fieldSet, f event.Feature, notify string) {
	more := []any{"notify", notify, "room", fs.str(57)}
	c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Feature: f, Users: c.users(c.peer(dir, fs)), Fields: c.fields(h, more...)})
}

// fileOffer handles 0x46: 4 from, 5 to, 14 message, 20 download URL, 27
// file name, 28 size (ymsg.md §5). The bytes move over HTTP.
func (c *conn) fileOffer(dir flow.Dir, h header, fs fieldSet) {
	u := fs.str(20)
	name := fs.str(27)
	if name == "" && u != "" {
		if p, err := url.Parse(u); err == nil {
			name = path.Base(p.Path)
			if name == "/" || name == "." {
				name = ""
			}
		}
	}
	size, _ := strconv.ParseInt(fs.str(28), 10, 64)
	if size < 0 {
		size = 0
	}
	more := []any{"url", u}
	if _, ok := fs.get(14); ok {
		n, _, txt := text(fs, 14)
		more = append(more, "message_length", n)
		if c.s.Options().CaptureContent {
			more = append(more, "message", txt)
		}
	}
	c.s.Emit(event.Event{Kind: event.File, Dir: dir, Feature: event.FileTransfer, Users: c.users(c.peer(dir, fs)),
		File: &event.FileInfo{Name: name, Size: size, Outcome: event.Offered}, Fields: c.fields(h, more...)})
}
