package reassembly

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/peerwatch/peerwatch/decode"
	"github.com/peerwatch/peerwatch/flow"
)

// corpusDir names a directory of captures to run instead of
// ../shared/pcaps, such as ../shared/corpus/ndpi.
var corpusDir = flag.String("corpus", "", "run TestSharedCaptures over the captures in this directory")

// sharedDir returns ../shared from the module root, or "" if it is absent.
func sharedDir() string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "shared")
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

// capture is a minimal pcap and pcapng reader (the module's pcapgo
// dependency is not vendored, and the capture package is a later stage).
// It returns frames with their link type; timestamps are not needed here.
type capture struct {
	r     *bufio.Reader
	ng    bool
	order binary.ByteOrder
	link  layers.LinkType   // pcap
	links []layers.LinkType // pcapng, by interface id
}

var errBadCapture = errors.New("reassembly: bad capture file")

func openCapture(path string) (*capture, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	c := &capture{r: bufio.NewReader(f)}
	hdr := make([]byte, 24)
	if _, err := io.ReadFull(c.r, hdr[:4]); err != nil {
		f.Close()
		return nil, nil, err
	}
	switch binary.LittleEndian.Uint32(hdr) {
	case 0x0a0d0d0a:
		c.ng = true
		if err := c.ngBlockRest(0x0a0d0d0a); err != nil {
			f.Close()
			return nil, nil, err
		}
		return c, func() { f.Close() }, nil
	case 0xa1b2c3d4, 0xa1b23c4d:
		c.order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		c.order = binary.BigEndian
	default:
		f.Close()
		return nil, nil, errBadCapture
	}
	if _, err := io.ReadFull(c.r, hdr[4:]); err != nil {
		f.Close()
		return nil, nil, err
	}
	c.link = layers.LinkType(c.order.Uint32(hdr[20:]) & 0xffff)
	return c, func() { f.Close() }, nil
}

// next returns the next frame and its link type.
func (c *capture) next() ([]byte, layers.LinkType, error) {
	if !c.ng {
		rec := make([]byte, 16)
		if _, err := io.ReadFull(c.r, rec); err != nil {
			return nil, 0, err
		}
		n := c.order.Uint32(rec[8:])
		if n > 1<<20 {
			return nil, 0, errBadCapture
		}
		data := make([]byte, n)
		_, err := io.ReadFull(c.r, data)
		return data, c.link, err
	}
	for {
		var h [4]byte
		if _, err := io.ReadFull(c.r, h[:]); err != nil {
			return nil, 0, err
		}
		typ := c.order.Uint32(h[:])
		body, err := c.ngBody()
		if err != nil {
			return nil, 0, err
		}
		switch typ {
		case 0x0a0d0d0a: // a new section: byte order may change
			return nil, 0, errBadCapture
		case 1: // interface description: link type, reserved, snaplen
			if len(body) < 2 {
				return nil, 0, errBadCapture
			}
			c.links = append(c.links, layers.LinkType(c.order.Uint16(body)))
		case 6: // enhanced packet: interface, ts high, ts low, caplen, origlen, data
			if len(body) < 20 {
				return nil, 0, errBadCapture
			}
			iface, n := c.order.Uint32(body), c.order.Uint32(body[12:])
			if int(iface) >= len(c.links) || int(n) > len(body)-20 {
				return nil, 0, errBadCapture
			}
			return body[20 : 20+n], c.links[iface], nil
		}
	}
}

// ngBlockRest reads the rest of a section header block whose type was read.
func (c *capture) ngBlockRest(typ uint32) error {
	var h [8]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return err
	}
	switch binary.LittleEndian.Uint32(h[4:]) {
	case 0x1a2b3c4d:
		c.order = binary.LittleEndian
	case 0x4d3c2b1a:
		c.order = binary.BigEndian
	default:
		return errBadCapture
	}
	n := c.order.Uint32(h[:])
	if n < 12 || n > 1<<20 {
		return errBadCapture
	}
	_, err := c.r.Discard(int(n) - 12)
	return err
}

// ngBody reads a block's length, body and trailing length; the type was read.
func (c *capture) ngBody() ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return nil, err
	}
	n := c.order.Uint32(h[:])
	if n < 12 || n > 1<<22 || n%4 != 0 {
		return nil, errBadCapture
	}
	body := make([]byte, n-8)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return nil, err
	}
	return body[:len(body)-4], nil
}

// corpusFlow is the test's stand-in for a flow-table entry, plus an oracle:
// the first byte captured at each sequence number of each direction.
type corpusFlow struct {
	f      flow.Flow
	orig   string // source endpoint of the originator
	start  [2]uint32
	begun  [2]bool
	pos    [2]uint32 // next sequence number the handler expects
	first  [2]oracle
	isn    uint32
	sawSYN bool
}

// oracle is a sparse map from sequence number to the first byte captured
// there, in pages.
type oracle struct {
	pages map[uint32]*page
}

type page struct {
	data [4096]byte
	have [4096]bool
}

func (o *oracle) get(s uint32) (byte, bool) {
	p := o.pages[s>>12]
	if p == nil || !p.have[s&4095] {
		return 0, false
	}
	return p.data[s&4095], true
}

// setFirst records b at s unless a byte is already there.
func (o *oracle) setFirst(s uint32, b byte) {
	if o.pages == nil {
		o.pages = map[uint32]*page{}
	}
	p := o.pages[s>>12]
	if p == nil {
		p = &page{}
		o.pages[s>>12] = p
	}
	if !p.have[s&4095] {
		p.have[s&4095], p.data[s&4095] = true, b
	}
}

// countFrom counts recorded bytes at or after start (serial order).
func (o *oracle) countFrom(start uint32) int {
	n := 0
	for k, p := range o.pages {
		for i, ok := range p.have {
			if ok && int32(k<<12+uint32(i)-start) >= 0 {
				n++
			}
		}
	}
	return n
}

// corpusHandler checks each delivered byte against the oracle.
type corpusHandler struct {
	t                    *testing.T
	name                 string
	flows                map[uint64]*corpusFlow
	delivered, mismatch  int
	gapBytes, overlapDif int
	differing            int // segments with a byte unlike the first captured copy (the oracle's count)
}

func (h *corpusHandler) Data(f *flow.Flow, c Chunk) {
	cf := h.flows[f.ID]
	d := c.Dir
	if !cf.begun[d] {
		h.t.Fatalf("%s flow %d: data in a direction that never started", h.name, f.ID)
	}
	cf.pos[d] += uint32(c.Gap)
	h.gapBytes += c.Gap
	for i, b := range c.Data {
		want, ok := cf.first[d].get(cf.pos[d] + uint32(i))
		if !ok || want != b {
			h.mismatch++
		}
	}
	cf.pos[d] += uint32(len(c.Data))
	h.delivered += len(c.Data)
}

func (h *corpusHandler) Event(f *flow.Flow, name, detail string) {
	if name == EventOverlapDifferent {
		h.overlapDif++
	}
}

// TestSharedCaptures runs every TCP flow of the shared real captures
// through an Assembler and checks that each delivered byte is a byte that
// was captured at that sequence number, that the limits hold, and that
// (across the set) nearly every captured byte comes out.
func TestSharedCaptures(t *testing.T) {
	var paths []string
	if *corpusDir != "" {
		paths, _ = filepath.Glob(filepath.Join(*corpusDir, "*.pcap*"))
	} else {
		shared := sharedDir()
		if shared == "" {
			t.Skip("../shared is absent: no real captures to run")
		}
		paths, _ = filepath.Glob(filepath.Join(shared, "pcaps", "*", "*.pcap*"))
	}
	if len(paths) == 0 {
		t.Skip("no captures under ../shared/pcaps")
	}
	var total, captured, delivered, gaps int
	for _, path := range paths {
		c, d, g := runCapture(t, path)
		captured += c
		delivered += d
		gaps += g
		total++
	}
	t.Logf("%d captures: %d distinct payload bytes captured, %d delivered, %d gap bytes", total, captured, delivered, gaps)
	if delivered < captured*99/100 {
		t.Errorf("delivered %d of %d captured bytes", delivered, captured)
	}
}

// runCapture feeds one capture and returns the distinct payload bytes
// captured (per sequence number, from each direction's start on), the bytes
// delivered and the gap bytes.
func runCapture(t *testing.T, path string) (captured, delivered, gaps int) {
	r, done, err := openCapture(path)
	if err != nil {
		t.Logf("%s: %v", filepath.Base(path), err)
		return
	}
	defer done()
	h := &corpusHandler{t: t, name: filepath.Base(path), flows: map[uint64]*corpusFlow{}}
	a := New(Config{KeepDelivered: 2048}, h)
	byKey := map[string]*corpusFlow{}
	var free []uint32
	next := uint32(0)
	closeFlow := func(key string, cf *corpusFlow) {
		a.Close(&cf.f)
		for d := range 2 {
			if !cf.begun[d] {
				continue
			}
			captured += cf.first[d].countFrom(cf.start[d])
		}
		delete(byKey, key)
		free = append(free, cf.f.Slot)
	}
	for index := uint64(1); ; index++ {
		data, link, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			break // a truncated file ends the run, as it would the sensor's
		}
		pkt := gopacket.NewPacket(data, link, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		tl, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		nl := pkt.NetworkLayer()
		if tl == nil || nl == nil {
			continue
		}
		missing := 0
		hdr := int(tl.DataOffset) * 4
		switch ip := nl.(type) {
		case *layers.IPv4:
			missing = int(ip.Length) - int(ip.IHL)*4 - hdr - len(tl.Payload)
		case *layers.IPv6:
			missing = int(ip.Length) - hdr - len(tl.Payload) // ignores extension headers: fine for a bound
		}
		if missing < 0 {
			missing = 0
		}
		src := fmt.Sprintf("%v:%d", nl.NetworkFlow().Src(), tl.SrcPort)
		dst := fmt.Sprintf("%v:%d", nl.NetworkFlow().Dst(), tl.DstPort)
		key := src + "|" + dst
		if dst < src {
			key = dst + "|" + src
		}
		cf := byKey[key]
		// A new SYN with another ISN on a known tuple starts a new flow.
		if cf != nil && tl.SYN && !tl.ACK && src == cf.orig && cf.sawSYN && tl.Seq != cf.isn {
			closeFlow(key, cf)
			cf = nil
		}
		if cf == nil {
			slot := next
			if len(free) > 0 {
				slot, free = free[len(free)-1], free[:len(free)-1]
			} else {
				next++
			}
			cf = &corpusFlow{f: flow.Flow{ID: index, Slot: slot, Proto: decode.TCP}, orig: src}
			if tl.SYN && tl.ACK {
				cf.orig = dst
			}
			byKey[key] = cf
			h.flows[index] = cf
		}
		dir := flow.Orig
		if src != cf.orig {
			dir = flow.Resp
		}
		var flags decode.TCPFlags
		for _, b := range []struct {
			on bool
			f  decode.TCPFlags
		}{{tl.FIN, decode.FIN}, {tl.SYN, decode.SYN}, {tl.RST, decode.RST}, {tl.PSH, decode.PSH}, {tl.ACK, decode.ACK}} {
			if b.on {
				flags |= b.f
			}
		}
		if tl.SYN && dir == flow.Orig {
			cf.sawSYN, cf.isn = true, tl.Seq
		}
		dataSeq := tl.Seq
		if tl.SYN {
			dataSeq++
		}
		if !tl.RST && !cf.begun[dir] {
			cf.begun[dir], cf.start[dir], cf.pos[dir] = true, dataSeq, dataSeq
		}
		if !tl.RST {
			differs := false
			for i, b := range tl.Payload {
				if old, ok := cf.first[dir].get(dataSeq + uint32(i)); ok && old != b {
					differs = true
				}
				cf.first[dir].setFirst(dataSeq+uint32(i), b)
			}
			if differs {
				h.differing++
			}
		}
		p := &decode.Packet{
			Proto:   decode.TCP,
			TCP:     decode.TCPInfo{Seq: tl.Seq, Ack: tl.Ack, Flags: flags, Window: tl.Window},
			Payload: tl.Payload,
			Missing: missing,
		}
		a.Add(&cf.f, dir, p, index)
		if index%64 == 0 {
			checkInvariants(t, a) // it walks every slot: not after every packet
		}
	}
	for key, cf := range byKey {
		closeFlow(key, cf)
	}
	checkInvariants(t, a)
	if h.mismatch > 0 {
		t.Errorf("%s: %d delivered bytes differ from the first captured copy", h.name, h.mismatch)
	}
	st := a.Stats()
	if st.Buffered != 0 || st.Streams != 0 {
		t.Errorf("%s: after closing every flow: %+v", h.name, st)
	}
	if h.overlapDif > h.differing {
		t.Errorf("%s: %d segments reported different, but only %d differ from the first captured copy", h.name, h.overlapDif, h.differing)
	}
	if h.differing > 0 {
		t.Logf("%s: %d segments differ from the first captured copy, %d reported", h.name, h.differing, h.overlapDif)
	}
	if h.delivered > 0 {
		t.Logf("%s: captured %d delivered %d gaps %d; stats %+v", h.name, captured, h.delivered, h.gapBytes, st)
	}
	return captured, h.delivered, h.gapBytes
}
