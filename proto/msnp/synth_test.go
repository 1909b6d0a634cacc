package msnp

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// The synthetic captures are built byte for byte from shared/specs/msnp.md
// (§2.1 MD5 login, §2.2 TWN login, §3 switchboard, §4 invitations, §6 the
// font-name overflow). Client alice@hotmail.com at 192.168.1.20, her
// contact bob@hotmail.com.

// step is one command sent by the client (0) or the server (1).
type step struct {
	dir  int
	data string
}

// msg builds a payload command: the header line with the byte count of
// the MIME payload, then the payload.
func msg(head, payload string) string {
	return fmt.Sprintf("%s %d\r\n%s", head, len(payload), payload)
}

// mimeText is a text/plain message payload with the given font name.
func mimeText(font, text string) string {
	return "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n" +
		"X-MMS-IM-Format: FN=" + font + "; EF=; CO=0; CS=0; PF=22\r\n\r\n" + text
}

// mimeTyping is a typing notification payload.
func mimeTyping(user string) string {
	return "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: " + user + "\r\n\r\n\r\n"
}

// mimeInvite is a text/x-msmsgsinvite payload; lines are "Name: value".
func mimeInvite(lines ...string) string {
	return "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\n" + strings.Join(lines, "\r\n") + "\r\n\r\n"
}

const (
	md5Seed     = "1013928519.693957190"
	md5Password = "p4ssw0rd"
	sbCookie    = "17262740.1050826919.32308"
	rngCookie   = "849102291.520491113"
	twnTicket   = "t=53*1hAu8ADuD3TEwdXoOMi08sD*2!cMrntTwVMTjoB3p6stWTqzbkKZPVQzA5NOt19SLI60PY!b8K4YhC!Ooo5ug$$&p=MBbOJaOe*Y7SW1tQh*GrWaG8TSb*0wvJpFAO8drgy8jZ4D"
)

func md5Response() string {
	h := md5.Sum([]byte(md5Seed + md5Password))
	return hex.EncodeToString(h[:])
}

var (
	alice      = netip.MustParseAddr("192.168.1.20")
	dispatch   = netip.MustParseAddrPort("207.46.104.20:1863")
	nsAddr     = netip.MustParseAddrPort("207.46.106.79:1863")
	sbAddr     = netip.MustParseAddrPort("207.46.108.37:1863")
	rngAddr    = netip.MustParseAddrPort("207.46.108.38:1863")
	t0         = time.Date(2002, 6, 3, 9, 0, 0, 0, time.UTC)
	profileMsg = "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\nLoginTime: 1022230800\r\n" +
		"EmailEnabled: 1\r\nMemberIdHigh: 84736\r\nMemberIdLow: -1434729391\r\nlang_preference: 1033\r\n" +
		"preferredEmail: alice@hotmail.com\r\ncountry: US\r\nPostalCode: \r\nGender: F\r\nKid: 0\r\nAge: \r\n" +
		"sid: 507\r\nkv: 2\r\nMSPAuth: 2AAAAAAAADDxPAzOdtbqgRDdb7VFJ8NYZ0X*1Y\r\n\r\n"
)

// conv writes one connection with its steps.
func conv(w *pcaptest.Writer, t time.Time, orig, resp netip.AddrPort, steps []step) time.Time {
	c := w.TCP(t, orig, resp)
	c.Handshake()
	for _, s := range steps {
		c.Send(s.dir, []byte(s.data))
	}
	c.Close()
	return c.T.Add(time.Second)
}

// md5Steps: dispatch login redirected to another notification server.
var dispatchSteps = []step{
	{0, "VER 1 MSNP7 MSNP6 MSNP5 MSNP4 CVR0\r\n"},
	{1, "VER 1 MSNP7\r\n"},
	{0, "INF 2\r\n"},
	{1, "INF 2 MD5\r\n"},
	{0, "USR 3 MD5 I alice@hotmail.com\r\n"},
	{1, "XFR 3 NS 207.46.106.79:1863 0 207.46.104.20:1863\r\n"},
}

// nsSteps: the notification server session after the redirect.
func nsSteps() []step {
	return []step{
		{0, "VER 4 MSNP7 MSNP6 MSNP5 MSNP4 CVR0\r\n"},
		{1, "VER 4 MSNP7\r\n"},
		{0, "INF 5\r\n"},
		{1, "INF 5 MD5\r\n"},
		{0, "CVR 6 0x0409 winnt 5.1 i386 MSNMSGR 4.6.0082 MSMSGS alice@hotmail.com\r\n"},
		{1, "CVR 6 4.6.0082 4.6.0082 4.5.0127 http://download.microsoft.com/msn/4.6.0082/SETUP.EXE http://messenger.msn.com\r\n"},
		{0, "USR 7 MD5 I alice@hotmail.com\r\n"},
		{1, "USR 7 MD5 S " + md5Seed + "\r\n"},
		{0, "USR 8 MD5 S " + md5Response() + "\r\n"},
		{1, "USR 8 OK alice@hotmail.com Alice%20Smith\r\n"},
		{1, msg("MSG Hotmail Hotmail", profileMsg)},
		{0, "SYN 9 0\r\n"},
		{1, "SYN 9 12\r\n"},
		{0, "CHG 10 NLN\r\n"},
		{1, "CHG 10 NLN\r\nILN 10 NLN bob@hotmail.com Bob\r\n"},
		{1, "NLN AWY carol@msn.com Carol%20%28away%29\r\n"},
		{0, "XFR 11 SB\r\n"},
		{1, "XFR 11 SB 207.46.108.37:1863 CKI " + sbCookie + "\r\n"},
		{1, "RNG 11752013 207.46.108.38:1863 CKI " + rngCookie + " bob@hotmail.com Bob\r\n"},
		{1, "FLN carol@msn.com\r\n"},
		{0, "OUT\r\n"},
	}
}

// sbSteps: the switchboard alice opened with XFR SB.
func sbSteps() []step {
	return []step{
		{0, "USR 1 alice@hotmail.com " + sbCookie + "\r\n"},
		{1, "USR 1 OK alice@hotmail.com Alice%20Smith\r\n"},
		{0, "CAL 2 bob@hotmail.com\r\n"},
		{1, "CAL 2 RINGING 11752013\r\n"},
		{1, "JOI bob@hotmail.com Bob\r\n"},
		{0, msg("MSG 3 U", mimeTyping("alice@hotmail.com"))},
		{0, msg("MSG 4 N", mimeText("MS%20Sans%20Serif", "hello bob"))},
		{1, msg("MSG bob@hotmail.com Bob", mimeTyping("bob@hotmail.com"))},
		{1, msg("MSG bob@hotmail.com Bob", mimeText("Arial", "hi alice, how are you?"))},
		// §6: a font name of 200 bytes (CVE-2002-1698 heuristic).
		{1, msg("MSG bob@hotmail.com Bob", mimeText(strings.Repeat("A", 200), "crash"))},
		{1, "BYE bob@hotmail.com\r\n"},
		{0, "OUT\r\n"},
	}
}

// rngSteps: the switchboard bob invited alice to (RNG), answered with ANS.
func rngSteps() []step {
	return []step{
		{0, "ANS 1 alice@hotmail.com " + rngCookie + " 11752013\r\n"},
		{1, "IRO 1 1 1 bob@hotmail.com Bob\r\n"},
		{1, "ANS 1 OK\r\n"},
		{1, msg("MSG bob@hotmail.com Bob", mimeText("Arial", "are you there?"))},
		{0, msg("MSG 2 N", mimeText("MS%20Sans%20Serif", "yes"))},
		{0, "OUT\r\n"},
	}
}

// buildMD5 writes synthetic-md5-login.pcap: dispatch, redirected
// notification server, the XFR SB switchboard and the RNG switchboard.
func buildMD5() []byte {
	w := pcaptest.NewWriter()
	t := conv(w, t0, netip.AddrPortFrom(alice, 1025), dispatch, dispatchSteps)
	t = conv(w, t, netip.AddrPortFrom(alice, 1026), nsAddr, nsSteps())
	t = conv(w, t, netip.AddrPortFrom(alice, 1027), sbAddr, sbSteps())
	conv(w, t, netip.AddrPortFrom(alice, 1028), rngAddr, rngSteps())
	return w.Bytes()
}

// GUIDs of spec §4.
const (
	guidFT      = "{5D3E02AB-6190-11d3-BBBB-00C04F795683}"
	guidNM      = "{44BBA842-CC51-11CF-AAFA-00AA00B6015C}"
	guidVoice   = "{02D3C01F-BF30-4825-A83A-DE7AF41648AA}"
	guidRA      = "{56b994a7-380f-410b-9985-c809d78c1bdc}"
	guidWB      = "{1DF57D09-637A-4ca5-91B9-2C3EDAAF62FE}"
	guidUnknown = "{6A13AF9C-5308-4F35-923A-67E8DDA40C2F}"
)

// inviteSteps: one invitation of each kind on a switchboard.
func inviteSteps() []step {
	bob := "MSG bob@hotmail.com Bob"
	return []step{
		{0, "USR 1 alice@hotmail.com " + sbCookie + "\r\n"},
		{1, "USR 1 OK alice@hotmail.com Alice\r\n"},
		{0, "CAL 2 bob@hotmail.com\r\n"},
		{1, "CAL 2 RINGING 11752013\r\n"},
		{1, "JOI bob@hotmail.com Bob\r\n"},
		// §4.1 file transfer: INVITE, receiver ACCEPT, sender ACCEPT with address.
		{0, msg("MSG 3 N", mimeInvite("Application-Name: File Transfer", "Application-GUID: "+guidFT,
			"Invitation-Command: INVITE", "Invitation-Cookie: 1", "Application-File: report.doc", "Application-FileSize: 123456"))},
		{1, msg(bob, mimeInvite("Invitation-Command: ACCEPT", "Invitation-Cookie: 1", "Launch-Application: FALSE", "Request-Data: IP-Address:"))},
		{0, msg("MSG 4 N", mimeInvite("Invitation-Command: ACCEPT", "Invitation-Cookie: 1", "IP-Address: 203.0.113.20",
			"IP-Address-Internal: 192.168.1.20", "Port: 6891", "AuthCookie: 1105092783", "Launch-Application: FALSE", "Request-Data: IP-Address:"))},
		// NetMeeting (application sharing) from bob, accepted with alice's address.
		{1, msg(bob, mimeInvite("Application-Name: NetMeeting", "Application-GUID: "+guidNM, "Session-Protocol: SM1",
			"Invitation-Command: INVITE", "Invitation-Cookie: 2", "Session-ID: {A2ED5ACF-F784-4B47-A7D4-997CD8F643CC}"))},
		{0, msg("MSG 5 N", mimeInvite("Invitation-Command: ACCEPT", "Invitation-Cookie: 2", "Session-ID: {A2ED5ACF-F784-4B47-A7D4-997CD8F643CC}",
			"Launch-Application: TRUE", "IP-Address: 192.168.1.20", "Port: 1503"))},
		// Remote assistance asked by alice, declined by bob.
		{0, msg("MSG 6 N", mimeInvite("Application-Name: Remote Assistance", "Application-GUID: "+guidRA,
			"Session-Protocol: SM1", "Invitation-Command: INVITE", "Invitation-Cookie: 3"))},
		{1, msg(bob, mimeInvite("Invitation-Command: CANCEL", "Invitation-Cookie: 3", "Cancel-Code: REJECT"))},
		// Voice from bob, accepted.
		{1, msg(bob, mimeInvite("Application-Name: an audio conversation", "Application-GUID: "+guidVoice,
			"Session-Protocol: SM1", "Context-Data: Requested:SIP_A,;Capabilities:SIP_A,;", "Invitation-Command: INVITE", "Invitation-Cookie: 4"))},
		{0, msg("MSG 7 N", mimeInvite("Invitation-Command: ACCEPT", "Invitation-Cookie: 4", "Context-Data: Requested:SIP_A,;Capabilities:SIP_A,;",
			"IP-Address: 203.0.113.20", "IP-Address-Internal: 192.168.1.20", "Port: 5004"))},
		// Whiteboard from alice, accepted.
		{0, msg("MSG 8 N", mimeInvite("Application-Name: Whiteboard", "Application-GUID: "+guidWB,
			"Session-Protocol: SM1", "Invitation-Command: INVITE", "Invitation-Cookie: 5"))},
		{1, msg(bob, mimeInvite("Invitation-Command: ACCEPT", "Invitation-Cookie: 5", "Launch-Application: TRUE"))},
		// A game (per-game GUID, recognised by its name), cancelled by alice.
		{1, msg(bob, mimeInvite("Application-Name: Game: Checkers", "Application-GUID: "+guidUnknown,
			"Session-Protocol: SM1", "Invitation-Command: INVITE", "Invitation-Cookie: 6"))},
		{0, msg("MSG 9 N", mimeInvite("Invitation-Command: CANCEL", "Invitation-Cookie: 6", "Cancel-Code: REJECT"))},
		{0, "OUT\r\n"},
	}
}

// buildInvitations writes synthetic-invitations.pcap.
func buildInvitations() []byte {
	w := pcaptest.NewWriter()
	conv(w, t0, netip.AddrPortFrom(alice, 1030), sbAddr, inviteSteps())
	return w.Bytes()
}

// twnSteps: an MSNP8 login (§2.2) on a notification server at port 5000,
// so detection cannot lean on the port, with the client challenge.
var twnSteps = []step{
	{0, "VER 1 MSNP8 CVR0\r\n"},
	{1, "VER 1 MSNP8 CVR0\r\n"},
	{0, "CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 5.0.0540 MSMSGS alice@hotmail.com\r\n"},
	{1, "CVR 2 5.0.0540 5.0.0540 1.0.0000 http://download.microsoft.com/download/msnmessenger/install/5.0/w98nt42kmexp/en-us/setupdl.exe http://messenger.msn.com\r\n"},
	{0, "USR 3 TWN I alice@hotmail.com\r\n"},
	{1, "USR 3 TWN S lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619\r\n"},
	{0, "USR 4 TWN S " + twnTicket + "\r\n"},
	{1, "USR 4 OK alice@hotmail.com Alice%20Smith 1 0\r\n"},
	{1, "CHL 0 29409134351025259292\r\n"},
	{0, "QRY 5 msmsgs@msnmsgr.com 32\r\n8f2f5a91b72102cd28355e9fc9000d6e"},
	{1, "QRY 5\r\n"},
	{0, "OUT\r\n"},
}

// twnFailSteps: a TWN login whose ticket is refused (911).
var twnFailSteps = []step{
	{0, "VER 1 MSNP8 CVR0\r\n"},
	{1, "VER 1 MSNP8 CVR0\r\n"},
	{0, "USR 2 TWN I mallory@hotmail.com\r\n"},
	{1, "USR 2 TWN S lc=1033,id=507,tw=40,fs=1,ct=1062764230,kpp=1,kv=5,ver=2.1.0173.1\r\n"},
	{0, "USR 3 TWN S t=expired&p=expired\r\n"},
	{1, "911 3\r\n"},
}

// buildTWN writes synthetic-twn-login.pcap.
func buildTWN() []byte {
	w := pcaptest.NewWriter()
	ns := netip.MustParseAddrPort("198.51.100.63:5000")
	t := conv(w, t0, netip.AddrPortFrom(alice, 1040), ns, twnSteps)
	conv(w, t, netip.AddrPortFrom(netip.MustParseAddr("192.168.1.21"), 1041), ns, twnFailSteps)
	return w.Bytes()
}

// TestCaptures checks the synthetic captures in: go test -run TestCaptures -update.
func TestCaptures(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "synthetic-md5-login.pcap"), buildMD5())
	golden.Check(t, filepath.Join("testdata", "synthetic-invitations.pcap"), buildInvitations())
	golden.Check(t, filepath.Join("testdata", "synthetic-twn-login.pcap"), buildTWN())
}
