package pipeline

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/capture/pcapfile"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/decode"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/hostnames"
	"github.com/peerwatch/peerwatch/reassembly"
)

// Sink receives records; see package sink. Write is called from one
// goroutine and may block (back-pressure).
type Sink interface {
	Write(recs []event.Record) error
	Close() error
}

// Options configure one run.
type Options struct {
	Config config.Config
	Files  []string
	Sinks  []Sink
	// FingerprintKey keys the credential fingerprints (HMAC-SHA-256).
	FingerprintKey []byte
	// Progress, if set, is called from the reader now and then with the
	// bytes read from the current file and its index in Files.
	Progress func(file int, offset int64, packets uint64)
	// Risk, if set, is the risk stage: findings become alert records and
	// the measured threat matrix goes into the peerwatch_stats record.
	Risk Risk
}

// run is the state shared by the reader and the workers of one Run.
type run struct {
	engine *classify.Engine
	// specs are the registered analyzers by name and entrySpecs the same
	// by the engine's entry index, copied when the run starts: the workers
	// read them without the registry's lock and attach flows to them
	// without a copy each.
	specs      map[string]*analyzer.Spec
	entrySpecs []*analyzer.Spec
	flowCfg    flow.Config
	streamCfg  reassembly.Config
	expect     *analyzer.Expectations
	opts       analyzer.Options
	home       []netip.Prefix
	nworkers   int
	workers    []*worker
	maxClsPkts int
	maxAnBuf   int
	volWindow  time.Duration // per-host volume window; 0: off
}

// localSide says which ends of f are in home_net.
func (r *run) localSide(f *flow.Flow) string {
	o, p := r.isHome(f.Orig.Addr()), r.isHome(f.Resp.Addr())
	switch {
	case o && p:
		return "both"
	case o:
		return "src"
	case p:
		return "dest"
	}
	return "none"
}

func (r *run) isHome(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range r.home {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Engine returns a classifier over every registered analyzer, in name order.
func Engine() *classify.Engine {
	var entries []classify.Entry
	for _, s := range analyzer.All() {
		entries = append(entries, classify.Entry{Name: s.Name, Sig: s.Detect,
			TCP: s.Transport&analyzer.TCP != 0, UDP: s.Transport&analyzer.UDP != 0})
	}
	return classify.New(entries)
}

// InputError is a damaged or unreadable capture: the run wrote everything
// found before it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Run reads the files in order as one capture, analyzes them and writes the
// records to the sinks, which it closes. Records found before an input error
// are written; the error is returned as *InputError after the other files
// were read.
func Run(ctx context.Context, o Options) (*Summary, error) {
	cfg := o.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := newRun(cfg, o.FingerprintKey)
	if cfg.HostnamesFile != "" {
		f, err := os.Open(cfg.HostnamesFile)
		if err != nil {
			return nil, fmt.Errorf("pipeline: hostnames: %w", err)
		}
		names, err := hostnames.Default().Extend(f, cfg.HostnamesFile)
		f.Close()
		if err != nil {
			return nil, err
		}
		r.opts.Hostnames = names
	}
	if o.Risk != nil {
		r.volWindow = cfg.Risk.Window
	}
	sum := newSummary()
	cor := newCorrelator(o.Risk, cfg.Privacy.CaptureContent, r.nworkers)
	wr := &writer{sinks: o.Sinks, sum: sum, cor: cor}
	start := time.Now()

	// emit hands a worker's batch to the writer and returns an empty slice
	// for the next one: the same one once the writer is done with it
	// (nothing downstream keeps a record slice), so batches are not
	// allocated and zeroed again and again.
	var emit func([]event.Record) []event.Record
	var wg sync.WaitGroup
	var recCh chan []event.Record
	if r.nworkers == 1 {
		emit = func(b []event.Record) []event.Record {
			wr.write(b)
			clear(b)
			return b[:0]
		}
	} else {
		recCh = make(chan []event.Record, 64)
		spare := make(chan []event.Record, 2*r.nworkers)
		emit = func(b []event.Record) []event.Record {
			recCh <- b
			select {
			case s := <-spare:
				return s
			default:
				return nil
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range recCh {
				wr.write(b)
				clear(b)
				select {
				case spare <- b[:0]:
				default:
				}
			}
		}()
	}
	for i := 0; i < r.nworkers; i++ {
		r.workers = append(r.workers, newWorker(i, r, emit))
	}

	rd := &reader{r: r, o: &o, sum: sum, dec: decode.NewDecoder(decode.Config{
		FragTimeout: cfg.Frag.Timeout, FragMemory: cfg.Frag.MaxBytes, FragMaxDatagrams: cfg.Frag.MaxDatagrams})}
	var inErr error
	if r.nworkers == 1 {
		inErr = rd.readAll(ctx, func(p *decode.Packet, idx uint64, clock int64, rewind bool, file string) {
			if rewind {
				r.workers[0].rewind(clock)
			}
			r.workers[0].packet(p, idx, clock, file)
		}, func() {
			// Packets that decode to nothing still move the clock.
			r.workers[0].tick(rd.clock)
			r.workers[0].table.Advance(time.Unix(0, rd.clock))
		})
		r.workers[0].finish()
	} else {
		inErr = rd.sharded(ctx)
	}
	if recCh != nil {
		close(recCh)
		wg.Wait()
	}
	wr.writeOut(cor.finish())
	sum.finish(r, rd.dec, time.Since(start))
	stats := statsRecords(sum, r, time.Since(start))
	for i := range stats {
		if stats[i].Type == event.TypePeerwatchStats {
			stats[i].Stats.Peerwatch["correlation"] = cor.counters()
			if o.Risk != nil {
				stats[i].Stats.Peerwatch["risk_matrix"] = matrixJSON(o.Risk.Matrix())
			}
		}
	}
	wr.writeOut(stats)
	var closeErr error
	for _, s := range o.Sinks {
		if err := s.Close(); err != nil && closeErr == nil {
			closeErr = err
		}
	}
	switch {
	case wr.err != nil:
		return sum, fmt.Errorf("pipeline: writing records: %w", wr.err)
	case closeErr != nil:
		return sum, fmt.Errorf("pipeline: closing output: %w", closeErr)
	case inErr != nil:
		return sum, &InputError{Err: inErr}
	}
	return sum, nil
}

// newRun builds the shared state of a run from a validated configuration.
func newRun(cfg config.Config, key []byte) *run {
	home, _ := cfg.Prefixes()
	r := &run{
		engine: Engine(),
		flowCfg: flow.Config{MaxFlows: cfg.Flow.MaxFlows, TCPIdle: cfg.Flow.TCPIdle, TCPEmbryonic: cfg.Flow.TCPEmbryonic,
			UDPIdle: cfg.Flow.UDPIdle, Linger: cfg.Flow.Linger, ActiveTimeout: cfg.Flow.ActiveTimeout},
		streamCfg: reassembly.Config{MaxBufferedPerDir: cfg.Stream.MaxBufferedPerDir, MaxBufferedTotal: cfg.Stream.MaxBufferedTotal},
		expect:    analyzer.NewExpectations(analyzer.ExpectConfig{Max: cfg.Expect.Max, PerHost: cfg.Expect.PerHost, TTL: cfg.Expect.TTL}),
		opts: analyzer.Options{CaptureContent: cfg.Privacy.CaptureContent, RevealCredentials: cfg.Privacy.RevealCredentials,
			ExtractDir: cfg.Files.ExtractDir, ExtractMax: cfg.Files.ExtractMax, Params: cfg.Protocols,
			Fingerprint: func(b []byte) string {
				m := hmac.New(sha256.New, key)
				m.Write(b)
				return hex.EncodeToString(m.Sum(nil)[:12])
			}},
		home:       home,
		nworkers:   cfg.Workers,
		maxClsPkts: cfg.Classifier.MaxPackets,
		maxAnBuf:   cfg.Stream.MaxAnalyzerBuffer,
	}
	all := analyzer.All()
	r.specs = make(map[string]*analyzer.Spec, len(all))
	for i := range all {
		r.specs[all[i].Name] = &all[i]
	}
	for _, e := range r.engine.Entries() {
		r.entrySpecs = append(r.entrySpecs, r.specs[e.Name])
	}
	return r
}

// writer passes worker record batches through the correlation stage to
// every sink, and feeds the summary. One goroutine calls it.
type writer struct {
	sinks []Sink
	sum   *Summary
	cor   *correlator
	err   error
}

func (w *writer) write(recs []event.Record) {
	w.writeOut(w.cor.process(recs))
}

// writeOut writes records that passed the correlation stage.
func (w *writer) writeOut(recs []event.Record) {
	if len(recs) == 0 {
		return
	}
	w.sum.observe(recs)
	if w.err != nil {
		return
	}
	for _, s := range w.sinks {
		if err := s.Write(recs); err != nil {
			w.err = err
			return
		}
	}
}

// reader reads the capture files and decodes their packets.
type reader struct {
	r   *run
	o   *Options
	sum *Summary
	dec *decode.Decoder
	idx uint64
	// clock is the capture clock: the latest timestamp seen so far, in Unix
	// nanoseconds. Every worker's flow timers run on it, so timeouts fire
	// at the same packet index whatever the number of workers, even when
	// a capture's timestamps go back.
	clock int64
	// rewind is set when the clock went back for good; the next decoded
	// packet carries it to the workers.
	rewind bool
}

// clockJumpBack is how far capture time may go back (reordering, merged
// interfaces) before it counts as a new epoch: the flows of the old epoch
// end and the clock follows the packets back.
const clockJumpBack = 10 * time.Minute

// readAll reads every file in order, calling pkt for each decoded packet and,
// if set, fileDone after each file. Read errors are collected: the next file
// is still read.
func (rd *reader) readAll(ctx context.Context, pkt func(p *decode.Packet, idx uint64, clock int64, rewind bool, file string), fileDone func()) error {
	var errs []error
	var p decode.Packet
	for fi, path := range rd.o.Files {
		if err := ctx.Err(); err != nil {
			rd.sum.Interrupted = true
			break
		}
		src, err := pcapfile.Open(path)
		if err != nil {
			errs = append(errs, err)
			rd.sum.FileErrors = append(rd.sum.FileErrors, err.Error())
			continue
		}
		name := filepath.Base(path)
		fs := FileSummary{Name: path, Format: src.Format()}
		for n := uint64(0); ; n++ {
			if n&1023 == 0 {
				if ctx.Err() != nil {
					rd.sum.Interrupted = true
					break
				}
				if rd.o.Progress != nil {
					rd.o.Progress(fi, src.Offset(), rd.sum.Packets)
				}
			}
			data, ci, err := src.ReadPacket()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					errs = append(errs, err)
					fs.Error = err.Error()
					rd.sum.FileErrors = append(rd.sum.FileErrors, err.Error())
				}
				break
			}
			rd.idx++
			ns := ci.Timestamp.UnixNano()
			switch {
			case ns > rd.clock || rd.idx == 1:
				rd.clock = ns
			case rd.clock-ns > int64(clockJumpBack):
				rd.clock = ns
				rd.rewind = true
				rd.sum.Rewinds++
			}
			fs.Packets++
			rd.sum.Packets++
			rd.sum.Bytes += uint64(ci.Length)
			reason := rd.dec.Decode(ci.LinkType, data, ci.Length, ci.Timestamp, &p)
			rd.sum.Reasons[reason]++
			if reason == decode.UnsupportedLink {
				rd.sum.noteLink(ci.LinkType)
			}
			if reason != decode.OK {
				continue
			}
			p.Timestamp = ci.Timestamp
			pkt(&p, rd.idx, rd.clock, rd.rewind, name)
			rd.rewind = false
		}
		if rd.o.Progress != nil {
			rd.o.Progress(fi, src.Offset(), rd.sum.Packets)
		}
		src.Close()
		rd.sum.Files = append(rd.sum.Files, fs)
		if fileDone != nil {
			fileDone()
		}
	}
	return errors.Join(errs...)
}

// Batch hand-off between the reader and the workers.
const (
	roundPackets = 1024    // packets per round across all workers
	arenaSize    = 1 << 20 // payload bytes a worker's batch holds
	batchesAhead = 4
)

type batch struct {
	pkts     []decode.Packet
	idx      []uint64
	clock    []int64
	arena    []byte
	file     string
	end      uint64
	endClock int64
	// rewind asks the worker to end its flows and set its clock back to
	// rewindClock before the batch's packets.
	rewind      bool
	rewindClock int64
}

type shard struct {
	in   chan *batch
	free chan *batch
	cur  *batch
}

// sharded reads with the reader in this goroutine and one goroutine per
// worker, handing packets over in rounds of batches keyed by flow hash.
func (rd *reader) sharded(ctx context.Context) error {
	r := rd.r
	shards := make([]*shard, r.nworkers)
	var wg sync.WaitGroup
	for i := range shards {
		s := &shard{in: make(chan *batch, batchesAhead), free: make(chan *batch, batchesAhead+1)}
		for k := 0; k <= batchesAhead; k++ {
			s.free <- &batch{arena: make([]byte, 0, arenaSize)}
		}
		shards[i] = s
		w := r.workers[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range s.in {
				if b.rewind {
					w.rewind(b.rewindClock)
				}
				// Progress runs ahead to just before this shard's next packet:
				// a worker matching expectations waits only while this one
				// still has an earlier packet to process.
				if len(b.pkts) > 0 {
					w.setProgress(b.idx[0] - 1)
				}
				for j := range b.pkts {
					w.packet(&b.pkts[j], b.idx[j], b.clock[j], b.file)
					if j+1 < len(b.pkts) {
						w.setProgress(b.idx[j+1] - 1)
					}
				}
				w.setProgress(b.end)
				// The round's clock: another shard's packets may have moved it.
				w.tick(b.endClock)
				w.table.Advance(time.Unix(0, b.endClock))
				w.flush()
				b.pkts, b.idx, b.clock, b.arena = b.pkts[:0], b.idx[:0], b.clock[:0], b.arena[:0]
				b.rewind = false
				s.free <- b
			}
			w.finish()
		}()
	}
	var file string
	inRound := 0
	var lastIdx uint64
	var lastClock int64
	rewind, rewindClock := false, int64(0)
	take := func(s *shard) *batch {
		b := <-s.free
		b.rewind, b.rewindClock = rewind, rewindClock
		return b
	}
	sendRound := func() {
		for _, s := range shards {
			if s.cur == nil {
				s.cur = take(s)
			}
			s.cur.end, s.cur.endClock, s.cur.file = lastIdx, lastClock, file
			s.in <- s.cur
			s.cur = nil
		}
		inRound = 0
		rewind = false
	}
	err := rd.readAll(ctx, func(p *decode.Packet, idx uint64, clock int64, rw bool, name string) {
		if (name != file || rw) && inRound > 0 {
			sendRound()
		}
		if rw {
			// The round before ended at the previous packet; every worker
			// rewinds before its first packet of this one.
			rewind, rewindClock = true, clock
		}
		file = name
		s := shards[flow.Hash(p)%uint64(len(shards))]
		if s.cur == nil {
			s.cur = take(s)
		}
		if len(s.cur.arena)+len(p.Payload) > cap(s.cur.arena) {
			sendRound()
			s.cur = take(s)
		}
		b := s.cur
		q := *p
		off := len(b.arena)
		b.arena = append(b.arena, p.Payload...)
		q.Payload = b.arena[off:len(b.arena):len(b.arena)]
		b.pkts = append(b.pkts, q)
		b.idx = append(b.idx, idx)
		b.clock = append(b.clock, clock)
		lastIdx, lastClock = idx, clock
		if inRound++; inRound >= roundPackets {
			sendRound()
		}
	}, func() {
		lastIdx, lastClock = rd.idx, rd.clock
		if inRound > 0 {
			sendRound()
		}
	})
	lastIdx, lastClock = rd.idx, rd.clock
	sendRound()
	for _, s := range shards {
		close(s.in)
	}
	wg.Wait()
	return err
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
