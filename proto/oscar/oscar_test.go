package oscar

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

var hello = []byte{0x2A, 0x01, 0x12, 0x34, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01}

func xorLogin() []byte {
	var s seqs
	return s.flap(0, chanSignon, cat(u32(1), tlv(1, []byte("12345678")), tlv(2, roast("s3cret99")), tlv(3, []byte("ICQ 2000b"))))
}

func TestParseFLAP(t *testing.T) {
	tests := []struct {
		in   []byte
		ok   bool
		err  error
		ch   uint8
		size int
	}{
		{hello, true, nil, 1, 10},
		{[]byte{0x2A, 0x05, 0, 1, 0, 0}, true, nil, 5, 6},
		{[]byte{0x2A, 0x02, 0, 1, 0, 2, 9}, false, nil, 0, 0},
		{[]byte{0x2A, 0x06, 0, 1, 0, 0}, false, ErrFLAPChannel, 0, 0},
		{[]byte{0x2A, 0x00}, false, ErrFLAPChannel, 0, 0},
		{[]byte("* OK IMAP ready"), false, ErrFLAPChannel, 0, 0},
		{[]byte("GET /"), false, ErrFLAPStart, 0, 0},
		{nil, false, nil, 0, 0},
	}
	for _, tt := range tests {
		f, ok, err := parseFLAP(tt.in)
		if ok != tt.ok || !errors.Is(err, tt.err) || ok && (f.channel != tt.ch || f.size != tt.size) {
			t.Errorf("parseFLAP(%x) = %+v ok %v err %v", tt.in, f, ok, err)
		}
	}
	// Every truncation of a whole frame asks for more, never fails.
	whole := xorLogin()
	for i := range len(whole) {
		if _, ok, err := parseFLAP(whole[:i]); ok || err != nil {
			t.Fatalf("truncated at %d: ok %v err %v", i, ok, err)
		}
	}
}

func TestParseSNACAndTLV(t *testing.T) {
	tests := []struct {
		in   []byte
		err  error
		fam  uint16
		body int
	}{
		{snacBytes(4, 6, []byte("abc")), nil, 4, 3},
		{cat(u16(4), u16(7), u16(0x8000), u32(1), u16(2), []byte{0, 0}, []byte("xy")), nil, 4, 2},
		{cat(u16(4), u16(7), u16(0x8000), u32(1), u16(9), []byte{0, 0}), ErrTLV, 0, 0},
		{cat(u16(4), u16(7), u16(0x8000), u32(1)), ErrSNAC, 0, 0},
		{[]byte{0, 1, 0, 3}, ErrSNAC, 0, 0},
	}
	for _, tt := range tests {
		s, err := parseSNAC(tt.in)
		if !errors.Is(err, tt.err) || err == nil && (s.family != tt.fam || len(s.body) != tt.body) {
			t.Errorf("parseSNAC(%x) = %+v, %v", tt.in, s, err)
		}
	}
	list := cat(tlv(1, []byte("alice")), tlv(0x25, make([]byte, 16)), tlv(0x4A, []byte{1}))
	var blk tlvBlock
	if err := parseTLVs(list, &blk); err != nil || blk.n != 3 {
		t.Fatalf("parseTLVs: %v, n %d", err, blk.n)
	}
	if v, ok := blk.get(1); !ok || string(v) != "alice" {
		t.Errorf("TLV 1 = %q", v)
	}
	if _, ok := blk.get(0x2711); ok {
		t.Error("TLV 0x2711 kept")
	}
	for i := 1; i < len(list); i++ {
		var b tlvBlock
		err := parseTLVs(list[:i], &b)
		boundary := i == 9 || i == 29
		if boundary != (err == nil) {
			t.Errorf("truncated at %d: err %v", i, err)
		}
	}
	var ui userInfo
	if err := parseUserInfo(cat(sn("bob"), u16(0), u16(2), tlv(1, u16(0x10)), tlv(0x0A, []byte{1, 2, 3, 4}), []byte("rest")), &ui); err != nil ||
		ui.name != "bob" || string(ui.rest) != "rest" {
		t.Errorf("parseUserInfo = %+v, %v", ui, err)
	}
	if err := parseUserInfo(cat(sn("bob"), u16(0), u16(3), tlv(1, u16(0x10))), &ui); !errors.Is(err, ErrTLV) {
		t.Errorf("short user info: %v", err)
	}
}

func TestProbe(t *testing.T) {
	long := cat([]byte{0x2A, 1, 0, 1}, u16(maxSignon+1), u32(1))
	tests := []struct {
		name string
		in   []byte
		want classify.Result
	}{
		{"server hello", hello, classify.Match},
		{"xor login", xorLogin(), classify.Match},
		{"hello and more", append(append([]byte{}, hello...), 0x2A, 2), classify.Match},
		{"partial hello", hello[:7], classify.NeedMore},
		{"partial login", xorLogin()[:20], classify.NeedMore},
		{"imap", []byte("* OK IMAP4rev1 ready\r\n"), classify.NoMatch},
		{"channel 2", []byte{0x2A, 2, 0, 1, 0, 10, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0}, classify.NoMatch},
		{"short length", []byte{0x2A, 1, 0, 1, 0, 3, 0, 0, 0}, classify.NoMatch},
		{"too long", long, classify.NoMatch},
		{"bad version", []byte{0x2A, 1, 0, 1, 0, 4, 0, 0, 0, 2}, classify.NoMatch},
		{"bad tlv", cat([]byte{0x2A, 1, 0, 1}, u16(10), u32(1), u16(1), u16(9), []byte{1, 2}), classify.NoMatch},
		{"tls", []byte{0x16, 3, 1, 0, 0x80}, classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Data: tt.in}
		if got := probe(&in); got != tt.want {
			t.Errorf("%s: probe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestProbeMidStream(t *testing.T) {
	var s seqs
	two := cat(s.snac(0, 1, 3, u16(1)), s.snac(0, 4, 6, []byte("x")))
	var s2 seqs
	skip := cat(s2.snac(0, 1, 3, u16(1)))
	s2[0]++
	skip = cat(skip, s2.snac(0, 4, 6, nil))
	tests := []struct {
		name string
		in   []byte
		want classify.Result
	}{
		{"two frames", two, classify.Match},
		{"one frame", two[:16], classify.NeedMore},
		{"sequence gap", skip, classify.NoMatch},
		{"bad family", cat([]byte{0x2A, 2, 0, 1}, u16(10), snacBytes(0x99, 1, nil)), classify.NoMatch},
		{"short snac", []byte{0x2A, 2, 0, 1, 0, 4, 0, 1, 0, 3}, classify.NoMatch},
		{"signon still works", hello, classify.Match},
	}
	for _, tt := range tests {
		in := classify.Input{Data: tt.in, MidStream: true}
		if got := probe(&in); got != tt.want {
			t.Errorf("%s: probe = %v, want %v", tt.name, got, tt.want)
		}
	}
	// Without MidStream, a channel-2 start is never OSCAR.
	in := classify.Input{Data: two}
	if got := probe(&in); got != classify.NoMatch {
		t.Errorf("channel 2 at the start of a flow: %v", got)
	}
}

func TestProbeAllocs(t *testing.T) {
	in := classify.Input{Data: xorLogin()}
	if n := testing.AllocsPerRun(100, func() { probe(&in) }); n != 0 {
		t.Fatalf("probe allocates %v times", n)
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Data: xorLogin()}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

func TestUnroast(t *testing.T) {
	if pw, ok := unroast(roast("s3cret99")); !ok || pw != "s3cret99" {
		t.Errorf("v2.1: %q %v", pw, ok)
	}
	v1 := []byte("password")
	for i := range v1 {
		v1[i] ^= roastKeys[1][i]
	}
	if pw, ok := unroast(v1); !ok || pw != "password" {
		t.Errorf("v1: %q %v", pw, ok)
	}
	if _, ok := unroast(make([]byte, maxPassword+1)); ok {
		t.Error("oversized password accepted")
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		in   []byte
		cs   uint16
		want string
	}{
		{[]byte("<HTML><BODY>hi &amp; bye<br>x</BODY></HTML>"), charsetASCII, "hi & bye\nx"},
		{[]byte("\x00<\x00b\x00>\x00h\x00\xe9"), charsetUCS2BE, "hé"},
		{[]byte("caf\xe9"), charsetLatin1, "café"},
		{[]byte("caf\xe9"), charsetASCII, "café"},
		{[]byte("a<unclosed"), charsetASCII, "a"},
		{[]byte("&#65;&#xx;&#0;"), charsetASCII, "A&#xx;&#0;"},
		{[]byte("\x00\x01\xd8\x00"), charsetUCS2BE, ""},
	}
	for _, tt := range tests {
		if got := stripHTML(decodeText(tt.in, tt.cs)); got != tt.want {
			t.Errorf("text(%q, %d) = %q, want %q", tt.in, tt.cs, got, tt.want)
		}
	}
	if got := decodeText([]byte(strings.Repeat("a", 3*maxText)), charsetASCII); len(got) != maxText {
		t.Errorf("decodeText not bounded: %d", len(got))
	}
}

// bosSession is a BOS conversation (client direction 0) exercising every
// handler.
func bosSession() []struct {
	dir  flow.Dir
	data []byte
} {
	var s seqs
	sendFile := cat(u16(1), u16(1), u32(4096), []byte("a.txt\x00"))
	rv := rvData(0, aimCap(0x1343), cat(tlv(3, []byte{192, 168, 1, 2}), tlv(4, []byte{203, 0, 113, 2}), tlv(5, u16(4443)), tlv(0x2711, sendFile)))
	return []struct {
		dir  flow.Dir
		data []byte
	}{
		{flow.Resp, s.flap(1, chanSignon, u32(1))},
		{flow.Orig, s.flap(0, chanSignon, cat(u32(1), tlv(1, []byte("alice")), tlv(6, cookie)))},
		{flow.Resp, s.snac(1, 1, 3, u16(1))},
		{flow.Resp, s.snac(1, 3, 0x0B, cat(sn("bob"), u16(0), u16(0)))},
		{flow.Orig, s.snac(0, 4, 0x14, cat(icbmCookie, u16(1), sn("bob"), u16(2)))},
		{flow.Orig, s.flap(0, chanData, imOut("bob", charsetASCII, []byte("<b>hi</b> bob")))},
		{flow.Resp, s.flap(1, chanData, incoming("bob", 1, tlv(2, cat([]byte{1, 1}, u16(7), u16(0), u16(0), []byte("yo!")))))},
		{flow.Orig, s.flap(0, chanData, snacBytes(4, 6, cat(icbmCookie, u16(2), sn("bob"), tlv(5, rv))))},
		{flow.Resp, s.flap(1, chanData, incoming("bob", 2, tlv(5, rvData(1, aimCap(0x1343), nil))))},
		{flow.Resp, s.flap(1, chanData, gameRequest())},
		{flow.Orig, s.flap(0, chanSignoff, nil)},
	}
}

func run(t *testing.T, split int, content bool) *analyzer.Recorder {
	rec := analyzer.NewRecorder()
	rec.Opts.CaptureContent = content
	spec, _ := analyzer.Lookup("oscar")
	c := spec.New(rec.Session(&spec))
	fd := &analyzer.Feeder{Conn: c}
	feed := func(dir flow.Dir, b []byte) {
		if err := fd.Feed(dir, b); err != nil {
			t.Fatalf("Feed: %v", err)
		}
	}
	for _, m := range bosSession() {
		if split > 0 && split < len(m.data) {
			feed(m.dir, m.data[:split])
			feed(m.dir, m.data[split:])
		} else {
			feed(m.dir, m.data)
		}
	}
	return rec
}

func TestConnEvents(t *testing.T) {
	rec := run(t, 0, false)
	if !rec.Confirmed || rec.Service != "aim" {
		t.Errorf("confirmed %v service %q", rec.Confirmed, rec.Service)
	}
	var kinds []event.Kind
	for _, e := range rec.Events {
		kinds = append(kinds, e.Kind)
		if e.Message != nil && e.Message.Text != "" {
			t.Errorf("text stored without --capture-content: %q", e.Message.Text)
		}
	}
	want := []event.Kind{event.Login, event.Credential, event.Login, event.Presence, event.Presence, event.Message, event.Message,
		event.Direct, event.Direct, event.Exploit, event.Direct, event.Logout}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
	if m := rec.Events[5].Message; m.From != "alice" || m.To[0] != "bob" || m.Length != 13 {
		t.Errorf("message = %+v", m)
	}
	d := rec.Events[7]
	if d.Feature != event.FileTransfer || len(d.Direct.Addrs) != 2 || d.Direct.Addrs[1].String() != "203.0.113.2:4443" || d.File.Name != "a.txt" {
		t.Errorf("direct = %+v %+v %+v", d, d.Direct, d.File)
	}
	if rec.Events[8].Direct.Outcome != event.Cancelled {
		t.Errorf("cancel = %+v", rec.Events[8].Direct)
	}
	if len(rec.Expects) != 1 || rec.Expects[0].Proto != "oft" || rec.Expects[0].Reason != "oscar_rendezvous" ||
		rec.Expects[0].Data["size"] != int64(4096) || rec.Expects[0].FileName != "a.txt" {
		t.Errorf("expects = %+v", rec.Expects)
	}
	if got := run(t, 0, true).Events[5].Message.Text; got != "hi bob" {
		t.Errorf("with content: %q", got)
	}
}

func TestConnCredentials(t *testing.T) {
	for _, reveal := range []bool{false, true} {
		rec := analyzer.NewRecorder()
		rec.Opts.RevealCredentials = reveal
		spec, _ := analyzer.Lookup("oscar")
		c := spec.New(rec.Session(&spec))
		c.Feed(flow.Orig, xorLogin())
		var ci *event.CredentialInfo
		for _, e := range rec.Events {
			if e.Credential != nil {
				ci = e.Credential
			}
		}
		if ci == nil || ci.Class != event.Reversible || ci.Masked != "********" || ci.LengthClass != "5-8" || ci.Fingerprint == "" {
			t.Fatalf("credential = %+v", ci)
		}
		if (ci.Secret == "s3cret99") != reveal || !reveal && ci.Secret != "" {
			t.Errorf("reveal %v: secret %q", reveal, ci.Secret)
		}
		if rec.Service != "icq" {
			t.Errorf("service = %q", rec.Service)
		}
	}
}

// Every 2-way split of every frame gives the same events.
func TestConnSplit(t *testing.T) {
	whole := run(t, 0, true).Events
	for split := 1; split < 700; split++ {
		if got := run(t, split, true).Events; !reflect.DeepEqual(got, whole) {
			t.Fatalf("split at %d: events differ", split)
		}
	}
}

func TestConnAnomalies(t *testing.T) {
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("oscar")
	c := spec.New(rec.Session(&spec))
	var s seqs
	bad := cat(s.flap(0, chanData, []byte{0, 4, 0}), // too short for a SNAC
		s.snac(0, 0x17, 2, cat(tlv(1, []byte("x")), u16(3), u16(50))), // TLV past its block
		[]byte("garbage"), s.flap(0, chanSignoff, nil))
	n, err := c.Feed(flow.Orig, bad)
	for err == nil && n < len(bad) {
		var m int
		m, err = c.Feed(flow.Orig, bad[n:])
		if m == 0 {
			break
		}
		n += m
	}
	got := strings.Join(rec.Anomalies, "\n")
	for _, want := range []string{"oscar_bad_flap_length", "oscar_bad_tlv", "oscar_bad_flap"} {
		if !strings.Contains(got, want) {
			t.Errorf("anomaly %s missing from %q", want, got)
		}
	}
}

func seeds(f *testing.F) {
	for _, m := range bosSession() {
		f.Add(m.data)
	}
	f.Add(hello)
	f.Add(xorLogin())
	files, _ := filepath.Glob(filepath.Join("testdata", "*.pcap"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) > 100 {
			f.Add(b[100:min(len(b), 2000)])
		}
	}
}

func FuzzFLAP(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, ok, err := parseFLAP(b)
		if ok && (err != nil || fr.size > len(b) || fr.size != flapHeader+len(fr.payload)) {
			t.Fatalf("frame %+v of %d bytes", fr, len(b))
		}
		isSignon(b)
	})
}

func FuzzSNAC(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseSNAC(b)
		if err == nil && len(s.body) > len(b) {
			t.Fatal("body longer than input")
		}
		var blk tlvBlock
		parseTLVs(b, &blk)
		var ui userInfo
		parseUserInfo(b, &ui)
		parseRendezvous(b)
	})
}

func FuzzConnFeed(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, dir := range []flow.Dir{flow.Orig, flow.Resp} {
			rec := analyzer.NewRecorder()
			rec.Opts.CaptureContent, rec.Opts.RevealCredentials = true, true
			spec, _ := analyzer.Lookup("oscar")
			c := spec.New(rec.Session(&spec))
			var s seqs
			// Wrap the input as a frame too, so the SNAC handlers see it.
			for _, b := range [][]byte{data, s.flap(int(dir), chanData, data[:min(len(data), 0xFFFF)])} {
				n, err := c.Feed(dir, b)
				if n < 0 || n > len(b) || err != nil {
					t.Fatalf("Feed consumed %d of %d, %v", n, len(b), err)
				}
			}
		}
	})
}

func FuzzProbe(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mid := range []bool{false, true} {
			in := classify.Input{Data: data, MidStream: mid}
			probe(&in)
		}
	})
}

func TestLoginReply(t *testing.T) {
	tests := []struct {
		name    string
		reply   []byte
		outcome event.Outcome
		expect  string
	}{
		{"redirect", cat(tlv(1, []byte("12345678")), tlv(5, []byte("198.51.100.20:5190")), tlv(6, cookie)), event.Success, "198.51.100.20:5190"},
		{"redirect without port", cat(tlv(5, []byte("198.51.100.21")), tlv(6, cookie)), event.Success, "198.51.100.21:5190"},
		{"host name", cat(tlv(5, []byte("bos.example:5190")), tlv(6, cookie)), event.Success, ""},
		{"wrong password", tlv(8, u16(0x0004)), event.WrongPassword, ""},
		{"rate limited", tlv(8, u16(0x0018)), event.RateLimited, ""},
		{"suspended", tlv(8, u16(0x0011)), event.Refused, ""},
		{"other", tlv(8, u16(0x0099)), event.Failure, ""},
	}
	for _, tt := range tests {
		rec := analyzer.NewRecorder()
		spec, _ := analyzer.Lookup("oscar")
		c := spec.New(rec.Session(&spec))
		var s seqs
		c.Feed(flow.Orig, xorLogin())
		c.Feed(flow.Resp, s.flap(1, chanSignoff, tt.reply))
		var out event.Outcome
		for _, e := range rec.Events {
			if e.Kind == event.Login {
				out = e.Login.Outcome
			}
		}
		if out != tt.outcome {
			t.Errorf("%s: outcome %q, want %q", tt.name, out, tt.outcome)
		}
		switch {
		case tt.expect == "" && len(rec.Expects) != 0:
			t.Errorf("%s: unexpected expectation %+v", tt.name, rec.Expects)
		case tt.expect != "" && (len(rec.Expects) != 1 || rec.Expects[0].Addrs[0].String() != tt.expect ||
			rec.Expects[0].Users.Local != "12345678" || rec.Expects[0].Service != "icq" || rec.Expects[0].Reason != "oscar_bos_redirect"):
			t.Errorf("%s: expectations %+v", tt.name, rec.Expects)
		}
	}
}

// A BOS connection announced by a redirect takes the user from the
// expectation when its cookie sign-on carries no name.
func TestBOSExpected(t *testing.T) {
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("oscar")
	x := &analyzer.Expectation{Service: "icq", Users: event.Users{Local: "12345678"}}
	c := spec.New(analyzer.NewSession(rec, &spec, x))
	var s seqs
	c.Feed(flow.Orig, s.flap(0, chanSignon, cat(u32(1), tlv(6, cookie))))
	if len(rec.Events) != 2 || rec.Events[0].Login.User != "12345678" || rec.Events[1].Credential.User != "12345678" {
		t.Fatalf("events = %+v", rec.Events)
	}
}

func TestRendezvousAddrs(t *testing.T) {
	ip := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	tests := []struct {
		r    rendezvous
		want string
	}{
		{rendezvous{InternalIP: ip("192.168.1.2"), ExternalIP: ip("203.0.113.2"), VerifiedIP: ip("203.0.113.2"), Port: 4443}, "[192.168.1.2:4443 203.0.113.2:4443]"},
		{rendezvous{VerifiedIP: ip("64.12.24.1"), Proxy: true}, "[64.12.24.1:5190]"},
		{rendezvous{InternalIP: ip("192.168.1.2")}, "[]"},
		{rendezvous{InternalIP: ip("0.0.0.0"), Port: 1}, "[]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(rvAddrs(&tt.r)); got != tt.want {
			t.Errorf("rvAddrs(%+v) = %s, want %s", tt.r, got, tt.want)
		}
	}
}

// An ICQ server-relay rendezvous is a message, not a peer connection.
func TestServerRelay(t *testing.T) {
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("oscar")
	c := spec.New(rec.Session(&spec))
	var s seqs
	rv := rvData(0, aimCap(0x1349), tlv(0x2711, make([]byte, 40)))
	c.Feed(flow.Resp, s.flap(1, chanData, incoming("87654321", 2, tlv(5, rv))))
	if len(rec.Events) != 1 || rec.Events[0].Kind != event.Message || rec.Events[0].Message.From != "87654321" ||
		rec.Events[0].Message.Length != 40 || rec.Events[0].Fields["icq_type"] != "relay" || len(rec.Expects) != 0 {
		t.Fatalf("events = %+v", rec.Events)
	}
	if rec.Service != "icq" {
		t.Errorf("service = %q", rec.Service)
	}
}

func BenchmarkConnFeed(b *testing.B) {
	var all [2][]byte
	for _, m := range bosSession() {
		all[m.dir] = append(all[m.dir], m.data...)
	}
	spec, _ := analyzer.Lookup("oscar")
	b.ReportAllocs()
	b.SetBytes(int64(len(all[0]) + len(all[1])))
	for b.Loop() {
		rec := analyzer.NewRecorder()
		c := spec.New(rec.Session(&spec))
		c.Feed(flow.Resp, all[flow.Resp])
		c.Feed(flow.Orig, all[flow.Orig])
	}
}
