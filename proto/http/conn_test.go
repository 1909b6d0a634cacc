package http

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/httpwire"
)

// step is bytes arriving in one direction.
type step struct {
	dir  flow.Dir
	data string
}

// result is what a replay produced.
type result struct {
	events    []event.Event
	anomalies []string
	reclassed [][2]int
	confirmed bool
	err       error
	left      [2]int // unconsumed bytes per direction at the end
}

func spec(t testing.TB) *analyzer.Spec {
	s, ok := analyzer.Lookup("http")
	if !ok {
		t.Fatal("http not registered")
	}
	return &s
}

// replay plays steps through a new Conn the way the engine does: bytes a
// Feed did not consume are offered again with the next bytes of the same
// direction; after Reclassify or an error nothing more is fed. End is
// called last unless gap steps say otherwise.
func replay(t testing.TB, steps []step) result {
	rec := analyzer.NewRecorder()
	c := newConn(rec.Session(spec(t)))
	var buf [2][]byte
	var err error
	for _, s := range steps {
		if err != nil || len(rec.Reclassed) > 0 {
			break
		}
		if strings.HasPrefix(s.data, "\x00GAP") {
			var size int
			fmt.Sscanf(s.data[4:], "%d", &size)
			c.(analyzer.GapHandler).Gap(s.dir, size)
			continue
		}
		buf[s.dir] = append(buf[s.dir], s.data...)
		var n int
		n, err = c.Feed(s.dir, buf[s.dir])
		if n < 0 || n > len(buf[s.dir]) {
			t.Fatalf("Feed consumed %d of %d", n, len(buf[s.dir]))
		}
		buf[s.dir] = buf[s.dir][n:]
	}
	if err == nil && len(rec.Reclassed) == 0 {
		c.(analyzer.Ender).End(flow.EndClosed)
	}
	return result{rec.Events, rec.Anomalies, rec.Reclassed, rec.Confirmed, err, [2]int{len(buf[0]), len(buf[1])}}
}

// splits returns steps with step k cut at byte i, for every k and i
// (gap steps are not cut; steps over 4 KiB are cut every 61 bytes).
func splits(steps []step) [][]step {
	var out [][]step
	for k, s := range steps {
		if strings.HasPrefix(s.data, "\x00GAP") {
			continue
		}
		stride := 1
		if len(s.data) > 4096 {
			stride = 61 // large steps: a spread of cut points, not all
		}
		for i := 1; i < len(s.data); i += stride {
			v := append([]step(nil), steps[:k]...)
			v = append(v, step{s.dir, s.data[:i]}, step{s.dir, s.data[i:]})
			out = append(out, append(v, steps[k+1:]...))
		}
	}
	return out
}

func gap(dir flow.Dir, n int) step { return step{dir, fmt.Sprintf("\x00GAP%d", n)} }

type f = map[string]any

func detected(dir flow.Dir, fields f) event.Event {
	return event.Event{Kind: event.Detected, Dir: dir, Fields: fields}
}

func tunnel(target string, out event.Outcome, fields f) event.Event {
	return event.Event{Kind: event.Tunnel, Dir: flow.Resp, Fields: fields,
		Tunnel: &event.TunnelInfo{Kind: "http_connect", Target: target, Outcome: out}}
}

const (
	connectReq  = "CONNECT login.oscar.aol.com:443 HTTP/1.1\r\nHost: login.oscar.aol.com:443\r\nUser-Agent: AIM/30\r\n\r\n"
	connectOK   = "HTTP/1.1 200 Connection established\r\n\r\n"
	tlsHello    = "\x16\x03\x01\x00\x05hello"
	proxyAuth   = "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\ndenied"
	wsUpgrade   = "GET /chat HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
	wsSwitching = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
)

func TestConn(t *testing.T) {
	tests := []struct {
		name      string
		steps     []step
		events    []event.Event
		reclassed [][2]int
		anomalies []string
		err       error
	}{
		{
			name: "get with content-length body",
			steps: []step{
				{flow.Orig, "GET /index.html HTTP/1.1\r\nHost: www.example.com:8080\r\nUser-Agent: Mozilla/4.0\r\n\r\n"},
				{flow.Resp, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello"},
			},
			events: []event.Event{detected(flow.Resp, f{"hostname": "www.example.com", "url": "/index.html", "http_method": "GET",
				"http_user_agent": "Mozilla/4.0", "protocol": "HTTP/1.1", "status": 200, "http_content_type": "text/html", "length": int64(5)})},
		},
		{
			name: "pipelined get, head and chunked post",
			steps: []step{
				{flow.Orig, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h\r\n\r\nPOST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
				{flow.Resp, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nmade\r\n1\r\n!\r\n0\r\nT: 1\r\n\r\n"},
			},
			events: []event.Event{
				detected(flow.Resp, f{"hostname": "h", "url": "/a", "http_method": "GET", "protocol": "HTTP/1.1", "status": 200, "length": int64(2)}),
				detected(flow.Resp, f{"hostname": "h", "url": "/b", "http_method": "HEAD", "protocol": "HTTP/1.1", "status": 200, "length": int64(0)}),
				detected(flow.Resp, f{"hostname": "h", "url": "/c", "http_method": "POST", "protocol": "HTTP/1.1", "status": 201, "length": int64(5)}),
			},
		},
		{
			name: "100 continue then final response",
			steps: []step{
				{flow.Orig, "POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"},
				{flow.Resp, "HTTP/1.1 100 Continue\r\n\r\n"},
				{flow.Orig, "abc"},
				{flow.Resp, "HTTP/1.1 204 No Content\r\n\r\n"},
			},
			events: []event.Event{detected(flow.Resp, f{"hostname": "h", "url": "/up", "http_method": "POST", "protocol": "HTTP/1.1", "status": 204, "length": int64(0)})},
		},
		{
			name: "304 has no body",
			steps: []step{
				{flow.Orig, "GET / HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"},
				{flow.Resp, "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"},
			},
			events: []event.Event{
				detected(flow.Resp, f{"url": "/", "http_method": "GET", "protocol": "HTTP/1.1", "status": 304, "length": int64(0)}),
				detected(flow.Resp, f{"url": "/2", "http_method": "GET", "protocol": "HTTP/1.1", "status": 404, "length": int64(0)}),
			},
		},
		{
			name: "close-delimited response ends with the flow",
			steps: []step{
				{flow.Orig, "GET http://proxy.example/x HTTP/1.0\r\n\r\n"},
				{flow.Resp, "HTTP/1.0 200 OK\r\n\r\nsome"},
				{flow.Resp, " bytes"},
			},
			events: []event.Event{detected(flow.Resp, f{"hostname": "proxy.example", "url": "http://proxy.example/x", "http_method": "GET", "protocol": "HTTP/1.0", "status": 200, "length": int64(10)})},
		},
		{
			name:   "unanswered request written at the end",
			steps:  []step{{flow.Orig, "GET /x HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n"}},
			events: []event.Event{detected(flow.Orig, f{"hostname": "2001:db8::1", "url": "/x", "http_method": "GET", "protocol": "HTTP/1.1"})},
		},
		{
			name:   "response without request",
			steps:  []step{{flow.Resp, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}},
			events: []event.Event{detected(flow.Resp, f{"protocol": "HTTP/1.1", "status": 200, "length": int64(0)})},
		},
		{
			name: "connect accepted hands off",
			steps: []step{
				{flow.Orig, connectReq + tlsHello},
				{flow.Resp, connectOK + tlsHello},
			},
			events: []event.Event{tunnel("login.oscar.aol.com:443", event.Success, f{"hostname": "login.oscar.aol.com", "url": "login.oscar.aol.com:443",
				"http_method": "CONNECT", "http_user_agent": "AIM/30", "protocol": "HTTP/1.1", "status": 200, "length": int64(0)})},
			reclassed: [][2]int{{len(connectReq), len(connectOK)}},
		},
		{
			name: "connect refused then retried with credentials",
			steps: []step{
				{flow.Orig, connectReq},
				{flow.Resp, proxyAuth[:len(proxyAuth)-1]},
				{flow.Orig, connectReq + tlsHello},
				{flow.Resp, connectOK},
			},
			events: []event.Event{
				tunnel("login.oscar.aol.com:443", event.Refused, f{"hostname": "login.oscar.aol.com", "url": "login.oscar.aol.com:443",
					"http_method": "CONNECT", "http_user_agent": "AIM/30", "protocol": "HTTP/1.1", "status": 407, "http_content_type": "text/plain", "length": int64(5)}),
				tunnel("login.oscar.aol.com:443", event.Success, f{"hostname": "login.oscar.aol.com", "url": "login.oscar.aol.com:443",
					"http_method": "CONNECT", "http_user_agent": "AIM/30", "protocol": "HTTP/1.1", "status": 200, "length": int64(0)}),
			},
			reclassed: [][2]int{{2 * len(connectReq), len(proxyAuth) - 1 + len(connectOK)}},
		},
		{
			name:  "connect failed at the proxy",
			steps: []step{{flow.Orig, connectReq}, {flow.Resp, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"}},
			events: []event.Event{tunnel("login.oscar.aol.com:443", event.Failure, f{"hostname": "login.oscar.aol.com", "url": "login.oscar.aol.com:443",
				"http_method": "CONNECT", "http_user_agent": "AIM/30", "protocol": "HTTP/1.1", "status": 502, "length": int64(0)})},
		},
		{
			name:  "connect unanswered",
			steps: []step{{flow.Orig, connectReq + tlsHello}},
			events: []event.Event{{Kind: event.Tunnel, Dir: flow.Orig, Tunnel: &event.TunnelInfo{Kind: "http_connect", Target: "login.oscar.aol.com:443", Outcome: event.Pending},
				Fields: f{"hostname": "login.oscar.aol.com", "url": "login.oscar.aol.com:443", "http_method": "CONNECT", "http_user_agent": "AIM/30", "protocol": "HTTP/1.1"}}},
		},
		{
			name:  "websocket upgrade hands off",
			steps: []step{{flow.Orig, wsUpgrade}, {flow.Resp, wsSwitching + "\x81\x05hello"}, {flow.Orig, "\x81\x85mask!"}},
			events: []event.Event{detected(flow.Resp, f{"hostname": "ws.example", "url": "/chat", "http_method": "GET", "protocol": "HTTP/1.1",
				"status": 101, "response_headers": []map[string]string{{"name": "Upgrade", "value": "websocket"}}, "length": int64(0)})},
			reclassed: [][2]int{{len(wsUpgrade), len(wsSwitching)}},
		},
		{
			name: "gap inside a body is skipped",
			steps: []step{
				{flow.Orig, "GET / HTTP/1.1\r\n\r\n"},
				{flow.Resp, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"},
				gap(flow.Resp, 5),
				{flow.Resp, "cde"},
			},
			events: []event.Event{detected(flow.Resp, f{"url": "/", "http_method": "GET", "protocol": "HTTP/1.1", "status": 200, "length": int64(10)})},
		},
		{
			name: "gap in a head loses the direction",
			steps: []step{
				{flow.Orig, "GET / HTTP/1.1\r\n\r\n"},
				{flow.Resp, "HTTP/1.1 200"},
				gap(flow.Resp, 5),
				{flow.Resp, "junk that is not http"},
			},
			events: []event.Event{detected(flow.Orig, f{"url": "/", "http_method": "GET", "protocol": "HTTP/1.1"})},
		},
		{
			name: "te and cl anomaly",
			steps: []step{
				{flow.Orig, "POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
				{flow.Resp, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
			},
			events:    []event.Event{detected(flow.Resp, f{"url": "/", "http_method": "POST", "protocol": "HTTP/1.1", "status": 200, "length": int64(0)})},
			anomalies: []string{"http_te_and_cl: orig message has both transfer-encoding and content-length"},
		},
		{name: "garbage request", steps: []step{{flow.Orig, "GET / HTTP/1.1\r\nno colon here\r\n\r\n"}}, err: ErrRequest},
		{name: "tls instead of http", steps: []step{{flow.Orig, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n"}}, err: ErrRequest},
		{name: "garbage status", steps: []step{{flow.Resp, "HTTP/1.1 2x0 OK\r\n\r\n"}}, err: ErrResponse},
		{name: "oversized head", steps: []step{{flow.Orig, "GET / HTTP/1.1\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 1000)+"\r\n", 40)}}, err: ErrRequest},
		{
			name:  "bad chunk",
			steps: []step{{flow.Orig, "GET / HTTP/1.1\r\n\r\n"}, {flow.Resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n"}},
			err:   ErrBody,
		},
		{name: "pipeline overflow", steps: []step{{flow.Orig, strings.Repeat("GET / HTTP/1.1\r\n\r\n", maxPending+1)}}, err: ErrPipeline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(label string, r result) {
				t.Helper()
				if !errors.Is(r.err, tt.err) {
					t.Fatalf("%s: err = %v, want %v", label, r.err, tt.err)
				}
				if tt.err != nil {
					return
				}
				if !r.confirmed {
					t.Errorf("%s: not confirmed", label)
				}
				if !reflect.DeepEqual(r.events, tt.events) {
					t.Fatalf("%s: events\n got %s\nwant %s", label, dump(r.events), dump(tt.events))
				}
				if !reflect.DeepEqual(r.reclassed, tt.reclassed) {
					t.Errorf("%s: Reclassify %v, want %v", label, r.reclassed, tt.reclassed)
				}
				if !reflect.DeepEqual(r.anomalies, tt.anomalies) {
					t.Errorf("%s: anomalies %q, want %q", label, r.anomalies, tt.anomalies)
				}
			}
			check("whole", replay(t, tt.steps))
			for i, s := range splits(tt.steps) {
				check(fmt.Sprintf("split %d", i), replay(t, s))
			}
		})
	}
}

func dump(es []event.Event) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "\n  %s %s %v", e.Kind, e.Dir, e.Fields)
		if e.Tunnel != nil {
			fmt.Fprintf(&b, " tunnel=%+v", *e.Tunnel)
		}
	}
	return b.String()
}

// readPair loads the reassembled payloads of a capture in testdata.
func readPair(t testing.TB, name string) (orig, resp []byte) {
	t.Helper()
	orig, err := os.ReadFile(filepath.Join("testdata", name+".orig"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = os.ReadFile(filepath.Join("testdata", name+".resp"))
	if err != nil {
		t.Fatal(err)
	}
	return orig, resp
}

// TestRealPayloads replays the payloads of the captures in testdata
// (SOURCES.md), request before response, whole and in every 2-way split.
func TestRealPayloads(t *testing.T) {
	tests := []struct {
		name      string
		events    []event.Event
		reclassed [][2]int
	}{
		{"http", []event.Event{detected(flow.Resp, f{"hostname": "google.com", "url": "/", "http_method": "GET", "http_user_agent": "curl/7.68.0",
			"protocol": "HTTP/1.1", "status": 301, "http_content_type": "text/html; charset=UTF-8", "length": int64(219)})}, nil},
		{"bt-http", []event.Event{detected(flow.Resp, f{"hostname": "tracker.trackerfix.com", "http_method": "GET", "http_user_agent": "Transmission/2.94",
			"protocol": "HTTP/1.1", "status": 307, "length": int64(0),
			"url": "/announce?info_hash=%aa7i%c4S%0d%de%06%24%18s%da%d4%3a%b5%cc%ec%2c%e6%22&peer_id=-TR2940-chho92c56pul&port=51413&uploaded=0&downloaded=0&left=282050560&numwant=80&key=3b5502cc&compact=1&supportcrypto=1&requirecrypto=1&event=started"})}, nil},
		{"https-connect", []event.Event{tunnel("ts01-b.cloudsink.net:443", event.Success, f{"hostname": "ts01-b.cloudsink.net", "url": "ts01-b.cloudsink.net:443",
			"http_method": "CONNECT", "http_user_agent": "CrowdStrike Falcon Sensor", "protocol": "HTTP/1.0", "status": 200, "length": int64(0)})},
			[][2]int{{84, 134}}},
	}
	for _, tt := range tests {
		orig, resp := readPair(t, tt.name)
		steps := []step{{flow.Orig, string(orig)}, {flow.Resp, string(resp)}}
		all := append([][]step{steps}, splits(steps)...)
		for i, s := range all {
			r := replay(t, s)
			if r.err != nil || !r.confirmed || !reflect.DeepEqual(r.events, tt.events) || !reflect.DeepEqual(r.reclassed, tt.reclassed) {
				t.Fatalf("%s variant %d: err %v confirmed %v reclassed %v events %s\nwant %s", tt.name, i, r.err, r.confirmed, r.reclassed, dump(r.events), dump(tt.events))
			}
		}
	}
}

// TestConnectOffsetsPointAtTunnel checks on the real CONNECT capture that
// the offsets handed to Reclassify are the first TLS bytes of each side.
func TestConnectOffsetsPointAtTunnel(t *testing.T) {
	orig, resp := readPair(t, "https-connect")
	r := replay(t, []step{{flow.Orig, string(orig)}, {flow.Resp, string(resp)}})
	if len(r.reclassed) != 1 {
		t.Fatalf("reclassed %v", r.reclassed)
	}
	o, p := r.reclassed[0][0], r.reclassed[0][1]
	if orig[o] != 0x16 || resp[p] != 0x16 || r.left != [2]int{len(orig) - o, len(resp) - p} {
		t.Errorf("offsets %d/%d point at %#x/%#x; left %v", o, p, orig[o], resp[p], r.left)
	}
}

func TestSpec(t *testing.T) {
	s := spec(t)
	if s.Name != "http" || s.Category != event.CatCarrier || s.Transport != analyzer.TCP || s.Service != "" || s.Products != nil || s.IsClaim() {
		t.Errorf("spec = %+v", s)
	}
	want := map[string]bool{"GET ": false, "POST ": false, "HEAD ": false, "PUT ": false, "OPTIONS ": false, "DELETE ": false, "PATCH ": false, "CONNECT ": false, "HTTP/1.": false}
	for _, p := range s.Detect.Prefixes {
		if _, ok := want[p.Bytes]; ok {
			want[p.Bytes] = (p.Bytes == "HTTP/1.") == (p.Dir == flow.Resp)
		}
	}
	for k, ok := range want {
		if !ok {
			t.Errorf("prefix %q missing or in the wrong direction", k)
		}
	}
	if len(httpwire.Methods())+1 != len(s.Detect.Prefixes) {
		t.Errorf("%d prefixes for %d methods", len(s.Detect.Prefixes), len(httpwire.Methods()))
	}
}

// FuzzConnFeed feeds two fuzzed streams, split at a fuzzed point and
// interleaved, and checks the Feed contract.
func FuzzConnFeed(f *testing.F) {
	for _, name := range []string{"http", "bt-http", "https-connect"} {
		orig, resp := readPair(f, name)
		f.Add(orig, resp, uint16(7))
	}
	f.Add([]byte(connectReq+tlsHello), []byte(proxyAuth+connectOK), uint16(30)) // refused then accepted CONNECT
	f.Add([]byte(wsUpgrade), []byte(wsSwitching), uint16(0))                    // upgrade
	f.Fuzz(func(t *testing.T, orig, resp []byte, cut uint16) {
		rec := analyzer.NewRecorder()
		c := newConn(rec.Session(spec(t)))
		split := func(b []byte) ([]byte, []byte) {
			k := int(cut) % (len(b) + 1)
			return b[:k], b[k:]
		}
		o1, o2 := split(orig)
		r1, r2 := split(resp)
		var buf [2][]byte
		for _, s := range []step{{flow.Orig, string(o1)}, {flow.Resp, string(r1)}, {flow.Orig, string(o2)}, {flow.Resp, string(r2)}} {
			buf[s.dir] = append(buf[s.dir], s.data...)
			n, err := c.Feed(s.dir, buf[s.dir])
			if n < 0 || n > len(buf[s.dir]) {
				t.Fatalf("Feed consumed %d of %d", n, len(buf[s.dir]))
			}
			if err != nil || len(rec.Reclassed) > 0 {
				return
			}
			buf[s.dir] = buf[s.dir][n:]
		}
		c.(analyzer.Ender).End(flow.EndShutdown)
		if len(rec.Events) > 2*maxPending+len(orig) {
			t.Fatalf("%d events", len(rec.Events))
		}
	})
}

// TestPendingRing pipelines requests so that the ring of pending requests
// wraps around and then grows while its first entry is not at index 0:
// every response must still pair with its own request, in order, and the
// unanswered one is written at the end.
func TestPendingRing(t *testing.T) {
	get := func(from, to int) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			fmt.Fprintf(&b, "GET /%d HTTP/1.1\r\n\r\n", i)
		}
		return b.String()
	}
	ok := "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	steps := []step{
		{flow.Orig, get(1, 3)},             // ring grows 0 → 2 → 4
		{flow.Resp, ok},                    // /1 answered: the first entry moves to index 1
		{flow.Orig, get(4, 7)},             // /5 wraps to index 0, /6 grows the ring to 8
		{flow.Resp, strings.Repeat(ok, 5)}, // /2 to /6
	}
	var want []event.Event
	for i := 1; i <= 6; i++ {
		want = append(want, detected(flow.Resp, f{"url": fmt.Sprintf("/%d", i), "http_method": "GET", "protocol": "HTTP/1.1", "status": 200, "length": int64(0)}))
	}
	want = append(want, detected(flow.Orig, f{"url": "/7", "http_method": "GET", "protocol": "HTTP/1.1"}))
	check := func(label string, r result) {
		t.Helper()
		if r.err != nil {
			t.Fatalf("%s: %v", label, r.err)
		}
		if !reflect.DeepEqual(r.events, want) {
			t.Fatalf("%s: events\n got %s\nwant %s", label, dump(r.events), dump(want))
		}
	}
	check("whole", replay(t, steps))
	for i, s := range splits(steps) {
		check(fmt.Sprintf("split %d", i), replay(t, s))
	}
}
