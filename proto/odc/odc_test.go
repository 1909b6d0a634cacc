package odc

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

var testCookie = [8]byte{0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18}

// frame builds an ODC2 frame byte for byte as aim-oscar.md §5.1 lays it out.
func frame(subtype, flags, enc uint16, sn string, payload []byte) []byte {
	b := make([]byte, minHeader, minHeader+len(payload))
	be := binary.BigEndian
	copy(b, magic)
	be.PutUint16(b[4:], minHeader)
	be.PutUint16(b[6:], typeODC)
	be.PutUint16(b[8:], subtype)
	copy(b[12:], testCookie[:])
	be.PutUint32(b[28:], uint32(len(payload)))
	be.PutUint16(b[32:], enc)
	be.PutUint16(b[38:], flags)
	copy(b[snOffset:snOffset+snSize], sn)
	return append(b, payload...)
}

// gif is the classic 43-byte 1x1 GIF89a.
var gif = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

const imgText = `<HTML>look at this<BR><IMG SRC="smile.gif" ID="1" WIDTH="1" HEIGHT="1" DATASIZE="43"></HTML>`

type msg struct {
	dir  flow.Dir
	data []byte
}

// session: bobpeer connected to alice20's Direct IM port; his client sends
// the cookie frame (flags 0x0060, as libpurple's peer_odc_send_cookie),
// a typing notice and a message; alice20 answers with an image.
func session() []msg {
	img := append([]byte(imgText+`<BINARY><DATA ID="1" SIZE="43">`), gif...)
	img = append(img, "</DATA></BINARY>"...)
	return []msg{
		{flow.Orig, frame(subtypeMessage, 0x0060, 0, "bobpeer", nil)},
		{flow.Orig, frame(subtypeMessage, flagTypingAny|flagTyping, 0, "bobpeer", nil)},
		{flow.Orig, frame(subtypeMessage, 0, encASCII, "bobpeer", []byte("<HTML><BODY>hello <B>alice</B> &amp; welcome</BODY></HTML>"))},
		{flow.Resp, frame(subtypeMessage, 0, encASCII, "alice20", img)},
	}
}

func TestParseHeader(t *testing.T) {
	long := frame(subtypeMessage, 0, 0, "x", nil)
	binary.BigEndian.PutUint32(long[28:], maxPayload+1)
	wrongSub := frame(0x0007, 0, 0, "x", nil)
	tests := []struct {
		name string
		in   []byte
		ok   bool
		err  error
		sn   string
		pay  int
	}{
		{"message", frame(subtypeMessage, 0, 0, "alice20", []byte("hi")), true, nil, "alice20", 2},
		{"typing subtype", frame(subtypeTyping, 2, 0, "bob", nil), true, nil, "bob", 0},
		{"32-byte name", frame(subtypeMessage, 0, 0, strings.Repeat("n", 32), nil), true, nil, strings.Repeat("n", 32), 0},
		{"invalid utf-8 name", frame(subtypeMessage, 0, 0, "a\xffb", nil), true, nil, "a\uFFFDb", 0},
		{"payload too long", long, false, ErrPayload, "", 0},
		{"unknown subtype", wrongSub, false, ErrType, "", 0},
		{"oft", []byte("OFT2\x01\x00\x01\x01"), false, ErrMagic, "", 0},
		{"short header length", []byte("ODC2\x00\x4b\x00\x01\x00\x06"), false, ErrLength, "", 0},
		{"long header length", []byte("ODC2\x04\x01\x00\x01\x00\x06"), false, ErrLength, "", 0},
		{"type 2", []byte("ODC2\x00\x4c\x00\x02\x00\x06"), false, ErrType, "", 0},
		{"partial", frame(subtypeMessage, 0, 0, "a", nil)[:40], false, nil, "", 0},
	}
	for _, tt := range tests {
		h, ok, err := parseHeader(tt.in)
		if ok != tt.ok || !errors.Is(err, tt.err) {
			t.Errorf("%s: ok %v err %v, want ok %v err %v", tt.name, ok, err, tt.ok, tt.err)
			continue
		}
		if ok && (h.sn != tt.sn || h.payload != tt.pay || h.length != minHeader) {
			t.Errorf("%s: %+v", tt.name, h)
		}
	}
}

// Every truncation of a valid header is incomplete, never an error.
func TestParseHeaderTruncated(t *testing.T) {
	b := frame(subtypeMessage, 0, 0, "alice20", nil)
	for i := range len(b) {
		if _, ok, err := parseHeader(b[:i]); ok || err != nil {
			t.Fatalf("truncated at %d: ok %v err %v", i, ok, err)
		}
	}
}

func TestSplitPayload(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		text  string
		ids   []string
		sizes []int
		short bool
	}{
		{"plain", "<B>hi</B>", "<B>hi</B>", nil, nil, false},
		{"one image", `a<BINARY><DATA ID="1" SIZE="3">xyz</DATA></BINARY>`, "a", []string{"1"}, []int{3}, false},
		{"two, lower case", `a<binary><data id="7" size="2">>></data><data id=8 size=1>q</data></binary>`, "a", []string{"7", "8"}, []int{2, 1}, false},
		{"size overruns", `a<BINARY><DATA ID="1" SIZE="99">xyz`, "a", []string{"1"}, []int{99}, true},
		{"bad size", `a<BINARY><DATA ID="1" SIZE="-3">xyz</DATA>`, "a", nil, nil, false},
		{"unsafe id", `a<BINARY><DATA ID="../x" SIZE="1">z</DATA>`, "a", []string{""}, []int{1}, false},
		{"unterminated tag", `a<BINARY><DATA ID="1"`, "a", nil, nil, false},
	}
	for _, tt := range tests {
		text, imgs, short := splitPayload([]byte(tt.in))
		var ids []string
		var sizes []int
		for _, im := range imgs {
			ids, sizes = append(ids, im.id), append(sizes, im.size)
		}
		if string(text) != tt.text || !reflect.DeepEqual(ids, tt.ids) || !reflect.DeepEqual(sizes, tt.sizes) || short != tt.short {
			t.Errorf("%s: text %q ids %v sizes %v short %v", tt.name, text, ids, sizes, short)
		}
	}
}

func TestStripHTML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<HTML><BODY>hello <B>alice</B> &amp; welcome</BODY></HTML>", "hello alice & welcome"},
		{"a<BR>b<br/>c", "a\nb\nc"},
		{"1 &lt; 2 &gt; 0 &quot;x&quot; &bogus;", `1 < 2 > 0 "x" &bogus;`},
		{"cut <FONT", "cut"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := stripHTML(tt.in); got != tt.want {
			t.Errorf("stripHTML(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := decodeText([]byte{0, 'h', 0x04, 0x10}, encUCS2); got != "hА" {
		t.Errorf("ucs-2: %q", got)
	}
	if got := decodeText([]byte("caf\xe9"), encLatin1); got != "café" {
		t.Errorf("latin-1: %q", got)
	}
}

type result struct {
	Events    []event.Event
	Anomalies []string
	Files     []event.FileRec
	Confirmed bool
}

func run(t testing.TB, msgs []msg, split int, x *analyzer.Expectation, content bool) result {
	rec := analyzer.NewRecorder()
	rec.Opts.CaptureContent = content
	spec, _ := analyzer.Lookup("odc")
	c := spec.New(analyzer.NewSession(rec, &spec, x))
	fd := &analyzer.Feeder{Conn: c}
	feed := func(dir flow.Dir, b []byte) {
		if err := fd.Feed(dir, b); err != nil {
			t.Fatalf("Feed: %v", err)
		}
	}
	for _, m := range msgs {
		if split > 0 && split < len(m.data) {
			feed(m.dir, m.data[:split])
			feed(m.dir, m.data[split:])
		} else {
			feed(m.dir, m.data)
		}
	}
	r := result{Events: rec.Events, Anomalies: rec.Anomalies, Confirmed: rec.Confirmed}
	for _, f := range rec.Files {
		r.Files = append(r.Files, f.Record())
	}
	return r
}

func TestConnEvents(t *testing.T) {
	r := run(t, session(), 0, nil, false)
	if !r.Confirmed || len(r.Anomalies) != 0 {
		t.Fatalf("confirmed %v anomalies %v", r.Confirmed, r.Anomalies)
	}
	var kinds []event.Kind
	for _, e := range r.Events {
		kinds = append(kinds, e.Kind)
		if e.Message != nil && e.Message.Text != "" {
			t.Errorf("text stored without --capture-content: %q", e.Message.Text)
		}
	}
	if want := []event.Kind{event.Presence, event.Message, event.Message}; !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
	if e := r.Events[0]; e.Fields["typing"] != "typing" || e.Feature != event.DirectIM {
		t.Errorf("typing = %+v", e)
	}
	if m := r.Events[1].Message; m.From != "bobpeer" || m.Length != 58 || m.Charset != "us-ascii" {
		t.Errorf("message = %+v", m)
	}
	if e := r.Events[2]; e.Message.From != "alice20" || e.Message.Length != len(imgText) || e.Fields["images"] != 1 ||
		e.Users != (event.Users{Local: "bobpeer", Peer: "alice20"}) {
		t.Errorf("image message = %+v %+v", e, e.Message)
	}
	m, s := md5.Sum(gif), sha256.Sum256(gif)
	if len(r.Files) != 1 || r.Files[0].Filename != "odc-image-1" || r.Files[0].Size != 43 || r.Files[0].State != "CLOSED" ||
		r.Files[0].MD5 != hex.EncodeToString(m[:]) || r.Files[0].SHA256 != hex.EncodeToString(s[:]) || !strings.Contains(r.Files[0].Magic, "GIF") {
		t.Errorf("files = %+v", r.Files)
	}
	c := run(t, session(), 0, nil, true)
	if got := c.Events[1].Message.Text; got != "hello alice & welcome" {
		t.Errorf("text = %q", got)
	}
	if got := c.Events[2].Message.Text; got != "look at this" {
		t.Errorf("text = %q", got)
	}
}

func TestConnExpectation(t *testing.T) {
	x := &analyzer.Expectation{Proto: "odc", Feature: event.DirectIM, Users: event.Users{Local: "alice20", Peer: "bobpeer"},
		Data: map[string]any{"cookie": hex.EncodeToString(testCookie[:])}}
	r := run(t, session(), 0, x, false)
	if len(r.Anomalies) != 0 || r.Events[1].Users != x.Users {
		t.Errorf("anomalies %v users %+v", r.Anomalies, r.Events[1].Users)
	}
	x.Data["cookie"] = "0000000000000000"
	if r := run(t, session(), 0, x, false); len(r.Anomalies) != 1 || !strings.HasPrefix(r.Anomalies[0], "odc_cookie_mismatch") {
		t.Errorf("anomalies %v", r.Anomalies)
	}
}

func TestConnShortImage(t *testing.T) {
	p := append([]byte(`x<BINARY><DATA ID="2" SIZE="100">`), gif...)
	r := run(t, []msg{{flow.Orig, frame(subtypeMessage, 0, 0, "a", p)}}, 0, nil, false)
	if len(r.Files) != 1 || r.Files[0].State != "TRUNCATED" || len(r.Anomalies) != 1 {
		t.Errorf("files %+v anomalies %v", r.Files, r.Anomalies)
	}
}

func TestConnGap(t *testing.T) {
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("odc")
	c := spec.New(rec.Session(&spec))
	c.(analyzer.GapHandler).Gap(flow.Orig, 5)
	if n, err := c.Feed(flow.Orig, []byte("junk")); n != 4 || err != nil || len(rec.Anomalies) != 1 {
		t.Errorf("after gap: %d %v %v", n, err, rec.Anomalies)
	}
}

// Every 2-way split of every frame gives the same records.
func TestConnSplit(t *testing.T) {
	whole := run(t, session(), 0, nil, true)
	for split := 1; split < 300; split++ {
		if got := run(t, session(), split, nil, true); !reflect.DeepEqual(got, whole) {
			t.Fatalf("split at %d: differs:\n%+v\nwant\n%+v", split, got, whole)
		}
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want classify.Result
	}{
		{"message", string(frame(subtypeMessage, 0, 0, "a", nil)), classify.Match},
		{"typing subtype", "ODC2\x00\x4c\x00\x01\x00\x01", classify.Match},
		{"magic", "ODC2", classify.NeedMore},
		{"nine bytes", "ODC2\x00\x4c\x00\x01\x00", classify.NeedMore},
		{"empty", "", classify.NeedMore},
		{"bad subtype", "ODC2\x00\x4c\x00\x01\x00\x07", classify.NoMatch},
		{"short length", "ODC2\x00\x10\x00\x01\x00\x06", classify.NoMatch},
		{"oft", "OFT2\x01\x00\x01\x01", classify.NoMatch},
		{"http", "GET / HTTP/1.1\r\n", classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Data: []byte(tt.in)}
		if got := probe(&in); got != tt.want {
			t.Errorf("%s: probe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	in := classify.Input{Data: frame(subtypeMessage, 0, 0, "a", nil)}
	if n := testing.AllocsPerRun(100, func() { probe(&in) }); n != 0 {
		t.Fatalf("probe allocates %v times", n)
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Data: frame(subtypeMessage, 0, 0, "a", nil)}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

// BenchmarkSession measures the whole test session through Conn.Feed.
func BenchmarkSession(b *testing.B) {
	msgs := session()
	b.ReportAllocs()
	for b.Loop() {
		run(b, msgs, 0, nil, true)
	}
}

func FuzzODCHeader(f *testing.F) {
	for _, m := range session() {
		f.Add(m.data)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok, err := parseHeader(b)
		if ok && (err != nil || h.length < minHeader || h.length > len(b) || h.payload > maxPayload) {
			t.Fatalf("ok %v err %v %+v", ok, err, h)
		}
		in := classify.Input{Data: b}
		probe(&in)
		text, imgs, _ := splitPayload(b)
		if len(text) > len(b) || len(imgs) > maxImages {
			t.Fatal("split grew")
		}
		if s := stripHTML(string(b)); len(s) > len(b) {
			t.Fatal("strip grew")
		}
	})
}

func FuzzConnFeed(f *testing.F) {
	for _, m := range session() {
		f.Add(m.data, m.dir == flow.Resp, byte(0), true)
	}
	f.Add(frame(subtypeMessage, 0, encUCS2, "u", []byte{0, 'h', 0xd8}), false, byte(80), true) // odd UCS-2, lone surrogate
	f.Fuzz(func(t *testing.T, data []byte, resp bool, split byte, content bool) {
		rec := analyzer.NewRecorder()
		rec.Opts.CaptureContent = content
		spec, _ := analyzer.Lookup("odc")
		c := spec.New(rec.Session(&spec))
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		var pend []byte
		k := min(int(split), len(data))
		for _, part := range [][]byte{data[:k], data[k:]} {
			buf := append(pend, part...)
			n, err := c.Feed(dir, buf)
			if n < 0 || n > len(buf) {
				t.Fatalf("Feed consumed %d of %d", n, len(buf))
			}
			if err != nil {
				return
			}
			pend = append([]byte(nil), buf[n:]...)
		}
	})
}

// buildCapture writes odc-image.pcap: bobpeer (198.51.100.9) connects to
// alice20's Direct IM port 40412 and the two exchange the session.
func buildCapture() []byte {
	w := pcaptest.NewWriter()
	t0 := time.Date(2024, 5, 1, 12, 5, 0, 0, time.UTC)
	c := w.TCP(t0, netip.MustParseAddrPort("198.51.100.9:51002"), netip.MustParseAddrPort("192.168.1.20:40412"))
	c.Handshake()
	for _, m := range session() {
		c.Send(int(m.dir), m.data)
	}
	c.Close()
	return w.Bytes()
}

func TestCapture(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "odc-image.pcap"), buildCapture())
}

func TestGolden(t *testing.T) {
	for _, content := range []bool{false, true} {
		suffix := ""
		if content {
			suffix = "-content"
		}
		lines := pcaptest.GoldenWith(t, "odc-image.pcap", suffix, func(c *config.Config) { c.Privacy.CaptureContent = content })
		m := md5.Sum(gif)
		for _, want := range []string{`"filename":"odc-image-1"`, `"md5":"` + hex.EncodeToString(m[:]) + `"`, `"app_proto":"odc"`} {
			if !strings.Contains(string(lines), want) {
				t.Errorf("records lack %s", want)
			}
		}
	}
}
