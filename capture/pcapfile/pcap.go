package pcapfile

import (
	"io"
	"time"

	"github.com/peerwatch/peerwatch/capture"
	"github.com/peerwatch/peerwatch/decode"
)

// pcap file header (24 bytes): magic(4), version_major(2), version_minor(2),
// thiszone(4), sigfigs(4), snaplen(4), linktype(4). The magic is already in
// r.hdr[0:4].
const pcapHeaderLen = 24

func (r *Reader) readPcapHeader() error {
	h := r.hdr[:pcapHeaderLen]
	if n, err := r.fill(h[4:]); err != nil {
		return r.short(0, "pcap file header", pcapHeaderLen, int64(4+n), err)
	}
	major, minor := r.u16(h[4:]), r.u16(h[6:])
	if major != 2 {
		return r.fail(0, ErrCorrupt, nil, "unsupported pcap version %d.%d", major, minor)
	}
	// libpcap before 2.4 (minor 3 included) could write caplen and len in
	// each other's place; libpcap and Wireshark swap them back. We swap
	// only where caplen > len, which is the one case the swap is needed
	// and cannot misread a correctly written file.
	r.swap = minor <= 3
	// The link-type field keeps FCS information in its upper bits
	// (bits 26..31); the link type proper is the low 16 bits.
	r.link = decode.LinkType(r.u32(h[20:]))
	r.noteLink(r.link)
	return nil
}

// readRecord reads one pcap record: ts_sec(4), ts_usec or ts_nsec(4),
// incl_len(4), orig_len(4), then r.extra bytes (Kuznetsov), then incl_len
// bytes of frame.
func (r *Reader) readRecord() ([]byte, capture.CaptureInfo, error) {
	var ci capture.CaptureInfo
	start := r.off
	hl := 16 + r.extra
	h := r.hdr[:hl]
	if n, err := r.fill(h); err != nil {
		if n == 0 && err == io.EOF {
			return nil, ci, io.EOF
		}
		return nil, ci, r.short(start, "record header", int64(hl), int64(n), err)
	}
	sec, frac := r.u32(h[0:]), r.u32(h[4:])
	incl, orig := r.u32(h[8:]), r.u32(h[12:])
	if r.swap && incl > orig {
		incl, orig = orig, incl
	}
	if incl > MaxPacket {
		return nil, ci, r.fail(start, ErrTooLarge, nil, "packet capture length %d exceeds limit %d", incl, MaxPacket)
	}
	data, err := r.take(int(incl))
	if err != nil {
		return nil, ci, r.short(start, "packet record", int64(incl), int64(len(data)), err)
	}
	nsec := int64(frac)
	if !r.nanos {
		nsec *= 1000
	}
	ci = capture.CaptureInfo{
		Timestamp:  time.Unix(int64(sec), nsec).UTC(),
		CaptureLen: int(incl),
		Length:     int(orig),
		LinkType:   r.link,
		Offset:     start,
	}
	return data, ci, nil
}
