package ymsg

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"strconv"
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

	_ "github.com/peerwatch/peerwatch/proto/http" // the carrier the false-claim test competes with
)

const (
	httpTestLogin = "GET /config/ncclogin?.src=bl&login=alice_y&passwd=yahoo123&n=1 HTTP/1.0\r\n" +
		"User-Agent: Mozilla/4.0 (compatible; MSIE 5.5)\r\nHost: edit.yahoo.com\r\n\r\n"
	httpTestLoginOK = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n" +
		"Set-Cookie: Y=v=1&n=3lutd2l220eoo&l=a4l4ji/o&p=m2a0000000000&r=ch&lg=us&intl=us; path=/; domain=.yahoo.com\r\n" +
		"Set-Cookie: T=z=9XtD9B&a=YAE&sk=DAAfa7o4Dwq&d=c2wBTVRFd0FUSTROalEz; path=/; domain=.yahoo.com\r\n" +
		"\r\nOK\r\n"
	httpTestLoginBad = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nERROR: Invalid NCC Login\r\n"
)

// httpTestFile is a small PE executable head.
var httpTestFile = append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), []byte(strings.Repeat("peerwatch-yahoo-", 200))...)

// httpTestFT builds a /notifyft request the way gaim 0.75 does: head,
// YMSG 0x46 packet (0 me, 5 to, 14 "", 27 name, 28 size), "29\xC0\x80",
// the file.
func httpTestFT(absolute bool) string {
	var p []byte
	for _, kv := range [][2]string{{"0", "alice_y"}, {"5", "bob_y"}, {"14", ""}, {"27", "photo.exe"}, {"28", strconv.Itoa(len(httpTestFile))}} {
		p = append(p, kv[0]+"\xC0\x80"+kv[1]+"\xC0\x80"...)
	}
	hdr := []byte("YMSG\x00\x0a\x00\x00")
	l := len(p) + 4
	hdr = append(hdr, byte(l>>8), byte(l), 0x00, 0x46, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78)
	body := append(append(hdr, p...), "29\xC0\x80"...)
	body = append(body, httpTestFile...)
	target := "/notifyft"
	if absolute {
		target = "http://filetransfer.msg.yahoo.com:80/notifyft"
	}
	return "POST " + target + " HTTP/1.0\r\nContent-length: " + strconv.Itoa(len(body)) +
		"\r\nHost: filetransfer.msg.yahoo.com:80\r\nCookie: Y=v=1&n=3lutd2l220eoo&l=a4l4ji/o; T=z=9XtD9B&a=YAE&sk=DAAfa7o4Dwq\r\n\r\n" + string(body)
}

const httpTestFTOK = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"

func TestHTTPProbe(t *testing.T) {
	tests := []struct {
		name string
		dir  flow.Dir
		in   string
		want classify.Result
	}{
		{"ncclogin", flow.Orig, httpTestLogin, classify.Match},
		{"ncclogin bare lf", flow.Orig, "GET /config/ncclogin?.src=bl&login=a&passwd=b&n=1 HTTP/1.0\nHost: x\n", classify.Match},
		{"ncclogin post", flow.Orig, "POST /config/ncclogin HTTP/1.0\r\n", classify.Match},
		{"login 2002", flow.Orig, "GET /config/login?.src=&login=a&passwd=b&n=1 HTTP/1.0\r\n", classify.Match},
		{"notifyft", flow.Orig, "POST /notifyft HTTP/1.0\r\n", classify.Match},
		{"notifyft absolute", flow.Orig, "POST http://filetransfer.msg.yahoo.com:80/notifyft HTTP/1.0\r\n", classify.Match},
		{"ncclogin via proxy", flow.Orig, "GET http://edit.yahoo.com/config/ncclogin?login=a&passwd=b HTTP/1.0\r\n", classify.Match},
		{"partial method", flow.Orig, "POS", classify.NeedMore},
		{"partial target", flow.Orig, "GET /config/ncclogin?login=a&pa", classify.NeedMore},
		{"partial version", flow.Orig, "POST /notifyft HTTP/1", classify.NeedMore},
		{"cr only", flow.Orig, "POST /notifyft HTTP/1.0\r", classify.NeedMore},
		{"ordinary get", flow.Orig, "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n", classify.NoMatch},
		{"ordinary proxy get", flow.Orig, "GET http://www.example.com/ HTTP/1.1\r\n", classify.NoMatch},
		{"proxy to other host", flow.Orig, "POST http://example.com/notifyft HTTP/1.0\r\n", classify.NoMatch},
		{"web login without passwd", flow.Orig, "GET /config/login?.src=ym HTTP/1.1\r\n", classify.NoMatch},
		{"login by post", flow.Orig, "POST /config/login?login=a&passwd=b HTTP/1.1\r\n", classify.NoMatch},
		{"ncclogin without login", flow.Orig, "GET /config/ncclogin?.src=bl HTTP/1.0\r\n", classify.NoMatch},
		{"notifyft by get", flow.Orig, "GET /notifyft HTTP/1.0\r\n", classify.NoMatch},
		{"longer path", flow.Orig, "POST /notifyftx HTTP/1.0\r\n", classify.NoMatch},
		{"http2", flow.Orig, "POST /notifyft HTTP/2.0\r\n", classify.NoMatch},
		{"junk after version", flow.Orig, "POST /notifyft HTTP/1.0x\r\n", classify.NoMatch},
		{"response", flow.Resp, "HTTP/1.0 200 OK\r\n", classify.NoMatch},
		{"no end", flow.Orig, "GET /config/ncclogin?login=" + strings.Repeat("a", httpProbeMax), classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Dir: tt.dir, Data: []byte(tt.in)}
		if got := httpProbe(&in); got != tt.want {
			t.Errorf("%s: httpProbe(%.60q) = %d, want %d", tt.name, tt.in, got, tt.want)
		}
	}
}

// TestHTTPNoFalseClaim runs an ordinary HTTP exchange through the
// classifier: the http carrier, not ymsg_http, must get it, while the
// Yahoo login goes to ymsg_http even on the carrier's hint port.
func TestHTTPNoFalseClaim(t *testing.T) {
	var entries []classify.Entry
	for _, s := range analyzer.All() {
		entries = append(entries, classify.Entry{Name: s.Name, Sig: s.Detect, TCP: s.Transport&analyzer.TCP != 0, UDP: s.Transport&analyzer.UDP != 0})
	}
	e := classify.New(entries)
	for _, tt := range []struct {
		in, want string
	}{
		{"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n", "http"},
		{"GET /config/ncclogin.html HTTP/1.1\r\nHost: edit.yahoo.com\r\n\r\n", "http"},
		{httpTestLogin, "ymsg_http"},
		{httpTestFT(false), "ymsg_http"},
	} {
		for _, port := range []uint16{80, 8080, 2001} {
			var st classify.State
			e.Hint(&st, false, 40000, port)
			v := e.Classify(&st, &classify.Input{Dir: flow.Orig, Data: []byte(tt.in)})
			got := ""
			if v.Entry >= 0 {
				got = entries[v.Entry].Name
			}
			if tt.want == "http" && got == "ymsg_http" || tt.want == "ymsg_http" && got != "ymsg_http" {
				t.Errorf("port %d: %.40q classified as %q, want %q", port, tt.in, got, tt.want)
			}
		}
	}
}

func TestHTTPProbeAllocs(t *testing.T) {
	for _, s := range []string{httpTestLogin, httpTestFT(true), "GET http://www.example.com/ HTTP/1.1\r\n"} {
		in := classify.Input{Data: []byte(s)}
		if n := testing.AllocsPerRun(100, func() { httpProbe(&in) }); n != 0 {
			t.Fatalf("httpProbe(%.30q) allocates %v times", s, n)
		}
	}
}

func BenchmarkHTTPProbe(b *testing.B) {
	in := classify.Input{Data: []byte(httpTestLogin)}
	b.ReportAllocs()
	for b.Loop() {
		httpProbe(&in)
	}
}

func TestHTTPParams(t *testing.T) {
	q := []byte(".src=bl&login=alice%5Fy&passwd=a+b%2&x&n=1")
	if v, ok := httpParam(q, "login"); !ok || httpUnescape(v) != "alice_y" {
		t.Errorf("login = %q %v", v, ok)
	}
	if v, ok := httpParam(q, "passwd"); !ok || httpUnescape(v) != "a b%2" {
		t.Errorf("passwd = %q", httpUnescape(v))
	}
	if _, ok := httpParam(q, "x"); !ok {
		t.Error("valueless parameter not found")
	}
	if _, ok := httpParam(q, "src"); ok {
		t.Error("found src without its dot")
	}
	if got := httpUnescape([]byte(strings.Repeat("%41", 1000))); len(got) != httpMaxParam {
		t.Errorf("unescape not bounded: %d", len(got))
	}
	got := httpCookies(nil, []byte("B=x; Y=v=1&n=a; T=z=b; Yx=c; T="), false)
	want := []httpCookie{{"Y", "v=1&n=a"}, {"T", "z=b"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cookies = %v", got)
	}
	if got := httpCookies(nil, []byte("Y=v=1; path=/; T=fake"), true); len(got) != 1 {
		t.Errorf("set-cookie = %v", got)
	}
}

func TestHTTPParseFT(t *testing.T) {
	req := httpTestFT(false)
	body := []byte(req[strings.Index(req, "\r\n\r\n")+4:])
	ft, ok, err := httpParseFT(body)
	if !ok || err != nil || ft.name != "photo.exe" || ft.from != "alice_y" || ft.to != "bob_y" ||
		ft.size != int64(len(httpTestFile)) || ft.service != 0x46 || string(body[ft.dataOffset:ft.dataOffset+2]) != "MZ" {
		t.Fatalf("httpParseFT = %+v %v %v", ft, ok, err)
	}
	// Truncated at every byte before the marker ends: need more, no error.
	for i := 0; i < ft.dataOffset; i++ {
		if _, ok, err := httpParseFT(body[:i]); ok || err != nil {
			t.Fatalf("truncated at %d: ok %v err %v", i, ok, err)
		}
	}
	for _, bad := range []string{"MZ\x90", "YMSx", "GIF89a........................"} {
		if _, _, err := httpParseFT([]byte(bad)); !errors.Is(err, ErrHTTPUpload) {
			t.Errorf("httpParseFT(%q) err = %v", bad, err)
		}
	}
}

type httpMsg struct {
	dir  flow.Dir
	data string
}

var httpSessions = map[string][]httpMsg{
	"login":    {{flow.Orig, httpTestLogin}, {flow.Resp, httpTestLoginOK}},
	"badlogin": {{flow.Orig, httpTestLogin}, {flow.Resp, httpTestLoginBad}},
	"postlogin": {{flow.Orig, "POST /config/ncclogin HTTP/1.0\r\nHost: edit.yahoo.com\r\nContent-Length: 43\r\n\r\n.src=bl&login=alice_y&passwd=yahoo123&n=1\r\n"},
		{flow.Resp, httpTestLoginOK}},
	"notifyft": {{flow.Orig, httpTestFT(false)}, {flow.Resp, httpTestFTOK}},
}

func httpRun(t *testing.T, msgs []httpMsg, split int, reveal bool) *analyzer.Recorder {
	t.Helper()
	rec := analyzer.NewRecorder()
	rec.Opts.RevealCredentials = reveal
	rec.Opts.Fingerprint = func(b []byte) string { return "fp" + strconv.Itoa(len(b)) }
	rec.F.Resp = netip.MustParseAddrPort("203.0.113.5:80")
	spec, _ := analyzer.Lookup("ymsg_http")
	c := spec.New(rec.Session(&spec))
	fd := &analyzer.Feeder{Conn: c}
	feed := func(dir flow.Dir, b []byte) {
		if err := fd.Feed(dir, b); err != nil {
			t.Fatalf("Feed: %v", err)
		}
	}
	for _, m := range msgs {
		b := []byte(m.data)
		if split > 0 && split < len(b) {
			feed(m.dir, b[:split])
			feed(m.dir, b[split:])
		} else {
			feed(m.dir, b)
		}
	}
	c.(analyzer.Ender).End(flow.EndClosed)
	return rec
}

func TestHTTPConnEvents(t *testing.T) {
	kinds := func(r *analyzer.Recorder) []event.Kind {
		var k []event.Kind
		for _, e := range r.Events {
			k = append(k, e.Kind)
		}
		return k
	}
	r := httpRun(t, httpSessions["login"], 0, false)
	want := []event.Kind{event.Tunnel, event.Credential, event.Credential, event.Credential, event.Login}
	if got := kinds(r); !reflect.DeepEqual(got, want) {
		t.Fatalf("login kinds = %v, want %v", got, want)
	}
	if c := r.Events[1].Credential; c.Class != event.Plaintext || c.User != "alice_y" || c.What != "password" || c.Secret != "" || c.LengthClass != "5-8" {
		t.Errorf("password credential = %+v", c)
	}
	if c := r.Events[2].Credential; c.Class != event.SessionToken || c.What != "y_cookie" || c.Secret != "" {
		t.Errorf("y cookie = %+v", c)
	}
	if c := r.Events[3].Credential; c.What != "t_cookie" {
		t.Errorf("t cookie = %+v", c)
	}
	if l := r.Events[4].Login; l.User != "alice_y" || l.Outcome != event.Success {
		t.Errorf("login = %+v", l)
	}
	if tu := r.Events[0].Tunnel; tu.Kind != "http_tunnel" || tu.Target != "edit.yahoo.com:80" {
		t.Errorf("tunnel = %+v", tu)
	}
	for _, e := range r.Events {
		if u, _ := e.Fields["url"].(string); strings.Contains(u, "yahoo123") {
			t.Errorf("password in url field: %q", u)
		}
	}
	if got := httpRun(t, httpSessions["login"], 0, true).Events[1].Credential.Secret; got != "yahoo123" {
		t.Errorf("revealed = %q", got)
	}
	if l := httpRun(t, httpSessions["badlogin"], 0, false).Events[2].Login; l.Outcome != event.Failure || l.Reason != "ERROR: Invalid NCC Login" {
		t.Errorf("bad login = %+v", l)
	}
	p := httpRun(t, httpSessions["postlogin"], 0, true)
	if c := p.Events[1].Credential; c == nil || c.Secret != "yahoo123" || c.User != "alice_y" {
		t.Errorf("post login credential = %+v", p.Events[1])
	}
	// No response: the login is pending.
	if l := httpRun(t, httpSessions["login"][:1], 0, false).Events[2].Login; l.Outcome != event.Pending {
		t.Errorf("unanswered login = %+v", l)
	}

	f := httpRun(t, httpSessions["notifyft"], 0, false)
	if len(f.Files) != 1 {
		t.Fatalf("files = %d", len(f.Files))
	}
	rec := f.Files[0].Record()
	md, s1, s2 := md5.Sum(httpTestFile), sha1.Sum(httpTestFile), sha256.Sum256(httpTestFile)
	if rec.Filename != "photo.exe" || rec.Size != int64(len(httpTestFile)) || rec.State != "CLOSED" ||
		rec.MD5 != hex.EncodeToString(md[:]) || rec.SHA1 != hex.EncodeToString(s1[:]) || rec.SHA256 != hex.EncodeToString(s2[:]) {
		t.Errorf("fileinfo = %+v", rec)
	}
	var fe *event.Event
	for i := range f.Events {
		if f.Events[i].Kind == event.File {
			fe = &f.Events[i]
		}
	}
	if fe == nil || fe.File.Name != "photo.exe" || fe.File.Outcome != event.Success || fe.Users.Peer != "bob_y" || fe.Fields["url"] != "/notifyft" {
		t.Errorf("file event = %+v", fe)
	}
}

// Every 2-way split of every message gives the same events and files.
func TestHTTPConnSplit(t *testing.T) {
	for name, msgs := range httpSessions {
		whole := httpRun(t, msgs, 0, true)
		longest := 0
		for _, m := range msgs {
			longest = max(longest, len(m.data))
		}
		for split := 1; split < longest; split++ {
			got := httpRun(t, msgs, split, true)
			if !reflect.DeepEqual(got.Events, whole.Events) {
				t.Fatalf("%s: split at %d: events differ:\n%+v\nwant\n%+v", name, split, got.Events, whole.Events)
			}
			if len(got.Files) != len(whole.Files) || len(got.Files) > 0 && got.Files[0].Record() != whole.Files[0].Record() {
				t.Fatalf("%s: split at %d: files differ", name, split)
			}
		}
	}
}

func FuzzHTTPConn(f *testing.F) {
	for _, msgs := range httpSessions {
		for _, m := range msgs {
			f.Add([]byte(m.data), m.dir == flow.Resp)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, resp bool) {
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		in := classify.Input{Dir: dir, Data: data}
		httpProbe(&in)
		httpParseFT(data)
		rec := analyzer.NewRecorder()
		spec, _ := analyzer.Lookup("ymsg_http")
		c := spec.New(rec.Session(&spec))
		if !resp {
			// Give the response side a request to answer.
			c.Feed(flow.Orig, []byte(httpTestLogin))
		}
		n, _ := c.Feed(dir, data)
		if n < 0 || n > len(data) {
			t.Fatalf("Feed consumed %d of %d", n, len(data))
		}
		c.(analyzer.GapHandler).Gap(dir, 10)
		c.(analyzer.Ender).End(flow.EndClosed)
	})
}

// httpCapture writes one synthetic capture of the Yahoo HTTP forms.
func httpCapture(flows ...struct {
	port uint16
	msgs []httpMsg
}) []byte {
	w := pcaptest.NewWriter()
	t0 := time.Date(2002, 4, 20, 18, 30, 0, 0, time.UTC)
	for i, fl := range flows {
		c := w.TCP(t0.Add(time.Duration(i)*time.Minute), netip.AddrPortFrom(netip.MustParseAddr("192.168.1.20"), uint16(40000+i)),
			netip.AddrPortFrom(netip.MustParseAddr("216.115.105.2"), fl.port))
		c.Handshake()
		for _, m := range fl.msgs {
			c.Send(int(m.dir), []byte(m.data))
		}
		c.Close()
	}
	return w.Bytes()
}

type httpFlow = struct {
	port uint16
	msgs []httpMsg
}

var httpCaptures = map[string][]httpFlow{
	"http-login.pcap": {{80, httpSessions["login"]}},
	"http-login-port8080.pcap": {{8080, httpSessions["badlogin"]},
		{2001, []httpMsg{{flow.Orig, "GET /config/login?.src=&login=alice_y&passwd=yahoo123&n=1 HTTP/1.0\r\nHost: login.yahoo.com\r\n\r\n"}, {flow.Resp, httpTestLoginOK}}},
		// An ordinary web request on the same port: the http carrier's.
		{8080, []httpMsg{{flow.Orig, "GET /index.html HTTP/1.0\r\nHost: www.example.com\r\n\r\n"}, {flow.Resp, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi"}}}},
	"http-notifyft.pcap": {{80, httpSessions["notifyft"]}},
}

func TestHTTPCapture(t *testing.T) {
	for name, flows := range httpCaptures {
		golden.Check(t, filepath.Join("testdata", name), httpCapture(flows...))
	}
}

func TestHTTPGolden(t *testing.T) {
	for name := range httpCaptures {
		for _, reveal := range []bool{false, true} {
			out := strings.TrimSuffix(name, ".pcap") + ".golden.jsonl"
			if reveal {
				out = strings.TrimSuffix(name, ".pcap") + "-reveal.golden.jsonl"
			}
			recs, _, err := pcaptest.Analyze([]string{filepath.Join("testdata", name)}, pcaptest.Options{
				Config: func(c *config.Config) { c.Privacy.RevealCredentials = reveal },
			})
			if err != nil {
				t.Fatal(err)
			}
			lines := pcaptest.Lines(recs)
			pcaptest.Validate(t, lines)
			if strings.Contains(name, "login") && strings.Contains(string(lines), "yahoo123") != reveal {
				t.Errorf("%s: password in records = %v, want %v", out, !reveal, reveal)
			}
			golden.Check(t, filepath.Join("testdata", out), lines)
		}
	}
}
