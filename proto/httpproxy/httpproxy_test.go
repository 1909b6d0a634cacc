package httpproxy

import (
	"encoding/base64"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

func TestProbe(t *testing.T) {
	tests := []struct {
		in   string
		dir  flow.Dir
		want classify.Result
	}{
		{"CONNECT ts01-b.cloudsink.net:443 HTTP/1.1\r\nHost: x\r\n\r\n", flow.Orig, classify.Match},
		{"CONNECT [::1]:443 HTTP/1.0\n", flow.Orig, classify.Match},
		{"CONNECT 10.0.0.1:25 HTTP/1.1\r\n", flow.Orig, classify.Match},
		{"GET http://http.com/ HTTP/1.1\r\n", flow.Orig, classify.Match},
		{"GET HTTP://bro.org/ HTTP/1.1\r\n", flow.Orig, classify.Match},
		{"POST http://http.proxy.icq.com:80/data?sid=1 HTTP/1.0\r\n", flow.Orig, classify.Match},
		{"HEAD https://user:pw@example.com HTTP/1.1\r\n", flow.Orig, classify.Match},
		{"GET ftp://ftp.example.org/pub/ HTTP/1.0\r\n", flow.Orig, classify.Match},
		{"CONNECT ts01-b.cloudsink.net:443 HTTP/1.", flow.Orig, classify.NeedMore},
		{"CONNECT ts01-b.clou", flow.Orig, classify.NeedMore},
		{"CONNEC", flow.Orig, classify.NeedMore},
		{"CONNECT / HTTP/1.1\r\n", flow.Orig, classify.NoMatch},
		{"CONNECT abc HTTP/1.1\r\n", flow.Orig, classify.NoMatch},
		{"CONNECT abc:0 HTTP/1.1\r\n", flow.Orig, classify.NoMatch},
		{"CONNECT abc:65536 HTTP/1.1\r\n", flow.Orig, classify.NoMatch},
		{"CONNECT abc:443 RTSP/1.0\r\n", flow.Orig, classify.NoMatch},
		{"CONNECT abc:443 HTTP/1.1 x\r\n", flow.Orig, classify.NoMatch},
		{"CONNECT mailin03.sul.t-online.de:25 / HTTP/1.0\r\n", flow.Orig, classify.Match},
		{"CONNECT a:25 / HTTP/1.0", flow.Orig, classify.NeedMore},
		{"CONNECT a:25 / FOO/1.0\r\n", flow.Orig, classify.NoMatch},
		{"CONNECT a:25 /HTTP/1.0\r\n", flow.Orig, classify.NoMatch},
		{"CONNECT a:25 / \x01 HTTP/1.0\r\n", flow.Orig, classify.NoMatch},
		{"GET / HTTP/1.1\r\n", flow.Orig, classify.NoMatch},
		{"GET http:// HTTP/1.1\r\n", flow.Orig, classify.NoMatch},
		{"GET http://a b/ HTTP/1.1\r\n", flow.Orig, classify.NoMatch},
		{"GET httpx://a/ HTTP/1.1\r\n", flow.Orig, classify.NoMatch},
		{"GET http://a:99999/ HTTP/1.1\r\n", flow.Orig, classify.NoMatch},
		{"TRACE http://a/ HTTP/1.1\r\n", flow.Orig, classify.NoMatch},
		{"get http://a/ HTTP/1.1\r\n", flow.Orig, classify.NoMatch},
		{"GET http://a/ HTTP/1.1\r\n", flow.Resp, classify.NoMatch},
		{"\x2a\x01\x00\x01", flow.Orig, classify.NoMatch},
		{"CONNECT " + strings.Repeat("a", maxProbe), flow.Orig, classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Dir: tt.dir, Data: []byte(tt.in), Resp: netip.MustParseAddrPort("203.0.113.9:3128")}
		if got := probe(&in); got != tt.want {
			t.Errorf("probe(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// An absolute-form request to a public address on port 80 may go to the
// origin server itself (WeChat, Skype 1.x do that): it needs a proxy-only
// field or an IM HTTP host.
func TestProbeDirect(t *testing.T) {
	tests := []struct {
		in, resp string
		want     classify.Result
	}{
		{"POST http://hkextshort.weixin.qq.com/cgi-bin/x HTTP/1.1\r\nHost: hkextshort.weixin.qq.com\r\n\r\n", "203.205.151.160:80", classify.NoMatch},
		{"GET http://ui.skype.com/ui/2 HTTP/1.1\r\nhost: ui.skype.com\r\n", "212.72.49.131:80", classify.NeedMore},
		{"GET http://bro.org/ HTTP/1.1\r\nProxy-Connection: Keep-Alive\r\n\r\n", "198.51.100.1:80", classify.Match},
		{"GET http://bro.org/ HTTP/1.1\nproxy-authorization: Basic YTpi\n", "198.51.100.1:80", classify.Match},
		{"GET http://http.proxy.icq.com/hello HTTP/1.0\r\n", "198.51.100.1:80", classify.Match},
		{"POST http://gateway.messenger.hotmail.com/gateway/gateway.dll?Action=open HTTP/1.1\r\n", "207.46.1.1:80", classify.NoMatch},
		{"GET HTTP://bro.org/ HTTP/1.1\r\nHost: bro.org\r\n\r\n", "192.168.56.101:80", classify.Match},
		{"GET http://http.com/ HTTP/1.1\r\nHost: http.com\r\n\r\n", "203.0.113.5:8080", classify.Match},
		{"GET http://a/ HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-Pad: 0123456789\r\n", 120), "203.0.113.5:80", classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Data: []byte(tt.in), Resp: netip.MustParseAddrPort(tt.resp)}
		if got := probe(&in); got != tt.want {
			t.Errorf("probe(%q) to %s = %v, want %v", tt.in, tt.resp, got, tt.want)
		}
	}
}

// Every proper prefix of a matching request line is NeedMore, never a
// verdict.
func TestProbeTruncated(t *testing.T) {
	for _, line := range []string{"CONNECT scs.msg.yahoo.com:5050 HTTP/1.1\r\n", "GET HTTP://bro.org/ HTTP/1.1\n"} {
		for i := 1; i < len(line); i++ {
			in := classify.Input{Data: []byte(line[:i])}
			if got := probe(&in); got != classify.NeedMore {
				t.Errorf("probe(%q) = %v, want NeedMore", line[:i], got)
			}
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	for _, s := range []string{"CONNECT [2001:db8::1]:443 HTTP/1.1\r\n", "GET http://user@http.proxy.icq.com:80/hello HTTP/1.1\r\n"} {
		in := classify.Input{Data: []byte(s), Resp: netip.MustParseAddrPort("203.0.113.9:80")}
		if n := testing.AllocsPerRun(100, func() { probe(&in) }); n != 0 {
			t.Fatalf("probe(%q) allocates %v times", s, n)
		}
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Resp: netip.MustParseAddrPort("203.0.113.9:80"), Data: []byte("CONNECT login.oscar.aol.com:5190 HTTP/1.0\r\nProxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n")}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

func TestSplitAuthority(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port int
		ok   bool
	}{
		{"apache.org:443", "apache.org", 443, true},
		{"[::1]:8080", "[::1]", 8080, true},
		{"10.1.2.3:25", "10.1.2.3", 25, true},
		{"a:1", "a", 1, true},
		{"apache.org", "", 0, false},
		{":443", "", 0, false},
		{"apache.org:", "", 0, false},
		{"apache.org:4x3", "", 0, false},
		{"apache.org:123456", "", 0, false},
		{"[::1:443", "", 0, false},
		{"[zz]:443", "", 0, false},
		{"a/b:443", "", 0, false},
		{strings.Repeat("a", maxHost+1) + ":1", "", 0, false},
	}
	for _, tt := range tests {
		h, p, ok := splitAuthority([]byte(tt.in))
		if ok != tt.ok || string(h) != tt.host || p != tt.port {
			t.Errorf("splitAuthority(%q) = %q %d %v", tt.in, h, p, ok)
		}
	}
}

func TestParseAbsolute(t *testing.T) {
	tests := []struct {
		in, target string
		ok         bool
	}{
		{"http://http.com/", "http.com:80", true},
		{"HTTP://bro.org/", "bro.org:80", true},
		{"https://a.b:8443/x?y#z", "a.b:8443", true},
		{"ftp://ftp.x.org", "ftp.x.org:21", true},
		{"http://u:p@aimhttp.oscar.aol.com/hello", "aimhttp.oscar.aol.com:80", true},
		{"http://[2001:db8::1]:81/", "[2001:db8::1]:81", true},
		{"http://[2001:db8::1]/", "[2001:db8::1]:80", true},
		{"http://a:/", "a:80", true},
		{"http:///", "", false},
		{"http://a:0/", "", false},
		{"http://a:x/", "", false},
		{"http://a\"b/", "", false},
		{"gopher://a/", "", false},
		{"/index.html", "", false},
		{"http:/", "", false},
	}
	for _, tt := range tests {
		u, ok := parseAbsolute([]byte(tt.in))
		if ok != tt.ok || (ok && hostPort(u.host, u.port, u.v6) != tt.target) {
			t.Errorf("parseAbsolute(%q) = %+v %v, want %q %v", tt.in, u, ok, tt.target, tt.ok)
		}
	}
}

func TestBodyProto(t *testing.T) {
	tests := []struct {
		in    string
		proto string
		need  bool
	}{
		{"", "", true},
		{"*", "", true},
		{"*\x01", "oscar", false},
		{"*\x05\x00", "oscar", false},
		{"*\x06", "", false},
		{"*\x00", "", false},
		{"Y", "", true},
		{"YMS", "", true},
		{"YMSG", "ymsg", false},
		{"YMSX", "", false},
		{"<html>", "", false},
	}
	for _, tt := range tests {
		p, need := bodyProto([]byte(tt.in))
		if p != tt.proto || need != tt.need {
			t.Errorf("bodyProto(%q) = %q %v", tt.in, p, need)
		}
	}
}

func TestImOf(t *testing.T) {
	tests := []struct{ host, service string }{
		{"aimhttp.oscar.aol.com", "aim"},
		{"HTTP.PROXY.ICQ.COM.", "icq"},
		{"shttp.msg.yahoo.com", "yahoo"},
		{"msg.yahoo.com", ""},
		{"gateway.messenger.hotmail.com", "msn"},
		{"example.com", ""},
	}
	for _, tt := range tests {
		im, ok := imOf(tt.host)
		if isIMHost([]byte(tt.host)) != ok {
			t.Errorf("isIMHost(%q) != %v", tt.host, ok)
		}
		if im.service != tt.service || ok != (tt.service != "") {
			t.Errorf("imOf(%q) = %+v %v", tt.host, im, ok)
		}
	}
}

// msg is one chunk of a scripted connection.
type msg struct {
	dir  flow.Dir
	data string
}

var basic = "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cret")) + "\r\n"

// connectSession is a refused CONNECT, the retry with credentials, its
// success and the first tunnelled bytes, sent before the answer.
var connectSession = []msg{
	{flow.Orig, "CONNECT scs.msg.yahoo.com:5050 HTTP/1.0\r\nUser-Agent: Y!Messenger\r\n\r\n"},
	{flow.Resp, "HTTP/1.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 5\r\n\r\ndeny."},
	{flow.Orig, "CONNECT scs.msg.yahoo.com:5050 HTTP/1.0\r\nUser-Agent: Y!Messenger\r\n" + basic + "\r\n"},
	{flow.Orig, "YMSG\x00\x06\x00\x00"},
	{flow.Resp, "HTTP/1.0 200 Connection established\r\n\r\n"},
	{flow.Resp, "YMSG"},
}

// recorded is what one run of a scripted connection reports.
type recorded struct {
	Events    []event.Event
	Anomalies []string
	Reclassed [][2]int
	Service   string
	Embedded  map[string][2]string // proto+" "+key -> bytes per direction
	Err       error
}

type fakeStream struct {
	m   map[string][2]string
	key string
}

func (f fakeStream) Feed(dir flow.Dir, p []byte) {
	v := f.m[f.key]
	v[dir&1] += string(p)
	f.m[f.key] = v
}

func (f fakeStream) Close() {}

// run feeds a script, each message split at split (0: whole), keeping the
// unconsumed bytes of each direction as the engine does.
func run(t *testing.T, script []msg, split int) recorded {
	t.Helper()
	rec := analyzer.NewRecorder()
	emb := map[string][2]string{}
	rec.EmbedStream = func(proto, key string) analyzer.Stream { return fakeStream{emb, proto + " " + key} }
	spec, ok := analyzer.Lookup("httpproxy")
	if !ok {
		t.Fatal("httpproxy not registered")
	}
	c := spec.New(rec.Session(&spec))
	var pend [2][]byte
	var err error
	feed := func(dir flow.Dir, b []byte) {
		if err != nil || len(rec.Reclassed) > 0 {
			return
		}
		buf := append(pend[dir], b...)
		var n int
		n, err = c.Feed(dir, buf)
		pend[dir] = append([]byte(nil), buf[n:]...)
	}
	for _, m := range script {
		b := []byte(m.data)
		if split > 0 && split < len(b) {
			feed(m.dir, b[:split])
			feed(m.dir, b[split:])
		} else {
			feed(m.dir, b)
		}
	}
	if err == nil && len(rec.Reclassed) == 0 {
		c.(analyzer.Ender).End(flow.EndClosed)
	}
	return recorded{rec.Events, rec.Anomalies, rec.Reclassed, rec.Service, emb, err}
}

func TestConnConnect(t *testing.T) {
	r := run(t, connectSession, 0)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if len(r.Events) != 3 {
		t.Fatalf("events %+v", r.Events)
	}
	refused, cred, ok := r.Events[0], r.Events[1], r.Events[2]
	if refused.Tunnel == nil || refused.Tunnel.Outcome != event.Refused || refused.Tunnel.Kind != "http_connect" ||
		refused.Tunnel.Target != "scs.msg.yahoo.com:5050" || refused.Fields["proxy_auth"] != "none" || refused.Fields["status"] != 407 {
		t.Errorf("refused: %+v %+v", refused, refused.Tunnel)
	}
	if cred.Kind != event.Credential || cred.Credential.Class != event.Plaintext || cred.Credential.User != "alice" ||
		cred.Credential.What != "proxy_password" || cred.Credential.Secret != "" || cred.Credential.Fingerprint == "" {
		t.Errorf("credential: %+v %+v", cred, cred.Credential)
	}
	if ok.Tunnel == nil || ok.Tunnel.Outcome != event.Success || ok.Fields["proxy_auth"] != "basic" || ok.Fields["user_agent"] != "Y!Messenger" {
		t.Errorf("success: %+v %+v", ok, ok.Tunnel)
	}
	// The tunnel starts after the second CONNECT head and after the 200.
	wantOrig := len(connectSession[0].data) + len(connectSession[2].data)
	wantResp := len(connectSession[1].data) + len(connectSession[4].data)
	if !reflect.DeepEqual(r.Reclassed, [][2]int{{wantOrig, wantResp}}) {
		t.Errorf("reclassified at %v, want [%d %d]", r.Reclassed, wantOrig, wantResp)
	}
}

// forwardSession is the ICQ HTTP proxy through a forward proxy: a hello,
// then a POST whose body is a FLAP frame, pipelined, and an unrelated
// forward request with a chunked answer.
var forwardSession = []msg{
	{flow.Orig, "GET http://http.proxy.icq.com/hello HTTP/1.1\r\nHost: http.proxy.icq.com\r\nUser-Agent: Mozilla/4.0 (compatible; ICQ)\r\n\r\n" +
		"POST http://http.proxy.icq.com/data?sid=7 HTTP/1.1\r\nHost: http.proxy.icq.com\r\nContent-Length: 14\r\n\r\n*\x01\x00\x01\x00\x08\x00\x00\x00\x01\x00\x01\x00\x00"},
	{flow.Resp, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n*\x01\x00\x01\x00\x04\x00\x00\x00\x01"},
	{flow.Resp, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nokay"},
	{flow.Orig, "GET http://www.example.com:8000/a HTTP/1.1\r\nHost: www.example.com:8000\r\n\r\n"},
	{flow.Resp, "HTTP/1.1 502 Bad Gateway\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n0\r\n\r\n"},
	{flow.Orig, "GET http://late.example.net/ HTTP/1.0\r\n\r\n"},
}

func TestConnForward(t *testing.T) {
	r := run(t, forwardSession, 0)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	var got []string
	for _, e := range r.Events {
		got = append(got, string(e.Kind)+" "+e.Tunnel.Kind+" "+e.Tunnel.Target+" "+string(e.Tunnel.Outcome))
	}
	want := []string{
		"tunnel http_tunnel http.proxy.icq.com:80 ",
		"tunnel http_forward http.proxy.icq.com:80 success",
		"tunnel http_forward http.proxy.icq.com:80 success",
		"tunnel http_forward www.example.com:8000 failure",
		"tunnel http_forward late.example.net:80 pending",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events\n%q\nwant\n%q", got, want)
	}
	if r.Events[0].Service != "icq" || r.Service != "icq" {
		t.Errorf("service %q / %q", r.Events[0].Service, r.Service)
	}
	key := "oscar invalid IP http.proxy.icq.com"
	want2 := map[string][2]string{key: {"*\x01\x00\x01\x00\x08\x00\x00\x00\x01\x00\x01\x00\x00", "*\x01\x00\x01\x00\x04\x00\x00\x00\x01"}}
	if !reflect.DeepEqual(r.Embedded, want2) {
		t.Errorf("embedded %q", r.Embedded)
	}
}

// Every 2-way split of every message gives the same results.
func TestConnSplit(t *testing.T) {
	loose := []msg{
		{flow.Orig, "CONNECT mail.example.com:25 / HTTP/1.0\r\nMozilla 4.0 (compatible)\r\n\r\n"},
		{flow.Resp, "HTTP/1.0 200 Connection established\r\n\r\n220 mail ESMTP\r\n"},
	}
	for _, script := range [][]msg{connectSession, forwardSession, loose} {
		whole := run(t, script, 0)
		for split := 1; split < 200; split++ {
			if got := run(t, script, split); !reflect.DeepEqual(got, whole) {
				t.Fatalf("split at %d:\n%+v\nwant\n%+v", split, got, whole)
			}
		}
	}
}

func TestConnErrors(t *testing.T) {
	tests := []struct {
		name   string
		script []msg
		err    error
		anom   string
	}{
		{"bad request", []msg{{flow.Orig, "GET http://a/ HTTP/1.1\r\nbad header\r\n\r\n"}}, ErrRequest, ""},
		{"bad connect", []msg{{flow.Orig, "CONNECT a:1 HTTP/1.1 x\r\nbad header\r\n\r\n"}}, ErrRequest, ""},
		{"bad connect target", []msg{{flow.Orig, "CONNECT a / HTTP/1.1\r\n\r\n"}}, ErrRequest, ""},
		{"loose connect", []msg{{flow.Orig, "CONNECT mail.example.com:25 / HTTP/1.0\r\nMozilla 4.0 (compatible)\r\nProxy-Authorization: Basic YTpi\r\n\r\n"}}, nil, "httpproxy_malformed_connect"},
		{"bad response", []msg{{flow.Orig, "GET http://a/ HTTP/1.1\r\n\r\n"}, {flow.Resp, "HTTP/9 200\r\n\r\n"}}, ErrResponse, ""},
		{"bad chunk", []msg{{flow.Orig, "POST http://a/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}}, ErrBody, ""},
		{"pipeline", []msg{{flow.Orig, strings.Repeat("GET http://a/ HTTP/1.1\r\n\r\n", maxPending+1)}}, ErrPipeline, ""},
		{"basic not base64", []msg{{flow.Orig, "CONNECT a:1 HTTP/1.1\r\nProxy-Authorization: Basic !!!\r\n\r\n"}}, nil, "httpproxy_bad_basic"},
		{"basic no colon", []msg{{flow.Orig, "CONNECT a:1 HTTP/1.1\r\nProxy-Authorization: Basic YWxpY2U=\r\n\r\n"}}, nil, "httpproxy_bad_basic"},
		{"basic too long", []msg{{flow.Orig, "CONNECT a:1 HTTP/1.1\r\nProxy-Authorization: Basic " + strings.Repeat("QUFB", 400) + "\r\n\r\n"}}, nil, "httpproxy_basic_too_long"},
		{"connect origin-form", []msg{{flow.Orig, "CONNECT / HTTP/1.1\r\n\r\n"}}, nil, "httpproxy_connect_target"},
	}
	for _, tt := range tests {
		r := run(t, tt.script, 0)
		if !errors.Is(r.Err, tt.err) || (tt.err == nil && r.Err != nil) {
			t.Errorf("%s: err %v, want %v", tt.name, r.Err, tt.err)
		}
		if tt.anom != "" && (len(r.Anomalies) == 0 || !strings.HasPrefix(r.Anomalies[0], tt.anom+":")) {
			t.Errorf("%s: anomalies %q, want %s", tt.name, r.Anomalies, tt.anom)
		}
	}
}

// The Basic credential is kept only with --reveal-credentials, and a
// Latin-1 one is decoded.
func TestCredentialReveal(t *testing.T) {
	rec := analyzer.NewRecorder()
	rec.Opts.RevealCredentials = true
	spec, _ := analyzer.Lookup("httpproxy")
	c := spec.New(rec.Session(&spec))
	req := "CONNECT a:1 HTTP/1.1\r\nProxy-Authorization: basic " + base64.StdEncoding.EncodeToString([]byte("j\xfcrgen:p\xe4ss")) + "\r\n\r\n"
	if _, err := c.Feed(flow.Orig, []byte(req)); err != nil {
		t.Fatal(err)
	}
	if len(rec.Events) != 1 || rec.Events[0].Credential.Secret != "päss" || rec.Events[0].Users.Local != "jürgen" {
		t.Fatalf("events %+v", rec.Events)
	}
}

func TestGapAndLost(t *testing.T) {
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("httpproxy")
	c := spec.New(rec.Session(&spec))
	if _, err := c.Feed(flow.Orig, []byte("POST http://a/ HTTP/1.1\r\nContent-Length: 10\r\n\r\nab")); err != nil {
		t.Fatal(err)
	}
	c.(analyzer.GapHandler).Gap(flow.Orig, 8) // the rest of the body: resynchronised
	if _, err := c.Feed(flow.Orig, []byte("GET http://b/ HTTP/1.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	c.(analyzer.GapHandler).Gap(flow.Orig, 3) // inside a head: the direction is lost
	if n, err := c.Feed(flow.Orig, []byte("garbage")); n != 7 || err != nil {
		t.Fatalf("lost direction: %d %v", n, err)
	}
	c.(analyzer.Ender).End(flow.EndClosed)
	if len(rec.Events) != 2 {
		t.Fatalf("events %+v", rec.Events)
	}
}

func FuzzProbe(f *testing.F) {
	for _, m := range append(connectSession, forwardSession...) {
		f.Add([]byte(m.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := classify.Input{Data: data}
		probe(&in)
	})
}

// FuzzRequest checks the request-target parsers on arbitrary input.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{"apache.org:443", "[::1]:80", "http://u@[::1]:8/x", "HTTP://bro.org/", "ftp://a:/"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if h, p, ok := splitAuthority(data); ok && (len(h) == 0 || p <= 0 || p > 65535) {
			t.Fatalf("splitAuthority(%q) = %q %d", data, h, p)
		}
		if u, ok := parseAbsolute(data); ok && (len(u.host) == 0 || u.port <= 0 || u.port > 65535) {
			t.Fatalf("parseAbsolute(%q) = %+v", data, u)
		}
	})
}

func FuzzConnFeed(f *testing.F) {
	for _, m := range append(connectSession, forwardSession...) {
		f.Add([]byte(m.data), m.dir == flow.Resp, 0)
	}
	f.Fuzz(func(t *testing.T, data []byte, resp bool, split int) {
		rec := analyzer.NewRecorder()
		rec.EmbedStream = func(proto, key string) analyzer.Stream { return fakeStream{map[string][2]string{}, key} }
		spec, _ := analyzer.Lookup("httpproxy")
		c := spec.New(rec.Session(&spec))
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		if split < 0 || split > len(data) {
			split = len(data) / 2
		}
		if _, err := c.Feed(flow.Orig, data[:split]); err != nil {
			return
		}
		n, err := c.Feed(dir, data)
		if n < 0 || n > len(data) {
			t.Fatalf("Feed consumed %d of %d", n, len(data))
		}
		if err == nil {
			c.(analyzer.GapHandler).Gap(dir, 3)
			c.(analyzer.Ender).End(flow.EndClosed)
		}
	})
}
