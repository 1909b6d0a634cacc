package pipeline_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
	"github.com/peerwatch/peerwatch/pipeline"
)

// Two test-only protocols exercise Session.Embed: "zcarrier" lines
// "ZC <key> <payload>\n" carry "zinner" bytes, one zinner session per key.
func init() {
	analyzer.Register(analyzer.Spec{Name: "zcarrier", Category: event.CatCarrier, Transport: analyzer.TCP,
		Detect: classify.Signature{Prefixes: []classify.Prefix{{Bytes: "ZC "}}},
		New:    func(s *analyzer.Session) analyzer.Conn { return &zcarrier{s: s} }})
	analyzer.Register(analyzer.Spec{Name: "zinner", Service: "zinner", Products: []string{"Z"}, Category: event.CatIM,
		Transport: analyzer.TCP,
		Detect:    classify.Signature{Prefixes: []classify.Prefix{{Bytes: "\x00ZINNER-NEVER-ON-THE-WIRE"}}},
		New:       func(s *analyzer.Session) analyzer.Conn { return &zinner{s: s} }})
}

type zcarrier struct{ s *analyzer.Session }

func (c *zcarrier) Feed(dir flow.Dir, data []byte) (int, error) {
	n := 0
	for {
		end := -1
		for i, b := range data[n:] {
			if b == '\n' {
				end = n + i
				break
			}
		}
		if end < 0 {
			return n, nil
		}
		line := string(data[n:end])
		n = end + 1
		if len(line) < 6 || line[:3] != "ZC " {
			continue
		}
		c.s.Confirm()
		key, payload := line[3:5], line[6:]
		c.s.Embed("zinner", key).Feed(dir, []byte(payload+"\n"))
	}
}

type zinner struct {
	s    *analyzer.Session
	msgs int
}

func (z *zinner) Feed(dir flow.Dir, data []byte) (int, error) {
	for i, b := range data {
		if b == '\n' {
			z.msgs++
			z.s.Emit(event.Event{Kind: event.Message, Dir: dir, Message: &event.MessageInfo{Length: i}})
			return i + 1, nil
		}
	}
	return 0, nil
}

// TestEmbedAcrossConnections: two carrier connections naming the same key
// feed one embedded session.
func TestEmbedAcrossConnections(t *testing.T) {
	w := pcaptest.NewWriter()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	a := w.TCP(t0, netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("192.0.2.1:80"))
	a.Handshake()
	a.Send(0, []byte("ZC k1 hello\nZC k2 other\n"))
	a.Close()
	b := w.TCP(a.T, netip.MustParseAddrPort("10.0.0.1:1001"), netip.MustParseAddrPort("192.0.2.1:80"))
	b.Handshake()
	b.Send(0, []byte("ZC k1 again\n"))
	b.Close()
	recs := analyzeCapture(t, w)
	perFlow := map[uint64]int{}
	for _, r := range recs {
		if r.Type == "zinner" && r.App.Event == event.Message {
			if r.AppProto != "zinner" || r.AppProtoOrig != "zcarrier" || r.PW.Service != "zinner" {
				t.Errorf("labels: %s/%s/%s", r.AppProto, r.AppProtoOrig, r.PW.Service)
			}
			perFlow[r.FlowID]++
		}
	}
	if perFlow[1] != 2 || perFlow[9] != 1 {
		t.Errorf("embedded messages per carrier flow: %v (want 2 on flow 1, 1 on flow 9)", perFlow)
	}
}

// TestConnectReclassify: an HTTP CONNECT tunnel carrying the template
// protocol: the inner records say app_proto template, app_proto_orig
// httpproxy (the proxy analyzer), and name the proxy and its target.
func TestConnectReclassify(t *testing.T) {
	w := pcaptest.NewWriter()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c := w.TCP(t0, netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.254:3128"))
	c.Handshake()
	c.Send(0, []byte("CONNECT chat.example:7777 HTTP/1.1\r\nHost: chat.example:7777\r\n\r\n"))
	c.Send(1, []byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	c.Send(0, []byte("TPL/1 HELLO 3\r\nbob"))
	c.Send(1, []byte("TPL/1 OK 0\r\n"))
	c.Close()
	recs := analyzeCapture(t, w)
	pcaptest.Validate(t, pcaptest.Lines(recs))
	var tunnel, logins int
	var flowRec *event.Record
	for i, r := range recs {
		switch {
		case r.Type == "httpproxy" && r.App.Event == event.Tunnel:
			tunnel++
		case r.Type == "template" && r.App.Event == event.Login:
			logins++
			if r.AppProtoOrig != "httpproxy" || r.PW.Proxy == nil || r.PW.Proxy.Target != "chat.example:7777" || r.PW.Proxy.Addr != "10.0.0.254:3128" {
				t.Errorf("inner record labels: orig %q proxy %+v", r.AppProtoOrig, r.PW.Proxy)
			}
		case r.Type == event.TypeFlow:
			flowRec = &recs[i]
		}
	}
	if tunnel != 1 || logins != 2 {
		t.Errorf("tunnel events %d, inner logins %d", tunnel, logins)
	}
	if flowRec == nil || flowRec.AppProto != "template" || flowRec.AppProtoOrig != "httpproxy" {
		t.Errorf("flow record: %+v", flowRec)
	}
}

// TestReclassifyKeepsFile: reclassifying restarts the connection state;
// a tunnel whose last packet is the proxy's answer still writes its flow
// record (at the end of the input) with the capture file's name.
func TestReclassifyKeepsFile(t *testing.T) {
	w := pcaptest.NewWriter()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c := w.TCP(t0, netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.254:3128"))
	// No handshake and no acknowledgement after the answer: the answer is
	// the flow's last packet (as in a capture that starts mid-stream).
	c.Segment(0, pcaptest.PSH|pcaptest.ACK, []byte("CONNECT chat.example:7777 HTTP/1.1\r\nHost: chat.example:7777\r\n\r\n"))
	c.Segment(1, pcaptest.PSH|pcaptest.ACK, []byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	recs := analyzeCapture(t, w)
	flows := 0
	for _, r := range recs {
		if r.Type == event.TypeFlow {
			flows++
			if r.AppProtoOrig != "httpproxy" {
				t.Errorf("flow record not reclassified: app_proto_orig %q", r.AppProtoOrig)
			}
		}
		if r.PcapFile != "capture.pcap" {
			t.Errorf("%s record (seq %d) names file %q", r.Type, r.Seq, r.PcapFile)
		}
	}
	if flows != 1 {
		t.Fatalf("%d flow records", flows)
	}
}

// TestInterrupt: a cancelled run still closes its sinks and reports it.
func TestInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := &pcaptest.Memory{}
	closed := &closeSink{Memory: m}
	cfg := config.Default()
	cfg.Workers = 2
	sum, err := pipeline.Run(ctx, pipeline.Options{Config: cfg, Files: []string{filepath.Join(pcaptest.Root(), "testdata", "demo.pcapng")},
		Sinks: []pipeline.Sink{closed}})
	if err != nil {
		t.Fatal(err)
	}
	if !closed.closed || len(m.Recs) == 0 || m.Recs[len(m.Recs)-1].Type != event.TypePeerwatchStats {
		t.Errorf("closed %v, %d records", closed.closed, len(m.Recs))
	}
	if !sum.Interrupted {
		t.Error("summary does not say the run was interrupted")
	}
}

type closeSink struct {
	*pcaptest.Memory
	closed bool
}

func (c *closeSink) Close() error { c.closed = true; return nil }

// TestMissingFile: a missing file is an input error; the next file is read.
func TestMissingFile(t *testing.T) {
	recs, sum, err := pcaptest.Analyze([]string{filepath.Join(t.TempDir(), "nope.pcap"),
		filepath.Join(pcaptest.Root(), "proto", "template", "testdata", "template.pcap")}, pcaptest.Options{})
	var ie *pipeline.InputError
	if !errors.As(err, &ie) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err %v, want an input error for the missing file", err)
	}
	if sum.Packets != 38 || len(recs) == 0 {
		t.Errorf("packets %d, %d records", sum.Packets, len(recs))
	}
}

// "zreplay" is recognised only by its responder's first bytes, so the
// originator's bytes are read while classifying and must be replayed to the
// analyzer first, in packet order.
func init() {
	analyzer.Register(analyzer.Spec{Name: "zreplay", Category: event.CatCarrier, Transport: analyzer.TCP,
		Detect: classify.Signature{Prefixes: []classify.Prefix{{Dir: flow.Resp, Bytes: "ZR-OK"}}},
		New:    func(s *analyzer.Session) analyzer.Conn { return &zreplay{s: s} }})
}

type zreplay struct {
	s     *analyzer.Session
	order []string
}

func (z *zreplay) Feed(dir flow.Dir, data []byte) (int, error) {
	z.order = append(z.order, dir.String()+":"+string(data))
	return len(data), nil
}

func (z *zreplay) End(flow.EndReason) {
	z.s.Emit(event.Event{Kind: event.Detected, Fields: map[string]any{"order": z.order}})
}

func TestReplayInPacketOrder(t *testing.T) {
	w := pcaptest.NewWriter()
	c := w.TCP(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("192.0.2.1:9"))
	c.Handshake()
	c.Send(0, []byte("hello-1"))
	c.Send(0, []byte("hello-2"))
	c.Send(1, []byte("ZR-OK"))
	c.Send(0, []byte("after"))
	c.Close()
	recs := analyzeCapture(t, w)
	if got, want := replayOrder(t, recs), []string{"orig:hello-1", "orig:hello-2", "resp:ZR-OK", "orig:after"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

// TestReplayAfterGap: a capture gap while classifying restarts probing
// after it, and the replay still hands the analyzer the bytes before the
// gap, then the gap (zreplay has no GapHandler, so that direction stops).
func TestReplayAfterGap(t *testing.T) {
	w := pcaptest.NewWriter()
	c := w.TCP(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("192.0.2.1:9"))
	c.Handshake()
	c.Send(0, []byte("hello-1"))
	c.Skip(0, 7) // "hello-2" never captured
	c.Send(0, []byte("hello-3"))
	c.Send(1, []byte("ZR-OK"))
	c.Close()
	recs := analyzeCapture(t, w)
	if got, want := replayOrder(t, recs), []string{"orig:hello-1", "resp:ZR-OK"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

// analyzeCapture writes a built capture and runs it through the pipeline.
func analyzeCapture(t *testing.T, w *pcaptest.Writer) []event.Record {
	t.Helper()
	path := filepath.Join(t.TempDir(), "capture.pcap")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	recs, _, err := pcaptest.Analyze([]string{path}, pcaptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// replayOrder returns the chunks zreplay saw, in order.
func replayOrder(t *testing.T, recs []event.Record) []string {
	t.Helper()
	for _, r := range recs {
		if r.Type == "zreplay" {
			return r.App.Fields["order"].([]string)
		}
	}
	t.Fatal("zreplay never attached")
	return nil
}
