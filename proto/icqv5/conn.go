package icqv5

import (
	"errors"
	"net/netip"
	"strconv"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/wire"
)

// recent is how many packet keys per direction are remembered to drop
// retransmitted datagrams.
const recent = 32

// conn is the per-flow state of one client-server UDP session.
type conn struct {
	s      *analyzer.Session
	user   string   // the local UIN, from the first header
	client flow.Dir // the direction that carries client packets
	roles  bool     // client is known
	seen   [2][recent]uint64
	nseen  [2]int
	plain  [maxPacket]byte // decrypted client packet
}

func newConn(s *analyzer.Session) analyzer.Conn { return &conn{s: s} }

// Feed parses one datagram. The first valid packet fixes which direction
// is the client's. A datagram that is not ICQ v5 at all is a violation;
// a valid header with damaged parameters is an anomaly only.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	if !c.roles {
		if _, _, err := parseClient(data); err == nil {
			c.client, c.roles = dir, true
		} else if _, err := parseServer(data); err == nil {
			c.client, c.roles = dir.Other(), true
		} else {
			return 0, err
		}
	}
	if dir == c.client {
		h, _, err := parseClient(data)
		if err != nil {
			return c.bad(len(data), err)
		}
		c.s.Confirm()
		if c.user == "" {
			c.user = uinString(h.uin)
		}
		if c.dup(dir, h) {
			return len(data), nil
		}
		pt := c.plain[:len(data)]
		decrypt(pt, data)
		c.clientPacket(dir, h, pt[clHeader:])
		return len(data), nil
	}
	h, err := parseServer(data)
	if err != nil {
		return c.bad(len(data), err)
	}
	c.s.Confirm()
	if c.user == "" {
		c.user = uinString(h.uin)
	}
	if c.dup(dir, h) {
		return len(data), nil
	}
	c.serverPacket(dir, h, data[srvHeader:])
	return len(data), nil
}

// bad decides between violation and anomaly for a datagram whose header
// does not parse.
func (c *conn) bad(n int, err error) (int, error) {
	if errors.Is(err, ErrVersion) {
		return 0, err
	}
	c.s.Anomaly("icqv5_bad_packet", err.Error())
	return n, nil
}

// dup reports whether a packet with the same command and sequence numbers
// was seen recently in this direction (a retransmission), and remembers it.
func (c *conn) dup(dir flow.Dir, h header) bool {
	k := h.key()
	n := min(c.nseen[dir], recent)
	for i := 0; i < n; i++ {
		if c.seen[dir][i] == k {
			return true
		}
	}
	c.seen[dir][c.nseen[dir]%recent] = k
	c.nseen[dir]++
	return false
}

func uinString(u uint32) string { return strconv.FormatUint(uint64(u), 10) }

func (c *conn) users(peer string) event.Users { return event.Users{Local: c.user, Peer: peer} }

func (c *conn) truncated(name string) {
	c.s.Anomaly("icqv5_truncated", name+": parameters shorter than their fields")
}

// clientPacket handles the decrypted parameters p of a client packet.
func (c *conn) clientPacket(dir flow.Dir, h header, p []byte) {
	fields := map[string]any{"command": h.cmd.name}
	cur := wire.NewCursor(p)
	switch h.cmd.code {
	case cmdLogin:
		// time(4) port(4) passlen(2) password[passlen] x1(4) IP(4) x2(1) status(4)
		cur.Skip(4)
		port := cur.U32LE()
		pw := cur.Bytes(int(cur.U16LE()))
		if !cur.OK() {
			c.truncated(h.cmd.name)
			return
		}
		c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: c.users(""), Fields: fields,
			Login: &event.LoginInfo{User: c.user, Outcome: event.Pending}})
		c.credential(dir, "password", cstring(pw), fields)
		cur.Skip(4)
		ip := cur.Bytes(4)
		if !cur.OK() {
			return
		}
		if ap, ok := addrPort(ip, port); ok {
			c.direct(dir, "", []netip.AddrPort{ap}, fields, "icqv5_login")
		}
	case cmdChangePW:
		pw := cur.Bytes(int(cur.U16LE()))
		if !cur.OK() {
			c.truncated(h.cmd.name)
			return
		}
		c.credential(dir, "new_password", cstring(pw), fields)
	case cmdSendMsg:
		// to-UIN(4) msgtype(2) len(2) text
		to := cur.U32LE()
		mt := cur.U16LE()
		text := cur.Bytes(int(cur.U16LE()))
		if !cur.OK() {
			c.truncated(h.cmd.name)
			return
		}
		fields["msg_type"] = msgType(mt)
		c.message(dir, c.user, uinString(to), text, fields)
	case cmdSendTextCode:
		text := cur.Bytes(int(cur.U16LE()))
		if !cur.OK() {
			c.truncated(h.cmd.name)
			return
		}
		if string(cstring(text)) == "B_USER_DISCONNECTED" {
			c.s.Emit(event.Event{Kind: event.Logout, Dir: dir, Users: c.users(""), Fields: fields,
				Login: &event.LoginInfo{User: c.user}})
		}
	}
}

// serverPacket handles the parameters p of a server packet.
func (c *conn) serverPacket(dir flow.Dir, h header, p []byte) {
	fields := map[string]any{"command": h.cmd.name}
	cur := wire.NewCursor(p)
	switch h.cmd.code {
	case srvLoginReply:
		// Only the client's address as the server saw it (param offset
		// 0x0C) is understood (Wireshark SRV_LOGIN_REPLY_IP).
		if len(p) >= 0x10 {
			fields["your_ip"] = ipv4(p[0x0C:]).String()
		}
		c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: c.users(""), Fields: fields,
			Login: &event.LoginInfo{User: c.user, Outcome: event.Success}})
	case srvBadPass:
		c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: c.users(""), Fields: fields,
			Login: &event.LoginInfo{User: c.user, Outcome: event.WrongPassword}})
	case srvUserOnline, srvRandUser:
		// UIN(4) IP(4) port(4) real IP(4) ...
		uin := uinString(cur.U32LE())
		ip := cur.Bytes(4)
		port := cur.U32LE()
		real := cur.Bytes(4)
		if !cur.OK() {
			c.truncated(h.cmd.name)
			return
		}
		if h.cmd.code == srvUserOnline {
			c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Users: c.users(uin),
				Fields: map[string]any{"command": h.cmd.name, "status": "online"}})
		}
		var addrs []netip.AddrPort
		if ap, ok := addrPort(ip, port); ok {
			addrs = append(addrs, ap)
		}
		if ap, ok := addrPort(real, port); ok && (len(addrs) == 0 || ap != addrs[0]) {
			addrs = append(addrs, ap)
		}
		if len(addrs) > 0 {
			c.direct(dir, uin, addrs, fields, "icqv5_"+h.cmd.name)
		}
	case srvUserOffline:
		uin := uinString(cur.U32LE())
		fields["status"] = "offline"
		c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Users: c.users(uin), Fields: fields})
	case srvRecvMessage:
		// UIN(4) year(2) month(1) day(1) hour(1) minute(1) type(2) len(2) text
		from := cur.U32LE()
		cur.Skip(6)
		mt := cur.U16LE()
		text := cur.Bytes(int(cur.U16LE()))
		if !cur.OK() {
			c.truncated(h.cmd.name)
			return
		}
		fields["msg_type"] = msgType(mt)
		fields["offline"] = true
		c.message(dir, uinString(from), c.user, text, fields)
	case srvSysDelivered:
		// UIN(4) type(2) len(2) text
		from := cur.U32LE()
		mt := cur.U16LE()
		text := cur.Bytes(int(cur.U16LE()))
		if !cur.OK() {
			c.truncated(h.cmd.name)
			return
		}
		fields["msg_type"] = msgType(mt)
		c.message(dir, uinString(from), c.user, text, fields)
	}
}

// message emits a message; the text only with --capture-content.
func (c *conn) message(dir flow.Dir, from, to string, text []byte, fields map[string]any) {
	body := cstring(text)
	m := &event.MessageInfo{From: from, To: []string{to}, Length: len(body), Charset: "latin1"}
	// Kept in memory for the content rules; the engine writes it only
	// with --capture-content.
	m.Text = latin1(body)
	peer := to
	if from != c.user {
		peer = from
	}
	c.s.Emit(event.Event{Kind: event.Message, Dir: dir, Users: c.users(peer), Message: m, Fields: fields})
}

// credential reports a password sent in clear (after the key-less
// decryption): class plaintext, masked and fingerprinted, the secret only
// with --reveal-credentials.
func (c *conn) credential(dir flow.Dir, what string, pw []byte, fields map[string]any) {
	cr := c.s.Secret(event.Plaintext, c.user, what, latin1(pw))
	c.s.Emit(event.Event{Kind: event.Credential, Dir: dir, Users: c.users(""), Credential: cr, Fields: fields})
}

// direct reports addresses a packet discloses for ICQ direct connections
// and expects the TCP peer connection there.
func (c *conn) direct(dir flow.Dir, peer string, addrs []netip.AddrPort, fields map[string]any, reason string) {
	users := c.users(peer)
	c.s.Emit(event.Event{Kind: event.Direct, Dir: dir, Feature: event.DirectIM, Users: users, Fields: fields,
		Direct: &event.DirectInfo{Addrs: addrs, Outcome: event.Offered}})
	c.s.Expect(analyzer.Expectation{Addrs: addrs, Proto: "icqdc", Service: "icq", Product: "ICQ",
		Feature: event.DirectIM, Users: users, Reason: reason})
}

// msgType names an ICQ message type (spec icq.md §2.2 list, the same
// values in v5 and the peer protocol); the high byte carries flags.
func msgType(t uint16) string {
	switch t & 0xFF {
	case 0x01:
		return "text"
	case 0x02:
		return "chat"
	case 0x03:
		return "file"
	case 0x04:
		return "url"
	case 0x06:
		return "auth_request"
	case 0x07:
		return "auth_denied"
	case 0x08:
		return "auth_granted"
	case 0x0C:
		return "added"
	case 0x0E:
		return "email_express"
	case 0x13:
		return "contacts"
	case 0x1A:
		return "plugin"
	}
	return "type_" + strconv.Itoa(int(t&0xFF))
}
