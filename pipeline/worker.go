package pipeline

import (
	"runtime"
	"sort"
	"sync/atomic"
	"time"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/decode"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/reassembly"
)

// worker owns a shard of the flows: their table, reassembler, classifier
// state and analyzers. Only its own goroutine touches it.
type worker struct {
	id    int
	r     *run
	table *flow.Table
	asm   *reassembly.Assembler
	conns []*conn // by flow slot; pointers stay valid when the slab grows

	idx  uint64    // capture index of the packet being processed
	now  time.Time // its capture time
	file string    // its capture file name

	out  []event.Record
	emit func([]event.Record) []event.Record // hands a batch of records to the writer, returns an empty one

	embeds map[string]*embedded
	cin    classify.Input // the classifier's input, reused (see classify)
	spare  [][]byte       // classification buffers for reuse (spareBuf)

	_        [64]byte      // progress is read by the other workers: its own cache line
	progress atomic.Uint64 // every packet of this shard with a lower index is done
	_        [56]byte
	// waits[i] is the progress worker i waits for (0: none); wake is
	// where this worker is woken when the worker it waits for gets there.
	waits []atomic.Uint64
	wake  chan struct{}
	vol   volume // per-host volume in the current window
	st    workerStats
}

type workerStats struct {
	classified, unknown, detached, bufferLimit, violations, gapsToAnalyzers, reclassified uint64
	expectedFlows                                                                         uint64
}

func newWorker(id int, r *run, emit func([]event.Record) []event.Record) *worker {
	w := &worker{id: id, r: r, emit: emit, embeds: map[string]*embedded{}, spare: make([][]byte, 0, spareBufs)}
	w.waits, w.wake = make([]atomic.Uint64, r.nworkers), make(chan struct{}, 1)
	w.vol = volume{window: int64(r.volWindow), gen: 1, sums: map[volKey]*int64{}}
	fc := r.flowCfg
	fc.MaxFlows = max(1, fc.MaxFlows/r.nworkers)
	w.table = flow.NewTable(fc, flow.Hooks{End: w.endFlow, Interim: w.interim})
	sc := r.streamCfg
	sc.MaxBufferedTotal = max(1<<20, sc.MaxBufferedTotal/r.nworkers)
	w.asm = reassembly.New(sc, w)
	return w
}

func (w *worker) conn(slot uint32) *conn {
	for int(slot) >= len(w.conns) {
		w.conns = append(w.conns, &conn{})
	}
	return w.conns[slot]
}

// packet processes one decoded packet with capture index idx.
func (w *worker) packet(p *decode.Packet, idx uint64, clock int64, file string) {
	w.idx, w.now, w.file = idx, p.Timestamp, file
	w.setProgress(idx - 1)
	w.tick(clock)
	w.table.Advance(time.Unix(0, clock))
	f, dir, created := w.table.Lookup(p, idx)
	if created {
		w.startFlow(f)
	}
	c := w.conn(f.Slot)
	c.file = file
	w.account(f, c, p.WireLen)
	if p.Proto == decode.TCP {
		w.asm.Add(f, dir, p, idx)
	} else if len(p.Payload) > 0 || p.Missing > 0 {
		w.data(f, dir, p.Payload, 0, true)
	}
	if len(w.out) >= outBatch {
		w.flush()
	}
}

// outBatch is how many records a worker collects before handing them to
// the writer: larger batches mean fewer SQLite transactions.
const outBatch = 4096

// rewind ends every flow of this shard and sets its clock back: capture
// time went back for good.
func (w *worker) rewind(clock int64) {
	w.rewindWindow()
	w.table.Rewind(time.Unix(0, clock), flow.EndTimeout)
	w.flush()
}

// flush hands the pending records to the writer.
func (w *worker) flush() {
	if len(w.out) == 0 {
		return
	}
	w.out = w.emit(w.out)
}

// Data implements reassembly.Handler: in-order TCP bytes of flow f.
func (w *worker) Data(f *flow.Flow, ch reassembly.Chunk) {
	w.data(f, ch.Dir, ch.Data, ch.Gap, false)
}

// Event implements reassembly.Handler: a stream anomaly.
func (w *worker) Event(f *flow.Flow, name, detail string) {
	c := w.conn(f.Slot)
	rec := w.record(f, c, event.TypeAnomaly)
	rec.Anomaly = &event.AnomalyRec{Type: "stream", Event: name, AppProto: c.appProto()}
	rec.PW = &event.Peerwatch{Detail: detail}
	w.out = append(w.out, rec)
}

func (w *worker) startFlow(f *flow.Flow) {
	c := w.conn(f.Slot)
	c.reset(c.gen + 1)
	udp := f.Proto == decode.UDP
	w.r.engine.Hint(&c.cls, udp, f.Orig.Port(), f.Resp.Port())
	if i, ok := w.r.engine.PortHint(&c.cls); ok {
		c.portHint = i + 1
	}
	if x, ok := w.matchExpect(f); ok {
		spec := w.r.specs[x.Proto]
		if spec != nil && spec.Transport&transportOf(f) != 0 {
			conf, ev := flow.Expected, flow.EvExpectation
			if x.Hostname {
				conf = flow.Hostname
				ev = flow.EvDNS
			}
			w.st.expectedFlows++
			xp := new(analyzer.Expectation) // only a match escapes, not every new flow's lookup
			*xp = x
			w.attach(f, c, spec, conf, ev, xp)
			return
		} else if x.Hostname && x.Service != "" {
			// A DNS answer labels the flow's service but the payload
			// still decides the protocol.
			c.service, c.product = x.Service, x.Product
			c.conf, c.ev, c.named = flow.Hostname, flow.EvDNS, true
		}
	}
}

// setProgress publishes that every packet of this shard before index p+1
// is done, and wakes a worker waiting for that.
func (w *worker) setProgress(p uint64) {
	w.progress.Store(p)
	if w.r.nworkers == 1 {
		return
	}
	for i := range w.waits {
		if t := w.waits[i].Load(); t != 0 && p >= t && w.waits[i].CompareAndSwap(t, 0) {
			select {
			case w.r.workers[i].wake <- struct{}{}:
			default:
			}
		}
	}
}

// spinWait is how many times waitFor yields before it sleeps: most waits
// end within a few microseconds, while the other worker finishes its part
// of the same round.
const spinWait = 4096

// waitFor returns once worker o has passed index p. A short wait spins; a
// longer one sleeps until o wakes it, leaving the CPU to o.
func (w *worker) waitFor(o *worker, p uint64) {
	for i := 0; o.progress.Load() < p; i++ {
		if i < spinWait {
			runtime.Gosched()
			continue
		}
		o.waits[w.id].Store(p)
		if o.progress.Load() >= p {
			o.waits[w.id].Store(0)
			break
		}
		<-w.wake // a stale wake-up only costs one more check
	}
}

func transportOf(f *flow.Flow) analyzer.Transport {
	if f.Proto == decode.UDP {
		return analyzer.UDP
	}
	return analyzer.TCP
}

// matchExpect looks the new flow up in the global expectation table, after
// every worker has passed this packet's index.
func (w *worker) matchExpect(f *flow.Flow) (analyzer.Expectation, bool) {
	r := w.r
	if r.nworkers > 1 {
		for _, o := range r.workers {
			if o == w {
				continue
			}
			w.waitFor(o, w.idx-1)
		}
	}
	if r.expect.Len() == 0 {
		return analyzer.Expectation{}, false
	}
	return r.expect.Match(w.idx, w.now, f.Orig, f.Resp)
}

// data delivers in-order bytes of direction dir, after gap missing bytes.
func (w *worker) data(f *flow.Flow, dir flow.Dir, data []byte, gap int, udp bool) {
	c := w.conn(f.Slot)
	switch c.state {
	case stClassify:
		w.classify(f, c, dir, data, gap, udp)
	case stAnalyze:
		w.feed(f, c, dir, data, gap, udp)
	}
}

func (w *worker) classify(f *flow.Flow, c *conn, dir flow.Dir, data []byte, gap int, udp bool) {
	eng := w.r.engine
	limit := eng.MaxBytes()
	if gap > 0 && !udp {
		// Bytes before the gap cannot be probed together with what follows:
		// probing restarts after it, but the bytes stay for the replay.
		c.cstart[dir] = len(c.cbuf[dir])
		c.mid[dir] = true
	}
	if c.cbuf[dir] == nil {
		c.cbuf[dir] = w.spareBuf()
	}
	var input []byte
	stored := 0
	if udp {
		input = data
		if len(c.clog) < 16 && len(c.cbuf[dir])+len(data) <= 2*limit {
			c.cbuf[dir] = append(c.cbuf[dir], data...)
			stored = len(data)
		}
	} else {
		// Probes see at most limit bytes from the last restart; the buffer
		// (replayed to the analyzer) holds at most twice that.
		room := min(limit-(len(c.cbuf[dir])-c.cstart[dir]), 2*limit-len(c.cbuf[dir]))
		stored = min(max(room, 0), len(data))
		c.cbuf[dir] = append(c.cbuf[dir], data[:stored]...)
		input = c.cbuf[dir][c.cstart[dir]:]
	}
	c.clog = append(c.clog, logEntry{dir: dir, gap: int32(gap), stored: int32(stored), n: int32(len(data))})
	if len(data) > 0 {
		c.clsPkts++
	}
	if len(input) == 0 || c.clsDone[dir] {
		w.maybeGiveUp(c, limit)
		return
	}
	var other []byte
	if !udp {
		other = c.cbuf[dir.Other()][c.cstart[dir.Other()]:]
	}
	// The worker's own Input: a local one escapes to the heap through the
	// probes' interface calls. Nothing reads it after Classify, so the
	// classify nested in a replay below may overwrite it.
	in := &w.cin
	*in = classify.Input{Dir: dir, Data: input, Other: other, MidStream: f.MidStream || c.mid[dir], UDP: udp, Orig: f.Orig, Resp: f.Resp}
	v := eng.Classify(&c.cls, in)
	*in = classify.Input{} // drop the references to this flow's bytes
	if v.Done && v.Entry >= 0 {
		if spec := w.r.entrySpecs[v.Entry]; spec != nil {
			w.attach(f, c, spec, v.Confidence, v.Evidence, nil)
			w.replay(f, c, data)
			return
		}
	}
	// A UDP datagram that matched nothing says nothing of the next one:
	// only the packet budget ends a UDP flow's classification.
	if !udp && (v.Done || len(input) >= limit || len(c.cbuf[dir]) >= 2*limit) {
		c.clsDone[dir] = true
	}
	w.maybeGiveUp(c, limit)
}

func (w *worker) maybeGiveUp(c *conn, limit int) {
	if (c.clsDone[0] && c.clsDone[1]) || c.clsPkts >= w.r.maxClsPkts || len(c.clog) >= 4*w.r.maxClsPkts {
		c.state = stUnknown
		w.st.unknown++
		c.cbuf[0], c.cbuf[1], c.clog = c.cbuf[0][:0], c.cbuf[1][:0], c.clog[:0]
		c.release()
	}
}

// replay feeds the chunks seen while classifying to the new analyzer, in
// packet order; cur is the chunk being processed (the log's last entry).
func (w *worker) replay(f *flow.Flow, c *conn, cur []byte) {
	log := c.clog
	bufs := c.cbuf
	c.cbuf[0], c.cbuf[1], c.clog = nil, nil, nil
	var off [2]int
	udp := f.Proto == decode.UDP
	for i, e := range log {
		if c.state == stUnknown {
			break // the analyzer detached
		}
		d := e.dir
		var chunk []byte
		gap := int(e.gap)
		switch {
		case i == len(log)-1:
			chunk = cur
		case e.stored == 0 && e.n > 0:
			gap += int(e.n)
		default:
			chunk = bufs[d][off[d] : off[d]+int(e.stored)]
			off[d] += int(e.stored)
		}
		// An analyzer may hand the stream back (Reclassify) while the log
		// is replayed: what follows goes to the classifier again.
		if c.state == stClassify {
			w.classify(f, c, d, chunk, gap, udp)
		} else {
			w.feed(f, c, d, chunk, gap, udp)
		}
		if i < len(log)-1 && e.stored < e.n && e.stored > 0 {
			if c.state == stAnalyze {
				w.feedGapOnly(f, c, d, int(e.n-e.stored))
			}
		}
	}
	// The replayed bytes are spent (analyzers keep no data past Feed): the
	// buffers go to the worker's spares for the next flows to classify.
	for _, b := range bufs {
		w.keepBuf(b)
	}
}

// spareBufs bounds the classification buffers a worker keeps for reuse
// (each at most 8 KiB): enough for the flows that start between two
// replays, without holding a buffer per connection slot.
const spareBufs = 64

// spareBuf returns an empty buffer from the spares, or nil.
func (w *worker) spareBuf() []byte {
	n := len(w.spare)
	if n == 0 {
		return nil
	}
	b := w.spare[n-1]
	w.spare[n-1] = nil
	w.spare = w.spare[:n-1]
	return b
}

// keepBuf adds b to the spares if it is small and there is room.
func (w *worker) keepBuf(b []byte) {
	if cap(b) > 0 && cap(b) <= 8<<10 && len(w.spare) < spareBufs {
		w.spare = append(w.spare, b[:0])
	}
}

func (w *worker) feedGapOnly(f *flow.Flow, c *conn, dir flow.Dir, gap int) {
	w.feed(f, c, dir, nil, gap, false)
}

// attach hands the flow to an analyzer.
func (w *worker) attach(f *flow.Flow, c *conn, spec *analyzer.Spec, conf flow.Confidence, ev flow.Evidence, x *analyzer.Expectation) {
	c.state = stAnalyze
	c.spec = spec
	switch {
	case c.named && !spec.IsClaim():
		// A carrier (TLS, HTTP) on a flow a DNS answer named: its parse
		// says nothing of the service, which stays a hostname label.
	case c.named:
		// The payload shows an IM/P2P protocol: it overrides the name.
		c.named = false
		c.conf, c.ev = conf, ev
	default:
		if conf > c.conf || c.service == "" {
			c.conf = conf
		}
		c.ev |= ev
	}
	if spec.Service != "" {
		c.service = spec.Service
		if len(spec.Products) > 0 {
			c.product = spec.Products[0]
		}
	}
	if x != nil {
		if x.Service != "" {
			c.service, c.product = x.Service, x.Product
		}
		c.expected = x.Reason
	}
	h := &host{w: w, f: f, c: c, gen: c.gen}
	c.host = h
	c.an = spec.New(analyzer.NewSession(h, spec, x))
	c.base = [2]int64{}
	w.st.classified++
	if spec.IdleSeconds > 0 {
		w.table.SetIdle(f, time.Duration(spec.IdleSeconds)*time.Second)
	}
	if spec.Category != event.CatCarrier {
		rec := w.record(f, c, spec.Name)
		rec.App = &event.App{Event: event.Detected}
		rec.PW = w.pw(f, c, event.Detected)
		if x != nil {
			rec.PW.Feature = x.Feature
			if x.Users != (event.Users{}) {
				u := x.Users
				rec.PW.Users = &u
			}
			if x.FileName != "" {
				rec.PW.File = &event.FileInfo{Name: x.FileName, Outcome: event.Offered}
			}
		}
		w.out = append(w.out, rec)
	}
}

// feed passes bytes to the flow's analyzer, keeping what it does not consume.
func (w *worker) feed(f *flow.Flow, c *conn, dir flow.Dir, data []byte, gap int, udp bool) {
	if c.dead[dir] || c.state != stAnalyze {
		return
	}
	if gap > 0 {
		w.st.gapsToAnalyzers++
		gh, ok := c.an.(analyzer.GapHandler)
		if !ok {
			c.dead[dir] = true
			c.pend[dir] = c.pend[dir][:0]
			return
		}
		gh.Gap(dir, gap)
		c.base[dir] += int64(len(c.pend[dir]) + gap)
		c.pend[dir] = c.pend[dir][:0]
	}
	if len(data) == 0 {
		return
	}
	if udp {
		_, err := c.an.Feed(dir, data)
		c.base[dir] += int64(len(data))
		if err != nil {
			w.violation(f, c, err)
		}
		w.afterFeed(f, c, dir, data)
		return
	}
	buf := data
	pending := len(c.pend[dir]) > 0
	if pending {
		c.pend[dir] = append(c.pend[dir], data...)
		buf = c.pend[dir]
	}
	n, err := c.an.Feed(dir, buf)
	if n < 0 || n > len(buf) {
		n = len(buf)
	}
	if c.reclass {
		w.afterFeed(f, c, dir, buf)
		return
	}
	if err != nil {
		w.violation(f, c, err)
		return
	}
	rest := buf[n:]
	c.base[dir] += int64(n)
	if len(rest) > w.maxBuffer(c) {
		w.anomaly(f, c, c.spec.Name+"_buffer_limit", "unconsumed bytes over the analyzer buffer limit")
		w.st.bufferLimit++
		w.detach(c)
		return
	}
	if pending {
		k := copy(c.pend[dir], rest)
		c.pend[dir] = c.pend[dir][:k]
	} else if len(rest) > 0 {
		c.pend[dir] = append(c.pend[dir][:0], rest...)
	}
}

func (w *worker) maxBuffer(c *conn) int {
	if c.spec.MaxBuffer > 0 {
		return c.spec.MaxBuffer
	}
	return w.r.maxAnBuf
}

func (w *worker) violation(f *flow.Flow, c *conn, err error) {
	w.st.violations++
	w.anomaly(f, c, c.spec.Name+"_protocol_violation", err.Error())
	w.detach(c)
}

// detach stops feeding the analyzer; the flow keeps its label.
func (w *worker) detach(c *conn) {
	if e, ok := c.an.(analyzer.Ender); ok && c.state == stAnalyze {
		c.state = stUnknown
		e.End(flow.EndShutdown)
	}
	c.state = stUnknown
	c.an = nil
	w.st.detached++
	c.pend[0], c.pend[1] = c.pend[0][:0], c.pend[1][:0]
}

// afterFeed carries out a Reclassify request made during the last Feed:
// the bytes past the requested offsets go back to the classifier.
func (w *worker) afterFeed(f *flow.Flow, c *conn, dir flow.Dir, buf []byte) {
	if !c.reclass {
		return
	}
	w.st.reclassified++
	c.reclass = false
	var rest [2][]byte
	// buf starts at stream offset base[dir] (pending bytes plus new data).
	bufBase := c.base[dir]
	if f.Proto == decode.UDP {
		bufBase -= int64(len(buf))
	}
	if s := c.reOff[dir] - bufBase; s >= 0 && s <= int64(len(buf)) {
		rest[dir] = append([]byte(nil), buf[s:]...)
	}
	o := dir.Other()
	if s := c.reOff[o] - c.base[o]; s >= 0 && s <= int64(len(c.pend[o])) {
		rest[o] = append([]byte(nil), c.pend[o][s:]...)
	}
	if e, ok := c.an.(analyzer.Ender); ok {
		e.End(flow.EndShutdown)
	}
	carrier := c.spec.Name
	proxy := &event.Proxy{Kind: carrier, Addr: f.Resp.String(), Target: c.target}
	service, product, conf, ev := c.service, c.product, c.conf, c.ev
	gen, seq, cid, file := c.gen, c.seq, c.cid, c.file
	c.reset(gen)
	// The flow's record sequence goes on: inner records follow the
	// carrier's. It keeps its capture file too, for records written at its
	// end when no packet follows.
	c.seq, c.cid, c.file = seq, cid, file
	c.origApp, c.proxy = carrier, proxy
	// The carrier's parse evidence says nothing about the inner protocol; a
	// hostname label (DNS, SNI) for the endpoint still holds.
	if conf == flow.Hostname {
		c.service, c.product, c.conf, c.ev = service, product, conf, ev&(flow.EvDNS|flow.EvSNI)
	}
	c.state = stClassify
	w.r.engine.Hint(&c.cls, f.Proto == decode.UDP, f.Orig.Port(), f.Resp.Port())
	if len(rest[o]) > 0 {
		w.classify(f, c, o, rest[o], 0, f.Proto == decode.UDP)
	}
	if len(rest[dir]) > 0 && c.state == stClassify {
		w.classify(f, c, dir, rest[dir], 0, f.Proto == decode.UDP)
	} else if len(rest[dir]) > 0 && c.state == stAnalyze {
		w.feed(f, c, dir, rest[dir], 0, f.Proto == decode.UDP)
	}
}

// endFlow is the flow table's End hook: the last chance to flush streams,
// end analyzers and write the flow record.
func (w *worker) endFlow(f *flow.Flow, why flow.EndReason) {
	// Records written while a flow ends carry the flow's own last time and
	// no packet index: when a timeout fires depends on which packets a
	// worker saw, and the output must not.
	c := w.conn(f.Slot)
	idx, now, file := w.idx, w.now, w.file
	w.idx, w.now, w.file = 0, f.Last, c.file
	defer func() { w.idx, w.now, w.file = idx, now, file }()
	if f.Proto == decode.TCP {
		w.asm.Close(f)
	}
	if c.state == stAnalyze {
		if e, ok := c.an.(analyzer.Ender); ok {
			e.End(why)
		}
	} else if c.state == stClassify && c.service == "" {
		w.st.unknown++
	}
	w.out = append(w.out, w.flowRecord(f, c, why, false))
	c.an, c.host = nil, nil
	c.state = stUnknown
	c.gen++
	c.release()
}

// interim is the flow table's Interim hook (active timeout).
func (w *worker) interim(f *flow.Flow) {
	c := w.conn(f.Slot)
	idx, now, file := w.idx, w.now, w.file
	w.idx, w.now, w.file = 0, f.Last, c.file
	defer func() { w.idx, w.now, w.file = idx, now, file }()
	w.out = append(w.out, w.flowRecord(f, c, flow.EndTimeout, true))
}

// finish ends every live flow (end of input) and flushes records.
func (w *worker) finish() {
	// Embedded sessions first: their records name a carrier flow that
	// must still be live.
	keys := make([]string, 0, len(w.embeds))
	for k := range w.embeds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.embeds[k].close()
		delete(w.embeds, k)
	}
	w.table.Flush(flow.EndShutdown)
	w.finishWindows()
	w.flush()
}
