package toc

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// gameDataLimit is the service-data length above which a Games or Add-Ins
// proposal matches the January 2002 game-request overflow (spec §9.1).
const gameDataLimit = 256

// conn is the per-flow state.
type conn struct {
	s        *analyzer.Session
	user     string // from the signon frame, then toc_signon
	client   string // client version from toc_signon
	started  bool   // the originator's FLAPON was consumed
	signedOn bool   // SIGN_ON received
	out      bool   // a logout was emitted
	lost     [2]bool
	rooms    map[string]string   // chat room id -> name
	offers   map[string]proposal // rendezvous cookie -> proposal
}

func newConn(s *analyzer.Session) analyzer.Conn {
	return &conn{s: s}
}

// Feed consumes FLAPON (originator) and whole SFLAP frames and leaves a
// partial frame for the next call.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	if c.lost[dir] || dir > flow.Resp {
		return len(data), nil
	}
	n := 0
	if dir == flow.Orig && !c.started {
		k := min(len(data), len(flapon))
		if string(data[:k]) != flapon[:k] {
			return 0, ErrFlapon
		}
		if k < len(flapon) {
			return 0, nil
		}
		c.started = true
		n = k
	}
	for {
		f, ok, err := parseFrame(data[n:])
		if err != nil {
			return n, err
		}
		if !ok {
			return n, nil
		}
		p := data[n+frameHeader : n+frameHeader+f.length]
		n += frameHeader + f.length
		c.frame(dir, f, p)
	}
}

// frame handles one SFLAP frame.
func (c *conn) frame(dir flow.Dir, f frame, p []byte) {
	switch f.typ {
	case chanSignon:
		v, user, err := parseSignon(p)
		if err != nil || v != 1 {
			c.s.Anomaly("toc_bad_signon", "signon frame is not FLAP version 1 with a screen name")
			return
		}
		c.s.Confirm()
		if dir == flow.Orig && user != "" {
			c.user = clip(user)
		}
	case chanData:
		line := dataText(p)
		if dir == flow.Orig {
			c.command(line)
		} else {
			c.server(line)
		}
	case chanSignoff:
		c.logout(dir, "signoff")
	}
}

// command handles a client command line.
func (c *conn) command(line string) {
	name, rest, _ := strings.Cut(line, " ")
	fields := map[string]any{"command": name}
	switch name {
	case "toc_signon", "toc2_signon":
		c.s.Confirm()
		c.signonCmd(splitArgs(rest), fields)
	case "toc_send_im", "toc2_send_im":
		a := splitArgs(rest)
		if len(a) < 2 {
			c.s.Anomaly("toc_bad_command", name+": too few arguments")
			return
		}
		to := clip(a[0])
		if len(a) > 2 && a[2] == "auto" {
			fields["auto"] = true
		}
		c.message(flow.Orig, c.user, to, a[1], event.Feature(""), fields)
	case "toc_set_away":
		a := splitArgs(rest)
		fields["away"] = len(a) > 0
		if len(a) > 0 && c.s.Options().CaptureContent {
			fields["away_message"] = stripHTML(a[0])
		}
		c.s.Emit(event.Event{Kind: event.Presence, Dir: flow.Orig, Users: event.Users{Local: c.user}, Fields: fields})
	case "toc_chat_send":
		a := splitArgs(rest)
		if len(a) < 2 {
			c.s.Anomaly("toc_bad_command", name+": too few arguments")
			return
		}
		c.message(flow.Orig, c.user, c.room(a[0]), a[1], event.ChatRoom, fields)
	case "toc_rvous_accept", "toc_rvous_cancel":
		c.rvousReply(name, splitArgs(rest), fields)
	case "toc_change_passwd":
		a := splitArgs(rest)
		if len(a) < 2 {
			c.s.Anomaly("toc_bad_command", name+": too few arguments")
			return
		}
		c.credential(event.Plaintext, "password", a[0], fields)
		c.credential(event.Plaintext, "new_password", a[1], fields)
	}
}

// signonCmd handles toc_signon <host> <port> <user> <roasted password>
// <language> <version>.
func (c *conn) signonCmd(a []string, fields map[string]any) {
	if len(a) < 4 {
		c.s.Anomaly("toc_bad_command", "toc_signon: too few arguments")
		return
	}
	c.user = clip(a[2])
	fields["auth_host"] = clip(a[0])
	fields["auth_port"] = clip(a[1])
	if len(a) > 4 {
		fields["language"] = clip(a[4])
	}
	if len(a) > 5 {
		c.client = clip(a[5])
	}
	c.s.Emit(event.Event{Kind: event.Login, Dir: flow.Orig, Users: event.Users{Local: c.user}, Fields: fields,
		Login: &event.LoginInfo{User: c.user, Client: c.client, Outcome: event.Pending}})
	pw, err := unroast(a[3])
	if err != nil {
		c.s.Anomaly("toc_bad_roast", "toc_signon password is not 0x-prefixed hex")
		return
	}
	c.credential(event.Reversible, "password", pw, map[string]any{"command": "toc_signon", "encoding": "tic_toc_roast"})
}

// credential reports a secret; the secret itself only with
// --reveal-credentials.
func (c *conn) credential(class event.CredClass, what, secret string, fields map[string]any) {
	ci := c.s.Secret(class, c.user, what, secret)
	c.s.Emit(event.Event{Kind: event.Credential, Dir: flow.Orig, Users: event.Users{Local: c.user}, Credential: ci, Fields: fields})
}

// message reports an IM or chat message; HTML is stripped and the text kept
// only with --capture-content.
func (c *conn) message(dir flow.Dir, from, to, html string, feat event.Feature, fields map[string]any) {
	txt := stripHTML(html)
	m := &event.MessageInfo{From: from, To: []string{to}, Length: len(txt), Charset: "utf-8"}
	// Kept in memory for the content rules; the engine writes it only
	// with --capture-content.
	m.Text = txt
	peer := to
	if dir == flow.Resp {
		peer = from
	}
	if feat == event.ChatRoom {
		peer = ""
	}
	c.s.Emit(event.Event{Kind: event.Message, Dir: dir, Feature: feat, Users: event.Users{Local: c.user, Peer: peer},
		Message: m, Fields: fields})
}

// server handles a server message "NAME:fields".
func (c *conn) server(line string) {
	name, rest, _ := strings.Cut(line, ":")
	fields := map[string]any{"response": name}
	switch name {
	case "SIGN_ON":
		c.s.Confirm()
		if c.signedOn {
			return
		}
		c.signedOn = true
		fields["toc_version"] = clip(rest)
		c.s.Emit(event.Event{Kind: event.Login, Dir: flow.Resp, Users: event.Users{Local: c.user}, Fields: fields,
			Login: &event.LoginInfo{User: c.user, Client: c.client, Outcome: event.Success}})
	case "ERROR":
		code, _, _ := strings.Cut(rest, ":")
		out, reason, ok := loginError(code)
		if !ok || c.signedOn {
			return
		}
		c.s.Confirm()
		fields["code"] = clip(code)
		c.s.Emit(event.Event{Kind: event.Login, Dir: flow.Resp, Users: event.Users{Local: c.user}, Fields: fields,
			Login: &event.LoginInfo{User: c.user, Client: c.client, Outcome: out, Reason: reason}})
	case "IM_IN", "IM_IN2":
		n := 3
		if name == "IM_IN2" {
			n = 4
		}
		f := splitFields(rest, n)
		if f == nil {
			c.s.Anomaly("toc_bad_message", name+": too few fields")
			return
		}
		if f[1] == "T" {
			fields["auto"] = true
		}
		c.message(flow.Resp, clip(f[0]), c.user, f[n-1], "", fields)
	case "UPDATE_BUDDY", "UPDATE_BUDDY2":
		c.buddy(rest, fields)
	case "EVILED":
		f := splitFields(rest, 2)
		if f == nil {
			c.s.Anomaly("toc_bad_message", name+": too few fields")
			return
		}
		fields["warning_level"] = clip(f[0])
		c.s.Emit(event.Event{Kind: event.Presence, Dir: flow.Resp, Users: event.Users{Local: c.user, Peer: clip(f[1])}, Fields: fields})
	case "CHAT_JOIN":
		if f := splitFields(rest, 2); f != nil && (len(c.rooms) < maxRooms || c.rooms[f[0]] != "") {
			if c.rooms == nil {
				c.rooms = map[string]string{}
			}
			c.rooms[clip(f[0])] = clip(f[1])
		}
	case "CHAT_IN":
		f := splitFields(rest, 4)
		if f == nil {
			c.s.Anomaly("toc_bad_message", name+": too few fields")
			return
		}
		if f[2] == "T" {
			fields["whisper"] = true
		}
		c.message(flow.Resp, clip(f[1]), c.room(f[0]), f[3], event.ChatRoom, fields)
	case "RVOUS_PROPOSE":
		c.propose(rest, fields)
	}
}

// room names a chat room by its id, once CHAT_JOIN told its name.
func (c *conn) room(id string) string {
	if n := c.rooms[id]; n != "" {
		return n
	}
	return "chat:" + clip(id)
}

// buddy handles UPDATE_BUDDY:<user>:<online T/F>:<evil>:<signon time>:<idle>:<class>.
func (c *conn) buddy(rest string, fields map[string]any) {
	f := splitFields(rest, 6)
	if f == nil {
		c.s.Anomaly("toc_bad_message", "UPDATE_BUDDY: too few fields")
		return
	}
	user := clip(f[0])
	fields["buddy"] = user
	fields["online"] = f[1] == "T"
	if v, err := strconv.Atoi(f[2]); err == nil {
		fields["warning_level"] = v
	}
	if v, err := strconv.ParseInt(f[3], 10, 64); err == nil && v > 0 {
		fields["signon_time"] = v
	}
	if v, err := strconv.Atoi(f[4]); err == nil {
		fields["idle_minutes"] = v
	}
	class, _, _ := strings.Cut(f[5], ":")
	// The class's third character is 'U' while the buddy is away.
	fields["away"] = len(class) > 2 && class[2] == 'U'
	c.s.Emit(event.Event{Kind: event.Presence, Dir: flow.Resp, Users: event.Users{Local: c.user, Peer: user}, Fields: fields})
}

// propose handles RVOUS_PROPOSE: a peer offers a direct connection and the
// message discloses its addresses and listening port.
func (c *conn) propose(rest string, fields map[string]any) {
	p, err := parseProposal(rest)
	if err != nil {
		c.s.Anomaly("toc_bad_rendezvous", err.Error())
		return
	}
	c.s.Confirm()
	p.user, p.cookie = clip(p.user), clip(p.cookie)
	feat, known := feature(p.uuid)
	fields["capability"] = clip(p.uuid)
	fields["cookie"] = p.cookie
	fields["port"] = p.port
	for _, a := range [...]struct {
		key string
		ip  netip.Addr
	}{{"rendezvous_ip", p.rip}, {"proposer_ip", p.pip}, {"verified_ip", p.vip}} {
		if a.ip.IsValid() {
			fields[a.key] = a.ip.String()
		}
	}
	if !known {
		fields["unknown_capability"] = true
	}
	users := event.Users{Local: c.user, Peer: p.user}
	addrs := p.addrs()
	var file *event.FileInfo
	data := p.tlvs[tlvServiceData]
	if feat == event.FileTransfer {
		if name, count, size, ok := sendFileInfo(data); ok {
			file = &event.FileInfo{Name: name, Size: size, Outcome: event.Offered}
			fields["file_count"] = count
		}
	}
	if (feat == event.Games || feat == event.AddIns) && int64(len(data)) > c.s.Options().Param("toc", "game_data_max", gameDataLimit) {
		c.s.Anomaly("toc_game_overflow", "games/add-ins proposal with "+strconv.Itoa(len(data))+" bytes of service data")
		c.s.Emit(event.Event{Kind: event.Exploit, Dir: flow.Resp, Feature: feat, Users: users,
			Fields: map[string]any{"response": "RVOUS_PROPOSE", "exploit": "aim_game_overflow", "service_data_length": len(data)}})
	}
	if len(c.offers) < maxProposal {
		if c.offers == nil {
			c.offers = map[string]proposal{}
		}
		c.offers[p.cookie] = p
	}
	if len(addrs) == 0 {
		return
	}
	c.s.Emit(event.Event{Kind: event.Direct, Dir: flow.Resp, Feature: feat, Users: users, Fields: fields,
		Direct: &event.DirectInfo{Addrs: addrs, Outcome: event.Offered}, File: file})
	proto := ""
	switch feat {
	case event.FileTransfer, event.GetFile:
		proto = "oft"
	case event.DirectIM, event.IMImage:
		proto = "odc"
	}
	if proto == "" || p.port == 0 {
		return
	}
	x := analyzer.Expectation{Addrs: addrs, Proto: proto, Service: "aim", Product: "AIM", Feature: feat,
		Users: users, Reason: "toc_rendezvous", Data: map[string]any{"cookie": p.cookie}}
	if file != nil {
		x.FileName = file.Name
	}
	c.s.Expect(x)
}

// rvousReply handles toc_rvous_accept/cancel <user> <cookie> <service>:
// the local user's answer to an earlier proposal.
func (c *conn) rvousReply(name string, a []string, fields map[string]any) {
	if len(a) < 3 {
		c.s.Anomaly("toc_bad_command", name+": too few arguments")
		return
	}
	out := event.Accepted
	if name == "toc_rvous_cancel" {
		out = event.Cancelled
	}
	feat, _ := feature(a[2])
	fields["capability"] = clip(a[2])
	fields["cookie"] = clip(a[1])
	var addrs []netip.AddrPort
	if p, ok := c.offers[a[1]]; ok {
		addrs = p.addrs()
	}
	if addrs == nil {
		addrs = []netip.AddrPort{}
	}
	c.s.Emit(event.Event{Kind: event.Direct, Dir: flow.Orig, Feature: feat, Users: event.Users{Local: c.user, Peer: clip(a[0])},
		Fields: fields, Direct: &event.DirectInfo{Addrs: addrs, Outcome: out}})
}

// logout reports the end of a signed-on session once.
func (c *conn) logout(dir flow.Dir, how string) {
	if !c.signedOn || c.out {
		return
	}
	c.out = true
	c.s.Emit(event.Event{Kind: event.Logout, Dir: dir, Users: event.Users{Local: c.user},
		Fields: map[string]any{"reason": how}, Login: &event.LoginInfo{User: c.user, Client: c.client}})
}

// Gap loses the frame boundaries of that direction: it is skipped from
// here on.
func (c *conn) Gap(dir flow.Dir, size int) {
	if dir > flow.Resp {
		return
	}
	c.lost[dir] = true
	c.s.Anomaly("toc_gap", "bytes missing: frames of this direction are skipped")
}

// End reports the logout of a session that signed on and did not sign off.
func (c *conn) End(why flow.EndReason) {
	c.logout(flow.Orig, "connection_end")
}

// clip bounds a wire string kept in a record.
func clip(s string) string {
	if len(s) <= maxUser {
		return s
	}
	return strings.ToValidUTF8(s[:maxUser], "")
}
