package eve

import (
	"encoding/json"
	"errors"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/internal/golden"
)

func TestGolden(t *testing.T) {
	var out []byte
	for _, f := range fixtures() {
		out = Append(out, &f.rec)
		out = append(out, '\n')
	}
	golden.Check(t, "testdata/records.golden.jsonl", out)
}

func TestAppendExact(t *testing.T) {
	flow := &event.FlowRec{Start: t0, End: t1, State: "closed", Reason: "timeout"}
	tests := []struct {
		name string
		rec  event.Record
		want string
	}{
		{
			name: "minimal flow omits zero envelope fields",
			rec:  event.Record{Type: "flow", Time: t0, Flow: flow},
			want: `{"timestamp":"2004-03-05T14:22:07.123456+0000","event_type":"flow","flow":{"pkts_toserver":0,"pkts_toclient":0,"bytes_toserver":0,"bytes_toclient":0,"start":"2004-03-05T14:22:07.123456+0000","end":"2004-03-05T14:30:00.000005+0000","age":0,"state":"closed","reason":"timeout","alerted":false}}`,
		},
		{
			name: "envelope key order",
			rec: event.Record{Type: "anomaly", Time: time.Unix(0, 0), FlowID: 1, PcapCnt: 2, PcapFile: "a.pcap",
				VLAN: []uint16{5}, Src: netip.MustParseAddrPort("1.2.3.4:5"), Dst: netip.MustParseAddrPort("[::1]:6"),
				Proto: "UDP", AppProto: "a", AppProtoOrig: "b", CommunityID: "c",
				Anomaly: &event.AnomalyRec{Type: "stream", Event: "x"}, PW: &event.Peerwatch{Detail: "d"}},
			want: `{"timestamp":"1970-01-01T00:00:00.000000+0000","flow_id":1,"pcap_cnt":2,"pcap_filename":"a.pcap","event_type":"anomaly","vlan":[5],"src_ip":"1.2.3.4","src_port":5,"dest_ip":"::1","dest_port":6,"proto":"UDP","app_proto":"a","app_proto_orig":"b","community_id":"c","anomaly":{"type":"stream","event":"x"},"peerwatch":{"detail":"d"}}`,
		},
		{
			name: "app fields sorted, event first, event field ignored",
			rec: event.Record{Type: "irc", Time: t0, App: &event.App{Event: event.Message,
				Fields: map[string]any{"z": 1, "event": "spoof", "a": "<x>", "m": []string{"q"}}}},
			want: `{"timestamp":"2004-03-05T14:22:07.123456+0000","event_type":"irc","irc":{"event":"message","a":"\u003cx\u003e","m":["q"],"z":1}}`,
		},
		{
			name: "app without fields",
			rec:  event.Record{Type: "ymsg", Time: t0, App: &event.App{Event: event.Detected}},
			want: `{"timestamp":"2004-03-05T14:22:07.123456+0000","event_type":"ymsg","ymsg":{"event":"detected"}}`,
		},
		{
			name: "fileinfo omits empty hashes and magic",
			rec:  event.Record{Type: "fileinfo", Time: t0, File: &event.FileRec{Filename: "a", Size: 3, State: "TRUNCATED", SHA1: "ab"}},
			want: `{"timestamp":"2004-03-05T14:22:07.123456+0000","event_type":"fileinfo","fileinfo":{"filename":"a","size":3,"state":"TRUNCATED","stored":false,"gaps":false,"sha1":"ab","tx_id":0}}`,
		},
		{
			name: "alert without metadata",
			rec:  event.Record{Type: "alert", Time: t0, Alert: &event.AlertRec{Action: "allowed", GID: 1, SignatureID: 9100000, Rev: 2, Signature: "s", Category: "c", Severity: 3}},
			want: `{"timestamp":"2004-03-05T14:22:07.123456+0000","event_type":"alert","alert":{"action":"allowed","gid":1,"signature_id":9100000,"rev":2,"signature":"s","category":"c","severity":3}}`,
		},
		{
			name: "stats with no counters, peerwatch_stats with none",
			rec:  event.Record{Type: "stats", Time: t0, Stats: &event.StatsRec{Uptime: 5}},
			want: `{"timestamp":"2004-03-05T14:22:07.123456+0000","event_type":"stats","stats":{"uptime":5}}`,
		},
		{
			name: "peerwatch_stats empty",
			rec:  event.Record{Type: "peerwatch_stats", Time: t0, Stats: &event.StatsRec{Uptime: 5}},
			want: `{"timestamp":"2004-03-05T14:22:07.123456+0000","event_type":"peerwatch_stats","peerwatch_stats":{}}`,
		},
		{
			name: "port without valid address is not written",
			rec:  event.Record{Type: "stats", Time: t0, Src: netip.AddrPortFrom(netip.Addr{}, 80), Stats: &event.StatsRec{}},
			want: `{"timestamp":"2004-03-05T14:22:07.123456+0000","event_type":"stats","stats":{"uptime":0}}`,
		},
		{
			name: "zone-scoped IPv6 and a time before 1970",
			rec: event.Record{Type: "flow", Time: time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
				Src: netip.MustParseAddrPort("[fe80::1%eth0]:1"), Flow: flow},
			want: `{"timestamp":"1969-12-31T23:59:59.999999+0000","event_type":"flow","src_ip":"fe80::1%eth0","src_port":1,"flow":{"pkts_toserver":0,"pkts_toclient":0,"bytes_toserver":0,"bytes_toclient":0,"start":"2004-03-05T14:22:07.123456+0000","end":"2004-03-05T14:30:00.000005+0000","age":0,"state":"closed","reason":"timeout","alerted":false}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(Append(nil, &tt.rec))
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

// TestAppendMatchesDecode checks every fixture line decodes to the values
// the record holds, independently of key order and formatting.
func TestAppendMatchesDecode(t *testing.T) {
	for _, f := range fixtures() {
		t.Run(f.name, func(t *testing.T) {
			line := Append(nil, &f.rec)
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			if m["event_type"] != f.rec.Type {
				t.Errorf("event_type = %v", m["event_type"])
			}
			ts, err := time.Parse(TimeLayout, m["timestamp"].(string))
			if err != nil || !ts.Equal(f.rec.Time.Truncate(time.Microsecond)) {
				t.Errorf("timestamp %v (%v), want %v", ts, err, f.rec.Time)
			}
			if f.rec.Src.IsValid() && m["src_ip"] != f.rec.Src.Addr().String() {
				t.Errorf("src_ip = %v", m["src_ip"])
			}
			if f.rec.PW != nil {
				want, _ := json.Marshal(f.rec.PW)
				got, _ := json.Marshal(m["peerwatch"])
				var a, b any
				_ = json.Unmarshal(want, &a)
				_ = json.Unmarshal(got, &b)
				wa, _ := json.Marshal(a)
				gb, _ := json.Marshal(b)
				if string(wa) != string(gb) {
					t.Errorf("peerwatch = %s, want %s", gb, wa)
				}
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		rec  event.Record
		want error
	}{
		{"no type", event.Record{Time: t0}, ErrType},
		{"flow without object", event.Record{Type: "flow"}, ErrObject},
		{"anomaly without object", event.Record{Type: "anomaly"}, ErrObject},
		{"fileinfo without object", event.Record{Type: "fileinfo"}, ErrObject},
		{"alert without object", event.Record{Type: "alert"}, ErrObject},
		{"stats without object", event.Record{Type: "stats"}, ErrObject},
		{"peerwatch_stats without object", event.Record{Type: "peerwatch_stats"}, ErrObject},
		{"app without object", event.Record{Type: "oscar"}, ErrObject},
		{"NaN field", event.Record{Type: "oscar", App: &event.App{Event: event.Login, Fields: map[string]any{"x": math.NaN()}}}, ErrValue},
		{"channel in stats", event.Record{Type: "stats", Stats: &event.StatsRec{Suricata: map[string]any{"x": make(chan int)}}}, ErrValue},
		{"Inf in peerwatch_stats", event.Record{Type: "peerwatch_stats", Stats: &event.StatsRec{Peerwatch: map[string]any{"x": math.Inf(1)}}}, ErrValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, err := encode(nil, &tt.rec)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if !json.Valid(line) {
				t.Errorf("line is not valid JSON even so: %s", line)
			}
			if string(Append(nil, &tt.rec)) != string(line) {
				t.Errorf("Append and encode differ")
			}
		})
	}
	for _, f := range fixtures() {
		if _, err := encode(nil, &f.rec); err != nil {
			t.Errorf("fixture %s: %v", f.name, err)
		}
	}
}

func TestAppendString(t *testing.T) {
	tests := []string{
		"", "plain", `quote " backslash \`, "ctl \x00\x01\x1f\x7f", "\b\f\n\r\t",
		"<html>&amp;", "é ü 日本", "\u2028\u2029", "bad \xff\xfe utf8", "trunc \xe6\x97",
		"\xed\xa0\x80 surrogate", "emoji 😀", strings.Repeat("x", 300),
	}
	for _, s := range tests {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

// FuzzAppendString checks the hand-written escaper against encoding/json.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00<>&", "\u2028", "\xff", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

// FuzzAppend builds records from fuzzed strings and checks every line is
// one valid JSON object whose strings round-trip.
func FuzzAppend(f *testing.F) {
	f.Add("oscar", "aim-login.pcap", "alice", "k", "v")
	f.Add("flow", "", "", "", "")
	f.Add("x\"y", "\xff", "\u2028", "\x00", "<")
	f.Fuzz(func(t *testing.T, typ, file, user, key, val string) {
		r := envelope(typ)
		r.PcapFile = file
		r.PW = &event.Peerwatch{Users: &event.Users{Local: user}}
		r.App = &event.App{Event: event.Kind(val), Fields: map[string]any{key: val}}
		r.Flow = &event.FlowRec{State: val}
		r.Anomaly = &event.AnomalyRec{Event: val}
		r.File = &event.FileRec{Filename: val}
		r.Alert = &event.AlertRec{Signature: val, Metadata: map[string][]string{key: {val}}}
		r.Stats = &event.StatsRec{Suricata: map[string]any{key: val}, Peerwatch: map[string]any{key: val}}
		line := Append(nil, &r)
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if strings.IndexByte(string(line), '\n') >= 0 {
			t.Fatalf("newline inside a line: %s", line)
		}
		// encoding/json replaces each invalid byte with U+FFFD, as we do.
		var want string
		b, _ := json.Marshal(typ)
		_ = json.Unmarshal(b, &want)
		if m["event_type"] != want {
			t.Fatalf("event_type %q, want %q", m["event_type"], want)
		}
	})
}

func TestAppendAllocs(t *testing.T) {
	fx := fixtures()
	bare := fx[0].rec
	bare.PW = nil
	buf := make([]byte, 0, 4096)
	tests := []struct {
		name string
		rec  *event.Record
	}{
		{"flow without peerwatch", &bare},
	}
	// Every fixture, peerwatch object and Fields included, is written
	// without encoding/json and so without allocating.
	for i := range fx {
		tests = append(tests, struct {
			name string
			rec  *event.Record
		}{fx[i].name, &fx[i].rec})
	}
	for _, tt := range tests {
		got := testing.AllocsPerRun(200, func() { buf = Append(buf[:0], tt.rec) })
		if got != 0 {
			t.Errorf("%s: %v allocations, want 0", tt.name, got)
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, f := range fixtures() {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				buf = Append(buf[:0], &f.rec)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkAppendString(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"ascii", "login.oscar.aol.com:5190 AIM 5.9.3702 urn:sha1:ABCDEFGHIJKLMNOP"},
		{"escapes", "hi \"bob\"\n<script>&amp; \u2028 é\xff"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.s)))
			buf := make([]byte, 0, 256)
			for b.Loop() {
				buf = appendString(buf[:0], bc.s)
			}
		})
	}
}
