package httpwire

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

type hdr struct{ name, value string }

func headersOf(hs []Header) []hdr {
	var out []hdr
	for _, h := range hs {
		out = append(out, hdr{string(h.Name), string(h.Value)})
	}
	return out
}

func sameHeaders(a, b []hdr) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func TestParseRequestHead(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		method  string
		target  string
		proto   string
		headers []hdr
		rest    string // bytes after the head
		err     error
	}{
		{
			name: "simple get", in: "GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\n\r\n",
			method: "GET", target: "/index.html", proto: "HTTP/1.1",
			headers: []hdr{{"Host", "example.com"}, {"User-Agent", "t/1"}},
		},
		{
			name: "body follows", in: "POST /gateway/gateway.dll?Action=open HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd",
			method: "POST", target: "/gateway/gateway.dll?Action=open", proto: "HTTP/1.1",
			headers: []hdr{{"Content-Length", "4"}}, rest: "abcd",
		},
		{
			name: "bare lf", in: "GET / HTTP/1.0\nHost: a\n\n",
			method: "GET", target: "/", proto: "HTTP/1.0", headers: []hdr{{"Host", "a"}},
		},
		{
			name: "leading empty lines skipped", in: "\r\n\r\nGET / HTTP/1.1\r\n\r\n",
			method: "GET", target: "/", proto: "HTTP/1.1",
		},
		{
			name: "no headers", in: "OPTIONS * HTTP/1.1\r\n\r\n",
			method: "OPTIONS", target: "*", proto: "HTTP/1.1",
		},
		{
			name: "connect authority form", in: "CONNECT login.oscar.aol.com:5190 HTTP/1.0\r\n\r\n",
			method: "CONNECT", target: "login.oscar.aol.com:5190", proto: "HTTP/1.0",
		},
		{
			name: "whitespace trimmed and empty value", in: "GET / HTTP/1.1\r\nA:   x y \t\r\nB:\r\n\r\n",
			method: "GET", target: "/", proto: "HTTP/1.1", headers: []hdr{{"A", "x y"}, {"B", ""}},
		},
		{
			name: "obs-fold joined in place", in: "GET / HTTP/1.1\r\nX-A: one\r\n  two \r\nX-B: z\r\n\r\n",
			method: "GET", target: "/", proto: "HTTP/1.1", headers: []hdr{{"X-A", "one\r\n  two"}, {"X-B", "z"}},
		},
		{
			name: "obs-fold onto empty value", in: "GET / HTTP/1.1\r\nX-A:\r\n\tval\r\n\r\n",
			method: "GET", target: "/", proto: "HTTP/1.1", headers: []hdr{{"X-A", "val"}},
		},
		{
			name: "obs-text in value", in: "GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n",
			method: "GET", target: "/", proto: "HTTP/1.1", headers: []hdr{{"X", "caf\xc3\xa9"}},
		},
		{
			name: "content-length list of equal values", in: "PUT /f HTTP/1.1\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n",
			method: "PUT", target: "/f", proto: "HTTP/1.1", headers: []hdr{{"Content-Length", "5, 5"}, {"Content-Length", "5"}},
		},
		{
			name: "chunked request", in: "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n",
			method: "POST", target: "/", proto: "HTTP/1.1", headers: []hdr{{"Transfer-Encoding", "gzip, Chunked"}},
		},
		{name: "no version (HTTP/0.9)", in: "GET /\r\n\r\n", err: ErrBadRequestLine},
		{name: "two spaces", in: "GET  / HTTP/1.1\r\n\r\n", err: ErrBadRequestLine},
		{name: "trailing junk after version", in: "GET / HTTP/1.1 x\r\n\r\n", err: ErrBadRequestLine},
		{name: "bad version", in: "GET / HTTP/11\r\n\r\n", err: ErrBadRequestLine},
		{name: "method not a token", in: "GE(T / HTTP/1.1\r\n\r\n", err: ErrBadRequestLine},
		{name: "control byte in target", in: "GET /\x01 HTTP/1.1\r\n\r\n", err: ErrBadRequestLine},
		{name: "binary garbage line", in: "\x16\x03\x01\x02\x00\n", err: ErrBadRequestLine},
		{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", err: ErrBadHeader},
		{name: "no colon", in: "GET / HTTP/1.1\r\nHost\r\n\r\n", err: ErrBadHeader},
		{name: "empty name", in: "GET / HTTP/1.1\r\n: a\r\n\r\n", err: ErrBadHeader},
		{name: "fold before any field", in: "GET / HTTP/1.1\r\n x: a\r\n\r\n", err: ErrBadHeader},
		{name: "nul in value", in: "GET / HTTP/1.1\r\nA: a\x00b\r\n\r\n", err: ErrBadHeader},
		{name: "bare cr in value", in: "GET / HTTP/1.1\r\nA: a\rb\r\n\r\n", err: ErrBadHeader},
		{name: "content-length not a number", in: "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", err: ErrBadContentLength},
		{name: "content-length negative", in: "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", err: ErrBadContentLength},
		{name: "content-length empty", in: "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", err: ErrBadContentLength},
		{name: "content-length overflow", in: "POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", err: ErrBadContentLength},
		{name: "content-length conflict", in: "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", err: ErrBadContentLength},
		{name: "content-length list conflict", in: "POST / HTTP/1.1\r\nContent-Length: 1,2\r\n\r\n", err: ErrBadContentLength},
		{name: "request transfer-encoding not chunked", in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", err: ErrBadTransferEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			req, n, err := ParseRequestHead(in, Limits{}, nil)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !errors.Is(err, ErrMalformed) || n != 0 {
					t.Fatalf("got n=%d err=%v; want %v", n, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if n != len(tt.in)-len(tt.rest) {
				t.Errorf("n = %d, want %d", n, len(tt.in)-len(tt.rest))
			}
			if string(req.Method) != tt.method || string(req.Target) != tt.target || string(req.Proto) != tt.proto {
				t.Errorf("line = %q %q %q", req.Method, req.Target, req.Proto)
			}
			if got := headersOf(req.Headers); !sameHeaders(got, tt.headers) {
				t.Errorf("headers = %q, want %q", got, tt.headers)
			}
			// Every strict prefix of a valid head is "need more".
			for i := 0; i < n; i++ {
				if _, m, err := ParseRequestHead(in[:i], Limits{}, nil); m != 0 || err != nil {
					t.Fatalf("prefix %d: n=%d err=%v, want need-more", i, m, err)
				}
			}
		})
	}
}

func TestParseResponseHead(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		proto   string
		status  int
		reason  string
		headers []hdr
		err     error
	}{
		{name: "ok", in: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", proto: "HTTP/1.1", status: 200, reason: "OK", headers: []hdr{{"Content-Length", "3"}}},
		{name: "no reason", in: "HTTP/1.0 404\r\n\r\n", proto: "HTTP/1.0", status: 404},
		{name: "empty reason", in: "HTTP/1.1 204 \r\n\r\n", proto: "HTTP/1.1", status: 204},
		{name: "reason with spaces", in: "HTTP/1.1 407 Proxy Authentication Required\n\n", proto: "HTTP/1.1", status: 407, reason: "Proxy Authentication Required"},
		{name: "any transfer-encoding", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", proto: "HTTP/1.1", status: 200, reason: "OK", headers: []hdr{{"Transfer-Encoding", "gzip"}}},
		{name: "two-digit status", in: "HTTP/1.1 20 OK\r\n\r\n", err: ErrBadStatusLine},
		{name: "status 000", in: "HTTP/1.1 000 X\r\n\r\n", err: ErrBadStatusLine},
		{name: "status with letter", in: "HTTP/1.1 2x0 X\r\n\r\n", err: ErrBadStatusLine},
		{name: "no space after status", in: "HTTP/1.1 200OK\r\n\r\n", err: ErrBadStatusLine},
		{name: "not http", in: "ICY 200 OK\r\n\r\n", err: ErrBadStatusLine},
		{name: "leading empty line", in: "\r\nHTTP/1.1 200 OK\r\n\r\n", err: ErrBadStatusLine},
		{name: "control in reason", in: "HTTP/1.1 200 O\x00K\r\n\r\n", err: ErrBadStatusLine},
		{name: "bad content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", err: ErrBadContentLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			resp, n, err := ParseResponseHead(in, Limits{}, nil)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || n != 0 {
					t.Fatalf("got n=%d err=%v; want %v", n, err, tt.err)
				}
				return
			}
			if err != nil || n != len(in) {
				t.Fatalf("n=%d err=%v; want %d", n, err, len(in))
			}
			if string(resp.Proto) != tt.proto || resp.Status != tt.status || string(resp.Reason) != tt.reason {
				t.Errorf("status line = %q %d %q", resp.Proto, resp.Status, resp.Reason)
			}
			if got := headersOf(resp.Headers); !sameHeaders(got, tt.headers) {
				t.Errorf("headers = %q, want %q", got, tt.headers)
			}
			for i := 0; i < n; i++ {
				if _, m, err := ParseResponseHead(in[:i], Limits{}, nil); m != 0 || err != nil {
					t.Fatalf("prefix %d: n=%d err=%v, want need-more", i, m, err)
				}
			}
		})
	}
}

func TestHeadLimits(t *testing.T) {
	manyHeaders := "GET / HTTP/1.1\r\n" + strings.Repeat("X: y\r\n", 5) + "\r\n"
	tests := []struct {
		name string
		in   string
		lim  Limits
		err  error // nil: parses
	}{
		{"line at limit", "GET /" + strings.Repeat("a", 10) + " HTTP/1.1\r\n\r\n", Limits{MaxLine: 24}, nil},
		{"line over limit", "GET /" + strings.Repeat("a", 11) + " HTTP/1.1\r\n\r\n", Limits{MaxLine: 24}, ErrLineTooLong},
		{"unterminated line over limit", "GET /" + strings.Repeat("a", 40), Limits{MaxLine: 24}, ErrLineTooLong},
		{"header line over limit", "GET / HTTP/1.1\r\nX: " + strings.Repeat("v", 30) + "\r\n\r\n", Limits{MaxLine: 24}, ErrLineTooLong},
		{"headers at limit", manyHeaders, Limits{MaxHeaders: 5}, nil},
		{"headers over limit", manyHeaders, Limits{MaxHeaders: 4}, ErrTooManyHeaders},
		{"head at byte limit", manyHeaders, Limits{MaxHeaderBytes: len(manyHeaders)}, nil},
		{"head over byte limit", manyHeaders, Limits{MaxHeaderBytes: len(manyHeaders) - 1}, ErrHeadTooLarge},
		{"endless empty lines", strings.Repeat("\r\n", 100), Limits{MaxHeaderBytes: 100}, ErrHeadTooLarge},
		{"default limit", "GET / HTTP/1.1\r\n" + strings.Repeat("X: y\r\n", 101) + "\r\n", Limits{}, ErrTooManyHeaders},
	}
	for _, tt := range tests {
		_, n, err := ParseRequestHead([]byte(tt.in), tt.lim, nil)
		if tt.err == nil {
			if err != nil || n != len(tt.in) {
				t.Errorf("%s: n=%d err=%v, want parse", tt.name, n, err)
			}
			continue
		}
		if !errors.Is(err, tt.err) || !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: err=%v, want %v", tt.name, err, tt.err)
		}
	}
}

func TestFraming(t *testing.T) {
	reqs := []struct {
		in      string
		length  int64
		chunked bool
	}{
		{"GET / HTTP/1.1\r\n\r\n", 0, false},
		{"POST / HTTP/1.1\r\ncontent-length: 12\r\n\r\n", 12, false},
		{"POST / HTTP/1.1\r\nContent-Length: 12\r\nTransfer-Encoding: chunked\r\n\r\n", 0, true},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 0, true},
	}
	for _, tt := range reqs {
		req, _, err := ParseRequestHead([]byte(tt.in), Limits{}, nil)
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if l, c := req.Framing(); l != tt.length || c != tt.chunked {
			t.Errorf("%q: Framing = %d %v", tt.in, l, c)
		}
	}
	resps := []struct {
		in, method string
		length     int64
		chunked    bool
		close      bool
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n", "GET", 7, false, false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n", "HEAD", 0, false, false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n", "GET", 0, true, false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "GET", 0, false, true},
		{"HTTP/1.0 200 OK\r\n\r\n", "GET", 0, false, true},
		{"HTTP/1.1 200 OK\r\n\r\n", "", 0, false, true},
		{"HTTP/1.1 204 No Content\r\n\r\n", "GET", 0, false, false},
		{"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", "GET", 0, false, false},
		{"HTTP/1.1 100 Continue\r\n\r\n", "POST", 0, false, false},
		{"HTTP/1.1 200 Connection established\r\n\r\n", "CONNECT", 0, false, false},
		{"HTTP/1.1 407 Proxy Auth\r\nContent-Length: 3\r\n\r\n", "CONNECT", 3, false, false},
	}
	for _, tt := range resps {
		resp, _, err := ParseResponseHead([]byte(tt.in), Limits{}, nil)
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if l, c, cl := resp.Framing([]byte(tt.method)); l != tt.length || c != tt.chunked || cl != tt.close {
			t.Errorf("%q after %s: Framing = %d %v %v", tt.in, tt.method, l, c, cl)
		}
	}
}

func TestGet(t *testing.T) {
	req, _, err := ParseRequestHead([]byte("GET / HTTP/1.1\r\nHOST: a\r\nhost: b\r\nX-Y: 1\r\n\r\n"), Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, want string }{
		{"host", "a"}, {"Host", "a"}, {"x-y", "1"}, {"x-z", ""}, {"hosT", "a"}, {"hos", ""},
	}
	for _, tt := range tests {
		if got := req.Get(tt.name); string(got) != tt.want {
			t.Errorf("Get(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	// '@' and '`' differ from letters only in bit 0x20 and must not fold.
	if equalFoldString([]byte("@"), "`") || !equalFoldString([]byte("A-1"), "a-1") {
		t.Error("equalFoldString folds non-letters")
	}
}

func TestIsMethod(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"GET / HTTP/1.1", 3}, {"PROPFIND /x", 8}, {"CONNECT a:1", 7}, {"PATCH /", 5},
		{"GET", 0}, {"get /", 0}, {"GETX /", 0}, {"", 0}, {"POST\t/", 0}, {"HEAD ", 4},
	}
	for _, tt := range tests {
		if got := MethodLen([]byte(tt.in)); got != tt.want || IsMethod([]byte(tt.in)) != (tt.want > 0) {
			t.Errorf("MethodLen(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
	if m := Methods(); len(m) != len(methods) || m[0] != "GET" {
		t.Errorf("Methods() = %v", m)
	}
}

var benchReq = []byte("GET /download/file.bin HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: Keep-Alive\r\nCookie: Y=v=1&n=abc&l=def; T=z=xyz\r\n\r\n")

func TestParseAllocs(t *testing.T) {
	hdrs := make([]Header, 0, 16)
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10\r\n\r\n")
	allocs := testing.AllocsPerRun(100, func() {
		req, _, _ := ParseRequestHead(benchReq, Limits{}, hdrs)
		_ = req.Get("user-agent")
		_, _ = req.Framing()
		r, _, _ := ParseResponseHead(resp, Limits{}, hdrs)
		_, _, _ = r.Framing(req.Method)
		_ = IsMethod(benchReq)
	})
	if allocs != 0 {
		t.Errorf("allocs = %v, want 0", allocs)
	}
}

func BenchmarkParseRequestHead(b *testing.B) {
	hdrs := make([]Header, 0, 16)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchReq)))
	for b.Loop() {
		if _, n, err := ParseRequestHead(benchReq, Limits{}, hdrs); n == 0 || err != nil {
			b.Fatal(n, err)
		}
	}
}
