package pipeline

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/risk"
)

// Risk is the risk stage (package risk's Engine): it weighs every record
// against the catalogue and the policy. The correlation stage calls it from
// one goroutine, records of one flow in order.
type Risk interface {
	// Observe returns the alerts rec raises, to be written right after it.
	Observe(rec *event.Record) []event.Record
	// Volume reports one local host's bytes of one service in one window.
	Volume(host netip.Addr, service string, window time.Time, bytes int64) []event.Record
	// FlowEnd frees per-flow state after the final flow record.
	FlowEnd(flowID uint64)
	// Matrix returns the measured threat matrix so far.
	Matrix() []risk.Cell
	// Counters returns the stage's counters for the stats record.
	Counters() map[string]int64
}

// Bounds of the correlation stage's state.
const (
	maxHeldFlows     = 4096 // tentative flows waiting for corroboration
	maxHeldRecords   = 64   // records kept per tentative flow
	maxCorroborators = 1 << 16
	maxAlertedFlows  = 1 << 20
)

// correlator is the correlation stage (DESIGN §2): it sees every worker's
// records in one goroutine and runs the cross-flow rules — corroboration
// of tentative flows, per-host volume windows — and the risk stage.
// Records of one flow arrive in order; records of different flows
// interleave in an order that depends on the number of workers, so every
// decision here depends only on per-flow order or waits until all workers
// have passed a point (window watermarks, the end of the input).
type correlator struct {
	risk    Risk
	content bool // --capture-content: message text is written

	// Volume windows: per-worker watermarks and the partial sums of the
	// windows not yet complete.
	marks    []winMark
	partials map[winMark]map[volKey]int64

	// Tentative flows: their records, held until the end of the input, and
	// for every service the addresses some flow showed it from by payload
	// (with the first such flow).
	held  map[uint64][]event.Record
	shown map[string]map[netip.Addr]uint64

	alerted map[uint64]bool // flows with alerts, until their final flow record

	// out is process's result, reused: the writer is done with it before
	// the next call.
	out []event.Record

	st corrStats
}

type corrStats struct {
	corroborated, uncorroborated, heldOverflow, textDropped, volumeWindows int64
}

// winMark is a point in (epoch, time): a worker's watermark, or a
// window's start.
type winMark struct {
	epoch uint32
	at    int64
}

func newCorrelator(rk Risk, content bool, nworkers int) *correlator {
	c := &correlator{risk: rk, content: content,
		marks: make([]winMark, nworkers), partials: map[winMark]map[volKey]int64{},
		held: map[uint64][]event.Record{}, shown: map[string]map[netip.Addr]uint64{},
		alerted: map[uint64]bool{}}
	for i := range c.marks {
		c.marks[i] = winMark{0, -maxInt64}
	}
	return c
}

// process takes a batch of worker records and returns what to write.
func (c *correlator) process(recs []event.Record) []event.Record {
	clear(c.out)
	out := c.out[:0]
	windows := false
	for i := range recs {
		r := &recs[i]
		switch r.Type {
		case typeVolume:
			k := winMark{r.Seq, r.Time.UnixNano()}
			m := c.partials[k]
			if m == nil {
				m = map[volKey]int64{}
				c.partials[k] = m
			}
			m[volKey{r.Src.Addr(), r.PW.Service}] += int64(r.Flow.BytesToServer)
			continue
		case typeWatermark:
			if int(r.FlowID) < len(c.marks) {
				c.marks[r.FlowID] = winMark{r.Seq, r.Time.UnixNano()}
			}
			windows = true
			continue
		}
		if r.PW != nil && r.PW.Tentative {
			out = c.hold(out, r)
			continue
		}
		c.noteShown(r)
		out = c.emit(out, r)
	}
	if windows {
		out = c.closeWindows(out, false)
	}
	c.out = out
	return out
}

// finish resolves what waits for the end of the input.
func (c *correlator) finish() []event.Record {
	var out []event.Record
	out = c.closeWindows(out, true)
	ids := make([]uint64, 0, len(c.held))
	for id := range c.held {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		out = c.resolve(out, id)
	}
	return out
}

// emit runs the risk stage on r and appends r and its alerts to out.
func (c *correlator) emit(out []event.Record, r *event.Record) []event.Record {
	var alerts []event.Record
	if c.risk != nil {
		alerts = c.risk.Observe(r)
	}
	if !c.content && r.PW != nil && r.PW.Message != nil && r.PW.Message.Text != "" {
		m := *r.PW.Message
		m.Text = ""
		r.PW.Message = &m
		c.st.textDropped++
	}
	if len(alerts) > 0 && r.FlowID != 0 && len(c.alerted) < maxAlertedFlows {
		c.alerted[r.FlowID] = true
	}
	final := r.Type == event.TypeFlow && r.Flow != nil && (r.PW == nil || !r.PW.Interim)
	if r.Type == event.TypeFlow && r.Flow != nil && c.alerted[r.FlowID] {
		r.Flow.Alerted = true
	}
	out = append(out, *r)
	out = append(out, alerts...)
	if final {
		delete(c.alerted, r.FlowID)
		if c.risk != nil {
			c.risk.FlowEnd(r.FlowID)
		}
	}
	return out
}

// noteShown remembers the addresses of a flow whose payload showed its
// service: they corroborate tentative flows of the same hosts.
func (c *correlator) noteShown(r *event.Record) {
	pw := r.PW
	if pw == nil || pw.Service == "" || pw.Confidence != flow.Confirmed.String() || r.FlowID == 0 {
		return
	}
	m := c.shown[pw.Service]
	if m == nil {
		m = map[netip.Addr]uint64{}
		c.shown[pw.Service] = m
	}
	// The lowest flow id, not the first to arrive: records of different
	// flows arrive in an order that depends on the number of workers.
	for _, a := range []netip.Addr{r.Src.Addr().Unmap(), r.Dst.Addr().Unmap()} {
		if id, ok := m[a]; ok {
			m[a] = min(id, r.FlowID)
		} else if len(m) < maxCorroborators {
			m[a] = r.FlowID
		}
	}
}

// hold keeps a tentative flow's record until the end of the input.
func (c *correlator) hold(out []event.Record, r *event.Record) []event.Record {
	id := r.FlowID
	recs, ok := c.held[id]
	if !ok && len(c.held) >= maxHeldFlows {
		// No room: decide now with what has been seen so far.
		c.st.heldOverflow++
		c.held[id] = []event.Record{*r}
		return c.resolve(out, id)
	}
	if len(recs) < maxHeldRecords || r.Type == event.TypeFlow {
		c.held[id] = append(recs, *r)
	}
	return out
}

// resolve writes a held tentative flow: labelled with the corroborating
// flows when another flow of its hosts showed the service by payload,
// unclassified otherwise.
func (c *correlator) resolve(out []event.Record, id uint64) []event.Record {
	recs := c.held[id]
	delete(c.held, id)
	if len(recs) == 0 {
		return out
	}
	first := &recs[0]
	svc := first.PW.Service
	var by []uint64
	for _, a := range []netip.Addr{first.Src.Addr().Unmap(), first.Dst.Addr().Unmap()} {
		if fid, ok := c.shown[svc][a]; ok && fid != id && !slices.Contains(by, fid) {
			by = append(by, fid)
		}
	}
	slices.Sort(by)
	if len(by) == 0 {
		c.st.uncorroborated++
		for i := range recs {
			r := &recs[i]
			if r.Type != event.TypeFlow {
				continue // its events go with the claim
			}
			r.AppProto = ""
			r.PW = &event.Peerwatch{Local: r.PW.Local, Interim: r.PW.Interim}
			out = c.emit(out, r)
		}
		return out
	}
	c.st.corroborated++
	ev, conf := flow.EvCorroboration, flow.Pattern
	for i := range recs {
		if recs[i].Type == event.TypeFlow && recs[i].PW.Evasion == event.UsualPort {
			// The usual port raises a corroborated flow's confidence; it
			// never decides.
			ev |= flow.EvPort
			conf = flow.Probe
		}
	}
	for i := range recs {
		r := &recs[i]
		pw := *r.PW
		pw.Tentative = false
		pw.CorroboratedBy = by
		ev := ev
		for _, n := range pw.Evidence {
			ev |= flow.EvidenceByName(n)
		}
		pw.Evidence = ev.Names()
		pw.Confidence = conf.String()
		r.PW = &pw
		out = c.emit(out, r)
	}
	return out
}

// closeWindows hands every window all workers have passed (all of them at
// the end) to the risk stage, oldest first.
func (c *correlator) closeWindows(out []event.Record, all bool) []event.Record {
	if len(c.partials) == 0 {
		return out
	}
	var done []winMark
	for k := range c.partials {
		if all || c.complete(k) {
			done = append(done, k)
		}
	}
	slices.SortFunc(done, func(a, b winMark) int {
		return cmp.Or(cmp.Compare(a.epoch, b.epoch), cmp.Compare(a.at, b.at))
	})
	for _, k := range done {
		m := c.partials[k]
		delete(c.partials, k)
		c.st.volumeWindows++
		keys := make([]volKey, 0, len(m))
		for vk := range m {
			keys = append(keys, vk)
		}
		slices.SortFunc(keys, func(a, b volKey) int {
			return cmp.Or(a.host.Compare(b.host), cmp.Compare(a.service, b.service))
		})
		if c.risk == nil {
			continue
		}
		for _, vk := range keys {
			out = append(out, c.risk.Volume(vk.host, vk.service, time.Unix(0, k.at).UTC(), m[vk])...)
		}
	}
	return out
}

// complete says whether every worker's watermark is past window k.
func (c *correlator) complete(k winMark) bool {
	for _, m := range c.marks {
		if m.epoch < k.epoch || (m.epoch == k.epoch && m.at <= k.at) {
			return false
		}
	}
	return true
}

// counters returns the stage's counters for peerwatch_stats.
func (c *correlator) counters() map[string]any {
	m := map[string]any{
		"tentative_corroborated":   c.st.corroborated,
		"tentative_uncorroborated": c.st.uncorroborated,
		"tentative_held_overflow":  c.st.heldOverflow,
		"volume_windows":           c.st.volumeWindows,
		"message_text_dropped":     c.st.textDropped,
	}
	if c.risk != nil {
		rc := map[string]any{}
		for k, v := range c.risk.Counters() {
			rc[k] = v
		}
		m["risk"] = rc
	}
	return m
}

// matrixJSON renders the threat matrix for the peerwatch_stats record.
func matrixJSON(cells []risk.Cell) []any {
	out := make([]any, 0, len(cells))
	for _, c := range cells {
		m := map[string]any{"host": c.Host.String(), "home": c.Home, "service": c.Service, "risk": string(c.Risk),
			"count": c.Count, "alerts": c.Alerts, "worst": c.Worst.String(),
			"first": c.First.UTC().Format(eveTime), "last": c.Last.UTC().Format(eveTime)}
		if c.Product != "" {
			m["product"] = c.Product
		}
		out = append(out, m)
	}
	return out
}

// eveTime is EVE's timestamp layout.
const eveTime = "2006-01-02T15:04:05.000000+0000"
