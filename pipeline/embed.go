package pipeline

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/flow"
)

// embedded is a protocol session carried inside other flows (MSNP in HTTP
// bodies), shared by every carrier connection that names the same key.
// Its records are written against the carrier flow that fed it last, with
// app_proto the embedded protocol and app_proto_orig the carrier.
//
// Limitation: embedded sessions live in a worker, so with several workers
// carrier connections of one key that hash to different workers get one
// session each; the key still groups their records.
type embedded struct {
	w     *worker
	key   string
	spec  *analyzer.Spec
	an    analyzer.Conn
	c     conn // record state: label, sequence
	f     *flow.Flow
	pend  [2][]byte
	dead  bool
	owner *host
}

func (w *worker) embed(h *host, proto, key string) analyzer.Stream {
	if !h.live() {
		return nopStream{}
	}
	spec := w.r.specs[proto]
	if spec == nil {
		h.w.anomaly(h.f, h.c, "embed_unknown_protocol", proto)
		return nopStream{}
	}
	k := proto + "\x00" + key
	e := w.embeds[k]
	if e == nil {
		if len(w.embeds) >= 4096 {
			h.w.anomaly(h.f, h.c, "embed_limit", "too many embedded sessions")
			return nopStream{}
		}
		e = &embedded{w: w, key: k, spec: spec, f: h.f}
		e.c.spec = spec
		e.c.origApp = h.c.spec.Name
		e.c.service = spec.Service
		if len(spec.Products) > 0 {
			e.c.product = spec.Products[0]
		}
		e.c.conf, e.c.ev = flow.Probe, flow.EvParse
		eh := &host{w: w, f: h.f, c: &e.c, gen: 0}
		e.c.host = eh
		e.c.state = stAnalyze
		e.an = spec.New(analyzer.NewSession(eh, spec, nil))
		e.c.an = e.an
		w.embeds[k] = e
	}
	// Records go against the carrier flow that feeds the session now.
	e.c.host.f = h.f
	e.c.cid = ""
	e.c.seq = h.c.seq + 1<<20
	return &embedStream{e: e, carrier: h}
}

type embedStream struct {
	e       *embedded
	carrier *host
}

// Feed passes carried bytes to the embedded analyzer.
func (s *embedStream) Feed(dir flow.Dir, data []byte) {
	e := s.e
	if e.dead || len(data) == 0 {
		return
	}
	e.c.host.f = s.carrier.f
	buf := data
	if len(e.pend[dir]) > 0 {
		e.pend[dir] = append(e.pend[dir], data...)
		buf = e.pend[dir]
	}
	n, err := e.an.Feed(dir, buf)
	if err != nil {
		e.w.anomaly(s.carrier.f, &e.c, e.spec.Name+"_protocol_violation", err.Error())
		e.dead = true
		return
	}
	if n < 0 || n > len(buf) {
		n = len(buf)
	}
	rest := buf[n:]
	if len(rest) > e.w.r.maxAnBuf {
		e.w.anomaly(s.carrier.f, &e.c, e.spec.Name+"_buffer_limit", "embedded stream buffer limit")
		e.dead = true
		return
	}
	e.pend[dir] = append(e.pend[dir][:0], rest...)
}

// Close ends the embedded session.
func (s *embedStream) Close() {
	e := s.e
	if cur, ok := e.w.embeds[e.key]; ok && cur == e {
		e.close()
		delete(e.w.embeds, e.key)
	}
}

func (e *embedded) close() {
	if en, ok := e.an.(analyzer.Ender); ok && !e.dead {
		en.End(flow.EndShutdown)
	}
	e.dead = true
}

type nopStream struct{}

func (nopStream) Feed(flow.Dir, []byte) {}
func (nopStream) Close()                {}
