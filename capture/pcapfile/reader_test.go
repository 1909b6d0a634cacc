package pcapfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/capture"
	"github.com/peerwatch/peerwatch/decode"
)

// readAll reads every frame of b, copying the data, and returns the frames,
// their CaptureInfo and the error that ended the stream (io.EOF when clean).
func readAll(t testing.TB, name string, b []byte) (*Reader, [][]byte, []capture.CaptureInfo, error) {
	t.Helper()
	return readFrom(NewReader(bytes.NewReader(b), name))
}

// readFrom reads every frame from the Reader just made, copying the data.
func readFrom(r *Reader, err error) (*Reader, [][]byte, []capture.CaptureInfo, error) {
	if err != nil {
		return nil, nil, nil, err
	}
	var data [][]byte
	var infos []capture.CaptureInfo
	for {
		d, ci, err := r.ReadPacket()
		if err != nil {
			return r, data, infos, err
		}
		data = append(data, bytes.Clone(d))
		infos = append(infos, ci)
	}
}

// sameRead reports every difference between two complete reads of the same
// capture, by a and by b: frames, infos, the final error and the Reader's
// state at the end.
func sameRead(t testing.TB, a, b string, ra, rb *Reader, da, db [][]byte, ia, ib []capture.CaptureInfo, ea, eb error) {
	t.Helper()
	if fmt.Sprint(ea) != fmt.Sprint(eb) || sentinel(ea) != sentinel(eb) {
		t.Errorf("%s ends with %v, %s with %v", a, ea, b, eb)
	}
	if !slices.EqualFunc(da, db, bytes.Equal) || !slices.Equal(ia, ib) {
		t.Errorf("%s read %d frames, %s %d, or they differ", a, len(da), b, len(db))
	}
	if (ra == nil) != (rb == nil) {
		t.Fatalf("%s made a Reader: %v, %s: %v", a, ra != nil, b, rb != nil)
	}
	if ra == nil {
		return
	}
	if ra.Offset() != rb.Offset() || ra.Format() != rb.Format() || !slices.Equal(ra.LinkTypes(), rb.LinkTypes()) {
		t.Errorf("at the end, %s: offset %d, %s, %v; %s: offset %d, %s, %v",
			a, ra.Offset(), ra.Format(), ra.LinkTypes(), b, rb.Offset(), rb.Format(), rb.LinkTypes())
	}
}

// sentinel returns the first of the package's sentinels (or io.EOF) that
// err wraps, nil if none.
func sentinel(err error) error {
	for _, s := range []error{io.EOF, ErrNotCapture, ErrEmpty, ErrTruncated, ErrCorrupt, ErrTooLarge, ErrClosed} {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

type wantPkt struct {
	data   []byte
	ts     time.Time
	caplen int // 0: len(data)
	length int // 0: len(data)
	link   decode.LinkType
	iface  int
}

func unix(sec, nsec int64) time.Time { return time.Unix(sec, nsec).UTC() }

func TestReadFormats(t *testing.T) {
	a, b, c := frameN(14, 0x10), frameN(60, 0x40), frameN(1, 0xee)
	long := frameN(20, 0x80)

	type tc struct {
		name   string
		file   *capFile
		gzip   bool
		format string
		links  []decode.LinkType
		want   []wantPkt
	}
	var cases []tc

	for _, oc := range []struct {
		name string
		o    bool
	}{{"le", false}, {"be", true}} {
		o := le
		if oc.o {
			o = be
		}
		eth := []decode.LinkType{decode.LinkEthernet}
		cases = append(cases,
			tc{
				name: "pcap-usec-" + oc.name, format: "pcap", links: eth,
				file: pcapHeader(o, 0xa1b2c3d4, 4, 1).rec(1000, 123456, a).rec(1001, 999999, b),
				want: []wantPkt{
					{data: a, ts: unix(1000, 123456000), link: 1},
					{data: b, ts: unix(1001, 999999000), link: 1},
				},
			},
			tc{
				name: "pcap-nsec-" + oc.name, format: "pcap", links: eth,
				file: pcapHeader(o, 0xa1b23c4d, 4, 1).rec(1000, 123456789, a).rec(0, 1, c),
				want: []wantPkt{
					{data: a, ts: unix(1000, 123456789), link: 1},
					{data: c, ts: unix(0, 1), link: 1},
				},
			},
			tc{
				name: "pcap-kuznetsov-" + oc.name, format: "pcap", links: eth,
				file: pcapHeader(o, 0xa1b2cd34, 4, 1).
					record(7, 8, uint32(len(a)), uint32(len(a)), 8, a).
					record(9, 10, uint32(len(b)), 1500, 8, b),
				want: []wantPkt{
					{data: a, ts: unix(7, 8000), link: 1},
					{data: b, ts: unix(9, 10000), length: 1500, link: 1},
				},
			},
			tc{
				// Version 2.1 as in nfsv2.pcap of the corpus; the old
				// writer's swapped lengths (incl=60 > orig=20) are
				// swapped back, a plain snaplen cut is left alone.
				name: "pcap-2.1-swapped-" + oc.name, format: "pcap", links: []decode.LinkType{decode.LinkRaw},
				file: pcapHeader(o, 0xa1b2c3d4, 1, 101).
					record(1, 0, 60, 20, 0, long).
					record(2, 0, 20, 60, 0, long),
				want: []wantPkt{
					{data: long, ts: unix(1, 0), length: 60, link: decode.LinkRaw},
					{data: long, ts: unix(2, 0), length: 60, link: decode.LinkRaw},
				},
			},
			tc{
				name: "pcap-2.4-snaplen-cut-" + oc.name, format: "pcap", links: eth,
				file: pcapHeader(o, 0xa1b2c3d4, 4, 1).record(1, 0, 20, 60, 0, long),
				want: []wantPkt{{data: long, ts: unix(1, 0), length: 60, link: 1}},
			},
			tc{
				// FCS length 4 and the FCS-present flag in the upper bits.
				name: "pcap-fcs-bits-" + oc.name, format: "pcap", links: []decode.LinkType{decode.LinkLinuxSLL},
				file: pcapHeader(o, 0xa1b2c3d4, 4, 0x44000000|113).rec(3, 4, c),
				want: []wantPkt{{data: c, ts: unix(3, 4000), link: decode.LinkLinuxSLL}},
			},
			tc{
				name: "pcap-no-records-" + oc.name, format: "pcap", links: eth,
				file: pcapHeader(o, 0xa1b2c3d4, 4, 1),
			},
			tc{
				name: "pcapng-default-usec-" + oc.name, format: "pcapng", links: eth,
				file: pcapng(o).idb(1, 0).epb(0, 1_000_123_456, 14, a).epb(0, 1, 1514, b),
				want: []wantPkt{
					{data: a, ts: unix(1000, 123456000), link: 1},
					{data: b, ts: unix(0, 1000), length: 1514, link: 1},
				},
			},
			tc{
				name: "pcapng-tsresol-nsec-" + oc.name, format: "pcapng", links: eth,
				file: func() *capFile {
					f := pcapng(o)
					return f.idb(1, 65535, f.tsresol(9)).epb(0, 1_700_000_000_123_456_789, 14, a)
				}(),
				want: []wantPkt{{data: a, ts: unix(1_700_000_000, 123456789), link: 1}},
			},
			tc{
				// 2^-20 s ticks: 5.5 s is 5<<20 + 1<<19.
				name: "pcapng-tsresol-binary-" + oc.name, format: "pcapng", links: eth,
				file: func() *capFile {
					f := pcapng(o)
					return f.idb(1, 0, f.tsresol(0x80|20)).epb(0, 5<<20|1<<19, 14, a)
				}(),
				want: []wantPkt{{data: a, ts: unix(5, 500_000_000), link: 1}},
			},
			tc{
				name: "pcapng-tsresol-ms-tsoffset-" + oc.name, format: "pcapng", links: eth,
				file: func() *capFile {
					f := pcapng(o)
					return f.idb(1, 0, f.tsresol(3), f.tsoffset(1_000_000)).epb(0, 2_500, 14, a)
				}(),
				want: []wantPkt{{data: a, ts: unix(1_000_002, 500_000_000), link: 1}},
			},
			tc{
				// if_tsresol 10^-12: finer than a nanosecond.
				name: "pcapng-tsresol-psec-" + oc.name, format: "pcapng", links: eth,
				file: func() *capFile {
					f := pcapng(o)
					return f.idb(1, 0, f.tsresol(12)).epb(0, 3_000_000_123_999, 14, a)
				}(),
				want: []wantPkt{{data: a, ts: unix(3, 123), link: 1}},
			},
			tc{
				// Interface 0 snaplen 8 cuts the 12 bytes in the
				// block; interface-less snaplen 0 keeps the original
				// length (5) below the padded room (8).
				name: "pcapng-spb-" + oc.name, format: "pcapng", links: eth,
				file: pcapng(o).idb(1, 8).spb(20, long[:12]).
					shb(o).idb(1, 0).spb(5, long[:5]),
				want: []wantPkt{
					{data: long[:8], length: 20, link: 1},
					{data: long[:5], length: 5, link: 1},
				},
			},
			tc{
				name: "pcapng-obsolete-pb-" + oc.name, format: "pcapng", links: []decode.LinkType{decode.LinkRaw, decode.LinkEthernet},
				file: pcapng(o).idb(101, 0).idb(1, 0).pb(1, 42_000_001, c).pb(0, 0, a),
				want: []wantPkt{
					{data: c, ts: unix(42, 1000), link: 1, iface: 1},
					{data: a, ts: unix(0, 0), link: decode.LinkRaw},
				},
			},
			tc{
				name: "pcapng-skip-unknown-" + oc.name, format: "pcapng", links: eth,
				file: func() *capFile {
					f := pcapng(o)
					f.block(4, []byte("name resolution"), false) // NRB
					f.idb(1, 0, opt(o, 2, []byte("eth0")), opt(o, 3, []byte("an interface description")))
					f.block(0x80000001, nil, false) // local-use block, empty body
					f.epb(0, 1_000_000, 14, a, opt(o, 1, []byte("comment")))
					f.block(5, make([]byte, 20), false)       // ISB
					f.block(0xBAD, make([]byte, 1000), false) // unknown
					return f.epb(0, 2_000_000, 60, b)
				}(),
				want: []wantPkt{
					{data: a, ts: unix(1, 0), link: 1},
					{data: b, ts: unix(2, 0), link: 1},
				},
			},
		)
	}

	// Sections in different byte orders: interfaces are per section, so
	// index 1 in the second section is that section's second interface.
	multi := pcapng(le).idb(101, 0).epb(0, 1_000_000, 1, c).
		shb(be).idb(1, 0).idb(113, 0, (&capFile{o: be}).tsresol(9)).epb(1, 7, 14, a).epb(0, 2_000_000, 60, b).
		shb(le).idb(228, 0).epb(0, 3_000_000, 1, c)
	cases = append(cases,
		tc{
			name: "pcapng-multi-section", format: "pcapng",
			links: []decode.LinkType{decode.LinkRaw, decode.LinkEthernet, decode.LinkLinuxSLL, decode.LinkIPv4},
			file:  multi,
			want: []wantPkt{
				{data: c, ts: unix(1, 0), link: decode.LinkRaw},
				{data: a, ts: unix(0, 7), link: decode.LinkLinuxSLL, iface: 1},
				{data: b, ts: unix(2, 0), link: decode.LinkEthernet},
				{data: c, ts: unix(3, 0), link: decode.LinkIPv4},
			},
		},
		tc{
			name: "pcapng-gzip", format: "pcapng+gzip", gzip: true,
			links: []decode.LinkType{decode.LinkRaw, decode.LinkEthernet, decode.LinkLinuxSLL, decode.LinkIPv4},
			file:  multi,
			want: []wantPkt{
				{data: c, ts: unix(1, 0), link: decode.LinkRaw},
				{data: a, ts: unix(0, 7), link: decode.LinkLinuxSLL, iface: 1},
				{data: b, ts: unix(2, 0), link: decode.LinkEthernet},
				{data: c, ts: unix(3, 0), link: decode.LinkIPv4},
			},
		},
		tc{
			name: "pcap-gzip", format: "pcap+gzip", gzip: true, links: []decode.LinkType{decode.LinkEthernet},
			file: pcapHeader(be, 0xa1b2c3d4, 4, 1).rec(1, 2, a).rec(3, 4, b),
			want: []wantPkt{
				{data: a, ts: unix(1, 2000), link: 1},
				{data: b, ts: unix(3, 4000), link: 1},
			},
		},
	)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.file.b
			if tc.gzip {
				in = gz(in)
			}
			r, data, infos, err := readAll(t, "test.cap", in)
			if err != io.EOF {
				t.Fatalf("read: got error %v, want io.EOF", err)
			}
			if got := r.Format(); got != tc.format {
				t.Errorf("Format() = %q, want %q", got, tc.format)
			}
			if got := r.LinkTypes(); !slices.Equal(got, tc.links) {
				t.Errorf("LinkTypes() = %v, want %v", got, tc.links)
			}
			if got, want := r.Offset(), int64(len(tc.file.b)); got != want {
				t.Errorf("Offset() at end = %d, want %d", got, want)
			}
			if len(data) != len(tc.want) {
				t.Fatalf("got %d packets, want %d", len(data), len(tc.want))
			}
			for i, w := range tc.want {
				caplen, length := w.caplen, w.length
				if caplen == 0 {
					caplen = len(w.data)
				}
				if length == 0 {
					length = len(w.data)
				}
				want := capture.CaptureInfo{
					Timestamp: w.ts, CaptureLen: caplen, Length: length,
					LinkType: w.link, Interface: w.iface, Offset: tc.file.pkts[i],
				}
				if !bytes.Equal(data[i], w.data) {
					t.Errorf("packet %d: data % x, want % x", i, data[i], w.data)
				}
				if got := infos[i]; got != want {
					t.Errorf("packet %d: info %+v, want %+v", i, got, want)
				}
			}
			// After the end, io.EOF is sticky.
			if _, _, err := r.ReadPacket(); err != io.EOF {
				t.Errorf("read after end: %v, want io.EOF", err)
			}
		})
	}
}

// openFiles are captures, whole and damaged, that TestOpen writes to disk:
// the committed testdata, the truncation files whole and cut inside their
// last unit, a gzip-compressed one, an empty file, a text file and one whose
// frame is too large.
func openFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := make(map[string][]byte)
	for _, name := range []string{"edonkey.pcap", "knxip.pcapng", "bt-http.pcapng", "SOURCES.md"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	for name, f := range truncationFiles() {
		files[name] = f.b
		files[name+"-cut"] = f.b[:len(f.b)-3]
	}
	files["gzip"] = gz(files["edonkey.pcap"])
	files["empty"] = nil
	files["too-large"] = pcapHeader(le, 0xa1b2c3d4, 4, 1).record(0, 0, MaxPacket+1, MaxPacket+1, 0, nil).b
	return files
}

// TestOpen checks that Open over a file and NewReader over the same bytes
// agree on every frame, CaptureInfo, final offset, format, link types and
// error.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for name, b := range openFiles(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			ro, do, co, eo := readFrom(Open(path))
			if ro != nil {
				if err := ro.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}
			rb, db, ib, eb := readFrom(NewReader(bytes.NewReader(b), path))
			sameRead(t, "Open", "NewReader", ro, rb, do, db, co, ib, eo, eb)
		})
	}
}

// TestFrameCapacity checks that a frame's capacity is its length, so a
// caller appending to it never writes into the Reader's buffer.
func TestFrameCapacity(t *testing.T) {
	for _, format := range benchFormats {
		t.Run(format, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(benchFile(format, 50)), "c")
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for ; ; n++ {
				data, ci, err := r.ReadPacket()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if cap(data) != len(data) {
					t.Fatalf("frame at %d: len %d cap %d", ci.Offset, len(data), cap(data))
				}
			}
			if n != 50 {
				t.Fatalf("read %d frames, want 50", n)
			}
		})
	}
}
