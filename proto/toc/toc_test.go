package toc

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// flap builds one SFLAP frame.
func flap(typ byte, seq uint16, payload string) string {
	h := []byte{'*', typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(h[2:], seq)
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	return string(h) + payload
}

// signonFrame is the client's signon payload: FLAP version 1, TLV 1 user.
func signonFrame(seq uint16, user string) string {
	return flap(chanSignon, seq, "\x00\x00\x00\x01\x00\x01"+string([]byte{byte(len(user) >> 8), byte(len(user))})+user)
}

const (
	password  = "tictac99"
	sendFile  = "09461343-4C7F-11D1-8222-444553540000"
	fileName  = "Q1-report.xls"
	bobCookie = "dG9jY29vaw=="
)

// serviceData is the Send File service data (spec §4.2): one file of
// 48213 bytes.
func serviceData() string {
	d := []byte{0, 1, 0, 1, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(d[4:], 48213)
	return base64.StdEncoding.EncodeToString(append(append(d, fileName...), 0))
}

type msg struct {
	dir  flow.Dir
	data string
}

// session is a whole TOC session: sign-on, messages, presence, chat and a
// file transfer proposal from bob with his internal and external address.
func session() []msg {
	return []msg{
		{flow.Orig, flapon},
		{flow.Resp, flap(chanSignon, 0x5a10, "\x00\x00\x00\x01")},
		{flow.Orig, signonFrame(0x1200, "alicetoc")},
		{flow.Orig, flap(chanData, 0x1201, "toc_signon login.oscar.aol.com 5190 alicetoc "+roast(password)+` english "TIC:\$Revision: 1.148 \$"`+"\x00")},
		{flow.Resp, flap(chanData, 0x5a11, "SIGN_ON:TOC1.0")},
		{flow.Resp, flap(chanData, 0x5a12, "CONFIG:m 1\ng Buddies\nb bobtoc\n")},
		{flow.Resp, flap(chanData, 0x5a13, "NICK:Alice Toc")},
		{flow.Orig, flap(chanData, 0x1202, "toc_add_buddy bobtoc\x00")},
		{flow.Orig, flap(chanData, 0x1203, "toc_init_done\x00")},
		{flow.Resp, flap(chanData, 0x5a14, "UPDATE_BUDDY:bobtoc:T:0:1014966000:0: O ")},
		{flow.Orig, flap(chanData, 0x1204, `toc_send_im bobtoc "<HTML>hi bob, sending the <B>Q1 report</B> now \(v2\)</HTML>"`+"\x00")},
		{flow.Resp, flap(chanData, 0x5a15, "IM_IN:bobtoc:F:<HTML>ok: send it &amp; thanks</HTML>")},
		{flow.Resp, flap(chanData, 0x5a16, "RVOUS_PROPOSE:bobtoc:"+sendFile+":"+bobCookie+":1:10.1.1.5:10.1.1.5:198.51.100.20:4443:10001:"+serviceData())},
		{flow.Orig, flap(chanData, 0x1205, "toc_rvous_accept bobtoc "+bobCookie+" "+sendFile+"\x00")},
		{flow.Orig, flap(chanData, 0x1206, `toc_chat_join 4 "peerwatch room"`+"\x00")},
		{flow.Resp, flap(chanData, 0x5a17, "CHAT_JOIN:1234:peerwatch room")},
		{flow.Resp, flap(chanData, 0x5a18, "CHAT_IN:1234:bobtoc:F:<B>hello room</B>")},
		{flow.Orig, flap(chanData, 0x1207, `toc_chat_send 1234 "hi all"`+"\x00")},
		{flow.Orig, flap(chanData, 0x1208, `toc_set_away "gone to lunch"`+"\x00")},
		{flow.Orig, flap(chanKeepalive, 0x1209, "")},
	}
}

// failed is a second connection whose sign-on is refused.
func failed() []msg {
	return []msg{
		{flow.Orig, flapon},
		{flow.Resp, flap(chanSignon, 0x0100, "\x00\x00\x00\x01")},
		{flow.Orig, signonFrame(0x7000, "alicetoc")},
		{flow.Orig, flap(chanData, 0x7001, "toc_signon login.oscar.aol.com 5190 alicetoc "+roast("tictac98")+" english TIC:TiK\x00")},
		{flow.Resp, flap(chanData, 0x0101, "ERROR:980")},
	}
}

func TestRoast(t *testing.T) {
	// The TOC1 PROTOCOL document's example.
	if got := roast("password"); got != "0x2408105c23001130" {
		t.Fatalf("roast(password) = %s", got)
	}
	tests := []struct {
		in, want string
		err      error
	}{
		{"0x2408105c23001130", "password", nil},
		{"0X2408105C23001130", "password", nil},
		{roast(password), password, nil},
		{"0x", "", nil},
		{"2408105c", "", ErrRoast},
		{"0x240", "", ErrRoast},
		{"0x24zz", "", ErrRoast},
		{"", "", ErrRoast},
		{"0xb6", "\u00e2", nil}, // 0xb6^'T' = 0xe2: not UTF-8, read as Latin-1
	}
	for _, tt := range tests {
		got, err := unroast(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("unroast(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseFrame(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		err  error
		want frame
	}{
		{flap(2, 7, "SIGN_ON:TOC1.0"), true, nil, frame{typ: 2, seq: 7, length: 14}},
		{flap(5, 0xffff, ""), true, nil, frame{typ: 5, seq: 0xffff}},
		{flap(2, 7, "SIGN_ON:TOC1.0")[:10], false, nil, frame{}},
		{"", false, nil, frame{}},
		{"*", false, nil, frame{}},
		{"*\x06\x00\x00\x00\x00", false, ErrType, frame{}},
		{"*\x00", false, ErrType, frame{}},
		{"+\x02\x00\x00\x00\x00", false, ErrMarker, frame{}},
		{"GET / HTTP/1.1\r\n", false, ErrMarker, frame{}},
	}
	for _, tt := range tests {
		f, ok, err := parseFrame([]byte(tt.in))
		if ok != tt.ok || !errors.Is(err, tt.err) || (ok && f != tt.want) {
			t.Errorf("parseFrame(%q) = %+v, %v, %v", tt.in, f, ok, err)
		}
	}
	// Every truncation of a whole frame waits for more bytes.
	whole := []byte(flap(2, 9, "IM_IN:bob:F:hi"))
	for i := range len(whole) {
		if _, ok, err := parseFrame(whole[:i]); ok || err != nil {
			t.Errorf("truncated at %d: ok %v err %v", i, ok, err)
		}
	}
}

func TestParseSignon(t *testing.T) {
	tests := []struct {
		in      string
		version uint32
		user    string
		err     error
	}{
		{"\x00\x00\x00\x01", 1, "", nil},
		{"\x00\x00\x00\x01\x00\x01\x00\x03bob", 1, "bob", nil},
		{"\x00\x00\x00\x02\x00\x01\x00\x00", 2, "", nil},
		{"\x00\x00\x00\x01\x00\x02\x00\x03bob", 1, "", ErrSignon},
		{"\x00\x00\x00\x01\x00\x01\x00\x04bob", 1, "", ErrSignon},
		{"\x00\x00\x00\x01\x00\x01\x00", 1, "", ErrSignon},
		{"\x00\x00\x00", 0, "", ErrSignon},
	}
	for _, tt := range tests {
		v, u, err := parseSignon([]byte(tt.in))
		if v != tt.version || u != tt.user || !errors.Is(err, tt.err) {
			t.Errorf("parseSignon(%q) = %d, %q, %v", tt.in, v, u, err)
		}
	}
	whole := "\x00\x00\x00\x01\x00\x01\x00\x05alice"
	for i := range len(whole) {
		if i == 4 {
			continue // the server's form: version only
		}
		if _, _, err := parseSignon([]byte(whole[:i])); err == nil {
			t.Errorf("truncated at %d: no error", i)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`bob "hello there"`, []string{"bob", "hello there"}},
		{`bob "a \"quoted\" \$1 \(x\)" auto`, []string{"bob", `a "quoted" $1 (x)`, "auto"}},
		{`  a   b  `, []string{"a", "b"}},
		{`"unterminated`, []string{"unterminated"}},
		{`trailing\`, []string{`trailing\`}},
		{`""`, []string{""}},
		{``, nil},
		{strings.Repeat("x ", 40), strings.Fields(strings.Repeat("x ", maxArgs))},
	}
	for _, tt := range tests {
		if got := splitArgs(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitFields(t *testing.T) {
	if got := splitFields("bob:F:a:b:c", 3); !reflect.DeepEqual(got, []string{"bob", "F", "a:b:c"}) {
		t.Errorf("got %q", got)
	}
	if got := splitFields("bob:F", 3); got != nil {
		t.Errorf("got %q", got)
	}
}

func TestParseProposal(t *testing.T) {
	full := "bob:" + sendFile + ":ck:1:10.1.1.5:10.1.1.5:198.51.100.20:4443:10001:" + serviceData()
	p, err := parseProposal(full)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.AddrPort{netip.MustParseAddrPort("10.1.1.5:4443"), netip.MustParseAddrPort("198.51.100.20:4443")}
	if !reflect.DeepEqual(p.addrs(), want) || p.user != "bob" || p.cookie != "ck" || p.seq != 1 {
		t.Errorf("proposal = %+v addrs %v", p, p.addrs())
	}
	name, count, size, ok := sendFileInfo(p.tlvs[tlvServiceData])
	if !ok || name != fileName || count != 1 || size != 48213 {
		t.Errorf("sendFileInfo = %q %d %d %v", name, count, size, ok)
	}
	tests := []struct {
		in  string
		err error
	}{
		{"bob:u:c:1:::0.0.0.0:5190", nil},
		{"bob:u:c:1:1.2.3.4:1.2.3.4:1.2.3.4:5190:10001:!!notbase64", nil},
		{"bob:u:c:1:1.2.3.4:1.2.3.4:1.2.3.4:70000", ErrAddress},
		{"bob:u:c:1:1.2.3:1.2.3.4:1.2.3.4:5190", ErrAddress},
		{"bob:u:c:1:::2001:db8::1:5190", ErrAddress},
	}
	for _, tt := range tests {
		if _, err := parseProposal(tt.in); !errors.Is(err, tt.err) {
			t.Errorf("parseProposal(%q) = %v, want %v", tt.in, err, tt.err)
		}
	}
	// Every truncation short of the port field is rejected.
	cut := strings.LastIndexByte(full[:strings.Index(full, ":10001")], ':')
	for i := range cut + 1 {
		if _, err := parseProposal(full[:i]); err == nil {
			t.Errorf("truncated at %d: no error", i)
		}
	}
	if _, _, _, ok := sendFileInfo([]byte{0, 1, 0, 1, 0, 0, 0}); ok {
		t.Error("sendFileInfo accepted 7 bytes")
	}
}

func TestFeature(t *testing.T) {
	tests := []struct {
		uuid string
		want event.Feature
		ok   bool
	}{
		{sendFile, event.FileTransfer, true},
		{"09461348-4c7f-11d1-8222-444553540000", event.GetFile, true},
		{"09461345-4C7F-11D1-8222-444553540000", event.DirectIM, true},
		{"09461341-4C7F-11D1-8222-444553540000", event.Voice, true},
		{"0946134A-4C7F-11D1-8222-444553540000", event.Games, true},
		{"0946134A-4C7F-11D1-2282-444553540000", event.Games, true},
		{"09461343-4C7F-11D1-2282-444553540000", "", false},
		{"09461346-4C7F-11D1-8222-444553540000", event.IMImage, true},
		{"09461347-4C7F-11D1-8222-444553540000", event.AddIns, true},
		{"0946134B-4C7F-11D1-8222-444553540000", event.BuddyList, true},
		{"748F2420-6287-11D1-8222-444553540000", event.ChatRoom, true},
		{"09461399-4C7F-11D1-8222-444553540000", "", false},
		{"0946", "", false},
	}
	for _, tt := range tests {
		if got, ok := feature(tt.uuid); got != tt.want || ok != tt.ok {
			t.Errorf("feature(%s) = %q %v", tt.uuid, got, ok)
		}
	}
}

func TestStripHTML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<HTML><BODY BGCOLOR=\"#ffffff\"><FONT>hi</FONT></BODY></HTML>", "hi"},
		{"a &lt;b&gt; &amp; &quot;c&quot;&nbsp;d", `a <b> & "c" d`},
		{"line<BR>two", "line\ntwo"},
		{"a < b", "a < b"},
		{"R&D", "R&D"},
	}
	for _, tt := range tests {
		if got := stripHTML(tt.in); got != tt.want {
			t.Errorf("stripHTML(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func feedAll(t testing.TB, c analyzer.Conn, dir flow.Dir, data []byte, pend *[2][]byte) {
	buf := append((*pend)[dir], data...)
	n, err := c.Feed(dir, buf)
	if err != nil {
		t.Fatalf("Feed: %v", err)
	}
	(*pend)[dir] = append([]byte(nil), buf[n:]...)
}

func run(t testing.TB, msgs []msg, split int, opts analyzer.Options) *analyzer.Recorder {
	rec := analyzer.NewRecorder()
	rec.Opts.CaptureContent, rec.Opts.RevealCredentials = opts.CaptureContent, opts.RevealCredentials
	spec, _ := analyzer.Lookup("toc")
	c := spec.New(rec.Session(&spec))
	var pend [2][]byte
	for _, m := range msgs {
		b := []byte(m.data)
		if split > 0 && split < len(b) {
			feedAll(t, c, m.dir, b[:split], &pend)
			feedAll(t, c, m.dir, b[split:], &pend)
		} else {
			feedAll(t, c, m.dir, b, &pend)
		}
	}
	c.(analyzer.Ender).End(flow.EndClosed)
	return rec
}

func kinds(rec *analyzer.Recorder) []event.Kind {
	var k []event.Kind
	for _, e := range rec.Events {
		k = append(k, e.Kind)
	}
	return k
}

func TestConnEvents(t *testing.T) {
	rec := run(t, session(), 0, analyzer.Options{})
	if !rec.Confirmed {
		t.Error("not confirmed")
	}
	want := []event.Kind{event.Login, event.Credential, event.Login, event.Presence, event.Message, event.Message,
		event.Direct, event.Direct, event.Message, event.Message, event.Presence, event.Logout}
	if got := kinds(rec); !reflect.DeepEqual(got, want) {
		t.Fatalf("kinds = %v\nwant %v", got, want)
	}
	ev := rec.Events
	if l := ev[0].Login; l.User != "alicetoc" || l.Client != "TIC:$Revision: 1.148 $" || l.Outcome != event.Pending {
		t.Errorf("login = %+v", l)
	}
	cr := ev[1].Credential
	if cr.Class != event.Reversible || cr.What != "password" || cr.LengthClass != "5-8" || cr.Masked != "********" ||
		cr.Secret != "" || cr.Fingerprint == "" || cr.User != "alicetoc" {
		t.Errorf("credential = %+v", cr)
	}
	if ev[2].Login.Outcome != event.Success {
		t.Errorf("login outcome = %v", ev[2].Login.Outcome)
	}
	if ev[3].Fields["buddy"] != "bobtoc" || ev[3].Fields["online"] != true || ev[3].Fields["away"] != false {
		t.Errorf("presence = %+v", ev[3].Fields)
	}
	out := ev[4].Message
	if out.From != "alicetoc" || out.To[0] != "bobtoc" || out.Length != len("hi bob, sending the Q1 report now (v2)") || out.Text != "" {
		t.Errorf("outgoing = %+v", out)
	}
	in := ev[5].Message
	if in.From != "bobtoc" || in.To[0] != "alicetoc" || in.Length != len("ok: send it & thanks") || ev[5].Users.Peer != "bobtoc" {
		t.Errorf("incoming = %+v", in)
	}
	d := ev[6]
	wantAddrs := []netip.AddrPort{netip.MustParseAddrPort("10.1.1.5:4443"), netip.MustParseAddrPort("198.51.100.20:4443")}
	if d.Feature != event.FileTransfer || !reflect.DeepEqual(d.Direct.Addrs, wantAddrs) || d.Direct.Outcome != event.Offered ||
		d.File == nil || d.File.Name != fileName || d.File.Size != 48213 || d.Users.Peer != "bobtoc" {
		t.Errorf("direct = %+v %+v %+v", d, d.Direct, d.File)
	}
	if ev[7].Direct.Outcome != event.Accepted || !reflect.DeepEqual(ev[7].Direct.Addrs, wantAddrs) {
		t.Errorf("accept = %+v", ev[7].Direct)
	}
	if m := ev[8].Message; ev[8].Feature != event.ChatRoom || m.From != "bobtoc" || m.To[0] != "peerwatch room" {
		t.Errorf("chat in = %+v", m)
	}
	if len(rec.Expects) != 1 {
		t.Fatalf("expectations = %+v", rec.Expects)
	}
	x := rec.Expects[0]
	if x.Proto != "oft" || x.Feature != event.FileTransfer || x.Reason != "toc_rendezvous" || x.FileName != fileName ||
		!reflect.DeepEqual(x.Addrs, wantAddrs) || x.Users != (event.Users{Local: "alicetoc", Peer: "bobtoc"}) {
		t.Errorf("expectation = %+v", x)
	}
	if len(rec.Anomalies) != 0 {
		t.Errorf("anomalies = %v", rec.Anomalies)
	}

	full := run(t, session(), 0, analyzer.Options{CaptureContent: true, RevealCredentials: true})
	if got := full.Events[1].Credential.Secret; got != password {
		t.Errorf("revealed secret = %q, want %q", got, password)
	}
	if got := full.Events[4].Message.Text; got != "hi bob, sending the Q1 report now (v2)" {
		t.Errorf("text = %q", got)
	}
}

func TestConnFailedLogin(t *testing.T) {
	rec := run(t, failed(), 0, analyzer.Options{RevealCredentials: true})
	want := []event.Kind{event.Login, event.Credential, event.Login}
	if got := kinds(rec); !reflect.DeepEqual(got, want) {
		t.Fatalf("kinds = %v, want %v (no logout without a sign-on)", got, want)
	}
	if l := rec.Events[2].Login; l.Outcome != event.WrongPassword || l.Reason != "incorrect nickname or password" {
		t.Errorf("login = %+v", l)
	}
	if s := rec.Events[1].Credential.Secret; s != "tictac98" {
		t.Errorf("secret = %q", s)
	}
}

func TestConnCases(t *testing.T) {
	games := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x90", 300)))
	tests := []struct {
		name      string
		msgs      []msg
		kinds     []event.Kind
		anomalies int
	}{
		{"signoff frame", []msg{{flow.Orig, flapon}, {flow.Resp, flap(2, 1, "SIGN_ON:TOC1.0")}, {flow.Resp, flap(chanSignoff, 2, "")}},
			[]event.Kind{event.Login, event.Logout}, 0},
		{"rate limited", []msg{{flow.Orig, flapon}, {flow.Resp, flap(2, 1, "ERROR:983")}}, []event.Kind{event.Login}, 0},
		{"im error after sign-on", []msg{{flow.Orig, flapon}, {flow.Resp, flap(2, 1, "SIGN_ON:TOC1.0")}, {flow.Resp, flap(2, 2, "ERROR:901:bob")}},
			[]event.Kind{event.Login, event.Logout}, 0},
		{"games overflow", []msg{{flow.Orig, flapon}, {flow.Resp, flap(2, 1, "RVOUS_PROPOSE:eve:0946134A-4C7F-11D1-8222-444553540000:c:1:1.2.3.4:1.2.3.4:1.2.3.4:5190:10001:"+games)}},
			[]event.Kind{event.Exploit, event.Direct}, 1},
		{"bad roast", []msg{{flow.Orig, flapon}, {flow.Orig, flap(2, 1, "toc_signon h 1 bob secret english v\x00")}}, []event.Kind{event.Login}, 1},
		{"short commands", []msg{{flow.Orig, flapon}, {flow.Orig, flap(2, 1, "toc_send_im bob\x00")}, {flow.Orig, flap(2, 2, "toc_signon a\x00")},
			{flow.Orig, flap(2, 3, "toc_rvous_accept bob\x00")}, {flow.Orig, flap(2, 4, "toc_chat_send 1\x00")}, {flow.Orig, flap(2, 5, "toc_change_passwd a\x00")}}, nil, 5},
		{"short server messages", []msg{{flow.Orig, flapon}, {flow.Resp, flap(2, 1, "IM_IN:bob")}, {flow.Resp, flap(2, 2, "UPDATE_BUDDY:bob:T")},
			{flow.Resp, flap(2, 3, "CHAT_IN:1:bob")}, {flow.Resp, flap(2, 4, "RVOUS_PROPOSE:bob:x")}, {flow.Resp, flap(2, 5, "EVILED")}}, nil, 5},
		{"change password", []msg{{flow.Orig, flapon}, {flow.Orig, flap(2, 1, "toc_change_passwd old1 new2\x00")}}, []event.Kind{event.Credential, event.Credential}, 0},
		{"bad signon frame", []msg{{flow.Orig, flapon}, {flow.Orig, flap(1, 1, "\x00\x00\x00\x02")}}, nil, 1},
		{"no address", []msg{{flow.Orig, flapon}, {flow.Resp, flap(2, 1, "RVOUS_PROPOSE:bob:"+sendFile+":c:1:::0.0.0.0:0")}}, nil, 0},
	}
	for _, tt := range tests {
		rec := run(t, tt.msgs, 0, analyzer.Options{})
		if got := kinds(rec); !reflect.DeepEqual(got, tt.kinds) || len(rec.Anomalies) != tt.anomalies {
			t.Errorf("%s: kinds %v anomalies %v; want %v, %d anomalies", tt.name, got, rec.Anomalies, tt.kinds, tt.anomalies)
		}
	}
}

func TestConnErrors(t *testing.T) {
	spec, _ := analyzer.Lookup("toc")
	for _, tt := range []struct {
		dir  flow.Dir
		data string
		err  error
	}{
		{flow.Orig, "GET / HTTP/1.1\r\n", ErrFlapon},
		{flow.Resp, "HTTP/1.1 200 OK\r\n", ErrMarker},
		{flow.Resp, "*\x09\x00\x00\x00\x00", ErrType},
	} {
		c := spec.New(analyzer.NewRecorder().Session(&spec))
		if _, err := c.Feed(tt.dir, []byte(tt.data)); !errors.Is(err, tt.err) {
			t.Errorf("Feed(%q) = %v, want %v", tt.data, err, tt.err)
		}
	}
	// After a gap the direction is skipped, with one anomaly.
	rec := analyzer.NewRecorder()
	c := spec.New(rec.Session(&spec))
	c.(analyzer.GapHandler).Gap(flow.Resp, 10)
	if n, err := c.Feed(flow.Resp, []byte("garbage")); n != 7 || err != nil || len(rec.Anomalies) != 1 {
		t.Errorf("after gap: %d %v %v", n, err, rec.Anomalies)
	}
}

// Every 2-way split of every message gives the same events.
func TestConnSplit(t *testing.T) {
	opts := analyzer.Options{CaptureContent: true, RevealCredentials: true}
	whole := run(t, session(), 0, opts)
	for split := 1; split < 200; split++ {
		got := run(t, session(), split, opts)
		if !reflect.DeepEqual(got.Events, whole.Events) || !reflect.DeepEqual(got.Expects, whole.Expects) {
			t.Fatalf("split at %d: events differ", split)
		}
	}
	// The whole session in one buffer, too.
	var all [2]string
	for _, m := range session() {
		all[m.dir] += m.data
	}
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("toc")
	c := spec.New(rec.Session(&spec))
	for d := range 2 {
		if n, err := c.Feed(flow.Dir(d), []byte(all[d])); n != len(all[d]) || err != nil {
			t.Fatalf("dir %d: consumed %d of %d: %v", d, n, len(all[d]), err)
		}
	}
}

func TestProbe(t *testing.T) {
	srv := flap(chanSignon, 1, "\x00\x00\x00\x01")
	tests := []struct {
		name  string
		dir   flow.Dir
		in    string
		other string
		want  classify.Result
	}{
		{"flapon alone", flow.Orig, flapon, "", classify.Match},
		{"flapon and signon", flow.Orig, flapon + signonFrame(1, "bob"), srv, classify.Match},
		{"partial flapon", flow.Orig, "FLAPON\r\n", "", classify.NeedMore},
		{"lower case", flow.Orig, "flapon\r\n\r\n", "", classify.NoMatch},
		{"data frame first", flow.Orig, flapon + flap(2, 1, "toc_signon"), "", classify.NoMatch},
		{"flap version 2", flow.Orig, flapon + flap(1, 1, "\x00\x00\x00\x02"), "", classify.NoMatch},
		{"short signon length", flow.Orig, flapon + "*\x01\x00\x01\x00\x02", "", classify.NoMatch},
		{"server not flap", flow.Orig, flapon, "HTTP/1.1 400 Bad Request\r\n", classify.NoMatch},
		{"responder side", flow.Resp, srv, "", classify.NoMatch},
		{"http", flow.Orig, "GET / HTTP/1.1\r\n", "", classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Dir: tt.dir, Data: []byte(tt.in), Other: []byte(tt.other)}
		if got := probe(&in); got != tt.want {
			t.Errorf("%s: probe = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	in := classify.Input{Data: []byte(flapon + signonFrame(1, "alicetoc")), Other: []byte(flap(1, 1, "\x00\x00\x00\x01"))}
	if n := testing.AllocsPerRun(100, func() { probe(&in) }); n != 0 {
		t.Fatalf("probe allocates %v times", n)
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Data: []byte(flapon + signonFrame(1, "alicetoc")), Other: []byte(flap(1, 1, "\x00\x00\x00\x01"))}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

func BenchmarkFeed(b *testing.B) {
	msgs := session()
	var size int
	for _, m := range msgs {
		size += len(m.data)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		run(b, msgs, 0, analyzer.Options{})
	}
}

func FuzzProbe(f *testing.F) {
	f.Add([]byte(flapon+signonFrame(1, "bob")), []byte(flap(1, 1, "\x00\x00\x00\x01")))
	f.Add([]byte("FLAPON\r"), []byte(nil))
	f.Fuzz(func(t *testing.T, data, other []byte) {
		in := classify.Input{Data: data, Other: other}
		if r := probe(&in); r > classify.NoMatch {
			t.Fatalf("probe = %d", r)
		}
	})
}

func FuzzParseFrame(f *testing.F) {
	for _, m := range session() {
		f.Add([]byte(m.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, ok, err := parseFrame(data)
		if ok && (err != nil || frameHeader+fr.length > len(data)) {
			t.Fatalf("frame %+v ok with %d bytes, err %v", fr, len(data), err)
		}
		if ok {
			parseSignon(data[frameHeader : frameHeader+fr.length])
		}
	})
}

func FuzzSplitArgs(f *testing.F) {
	f.Add(`bob "a \"b\" c" auto`)
	f.Add(`login.oscar.aol.com 5190 bob 0x2408 english "TIC:\$Revision\$"`)
	f.Fuzz(func(t *testing.T, s string) {
		if a := splitArgs(s); len(a) > maxArgs {
			t.Fatalf("%d args", len(a))
		}
	})
}

func FuzzUnroast(f *testing.F) {
	f.Add(roast(password))
	f.Add("0x2408105c23001130")
	f.Fuzz(func(t *testing.T, s string) {
		pw, err := unroast(s)
		if err == nil && (len(s)%2 != 0 || !strings.HasPrefix(strings.ToLower(s), "0x") || !utf8.ValidString(pw)) {
			t.Fatalf("unroast(%q) = %q", s, pw)
		}
		// Round trip for any password of bytes below 0x80.
		if strings.IndexFunc(s, func(r rune) bool { return r >= 0x80 }) < 0 {
			if got, err := unroast(roast(s)); err != nil || got != s {
				t.Fatalf("round trip of %q = %q, %v", s, got, err)
			}
		}
	})
}

func FuzzParseProposal(f *testing.F) {
	f.Add("bob:" + sendFile + ":ck:1:10.1.1.5:10.1.1.5:198.51.100.20:4443:10001:" + serviceData())
	f.Add("bob:u:c:1:::0.0.0.0:5190")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseProposal(s)
		if err != nil {
			return
		}
		if a := p.addrs(); len(a) > 3 {
			t.Fatalf("%d addresses", len(a))
		}
		sendFileInfo(p.tlvs[tlvServiceData])
	})
}

func FuzzStripHTML(f *testing.F) {
	f.Add("<HTML><B>hi</B> &amp; bye</HTML>")
	f.Fuzz(func(t *testing.T, s string) {
		if got := stripHTML(s); len(got) > len(s) {
			t.Fatalf("stripHTML grew %q to %q", s, got)
		}
	})
}

func FuzzConnFeed(f *testing.F) {
	var all [2][]byte
	for _, m := range session() {
		all[m.dir] = append(all[m.dir], m.data...)
	}
	f.Add(all[0], all[1])
	f.Add([]byte(flapon), []byte(flap(2, 1, "ERROR:980")))
	f.Fuzz(func(t *testing.T, orig, resp []byte) {
		in := classify.Input{Data: orig, Other: resp}
		probe(&in)
		rec := analyzer.NewRecorder()
		rec.Opts.CaptureContent, rec.Opts.RevealCredentials = true, true
		spec, _ := analyzer.Lookup("toc")
		c := spec.New(rec.Session(&spec))
		for d, data := range [][]byte{orig, resp} {
			n, _ := c.Feed(flow.Dir(d), data)
			if n < 0 || n > len(data) {
				t.Fatalf("Feed consumed %d of %d", n, len(data))
			}
		}
		c.(analyzer.Ender).End(flow.EndClosed)
	})
}

// buildCapture writes the synthetic capture: a whole TOC session on port
// 5190 (not the hint port: the FLAPON prefix decides) and a refused
// sign-on on the hint port 9898.
func buildCapture() []byte {
	w := pcaptest.NewWriter()
	t0 := time.Date(2002, 3, 1, 9, 0, 0, 0, time.UTC)
	c := w.TCP(t0, netip.MustParseAddrPort("192.168.1.20:41000"), netip.MustParseAddrPort("198.51.100.5:5190"))
	c.Handshake()
	for _, m := range session() {
		c.Send(int(m.dir), []byte(m.data))
	}
	c.Close()
	d := w.TCP(c.T.Add(time.Minute), netip.MustParseAddrPort("192.168.1.20:41001"), netip.MustParseAddrPort("198.51.100.5:9898"))
	d.Handshake()
	for _, m := range failed() {
		d.Send(int(m.dir), []byte(m.data))
	}
	d.Close()
	return w.Bytes()
}

func TestCapture(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "toc.pcap"), buildCapture())
}

func TestGolden(t *testing.T) {
	for _, reveal := range []bool{false, true} {
		name := "toc.golden.jsonl"
		if reveal {
			name = "toc-reveal.golden.jsonl"
		}
		recs, _, err := pcaptest.Analyze([]string{filepath.Join("testdata", "toc.pcap")}, pcaptest.Options{
			Config: func(c *config.Config) {
				c.Privacy.RevealCredentials = reveal
				c.Privacy.CaptureContent = reveal
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		lines := pcaptest.Lines(recs)
		pcaptest.Validate(t, lines)
		golden.Check(t, filepath.Join("testdata", name), lines)
		// The recovered password, through the whole pipeline.
		has := strings.Contains(string(lines), `"secret":"`+password+`"`)
		if has != reveal {
			t.Errorf("reveal=%v: recovered password in records = %v", reveal, has)
		}
		if !strings.Contains(string(lines), `"masked":"********"`) {
			t.Error("no masked password in records")
		}
	}
}
