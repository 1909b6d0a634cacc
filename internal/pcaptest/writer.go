package pcaptest

import (
	"encoding/binary"
	"net/netip"
	"os"
	"time"
)

// Writer builds a classic pcap file (microsecond, little-endian) of
// Ethernet frames in memory.
type Writer struct {
	buf []byte
}

// NewWriter starts a pcap with link type Ethernet and snaplen 262144.
func NewWriter() *Writer {
	w := &Writer{}
	w.buf = binary.LittleEndian.AppendUint32(w.buf, 0xa1b2c3d4)
	w.buf = binary.LittleEndian.AppendUint16(w.buf, 2)
	w.buf = binary.LittleEndian.AppendUint16(w.buf, 4)
	w.buf = binary.LittleEndian.AppendUint32(w.buf, 0)
	w.buf = binary.LittleEndian.AppendUint32(w.buf, 0)
	w.buf = binary.LittleEndian.AppendUint32(w.buf, 262144)
	w.buf = binary.LittleEndian.AppendUint32(w.buf, 1)
	return w
}

// Frame appends one frame captured at ts.
func (w *Writer) Frame(ts time.Time, frame []byte) {
	w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(ts.Unix()))
	w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(ts.Nanosecond()/1000))
	w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(frame)))
	w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(frame)))
	w.buf = append(w.buf, frame...)
}

// Bytes returns the file's bytes.
func (w *Writer) Bytes() []byte { return w.buf }

// WriteFile writes the capture to path.
func (w *Writer) WriteFile(path string) error { return os.WriteFile(path, w.buf, 0o644) }

func csum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// ipFrame wraps a transport segment in Ethernet and IPv4 or IPv6 with
// valid checksums.
func ipFrame(src, dst netip.Addr, proto uint8, seg []byte) []byte {
	f := []byte{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa}
	var pseudo uint32
	if src.Is4() {
		f = append(f, 0x08, 0x00)
		ip := make([]byte, 20)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(seg)))
		ip[8], ip[9] = 64, proto
		s4, d4 := src.As4(), dst.As4()
		copy(ip[12:], s4[:])
		copy(ip[16:], d4[:])
		binary.BigEndian.PutUint16(ip[10:], csum(ip, 0))
		f = append(f, ip...)
		for _, a := range [][]byte{s4[:], d4[:]} {
			pseudo += uint32(binary.BigEndian.Uint16(a)) + uint32(binary.BigEndian.Uint16(a[2:]))
		}
	} else {
		f = append(f, 0x86, 0xdd)
		ip := make([]byte, 40)
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(len(seg)))
		ip[6], ip[7] = proto, 64
		s6, d6 := src.As16(), dst.As16()
		copy(ip[8:], s6[:])
		copy(ip[24:], d6[:])
		f = append(f, ip...)
		for _, a := range [][]byte{s6[:], d6[:]} {
			for i := 0; i < 16; i += 2 {
				pseudo += uint32(binary.BigEndian.Uint16(a[i:]))
			}
		}
	}
	pseudo += uint32(proto) + uint32(len(seg))
	off := 16 // TCP checksum offset
	if proto == 17 {
		off = 6
	}
	binary.BigEndian.PutUint16(seg[off:], csum(seg, pseudo))
	return append(f, seg...)
}

// UDP appends one UDP datagram.
func (w *Writer) UDP(ts time.Time, src, dst netip.AddrPort, payload []byte) {
	seg := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(seg[0:], src.Port())
	binary.BigEndian.PutUint16(seg[2:], dst.Port())
	binary.BigEndian.PutUint16(seg[4:], uint16(8+len(payload)))
	seg = append(seg, payload...)
	w.Frame(ts, ipFrame(src.Addr(), dst.Addr(), 17, seg))
}

// Conv is a TCP connection being written: it keeps sequence numbers and
// the clock.
type Conv struct {
	w    *Writer
	Orig netip.AddrPort
	Resp netip.AddrPort
	seq  [2]uint32
	T    time.Time
	Step time.Duration // time between segments (default 10ms)
	MSS  int           // largest payload per segment (default 1400)
}

// TCP starts a connection from orig to resp at t0 (no packet yet).
func (w *Writer) TCP(t0 time.Time, orig, resp netip.AddrPort) *Conv {
	return &Conv{w: w, Orig: orig, Resp: resp, seq: [2]uint32{1000, 50000}, T: t0, Step: 10 * time.Millisecond, MSS: 1400}
}

// Flags used by Segment.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
)

// Segment writes one segment from direction dir (0 orig, 1 resp) with the
// given flags and payload, advancing that direction's sequence number.
func (c *Conv) Segment(dir int, flags uint8, payload []byte) {
	src, dst := c.Orig, c.Resp
	if dir == 1 {
		src, dst = dst, src
	}
	seg := make([]byte, 20, 20+len(payload))
	binary.BigEndian.PutUint16(seg[0:], src.Port())
	binary.BigEndian.PutUint16(seg[2:], dst.Port())
	binary.BigEndian.PutUint32(seg[4:], c.seq[dir])
	if flags&ACK != 0 {
		binary.BigEndian.PutUint32(seg[8:], c.seq[1-dir])
	}
	seg[12] = 5 << 4
	seg[13] = flags
	binary.BigEndian.PutUint16(seg[14:], 65535)
	seg = append(seg, payload...)
	c.w.Frame(c.T, ipFrame(src.Addr(), dst.Addr(), 6, seg))
	c.T = c.T.Add(c.Step)
	c.seq[dir] += uint32(len(payload))
	if flags&(SYN|FIN) != 0 {
		c.seq[dir]++
	}
}

// Handshake writes SYN, SYN-ACK, ACK.
func (c *Conv) Handshake() {
	c.Segment(0, SYN, nil)
	c.Segment(1, SYN|ACK, nil)
	c.Segment(0, ACK, nil)
}

// Send writes data from direction dir in MSS-sized segments, each acked by
// the peer.
func (c *Conv) Send(dir int, data []byte) {
	for len(data) > 0 {
		n := min(len(data), c.MSS)
		c.Segment(dir, PSH|ACK, data[:n])
		data = data[n:]
		c.Segment(1-dir, ACK, nil)
	}
}

// Close writes FIN from the originator, FIN from the responder and the last ACK.
func (c *Conv) Close() {
	c.Segment(0, FIN|ACK, nil)
	c.Segment(1, FIN|ACK, nil)
	c.Segment(0, ACK, nil)
}

// Skip advances direction dir's sequence number by n bytes without writing
// them: the capture lost a segment.
func (c *Conv) Skip(dir, n int) { c.seq[dir] += uint32(n) }
