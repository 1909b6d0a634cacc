package pipeline

import (
	"strings"
	"time"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/decode"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// host is the engine side of one analyzer's Session. A host outlives its
// flow only as garbage: once the slot's generation moves on, every call is
// ignored.
type host struct {
	w   *worker
	f   *flow.Flow
	c   *conn
	gen uint32
}

func (h *host) live() bool { return h.c.gen == h.gen && h.c.host == h }

// Flow implements analyzer.Host.
func (h *host) Flow() *flow.Flow { return h.f }

// Now implements analyzer.Host.
func (h *host) Now() time.Time { return h.w.now }

// Options implements analyzer.Host.
func (h *host) Options() analyzer.Options { return h.w.r.opts }

// Confirm implements analyzer.Host.
func (h *host) Confirm() {
	if !h.live() || h.c.named {
		return // a carrier's parse says nothing of the service its name gave
	}
	h.c.ev |= flow.EvParse
	if h.c.conf < flow.Confirmed {
		h.c.conf = flow.Confirmed
	}
}

// SetService implements analyzer.Host.
func (h *host) SetService(service, product string) {
	if h.live() {
		h.c.service, h.c.product = service, product
	}
}

// Label implements analyzer.Host.
func (h *host) Label(service, product string, ev flow.Evidence) {
	if !h.live() {
		return
	}
	c := h.c
	if c.spec != nil && c.spec.IsClaim() {
		c.ev |= ev // the payload decided; the name corroborates
		return
	}
	c.service, c.product = service, product
	c.conf, c.ev, c.named = flow.Hostname, ev, true
}

// Tentative implements analyzer.Host.
func (h *host) Tentative(service, product string) {
	if h.live() {
		h.c.service, h.c.product, h.c.tentative = service, product, true
	}
}

// Emit implements analyzer.Host.
func (h *host) Emit(e event.Event) {
	if !h.live() {
		return
	}
	w, c := h.w, h.c
	if e.Kind == event.Tunnel && e.Tunnel != nil {
		c.target = e.Tunnel.Target
	}
	rec := w.record(h.f, c, c.spec.Name)
	rec.App = &event.App{Event: e.Kind, Fields: e.Fields}
	pw := w.pw(h.f, c, e.Kind)
	if e.Service != "" {
		pw.Service, pw.Product = e.Service, e.Product
	}
	pw.Feature = e.Feature
	if e.Users != (event.Users{}) {
		u := e.Users
		pw.Users = &u
	}
	pw.Login, pw.Message, pw.File = e.Login, e.Message, e.File
	pw.Credential, pw.Direct, pw.Tunnel, pw.Search = e.Credential, e.Direct, e.Tunnel, e.Search
	rec.PW = pw
	w.out = append(w.out, rec)
}

// Anomaly implements analyzer.Host.
func (h *host) Anomaly(name, detail string) {
	if h.live() {
		h.w.anomaly(h.f, h.c, name, detail)
	}
}

// Expect implements analyzer.Host.
func (h *host) Expect(x analyzer.Expectation) {
	if !h.live() {
		return
	}
	x.Index, x.Created, x.Source = h.w.idx, h.w.now, h.f.ID
	if !h.w.r.expect.Add(x) {
		h.w.anomaly(h.f, h.c, "expectation_dropped", "expectation table bound reached")
	}
}

// Reclassify implements analyzer.Host.
func (h *host) Reclassify(origOff, respOff int) {
	if h.live() {
		h.c.reclass = true
		h.c.reOff = [2]int64{int64(origOff), int64(respOff)}
	}
}

// FileDone implements analyzer.Host.
func (h *host) FileDone(f *analyzer.File) {
	if !h.live() {
		return
	}
	w, c := h.w, h.c
	rec := w.record(h.f, c, event.TypeFileinfo)
	fr := f.Record()
	rec.File = &fr
	pw := w.pw(h.f, c, event.File)
	pw.Feature = f.Feature()
	pw.FileType = f.Type()
	rec.PW = pw
	w.out = append(w.out, rec)
}

// Embed implements analyzer.Host.
func (h *host) Embed(proto, key string) analyzer.Stream {
	return h.w.embed(h, proto, key)
}

// record starts a record with the envelope of flow f.
func (w *worker) record(f *flow.Flow, c *conn, typ string) event.Record {
	if c.cid == "" {
		c.cid = flow.CommunityID(f)
	}
	rec := event.Record{
		Type: typ, Time: w.now, FlowID: f.ID, Seq: c.seq, PcapCnt: w.idx, PcapFile: w.file,
		Src: f.Orig, Dst: f.Resp, Proto: protoName(f.Proto),
		AppProto: c.appProto(), AppProtoOrig: c.origApp, CommunityID: c.cid,
	}
	if f.VLAN[0] != 0 {
		rec.VLAN = []uint16{f.VLAN[0]}
		if f.VLAN[1] != 0 {
			rec.VLAN = append(rec.VLAN, f.VLAN[1])
		}
	}
	c.seq++
	return rec
}

func protoName(p decode.IPProto) string {
	switch p {
	case decode.TCP:
		return "TCP"
	case decode.UDP:
		return "UDP"
	}
	return "IP"
}

// pw builds the peerwatch object for a record of flow f.
func (w *worker) pw(f *flow.Flow, c *conn, kind event.Kind) *event.Peerwatch {
	pw := &event.Peerwatch{Kind: kind, Service: c.service, Product: c.product, Proxy: c.proxy,
		Expectation: c.expected, Local: w.r.localSide(f)}
	if c.spec != nil {
		pw.Category = c.spec.Category
	}
	if c.conf != flow.None {
		pw.Confidence = c.conf.String()
		pw.Evidence = c.ev.Names()
	}
	pw.Tentative = c.tentative
	return pw
}

func (w *worker) anomaly(f *flow.Flow, c *conn, name, detail string) {
	rec := w.record(f, c, event.TypeAnomaly)
	rec.Anomaly = &event.AnomalyRec{Type: "applayer", Event: name, Layer: "proto_parser", AppProto: c.appProto()}
	rec.PW = &event.Peerwatch{Detail: detail, Service: c.service, Local: w.r.localSide(f), Tentative: c.tentative}
	w.out = append(w.out, rec)
}

// flowRecord builds the flow record (final, or interim at the active timeout).
func (w *worker) flowRecord(f *flow.Flow, c *conn, why flow.EndReason, interim bool) event.Record {
	rec := w.record(f, c, event.TypeFlow)
	rec.Time, rec.PcapCnt = f.Last, 0
	state := f.State.String()
	if f.Proto == decode.UDP && state == "closed" {
		state = "established"
	}
	rec.Flow = &event.FlowRec{
		PktsToServer: f.Pkts[flow.Orig], PktsToClient: f.Pkts[flow.Resp],
		BytesToServer: f.Bytes[flow.Orig], BytesToClient: f.Bytes[flow.Resp],
		Start: f.First, End: f.Last, Age: int64(f.Last.Sub(f.First) / time.Second),
		State: state, Reason: why.String(), Alerted: c.alerted,
	}
	pw := &event.Peerwatch{Service: c.service, Product: c.product, Proxy: c.proxy, Expectation: c.expected,
		Interim: interim, Local: w.r.localSide(f)}
	if c.spec != nil {
		pw.Category = c.spec.Category
	}
	if c.conf != flow.None {
		pw.Confidence = c.conf.String()
		pw.Evidence = c.ev.Names()
	}
	pw.Evasion = w.evasion(f, c)
	pw.Tentative = c.tentative
	rec.PW = pw
	return rec
}

// evasion says how an IM/P2P flow got through (DESIGN §6, the evasion
// column): through a proxy, tunnelled in HTTP, on its protocol's usual
// port or on another one. Flows without an IM/P2P service, and peer
// protocols without a usual port, get "".
func (w *worker) evasion(f *flow.Flow, c *conn) string {
	if c.service == "" {
		return ""
	}
	if c.proxy != nil {
		return event.ViaProxy // reclassified after a SOCKS or CONNECT handshake
	}
	if c.spec == nil || !c.spec.IsClaim() {
		if c.spec != nil && c.spec.Name == "http" {
			return event.HTTPTunnel // IM in HTTP bodies (a gateway)
		}
		return "" // a hostname label: no usual port to compare
	}
	if strings.HasSuffix(c.spec.Name, "_http") {
		return event.HTTPTunnel
	}
	if len(c.spec.Detect.Ports) == 0 {
		return ""
	}
	for _, p := range c.spec.Detect.Ports {
		if p == f.Resp.Port() || p == f.Orig.Port() {
			return event.UsualPort
		}
	}
	return event.OtherPort
}
