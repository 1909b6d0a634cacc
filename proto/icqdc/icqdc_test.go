package icqdc

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// initFrame builds a PEER_INIT frame byte for byte as licq's
// CPacketTcp_Handshake_v7 does (v6: without the last word).
func initFrame(version uint16, to, from uint32, port uint32, ext, in string, mode byte, cookie uint32) []byte {
	n := initLen(version)
	b := binary.LittleEndian.AppendUint16(nil, uint16(n))
	b = append(b, typeInit)
	b = binary.LittleEndian.AppendUint16(b, version)
	b = binary.LittleEndian.AppendUint16(b, uint16(n-5))
	b = binary.LittleEndian.AppendUint32(b, to)
	b = append(b, 0, 0)
	b = binary.LittleEndian.AppendUint32(b, port)
	b = binary.LittleEndian.AppendUint32(b, from)
	e, i := netip.MustParseAddr(ext).As4(), netip.MustParseAddr(in).As4()
	b = append(b, e[:]...)
	b = append(b, i[:]...)
	b = append(b, mode)
	b = binary.LittleEndian.AppendUint32(b, port)
	b = binary.LittleEndian.AppendUint32(b, cookie)
	b = binary.LittleEndian.AppendUint32(b, 0x50)
	b = binary.LittleEndian.AppendUint32(b, 3)
	if version >= 7 {
		b = binary.LittleEndian.AppendUint32(b, 0)
	}
	return b
}

var (
	ack = []byte{4, 0, 1, 0, 0, 0}
	// init2 (v7): 0x03, 0x0000000A, 0x00000001 and 20 further bytes
	// (licq CPacketTcp_Handshake_Confirm); only its type is used here.
	init2 = append([]byte{0x21, 0x00, 0x03, 0x0A, 0, 0, 0, 1, 0, 0, 0}, make([]byte, 24)...)
	// A v7 message packet: 0x02, checksum(4) and a scrambled body. The
	// bytes are opaque here; they only have to be framed.
	msg = append([]byte{0x1B, 0x00, 0x02, 0x9A, 0x3B, 0x11, 0x7C}, []byte("\x51\x02\xee\x07\x0e\x00\x83\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")...)
)

type seg struct {
	dir  flow.Dir
	data []byte
}

// session is the synthetic v7 handshake between UIN 123456 (connecting,
// behind NAT 192.168.1.10 / 203.0.113.5) and UIN 654321 (198.51.100.33 /
// 10.0.0.33 port 5017), followed by one message.
func session() []seg {
	return []seg{
		{flow.Orig, initFrame(7, 654321, 123456, 5016, "203.0.113.5", "192.168.1.10", 0x04, 0xC0FFEE01)},
		{flow.Resp, ack},
		{flow.Resp, initFrame(7, 123456, 654321, 5017, "198.51.100.33", "10.0.0.33", 0x04, 0xC0FFEE01)},
		{flow.Orig, ack},
		{flow.Orig, init2},
		{flow.Resp, init2},
		{flow.Orig, msg},
	}
}

func TestCheckInit(t *testing.T) {
	good := session()[0].data
	v6 := initFrame(6, 654321, 123456, 5016, "203.0.113.5", "192.168.1.10", 0x02, 1)
	set := func(i int, v byte) []byte { b := append([]byte(nil), good...); b[i] = v; return b }
	tests := []struct {
		name string
		in   []byte
		ok   bool
		err  error
	}{
		{"v7", good, true, nil},
		{"v8", set(3, 8), true, nil},
		{"v6", v6, true, nil},
		{"v5", set(3, 5), false, ErrVersion},
		{"not FF", set(2, 0xFE), false, ErrInit},
		{"length", set(0, 0x31), false, ErrInit},
		{"size", set(5, 0x2C), false, ErrInit},
		{"to uin", set(10, 0x90), false, ErrUIN},
		{"padding", set(11, 1), false, ErrInit},
		{"port", set(15, 1), false, ErrInit},
		{"from uin", append(set(17, 0), 0)[:len(good)], false, nil}, // checked below
		{"mode", set(29, 0x09), false, ErrInit},
		{"second port", set(33, 1), false, ErrInit},
	}
	for _, tt := range tests {
		ok, err := checkInit(tt.in)
		if tt.name == "from uin" {
			b := append([]byte(nil), good...)
			binary.LittleEndian.PutUint32(b[17:], 42)
			if _, err := checkInit(b); !errors.Is(err, ErrUIN) {
				t.Errorf("from uin: %v", err)
			}
			continue
		}
		if ok != tt.ok || !errors.Is(err, tt.err) {
			t.Errorf("%s: ok %v err %v, want %v %v", tt.name, ok, err, tt.ok, tt.err)
		}
	}
	// Every prefix of a valid frame is incomplete, never an error.
	for n := 0; n < len(good); n++ {
		if ok, err := checkInit(good[:n]); ok || err != nil {
			t.Errorf("prefix %d: ok %v err %v", n, ok, err)
		}
		if _, err := parseInit(good[:n]); err == nil {
			t.Errorf("parseInit of %d bytes succeeded", n)
		}
	}
	p, err := parseInit(good)
	if err != nil || p.from != 123456 || p.to != 654321 || p.version != 7 {
		t.Fatalf("parseInit = %+v, %v", p, err)
	}
	if got := p.addrs(); len(got) != 2 || got[0].String() != "203.0.113.5:5016" || got[1].String() != "192.168.1.10:5016" {
		t.Errorf("addrs = %v", got)
	}
}

func feed(t *testing.T, c analyzer.Conn, dir flow.Dir, data []byte, pend *[2][]byte) {
	buf := append((*pend)[dir], data...)
	n, err := c.Feed(dir, buf)
	if err != nil {
		t.Fatalf("Feed: %v", err)
	}
	(*pend)[dir] = append([]byte(nil), buf[n:]...)
}

func run(t *testing.T, split int) *analyzer.Recorder {
	rec := analyzer.NewRecorder()
	rec.F.Resp = netip.MustParseAddrPort("198.51.100.33:5017")
	spec, _ := analyzer.Lookup("icqdc")
	c := spec.New(rec.Session(&spec))
	var pend [2][]byte
	for _, s := range session() {
		if split > 0 && split < len(s.data) {
			feed(t, c, s.dir, s.data[:split], &pend)
			feed(t, c, s.dir, s.data[split:], &pend)
		} else {
			feed(t, c, s.dir, s.data, &pend)
		}
	}
	c.(analyzer.Ender).End(flow.EndClosed)
	return rec
}

func TestConnEvents(t *testing.T) {
	rec := run(t, 0)
	if !rec.Confirmed || len(rec.Anomalies) != 0 {
		t.Fatalf("confirmed %v anomalies %v", rec.Confirmed, rec.Anomalies)
	}
	if len(rec.Events) != 3 {
		t.Fatalf("events = %+v", rec.Events)
	}
	e := rec.Events[0]
	if e.Kind != event.Direct || e.Users.Local != "123456" || e.Users.Peer != "654321" || e.Direct.Addrs[1].String() != "192.168.1.10:5016" {
		t.Errorf("orig init = %+v %+v", e, e.Direct)
	}
	e = rec.Events[1]
	if e.Users.Local != "654321" || e.Direct.Addrs[0].String() != "198.51.100.33:5017" || e.Direct.Addrs[1].String() != "10.0.0.33:5017" {
		t.Errorf("resp init = %+v %+v", e, e.Direct)
	}
	e = rec.Events[2]
	want := map[string]int{"peer_init_ack": 1, "peer_init2": 1, "peer_msg": 1}
	if e.Direct.Outcome != event.Accepted || !reflect.DeepEqual(e.Fields["packets_orig"], want) {
		t.Errorf("summary = %+v %+v", e.Direct, e.Fields)
	}
}

// Every 2-way split of every packet gives the same events.
func TestConnSplit(t *testing.T) {
	whole := run(t, 0).Events
	for split := 1; split < 50; split++ {
		if got := run(t, split).Events; !reflect.DeepEqual(got, whole) {
			t.Fatalf("split at %d: events differ", split)
		}
	}
}

func TestProbe(t *testing.T) {
	good := session()[0].data
	tests := []struct {
		name string
		in   []byte
		want classify.Result
	}{
		{"v7 init", good, classify.Match},
		{"partial", good[:20], classify.NeedMore},
		{"bad mode", append(append([]byte(nil), good[:29]...), 0x77), classify.NoMatch},
		{"http", []byte("GET / HTTP/1.1\r\n"), classify.NoMatch},
		{"v3", []byte{0x1A, 0x00, 0xFF, 0x03, 0x00, 0x00, 0x00}, classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Data: tt.in}
		if got := probe(&in); got != tt.want {
			t.Errorf("%s: probe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	in := classify.Input{Data: session()[0].data}
	if n := testing.AllocsPerRun(100, func() { probe(&in) }); n != 0 {
		t.Fatalf("probe allocates %v times", n)
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Data: session()[0].data}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

func FuzzProbe(f *testing.F) {
	for _, s := range session() {
		f.Add(s.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := classify.Input{Data: data}
		if probe(&in) == classify.Match {
			if _, err := parseInit(data[:2+initLen(binary.LittleEndian.Uint16(data[3:]))]); err != nil {
				t.Fatalf("probe matched but parseInit: %v", err)
			}
		}
	})
}

func FuzzConnFeed(f *testing.F) {
	for _, s := range session() {
		f.Add(s.data, s.dir == flow.Resp)
	}
	f.Fuzz(func(t *testing.T, data []byte, resp bool) {
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		rec := analyzer.NewRecorder()
		spec, _ := analyzer.Lookup("icqdc")
		c := spec.New(rec.Session(&spec))
		n, _ := c.Feed(dir, data)
		if n < 0 || n > len(data) {
			t.Fatalf("Feed consumed %d of %d", n, len(data))
		}
		c.(analyzer.Ender).End(flow.EndClosed)
	})
}

// buildCapture writes the synthetic capture: the v7 handshake and one
// message from 192.168.1.10:1101 to 198.51.100.33:5017.
func buildCapture() []byte {
	w := pcaptest.NewWriter()
	t0 := time.Date(2002, 3, 1, 10, 5, 0, 0, time.UTC)
	c := w.TCP(t0, netip.MustParseAddrPort("192.168.1.10:1101"), netip.MustParseAddrPort("198.51.100.33:5017"))
	c.Handshake()
	for _, s := range session() {
		c.Send(int(s.dir), s.data)
	}
	c.Close()
	return w.Bytes()
}

func TestCapture(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "icqdc.pcap"), buildCapture())
}

func TestGolden(t *testing.T) {
	pcaptest.Golden(t, "icqdc.pcap", false)
}
