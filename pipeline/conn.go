package pipeline

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// Per-flow engine states.
const (
	stClassify uint8 = iota // probing the first bytes
	stAnalyze               // an analyzer owns the flow
	stUnknown               // classification gave up; only the flow record remains
)

// logEntry records one chunk seen while classifying, so the chosen analyzer
// gets the conversation replayed in packet order from its first byte.
type logEntry struct {
	dir    flow.Dir
	gap    int32 // bytes missing before the chunk
	stored int32 // bytes of the chunk kept in cbuf
	n      int32 // bytes of the chunk
}

// conn is the engine's per-flow state, kept in a slab indexed by flow slot.
type conn struct {
	state uint8
	gen   uint32 // bumps each time the slot is reused, so stale hosts do nothing
	file  string // capture file of the flow's latest packet: records written at its end name it

	cls      classify.State
	cbuf     [2][]byte
	cstart   [2]int // where probing restarts in cbuf after a gap
	clog     []logEntry
	mid      [2]bool // a direction lost bytes before or during classification
	clsDone  [2]bool
	clsPkts  int
	portHint int // entry index + 1; 0 none

	spec *analyzer.Spec
	an   analyzer.Conn
	host *host

	conf     flow.Confidence
	ev       flow.Evidence
	service  string
	product  string
	origApp  string // app_proto_orig: the carrier before the last protocol change
	proxy    *event.Proxy
	target   string // the last tunnel target an analyzer announced
	expected string // why the flow was expected
	named    bool   // the service came from a hostname (Session.Label) on a carrier
	// tentative: the analyzer named the service only as a candidate
	// (Session.Tentative); the correlation stage decides.
	tentative bool

	// Volume accounting (volume.go): the counter of this flow's host and
	// service in the worker's current window, valid while volGen matches.
	volGen  uint32
	volSvc  string
	volPtr  *int64
	alerted bool

	pend [2][]byte // unconsumed analyzer bytes per direction
	base [2]int64  // stream offset of pend[d][0] (or of the next byte when pend is empty)
	dead [2]bool   // a direction no longer fed (gap without GapHandler)

	reclass bool
	reOff   [2]int64

	seq  uint32
	cid  string // community id, computed on first use
	apps []string
}

func (c *conn) reset(gen uint32) {
	cb0, cb1 := c.cbuf[0][:0], c.cbuf[1][:0]
	p0, p1 := c.pend[0][:0], c.pend[1][:0]
	lg := c.clog[:0]
	*c = conn{gen: gen}
	c.cbuf[0], c.cbuf[1] = cb0, cb1
	c.pend[0], c.pend[1] = p0, p1
	c.clog = lg
}

// release drops large buffers so a slab of finished flows does not pin memory.
func (c *conn) release() {
	for d := 0; d < 2; d++ {
		if cap(c.cbuf[d]) > 8<<10 {
			c.cbuf[d] = nil
		}
		if cap(c.pend[d]) > 8<<10 {
			c.pend[d] = nil
		}
	}
	if cap(c.clog) > 64 {
		c.clog = nil
	}
}

// appProto is the flow's app_proto: the analyzer's protocol name.
func (c *conn) appProto() string {
	if c.spec != nil {
		return c.spec.Name
	}
	return ""
}
