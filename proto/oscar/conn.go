package oscar

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// conn is the per-flow state of one OSCAR connection (login, BOS or chat).
type conn struct {
	s       *analyzer.Session
	user    string // screen name or UIN of the local user
	client  string // client id string
	service string // "aim" or "icq" once decided
	bos     bool   // the client signed on with a cookie (a BOS or service connection)
	online  bool   // the BOS login was answered
	md5Key  int    // length of the SNAC 17/07 challenge; 0: none seen
	resync  [2]bool
}

func newConn(s *analyzer.Session) analyzer.Conn {
	c := &conn{s: s}
	if x := s.Expected(); x != nil {
		c.user = x.Users.Local
		if x.Service == "icq" || x.Service == "aim" {
			c.service = x.Service
		}
	}
	return c
}

// Feed parses whole FLAP frames and leaves a partial one for the next call.
func (c *conn) Feed(dir flow.Dir, data []byte) (int, error) {
	n := 0
	if c.resync[dir] {
		i, ok := resyncFLAP(data)
		if !ok {
			return max(0, len(data)-flapHeader), nil
		}
		n, c.resync[dir] = i, false
	}
	for {
		f, ok, err := parseFLAP(data[n:])
		if err != nil {
			c.s.Anomaly("oscar_bad_flap", err.Error())
			c.resync[dir] = true
			return n + 1, nil
		}
		if !ok {
			return n, nil
		}
		c.frame(dir, f)
		n += f.size
	}
}

// resyncFLAP finds the first offset of data that looks like a frame
// boundary: '*', a channel 1-5 and, after the frame, either the end of the
// data or another '*'. ok is false when none is found.
func resyncFLAP(data []byte) (int, bool) {
	for i := 0; i+flapHeader <= len(data); i++ {
		if data[i] != flapStart || data[i+1] < chanSignon || data[i+1] > chanKeepalive {
			continue
		}
		end := i + flapHeader + int(binary.BigEndian.Uint16(data[i+4:i+6]))
		if end >= len(data) || data[end] == flapStart {
			return i, true
		}
	}
	return 0, false
}

// Gap: the next bytes of that direction start somewhere in a frame; Feed
// looks for the next frame boundary.
func (c *conn) Gap(dir flow.Dir, size int) {
	c.resync[dir] = true
	c.s.Anomaly("oscar_gap", strconv.Itoa(size)+" bytes missing: resynchronising on the next frame")
}

// frame dispatches one FLAP frame.
func (c *conn) frame(dir flow.Dir, f flapFrame) {
	switch f.channel {
	case chanSignon:
		c.signon(dir, f.payload)
	case chanData:
		sn, err := parseSNAC(f.payload)
		if err != nil {
			c.s.Anomaly("oscar_bad_flap_length", fmt.Sprintf("channel 2 frame of %d bytes: %v", len(f.payload), err))
			return
		}
		c.s.Confirm()
		c.snac(dir, sn)
	case chanSignoff:
		c.signoff(dir, f.payload)
	}
}

// setProduct records the product once evidence decides it; ICQ evidence
// wins over an earlier default.
func (c *conn) setProduct(icq bool) {
	switch {
	case icq && c.service != "icq":
		c.service = "icq"
		c.s.SetService("icq", "ICQ")
	case !icq && c.service == "":
		c.service = "aim"
		c.s.SetService("aim", "AIM")
	}
}

// setUser records the local user's name; a UIN is ICQ evidence, a name
// with letters AIM evidence.
func (c *conn) setUser(name string) {
	if name == "" {
		return
	}
	c.user = name
	c.setProduct(isUIN(name))
}

// setClient records the client id string; "ICQ" in it is ICQ evidence.
func (c *conn) setClient(b []byte) {
	if s := printable(b, 128); s != "" {
		c.client = s
		if strings.Contains(s, "ICQ") {
			c.setProduct(true)
		}
	}
}

func (c *conn) users(peer string) event.Users { return event.Users{Local: c.user, Peer: peer} }

// signon handles a channel-1 frame: the server hello, the client's XOR
// login, or the cookie that opens a BOS connection (§1.1, §2.2).
func (c *conn) signon(dir flow.Dir, p []byte) {
	if len(p) < 4 || binary.BigEndian.Uint32(p[:4]) != flapVersion {
		c.s.Anomaly("oscar_bad_signon", "channel 1 frame without version 1")
		return
	}
	if len(p) == 4 || dir == flow.Resp {
		return
	}
	var t tlvBlock
	if err := parseTLVs(p[4:], &t); err != nil {
		c.s.Anomaly("oscar_bad_tlv", "signon: "+err.Error())
	}
	if v, ok := t.get(0x0003); ok {
		c.setClient(v)
	}
	if v, ok := t.get(0x0001); ok {
		c.setUser(printable(v, 97))
	}
	if cookie, ok := t.get(0x0006); ok {
		c.bos = true
		if c.user != "" && c.service == "" {
			c.setProduct(isUIN(c.user))
		}
		c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: c.users(""), Fields: map[string]any{"method": "cookie", "stage": "bos"},
			Login: &event.LoginInfo{User: c.user, Client: c.client, Outcome: event.Pending}})
		c.token(dir, cookie)
		return
	}
	if pw, ok := t.get(0x0002); ok {
		c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: c.users(""), Fields: map[string]any{"method": "xor"},
			Login: &event.LoginInfo{User: c.user, Client: c.client, Outcome: event.Pending}})
		c.password(dir, pw)
	}
}

// password reports the XOR-roasted password of a channel-1 (or 17/02 TLV
// 2) login: reversible, recovered in memory, stored only when revealing.
func (c *conn) password(dir flow.Dir, roasted []byte) {
	pw, ok := unroast(roasted)
	if !ok {
		c.s.Anomaly("oscar_bad_password", "roasted password is not printable with either table")
		return
	}
	ci := c.s.Secret(event.Reversible, c.user, "password", pw)
	c.s.Emit(event.Event{Kind: event.Credential, Dir: dir, Users: c.users(""), Credential: ci, Fields: map[string]any{"method": "xor"}})
}

// token reports the BOS cookie (a session token: replayable while valid).
func (c *conn) token(dir flow.Dir, cookie []byte) {
	ci := c.s.Secret(event.SessionToken, c.user, "cookie", string(cookie))
	c.s.Emit(event.Event{Kind: event.Credential, Dir: dir, Users: c.users(""), Credential: ci})
}

// signoff handles a channel-4 frame: the ICQ login reply (TLVs 5/6/8) from
// the server, else the end of the session.
func (c *conn) signoff(dir flow.Dir, p []byte) {
	if dir == flow.Resp && len(p) > 0 {
		var t tlvBlock
		if err := parseTLVs(p, &t); err != nil {
			c.s.Anomaly("oscar_bad_tlv", "signoff: "+err.Error())
		}
		_, bos := t.get(0x0005)
		_, code := t.get(0x0008)
		if bos || code {
			c.s.Confirm()
			c.authReply(dir, &t)
			return
		}
	}
	if !c.bos {
		return
	}
	c.s.Emit(event.Event{Kind: event.Logout, Dir: dir, Users: c.users(""), Login: &event.LoginInfo{User: c.user}})
	c.bos, c.online = false, false
}

// Login error codes of TLV 0x0008 (iserverd OSCAR docs, pidgin oscar.c).
func loginOutcome(code uint16) event.Outcome {
	switch code {
	case 0x0001, 0x0004, 0x0005:
		return event.WrongPassword
	case 0x0018, 0x001D:
		return event.RateLimited
	case 0x0007, 0x0008, 0x0011, 0x001C:
		return event.Refused
	}
	return event.Failure
}

// authReply handles the login server's answer (SNAC 17/03 or the ICQ
// channel-4 reply): the BOS address and cookie, or an error code.
func (c *conn) authReply(dir flow.Dir, t *tlvBlock) {
	if v, ok := t.get(0x0001); ok && c.user == "" {
		c.setUser(printable(v, 97))
	}
	fields := map[string]any{"stage": "auth"}
	if v, ok := t.get(0x0011); ok {
		if e := printable(v, 128); e != "" {
			fields["email"] = e
		}
	}
	if v, ok := t.get(0x0008); ok && len(v) == 2 {
		code := binary.BigEndian.Uint16(v)
		fields["error_code"] = int(code)
		c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: c.users(""), Fields: fields,
			Login: &event.LoginInfo{User: c.user, Client: c.client, Outcome: loginOutcome(code), Reason: "error 0x" + strconv.FormatUint(uint64(code), 16)}})
		return
	}
	bosAddr, _ := t.get(0x0005)
	cookie, hasCookie := t.get(0x0006)
	addr := printable(bosAddr, 64)
	if addr != "" {
		fields["bos"] = addr
	}
	c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: c.users(""), Fields: fields,
		Login: &event.LoginInfo{User: c.user, Client: c.client, Outcome: event.Success}})
	if !hasCookie {
		return
	}
	c.token(dir, cookie)
	ap, ok := bosAddrPort(addr)
	if !ok {
		return
	}
	svc, prod := "aim", "AIM"
	if c.service == "icq" {
		svc, prod = "icq", "ICQ"
	}
	c.s.Expect(analyzer.Expectation{Addrs: []netip.AddrPort{ap}, Proto: "oscar", Service: svc, Product: prod,
		Users: event.Users{Local: c.user}, Reason: "oscar_bos_redirect"})
}

// bosAddrPort parses TLV 0x0005: "ip:port", or "ip" on the default 5190.
func bosAddrPort(s string) (netip.AddrPort, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a, 5190), true
	}
	return netip.AddrPort{}, false
}

// snac dispatches one SNAC by family and subtype.
func (c *conn) snac(dir flow.Dir, sn snac) {
	if sn.family == 0x0015 {
		c.setProduct(true)
	}
	switch {
	case sn.family == 0x0001:
		c.generic(dir, sn)
	case sn.family == 0x0017:
		c.auth(dir, sn)
	case sn.family == 0x0002 && sn.subtype == 0x0004 && dir == flow.Orig:
		c.setInfo(dir, sn.body)
	case sn.family == 0x0003 && (sn.subtype == 0x000B || sn.subtype == 0x000C):
		c.buddy(dir, sn)
	case sn.family == 0x0004 && (sn.subtype == 0x0006 || sn.subtype == 0x0007):
		c.icbm(dir, sn)
	case sn.family == 0x0004 && sn.subtype == 0x0014:
		c.typing(dir, sn.body)
	}
}

// generic handles family 1: the first server SNAC of a cookie login
// completes it; the self info (01/0F) names the user; a service redirect
// (01/05) announces the next connection. (The family versions of 01/17 are
// no evidence: libpurple lists family 0x15 for AIM accounts too.)
func (c *conn) generic(dir flow.Dir, sn snac) {
	if dir == flow.Resp && c.bos && !c.online {
		c.online = true
		c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: c.users(""), Fields: map[string]any{"stage": "bos"},
			Login: &event.LoginInfo{User: c.user, Client: c.client, Outcome: event.Success}})
	}
	switch {
	case sn.subtype == 0x0005 && dir == flow.Resp:
		c.serviceRedirect(dir, sn.body)
	case sn.subtype == 0x000F && dir == flow.Resp && c.user == "":
		var ui userInfo
		if err := parseUserInfo(sn.body, &ui); err == nil {
			c.setUser(printable([]byte(ui.name), 97))
		}
	}
}

// auth handles family 0x17, the MD5 login (§2.1).
func (c *conn) auth(dir flow.Dir, sn snac) {
	switch sn.subtype {
	case 0x0006: // key request
		var t tlvBlock
		if err := parseTLVs(sn.body, &t); err != nil {
			c.s.Anomaly("oscar_bad_tlv", "17/06: "+err.Error())
		}
		if v, ok := t.get(0x0001); ok {
			c.setUser(printable(v, 97))
		}
	case 0x0007: // key
		if len(sn.body) >= 2 {
			n := int(binary.BigEndian.Uint16(sn.body[:2]))
			if n > 0 && n <= len(sn.body)-2 {
				c.md5Key = n
			}
		}
	case 0x0002: // login
		var t tlvBlock
		if err := parseTLVs(sn.body, &t); err != nil {
			c.s.Anomaly("oscar_bad_tlv", "17/02: "+err.Error())
		}
		if v, ok := t.get(0x0003); ok {
			c.setClient(v)
		}
		if v, ok := t.get(0x0001); ok {
			c.setUser(printable(v, 97))
		}
		digest, md5 := t.get(0x0025)
		roasted, xor := t.get(0x0002)
		method := "md5"
		if !md5 && xor {
			method = "xor"
		}
		c.s.Emit(event.Event{Kind: event.Login, Dir: dir, Users: c.users(""), Fields: map[string]any{"method": method},
			Login: &event.LoginInfo{User: c.user, Client: c.client, Outcome: event.Pending}})
		switch {
		case md5:
			fields := map[string]any{"method": "md5", "challenge_length": c.md5Key, "challenge_seen": c.md5Key > 0}
			if _, pre := t.get(0x004C); pre {
				fields["prehashed"] = true // MD5(key || MD5(password) || AIM string)
			}
			ci := &event.CredentialInfo{Class: event.OfflineCrackable, User: c.user, What: "md5_response", Length: len(digest)}
			c.s.Emit(event.Event{Kind: event.Credential, Dir: dir, Users: c.users(""), Credential: ci, Fields: fields})
		case xor:
			c.password(dir, roasted)
		}
	case 0x0003: // reply
		var t tlvBlock
		if err := parseTLVs(sn.body, &t); err != nil {
			c.s.Anomaly("oscar_bad_tlv", "17/03: "+err.Error())
		}
		c.authReply(dir, &t)
	}
}

// setInfo handles 02/04: TLV 4 is the away message (empty: back).
func (c *conn) setInfo(dir flow.Dir, b []byte) {
	var t tlvBlock
	if err := parseTLVs(b, &t); err != nil {
		c.s.Anomaly("oscar_bad_tlv", "02/04: "+err.Error())
	}
	v, ok := t.get(0x0004)
	if !ok {
		return
	}
	status := "away"
	if len(v) == 0 {
		status = "available"
	}
	c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Users: c.users(""), Fields: map[string]any{"status": status}})
}

// buddy handles 03/0B (online) and 03/0C (offline). ICQ user info carries
// the contact's external IP (TLV 0x0A) and direct-connection address
// (TLV 0x0C), which the event records.
func (c *conn) buddy(dir flow.Dir, sn snac) {
	var ui userInfo
	if err := parseUserInfo(sn.body, &ui); err != nil {
		c.s.Anomaly("oscar_bad_tlv", "buddy user info: "+err.Error())
		if ui.name == "" {
			return
		}
	}
	peer := printable([]byte(ui.name), 97)
	fields := map[string]any{"status": "online"}
	if sn.subtype == 0x000C {
		fields["status"] = "offline"
	}
	if v, ok := ui.tlvs.get(0x000A); ok && len(v) == 4 {
		fields["external_ip"] = netip.AddrFrom4([4]byte(v)).String()
	}
	if v, ok := ui.tlvs.get(0x000C); ok && len(v) >= 8 {
		a := netip.AddrFrom4([4]byte(v[:4]))
		port := binary.BigEndian.Uint32(v[4:8])
		if !a.IsUnspecified() && port > 0 && port < 65536 {
			fields["dc_addr"] = netip.AddrPortFrom(a, uint16(port)).String()
		}
	}
	c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Users: c.users(peer), Fields: fields})
}

// typing handles 04/14, the mini typing notification.
func (c *conn) typing(dir flow.Dir, b []byte) {
	if len(b) < 11 {
		c.s.Anomaly("oscar_bad_snac", "short typing notification")
		return
	}
	n := int(b[10])
	if len(b) < 11+n+2 {
		c.s.Anomaly("oscar_bad_snac", "short typing notification")
		return
	}
	peer := printable(b[11:11+n], 97)
	state := "unknown"
	switch binary.BigEndian.Uint16(b[11+n:]) {
	case 0:
		state = "finished"
	case 1:
		state = "typed"
	case 2:
		state = "begun"
	}
	c.s.Emit(event.Event{Kind: event.Presence, Dir: dir, Users: c.users(peer), Fields: map[string]any{"typing": state}})
}

// serviceRedirect handles the 01/05 reply: the address (TLV 5) and cookie
// (TLV 6) of a service connection (chat, chatnav...) the client opens next.
func (c *conn) serviceRedirect(dir flow.Dir, b []byte) {
	var t tlvBlock
	if err := parseTLVs(b, &t); err != nil {
		c.s.Anomaly("oscar_bad_tlv", "01/05: "+err.Error())
	}
	addr, _ := t.get(0x0005)
	cookie, ok := t.get(0x0006)
	if !ok {
		return
	}
	c.token(dir, cookie)
	ap, ok := bosAddrPort(printable(addr, 64))
	if !ok {
		return
	}
	svc, prod := "aim", "AIM"
	if c.service == "icq" {
		svc, prod = "icq", "ICQ"
	}
	c.s.Expect(analyzer.Expectation{Addrs: []netip.AddrPort{ap}, Proto: "oscar", Service: svc, Product: prod,
		Users: event.Users{Local: c.user}, Reason: "oscar_service_redirect"})
}
