package pipeline

import (
	"net/netip"
	"time"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// Per-host volume (DESIGN §6, copyright_bandwidth): each worker sums the
// wire bytes of its IM/P2P flows per local host and service over tumbling
// windows of capture time, aligned on multiples of the window. When the
// capture clock leaves a window the worker hands its partial sums to the
// correlation stage with a watermark; the stage adds the workers' partials
// of a window once every worker's watermark has passed it, so 1 and N
// workers give the same sums. A clock rewind starts a new epoch.

// Internal record types between the workers and the correlation stage;
// never written.
const (
	typeVolume    = "_volume"    // a partial sum: Src host, PW.Service, Flow.BytesToServer, Time = window start
	typeWatermark = "_watermark" // a worker is done with every window before Time (in epoch Seq)
)

type volKey struct {
	host    netip.Addr
	service string
}

// volume is a worker's accounting for the current window.
type volume struct {
	window int64 // nanoseconds; 0: off
	start  int64 // start of the current window; valid iff open
	open   bool
	epoch  uint32 // bumps on every clock rewind
	gen    uint32 // bumps whenever sums is replaced: invalidates conn pointers
	sums   map[volKey]*int64
}

// account adds a packet's wire length to its flow's host and service.
func (w *worker) account(f *flow.Flow, c *conn, n int) {
	v := &w.vol
	if v.window == 0 || c.service == "" || c.tentative || n <= 0 {
		return
	}
	if c.volGen != v.gen || c.volSvc != c.service {
		c.volGen, c.volSvc, c.volPtr = v.gen, c.service, nil
		var host netip.Addr
		switch {
		case w.r.isHome(f.Orig.Addr()):
			host = f.Orig.Addr().Unmap()
		case w.r.isHome(f.Resp.Addr()):
			host = f.Resp.Addr().Unmap()
		default:
			return // no local host: nothing to rank
		}
		k := volKey{host, c.service}
		p := v.sums[k]
		if p == nil {
			p = new(int64)
			v.sums[k] = p
		}
		c.volPtr = p
	}
	if c.volPtr != nil {
		*c.volPtr += int64(n)
	}
}

// tick moves the worker's window to the one holding clock, handing over
// the sums of the window it leaves.
func (w *worker) tick(clock int64) {
	v := &w.vol
	if v.window == 0 {
		return
	}
	s := clock - clock%v.window
	if clock < 0 && clock%v.window != 0 {
		s -= v.window
	}
	if v.open && s == v.start {
		return
	}
	if v.open {
		w.closeWindow(s)
	}
	v.start, v.open = s, true
}

// closeWindow hands the current window's sums over with a watermark of
// next: every window before it is complete for this worker.
func (w *worker) closeWindow(next int64) {
	v := &w.vol
	if v.open && len(v.sums) > 0 {
		at := time.Unix(0, v.start).UTC()
		for k, p := range v.sums {
			if *p == 0 {
				continue
			}
			w.out = append(w.out, event.Record{Type: typeVolume, Time: at, Seq: v.epoch,
				Src: netip.AddrPortFrom(k.host, 0), PW: &event.Peerwatch{Service: k.service},
				Flow: &event.FlowRec{BytesToServer: uint64(*p)}})
		}
		v.sums = map[volKey]*int64{}
		v.gen++
	}
	w.out = append(w.out, event.Record{Type: typeWatermark, Time: time.Unix(0, next).UTC(), Seq: v.epoch, FlowID: uint64(w.id)})
}

// rewindWindow closes the current window for good when the capture clock
// goes back: a new epoch begins.
func (w *worker) rewindWindow() {
	v := &w.vol
	if v.window == 0 {
		return
	}
	if v.open {
		w.closeWindow(maxInt64)
	}
	v.epoch++
	v.open = false
}

// finishWindows closes the last window at the end of the input.
func (w *worker) finishWindows() {
	if w.vol.window == 0 {
		return
	}
	w.closeWindow(maxInt64)
	w.vol.open = false
	// The final watermark is of the last epoch; a higher epoch marks the
	// worker as finished whatever epochs others are in.
	w.out = append(w.out, event.Record{Type: typeWatermark, Time: time.Unix(0, maxInt64).UTC(), Seq: ^uint32(0), FlowID: uint64(w.id)})
}

const maxInt64 = int64(^uint64(0) >> 1)
