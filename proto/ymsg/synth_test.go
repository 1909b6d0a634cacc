package ymsg

import (
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// pdu builds one YMSG PDU byte for byte from ymsg.md §1: the 20-byte
// header (version 6 as gaim 0.56 wrote it, vendor 0) and the key/value
// payload, each item followed by C0 80.
func pdu(svc uint16, status, session uint32, kv ...string) []byte {
	var p []byte
	for _, s := range kv {
		p = append(p, s...)
		p = append(p, sep...)
	}
	b := []byte(magic)
	b = binary.BigEndian.AppendUint16(b, 0x0600) // bytes 06 00
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
	b = binary.BigEndian.AppendUint16(b, svc)
	b = binary.BigEndian.AppendUint32(b, status)
	b = binary.BigEndian.AppendUint32(b, session)
	return append(b, p...)
}

// step is one PDU of a scripted session: dir 0 client, 1 server.
type step struct {
	dir  int
	data []byte
}

const (
	sid   = 0x4A2F19C3
	room  = "alice_2002-2817"
	chat  = "Linux, FreeBSD, Solaris:1"
	crypt = "$1$_2S43d5f$Qw8sV1bH3kZp0yT5nC7dE." // md5crypt shape: salt + 22 y64 characters
	yck   = "Y\tv=1&n=3lmp1hq9m6mk&l=a0b2c4d6/o&p=m2l0e8a012000000&r=9k&lg=us&intl=us; path=/; domain=.yahoo.com"
	tck   = "T\tz=Gq8Y8BGkk8BBa3Q5NEr0ZfVMTY0BjQ3NjQ&a=QAE&sk=DAAN5PLYbB4qFd&d=c2wBTkRBekFUSXpNVEV4; path=/; domain=.yahoo.com"
)

// v6Session is a 2002 YMSG v6 session of alice_2002 (ymsg.md §3.2-§5).
var v6Session = []step{
	// v6 login: ids in 0 and 1, md5crypt(password, "$1$_2S43d5f$") in 6.
	{0, pdu(svcLogon, 0, 0, "0", "alice_2002", "1", "alice_2002", "6", crypt)},
	// Buddy list with the Y and T cookies in field 59.
	{1, pdu(svcList, 0, sid, "87", "Friends:bob_smith,carol99\n", "88", "spammer1", "59", yck, "59", tck, "3", "alice_2002")},
	// Logon answer: one buddy online, available.
	{1, pdu(svcLogon, 0, sid, "0", "alice_2002", "1", "alice_2002", "8", "1", "7", "bob_smith", "10", "0", "11", "6C2A1B3D", "17", "0", "13", "1")},
	{0, pdu(svcMessage, 0, sid, "1", "alice_2002", "5", "bob_smith", "14", "hi bob, lunch at 12?")},
	{1, pdu(svcNotify, 0x16, sid, "4", "bob_smith", "5", "alice_2002", "14", " ", "13", "1", "49", "TYPING")},
	// A Latin-1 reply with a colour escape and a font tag.
	{1, pdu(svcMessage, 1, sid, "5", "alice_2002", "4", "bob_smith", "14", "\x1b[#ff0000m<font face=\"Arial\" size=\"10\">sure, caf\xe9 at 12</font>")},
	{0, pdu(svcNotify, 0x16, sid, "4", "alice_2002", "5", "bob_smith", "14", " ", "13", "1", "49", "TYPING")},
	{0, pdu(svcIsAway, 2, sid, "10", "2")},
	{0, pdu(svcConfInvite, 0, sid, "1", "alice_2002", "50", "alice_2002", "52", "bob_smith", "52", "carol99", "57", room, "58", "Join my conference", "13", "0")},
	{1, pdu(svcConfLogon, 0, sid, "1", "alice_2002", "53", "bob_smith", "57", room)},
	{0, pdu(svcConfMsg, 0, sid, "1", "alice_2002", "53", "bob_smith", "53", "carol99", "57", room, "14", "welcome, both of you", "97", "1")},
	{1, pdu(svcConfMsg, 0, sid, "1", "alice_2002", "3", "bob_smith", "57", room, "14", "thanks \xc3\xa9", "97", "1")},
	{0, pdu(svcChatJoin, 0, sid, "1", "alice_2002", "104", chat, "129", "1600326591", "62", "2")},
	{1, pdu(svcChatJoin, 0, sid, "104", chat, "105", "Welcome to the Linux room", "108", "2", "109", "alice_2002", "109", "dave_b")},
	{1, pdu(svcComment, 0, sid, "104", chat, "109", "dave_b", "117", "anyone running 2.4.18?", "124", "1")},
	{0, pdu(svcComment, 0, sid, "1", "alice_2002", "104", chat, "117", "yes, since March", "124", "1")},
	{1, pdu(svcNotify, 0, sid, "4", "bob_smith", "5", "alice_2002", "49", "WEBCAMINVITE", "14", " ", "13", "0")},
	{1, pdu(svcVoiceChat, 0, sid, "4", "carol99", "5", "alice_2002", "57", "carol99-5678", "13", "1")},
	{1, pdu(svcNotify, 0, sid, "4", "bob_smith", "5", "alice_2002", "49", "GAME", "14", "chess", "13", "1")},
	// A file offer as the receiver gets it: the download URL in 20.
	{1, pdu(svcFileTransfer, 0, sid, "5", "alice_2002", "4", "bob_smith", "14", "the report", "20",
		"http://fs.yahoo.com/users/bob_smith/.tmp/report.doc?bc1bDj8BwvQ9HdL_", "27", "report.doc", "28", "48128", "38", "604800")},
	{1, pdu(svcLogoff, 0, sid, "7", "carol99", "10", "0")},
	{0, pdu(svcLogoff, 0, sid)},
}

// challengeSession is a 0x57/0x54 challenge-response login (ymsg.md §3.3).
func challengeSession(resp6, code string) []step {
	s := []step{
		{0, pdu(svcAuth, 0, 0, "1", "bob_smith")},
		{1, pdu(svcAuth, 0, 0x0BADF00D, "1", "bob_smith", "94", "v4(y+m&j*r1^7f-b%d3z|0s6k)8w", "13", "0")},
		{0, pdu(svcAuthResp, 0, 0x0BADF00D, "0", "bob_smith", "6", resp6, "96", "GbC3yUq_T1xZ4oW2nJ7sLa--", "1", "bob_smith")},
	}
	if code != "" {
		return append(s, step{1, pdu(svcAuthResp, statusDisconnected, 0x0BADF00D, "66", code)})
	}
	return append(s,
		step{1, pdu(svcList, 0, 0x0BADF00D, "87", "Friends:alice_2002\n", "59", yck, "59", tck, "3", "bob_smith")},
		step{1, pdu(svcLogon, 0, 0x0BADF00D, "0", "bob_smith", "1", "bob_smith", "8", "1", "7", "alice_2002", "10", "99", "19", "in a meeting", "13", "1")},
	)
}

var t0 = time.Date(2002, 4, 12, 15, 0, 0, 0, time.UTC)

func send(c *pcaptest.Conv, steps []step) {
	for _, s := range steps {
		c.Send(s.dir, s.data)
	}
}

// buildV6 writes ymsg-v6.pcap: the v6 session on the pager port 5050, and
// an unrelated flow on 5050 that must stay unclaimed.
func buildV6() []byte {
	w := pcaptest.NewWriter()
	c := w.TCP(t0, netip.MustParseAddrPort("192.168.1.50:1050"), netip.MustParseAddrPort("203.0.113.5:5050"))
	c.Handshake()
	send(c, v6Session)
	c.Close()
	d := w.TCP(c.T.Add(time.Second), netip.MustParseAddrPort("192.168.1.50:1051"), netip.MustParseAddrPort("203.0.113.5:5050"))
	d.Handshake()
	d.Send(0, []byte("YMSX this is not a YMSG header\r\n"))
	d.Close()
	return w.Bytes()
}

// buildChallenge writes ymsg-challenge.pcap: a challenge-response login
// refused for a wrong password, then one that succeeds, both on port 23.
func buildChallenge() []byte {
	w := pcaptest.NewWriter()
	srv := netip.MustParseAddrPort("203.0.113.9:23")
	c := w.TCP(t0, netip.MustParseAddrPort("192.168.1.60:1061"), srv)
	c.Handshake()
	send(c, challengeSession("AbX9.pQ2rT_kLm4nZ8sW1y--", "13"))
	c.Close()
	d := w.TCP(c.T.Add(time.Second), netip.MustParseAddrPort("192.168.1.60:1062"), srv)
	d.Handshake()
	send(d, challengeSession("Hk2.Lw9_Rz4mXq7tBv1pNc--", ""))
	d.Close()
	return w.Bytes()
}

func TestCaptures(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "ymsg-v6.pcap"), buildV6())
	golden.Check(t, filepath.Join("testdata", "ymsg-challenge.pcap"), buildChallenge())
}
