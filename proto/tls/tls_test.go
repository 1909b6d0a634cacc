package tls

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

func TestParseClientHello(t *testing.T) {
	full := helloOpts{sni: "db3msgr5011.msgr.hotmail.com", alpns: []string{"h2", "http/1.1"}, versions: []uint16{0x1a1a, verTLS13, verTLS12}, sid: opaque(32, 1)}
	badSID := clientHelloBody(helloOpts{})
	badSID[34] = 33
	oddSuites := clientHelloBody(helloOpts{noExts: true})
	oddSuites[36] = 7
	trailing := append(clientHelloBody(helloOpts{sni: "a.example"}), 0)
	tests := []struct {
		name  string
		in    []byte
		err   error
		sni   string
		alpns []string
		max   uint16
	}{
		{"full", clientHelloBody(full), nil, full.sni, full.alpns, verTLS13},
		{"sni only", clientHelloBody(helloOpts{sni: "web.whatsapp.com"}), nil, "web.whatsapp.com", nil, 0},
		{"no extensions", clientHelloBody(helloOpts{noExts: true}), nil, "", nil, 0},
		{"session id too long", badSID, ErrShort, "", nil, 0},
		{"odd cipher suites", oddSuites, ErrShort, "", nil, 0},
		{"bytes after extensions", trailing, ErrHello, "", nil, 0},
		{"empty", nil, ErrShort, "", nil, 0},
		{"not ssl3+", append([]byte{2, 0}, clientHelloBody(helloOpts{})[2:]...), ErrHello, "", nil, 0},
	}
	for _, tt := range tests {
		ch, err := parseClientHello(tt.in)
		if tt.err != nil {
			if err == nil {
				t.Errorf("%s: no error, want %v", tt.name, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if ch.sni != tt.sni || !reflect.DeepEqual(ch.alpns, tt.alpns) || ch.maxVersion != tt.max {
			t.Errorf("%s: got sni %q alpns %q max %#x", tt.name, ch.sni, ch.alpns, ch.maxVersion)
		}
	}
}

// Every truncation of a ClientHello is an error, except the one that cuts
// exactly before the extensions (a valid hello without extensions).
func TestParseClientHelloTruncated(t *testing.T) {
	b := clientHelloBody(helloOpts{sni: "login.icq.com", alpns: []string{"h2"}, versions: []uint16{verTLS13}, sid: opaque(16, 3)})
	ch, err := parseClientHello(b)
	if err != nil || ch.sni != "login.icq.com" {
		t.Fatalf("whole: %+v %v", ch, err)
	}
	extLen := int(b[2+32+1+16+2+8+2])<<8 | int(b[2+32+1+16+2+8+3])
	noExt := len(b) - 2 - extLen
	for i := range len(b) {
		_, err := parseClientHello(b[:i])
		if i == noExt {
			if err != nil {
				t.Errorf("cut before extensions: %v", err)
			}
			continue
		}
		if !errors.Is(err, ErrShort) && !errors.Is(err, ErrHello) {
			t.Errorf("cut at %d of %d: err %v", i, len(b), err)
		}
	}
}

func TestParseServerHello(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		ok   bool
		ver  uint16
		alpn string
	}{
		{"tls12", serverHelloBody(0xc02f, 0, opaque(32, 1), ""), true, verTLS12, ""},
		{"tls13", serverHelloBody(0x1301, verTLS13, opaque(32, 1), "h2"), true, verTLS13, "h2"},
		{"bad supported_versions", append(serverHelloBody(0x1301, 0, nil, "")[:38:38], vec(2, ext(extSupportedVersions, []byte{3}))...), false, 0, ""},
		{"empty", nil, false, 0, ""},
	}
	for _, tt := range tests {
		sh, err := parseServerHello(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err %v", tt.name, err)
			continue
		}
		if tt.ok && (sh.negotiated() != tt.ver || sh.alpn != tt.alpn) {
			t.Errorf("%s: got %+v", tt.name, sh)
		}
	}
	b := serverHelloBody(0x1301, verTLS13, opaque(32, 1), "h2")
	for i := range len(b) {
		if _, err := parseServerHello(b[:i]); err == nil && i != 2+32+1+32+3 {
			t.Errorf("cut at %d of %d: no error", i, len(b))
		}
	}
}

func TestFirstCertificate(t *testing.T) {
	cert := []byte("DER")
	b := vec(3, append(vec(3, cert), vec(3, []byte("CA"))...))
	got, err := firstCertificate(b)
	if err != nil || string(got) != "DER" {
		t.Fatalf("got %q %v", got, err)
	}
	for i := range len(b) {
		if _, err := firstCertificate(b[:i]); err == nil {
			t.Errorf("cut at %d: no error", i)
		}
	}
	if _, err := firstCertificate([]byte{0, 0, 5, 0, 0, 9, 1, 2}); err == nil {
		t.Error("certificate longer than the list: no error")
	}
}

func TestVersionName(t *testing.T) {
	for v, want := range map[uint16]string{verSSL3: "SSLv3", verTLS10: "TLSv1", verTLS11: "TLS 1.1", verTLS12: "TLS 1.2", verTLS13: "TLS 1.3", 0x7f17: "TLS 1.3 draft 23", 0xfefd: "0xfefd"} {
		if got := versionName(v); got != want {
			t.Errorf("versionName(%#x) = %q, want %q", v, got, want)
		}
	}
}

func flat(msgs [][2][]byte, dir byte) []byte {
	var b []byte
	for _, m := range msgs {
		if m[0][0] == dir {
			b = append(b, m[1]...)
		}
	}
	return b
}

func TestProbe(t *testing.T) {
	ch := flat(imSession(), 0)
	frag := flat(tls13Session(), 0)
	sh := flat(imSession(), 1)
	junk := append([]byte("\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x05\x05"), opaque(60, 13)...)
	bigLen := append([]byte(nil), ch...)
	bigLen[3], bigLen[4] = 0x50, 0
	tests := []struct {
		name  string
		dir   flow.Dir
		in    []byte
		other []byte
		want  classify.Result
	}{
		{"client hello", flow.Orig, ch, nil, classify.Match},
		{"client hello over two records", flow.Orig, frag, nil, classify.Match},
		{"header only", flow.Orig, ch[:5], nil, classify.NeedMore},
		{"server hello, no client seen", flow.Resp, sh, nil, classify.Match},
		{"server hello after client bytes", flow.Resp, sh, []byte("x"), classify.NoMatch},
		{"server hello in orig", flow.Orig, sh, nil, classify.NoMatch},
		{"client hello in resp", flow.Resp, ch, nil, classify.NoMatch},
		{"bad legacy_version", flow.Orig, junk, nil, classify.NoMatch},
		{"record too long", flow.Orig, bigLen, nil, classify.NoMatch},
		{"oscar flap", flow.Orig, []byte("\x2a\x01\x12\x34\x00\x04\x00\x00\x00\x01"), nil, classify.NoMatch},
		{"http", flow.Orig, []byte("GET / HTTP/1.1\r\n"), nil, classify.NoMatch},
		{"alert record", flow.Orig, []byte("\x15\x03\x01\x00\x02\x02\x28"), nil, classify.NoMatch},
		{"tls 1.3 record version", flow.Orig, append([]byte{0x16, 3, 4}, ch[3:]...), nil, classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Dir: tt.dir, Data: tt.in, Other: tt.other}
		if got := probe(&in); got != tt.want {
			t.Errorf("%s: probe = %v, want %v", tt.name, got, tt.want)
		}
	}
	// Every proper prefix of a hello is undecided, never a rejection.
	for _, b := range [][]byte{ch, frag} {
		end := len(b)
		if b[5] == hsClientHello && len(b) > 9 {
			end = min(len(b), firstHelloEnd(b))
		}
		for i := range end {
			in := classify.Input{Data: b[:i]}
			if got := probe(&in); got != classify.NeedMore {
				t.Fatalf("prefix %d of %d: %v, want NeedMore", i, end, got)
			}
		}
	}
}

// firstHelloEnd returns the offset where the first hello's last byte ends,
// records included.
func firstHelloEnd(b []byte) int {
	need := 4 + (int(b[6])<<16 | int(b[7])<<8 | int(b[8]))
	off := 0
	for need > 0 {
		l := int(b[off+3])<<8 | int(b[off+4])
		off += 5
		take := min(l, need)
		off += take
		need -= take
	}
	return off
}

// Random bytes behind a TLS record prefix are rejected.
func TestProbeRandom(t *testing.T) {
	seed := uint32(1)
	matches := 0
	for range 20000 {
		b := []byte{0x16, 3, 1, 0, 0}
		for range 200 {
			seed = seed*1664525 + 1013904223
			b = append(b, byte(seed>>24))
		}
		b[3], b[4] = 0, 195
		b[5] = hsClientHello
		if probe(&classify.Input{Data: b}) == classify.Match {
			matches++
		}
	}
	if matches > 0 {
		t.Errorf("%d random records with a ClientHello type matched", matches)
	}
}

func TestProbeAllocs(t *testing.T) {
	in := classify.Input{Data: flat(tls13Session(), 0)}
	if n := testing.AllocsPerRun(100, func() { probe(&in) }); n != 0 {
		t.Fatalf("probe allocates %v times", n)
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Data: flat(tls13Session(), 0)}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
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

// run feeds a session, each message split at split (0: whole), and ends it.
func run(t testing.TB, msgs [][2][]byte, split int) *analyzer.Recorder {
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("tls")
	c := spec.New(rec.Session(&spec))
	var pend [2][]byte
	for _, m := range msgs {
		dir := flow.Dir(m[0][0])
		b := m[1]
		if split > 0 && split < len(b) {
			feedAll(t, c, dir, b[:split], &pend)
			feedAll(t, c, dir, b[split:], &pend)
		} else {
			feedAll(t, c, dir, b, &pend)
		}
	}
	c.(analyzer.Ender).End(flow.EndClosed)
	return rec
}

func TestConnEvents(t *testing.T) {
	rec := run(t, imSession(), 0)
	if !rec.Confirmed || rec.Service != "msn" || rec.Product != "MSN Messenger" || rec.Evidence != flow.EvSNI {
		t.Errorf("confirmed %v service %q product %q evidence %v", rec.Confirmed, rec.Service, rec.Product, rec.Evidence)
	}
	if len(rec.Events) != 1 || rec.Events[0].Kind != event.Detected {
		t.Fatalf("events = %+v", rec.Events)
	}
	f := rec.Events[0].Fields
	if f["sni"] != "db3msgr5011.msgr.hotmail.com" || f["version"] != "TLS 1.2" {
		t.Errorf("fields = %v", f)
	}
	if sh := f["server_handshake"].(map[string]any); sh["cipher"] != 0xc02f {
		t.Errorf("server_handshake = %v", sh)
	}
	if len(rec.Anomalies) != 0 {
		t.Errorf("anomalies = %v", rec.Anomalies)
	}

	rec = run(t, tls13Session(), 0)
	if rec.Service != "whatsapp" || len(rec.Events) != 1 {
		t.Fatalf("tls13: service %q events %+v", rec.Service, rec.Events)
	}
	f = rec.Events[0].Fields
	if f["version"] != "TLS 1.3" || !reflect.DeepEqual(f["client_alpns"], []string{"h2", "http/1.1"}) {
		t.Errorf("tls13 fields = %v", f)
	}
}

// A ClientHello alone (the server never answered) is reported at the end.
func TestConnClientOnly(t *testing.T) {
	rec := run(t, imSession()[:1], 0)
	if len(rec.Events) != 1 || rec.Events[0].Fields["version"] != nil || rec.Events[0].Fields["sni"] == nil {
		t.Fatalf("events = %+v", rec.Events)
	}
}

// A ServerHello that repeats the client's session id resumes the session.
func TestConnResumed(t *testing.T) {
	sid := opaque(32, 9)
	msgs := [][2][]byte{
		{{0}, record(recHandshake, 0x0301, hsMsg(hsClientHello, clientHelloBody(helloOpts{sni: "x.example", sid: sid})))},
		{{1}, append(record(recHandshake, 0x0303, hsMsg(hsServerHello, serverHelloBody(0xc02f, 0, sid, ""))), record(recChangeCipherSpec, 0x0303, []byte{1})...)},
	}
	rec := run(t, msgs, 0)
	if len(rec.Events) != 1 || rec.Events[0].Fields["session_resumed"] != true || rec.Service != "" {
		t.Fatalf("events = %+v service %q", rec.Events, rec.Service)
	}
}

func TestConnAlertAndViolation(t *testing.T) {
	msgs := [][2][]byte{
		{{0}, imSession()[0][1]},
		{{1}, record(recAlert, 0x0303, []byte{2, 40})},
	}
	rec := run(t, msgs, 0)
	if len(rec.Anomalies) != 1 || !strings.Contains(rec.Anomalies[0], "tls_fatal_alert: server sent handshake_failure") {
		t.Errorf("anomalies = %v", rec.Anomalies)
	}
	spec, _ := analyzer.Lookup("tls")
	c := spec.New(analyzer.NewRecorder().Session(&spec))
	if _, err := c.Feed(flow.Orig, []byte("\x2a\x01\x00\x01\x00\x04\x00\x00\x00\x01")); !errors.Is(err, ErrRecord) {
		t.Errorf("FLAP: err %v, want ErrRecord", err)
	}
	bad := record(recHandshake, 0x0301, hsMsg(hsClientHello, clientHelloBody(helloOpts{})[:20]))
	if _, err := c.Feed(flow.Orig, bad); !errors.Is(err, ErrShort) {
		t.Errorf("short hello: err %v, want ErrShort", err)
	}
}

// Every 2-way split of every message gives the same events, and so does
// feeding one byte at a time.
func TestConnSplit(t *testing.T) {
	for _, msgs := range [][][2][]byte{imSession(), tls13Session()} {
		whole := run(t, msgs, 0)
		for split := 1; split < 300; split++ {
			got := run(t, msgs, split)
			if !reflect.DeepEqual(got.Events, whole.Events) || got.Service != whole.Service {
				t.Fatalf("split at %d: events differ:\n%+v\nwant\n%+v", split, got.Events, whole.Events)
			}
		}
		rec := analyzer.NewRecorder()
		spec, _ := analyzer.Lookup("tls")
		c := spec.New(rec.Session(&spec))
		var pend [2][]byte
		for _, m := range msgs {
			for _, b := range m[1] {
				feedAll(t, c, flow.Dir(m[0][0]), []byte{b}, &pend)
			}
		}
		c.(analyzer.Ender).End(flow.EndClosed)
		if !reflect.DeepEqual(rec.Events, whole.Events) {
			t.Fatalf("byte by byte: events differ:\n%+v\nwant\n%+v", rec.Events, whole.Events)
		}
	}
}

// A gap inside an encrypted record is skipped; a gap in the handshake
// abandons the direction without an error.
func TestConnGap(t *testing.T) {
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("tls")
	c := spec.New(rec.Session(&spec))
	g := c.(analyzer.GapHandler)
	s := imSession()
	var pend [2][]byte
	feedAll(t, c, flow.Orig, s[0][1], &pend)
	feedAll(t, c, flow.Resp, s[1][1], &pend)
	app := record(recApplicationData, 0x0303, opaque(100, 1))
	feedAll(t, c, flow.Orig, app[:20], &pend)
	g.Gap(flow.Orig, 50)
	feedAll(t, c, flow.Orig, app[70:], &pend)
	feedAll(t, c, flow.Orig, app, &pend)
	g.Gap(flow.Resp, 10)
	feedAll(t, c, flow.Resp, []byte("anything at all"), &pend)
	if len(pend[0]) != 0 || len(rec.Events) != 1 {
		t.Fatalf("pending %d events %+v", len(pend[0]), rec.Events)
	}
}

func TestCapture(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "tls-im-sni.pcap"), buildCapture())
}

// TestGolden runs the captures of testdata through the whole pipeline: our
// records, validated against the EVE schema, are the golden files.
func TestGolden(t *testing.T) {
	for _, name := range []string{"tls-im-sni.pcap", "nDPI__discord.pcap", "nDPI__line.pcap", "nDPI__whatsappfiles.pcap", "nDPI__tls_torrent.pcapng"} {
		t.Run(name, func(t *testing.T) {
			pcaptest.Golden(t, name, false)
		})
	}
}

// The IM flows of the captures are labelled by their host names.
func TestGoldenLabels(t *testing.T) {
	for name, want := range map[string]string{
		"tls-im-sni.pcap":          `"service":"msn"`,
		"nDPI__discord.pcap":       `"service":"discord"`,
		"nDPI__line.pcap":          `"service":"line"`,
		"nDPI__whatsappfiles.pcap": `"service":"whatsapp"`,
		"nDPI__tls_torrent.pcapng": `"service":"bittorrent"`,
	} {
		b, err := os.ReadFile(filepath.Join("testdata", strings.TrimSuffix(strings.TrimSuffix(name, ".pcapng"), ".pcap")+".golden.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, line := range bytes.Split(b, []byte("\n")) {
			if bytes.Contains(line, []byte(`"event_type":"tls"`)) && bytes.Contains(line, []byte(want)) &&
				bytes.Contains(line, []byte(`"confidence":"hostname"`)) && bytes.Contains(line, []byte(`"evidence":["sni"]`)) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no tls record with %s, confidence hostname, evidence [sni]", name, want)
		}
	}
}

func FuzzClientHello(f *testing.F) {
	f.Add(clientHelloBody(helloOpts{sni: "a.example", alpns: []string{"h2"}, versions: []uint16{verTLS13}}))
	f.Add(clientHelloBody(helloOpts{noExts: true}))
	f.Fuzz(func(t *testing.T, b []byte) {
		ch, err := parseClientHello(b)
		if err == nil && len(ch.sni) > maxName {
			t.Fatalf("sni of %d bytes", len(ch.sni))
		}
		parseServerHello(b)
		firstCertificate(b)
	})
}

func FuzzProbe(f *testing.F) {
	f.Add(flat(imSession(), 0), false)
	f.Add(flat(tls13Session(), 0), false)
	f.Add(flat(imSession(), 1), true)
	f.Fuzz(func(t *testing.T, b []byte, resp bool) {
		in := classify.Input{Data: b}
		if resp {
			in.Dir = flow.Resp
		}
		probe(&in)
	})
}

func FuzzConnFeed(f *testing.F) {
	f.Add(flat(imSession(), 0), flat(imSession(), 1))
	f.Add(flat(tls13Session(), 0), flat(tls13Session(), 1))
	for _, name := range []string{"nDPI__discord.orig", "nDPI__discord.resp"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b, b)
		}
	}
	f.Fuzz(func(t *testing.T, orig, resp []byte) {
		rec := analyzer.NewRecorder()
		spec, _ := analyzer.Lookup("tls")
		c := spec.New(rec.Session(&spec))
		for _, d := range []struct {
			dir  flow.Dir
			data []byte
		}{{flow.Orig, orig}, {flow.Resp, resp}} {
			n, err := c.Feed(d.dir, d.data)
			if n < 0 || n > len(d.data) {
				t.Fatalf("Feed consumed %d of %d", n, len(d.data))
			}
			_ = err
		}
		c.(analyzer.Ender).End(flow.EndClosed)
		if len(rec.Events) > 1 {
			t.Fatalf("%d events", len(rec.Events))
		}
	})
}

// The server flight of the real Discord capture (Certificate, Certificate
// Status, ServerKeyExchange, ServerHelloDone over two segments) gives the
// certificate's names; without an SNI they alone label the flow.
func TestConnCertificateNames(t *testing.T) {
	resp, err := os.ReadFile(filepath.Join("testdata", "nDPI__discord.resp"))
	if err != nil {
		t.Fatal(err)
	}
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("tls")
	c := spec.New(rec.Session(&spec))
	var pend [2][]byte
	feedAll(t, c, flow.Orig, record(recHandshake, 0x0301, hsMsg(hsClientHello, clientHelloBody(helloOpts{}))), &pend)
	feedAll(t, c, flow.Resp, resp[:1000], &pend)
	feedAll(t, c, flow.Resp, resp[1000:], &pend)
	if len(rec.Events) != 1 {
		t.Fatalf("events = %+v", rec.Events)
	}
	f := rec.Events[0].Fields
	if f["subject"] != "C=US, ST=CA, L=San Francisco, O=Cloudflare, Inc., CN=sni.cloudflaressl.com" || f["sni"] != nil {
		t.Errorf("fields = %v", f)
	}
	if rec.Service != "discord" || rec.Evidence != flow.EvSNI {
		t.Errorf("service %q evidence %v, want discord by certificate name", rec.Service, rec.Evidence)
	}
}
