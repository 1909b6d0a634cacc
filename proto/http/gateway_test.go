package http

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// The MSN gateway exchange of testdata/msn-gateway.pcap, built from the
// forms in pidgin 2.7.0 httpconn.c (request heads) and the MSNP5-7 MD5
// login of gaim 0.56 (bodies). The password is "secret1": the USR MD5 S
// response is MD5("1013928519.693957190" + "secret1").
const (
	gwSID  = "1645463011" // the key: the session id before its dot
	gwHost = "gateway.messenger.hotmail.com"
	gwIP   = "207.46.110.21"

	gwOpenBody = "VER 1 MSNP7 MSNP6 MSNP5 MSNP4 CVR0\r\n" +
		"CVR 2 0x0409 win 4.10 i386 MSNMSGR 4.6.0082 MSMSGS alice@hotmail.com\r\n" +
		"USR 3 MD5 I alice@hotmail.com\r\n"
	gwOpenAnswer = "VER 1 MSNP7\r\n" +
		"CVR 2 4.6.0082 4.6.0082 4.5.0127 http://download.microsoft.com/download/msnmessenger/install/4.6/win98mexp/en-us/mmssetup.exe http://messenger.microsoft.com\r\n" +
		"USR 3 MD5 S 1013928519.693957190\r\n"
	gwAuthBody   = "USR 4 MD5 S a9c78aa0ae147c914c5b57ff6cd2c2ad\r\n"
	gwAuthAnswer = "USR 4 OK alice@hotmail.com Alice%20Smith\r\n"
	gwChgBody    = "CHG 5 NLN\r\n"
	gwChgAnswer  = "CHG 5 NLN\r\n"
	gwXfrBody    = "XFR 6 SB\r\n"
	gwXfrAnswer  = "XFR 6 SB 207.46.108.37:1863 CKI 17262740.1050826919.32308\r\n"
	gwOutBody    = "OUT\r\n"
)

// gwPost is a gateway request the way pidgin writes it; host "" gives an
// origin-form target (Messenger talking to the gateway directly).
func gwPost(query, host, body string) string {
	target := "/gateway/gateway.dll?" + query
	if host == gwHost {
		target = "http://" + gwHost + target
	}
	return "POST " + target + " HTTP/1.1\r\n" +
		"Accept: */*\r\n" +
		"Accept-Language: en-us\r\n" +
		"User-Agent: MSMSGS\r\n" +
		"Host: " + host + "\r\n" +
		"Proxy-Connection: Keep-Alive\r\n" +
		"Connection: Keep-Alive\r\n" +
		"Pragma: no-cache\r\n" +
		"Content-Type: application/x-msn-messenger\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// gwAnswer is a gateway response naming session sid.
func gwAnswer(sid, extra, body string) string {
	return "HTTP/1.1 200 OK\r\n" +
		"Server: Microsoft-IIS/5.0\r\n" +
		"Date: Mon, 04 Nov 2002 10:00:00 GMT\r\n" +
		"X-MSN-Messenger: SessionID=" + sid + "; GW-IP=" + gwIP + extra + "\r\n" +
		"Content-Type: application/x-msn-messenger\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// gwConns are the four TCP connections of the capture: the open, the
// login answer, a status change and a switchboard request on one
// keep-alive connection (with an empty poll), and the sign-out that closes
// the session. Each later connection names the session id the previous
// answer gave; the part after the dot changes.
var gwConns = [][]step{
	{
		{flow.Orig, gwPost("Action=open&Server=NS&IP=messenger.hotmail.com", gwHost, gwOpenBody)},
		{flow.Resp, gwAnswer(gwSID+".31343", "", gwOpenAnswer)},
	},
	{
		{flow.Orig, gwPost("SessionID="+gwSID+".31343", gwIP, gwAuthBody)},
		{flow.Resp, gwAnswer(gwSID+".31344", "", gwAuthAnswer)},
	},
	{
		{flow.Orig, gwPost("SessionID="+gwSID+".31344", gwIP, gwChgBody)},
		{flow.Resp, gwAnswer(gwSID+".31345", "", gwChgAnswer)},
		{flow.Orig, gwPost("Action=poll&SessionID="+gwSID+".31345", gwIP, "")},
		{flow.Resp, gwAnswer(gwSID+".31346", "", "")},
		{flow.Orig, gwPost("SessionID="+gwSID+".31346", gwIP, gwXfrBody)},
		{flow.Resp, gwAnswer(gwSID+".31347", "", gwXfrAnswer)},
	},
	{
		{flow.Orig, gwPost("SessionID="+gwSID+".31347", gwIP, gwOutBody)},
		{flow.Resp, gwAnswer(gwSID+".31348", "; Session=close", "")},
	},
}

// feedLog records what the analyzer gives embedded streams: consecutive
// feeds of one key and direction are merged, so the log does not depend on
// how the carrier's bytes were cut.
type feedLog struct {
	ops []feedOp
}

type feedOp struct {
	proto, key string
	dir        flow.Dir
	data       string
	closed     bool
}

func (l *feedLog) open(proto, key string) analyzer.Stream { return &fakeStream{l, proto, key} }

type fakeStream struct {
	l          *feedLog
	proto, key string
}

func (s *fakeStream) Feed(dir flow.Dir, data []byte) {
	ops := s.l.ops
	if n := len(ops); n > 0 && !ops[n-1].closed && ops[n-1].proto == s.proto && ops[n-1].key == s.key && ops[n-1].dir == dir {
		ops[n-1].data += string(data)
		return
	}
	s.l.ops = append(ops, feedOp{proto: s.proto, key: s.key, dir: dir, data: string(data)})
}

func (s *fakeStream) Close() {
	s.l.ops = append(s.l.ops, feedOp{proto: s.proto, key: s.key, closed: true})
}

// gwResult is what replaying gateway connections produced.
type gwResult struct {
	feeds     []feedOp
	events    []event.Event
	anomalies []string
	services  []string
}

// gwReplay plays each connection through a new Conn (flow ids 1, 2, ...)
// with one shared fake embedding, the way replay does.
func gwReplay(t testing.TB, conns [][]step) gwResult {
	var l feedLog
	var res gwResult
	for i, steps := range conns {
		rec := analyzer.NewRecorder()
		rec.F.ID = uint64(i + 1)
		rec.EmbedStream = l.open
		c := newConn(rec.Session(spec(t)))
		var buf [2][]byte
		for _, s := range steps {
			if strings.HasPrefix(s.data, "\x00GAP") {
				var size int
				fmt.Sscanf(s.data[4:], "%d", &size)
				c.(analyzer.GapHandler).Gap(s.dir, size)
				continue
			}
			buf[s.dir] = append(buf[s.dir], s.data...)
			n, err := c.Feed(s.dir, buf[s.dir])
			if err != nil {
				t.Fatalf("conn %d: Feed: %v", i, err)
			}
			buf[s.dir] = buf[s.dir][n:]
		}
		c.(analyzer.Ender).End(flow.EndClosed)
		res.events = append(res.events, rec.Events...)
		res.anomalies = append(res.anomalies, rec.Anomalies...)
		res.services = append(res.services, rec.Service+"/"+rec.Product)
	}
	res.feeds = l.ops
	return res
}

func gwTunnel(host, url string) event.Event {
	return event.Event{Kind: event.Tunnel, Dir: flow.Resp, Service: "msn", Product: "MSN Messenger",
		Fields: f{"hostname": host, "url": url, "http_method": "POST"},
		Tunnel: &event.TunnelInfo{Kind: "http_tunnel", Target: "msnp gateway " + gwSID, Outcome: event.Success}}
}

// TestGatewayFeeds checks which bytes reach the embedded MSNP session, under
// which key and in which direction, across the four connections.
func TestGatewayFeeds(t *testing.T) {
	got := gwReplay(t, gwConns)
	op := func(dir flow.Dir, data string) feedOp { return feedOp{proto: "msnp", key: gwSID, dir: dir, data: data} }
	want := []feedOp{
		op(flow.Orig, gwOpenBody), op(flow.Resp, gwOpenAnswer),
		op(flow.Orig, gwAuthBody), op(flow.Resp, gwAuthAnswer),
		op(flow.Orig, gwChgBody), op(flow.Resp, gwChgAnswer),
		op(flow.Orig, gwXfrBody), op(flow.Resp, gwXfrAnswer),
		op(flow.Orig, gwOutBody),
		{proto: "msnp", key: gwSID, closed: true},
	}
	if !reflect.DeepEqual(got.feeds, want) {
		t.Errorf("feeds:\n%+v\nwant\n%+v", got.feeds, want)
	}
	if len(got.anomalies) != 0 {
		t.Errorf("anomalies: %v", got.anomalies)
	}
	for i, s := range got.services {
		if s != "msn/MSN Messenger" {
			t.Errorf("conn %d: service %q", i, s)
		}
	}
	var tunnels []event.Event
	detected := 0
	for _, e := range got.events {
		switch e.Kind {
		case event.Tunnel:
			tunnels = append(tunnels, e)
		case event.Detected:
			detected++
		}
	}
	wantT := []event.Event{
		gwTunnel(gwHost, "http://"+gwHost+"/gateway/gateway.dll?Action=open&Server=NS&IP=messenger.hotmail.com"),
		gwTunnel(gwIP, "/gateway/gateway.dll?SessionID="+gwSID+".31343"),
		gwTunnel(gwIP, "/gateway/gateway.dll?SessionID="+gwSID+".31344"),
		gwTunnel(gwIP, "/gateway/gateway.dll?SessionID="+gwSID+".31347"),
	}
	if !reflect.DeepEqual(tunnels, wantT) {
		t.Errorf("tunnel events:\n%s\nwant\n%s", dump(tunnels), dump(wantT))
	}
	if detected != 6 {
		t.Errorf("%d detected events, want one per transaction (6)", detected)
	}
}

// TestGatewaySplit cuts every step of every connection at every byte: the
// embedded streams and the events must not change.
func TestGatewaySplit(t *testing.T) {
	whole := gwReplay(t, gwConns)
	for i := range gwConns {
		for _, v := range splits(gwConns[i]) {
			conns := append([][]step(nil), gwConns...)
			conns[i] = v
			got := gwReplay(t, conns)
			if !reflect.DeepEqual(got, whole) {
				t.Fatalf("conn %d split %v: got\n%+v\nwant\n%+v", i, v, got, whole)
			}
		}
	}
}

// TestGatewayCases covers the shapes around the main exchange.
func TestGatewayCases(t *testing.T) {
	open := gwPost("Action=open&Server=NS&IP=messenger.hotmail.com", gwHost, gwOpenBody)
	ok := gwAnswer(gwSID+".1", "", gwOpenAnswer)
	op := func(key string, dir flow.Dir, data string) feedOp {
		return feedOp{proto: "msnp", key: key, dir: dir, data: data}
	}
	cl := func(key string) feedOp { return feedOp{proto: "msnp", key: key, closed: true} }
	head := open[:len(open)-len(gwOpenBody)]
	big := strings.Repeat("PNG\r\n", maxHeld/5+1)
	gapResp := gwAnswer("77.2", "", gwAuthAnswer)
	gapHead := len(gapResp) - len(gwAuthAnswer)
	tests := []struct {
		name      string
		steps     []step
		feeds     []feedOp
		anomalies []string
		outcome   event.Outcome // of the tunnel event; "" = none
	}{
		{
			name:  "open answered",
			steps: []step{{flow.Orig, open}, {flow.Resp, ok}},
			feeds: []feedOp{op(gwSID, flow.Orig, gwOpenBody), op(gwSID, flow.Resp, gwOpenAnswer)}, outcome: event.Success,
		},
		{
			// The gateway answers before the request body ends: what was
			// held goes first, the rest follows directly.
			name:  "early answer",
			steps: []step{{flow.Orig, head + gwOpenBody[:10]}, {flow.Resp, ok}, {flow.Orig, gwOpenBody[10:]}},
			feeds: []feedOp{op(gwSID, flow.Orig, gwOpenBody[:10]), op(gwSID, flow.Resp, gwOpenAnswer), op(gwSID, flow.Orig, gwOpenBody[10:])}, outcome: event.Success,
		},
		{
			// No answer: the commands go to a session of this flow.
			name:    "open unanswered",
			steps:   []step{{flow.Orig, open}},
			feeds:   []feedOp{op("unanswered-1", flow.Orig, gwOpenBody), cl("unanswered-1")},
			outcome: event.Pending,
		},
		{
			name:      "open body over the bound",
			steps:     []step{{flow.Orig, gwPost("Action=open&Server=NS&IP=x", gwHost, big)}, {flow.Resp, ok}},
			feeds:     []feedOp{op(gwSID, flow.Resp, gwOpenAnswer)},
			anomalies: []string{"http_msn_gateway_buffer_limit"}, outcome: event.Success,
		},
		{
			name:      "gap in a request body",
			steps:     []step{{flow.Orig, head + gwOpenBody[:10]}, gap(flow.Orig, 5), {flow.Orig, gwOpenBody[15:]}, {flow.Resp, ok}},
			feeds:     []feedOp{op(gwSID, flow.Resp, gwOpenAnswer)},
			anomalies: []string{"http_msn_gateway_gap"}, outcome: event.Success,
		},
		{
			name: "gap in a response body",
			steps: []step{{flow.Orig, gwPost("SessionID=77.1", gwIP, gwAuthBody)},
				{flow.Resp, gapResp[:gapHead+10]}, gap(flow.Resp, 3), {flow.Resp, gapResp[gapHead+13:]}},
			feeds:     []feedOp{op("77", flow.Orig, gwAuthBody), op("77", flow.Resp, gwAuthAnswer[:10])},
			anomalies: []string{"http_msn_gateway_gap"}, outcome: event.Success,
		},
		{
			// Session=close ends the embedded session after the body.
			name:    "session close",
			steps:   []step{{flow.Orig, gwPost("SessionID=9.1", gwIP, gwOutBody)}, {flow.Resp, gwAnswer("9.2", "; Session=close", "")}},
			feeds:   []feedOp{op("9", flow.Orig, gwOutBody), cl("9")},
			outcome: event.Success,
		},
		{
			// Found by its Content-Type alone, on another path.
			name: "content type only",
			steps: []step{{flow.Orig, strings.Replace(gwPost("SessionID=42", gwIP, gwChgBody), "/gateway/gateway.dll", "/x", 1)},
				{flow.Resp, gwAnswer("42", "", gwChgAnswer)}},
			feeds:   []feedOp{op("42", flow.Orig, gwChgBody), op("42", flow.Resp, gwChgAnswer)},
			outcome: event.Success,
		},
		{
			// Found by the answer's X-MSN-Messenger field alone: the
			// request body was not kept, the answer's is.
			name:    "answer field only",
			steps:   []step{{flow.Orig, "POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"}, {flow.Resp, gwAnswer("43", "", gwChgAnswer)}},
			feeds:   []feedOp{op("43", flow.Resp, gwChgAnswer)},
			outcome: event.Success,
		},
		{
			name:      "malformed session ids",
			steps:     []step{{flow.Orig, gwPost("SessionID=a%20b", gwIP, gwChgBody)}, {flow.Resp, gwAnswer("<script>", "", gwChgAnswer)}},
			anomalies: []string{"http_msn_gateway_session_id", "http_msn_gateway_session_id"},
			outcome:   event.Success,
		},
		{
			name:      "refused",
			steps:     []step{{flow.Orig, open}, {flow.Resp, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"}},
			anomalies: nil, outcome: event.Refused,
		},
		{
			name:  "plain http untouched",
			steps: []step{{flow.Orig, "POST /form HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"}, {flow.Resp, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := gwReplay(t, [][]step{tt.steps})
			if !reflect.DeepEqual(got.feeds, tt.feeds) {
				t.Errorf("feeds:\n%+v\nwant\n%+v", got.feeds, tt.feeds)
			}
			var names []string
			for _, a := range got.anomalies {
				names = append(names, a[:strings.IndexByte(a, ':')])
			}
			if !reflect.DeepEqual(names, tt.anomalies) {
				t.Errorf("anomalies %v, want %v", got.anomalies, tt.anomalies)
			}
			var out event.Outcome
			n := 0
			for _, e := range got.events {
				if e.Kind == event.Tunnel {
					out = e.Tunnel.Outcome
					n++
				}
			}
			if out != tt.outcome || n > 1 {
				t.Errorf("%d tunnel events, outcome %q, want %q", n, out, tt.outcome)
			}
			if tt.outcome == "" && got.services[0] != "/" {
				t.Errorf("service %q set on plain http", got.services[0])
			}
		})
	}
}

func TestGatewayParsers(t *testing.T) {
	paths := []struct {
		in   string
		want bool
	}{
		{"/gateway/gateway.dll?Action=open", true},
		{"http://gateway.messenger.hotmail.com/gateway/gateway.dll?SessionID=1", true},
		{"/GATEWAY/Gateway.DLL", true},
		{"/gateway/gateway.dll#x", true},
		{"/gateway/gateway.dllx", false},
		{"/gateway.dl", false},
		{"/?/gateway.dll", false},
		{"", false},
	}
	for _, tt := range paths {
		if got := isGatewayPath([]byte(tt.in)); got != tt.want {
			t.Errorf("isGatewayPath(%q) = %v", tt.in, got)
		}
	}
	ctypes := []struct {
		in   string
		want bool
	}{
		{"application/x-msn-messenger", true},
		{" Application/X-MSN-Messenger ; charset=x", true},
		{"application/x-msn-messengerx", false},
		{"text/x-msmsgscontrol", false},
		{"", false},
	}
	for _, tt := range ctypes {
		if got := hasCtype([]byte(tt.in)); got != tt.want {
			t.Errorf("hasCtype(%q) = %v", tt.in, got)
		}
	}
	urls := []struct {
		in               string
		key              string
		present, isValid bool
	}{
		{"/gateway/gateway.dll?SessionID=1645463011.31343", "1645463011", true, true},
		{"/gateway/gateway.dll?Action=poll&SessionID=77", "77", true, true},
		{"/gateway/gateway.dll?Action=poll&sessionid=77.1&x=y", "77", true, true},
		{"/gateway/gateway.dll?Action=open&Server=NS&IP=messenger.hotmail.com", "", false, false},
		{"/gateway/gateway.dll?SessionID=", "", true, false},
		{"/gateway/gateway.dll?SessionID=.5", "", true, false},
		{"/gateway/gateway.dll?SessionID=a%20b", "", true, false},
		{"/gateway/gateway.dll?SessionID=" + strings.Repeat("1", maxSessionID+1), "", true, false},
		{"/gateway/gateway.dll#SessionID=1", "", false, false},
		{"/gateway/gateway.dll?x#SessionID=1", "", false, false},
		{"/gateway/gateway.dll", "", false, false},
	}
	for _, tt := range urls {
		key, present, valid := urlSession(tt.in)
		if key != tt.key || present != tt.present || valid != tt.isValid {
			t.Errorf("urlSession(%q) = %q %v %v", tt.in, key, present, valid)
		}
	}
	fields := []struct {
		in   string
		want gwInfo
	}{
		{"SessionID=1645463011.31343; GW-IP=207.46.110.21", gwInfo{present: true, session: "1645463011"}},
		{"SessionID=9.2; GW-IP=207.46.110.21; Session=close", gwInfo{present: true, session: "9", close: true}},
		{"Session=close;SessionID=9", gwInfo{present: true, session: "9", close: true}},
		{"GW-IP=207.46.110.21", gwInfo{present: true}},
		{"SessionID=<x>", gwInfo{present: true, bad: true}},
		{"", gwInfo{present: true}},
		{";;;=;", gwInfo{present: true}},
	}
	for _, tt := range fields {
		if got := parseGatewayField([]byte(tt.in)); got != tt.want {
			t.Errorf("parseGatewayField(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	if got := parseGatewayField(nil); got.present {
		t.Errorf("parseGatewayField(nil) = %+v", got)
	}
	// Every truncation of the valid forms parses without panicking and
	// never yields a key longer than the input.
	for _, s := range []string{fields[1].in, urls[1].in} {
		for i := 0; i <= len(s); i++ {
			if g := parseGatewayField([]byte(s[:i])); len(g.session) > i {
				t.Errorf("parseGatewayField(%q) = %+v", s[:i], g)
			}
			if k, _, _ := urlSession(s[:i]); len(k) > i {
				t.Errorf("urlSession(%q) = %q", s[:i], k)
			}
		}
	}
}

// TestGatewayFeedAllocs: a poll on a known session, answered, allocates
// only what every HTTP transaction does (the record's strings and map).
func TestGatewayFeedAllocs(t *testing.T) {
	req := []byte(gwPost("SessionID="+gwSID+".1", gwIP, gwChgBody))
	resp := []byte(gwAnswer(gwSID+".2", "", gwChgAnswer))
	plainReq := []byte(strings.Replace(strings.Replace(string(req), "application/x-msn-messenger", "text/plain-ish-messenger", 1), "gateway.dll", "gateway.asp", 1))
	plainResp := []byte(strings.Replace(string(resp), "X-MSN-Messenger", "X-Other-Header-", 1))
	s := spec(t)
	rec := analyzer.NewRecorder()
	rec.EmbedStream = func(string, string) analyzer.Stream { return nopStream{} }
	run := func(q, r []byte) float64 {
		c := newConn(rec.Session(s)).(*conn)
		c.gw.reported = true // the one-off tunnel event is not per transaction
		c.Feed(flow.Orig, q)
		c.Feed(flow.Resp, r)
		return testing.AllocsPerRun(100, func() {
			rec.Events = rec.Events[:0]
			c.Feed(flow.Orig, q)
			c.Feed(flow.Resp, r)
		})
	}
	gw, plain := run(req, resp), run(plainReq, plainResp)
	if gw > plain+1 { // +1: the session key string taken from the URL
		t.Errorf("gateway transaction: %v allocs, plain: %v", gw, plain)
	}
}

type nopStream struct{}

func (nopStream) Feed(flow.Dir, []byte) {}
func (nopStream) Close()                {}

// FuzzGateway feeds fuzzed gateway bodies and heads through a Conn with a
// fake embedding: no panic, and no more bytes embedded than were fed.
func FuzzGateway(f *testing.F) {
	for _, c := range gwConns {
		var o, r string
		for _, s := range c {
			if s.dir == flow.Orig {
				o += s.data
			} else {
				r += s.data
			}
		}
		f.Add([]byte(o), []byte(r), uint16(40))
	}
	f.Fuzz(func(t *testing.T, orig, resp []byte, cut uint16) {
		var l feedLog
		rec := analyzer.NewRecorder()
		rec.EmbedStream = l.open
		c := newConn(rec.Session(spec(t)))
		k := int(cut) % (len(orig) + 1)
		var buf [2][]byte
		for _, s := range []step{{flow.Orig, string(orig[:k])}, {flow.Resp, string(resp)}, {flow.Orig, string(orig[k:])}} {
			buf[s.dir] = append(buf[s.dir], s.data...)
			n, err := c.Feed(s.dir, buf[s.dir])
			if err != nil || len(rec.Reclassed) > 0 {
				return
			}
			buf[s.dir] = buf[s.dir][n:]
		}
		c.(analyzer.Ender).End(flow.EndShutdown)
		var fed [2]int
		for _, op := range l.ops {
			fed[op.dir] += len(op.data)
		}
		if fed[flow.Orig] > len(orig) || fed[flow.Resp] > len(resp) {
			t.Fatalf("embedded %v bytes of %d/%d", fed, len(orig), len(resp))
		}
	})
}

// buildGatewayCapture writes gwConns as four TCP connections from one
// client to the gateway, one after the other.
func buildGatewayCapture() []byte {
	w := pcaptest.NewWriter()
	t0 := time.Date(2002, 11, 4, 10, 0, 0, 0, time.UTC)
	cli := netip.MustParseAddr("192.168.1.20")
	gw := netip.MustParseAddrPort(gwIP + ":80")
	for i, steps := range gwConns {
		c := w.TCP(t0.Add(time.Duration(i)*2*time.Second), netip.AddrPortFrom(cli, uint16(1100+i)), gw)
		c.Handshake()
		for _, s := range steps {
			c.Send(int(s.dir), []byte(s.data))
		}
		c.Close()
	}
	return w.Bytes()
}

// TestGatewayCapture keeps testdata/msn-gateway.pcap reproducible.
func TestGatewayCapture(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "msn-gateway.pcap"), buildGatewayCapture())
}

// BenchmarkGatewayFeed measures one gateway transaction on a known
// session (request and answer bodies embedded).
func BenchmarkGatewayFeed(b *testing.B) {
	req := []byte(gwPost("SessionID="+gwSID+".1", gwIP, gwXfrBody))
	resp := []byte(gwAnswer(gwSID+".2", "", gwXfrAnswer))
	s := spec(b)
	rec := analyzer.NewRecorder()
	rec.EmbedStream = func(string, string) analyzer.Stream { return nopStream{} }
	c := newConn(rec.Session(s))
	b.ReportAllocs()
	b.SetBytes(int64(len(req) + len(resp)))
	for b.Loop() {
		rec.Events = rec.Events[:0]
		c.Feed(flow.Orig, req)
		c.Feed(flow.Resp, resp)
	}
}
