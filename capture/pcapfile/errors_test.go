package pcapfile

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"
	"testing/iotest"
)

func TestReadErrors(t *testing.T) {
	a := frameN(14, 1)
	epbHeader := func(f *capFile, length, caplen uint32) []byte {
		b := f.o.AppendUint32(f.b, blockEPB)
		b = f.o.AppendUint32(b, length)
		b = f.o.AppendUint32(b, 0)
		b = f.o.AppendUint32(b, 0)
		b = f.o.AppendUint32(b, 0)
		b = f.o.AppendUint32(b, caplen)
		return f.o.AppendUint32(b, caplen)
	}
	withBlock := func(f *capFile, typ, length uint32, rest ...byte) []byte {
		b := f.o.AppendUint32(bytes.Clone(f.b), typ)
		b = f.o.AppendUint32(b, length)
		return append(b, rest...)
	}
	good := pcapng(le).idb(1, 0)
	flip := func(b []byte, i int, x byte) []byte {
		b = bytes.Clone(b)
		b[i] ^= x
		return b
	}
	pcapOK := pcapHeader(le, 0xa1b2c3d4, 4, 1).rec(1, 2, a).rec(3, 4, a)
	gzipped := gz(pcapOK.b)

	cases := []struct {
		name   string
		in     []byte
		kind   error
		offset int64
		msg    string // the whole Error() text when not empty
		npkts  int    // frames read before the error
	}{
		{name: "empty", in: nil, kind: ErrEmpty, msg: "x.cap: offset 0: empty file"},
		{name: "text", in: []byte("<!DOCTYPE html>"), kind: ErrNotCapture,
			msg: "x.cap: offset 0: not a pcap or pcapng file (starts with 3c 21 44 4f)"},
		{name: "short-text", in: []byte("hi"), kind: ErrNotCapture},
		{name: "short-magic", in: []byte{0xd4, 0xc3}, kind: ErrTruncated,
			msg: "x.cap: offset 0: truncated file header (need 4 bytes, have 2)"},
		{name: "short-pcap-header", in: pcapOK.b[:10], kind: ErrTruncated},
		{name: "pcap-magic-only", in: pcapOK.b[:4], kind: ErrTruncated,
			msg: "x.cap: offset 0: truncated pcap file header (need 24 bytes, have 4)"},
		{name: "pcap-major-3", in: flip(pcapOK.b, 4, 1), kind: ErrCorrupt,
			msg: "x.cap: offset 0: unsupported pcap version 3.4"},
		{name: "pcap-too-large", kind: ErrTooLarge, offset: 24,
			in:  pcapHeader(le, 0xa1b2c3d4, 4, 1).record(0, 0, MaxPacket+1, MaxPacket+1, 0, nil).b,
			msg: "x.cap: offset 24: packet capture length 262145 exceeds limit 262144"},
		{name: "pcap-truncated-record", kind: ErrTruncated, offset: 54, npkts: 1,
			in:  pcapOK.b[:len(pcapOK.b)-11],
			msg: "x.cap: offset 54: truncated packet record (need 14 bytes, have 3)"},
		{name: "pcap-truncated-record-header", kind: ErrTruncated, offset: 54, npkts: 1,
			in:  pcapOK.b[:60],
			msg: "x.cap: offset 54: truncated record header (need 16 bytes, have 6)"},
		{name: "pcapng-bad-bom", in: flip(good.b, 8, 0xff), kind: ErrNotCapture},
		{name: "pcapng-bad-bom-second-section", kind: ErrCorrupt, offset: 48,
			in: flip(pcapng(le).idb(1, 0).shb(le).b, 48+8, 0xff)},
		{name: "pcapng-version-2", in: flip(good.b, 12, 3), kind: ErrCorrupt,
			msg: "x.cap: offset 0: unsupported pcapng version 2.0"},
		{name: "pcapng-shb-too-short", in: le.AppendUint32([]byte{0x0a, 0x0d, 0x0d, 0x0a, 24, 0, 0, 0}, 0x1A2B3C4D), kind: ErrCorrupt},
		{name: "block-length-odd", in: withBlock(good, 0xBAD, 13), kind: ErrCorrupt, offset: 48,
			msg: "x.cap: offset 48: block length 13 is not a multiple of 4"},
		{name: "block-length-below-12", in: withBlock(good, 0xBAD, 8), kind: ErrCorrupt, offset: 48},
		{name: "block-length-huge", in: withBlock(good, 0xBAD, 0xfffffff0), kind: ErrTooLarge, offset: 48},
		{name: "idb-below-minimum", in: withBlock(good, blockIDB, 16, make([]byte, 8)...), kind: ErrCorrupt, offset: 48},
		{name: "spb-below-minimum", in: withBlock(good, blockSPB, 12, make([]byte, 4)...), kind: ErrCorrupt, offset: 48},
		{name: "spb-too-large", kind: ErrTooLarge, offset: 48,
			in: withBlock(good, blockSPB, MaxPacket+20, le.AppendUint32(nil, MaxPacket+1)...)},
		{name: "too-many-interfaces", kind: ErrTooLarge, offset: 28 + MaxInterfaces*20, in: func() []byte {
			f := pcapng(le)
			for range MaxInterfaces + 1 {
				f.idb(1, 0)
			}
			return f.b
		}()},
		{name: "epb-below-minimum", in: withBlock(good, blockEPB, 28, make([]byte, 24)...), kind: ErrCorrupt, offset: 48},
		{name: "trailing-length-mismatch", in: flip(pcapng(le).idb(1, 0).epb(0, 0, 14, a).b, 48+44, 4),
			kind: ErrCorrupt, offset: 48,
			msg: "x.cap: offset 48: enhanced packet block trailing length 52 differs from leading length 48"},
		{name: "epb-caplen-beyond-block", in: epbHeader(good, 36, 8), kind: ErrCorrupt, offset: 48},
		{name: "epb-caplen-too-large", in: epbHeader(good, MaxPacket+64, MaxPacket+1), kind: ErrTooLarge, offset: 48},
		{name: "epb-undefined-interface", in: pcapng(le).idb(1, 0).epb(1, 0, 14, a).b, kind: ErrCorrupt, offset: 48,
			msg: "x.cap: offset 48: enhanced packet block for undefined interface 1"},
		{name: "epb-before-idb", in: pcapng(le).epb(0, 0, 14, a).b, kind: ErrCorrupt, offset: 28},
		{name: "interfaces-reset-by-section", in: pcapng(le).idb(1, 0).shb(be).epb(0, 0, 14, a).b, kind: ErrCorrupt, offset: 76},
		{name: "spb-before-idb", in: pcapng(le).spb(14, a).b, kind: ErrCorrupt, offset: 28},
		{name: "tsresol-too-fine", in: func() []byte { f := pcapng(le); return f.idb(1, 0, f.tsresol(20)).b }(),
			kind: ErrCorrupt, offset: 28, msg: "x.cap: offset 28: unsupported if_tsresol 0x14"},
		{name: "tsresol-binary-too-fine", in: func() []byte { f := pcapng(le); return f.idb(1, 0, f.tsresol(0x80|64)).b }(),
			kind: ErrCorrupt, offset: 28},
		{name: "idb-option-overrun", in: pcapng(le).idb(1, 0, le.AppendUint16(le.AppendUint16(nil, 2), 200)).b,
			kind: ErrCorrupt, offset: 28},
		{name: "truncated-epb", in: pcapng(le).idb(1, 0).epb(0, 0, 14, a).b[:70], kind: ErrTruncated, offset: 48,
			msg: "x.cap: offset 48: truncated enhanced packet block (need 48 bytes, have 22)"},
		{name: "gzip-empty", in: gz(nil), kind: ErrEmpty},
		{name: "gzip-bad-header", in: flip(gzipped, 2, 0xff), kind: ErrCorrupt},
		// Cut in the gzip trailer: every frame arrived, the end did not.
		{name: "gzip-truncated", in: gzipped[:len(gzipped)-4], kind: ErrTruncated, offset: 84, npkts: 2},
		{name: "gzip-bad-crc", in: flip(gzipped, len(gzipped)-6, 1), kind: ErrCorrupt, offset: 84, npkts: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, data, _, err := readAll(t, "x.cap", tc.in)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("error %v, want %v", err, tc.kind)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if e.Offset != tc.offset || e.File != "x.cap" {
				t.Errorf("error at %s offset %d, want x.cap offset %d (%v)", e.File, e.Offset, tc.offset, err)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("message\n got %q\nwant %q", err.Error(), tc.msg)
			}
			if len(data) != tc.npkts {
				t.Errorf("read %d frames before the error, want %d", len(data), tc.npkts)
			}
		})
	}
}

func TestGzipChecksumIsVisible(t *testing.T) {
	b := gz(pcapHeader(le, 0xa1b2c3d4, 4, 1).rec(1, 2, frameN(14, 1)).b)
	b[len(b)-8] ^= 1
	_, _, _, err := readAll(t, "x.cap", b)
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, gzip.ErrChecksum) {
		t.Fatalf("error %v, want ErrCorrupt wrapping gzip.ErrChecksum", err)
	}
}

// truncationFiles are small captures whose units (records and blocks) are
// all known, for the cut-at-every-byte test.
func truncationFiles() map[string]*capFile {
	a, b := frameN(14, 1), frameN(7, 2)
	ng := pcapng(le).idb(1, 0)
	ng.epb(0, 1, 14, a, opt(le, 1, []byte("c"))).
		block(5, make([]byte, 8), false).
		shb(be).idb(113, 64, (&capFile{o: be}).tsresol(9)).
		spb(7, b).pb(0, 9, b).epb(0, 10, 7, b)
	return map[string]*capFile{
		"pcap":     pcapHeader(le, 0xa1b2c3d4, 4, 1).rec(1, 2, a).rec(3, 4, b).rec(5, 6, nil),
		"pcap-kuz": pcapHeader(be, 0xa1b2cd34, 2, 1).record(1, 2, 14, 14, 8, a).record(1, 2, 7, 7, 8, b),
		"pcapng":   ng,
		"pcapng-be": func() *capFile {
			f := pcapng(be)
			return f.idb(101, 0, f.tsoffset(-3), opt(be, 2, []byte("eth0"))).epb(0, 5, 14, a).epb(0, 6, 7, b)
		}(),
	}
}

// TestTruncateEverywhere cuts small files at every byte. A cut between
// records is a clean end; a cut anywhere else is ErrTruncated at the offset
// of the record or block that was cut, after every complete frame before it.
func TestTruncateEverywhere(t *testing.T) {
	for name, f := range truncationFiles() {
		t.Run(name, func(t *testing.T) {
			for cut := 0; cut < len(f.b); cut++ {
				_, data, _, err := readAll(t, "t", f.b[:cut])
				// The unit containing the cut (0: the pcap file
				// header) and the frames wholly before the cut.
				unit, whole := int64(0), 0
				for _, u := range f.units {
					if u <= int64(cut) {
						unit = u
					}
				}
				for i, p := range f.pkts {
					end := int64(len(f.b))
					if j := slices.Index(f.units, p); j+1 < len(f.units) {
						end = f.units[j+1]
					}
					if end <= int64(cut) {
						whole = i + 1
					}
				}
				switch {
				case cut == 0:
					if !errors.Is(err, ErrEmpty) {
						t.Errorf("cut %d: %v, want ErrEmpty", cut, err)
					}
				case slices.Contains(f.units, int64(cut)):
					if err != io.EOF {
						t.Errorf("cut %d at a record boundary: %v, want io.EOF", cut, err)
					}
				default:
					var e *Error
					if !errors.Is(err, ErrTruncated) || !errors.As(err, &e) {
						t.Errorf("cut %d: %v, want ErrTruncated", cut, err)
					} else if e.Offset != unit {
						t.Errorf("cut %d: offset %d, want %d (%v)", cut, e.Offset, unit, err)
					}
				}
				if len(data) != whole {
					t.Errorf("cut %d: %d frames, want %d", cut, len(data), whole)
				}
			}
		})
	}
}

// TestTruncateGzipEverywhere cuts the compressed form of each file at every
// byte: the result is never a clean end and never a panic.
func TestTruncateGzipEverywhere(t *testing.T) {
	for name, f := range truncationFiles() {
		t.Run(name, func(t *testing.T) {
			z := gz(f.b)
			for cut := 0; cut < len(z); cut++ {
				_, _, _, err := readAll(t, "t", z[:cut])
				var want error
				switch cut {
				case 0:
					want = ErrEmpty
				case 1:
					want = ErrNotCapture // a lone 1f is not the gzip magic
				default:
					want = ErrTruncated
				}
				if !errors.Is(err, want) {
					t.Errorf("cut %d of %d: %v, want %v", cut, len(z), err, want)
				}
			}
		})
	}
}

func TestClosedReader(t *testing.T) {
	f := pcapHeader(le, 0xa1b2c3d4, 4, 1).rec(1, 2, frameN(14, 1))
	r, err := NewReader(bytes.NewReader(gz(f.b)), "x")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, _, err := r.ReadPacket(); !errors.Is(err, ErrClosed) {
		t.Fatalf("ReadPacket after Close: %v, want ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestReadIOError checks that a failing underlying reader is reported as
// itself, at the record it interrupted, and not as a damaged file.
func TestReadIOError(t *testing.T) {
	boom := errors.New("disk on fire")
	f := pcapHeader(le, 0xa1b2c3d4, 4, 1).rec(1, 2, frameN(14, 1))
	r, err := NewReader(io.MultiReader(bytes.NewReader(f.b[:30]), iotest.ErrReader(boom)), "x.cap")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.ReadPacket()
	var e *Error
	if !errors.Is(err, boom) || errors.Is(err, ErrTruncated) || !errors.As(err, &e) || e.Offset != 24 {
		t.Fatalf("error %v, want disk on fire at offset 24", err)
	}
}

func TestOpenNotCapture(t *testing.T) {
	_, err := Open(filepath.Join("testdata", "SOURCES.md"))
	if !errors.Is(err, ErrNotCapture) {
		t.Fatalf("Open of a text file: %v, want ErrNotCapture", err)
	}
}

func TestErrorText(t *testing.T) {
	cases := []struct {
		err  *Error
		want string
	}{
		{&Error{File: "a.pcap", Offset: 7, Err: io.ErrUnexpectedEOF}, "a.pcap: offset 7: unexpected EOF"},
		{&Error{Offset: 7, Err: ErrCorrupt}, "pcapfile: offset 7: pcapfile: corrupt file"},
		{&Error{File: "a.pcap"}, "a.pcap: offset 0: unknown error"},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}
