package socks

import (
	"net/netip"
	"os"
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

	_ "github.com/peerwatch/peerwatch/proto/http" // the tunnelled protocol of most real captures
	_ "github.com/peerwatch/peerwatch/proto/msnp" // the tunnelled protocol of socks5-msn.pcap
)

type msg struct {
	dir  flow.Dir
	data string
}

// sessions are handshakes followed by tunnelled bytes ("TUNNEL...").
var sessions = map[string][]msg{
	"socks5-userpass": {{flow.Orig, greet}, {flow.Resp, choose2}, {flow.Orig, userpass}, {flow.Resp, authOK},
		{flow.Orig, req5dom}, {flow.Resp, rep5}, {flow.Orig, "VER 1 MSNP7 MSNP6 CVR0\r\n"}, {flow.Resp, "VER 1 MSNP7\r\n"}},
	"socks5-pipelined": {{flow.Orig, "\x05\x01\x00" + req5v4 + "\x03\x00\x00\x13"}, {flow.Resp, "\x05\x00" + rep5 + "\x03\x00\x00\x0b"}},
	"socks4a":          {{flow.Orig, req4a}, {flow.Resp, rep4}, {flow.Orig, "\x16\x03\x01"}},
	"socks4-refused":   {{flow.Orig, req4}, {flow.Resp, "\x00\x5b\x00\x00\x00\x00\x00\x00"}},
	"socks5-noauth":    {{flow.Orig, "\x05\x01\x02"}, {flow.Resp, "\x05\xff"}},
	"socks5-badpass":   {{flow.Orig, greet}, {flow.Resp, choose2}, {flow.Orig, userpass}, {flow.Resp, "\x01\x01"}},
	"socks5-udp":       {{flow.Orig, "\x05\x01\x00"}, {flow.Resp, "\x05\x00"}, {flow.Orig, req5v6}, {flow.Resp, rep5}},
	"socks5-failure":   {{flow.Orig, "\x05\x01\x00"}, {flow.Resp, "\x05\x00"}, {flow.Orig, req5v4}, {flow.Resp, "\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00"}},
}

func feed(t testing.TB, c analyzer.Conn, dir flow.Dir, data []byte, pend *[2][]byte) {
	buf := append(append([]byte(nil), pend[dir]...), data...)
	n, err := c.Feed(dir, buf)
	if err != nil {
		t.Fatalf("Feed(%v, %q): %v", dir, buf, err)
	}
	pend[dir] = buf[n:]
}

// run feeds a session, each message split at split (0: whole), and
// stops at a Reclassify as the engine does.
func run(t testing.TB, ms []msg, split int, reveal bool) *analyzer.Recorder {
	rec := analyzer.NewRecorder()
	rec.Opts.RevealCredentials = reveal
	spec, _ := analyzer.Lookup("socks")
	c := spec.New(rec.Session(&spec))
	var pend [2][]byte
	for _, m := range ms {
		parts := []string{m.data}
		if split > 0 && split < len(m.data) {
			parts = []string{m.data[:split], m.data[split:]}
		}
		for _, p := range parts {
			if len(rec.Reclassed) > 0 {
				return rec
			}
			feed(t, c, m.dir, []byte(p), &pend)
		}
	}
	return rec
}

func TestConnSessions(t *testing.T) {
	tests := []struct {
		name    string
		kinds   []event.Kind
		tunnel  event.TunnelInfo
		fields  map[string]any
		reclass [][2]int
	}{
		{"socks5-userpass", []event.Kind{event.Credential, event.Tunnel},
			event.TunnelInfo{Kind: "socks5", Target: "messenger.hotmail.com:1863", Outcome: event.Success},
			map[string]any{"command": "connect", "auth_method": "username_password", "auth_status": "success", "user": "corpuser", "reply": "succeeded"},
			[][2]int{{len(greet) + len(userpass) + len(req5dom), len(choose2) + len(authOK) + len(rep5)}}},
		{"socks5-pipelined", []event.Kind{event.Tunnel},
			event.TunnelInfo{Kind: "socks5", Target: "10.0.0.1:3389", Outcome: event.Success},
			map[string]any{"command": "connect", "auth_method": "none", "reply": "succeeded"},
			[][2]int{{3 + len(req5v4), 2 + len(rep5)}}},
		{"socks4a", []event.Kind{event.Tunnel},
			event.TunnelInfo{Kind: "socks4a", Target: "login.live.com:443", Outcome: event.Success},
			map[string]any{"command": "connect", "userid": "fd7b", "reply": "granted"},
			[][2]int{{len(req4a), 8}}},
		{"socks4-refused", []event.Kind{event.Tunnel},
			event.TunnelInfo{Kind: "socks4", Target: "93.184.216.119:80", Outcome: event.Refused},
			map[string]any{"command": "connect", "userid": "alice", "reply": "rejected"}, nil},
		{"socks5-noauth", []event.Kind{event.Tunnel},
			event.TunnelInfo{Kind: "socks5", Outcome: event.Refused},
			map[string]any{"auth_method": "no_acceptable_methods", "reply": "no_acceptable_methods"}, nil},
		{"socks5-badpass", []event.Kind{event.Credential, event.Tunnel},
			event.TunnelInfo{Kind: "socks5", Outcome: event.Refused},
			map[string]any{"auth_method": "username_password", "auth_status": "failure", "user": "corpuser", "reply": "authentication_failed"}, nil},
		{"socks5-udp", []event.Kind{event.Tunnel},
			event.TunnelInfo{Kind: "socks5", Target: "[2001:db8::1]:53", Outcome: event.Success},
			map[string]any{"command": "udp_associate", "auth_method": "none", "reply": "succeeded", "bnd_addr": "192.0.2.1:1080"}, nil},
		{"socks5-failure", []event.Kind{event.Tunnel},
			event.TunnelInfo{Kind: "socks5", Target: "10.0.0.1:3389", Outcome: event.Failure},
			map[string]any{"command": "connect", "auth_method": "none", "reply": "connection_refused"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := run(t, sessions[tt.name], 0, false)
			if !rec.Confirmed {
				t.Error("not confirmed")
			}
			var kinds []event.Kind
			for _, e := range rec.Events {
				kinds = append(kinds, e.Kind)
			}
			if !reflect.DeepEqual(kinds, tt.kinds) {
				t.Fatalf("kinds %v, want %v", kinds, tt.kinds)
			}
			last := rec.Events[len(rec.Events)-1]
			if *last.Tunnel != tt.tunnel || !reflect.DeepEqual(last.Fields, tt.fields) {
				t.Errorf("tunnel %+v %v, want %+v %v", *last.Tunnel, last.Fields, tt.tunnel, tt.fields)
			}
			if !reflect.DeepEqual(rec.Reclassed, tt.reclass) {
				t.Errorf("reclassify %v, want %v", rec.Reclassed, tt.reclass)
			}
			if kinds[0] == event.Credential {
				ci := rec.Events[0].Credential
				if ci.Class != event.Plaintext || ci.User != "corpuser" || ci.Secret != "" || ci.Masked == "" || ci.Fingerprint == "" {
					t.Errorf("credential %+v", ci)
				}
				if got := run(t, sessions[tt.name], 0, true).Events[0].Credential.Secret; got != "proxypass1" {
					t.Errorf("revealed secret %q", got)
				}
			}
		})
	}
}

// Every 2-way split of every message gives the same events and the same
// Reclassify offsets.
func TestConnSplit(t *testing.T) {
	for name, ms := range sessions {
		whole := run(t, ms, 0, false)
		for split := 1; split < 40; split++ {
			got := run(t, ms, split, false)
			if !reflect.DeepEqual(got.Events, whole.Events) || !reflect.DeepEqual(got.Reclassed, whole.Reclassed) {
				t.Fatalf("%s split at %d: %+v %v, want %+v %v", name, split, got.Events, got.Reclassed, whole.Events, whole.Reclassed)
			}
		}
	}
}

func TestConnErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		ms   []msg
	}{
		{"proxy first", []msg{{flow.Resp, "\x05\x00"}}},
		{"bad version", []msg{{flow.Orig, "\x06\x01\x00"}}},
		{"method not offered", []msg{{flow.Orig, "\x05\x01\x00"}, {flow.Resp, "\x05\x02"}}},
		{"bad request", []msg{{flow.Orig, "\x05\x01\x00"}, {flow.Resp, "\x05\x00"}, {flow.Orig, "\x05\x01\x00\x07"}}},
		{"bad reply", []msg{{flow.Orig, req4}, {flow.Resp, "\x00\x10"}}},
	} {
		rec := analyzer.NewRecorder()
		spec, _ := analyzer.Lookup("socks")
		c := spec.New(rec.Session(&spec))
		var err error
		for _, m := range tt.ms {
			if _, err = c.Feed(m.dir, []byte(m.data)); err != nil {
				break
			}
		}
		if err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name     string
		dir      flow.Dir
		data     string
		other    string
		midOrUDP bool
		want     classify.Result
	}{
		{"socks4 request alone", flow.Orig, req4, "", false, classify.NeedMore},
		{"socks4 partial request", flow.Orig, req4[:6], "", false, classify.NeedMore},
		{"socks4 with reply", flow.Orig, req4, rep4, false, classify.Match},
		{"socks4 reply side", flow.Resp, rep4, req4a, false, classify.Match},
		{"socks4 partial reply", flow.Resp, rep4[:5], req4, false, classify.NeedMore},
		{"socks4 bad reply", flow.Resp, "\x00\x5a\x00", req4[:5], false, classify.NeedMore},
		{"socks4 reply wrong code", flow.Resp, "\x00\x10\x00\x00\x00\x00\x00\x00", req4, false, classify.NoMatch},
		{"proxy speaks first", flow.Resp, "\x05\x00", "", false, classify.NoMatch},
		{"greeting alone", flow.Orig, "\x05\x01\x00", "", false, classify.NeedMore},
		{"greeting + choice only", flow.Resp, "\x05\x00", "\x05\x01\x00", false, classify.NeedMore},
		{"greeting + request", flow.Orig, "\x05\x01\x00" + req5v4, "\x05\x00", false, classify.NeedMore},
		{"full no-auth", flow.Resp, "\x05\x00" + rep5, "\x05\x01\x00" + req5v4, false, classify.Match},
		{"reply head only", flow.Resp, "\x05\x00\x05\x00\x00\x03", "\x05\x01\x00" + req5dom, false, classify.Match},
		{"bad reply head", flow.Resp, "\x05\x00\x05\x00\x00\x07", "\x05\x01\x00" + req5dom, false, classify.NoMatch},
		{"userpass", flow.Resp, choose2 + authOK, greet + userpass, false, classify.Match},
		{"userpass partial", flow.Orig, greet + userpass[:5], choose2, false, classify.NeedMore},
		{"no acceptable", flow.Resp, "\x05\xff", "\x05\x01\x02", false, classify.Match},
		{"no acceptable then data", flow.Resp, "\x05\xff\x00", "\x05\x01\x02", false, classify.NoMatch},
		{"method not offered", flow.Resp, "\x05\x02", "\x05\x01\x00", false, classify.NoMatch},
		{"gssapi", flow.Resp, "\x05\x01\x01\x01", "\x05\x01\x01\x01\x01\x00\x04", false, classify.Match},
		{"gssapi wrong", flow.Resp, "\x05\x01\x02", "\x05\x01\x01\x01", false, classify.NoMatch},
		{"bad method", flow.Orig, "\x05\x01\x50", "", false, classify.NoMatch},
		{"tls", flow.Orig, "\x16\x03\x01\x00\xa5", "", false, classify.NoMatch},
		{"midstream", flow.Orig, req4, rep4, true, classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Dir: tt.dir, Data: []byte(tt.data), Other: []byte(tt.other), MidStream: tt.midOrUDP}
		if got := probe(&in); got != tt.want {
			t.Errorf("%s: probe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	in := classify.Input{Dir: flow.Resp, Data: []byte(choose2 + authOK), Other: []byte(greet + userpass)}
	in4 := classify.Input{Dir: flow.Orig, Data: []byte(req4a), Other: []byte(rep4)}
	if n := testing.AllocsPerRun(100, func() { probe(&in); probe(&in4) }); n != 0 {
		t.Fatalf("probe allocates %v times", n)
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Dir: flow.Resp, Data: []byte("\x05\x00" + rep5), Other: []byte("\x05\x01\x00" + req5dom)}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

func FuzzProbe(f *testing.F) {
	for _, ms := range sessions {
		f.Add([]byte(ms[0].data), []byte(ms[1].data), false)
	}
	f.Fuzz(func(t *testing.T, cli, srv []byte, resp bool) {
		in := classify.Input{Data: cli, Other: srv}
		if resp {
			in = classify.Input{Dir: flow.Resp, Data: srv, Other: cli}
		}
		probe(&in)
	})
}

func FuzzConnFeed(f *testing.F) {
	for _, ms := range sessions {
		var cli, srv []byte
		for _, m := range ms {
			if m.dir == flow.Orig {
				cli = append(cli, m.data...)
			} else {
				srv = append(srv, m.data...)
			}
		}
		f.Add(cli, srv, uint8(3))
	}
	f.Fuzz(func(t *testing.T, cli, srv []byte, chunk uint8) {
		rec := analyzer.NewRecorder()
		spec, _ := analyzer.Lookup("socks")
		c := spec.New(rec.Session(&spec))
		step := int(chunk%16) + 1
		var pend [2][]byte
		for i := 0; i < len(cli) || i < len(srv); i += step {
			for d, b := range [2][]byte{cli, srv} {
				if i >= len(b) || len(rec.Reclassed) > 0 {
					continue
				}
				buf := append(append([]byte(nil), pend[d]...), b[i:min(i+step, len(b))]...)
				n, err := c.Feed(flow.Dir(d), buf)
				if n < 0 || n > len(buf) {
					t.Fatalf("Feed consumed %d of %d", n, len(buf))
				}
				if err != nil {
					return
				}
				pend[d] = buf[n:]
			}
		}
		for _, r := range rec.Reclassed {
			if r[0] > len(cli) || r[1] > len(srv) {
				t.Fatalf("reclassify %v past the streams %d/%d", r, len(cli), len(srv))
			}
		}
	})
}

// proxyAddr is the SOCKS proxy of the synthetic capture: not the hint port.
var proxyAddr = netip.MustParseAddrPort("203.0.113.5:1081")

// buildMSN writes socks5-msn.pcap: an MSN Messenger client logging in
// through a SOCKS5 proxy with RFC 1929 authentication (proxies.md §2,
// issue 6 item 6), an MSNP7 MD5 login inside the tunnel.
func buildMSN() []byte {
	w := pcaptest.NewWriter()
	t0 := time.Date(2002, 6, 1, 9, 0, 0, 0, time.UTC)
	c := w.TCP(t0, netip.MustParseAddrPort("192.168.1.20:1042"), proxyAddr)
	c.Handshake()
	for _, m := range []msg{
		{flow.Orig, greet}, {flow.Resp, choose2}, {flow.Orig, userpass}, {flow.Resp, authOK},
		{flow.Orig, req5dom}, {flow.Resp, "\x05\x00\x00\x01\x40\x04\x0d\x4a\x07\x47"},
		{flow.Orig, "VER 1 MSNP7 MSNP6 CVR0\r\n"},
		{flow.Resp, "VER 1 MSNP7\r\n"},
		{flow.Orig, "CVR 2 0x0409 win 4.10 i386 MSNMSGR 4.6.0082 MSMSGS alice@hotmail.com\r\n"},
		{flow.Resp, "CVR 2 4.6.0082 4.6.0082 4.5.0127 http://download.microsoft.com/download/msnmessenger/install/4.6/win98me/en-us/mmssetup.exe http://messenger.microsoft.com\r\n"},
		{flow.Orig, "USR 3 MD5 I alice@hotmail.com\r\n"},
		{flow.Resp, "USR 3 MD5 S 1013928519.693957190\r\n"},
		{flow.Orig, "USR 4 MD5 S 23f6d5e8b8a3e5e0f9a74f4fe6b0d4c1\r\n"},
		{flow.Resp, "USR 4 OK alice@hotmail.com Alice\r\n"},
	} {
		c.Send(int(m.dir), []byte(m.data))
	}
	c.Close()
	return w.Bytes()
}

func TestCapture(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "socks5-msn.pcap"), buildMSN())
}

// TestMSNThroughSOCKS checks the inner MSNP login carries the tunnel.
func TestMSNThroughSOCKS(t *testing.T) {
	lines := pcaptest.Golden(t, "socks5-msn.pcap", false)
	pcaptest.Golden(t, "socks5-msn.pcap", true)
	found := false
	for _, l := range strings.Split(string(lines), "\n") {
		if !strings.Contains(l, `"event_type":"msnp"`) || !strings.Contains(l, `"kind":"login"`) || !strings.Contains(l, "alice@hotmail.com") {
			continue
		}
		found = true
		for _, want := range []string{`"app_proto":"msnp"`, `"app_proto_orig":"socks"`,
			`"proxy":{"kind":"socks","addr":"203.0.113.5:1081","target":"messenger.hotmail.com:1863"}`} {
			if !strings.Contains(l, want) {
				t.Errorf("msnp login lacks %s:\n%s", want, l)
			}
		}
	}
	if !found {
		t.Fatalf("no msnp login for alice:\n%s", lines)
	}
	if strings.Contains(string(lines), "proxypass1") {
		t.Error("proxy password stored without --reveal-credentials")
	}
}

// realCaptures are the real SOCKS captures of testdata (SOURCES.md).
var realCaptures = []string{
	"arkime__socks-http-example.pcap", "arkime__socks-http-pass.pcap", "arkime__socks4-https.pcap",
	"arkime__socks5-http-302.pcap", "arkime__socks5-http-302-frag.pcap", "arkime__socks5-rdp.pcap",
	"arkime__socks5-smtp-503.pcap", "zeek__socks-with-ssl.pcap", "zeek__socks.pcap", "zeek__tunnels-socks.pcap",
}

func TestGolden(t *testing.T) {
	for _, name := range realCaptures {
		t.Run(name, func(t *testing.T) {
			lines := pcaptest.Golden(t, name, false)
			if name == "arkime__socks-http-pass.pcap" {
				revealed := pcaptest.Golden(t, name, true)
				if !strings.Contains(string(revealed), `"secret":"testpass"`) || strings.Contains(string(lines), "testpass") {
					t.Error("the password is not revealed with --reveal-credentials only")
				}
			}
			// Tunnelled traffic never gets an IM/P2P service.
			if strings.Contains(string(lines), `"service":`) {
				t.Errorf("a service in a plain proxy capture:\n%s", lines)
			}
		})
	}
}

// The re-segmented capture gives the same records as the original.
func TestFragmentedSame(t *testing.T) {
	a, err := os.ReadFile(filepath.Join("testdata", "arkime__socks5-http-302.golden.jsonl"))
	if err != nil {
		t.Skip("golden file not written yet")
	}
	b, _ := os.ReadFile(filepath.Join("testdata", "arkime__socks5-http-302-frag.golden.jsonl"))
	tunnel := func(s []byte) []string {
		var out []string
		for _, l := range strings.Split(string(s), "\n") {
			if i := strings.Index(l, `"tunnel":`); i >= 0 {
				out = append(out, l[i:])
			}
			if i := strings.Index(l, `"proxy":`); i >= 0 {
				out = append(out, l[i:])
			}
		}
		return out
	}
	if ta, tb := tunnel(a), tunnel(b); !reflect.DeepEqual(ta, tb) || len(ta) == 0 {
		t.Errorf("tunnel records differ:\n%v\n%v", ta, tb)
	}
}
