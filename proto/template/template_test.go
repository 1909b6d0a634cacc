package template

import (
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in     string
		ok     bool
		err    error
		verb   verb
		length int
	}{
		{"TPL/1 HELLO 5\r\nalice", true, nil, verbHello, 5},
		{"TPL/1 MSG 0\r\n", true, nil, verbMsg, 0},
		{"TPL/1 BYE 65535\r\n", true, nil, verbBye, 65535},
		{"TPL/1 MSG 65536\r\n", false, ErrLength, 0, 0},
		{"TPL/1 MSG 123456\r\n", false, ErrLength, 0, 0},
		{"TPL/1 MSG 1x\r\n", false, ErrLength, 0, 0},
		{"TPL/1 MSG\r\n", false, ErrVerb, 0, 0},
		{"TPL/1 SEND 1\r\n", false, ErrVerb, 0, 0},
		{"TPL/1 MSG 1\n", false, ErrHeader, 0, 0},
		{"TPL/2 MSG 1\r\n", false, ErrMagic, 0, 0},
		{"GET / HTTP/1.1\r\n", false, ErrMagic, 0, 0},
		{"TPL/1 MSG 12", false, nil, 0, 0},
		{"TPL/1 ms", false, ErrVerb, 0, 0},
		{"TPL", false, nil, 0, 0},
		{"TPL/1 MSG 1234567890123456789012345678", false, ErrHeader, 0, 0},
	}
	for _, tt := range tests {
		h, ok, err := parseHeader([]byte(tt.in))
		if ok != tt.ok || !errors.Is(err, tt.err) {
			t.Errorf("parseHeader(%q) = ok %v err %v, want ok %v err %v", tt.in, ok, err, tt.ok, tt.err)
			continue
		}
		if ok && (h.verb != tt.verb || h.length != tt.length) {
			t.Errorf("parseHeader(%q) = %+v", tt.in, h)
		}
	}
}

var session = []struct {
	dir  flow.Dir
	data string
}{
	{flow.Orig, "TPL/1 HELLO 5\r\nalice"},
	{flow.Resp, "TPL/1 OK 0\r\n"},
	{flow.Orig, "TPL/1 MSG 11\r\nhello world"},
	{flow.Resp, "TPL/1 MSG 2\r\nhi"},
	{flow.Orig, "TPL/1 OFFER 28\r\n192.168.1.10:5000 report.exe"},
	{flow.Orig, "TPL/1 BYE 0\r\n"},
}

func run(t *testing.T, split int, content bool) *analyzer.Recorder {
	rec := analyzer.NewRecorder()
	rec.Opts.CaptureContent = content
	spec, _ := analyzer.Lookup("template")
	fd := &analyzer.Feeder{Conn: spec.New(rec.Session(&spec))}
	feed := func(dir flow.Dir, b []byte) {
		if err := fd.Feed(dir, b); err != nil {
			t.Fatalf("Feed: %v", err)
		}
	}
	for _, m := range session {
		b := []byte(m.data)
		if split > 0 && split < len(b) {
			feed(m.dir, b[:split])
			feed(m.dir, b[split:])
		} else {
			feed(m.dir, b)
		}
	}
	return rec
}

func TestConnEvents(t *testing.T) {
	rec := run(t, 0, false)
	if !rec.Confirmed {
		t.Error("not confirmed")
	}
	var kinds []event.Kind
	for _, e := range rec.Events {
		kinds = append(kinds, e.Kind)
		if e.Message != nil && e.Message.Text != "" {
			t.Errorf("message text stored without --capture-content: %q", e.Message.Text)
		}
	}
	want := []event.Kind{event.Login, event.Login, event.Message, event.Message, event.Direct, event.Logout}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
	if got := rec.Events[1].Login.Outcome; got != event.Success {
		t.Errorf("outcome = %v", got)
	}
	if got := rec.Events[2].Message; got.From != "alice" || got.Length != 11 {
		t.Errorf("message = %+v", got)
	}
	if got := run(t, 0, true).Events[2].Message.Text; got != "hello world" {
		t.Errorf("with content: text = %q", got)
	}
	if len(rec.Expects) != 1 || rec.Expects[0].Addrs[0].String() != "192.168.1.10:5000" || rec.Expects[0].FileName != "report.exe" {
		t.Errorf("expectations = %+v", rec.Expects)
	}
}

// Every 2-way split of every message must give the same events.
func TestConnSplit(t *testing.T) {
	whole := run(t, 0, true).Events
	for split := 1; split < 30; split++ {
		if got := run(t, split, true).Events; !reflect.DeepEqual(got, whole) {
			t.Fatalf("split at %d: events differ:\n%+v\nwant\n%+v", split, got, whole)
		}
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		in   string
		want classify.Result
	}{
		{"TPL/1 HELLO 5\r\n", classify.Match},
		{"TPL/1 HEL", classify.NeedMore},
		{"TPL/1 hello", classify.NoMatch},
		{"TPL/1 HELLO 5\n", classify.NoMatch},
		{"\x00\x01\x02", classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Data: []byte(tt.in)}
		if got := probe(&in); got != tt.want {
			t.Errorf("probe(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	in := classify.Input{Data: []byte("TPL/1 HELLO 5\r\nalice")}
	if n := testing.AllocsPerRun(100, func() { probe(&in) }); n != 0 {
		t.Fatalf("probe allocates %v times", n)
	}
}

func FuzzConnFeed(f *testing.F) {
	for _, m := range session {
		f.Add([]byte(m.data), false)
	}
	f.Add([]byte("TPL/1 MSG 3\r\nabcTPL/1 BYE 0\r\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, resp bool) {
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		in := classify.Input{Dir: dir, Data: data}
		probe(&in)
		rec := analyzer.NewRecorder()
		spec, _ := analyzer.Lookup("template")
		c := spec.New(rec.Session(&spec))
		n, err := c.Feed(dir, data)
		if n < 0 || n > len(data) {
			t.Fatalf("Feed consumed %d of %d", n, len(data))
		}
		_ = err
	})
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Data: []byte("TPL/1 HELLO 5\r\nalice")}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

// buildCapture writes the template's test capture: one session on a
// non-standard port, so detection cannot lean on the port hint, and a
// second on the hint port that is not the protocol (must stay unclaimed).
func buildCapture() []byte {
	w := pcaptest.NewWriter()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	c := w.TCP(t0, netip.MustParseAddrPort("192.168.1.10:40000"), netip.MustParseAddrPort("198.51.100.7:443"))
	c.Handshake()
	for _, m := range session {
		c.Send(int(m.dir), []byte(m.data))
	}
	c.Close()
	// The connection the OFFER announced: the peer connects to alice's
	// port 5000 and receives the file (a tiny PE header: an executable).
	x := w.TCP(c.T.Add(time.Second), netip.MustParseAddrPort("198.51.100.7:51000"), netip.MustParseAddrPort("192.168.1.10:5000"))
	x.Handshake()
	file := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), make([]byte, 3000)...)
	x.Send(1, file)
	x.Close()
	d := w.TCP(x.T.Add(time.Second), netip.MustParseAddrPort("192.168.1.10:40001"), netip.MustParseAddrPort("198.51.100.7:7777"))
	d.Handshake()
	d.Send(0, []byte("HELLO? this is not the template protocol\r\n"))
	d.Close()
	return w.Bytes()
}

func TestCapture(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "template.pcap"), buildCapture())
}

func TestGolden(t *testing.T) {
	for _, content := range []bool{false, true} {
		suffix := ""
		if content {
			suffix = "-content"
		}
		pcaptest.GoldenWith(t, "template.pcap", suffix, func(c *config.Config) { c.Privacy.CaptureContent = content })
	}
}
