package gnutella

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// desc builds a descriptor (header + payload) byte for byte from the spec.
func desc(guidSeed byte, typ, ttl, hops byte, payload []byte) []byte {
	b := make([]byte, headerLen, headerLen+len(payload))
	for i := 0; i < 16; i++ {
		b[i] = guidSeed + byte(i)*7
	}
	b[8], b[15] = 0xFF, 0x00 // "modern servent" marks
	b[16], b[17], b[18] = typ, ttl, hops
	binary.LittleEndian.PutUint32(b[19:], uint32(len(payload)))
	return append(b, payload...)
}

var (
	fileData  = append([]byte("ID3\x03\x00\x00\x00\x00\x00\x0a"), bytes.Repeat([]byte("gnutella-synthetic-mp3 "), 200)...)
	fileURN   = "urn:sha1:" + sha1Base32Of(fileData)
	serventID = []byte("\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff\x01")
	requester = netip.MustParseAddrPort("203.0.113.5:6699")
)

func sha1Base32Of(b []byte) string {
	s := sha1.Sum(b)
	return base32.StdEncoding.EncodeToString(s[:])
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// Payloads of the synthetic session (gnutella.md §2.2).
var (
	pongPayload  = cat(le16(6346), []byte{198, 51, 100, 9}, le32(120), le32(734003))
	queryPayload = cat(le16(0), []byte("madonna mp3\x00"), []byte(fileURN+"\x00"))
	hitPayload   = cat([]byte{2}, le16(6346), []byte{10, 0, 0, 1}, le32(350),
		le32(1), le32(uint32(len(fileData))), []byte("song.mp3\x00"), []byte(fileURN+"\x00"),
		le32(2), le32(4096), []byte("setup.exe\x00\x00"),
		[]byte("LIME\x02\x1d\x01"), serventID)
	pushPayload = cat(serventID, le32(1), requester.Addr().AsSlice(), le16(requester.Port()))
	byePayload  = cat(le16(200), []byte("Closing\x00"))
)

const (
	connect06 = "GNUTELLA CONNECT/0.6\r\nUser-Agent: LimeWire/2.4.4\r\nX-Ultrapeer: False\r\nListen-IP: 10.0.0.1:6346\r\n\r\n"
	answer06  = "GNUTELLA/0.6 200 OK\r\nUser-Agent: BearShare 4.0.0\r\nX-Ultrapeer: True\r\nRemote-IP: 10.0.0.1\r\nX-Try-Ultrapeers: 198.51.100.20:6346, 198.51.100.21:6347\r\n\r\n"
	final06   = "GNUTELLA/0.6 200 OK\r\n\r\n"
)

// session is the 0.6 session: handshake, then pong, query (the peer
// searches), query hit (we answer), push (the peer asks us to connect
// back), bye.
var session = []struct {
	dir  flow.Dir
	data []byte
}{
	{flow.Orig, []byte(connect06)},
	{flow.Resp, []byte(answer06)},
	{flow.Orig, []byte(final06)},
	{flow.Resp, desc(1, typePong, 1, 0, pongPayload)},
	{flow.Resp, desc(2, typeQuery, 3, 0, queryPayload)},
	{flow.Orig, desc(2, typeQueryHit, 3, 0, hitPayload)},
	{flow.Resp, desc(3, typePush, 3, 0, pushPayload)},
	{flow.Orig, desc(4, typeBye, 1, 0, byePayload)},
}

func TestParseHeader(t *testing.T) {
	d := desc(1, typePing, 1, 0, nil)
	h, err := parseHeader(d)
	if err != nil || h.typ != typePing || h.ttl != 1 || h.length != 0 {
		t.Fatalf("parseHeader = %+v, %v", h, err)
	}
	for i := 0; i < headerLen; i++ {
		if _, err := parseHeader(d[:i]); !errors.Is(err, ErrShort) {
			t.Errorf("truncated at %d: err %v", i, err)
		}
	}
	big := desc(1, typeQuery, 1, 0, nil)
	binary.LittleEndian.PutUint32(big[19:], maxPayload+1)
	if _, err := parseHeader(big); !errors.Is(err, ErrLength) {
		t.Errorf("oversized: err %v", err)
	}
}

func TestPayloadParsers(t *testing.T) {
	p, err := parsePong(pongPayload)
	if err != nil || p.addr.String() != "198.51.100.9:6346" || p.files != 120 || p.kbyte != 734003 {
		t.Errorf("pong = %+v, %v", p, err)
	}
	q, err := parseQuery(queryPayload)
	if err != nil || string(q.text) != "madonna mp3" || len(q.urns) != 1 || string(q.urns[0]) != fileURN {
		t.Errorf("query = %+v, %v", q, err)
	}
	qh, err := parseQueryHit(hitPayload)
	if err != nil || qh.count != 2 || len(qh.results) != 2 || qh.vendor != "LIME" || qh.addr.String() != "10.0.0.1:6346" ||
		string(qh.results[0].name) != "song.mp3" || string(qh.results[1].name) != "setup.exe" || qh.flags&0x01 == 0 {
		t.Errorf("query hit = %+v, %v", qh, err)
	}
	x, err := parsePush(pushPayload)
	if err != nil || x.addr != requester || x.index != 1 || !bytes.Equal(x.servent[:], serventID) {
		t.Errorf("push = %+v, %v", x, err)
	}
	b, err := parseBye(byePayload)
	if err != nil || b.code != 200 || string(b.reason) != "Closing" {
		t.Errorf("bye = %+v, %v", b, err)
	}
	// Truncation at every byte never panics and fails where the format
	// needs the bytes.
	for _, full := range [][]byte{pongPayload, queryPayload, hitPayload, pushPayload, byePayload} {
		for i := range full {
			parsePong(full[:i])
			parseQuery(full[:i])
			parseQueryHit(full[:i])
			parsePush(full[:i])
			parseBye(full[:i])
		}
	}
	if _, err := parseQueryHit(hitPayload[:30]); err == nil {
		t.Error("truncated query hit parsed")
	}
}

func TestParseHandshake(t *testing.T) {
	tests := []struct {
		in   string
		kind hsKind
		code int
		ua   string
		err  error
	}{
		{connect06, hsConnect, 0, "LimeWire/2.4.4", nil},
		{answer06, hsResponse, 200, "BearShare 4.0.0", nil},
		{"GNUTELLA/0.6 503 Service Unavailable\r\nUser-Agent: Shareaza 2.7.10.2\r\n\r\n", hsResponse, 503, "Shareaza 2.7.10.2", nil},
		{"GNUTELLA CONNECT/0.4\n\n", hsConnect, 0, "", nil},
		{"GNUTELLA OK\n\n", hsResponse, 200, "", nil},
		{"GNUTELLA CONNECT/x\r\n\r\n", 0, 0, "", ErrHandshake},
		{"GNUTELLA/0.6 2x0 OK\r\n\r\n", 0, 0, "", ErrHandshake},
		{"GNUTELLA/0.6 200 OK\r\nbad header\r\n\r\n", 0, 0, "", ErrHandshake},
		{"GET / HTTP/1.1\r\n\r\n", 0, 0, "", ErrNotGnut},
		{"GNUTELLA CONNECT/0.6\r\nX: " + strings.Repeat("A", maxLine+10) + "\r\n\r\n", 0, 0, "", ErrHeadLimit},
	}
	for _, tt := range tests {
		hs, n, err := parseHandshake([]byte(tt.in))
		if !errors.Is(err, tt.err) {
			t.Errorf("%q: err %v, want %v", tt.in[:min(len(tt.in), 30)], err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if n != len(tt.in) || hs.kind != tt.kind || hs.code != tt.code || string(hs.get("user-agent")) != tt.ua {
			t.Errorf("%q: n %d kind %d code %d ua %q", tt.in[:20], n, hs.kind, hs.code, hs.get("user-agent"))
		}
		// Every truncation is incomplete, never an error or a wrong parse.
		for i := 0; i < len(tt.in); i++ {
			if _, n, err := parseHandshake([]byte(tt.in[:i])); n != 0 || err != nil {
				t.Errorf("%q cut at %d: n %d err %v", tt.in[:20], i, n, err)
				break
			}
		}
	}
}

func TestParseGIV(t *testing.T) {
	g, err := parseGIV([]byte("GIV 1:112233445566778899aabbccddeeff01/song.mp3"))
	if err != nil || g.index != 1 || !bytes.Equal(g.servent[:], serventID) || string(g.name) != "song.mp3" {
		t.Errorf("giv = %+v, %v", g, err)
	}
	for _, bad := range []string{"GIV :11/x", "GIV 1:1122/x", "GIV 1:zz2233445566778899aabbccddeeff01/x", "GIVE 1"} {
		if _, err := parseGIV([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestURN(t *testing.T) {
	want := sha1.Sum(fileData)
	if got := sha1OfURN([]byte(fileURN)); !bytes.Equal(got, want[:]) {
		t.Errorf("sha1OfURN = %x", got)
	}
	bp := "urn:bitprint:" + sha1Base32Of(fileData) + ".3WMUS6WM2ZC7XIPRQDKXWHHJRV4IKYC4OX4ELCA"
	if canonURN([]byte(bp)) != fileURN || canonURN([]byte("urn:md5:abc")) != "" {
		t.Errorf("canonURN(%q) = %q", bp, canonURN([]byte(bp)))
	}
	if f, l, tot, ok := contentRange([]byte("bytes 0-99/100")); !ok || f != 0 || l != 99 || tot != 100 {
		t.Error("content range")
	}
	if _, _, _, ok := contentRange([]byte("bytes 5-1/100")); ok {
		t.Error("bad content range accepted")
	}
}

// compress deflates descriptors with a sync flush after each, as servents do.
func compress(t testing.TB, ds ...[]byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	for _, d := range ds {
		w.Write(d)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestInflate(t *testing.T) {
	ds := [][]byte{desc(1, typePing, 1, 0, nil), desc(2, typeQuery, 2, 0, queryPayload), desc(3, typePong, 1, 0, pongPayload)}
	z := compress(t, ds...)
	// Every split gives the same plain text.
	for split := 1; split < len(z); split++ {
		in := newInflater(defInflateMax, defInflateRatio)
		var got []byte
		for _, part := range [][]byte{z[:split], z[split:]} {
			out, err := in.feed(part)
			if err != nil {
				t.Fatalf("split %d: %v", split, err)
			}
			got = append(got, out...)
		}
		if !bytes.Equal(got, cat(ds...)) {
			t.Fatalf("split %d: inflated %d bytes, want %d", split, len(got), len(cat(ds...)))
		}
	}
	// The bound stops it.
	in := newInflater(50, defInflateRatio)
	if _, err := in.feed(z); !errors.Is(err, ErrInflateMax) {
		t.Errorf("limit: err %v", err)
	}
	bomb := compress(t, make([]byte, 1<<20))
	in = newInflater(defInflateMax, 10)
	if _, err := in.feed(bomb); !errors.Is(err, ErrInflateMax) {
		t.Errorf("ratio: err %v", err)
	}
	in = newInflater(defInflateMax, defInflateRatio)
	if _, err := in.feed([]byte("\x78\x9c\xff\xff\xff\x00\x00\xff\xff")); !errors.Is(err, ErrInflate) {
		t.Errorf("garbage: err %v", err)
	}
}

// run feeds the session through a Conn, each message split at split.
func run(t *testing.T, split int, msgs []struct {
	dir  flow.Dir
	data []byte
}) *analyzer.Recorder {
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("gnutella")
	fd := &analyzer.Feeder{Conn: spec.New(rec.Session(&spec))}
	for _, m := range msgs {
		parts := [][]byte{m.data}
		if split > 0 && split < len(m.data) {
			parts = [][]byte{m.data[:split], m.data[split:]}
		}
		for _, p := range parts {
			if err := fd.Feed(m.dir, p); err != nil {
				t.Fatalf("Feed: %v", err)
			}
		}
	}
	fd.Conn.(analyzer.Ender).End(flow.EndClosed)
	return rec
}

func TestConnSession(t *testing.T) {
	rec := run(t, 0, session)
	if !rec.Confirmed || rec.Product != "LimeWire" {
		t.Errorf("confirmed %v product %q", rec.Confirmed, rec.Product)
	}
	var kinds []event.Kind
	for _, e := range rec.Events {
		kinds = append(kinds, e.Kind)
	}
	want := []event.Kind{event.Login, event.Direct, event.Login, event.Direct, event.Login, event.Direct, event.Search,
		event.Direct, event.File, event.File, event.Direct, event.Logout, event.Detected}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kinds = %v\nwant %v", kinds, want)
	}
	if q := rec.Events[6].Search.Query; q != "madonna mp3" {
		t.Errorf("query %q", q)
	}
	if f := rec.Events[8].File; f.Name != "song.mp3" || f.Hash != fileURN || f.Size != int64(len(fileData)) {
		t.Errorf("hit = %+v", f)
	}
	if len(rec.Expects) != 1 || rec.Expects[0].Addrs[0] != requester || rec.Expects[0].Reason != "gnutella_push" {
		t.Errorf("expectations = %+v", rec.Expects)
	}
}

func TestConnRefused(t *testing.T) {
	rec := run(t, 0, []struct {
		dir  flow.Dir
		data []byte
	}{{flow.Orig, []byte(connect06)}, {flow.Resp, []byte("GNUTELLA/0.6 503 Too many leaf connections\r\nUser-Agent: gtk-gnutella/1.2.2\r\n\r\n")}})
	l := rec.Events[len(rec.Events)-1].Login
	if l == nil || l.Outcome != event.Refused || l.Reason != "503 Too many leaf connections" || l.Client != "gtk-gnutella/1.2.2" {
		t.Errorf("refusal = %+v", l)
	}
}

// Every 2-way split of every message gives the same events.
func TestConnSplit(t *testing.T) {
	whole := run(t, 0, session).Events
	for split := 1; split < 200; split++ {
		if got := run(t, split, session).Events; !reflect.DeepEqual(got, whole) {
			t.Fatalf("split at %d: events differ", split)
		}
	}
}

func TestProbe(t *testing.T) {
	run := cat(desc(1, typePing, 1, 0, nil), desc(2, typePong, 1, 0, pongPayload), desc(3, typeQuery, 2, 1, queryPayload))
	tests := []struct {
		name string
		in   classify.Input
		want classify.Result
	}{
		{"connect", classify.Input{Data: []byte(connect06)}, classify.Match},
		{"connect partial", classify.Input{Data: []byte("GNUTELLA CONN")}, classify.NeedMore},
		{"answer", classify.Input{Dir: flow.Resp, Data: []byte(answer06)}, classify.Match},
		{"0.4 ok", classify.Input{Dir: flow.Resp, Data: []byte("GNUTELLA OK\n\n")}, classify.Match},
		{"giv", classify.Input{Data: []byte("GIV 1:112233445566778899aabbccddeeff01/song.mp3\n\n")}, classify.Match},
		{"giv bad", classify.Input{Data: []byte("GIV 1:1122x")}, classify.NoMatch},
		{"uri-res", classify.Input{Data: []byte("GET /uri-res/N2R?" + fileURN + " HTTP/1.1\r\n")}, classify.Match},
		{"get with marker", classify.Input{Data: []byte("GET /get/1/song.mp3 HTTP/1.0\r\nUser-Agent: LimeWire/2.4\r\n\r\n")}, classify.Match},
		{"get plain", classify.Input{Data: []byte("GET /get/1/song.mp3 HTTP/1.0\r\nUser-Agent: curl/8\r\n\r\n")}, classify.NoMatch},
		{"web", classify.Input{Data: []byte("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")}, classify.NoMatch},
		{"midstream run", classify.Input{Data: append([]byte("xyz"), run...), MidStream: true}, classify.Match},
		{"run not midstream", classify.Input{Data: run}, classify.NoMatch},
		{"zeros midstream", classify.Input{Data: make([]byte, 600), MidStream: true}, classify.NoMatch},
		{"udp ping", classify.Input{UDP: true, Data: desc(1, typePing, 1, 0, nil)}, classify.Match},
		{"udp wrong length", classify.Input{UDP: true, Data: append(desc(1, typePing, 1, 0, nil), 0)}, classify.NoMatch},
		{"udp gnd", classify.Input{UDP: true, Data: []byte("GND\x10\x40\x8b\x01\x01T\x0bQKR")}, classify.Match},
		{"udp dns", classify.Input{UDP: true, Data: []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01")}, classify.NoMatch},
	}
	for _, tt := range tests {
		if got := probe(&tt.in); got != tt.want {
			t.Errorf("%s: probe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	ins := []classify.Input{
		{Data: []byte(connect06)},
		{Data: []byte("GET /get/1/song.mp3 HTTP/1.0\r\nUser-Agent: LimeWire/2.4\r\n\r\n")},
		{Data: cat(desc(1, typePing, 1, 0, nil), desc(2, typePong, 1, 0, pongPayload), desc(3, typeQuery, 2, 1, queryPayload)), MidStream: true},
		{UDP: true, Data: desc(1, typePing, 1, 0, nil)},
	}
	for i := range ins {
		if n := testing.AllocsPerRun(100, func() { probe(&ins[i]) }); n != 0 {
			t.Errorf("input %d: probe allocates %v times", i, n)
		}
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Data: make([]byte, 1400), MidStream: true}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

func BenchmarkProbeHandshake(b *testing.B) {
	in := classify.Input{Data: []byte(connect06)}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

// buildCapture writes the synthetic capture (testdata/SOURCES.md).
func buildCapture(t testing.TB) []byte {
	w := pcaptest.NewWriter()
	t0 := time.Date(2002, 5, 1, 12, 0, 0, 0, time.UTC)
	local := netip.MustParseAddr("10.0.0.1")
	// 1. A 0.6 session on a non-standard port.
	c := w.TCP(t0, netip.AddrPortFrom(local, 40000), netip.MustParseAddrPort("198.51.100.7:8436"))
	c.Handshake()
	for _, m := range session {
		c.Send(int(m.dir), m.data)
	}
	c.Close()
	// 2. The GIV connection the push asked for: we (firewalled) connect to
	// the requester, which then downloads the file.
	g := w.TCP(c.T.Add(time.Second), netip.AddrPortFrom(local, 40001), requester)
	g.Handshake()
	g.Send(0, []byte("GIV 1:112233445566778899aabbccddeeff01/song.mp3\n\n"))
	g.Send(1, []byte("GET /get/1/song.mp3 HTTP/1.1\r\nUser-Agent: BearShare 4.0.0\r\nRange: bytes=0-\r\n\r\n"))
	g.Send(0, cat([]byte("HTTP/1.1 200 OK\r\nServer: LimeWire/2.4.4\r\nContent-Type: audio/mpeg\r\nContent-Length: "+itoa(len(fileData))+
		"\r\nX-Gnutella-Content-URN: "+fileURN+"\r\nX-Alt: 198.51.100.30:6346, 198.51.100.31:6348\r\n\r\n"), fileData))
	g.Close()
	// 3. A compressed session (deflate both ways after the handshake).
	z := w.TCP(g.T.Add(time.Second), netip.AddrPortFrom(local, 40002), netip.MustParseAddrPort("198.51.100.8:6346"))
	z.Handshake()
	z.Send(0, []byte("GNUTELLA CONNECT/0.6\r\nUser-Agent: gtk-gnutella/0.92\r\nAccept-Encoding: deflate\r\nX-Ultrapeer: True\r\n\r\n"))
	z.Send(1, []byte("GNUTELLA/0.6 200 OK\r\nUser-Agent: Morpheus 2.0\r\nAccept-Encoding: deflate\r\nContent-Encoding: deflate\r\nX-Ultrapeer: True\r\n\r\n"))
	z.Send(0, []byte("GNUTELLA/0.6 200 OK\r\nContent-Encoding: deflate\r\n\r\n"))
	z.Send(1, compress(t, desc(5, typePing, 1, 0, nil), desc(6, typeQuery, 7, 2, cat(le16(0), []byte("britney\x00")))))
	z.Send(0, compress(t, desc(5, typePong, 1, 0, pongPayload)))
	z.Close()
	// 4. A plain web download that looks like /get/: not Gnutella.
	h := w.TCP(z.T.Add(time.Second), netip.AddrPortFrom(local, 40003), netip.MustParseAddrPort("198.51.100.40:80"))
	h.Handshake()
	h.Send(0, []byte("GET /get/1/report.pdf HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\n\r\n"))
	h.Send(1, []byte("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n%PDF"))
	h.Close()
	// 5. UDP ping and pong.
	u1, u2 := netip.AddrPortFrom(local, 6346), netip.MustParseAddrPort("198.51.100.9:6346")
	w.UDP(h.T.Add(time.Second), u1, u2, desc(7, typePing, 1, 0, nil))
	w.UDP(h.T.Add(2*time.Second), u2, u1, desc(7, typePong, 1, 0, pongPayload))
	return w.Bytes()
}

func itoa(n int) string { return string(strconvAppend(nil, n)) }

func strconvAppend(b []byte, n int) []byte {
	if n >= 10 {
		b = strconvAppend(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func TestCapture(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "synthetic.pcap"), buildCapture(t))
}

func TestGolden(t *testing.T) {
	for _, name := range []string{"synthetic.pcap", "nDPI__gnutella-trim.pcap", "lab__gtkgnutella-2nodes.pcap",
		"zeek-synthetic__max-header.pcapng", "zeek-synthetic__max-line.pcapng"} {
		t.Run(name, func(t *testing.T) { pcaptest.Golden(t, name, false) })
	}
}

// TestSyntheticScenarios checks what the synthetic capture must yield.
func TestSyntheticScenarios(t *testing.T) {
	recs, _, err := pcaptest.Analyze([]string{filepath.Join("testdata", "synthetic.pcap")}, pcaptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var search, expected, verifiedFile, compressed bool
	for _, r := range recs {
		switch {
		case r.Type == "gnutella" && r.PW != nil && r.PW.Search != nil && r.PW.Search.Query == "britney":
			compressed = true
		case r.Type == "gnutella" && r.PW != nil && r.PW.Search != nil:
			search = true
		case r.Type == event.TypeFlow && r.Dst == requester && r.PW != nil && r.PW.Confidence == "confirmed":
			expected = len(r.PW.Evidence) > 0
		case r.Type == event.TypeFileinfo && r.File.Filename == "song.mp3" && r.File.State == "CLOSED" && r.File.SHA1 != "":
			verifiedFile = true
		case r.Type == event.TypeAnomaly && r.Anomaly.Event == "gnutella_urn_mismatch":
			t.Error("urn mismatch on the synthetic file")
		case r.Type == event.TypeFlow && r.Dst.Port() == 80 && r.AppProto == "gnutella":
			t.Error("plain web /get/ download claimed")
		}
	}
	if !search || !expected || !verifiedFile || !compressed {
		t.Errorf("search %v expected GIV %v file %v compressed %v", search, expected, verifiedFile, compressed)
	}
}
