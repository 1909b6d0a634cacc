package http

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"testing"

	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/flow"
)

func TestProbe(t *testing.T) {
	long := "GET /" + string(make64('a'))
	tests := []struct {
		name string
		dir  flow.Dir
		in   string
		want classify.Result
	}{
		{"request line", flow.Orig, "GET / HTTP/1.1\r\nHost: a\r\n", classify.Match},
		{"bare lf", flow.Orig, "POST /x HTTP/1.0\n", classify.Match},
		{"connect", flow.Orig, "CONNECT a:443 HTTP/1.1\r\n", classify.Match},
		{"webdav", flow.Orig, "PROPFIND /d HTTP/1.1\r\n", classify.Match},
		{"partial method", flow.Orig, "OPTI", classify.NeedMore},
		{"empty", flow.Orig, "", classify.NeedMore},
		{"method and space", flow.Orig, "GET ", classify.NeedMore},
		{"partial target", flow.Orig, "GET /ind", classify.NeedMore},
		{"long target without end", flow.Orig, long, classify.Match},
		{"partial version", flow.Orig, "GET / HTTP/1", classify.NeedMore},
		{"version then cr", flow.Orig, "GET / HTTP/1.1\r", classify.NeedMore},
		{"rtsp", flow.Orig, "OPTIONS rtsp://cam/ RTSP/1.0\r\n", classify.NoMatch},
		{"sip", flow.Orig, "OPTIONS sip:a@b SIP/2.0\r\n", classify.NoMatch},
		{"http2 preface", flow.Orig, "PRI * HTTP/2.0\r\n", classify.NoMatch},
		{"http/2 version", flow.Orig, "GET / HTTP/2.0\r\n", classify.NoMatch},
		{"lowercase method", flow.Orig, "get / HTTP/1.1\r\n", classify.NoMatch},
		{"two spaces", flow.Orig, "GET  / HTTP/1.1\r\n", classify.NoMatch},
		{"control in target", flow.Orig, "GET /\x01 HTTP/1.1\r\n", classify.NoMatch},
		{"junk after version", flow.Orig, "GET / HTTP/1.1x\r\n", classify.NoMatch},
		{"space after version", flow.Orig, "GET / HTTP/1.1 \r\n", classify.NoMatch},
		{"gnutella handshake", flow.Orig, "GNUTELLA CONNECT/0.6\r\n", classify.NoMatch},
		{"status line", flow.Resp, "HTTP/1.1 200 OK\r\n", classify.Match},
		{"status no reason", flow.Resp, "HTTP/1.0 404\r\n", classify.Match},
		{"status bare lf", flow.Resp, "HTTP/1.1 204\n", classify.Match},
		{"partial status", flow.Resp, "HTTP/1.1 20", classify.NeedMore},
		{"status 000", flow.Resp, "HTTP/1.1 000 X\r\n", classify.NoMatch},
		{"status letters", flow.Resp, "HTTP/1.1 2x0 OK\r\n", classify.NoMatch},
		{"gnutella status", flow.Resp, "GNUTELLA/0.6 200 OK\r\n", classify.NoMatch},
		{"http2 status", flow.Resp, "HTTP/2 200\r\n", classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Dir: tt.dir, Data: []byte(tt.in)}
		if got := probe(&in); got != tt.want {
			t.Errorf("%s: probe(%q) = %d, want %d", tt.name, tt.in, got, tt.want)
		}
	}
}

func make64(c byte) []byte {
	b := make([]byte, longTarget)
	for i := range b {
		b[i] = c
	}
	return b
}

// TestProbePrefixes checks that the probe accepts a request line after
// every registered prefix.
func TestProbePrefixes(t *testing.T) {
	for _, p := range spec(t).Detect.Prefixes {
		line := p.Bytes + "/ HTTP/1.1\r\n"
		if p.Dir == flow.Resp {
			line = p.Bytes + "1 200 OK\r\n"
		}
		in := classify.Input{Dir: p.Dir, Data: []byte(line)}
		if got := probe(&in); got != classify.Match {
			t.Errorf("prefix %q: probe(%q) = %d", p.Bytes, line, got)
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	ins := []classify.Input{
		{Dir: flow.Orig, Data: []byte("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")},
		{Dir: flow.Resp, Data: []byte("HTTP/1.1 200 OK\r\n")},
		{Dir: flow.Orig, Data: []byte("OPTI")},
	}
	allocs := testing.AllocsPerRun(100, func() {
		for i := range ins {
			probe(&ins[i])
		}
	})
	if allocs != 0 {
		t.Errorf("allocs = %v, want 0", allocs)
	}
}

// FuzzProbe checks that the probe never panics and that NoMatch is final:
// once a prefix of the data is rejected, every longer one is too (the
// engine does not ask again).
func FuzzProbe(f *testing.F) {
	for _, name := range []string{"http", "bt-http", "https-connect"} {
		orig, resp := readPair(f, name)
		f.Add(orig, false)
		f.Add(resp, true)
	}
	f.Add([]byte("OPTIONS rtsp://x RTSP/1.0\r\n"), false) // RTSP look-alike
	f.Add([]byte("HTTP/1.1 101\r\n"), true)               // status without reason
	f.Fuzz(func(t *testing.T, data []byte, resp bool) {
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		full := probe(&classify.Input{Dir: dir, Data: data})
		for i := 0; i < len(data); i++ {
			got := probe(&classify.Input{Dir: dir, Data: data[:i]})
			if got == classify.NoMatch && full != classify.NoMatch {
				t.Fatalf("prefix %d says NoMatch, whole says %d", i, full)
			}
		}
	})
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Dir: flow.Orig, Data: []byte("GET /download/file.bin HTTP/1.1\r\nHost: www.example.com\r\n\r\n")}
	b.ReportAllocs()
	for b.Loop() {
		if probe(&in) != classify.Match {
			b.Fatal("no match")
		}
	}
}

func BenchmarkConnFeed(b *testing.B) {
	orig, resp := readPair(b, "http")
	s := spec(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(orig) + len(resp)))
	for b.Loop() {
		rec := analyzer.NewRecorder()
		c := newConn(rec.Session(s))
		c.Feed(flow.Orig, orig)
		c.Feed(flow.Resp, resp)
	}
}
