package analyzer

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// Recorder is a Host for protocol unit tests: it records what a Conn
// reports without running the engine.
type Recorder struct {
	F           flow.Flow
	Time        time.Time
	Opts        Options
	Confirmed   bool
	Service     string
	Product     string
	Evidence    flow.Evidence // from Label
	Tentatively bool          // from Tentative
	Events      []event.Event
	Texts       []string // message texts as the analyzer gave them (the content rules' input)
	Anomalies   []string // "name: detail"
	Expects     []Expectation
	Reclassed   [][2]int
	Files       []*File
	EmbedStream func(proto, key string) Stream
}

// NewRecorder returns a Recorder whose fingerprints use a fixed test key.
func NewRecorder() *Recorder {
	r := &Recorder{}
	r.Opts.Fingerprint = func(b []byte) string {
		m := hmac.New(sha256.New, []byte("peerwatch-test-key"))
		m.Write(b)
		return hex.EncodeToString(m.Sum(nil)[:8])
	}
	return r
}

// Session returns a Session for spec bound to r.
func (r *Recorder) Session(spec *Spec) *Session { return NewSession(r, spec, nil) }

// Flow implements Host.
func (r *Recorder) Flow() *flow.Flow { return &r.F }

// Confirm implements Host.
func (r *Recorder) Confirm() { r.Confirmed = true }

// SetService implements Host.
func (r *Recorder) SetService(service, product string) { r.Service, r.Product = service, product }

// Label implements Host.
func (r *Recorder) Label(service, product string, ev flow.Evidence) {
	r.Service, r.Product = service, product
	r.Evidence |= ev
}

// Tentative implements Host.
func (r *Recorder) Tentative(service, product string) {
	r.Service, r.Product, r.Tentatively = service, product, true
}

// Emit implements Host.
func (r *Recorder) Emit(e event.Event) {
	if e.Message != nil && e.Message.Text != "" {
		r.Texts = append(r.Texts, e.Message.Text)
		if !r.Opts.CaptureContent {
			// As the engine does: the text is not kept without
			// --capture-content.
			m := *e.Message
			m.Text = ""
			e.Message = &m
		}
	}
	r.Events = append(r.Events, e)
}

// Anomaly implements Host.
func (r *Recorder) Anomaly(name, detail string) { r.Anomalies = append(r.Anomalies, name+": "+detail) }

// Expect implements Host.
func (r *Recorder) Expect(x Expectation) { r.Expects = append(r.Expects, x) }

// Reclassify implements Host.
func (r *Recorder) Reclassify(o, p int) { r.Reclassed = append(r.Reclassed, [2]int{o, p}) }

// FileDone implements Host.
func (r *Recorder) FileDone(f *File) { r.Files = append(r.Files, f) }

// Embed implements Host.
func (r *Recorder) Embed(proto, key string) Stream {
	if r.EmbedStream != nil {
		return r.EmbedStream(proto, key)
	}
	return nopStream{}
}

// Options implements Host.
func (r *Recorder) Options() Options { return r.Opts }

// Now implements Host.
func (r *Recorder) Now() time.Time { return r.Time }

type nopStream struct{}

func (nopStream) Feed(flow.Dir, []byte) {}
func (nopStream) Close()                {}

// Feeder drives a Conn in protocol unit tests the way the engine does for
// a TCP stream: the bytes a Feed call leaves unconsumed are offered again,
// followed by the new ones, on the next call in the same direction.
type Feeder struct {
	Conn Conn
	pend [2][]byte
}

// Feed passes b in direction dir, after what is pending, and returns the
// Conn's error.
func (f *Feeder) Feed(dir flow.Dir, b []byte) error {
	buf := append(f.pend[dir], b...)
	n, err := f.Conn.Feed(dir, buf)
	n = min(max(n, 0), len(buf))
	f.pend[dir] = append([]byte(nil), buf[n:]...)
	return err
}
