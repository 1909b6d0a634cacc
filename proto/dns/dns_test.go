package dns

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/flow"
)

// encName writes a name as uncompressed labels.
func encName(name string) []byte {
	var b []byte
	if name != "" {
		for _, l := range strings.Split(name, ".") {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	return append(b, 0)
}

// answer is a record for buildMsg: rdata raw, owner as wire bytes.
type answer struct {
	owner []byte
	rtype uint16
	ttl   uint32
	rdata []byte
}

// buildMsg writes a message with one question and the given answers.
func buildMsg(id, flags uint16, qname string, qtype uint16, ans []answer) []byte {
	b := make([]byte, headerLen)
	binary.BigEndian.PutUint16(b, id)
	binary.BigEndian.PutUint16(b[2:], flags)
	binary.BigEndian.PutUint16(b[4:], 1)
	binary.BigEndian.PutUint16(b[6:], uint16(len(ans)))
	b = append(b, encName(qname)...)
	b = binary.BigEndian.AppendUint16(b, qtype)
	b = binary.BigEndian.AppendUint16(b, 1)
	for _, a := range ans {
		b = append(b, a.owner...)
		b = binary.BigEndian.AppendUint16(b, a.rtype)
		b = binary.BigEndian.AppendUint16(b, 1)
		b = binary.BigEndian.AppendUint32(b, a.ttl)
		b = binary.BigEndian.AppendUint16(b, uint16(len(a.rdata)))
		b = append(b, a.rdata...)
	}
	return b
}

var ptrQ = []byte{0xc0, 12} // the question name

// icqQuery and icqAnswer are login.icq.com's A lookup: a CNAME to
// bos.icq.net, whose A record is 198.51.100.77.
var (
	icqQuery  = buildMsg(0x1234, 0x0100, "login.icq.com", typeA, nil)
	icqAnswer = func() []byte {
		// bos.icq.net written out in the CNAME rdata at offset 43 of the message.
		return buildMsg(0x1234, 0x8180, "login.icq.com", typeA, []answer{
			{ptrQ, typeCNAME, 300, encName("bos.icq.net")},
			{[]byte{0xc0, 43}, typeA, 120, []byte{198, 51, 100, 77}},
			{ptrQ, typeAAAA, 7200, netip.MustParseAddr("2001:db8::77").AsSlice()},
		})
	}()
)

func TestParseMessage(t *testing.T) {
	m, err := parseMessage(icqAnswer)
	if err != nil {
		t.Fatal(err)
	}
	if m.id != 0x1234 || !m.qr() || m.rcode() != 0 || len(m.questions) != 1 || m.questions[0].name != "login.icq.com" {
		t.Fatalf("message = %+v", m)
	}
	var got []string
	for _, r := range m.answers {
		got = append(got, r.name+" "+typeName(r.rtype)+" "+r.rdataText(icqAnswer))
	}
	want := []string{"login.icq.com CNAME bos.icq.net", "bos.icq.net A 198.51.100.77", "login.icq.com AAAA 2001:db8::77"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("answers = %q, want %q", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		name string
		in   []byte
		err  error
	}{
		{"short header", icqQuery[:11], ErrShort},
		{"label too long", buildMsg(1, 0, long, typeA, nil), ErrLabel},
		{"name too long", buildMsg(1, 0, strings.Repeat(strings.Repeat("b", 63)+".", 4)+"c", typeA, nil), ErrName},
		{"reserved label type", append(append([]byte(nil), icqQuery[:12]...), 0x40, 0), ErrLabel},
		{"forward pointer", append(append([]byte(nil), icqQuery[:12]...), 0xc0, 14, 0, 0, 1, 0, 1), ErrPointer},
		{"self pointer", append(append([]byte(nil), icqQuery[:12]...), 0xc0, 12, 0, 1, 0, 1), ErrPointer},
		{"pointer into header", append(append([]byte(nil), icqQuery[:12]...), 0xc0, 2, 0, 1, 0, 1), ErrPointer},
		{"rdata past end", icqAnswer[:len(icqAnswer)-1], ErrShort},
	}
	for _, tt := range tests {
		if _, err := parseMessage(tt.in); !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
	}
}

// TestPointerLoop checks that a chain of pointers, each pointing back to
// the previous one, stops after maxJumps, and a loop is impossible.
func TestPointerLoop(t *testing.T) {
	b := append([]byte(nil), icqQuery[:12]...)
	binary.BigEndian.PutUint16(b[4:], 0)
	binary.BigEndian.PutUint16(b[6:], 1)
	b = append(b, 1, 'a', 0) // offset 12: "a"
	prev := 12
	for i := 0; i < maxJumps+1; i++ {
		here := len(b)
		b = append(b, 0xc0|byte(prev>>8), byte(prev))
		prev = here
	}
	if _, _, err := walkName(b, prev, nil); !errors.Is(err, ErrPointer) {
		t.Errorf("%d jumps: err = %v", maxJumps+1, err)
	}
	if name, _, err := readName(b, prev-2); err != nil || name != "a" {
		t.Errorf("%d jumps: %q %v", maxJumps, name, err)
	}
	// Two pointers pointing at each other.
	loop := append(append([]byte(nil), b[:12]...), 0xc0, 14, 0xc0, 12)
	for _, off := range []int{12, 14} {
		if _, _, err := walkName(loop, off, nil); !errors.Is(err, ErrPointer) {
			t.Errorf("loop at %d: err = %v", off, err)
		}
	}
}

// TestTruncation parses every prefix of the messages: each fails cleanly
// and none panics.
func TestTruncation(t *testing.T) {
	for _, msg := range [][]byte{icqQuery, icqAnswer} {
		for i := 0; i < len(msg); i++ {
			if _, err := parseMessage(msg[:i]); err == nil {
				t.Errorf("prefix %d of %d parsed", i, len(msg))
			}
			in := classify.Input{UDP: true, Data: msg[:i]}
			if probe(&in) != classify.NoMatch {
				t.Errorf("UDP probe matched a %d-byte prefix", i)
			}
			tcp := append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg[:i]...)
			if got := probe(&classify.Input{Data: tcp}); got != classify.NeedMore {
				t.Errorf("TCP probe of prefix %d = %v, want NeedMore", i, got)
			}
		}
	}
}

func TestNameText(t *testing.T) {
	b := append([]byte(nil), icqQuery[:12]...)
	b = append(b, 3, 'a', '.', 0x01, 2, '\\', 0xff, 0)
	name, next, err := readName(b, 12)
	if err != nil || name != `a\046\001.\092\255` || next != len(b) {
		t.Errorf("readName = %q %d %v", name, next, err)
	}
	root := append(append([]byte(nil), b[:12]...), 0)
	if name, _, _ := readName(root, 12); name != "<root>" {
		t.Errorf("root = %q", name)
	}
}

func tcp(msg []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)
}

func TestProbe(t *testing.T) {
	mdns := netip.MustParseAddrPort("224.0.0.251:5353")
	any53 := netip.MustParseAddrPort("192.0.2.1:53")
	z := append([]byte(nil), icqQuery...)
	z[3] |= 0x40
	op3 := append([]byte(nil), icqQuery...)
	op3[2] |= 3 << 3
	qd5 := append([]byte(nil), icqQuery...)
	qd5[5] = 5
	ptrFirst := append(append([]byte(nil), icqQuery[:12]...), 0xc0, 12, 0, 1, 0, 1)
	nbns := buildMsg(0x8001, 0x0110, "CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 32, nil)
	badClass := append([]byte(nil), icqQuery...)
	badClass[len(badClass)-1] = 2
	qu := append([]byte(nil), icqQuery...)
	qu[len(qu)-2] = 0x80
	space := buildMsg(1, 0, "My Printer._ipp._tcp.local", typeSRV, nil)
	tests := []struct {
		name string
		udp  bool
		port netip.AddrPort
		in   []byte
		want classify.Result
	}{
		{"query", true, any53, icqQuery, classify.Match},
		{"answer", true, any53, icqAnswer, classify.Match},
		{"trailing byte", true, any53, append(append([]byte(nil), icqQuery...), 0), classify.NoMatch},
		{"z bit", true, any53, z, classify.NoMatch},
		{"opcode 3", true, any53, op3, classify.NoMatch},
		{"five questions", true, any53, qd5, classify.NoMatch},
		{"pointer in first question", true, any53, ptrFirst, classify.NoMatch},
		{"netbios name", true, netip.MustParseAddrPort("192.0.2.255:137"), nbns, classify.NoMatch},
		{"class 2", true, any53, badClass, classify.NoMatch},
		{"QU bit off mDNS", true, any53, qu, classify.NoMatch},
		{"QU bit on mDNS", true, mdns, qu, classify.Match},
		{"space off mDNS", true, any53, space, classify.NoMatch},
		{"space on mDNS", true, mdns, space, classify.Match},
		{"empty response", true, any53, append([]byte{0, 1, 0x81, 0x80}, make([]byte, 8)...), classify.NoMatch},
		{"quic-like", true, any53, []byte("\xc3\x00\x00\x00\x01\x08\x01\x02\x03\x04\x05\x06\x07\x08\x00\x00\x44\xd0"), classify.NoMatch},
		{"tcp query", false, any53, tcp(icqQuery), classify.Match},
		{"tcp two messages", false, any53, append(tcp(icqQuery), tcp(icqQuery)...), classify.Match},
		{"tcp partial", false, any53, tcp(icqQuery)[:9], classify.NeedMore},
		{"tcp length 5", false, any53, []byte{0, 5, 1, 2, 3, 4, 5}, classify.NoMatch},
		{"tcp length 1", false, any53, []byte{0}, classify.NeedMore},
		{"tcp http", false, any53, []byte("GET / HTTP/1.1\r\n"), classify.NoMatch},
		{"tcp tls", false, any53, []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{UDP: tt.udp, Data: tt.in, Orig: netip.MustParseAddrPort("192.0.2.9:40000"), Resp: tt.port}
		if got := probe(&in); got != tt.want {
			t.Errorf("%s: probe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	ins := []classify.Input{{UDP: true, Data: icqAnswer}, {Data: tcp(icqQuery)}, {UDP: true, Data: []byte("not dns at all, really")}}
	if n := testing.AllocsPerRun(100, func() {
		for i := range ins {
			probe(&ins[i])
		}
	}); n != 0 {
		t.Fatalf("probe allocates %v times", n)
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{UDP: true, Data: icqAnswer}
	b.ReportAllocs()
	for b.Loop() {
		if probe(&in) != classify.Match {
			b.Fatal("no match")
		}
	}
}

func BenchmarkConnFeed(b *testing.B) {
	spec, _ := analyzer.Lookup("dns")
	b.ReportAllocs()
	for b.Loop() {
		rec := analyzer.NewRecorder()
		rec.F.Proto = ipProtoUDP
		c := spec.New(rec.Session(&spec))
		c.Feed(flow.Orig, icqQuery)
		c.Feed(flow.Resp, icqAnswer)
	}
}

// session feeds a query and its answer over UDP or TCP (split at split).
func session(t testing.TB, udp bool, split int) *analyzer.Recorder {
	rec := analyzer.NewRecorder()
	if udp {
		rec.F.Proto = ipProtoUDP
	}
	spec, _ := analyzer.Lookup("dns")
	c := spec.New(rec.Session(&spec))
	for i, m := range [][]byte{icqQuery, icqAnswer} {
		dir := flow.Dir(i)
		if udp {
			if n, err := c.Feed(dir, m); n != len(m) || err != nil {
				t.Fatalf("Feed = %d %v", n, err)
			}
			continue
		}
		data := tcp(m)
		var pend []byte
		for _, part := range [][]byte{data[:min(split, len(data))], data[min(split, len(data)):]} {
			buf := append(pend, part...)
			n, err := c.Feed(dir, buf)
			if err != nil {
				t.Fatal(err)
			}
			pend = append([]byte(nil), buf[n:]...)
		}
		if len(pend) != 0 {
			t.Fatalf("split %d: %d bytes left", split, len(pend))
		}
	}
	c.(analyzer.Ender).End(flow.EndClosed)
	return rec
}

func TestConnLabels(t *testing.T) {
	rec := session(t, true, 0)
	if !rec.Confirmed || len(rec.Events) != 1 {
		t.Fatalf("confirmed %v, events %+v", rec.Confirmed, rec.Events)
	}
	f := rec.Events[0].Fields
	if f["type"] != "response" || f["rcode"] != "NOERROR" || f["version"] != eveVersion || f["id"] != 0x1234 {
		t.Errorf("fields = %v", f)
	}
	if rec.Service != "icq" {
		t.Errorf("service = %q", rec.Service)
	}
	var got []string
	for _, x := range rec.Expects {
		if !x.Hostname || x.Service != "icq" || x.Reason != "dns_answer" || x.Proto != "" {
			t.Errorf("expectation = %+v", x)
		}
		got = append(got, x.Addrs[0].String()+" "+x.TTL.String())
	}
	want := []string{"198.51.100.77:0 2m0s", "[2001:db8::77]:0 1h0m0s"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("expectations = %q, want %q", got, want)
	}
}

// TestConnUnknownName checks that a name not in the list labels nothing.
func TestConnUnknownName(t *testing.T) {
	rec := analyzer.NewRecorder()
	rec.F.Proto = ipProtoUDP
	spec, _ := analyzer.Lookup("dns")
	c := spec.New(rec.Session(&spec))
	c.Feed(flow.Orig, buildMsg(7, 0x8180, "www.example.com", typeA, []answer{{ptrQ, typeA, 60, []byte{192, 0, 2, 1}}}))
	if rec.Service != "" || len(rec.Expects) != 0 || len(rec.Events) != 1 {
		t.Errorf("service %q, expects %v, events %d", rec.Service, rec.Expects, len(rec.Events))
	}
}

// TestConnUnanswered checks that a query without response is reported at End.
func TestConnUnanswered(t *testing.T) {
	rec := analyzer.NewRecorder()
	rec.F.Proto = ipProtoUDP
	spec, _ := analyzer.Lookup("dns")
	c := spec.New(rec.Session(&spec))
	c.Feed(flow.Orig, icqQuery)
	if len(rec.Events) != 0 {
		t.Fatal("query reported before End")
	}
	c.(analyzer.Ender).End(flow.EndTimeout)
	if len(rec.Events) != 1 || rec.Events[0].Fields["type"] != "request" {
		t.Fatalf("events = %+v", rec.Events)
	}
}

// TestConnSplit: every split of the TCP messages gives the same events and
// expectations as UDP.
func TestConnSplit(t *testing.T) {
	whole := session(t, true, 0)
	for split := 0; split <= len(icqAnswer)+2; split++ {
		got := session(t, false, split)
		if !reflect.DeepEqual(got.Events, whole.Events) || !reflect.DeepEqual(got.Expects, whole.Expects) {
			t.Fatalf("split %d: events differ:\n%+v\nwant\n%+v", split, got.Events, whole.Events)
		}
	}
}

func TestConnMalformed(t *testing.T) {
	rec := analyzer.NewRecorder()
	rec.F.Proto = ipProtoUDP
	spec, _ := analyzer.Lookup("dns")
	c := spec.New(rec.Session(&spec))
	var err error
	for i := 0; i < maxBad && err == nil; i++ {
		_, err = c.Feed(flow.Orig, icqQuery[:20])
	}
	if !errors.Is(err, ErrMalformed) || len(rec.Anomalies) != maxBad {
		t.Errorf("err %v, anomalies %v", err, rec.Anomalies)
	}
	rec = analyzer.NewRecorder()
	c = spec.New(rec.Session(&spec))
	if _, err := c.Feed(flow.Orig, []byte{0, 3, 1, 2, 3}); !errors.Is(err, ErrHeader) {
		t.Errorf("tcp length 3: err = %v", err)
	}
}

// seeds returns the DNS payloads of the test captures' first packets plus
// the built messages.
func seeds(f *testing.F) [][]byte {
	out := [][]byte{icqQuery, icqAnswer}
	for _, name := range []string{"nDPI__bt-dns.pcap", "nDPI__dns.pcap"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		// Classic pcap, Ethernet, IPv4 without options, UDP: payload at 24+16+42.
		for off := 24; off+16 <= len(b); {
			n := int(binary.LittleEndian.Uint32(b[off+8:]))
			if off+16+n > len(b) {
				break
			}
			if n > 42 {
				out = append(out, b[off+16+42:off+16+n])
			}
			off += 16 + n
		}
	}
	return out
}

func FuzzMessage(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMessage(data)
		if err != nil {
			return
		}
		for _, r := range m.answers {
			r.rdataText(data)
		}
		if check(data, true) == nil && len(m.questions) > maxQD {
			t.Fatalf("probe accepted %d questions", len(m.questions))
		}
	})
}

func FuzzConnFeed(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s, true)
		f.Add(tcp(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, udp bool) {
		rec := analyzer.NewRecorder()
		if udp {
			rec.F.Proto = ipProtoUDP
		}
		spec, _ := analyzer.Lookup("dns")
		c := spec.New(rec.Session(&spec))
		for _, dir := range []flow.Dir{flow.Orig, flow.Resp} {
			n, _ := c.Feed(dir, data)
			if n < 0 || n > len(data) {
				t.Fatalf("Feed consumed %d of %d", n, len(data))
			}
		}
		c.(analyzer.Ender).End(flow.EndClosed)
		for _, x := range rec.Expects {
			if x.TTL <= 0 || x.TTL > maxTTL*time.Second || len(x.Addrs) != 1 {
				t.Fatalf("expectation %+v", x)
			}
		}
	})
}

// FuzzProbe checks that the probe never panics, that over TCP NoMatch is
// final (no longer prefix matches), and that whatever it accepts parses.
func FuzzProbe(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s, true)
		f.Add(tcp(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, udp bool) {
		in := classify.Input{UDP: udp, Data: data}
		full := probe(&in)
		if full == classify.Match && udp {
			if _, err := parseMessage(data); err != nil {
				t.Fatalf("probe matched, parse failed: %v", err)
			}
		}
		if udp {
			return
		}
		for i := 0; i < len(data); i++ {
			if probe(&classify.Input{Data: data[:i]}) == classify.NoMatch && full != classify.NoMatch {
				t.Fatalf("prefix %d says NoMatch, whole says %v", i, full)
			}
		}
	})
}
