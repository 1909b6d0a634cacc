package fasttrack

import (
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"

	// The http carrier, so that the plain request of the capture shows it
	// stays http.
	_ "github.com/peerwatch/peerwatch/proto/http"
)

func TestParseUDP(t *testing.T) {
	sn := netip.MustParseAddrPort("203.0.113.6:1214")
	tests := []struct {
		name    string
		in      []byte
		err     error
		typ     byte
		network string
		load    int
		addr    netip.AddrPort
	}{
		{"ping KaZaA", ping("KaZaA"), nil, udpPing, "KaZaA", -1, netip.AddrPort{}},
		{"ping iMesh", ping("fileshare"), nil, udpPing, "fileshare", -1, netip.AddrPort{}},
		{"ping other name", ping("My.Net-2"), nil, udpPing, "My.Net-2", -1, netip.AddrPort{}},
		{"pong Grokster", pong("Grokster", 42), nil, udpPong, "Grokster", 42, netip.AddrPort{}},
		{"pong MusicCity load 255", pong("MusicCity", 255), nil, udpPong, "MusicCity", -1, netip.AddrPort{}},
		{"pong2", pong2(false, sn), nil, udpPong2, "", -1, netip.AddrPort{}},
		{"pong2 open", pong2(true, sn), nil, udpPong2, "", -1, sn},
		{"ack", []byte{0x2a, 1, 2, 3, 4}, nil, udpAck, "", -1, netip.AddrPort{}},
		{"empty", nil, ErrShort, 0, "", 0, netip.AddrPort{}},
		{"unknown type", []byte{0x45, 0, 0, 0, 0}, ErrType, 0, "", 0, netip.AddrPort{}},
		{"enc type too big", []byte("\x27\x00\x00\x01\x29\x80KaZaA\x00"), ErrLayout, 0, "", 0, netip.AddrPort{}},
		{"ping without 0x80", []byte("\x27\x00\x00\x00\x29\x81KaZaA\x00"), ErrLayout, 0, "", 0, netip.AddrPort{}},
		{"ping without NUL", []byte("\x27\x00\x00\x00\x29\x80KaZaA"), ErrNetwork, 0, "", 0, netip.AddrPort{}},
		{"ping trailing byte", []byte("\x27\x00\x00\x00\x29\x80KaZaA\x00\x00"), ErrNetwork, 0, "", 0, netip.AddrPort{}},
		{"ping name with space", ping("Ka ZaA"), ErrNetwork, 0, "", 0, netip.AddrPort{}},
		{"ping name too long", ping(strings.Repeat("a", 33)), ErrNetwork, 0, "", 0, netip.AddrPort{}},
		{"pong bad fixed byte", append([]byte{0x28, 0, 0, 0, 0x29, 0x01, 0, 0, 0, 0, 0}, "KaZaA\x00"...), ErrLayout, 0, "", 0, netip.AddrPort{}},
		{"pong2 bad flag", []byte{0x29, 0, 0, 0, 0x29, 1, 2, 0, 0, 1, 2, 3, 4}, ErrLayout, 0, "", 0, netip.AddrPort{}},
		{"pong2 flag without address", []byte{0x29, 0, 0, 0, 0x29, 1, 1, 0, 0, 1, 2, 3, 4}, ErrShort, 0, "", 0, netip.AddrPort{}},
		{"pong2 extra byte", append(pong2(false, sn), 0), ErrShort, 0, "", 0, netip.AddrPort{}},
		{"ack long", []byte{0x2a, 1, 2, 3, 4, 5}, ErrShort, 0, "", 0, netip.AddrPort{}},
	}
	for _, tt := range tests {
		m, err := parseUDP(tt.in)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if m.typ != tt.typ || string(m.network) != tt.network || m.load != tt.load || m.addr != tt.addr {
			t.Errorf("%s: %+v", tt.name, m)
		}
	}
}

// Every valid datagram cut short at any byte is rejected.
func TestParseUDPTruncated(t *testing.T) {
	for _, b := range [][]byte{ping("KaZaA"), pong("fileshare", 3), pong2(false, netip.AddrPort{}),
		pong2(true, netip.MustParseAddrPort("1.2.3.4:5")), {0x2a, 1, 2, 3, 4}} {
		for i := 0; i < len(b); i++ {
			if _, err := parseUDP(b[:i]); err == nil {
				t.Errorf("parseUDP(% x) accepted", b[:i])
			}
		}
	}
}

func TestParseGive(t *testing.T) {
	tests := []struct {
		in  string
		id  uint32
		n   int
		err error
	}{
		{"GIVE 4253679545\r\n", 4253679545, 17, nil},
		{"GIVE 0\r\nGET", 0, 8, nil},
		{"GIVE 4294967296\r\n", 0, 0, ErrGive},
		{"GIVE 12\n", 0, 0, ErrGive},
		{"GIVE \r\n", 0, 0, ErrGive},
		{"GIVE x\r\n", 0, 0, ErrGive},
		{"GIVEN 1\r\n", 0, 0, ErrGive},
		{"GIVE 12\rx", 0, 0, ErrGive},
		{"GIVE 12345678901\r\n", 0, 0, ErrGive},
	}
	for _, tt := range tests {
		id, n, err := parseGive([]byte(tt.in))
		if id != tt.id || n != tt.n || !errors.Is(err, tt.err) {
			t.Errorf("parseGive(%q) = %d, %d, %v", tt.in, id, n, err)
		}
	}
	full := "GIVE 4253679545\r\n"
	for i := 0; i < len(full); i++ {
		if _, n, err := parseGive([]byte(full[:i])); n != 0 || err != nil {
			t.Errorf("parseGive(%q) = %d, %v, want need more", full[:i], n, err)
		}
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in          string
		form, name  string
		hash        string
		index       uint32
		fileNameOut string
	}{
		{"/.hash=8E0CDA92DA564448DA5EC5070F3231907ABAC2A6", formHash, "", "8e0cda92da564448da5ec5070f3231907abac2a6", 0,
			"/.hash=8E0CDA92DA564448DA5EC5070F3231907ABAC2A6"},
		{"/13609/My%20Song.mp3", formIndex, "My Song.mp3", "", 13609, "My Song.mp3"},
		{"/13609/caf%E9.mp3", formIndex, "café.mp3", "", 13609, "café.mp3"},
		{"/.hash=8e0c", formOther, "", "", 0, "/.hash=8e0c"},
		{"/index.html", formOther, "", "", 0, "/index.html"},
		{"/12x/a", formOther, "", "", 0, "/12x/a"},
		{"/99999999999/a", formOther, "", "", 0, "/99999999999/a"},
		{"/1/", formOther, "", "", 0, "/1/"},
	}
	for _, tt := range tests {
		got := parseTarget([]byte(tt.in))
		if got.form != tt.form || got.name != tt.name || got.hash != tt.hash || got.index != tt.index || got.fileName() != tt.fileNameOut {
			t.Errorf("parseTarget(%q) = %+v", tt.in, got)
		}
	}
}

func TestParseTag(t *testing.T) {
	tests := []struct {
		in, name, value string
		ok              bool
	}{
		{"4=Song Title", "title", "Song Title", true},
		{"21=128", "bitrate", "128", true},
		{"3==jgzaktpWREjaXsUHDzIxkHq6wqY=", "hash", "8e0cda92da564448da5ec5070f3231907abac2a6", true},
		{"99=x", "tag_99", "x", true},
		{"3=jgza", "", "", false},
		{"3==AAAA", "", "", false},
		{"=x", "", "", false},
		{"a=x", "", "", false},
		{"1234567=x", "", "", false},
		{"26=\x01ok\xe9", "comment", "oké", true},
	}
	for _, tt := range tests {
		n, v, ok := parseTag([]byte(tt.in))
		if n != tt.name || v != tt.value || ok != tt.ok {
			t.Errorf("parseTag(%q) = %q, %q, %v", tt.in, n, v, ok)
		}
	}
}

func TestProduct(t *testing.T) {
	for in, want := range map[string]string{"KaZaA": "KaZaA", "fileshare": "iMesh", "grokster": "Grokster", "MusicCity": "MusicCity Morpheus", "x": ""} {
		if got := productOfNetwork(in); got != want {
			t.Errorf("productOfNetwork(%q) = %q", in, got)
		}
	}
	for in, want := range map[string]string{"KazaaClient Jan 29 2002": "KaZaA", "Morpheus 1.3": "MusicCity Morpheus", "giFT-FastTrack 0.8": "giFT-FastTrack", "Mozilla": ""} {
		if got := productOfClient(in); got != want {
			t.Errorf("productOfClient(%q) = %q", in, got)
		}
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name string
		dir  flow.Dir
		udp  bool
		in   string
		want classify.Result
	}{
		{"hash request line", flow.Orig, false, "GET /.hash=8e0cda92da564448da5ec5070f3231907abac2a6 HTTP/1.1\r\n", classify.Match},
		{"full kazaa request", flow.Orig, false, hashRequest, classify.Match},
		{"index request with username", flow.Orig, false, giveRequest, classify.Match},
		{"peerenabler", flow.Orig, false, "GET /1/a.mp3 HTTP/1.1\r\nUser-Agent: PeerEnabler/1.0\r\n\r\n", classify.Match},
		{"kazaa response", flow.Resp, false, hashResponse(), classify.Match},
		{"head request", flow.Orig, false, "HEAD /1/a HTTP/1.1\r\nX-Kazaa-Network: KaZaA\r\n\r\n", classify.Match},
		{"plain http", flow.Orig, false, "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n", classify.NoMatch},
		{"plain index-like http", flow.Orig, false, "GET /123/a.mp3 HTTP/1.1\r\nHost: a\r\n\r\n", classify.NoMatch},
		{"plain response", flow.Resp, false, "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", classify.NoMatch},
		{"marker in value only", flow.Orig, false, "GET / HTTP/1.1\r\nReferer: X-Kazaa-Username\r\n\r\n", classify.NoMatch},
		{"hash too short", flow.Orig, false, "GET /.hash=8e0c HTTP/1.1\r\n", classify.NeedMore},
		{"not http version", flow.Orig, false, "GET /.hash=8e0cda92da564448da5ec5070f3231907abac2a6 FOO\r\n", classify.NoMatch},
		{"partial head", flow.Orig, false, "GET /1/a.mp3 HTTP/1.1\r\nHost: a\r\n", classify.NeedMore},
		{"partial line", flow.Orig, false, "GET /1/a.mp3 HT", classify.NeedMore},
		{"post", flow.Orig, false, "POST /.hash=8e0cda92da564448da5ec5070f3231907abac2a6 HTTP/1.1\r\n", classify.NoMatch},
		{"give", flow.Orig, false, "GIVE 4253679545\r\n", classify.Match},
		{"give partial", flow.Orig, false, "GIVE 42", classify.NeedMore},
		{"give bad", flow.Orig, false, "GIVE me\r\n", classify.NoMatch},
		{"give from responder", flow.Resp, false, "GIVE 1\r\n", classify.NoMatch},
		{"udp ping", flow.Orig, true, string(ping("KaZaA")), classify.Match},
		{"udp pong", flow.Resp, true, string(pong("KaZaA", 1)), classify.Match},
		{"udp pong2", flow.Resp, true, string(pong2(false, netip.AddrPort{})), classify.Match},
		{"udp ack alone", flow.Orig, true, "\x2a\x01\x02\x03\x04", classify.NoMatch},
		{"udp garbage", flow.Orig, true, "\x27\x00\x00\x00\x29\x80\x01\x02", classify.NoMatch},
		{"tcp 0x27", flow.Orig, false, string(ping("KaZaA")), classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Dir: tt.dir, Data: []byte(tt.in), UDP: tt.udp}
		if got := probe(&in); got != tt.want {
			t.Errorf("%s: probe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// sessionSteps replays the classifier's calls for a session: each step is
// the direction that just received bytes and both directions' totals.
func sessionSteps(t *testing.T, steps [][2]int, dirs []flow.Dir, data [2][]byte, mid bool) classify.Result {
	t.Helper()
	for i, st := range steps {
		in := classify.Input{Dir: dirs[i], MidStream: mid}
		o, r := data[0][:st[0]], data[1][:st[1]]
		in.Data, in.Other = o, r
		if dirs[i] == flow.Resp {
			in.Data, in.Other = r, o
		}
		res := probeSession(&in)
		if res != classify.NeedMore || i == len(steps)-1 {
			return res
		}
	}
	return classify.NeedMore
}

func TestProbeSession(t *testing.T) {
	r := prng(99)
	random := [2][]byte{r.bytes(400), r.bytes(400)}
	text := [2][]byte{[]byte(strings.Repeat("HELLO there, general kenobi. ", 20)), []byte(strings.Repeat("OK fine and you? ", 30))}
	zeros := [2][]byte{append(r.bytes(12), make([]byte, 300)...), append(r.bytes(8), make([]byte, 300)...)}
	O, R := flow.Orig, flow.Resp
	tests := []struct {
		name  string
		data  [2][]byte
		steps [][2]int
		dirs  []flow.Dir
		mid   bool
		want  classify.Result
	}{
		{"spec opening", random, [][2]int{{12, 0}, {12, 8}, {12, 14}, {18, 14}, {18, 314}}, []flow.Dir{O, R, R, O, R}, false, classify.Match},
		{"server coalesced", random, [][2]int{{12, 0}, {12, 100}}, []flow.Dir{O, R}, false, classify.Match},
		{"client split", random, [][2]int{{5, 0}, {12, 0}, {12, 8}, {80, 8}}, []flow.Dir{O, O, R, O}, false, classify.Match},
		{"not enough yet", random, [][2]int{{12, 0}, {12, 8}, {20, 8}}, []flow.Dir{O, R, O}, false, classify.NeedMore},
		{"client sent 13", random, [][2]int{{13, 0}}, []flow.Dir{O}, false, classify.NoMatch},
		{"client did not wait", random, [][2]int{{12, 0}, {12, 4}, {20, 4}}, []flow.Dir{O, R, O}, false, classify.NoMatch},
		{"server first", random, [][2]int{{0, 8}}, []flow.Dir{R}, false, classify.NoMatch},
		{"server early", random, [][2]int{{6, 0}, {6, 8}}, []flow.Dir{O, R}, false, classify.NoMatch},
		{"mid-stream", random, [][2]int{{12, 0}}, []flow.Dir{O}, true, classify.NoMatch},
		{"text", text, [][2]int{{12, 0}, {12, 200}}, []flow.Dir{O, R}, false, classify.NoMatch},
		{"low entropy after opening", zeros, [][2]int{{12, 0}, {12, 200}}, []flow.Dir{O, R}, false, classify.NoMatch},
	}
	for _, tt := range tests {
		if got := sessionSteps(t, tt.steps, tt.dirs, tt.data, tt.mid); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if in := (classify.Input{UDP: true, Data: random[0][:12]}); probeSession(&in) != classify.NoMatch {
		t.Error("UDP accepted")
	}
}

func TestEntropy(t *testing.T) {
	r := prng(7)
	if h := entropy(r.bytes(64)); h < minEntropy {
		t.Errorf("random: %.2f", h)
	}
	if h := entropy([]byte(strings.Repeat("abcdefgh", 8))); h != 3 {
		t.Errorf("8 symbols: %.2f, want 3", h)
	}
	if entropy(nil) != 0 || entropy(make([]byte, 64)) != 0 {
		t.Error("constant input has entropy")
	}
}

func TestProbeAllocs(t *testing.T) {
	r := prng(3)
	inputs := []classify.Input{
		{Dir: flow.Orig, Data: []byte(hashRequest)},
		{Dir: flow.Resp, Data: []byte(hashResponse())},
		{Dir: flow.Orig, Data: []byte(giveRequest)},
		{Dir: flow.Orig, Data: []byte("GIVE 4253679545\r\n")},
		{Dir: flow.Orig, UDP: true, Data: ping("KaZaA")},
	}
	for i := range inputs {
		if n := testing.AllocsPerRun(100, func() { probe(&inputs[i]) }); n != 0 {
			t.Errorf("probe %d allocates %v times", i, n)
		}
	}
	s := classify.Input{Dir: flow.Resp, Data: r.bytes(200), Other: r.bytes(12)}
	if n := testing.AllocsPerRun(100, func() { probeSession(&s) }); n != 0 {
		t.Errorf("probeSession allocates %v times", n)
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Dir: flow.Orig, Data: []byte(hashRequest)}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

func BenchmarkProbePlainHTTP(b *testing.B) {
	in := classify.Input{Dir: flow.Orig, Data: []byte("GET /index.html HTTP/1.1\r\nHost: example.org\r\nUser-Agent: Mozilla/4.0\r\nAccept: */*\r\n\r\n")}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

func BenchmarkProbeSession(b *testing.B) {
	r := prng(3)
	in := classify.Input{Dir: flow.Resp, Data: r.bytes(200), Other: r.bytes(12)}
	b.ReportAllocs()
	for b.Loop() {
		probeSession(&in)
	}
}

type msg struct {
	dir  flow.Dir
	data string
}

var download = []msg{
	{flow.Orig, hashRequest},
	{flow.Resp, hashResponse() + string(mp3)},
}

var push = []msg{
	{flow.Orig, "GIVE 4253679545\r\n"},
	{flow.Resp, giveRequest},
	{flow.Orig, giveResponse() + string(giveFile)},
}

// run feeds a conversation to a fresh fasttrack Conn, each message split
// at split (0: whole), and ends the flow.
func run(t *testing.T, msgs []msg, split int, udp bool) *analyzer.Recorder {
	rec := analyzer.NewRecorder()
	rec.F.Orig, rec.F.Resp = netip.MustParseAddrPort("192.168.1.20:3457"), uploader
	if udp {
		rec.F.Proto = ipProtoUDP
	}
	spec, _ := analyzer.Lookup("fasttrack")
	c := spec.New(rec.Session(&spec))
	fd := &analyzer.Feeder{Conn: c}
	feed := func(dir flow.Dir, b []byte) {
		if udp {
			c.Feed(dir, b)
			return
		}
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

func kinds(rec *analyzer.Recorder) []event.Kind {
	var k []event.Kind
	for _, e := range rec.Events {
		k = append(k, e.Kind)
		if e.Fields["bundled_spyware"] != true {
			t := e.Kind
			panic("event without bundled_spyware: " + string(t))
		}
	}
	return k
}

func TestDownload(t *testing.T) {
	rec := run(t, download, 0, false)
	if !rec.Confirmed || rec.Service != "kazaa" || rec.Product != "KaZaA" {
		t.Errorf("confirmed %v service %q product %q", rec.Confirmed, rec.Service, rec.Product)
	}
	want := []event.Kind{event.Login, event.Direct, event.File, event.Login, event.Direct, event.File}
	if got := kinds(rec); !reflect.DeepEqual(got, want) {
		t.Fatalf("kinds %v, want %v", got, want)
	}
	if l := rec.Events[0].Login; l.User != "alice2002" || l.Client != "KazaaClient Jan 29 2002 18:51:10" {
		t.Errorf("login %+v", l)
	}
	if d := rec.Events[1].Direct; len(d.Addrs) != 2 || d.Addrs[0].String() != "192.168.1.20:1214" || d.Addrs[1].String() != "203.0.113.5:1214" {
		t.Errorf("direct %+v", d)
	}
	req := rec.Events[2]
	if req.File.Hash != "fasttrack:8e0cda92da564448da5ec5070f3231907abac2a6" || req.File.Outcome != event.Pending || req.Fields["xfer_id"] != "2736198" {
		t.Errorf("request %+v %v", req.File, req.Fields)
	}
	resp := rec.Events[5]
	tags, _ := resp.Fields["tags"].(map[string]string)
	if tags["title"] != "Song Title" || tags["artist"] != "Some Artist" || tags["hash"] != "8e0cda92da564448da5ec5070f3231907abac2a6" || tags["bitrate"] != "128" {
		t.Errorf("tags %v", tags)
	}
	if resp.Users != (event.Users{Local: "alice2002", Peer: "bob_shares"}) || resp.File.Size != int64(len(mp3)) || resp.File.Outcome != event.Accepted {
		t.Errorf("response %+v %+v", resp.Users, resp.File)
	}
	if len(rec.Files) != 1 {
		t.Fatalf("files %d", len(rec.Files))
	}
	f := rec.Files[0].Record()
	if f.State != "CLOSED" || f.Size != int64(len(mp3)) || f.Filename != "/.hash=8e0cda92da564448da5ec5070f3231907abac2a6" || f.SHA256 == "" {
		t.Errorf("file %+v", f)
	}
	if rec.Files[0].Type() != "audio" {
		t.Errorf("file type %q", rec.Files[0].Type())
	}
}

func TestPush(t *testing.T) {
	rec := run(t, push, 0, false)
	want := []event.Kind{event.Direct, event.Login, event.File, event.Login, event.File}
	if got := kinds(rec); !reflect.DeepEqual(got, want) {
		t.Fatalf("kinds %v, want %v", got, want)
	}
	if e := rec.Events[0]; e.Feature != event.Push || e.Fields["push_id"] != uint32(4253679545) || e.Direct.Addrs[0] != rec.F.Orig {
		t.Errorf("give %+v", e)
	}
	if rec.Product != "Grokster" {
		t.Errorf("product %q", rec.Product)
	}
	if e := rec.Events[2]; e.File.Name != "Some Artist - Song.mp3" || e.Dir != flow.Resp || e.Fields["file_index"] != uint32(13609) {
		t.Errorf("request %+v", e)
	}
	if e := rec.Events[4]; e.File.Size != int64(3*len(giveFile)) || e.Users.Local != "dave" || e.Users.Peer != "carol" {
		t.Errorf("response %+v %+v", e.File, e.Users)
	}
	if len(rec.Files) != 1 || !rec.Files[0].Mismatch() || rec.Files[0].Record().State != "CLOSED" {
		t.Errorf("file: %d files", len(rec.Files))
	}
}

func TestDiscovery(t *testing.T) {
	sn := netip.MustParseAddrPort("203.0.113.6:1214")
	rec := run(t, []msg{{flow.Orig, string(ping("fileshare"))}, {flow.Resp, string(pong("fileshare", 7))},
		{flow.Resp, string(pong2(true, sn))}, {flow.Orig, "\x2a\x01\x02\x03\x04"}, {flow.Orig, "\x99junk"}, {flow.Orig, "\x27junk"}}, 0, true)
	if got := kinds(rec); !reflect.DeepEqual(got, []event.Kind{event.Direct, event.Direct, event.Direct}) {
		t.Fatalf("kinds %v", got)
	}
	if rec.Product != "iMesh" || !rec.Confirmed {
		t.Errorf("product %q", rec.Product)
	}
	if e := rec.Events[1]; e.Fields["network"] != "fileshare" || e.Fields["load"] != 7 || e.Direct.Outcome != event.Success {
		t.Errorf("pong %+v", e)
	}
	if e := rec.Events[2]; e.Direct.Addrs[0] != sn || e.Direct.Outcome != event.Refused {
		t.Errorf("pong2 %+v", e.Direct)
	}
	if len(rec.Anomalies) != 2 {
		t.Errorf("anomalies %v", rec.Anomalies)
	}
}

// Every 2-way split of every message gives the same events and files.
func TestConnSplit(t *testing.T) {
	for _, conv := range [][]msg{download, push} {
		whole := run(t, conv, 0, false)
		for split := 1; split < 700; split++ {
			got := run(t, conv, split, false)
			if !reflect.DeepEqual(got.Events, whole.Events) {
				t.Fatalf("split at %d: events differ:\n%+v\nwant\n%+v", split, got.Events, whole.Events)
			}
			if len(got.Files) != 1 || got.Files[0].Record() != whole.Files[0].Record() {
				t.Fatalf("split at %d: file differs", split)
			}
		}
	}
}

func TestPlainHTTPRejected(t *testing.T) {
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("fasttrack")
	c := spec.New(rec.Session(&spec))
	if _, err := c.Feed(flow.Orig, []byte("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab")); err != nil {
		t.Fatal(err)
	}
	if rec.Confirmed {
		t.Error("a request without X-Kazaa headers confirmed the flow")
	}
	if _, err := c.Feed(flow.Resp, []byte("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")); !errors.Is(err, ErrHTTPHead) {
		t.Errorf("bad head: %v", err)
	}
}

func TestGap(t *testing.T) {
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("fasttrack")
	c := spec.New(rec.Session(&spec))
	c.Feed(flow.Orig, []byte(hashRequest))
	resp := []byte(hashResponse() + string(mp3))
	head := len(hashResponse())
	c.Feed(flow.Resp, resp[:head+100])
	c.(analyzer.GapHandler).Gap(flow.Resp, 500)
	c.Feed(flow.Resp, resp[head+600:])
	if len(rec.Files) != 1 {
		t.Fatalf("files %d", len(rec.Files))
	}
	if f := rec.Files[0].Record(); !f.Gaps || f.SHA1 != "" || f.State != "CLOSED" {
		t.Errorf("file %+v", f)
	}
	c.(analyzer.GapHandler).Gap(flow.Resp, 10)
	if len(rec.Anomalies) != 1 {
		t.Errorf("anomalies %v", rec.Anomalies)
	}
}

func TestSession(t *testing.T) {
	rec := analyzer.NewRecorder()
	rec.F.Orig, rec.F.Resp = client, supernode
	spec, _ := analyzer.Lookup("fasttrack_session")
	c := spec.New(rec.Session(&spec))
	if !rec.Tentatively || rec.Service != "kazaa" || rec.Confirmed {
		t.Fatalf("tentative %v service %q confirmed %v", rec.Tentatively, rec.Service, rec.Confirmed)
	}
	r := prng(5)
	c.Feed(flow.Orig, append([]byte{0xfa, 0x00, 0xb6}, 0x2b))
	c.Feed(flow.Orig, r.bytes(8))
	c.Feed(flow.Resp, r.bytes(30))
	c.Feed(flow.Orig, r.bytes(30))
	if len(rec.Events) != 1 || rec.Events[0].Fields["client"] != "giFT-FastTrack" || rec.Product != "giFT-FastTrack" {
		t.Fatalf("events %+v product %q", rec.Events, rec.Product)
	}
	if rec.Confirmed {
		t.Error("an encrypted session confirmed")
	}
}

func FuzzParseUDP(f *testing.F) {
	f.Add(ping("KaZaA"))
	f.Add(pong("Grokster", 1))
	f.Add(pong2(true, netip.MustParseAddrPort("1.2.3.4:5")))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseUDP(b)
		if err == nil && m.network != nil && !validNetwork(m.network) {
			t.Fatalf("invalid name accepted: %q", m.network)
		}
	})
}

func FuzzHeaders(f *testing.F) {
	f.Add(hashRequest, hashResponse())
	f.Add(giveRequest, giveResponse())
	f.Add("GET /1/a HTTP/1.1\r\nX-KazaaTag: 3==AAAA\r\nX-Kazaa-IP: x\r\n\r\n", "HTTP/1.1 200 OK\r\nX-KazaaTag: 4=\xff\xfe\r\n\r\n")
	f.Fuzz(func(t *testing.T, req, resp string) {
		rec := analyzer.NewRecorder()
		spec, _ := analyzer.Lookup("fasttrack")
		c := spec.New(rec.Session(&spec))
		c.Feed(flow.Orig, []byte(req))
		c.Feed(flow.Resp, []byte(resp))
		c.(analyzer.Ender).End(flow.EndClosed)
		parseTag([]byte(req))
		parseTarget([]byte(resp))
		parseAddr([]byte(req))
	})
}

func FuzzProbeSession(f *testing.F) {
	r := prng(1)
	f.Add(r.bytes(12), r.bytes(80), true)
	f.Add([]byte("HELLO\r\n"), []byte("hi"), false)
	f.Fuzz(func(t *testing.T, orig, resp []byte, fromResp bool) {
		in := classify.Input{Dir: flow.Orig, Data: orig, Other: resp}
		if fromResp {
			in = classify.Input{Dir: flow.Resp, Data: resp, Other: orig}
		}
		if probeSession(&in) == classify.Match && (len(orig) < clientOpening || len(resp) < serverOpening) {
			t.Fatal("matched without both openings")
		}
		if h := entropy(orig); h < 0 || h > 8 {
			t.Fatalf("entropy %v", h)
		}
	})
}

func FuzzProbe(f *testing.F) {
	f.Add([]byte(hashRequest), false, false)
	f.Add([]byte(hashResponse()), true, false)
	f.Add([]byte("GIVE 1\r\n"), false, false)
	f.Add(ping("KaZaA"), false, true)
	f.Fuzz(func(t *testing.T, data []byte, resp, udp bool) {
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		in := classify.Input{Dir: dir, Data: data, UDP: udp}
		if probe(&in) == classify.Match && !udp && !strings.Contains(strings.ToLower(string(data)), "x-kazaa") &&
			!strings.Contains(string(data), "/.hash=") && !strings.HasPrefix(string(data), "GIVE ") &&
			!strings.Contains(string(data), "PeerEnabler/") {
			t.Fatalf("matched without a marker: %q", data)
		}
	})
}

func FuzzConnFeed(f *testing.F) {
	for _, m := range append(download, push...) {
		f.Add([]byte(m.data), m.dir == flow.Resp, false)
	}
	f.Add(ping("KaZaA"), false, true)
	f.Fuzz(func(t *testing.T, data []byte, resp, udp bool) {
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		rec := analyzer.NewRecorder()
		if udp {
			rec.F.Proto = ipProtoUDP
		}
		spec, _ := analyzer.Lookup("fasttrack")
		c := spec.New(rec.Session(&spec))
		n, _ := c.Feed(dir, data)
		if n < 0 || n > len(data) {
			t.Fatalf("Feed consumed %d of %d", n, len(data))
		}
		c.(analyzer.GapHandler).Gap(dir, 3)
		c.Feed(dir, data)
		c.(analyzer.Ender).End(flow.EndClosed)
		s, _ := analyzer.Lookup("fasttrack_session")
		sc := s.New(rec.Session(&s))
		if n, _ := sc.Feed(dir, data); n != len(data) {
			t.Fatalf("session consumed %d of %d", n, len(data))
		}
	})
}

func TestCapture(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "fasttrack.pcap"), buildCapture())
	golden.Check(t, filepath.Join("testdata", "fasttrack-session.pcap"), buildLoneSession())
}

func TestGolden(t *testing.T) {
	pcaptest.Golden(t, "fasttrack.pcap", false)
	pcaptest.Golden(t, "fasttrack-session.pcap", false)
	pcaptest.Golden(t, "peafowl__skype-irc-fasttrack.pcap", false)
}

// TestCorroboration checks the end-to-end contract of the session analyzer:
// a session whose hosts also showed FastTrack by payload (the UDP ping/pong
// with the same supernode) is labelled kazaa with evidence "corroboration";
// a lone session is written unclassified, its events dropped.
func TestCorroboration(t *testing.T) {
	recs, _, err := pcaptest.Analyze([]string{filepath.Join("testdata", "fasttrack.pcap")}, pcaptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs {
		if r.Type != event.TypeFlow || r.Src != client || r.Dst != supernode || r.Proto != "TCP" {
			continue
		}
		found = true
		if r.AppProto != "fasttrack_session" || r.PW == nil || r.PW.Service != "kazaa" || !slices.Contains(r.PW.Evidence, "corroboration") {
			t.Errorf("corroborated session: app_proto %q peerwatch %+v", r.AppProto, r.PW)
		}
	}
	if !found {
		t.Error("no flow record for the corroborated session")
	}
	recs, _, err = pcaptest.Analyze([]string{filepath.Join("testdata", "fasttrack-session.pcap")}, pcaptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Type != event.TypeFlow {
			t.Errorf("lone session: %s record written", r.Type)
			continue
		}
		if r.AppProto != "" || (r.PW != nil && r.PW.Service != "") {
			t.Errorf("lone session labelled: app_proto %q peerwatch %+v", r.AppProto, r.PW)
		}
	}
}
