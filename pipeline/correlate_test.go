package pipeline_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
	"github.com/peerwatch/peerwatch/pipeline"
	"github.com/peerwatch/peerwatch/risk"
)

// Two test-only protocols exercise the correlation stage: "ztent" flows
// (opening "ZT-HELLO") only suggest the service "zsvc" (Session.Tentative);
// "zshow" flows ("ZS-SHOW") show it by payload, and send messages with
// text.
func init() {
	analyzer.Register(analyzer.Spec{Name: "ztent", Service: "zsvc", Products: []string{"Z"}, Category: event.CatP2P,
		Transport: analyzer.TCP, Detect: classify.Signature{Ports: []uint16{4444}, Prefixes: []classify.Prefix{{Bytes: "ZT-HELLO"}}},
		New: func(s *analyzer.Session) analyzer.Conn { s.Tentative("zsvc", "Z"); return &zdrain{} }})
	analyzer.Register(analyzer.Spec{Name: "zshow", Service: "zsvc", Products: []string{"Z"}, Category: event.CatP2P,
		Transport: analyzer.TCP | analyzer.UDP, Detect: classify.Signature{Prefixes: []classify.Prefix{{Bytes: "ZS-SHOW"}}},
		New: func(s *analyzer.Session) analyzer.Conn { return &zshow{s: s} }})
}

type zdrain struct{}

func (zdrain) Feed(dir flow.Dir, data []byte) (int, error) { return len(data), nil }

type zshow struct{ s *analyzer.Session }

func (z *zshow) Feed(dir flow.Dir, data []byte) (int, error) {
	z.s.Confirm()
	if i := bytes.Index(data, []byte("MSG ")); i >= 0 {
		txt := string(data[i+4:])
		z.s.Emit(event.Event{Kind: event.Message, Dir: dir, Message: &event.MessageInfo{Length: len(txt), Text: txt}})
	}
	return len(data), nil
}

var (
	zt0    = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	zhostA = netip.MustParseAddr("10.1.0.5")
	zhostB = netip.MustParseAddr("10.1.0.6")
)

// correlationCapture: host A has a tentative flow and, later, a flow that
// shows the service; host B only a tentative flow; a zshow flow sends a
// message with text.
func correlationCapture(t *testing.T) string {
	w := pcaptest.NewWriter()
	a := w.TCP(zt0, netip.AddrPortFrom(zhostA, 40001), netip.MustParseAddrPort("198.51.100.7:4444"))
	a.Handshake()
	a.Send(0, []byte("ZT-HELLO\x8f\x13\x02\x99"))
	a.Send(1, []byte("\x01\x02\x03\x04"))
	a.Close()
	b := w.TCP(a.T, netip.AddrPortFrom(zhostB, 40002), netip.MustParseAddrPort("198.51.100.8:5555"))
	b.Handshake()
	b.Send(0, []byte("ZT-HELLO\x00\x00"))
	b.Close()
	s := w.TCP(b.T.Add(time.Second), netip.AddrPortFrom(zhostA, 40003), netip.MustParseAddrPort("203.0.113.9:6666"))
	s.Handshake()
	s.Send(0, []byte("ZS-SHOW MSG please verify your password"))
	s.Close()
	path := filepath.Join(t.TempDir(), "corr.pcap")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// fakeRisk records what the correlation stage hands it.
type fakeRisk struct {
	mu      sync.Mutex
	texts   []string
	volumes []string
	ended   []uint64
}

func (f *fakeRisk) Observe(r *event.Record) []event.Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.PW != nil && r.PW.Message != nil {
		f.texts = append(f.texts, r.PW.Message.Text)
	}
	if r.Type != "zshow" || r.PW == nil || r.PW.Kind != event.Message {
		return nil
	}
	a := *r
	a.Type, a.App = event.TypeAlert, nil
	a.Alert = &event.AlertRec{Action: "allowed", GID: 1, SignatureID: 9199999, Rev: 1, Signature: "test", Category: "test", Severity: 3}
	return []event.Record{a}
}

func (f *fakeRisk) Volume(host netip.Addr, service string, window time.Time, n int64) []event.Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.volumes = append(f.volumes, fmt.Sprintf("%s %s %s %d", window.Format(time.TimeOnly), host, service, n))
	return nil
}

func (f *fakeRisk) FlowEnd(id uint64)          { f.mu.Lock(); f.ended = append(f.ended, id); f.mu.Unlock() }
func (f *fakeRisk) Matrix() []risk.Cell        { return nil }
func (f *fakeRisk) Counters() map[string]int64 { return map[string]int64{"seen": 1} }

func flowsByID(recs []event.Record) map[uint64]*event.Record {
	m := map[uint64]*event.Record{}
	for i := range recs {
		if recs[i].Type == event.TypeFlow {
			m[recs[i].FlowID] = &recs[i]
		}
	}
	return m
}

// TestTentativeCorroboration: a tentative flow is labelled only when a
// flow of the same host shows the service, and says which one; one without
// corroboration is written unclassified — with 1 and 3 workers alike.
func TestTentativeCorroboration(t *testing.T) {
	path := correlationCapture(t)
	var want []byte
	for _, workers := range []int{1, 3} {
		recs, sum, err := pcaptest.Analyze([]string{path}, pcaptest.Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		lines := pcaptest.Lines(recs)
		pcaptest.Validate(t, lines)
		flows := flowsByID(recs)
		var a, b, s *event.Record
		for _, f := range flows {
			switch {
			case f.Src.Port() == 40001:
				a = f
			case f.Src.Port() == 40002:
				b = f
			case f.Src.Port() == 40003:
				s = f
			}
		}
		if a == nil || b == nil || s == nil {
			t.Fatalf("workers %d: flows missing: %v", workers, flows)
		}
		if a.AppProto != "ztent" || a.PW.Service != "zsvc" || !slices.Equal(a.PW.CorroboratedBy, []uint64{s.FlowID}) ||
			!slices.Contains(a.PW.Evidence, "corroboration") || !slices.Contains(a.PW.Evidence, "port") || a.PW.Confidence != "probe" {
			t.Errorf("workers %d: corroborated flow: app %q pw %+v", workers, a.AppProto, a.PW)
		}
		if b.AppProto != "" || b.PW.Service != "" || b.PW.Confidence != "" || len(b.PW.Evidence) != 0 {
			t.Errorf("workers %d: uncorroborated flow still labelled: app %q pw %+v", workers, b.AppProto, b.PW)
		}
		if s.PW.Service != "zsvc" || s.PW.Confidence != "confirmed" {
			t.Errorf("workers %d: showing flow: %+v", workers, s.PW)
		}
		if sum.Services["zsvc"].Flows != 2 {
			t.Errorf("workers %d: summary counts %d zsvc flows, want 2 (the uncorroborated one is not a claim)", workers, sum.Services["zsvc"].Flows)
		}
		if want == nil {
			want = lines
		} else if !bytes.Equal(want, lines) {
			t.Errorf("workers %d: records differ from 1 worker", workers)
		}
	}
}

// TestMessageTextPrivacy: the risk stage sees message text; the output
// holds it only with --capture-content. Alerts follow their record and mark
// the flow alerted; the risk stage hears of every flow's end.
func TestMessageTextPrivacy(t *testing.T) {
	path := correlationCapture(t)
	for _, content := range []bool{false, true} {
		fr := &fakeRisk{}
		recs, _, err := pcaptest.Analyze([]string{path}, pcaptest.Options{Risk: fr,
			Config: func(c *config.Config) { c.Privacy.CaptureContent = content }})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(fr.texts, []string{"please verify your password"}) {
			t.Errorf("content %v: risk saw texts %q", content, fr.texts)
		}
		lines := string(pcaptest.Lines(recs))
		if got := strings.Contains(lines, "please verify"); got != content {
			t.Errorf("content %v: text in output %v", content, got)
		}
		alerts := 0
		for _, r := range recs {
			if r.Type == event.TypeAlert {
				alerts++
			}
			if r.Type == event.TypeFlow && r.Src.Port() == 40003 && !r.Flow.Alerted {
				t.Errorf("flow with an alert not marked alerted")
			}
		}
		if alerts != 1 {
			t.Errorf("alerts %d, want 1", alerts)
		}
		if len(fr.ended) != 3 {
			t.Errorf("FlowEnd calls %v, want the 3 flows", fr.ended)
		}
	}
}

// TestVolumeWindows: per-host volume sums per tumbling window are the same
// with 1 and 4 workers, and every byte of an IM/P2P flow lands in the
// window of its packet's capture time.
func TestVolumeWindows(t *testing.T) {
	w := pcaptest.NewWriter()
	payload := bytes.Repeat([]byte{'x'}, 1000)
	var convs []*pcaptest.Conv
	for i := 0; i < 6; i++ {
		h := zhostA
		if i%2 == 1 {
			h = zhostB
		}
		c := w.TCP(zt0.Add(time.Duration(i)*time.Second), netip.AddrPortFrom(h, uint16(41000+i)), netip.AddrPortFrom(netip.MustParseAddr("203.0.113.20"), uint16(7000+i)))
		c.Handshake()
		c.Send(0, []byte("ZS-SHOW hello"))
		convs = append(convs, c)
	}
	// Three minutes of traffic, interleaved, 20 s apart.
	for step := 0; step < 9; step++ {
		for i, c := range convs {
			c.T = zt0.Add(time.Duration(step*20+i) * time.Second)
			c.Send(0, payload)
		}
	}
	// Background traffic on other hosts and no service: never counted.
	w.UDP(zt0.Add(time.Minute), netip.MustParseAddrPort("10.9.9.9:53"), netip.MustParseAddrPort("10.9.9.8:53"), payload)
	path := filepath.Join(t.TempDir(), "vol.pcap")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, workers := range []int{1, 4} {
		fr := &fakeRisk{}
		if _, _, err := pcaptest.Analyze([]string{path}, pcaptest.Options{Workers: workers, Risk: fr}); err != nil {
			t.Fatal(err)
		}
		got := slices.Clone(fr.volumes)
		if len(got) == 0 {
			t.Fatalf("workers %d: no volume windows", workers)
		}
		if want == nil {
			want = got
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("workers %d: windows\n%s\nwant (1 worker)\n%s", workers, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	// Host A has conversations 0, 2, 4: three 1000-byte payloads per step,
	// 3 steps per minute, each a 1054-byte frame answered by a 54-byte ACK.
	if !slices.Contains(want, "10:01:00 10.1.0.5 zsvc 9972") {
		t.Errorf("window sums:\n%s", strings.Join(want, "\n"))
	}
}

var _ pipeline.Risk = (*fakeRisk)(nil)
