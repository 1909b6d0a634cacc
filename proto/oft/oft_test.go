package oft

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

var testCookie = [8]byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}

// hdr describes a header to build.
type hdr struct {
	typ                uint16
	totalFiles, left   uint16
	totalSize, size    uint32
	checksum           uint32
	recvBytes, recvSum uint32
	encoding           uint16
	name               []byte // raw name field content
	version            byte   // '2' unless set
	length             int    // 256 or more; 0: fit the name
}

// build writes an OFT header byte for byte as aim-oscar.md §5.2 lays it out.
func (h hdr) build() []byte {
	n := h.length
	if n == 0 {
		n = max(minHeader, nameOffset+len(h.name)+1)
	}
	b := make([]byte, n)
	v := h.version
	if v == 0 {
		v = '2'
	}
	copy(b, "OFT")
	b[3] = v
	be := binary.BigEndian
	be.PutUint16(b[4:], uint16(n))
	be.PutUint16(b[6:], h.typ)
	copy(b[8:], testCookie[:])
	be.PutUint16(b[20:], h.totalFiles)
	be.PutUint16(b[22:], h.left)
	be.PutUint16(b[24:], 1) // total parts
	be.PutUint16(b[26:], 1) // parts left
	be.PutUint32(b[28:], h.totalSize)
	be.PutUint32(b[32:], h.size)
	be.PutUint32(b[36:], 1714564800) // modification time
	be.PutUint32(b[40:], h.checksum)
	be.PutUint32(b[44:], 0xffff0000) // resource fork received checksum
	be.PutUint32(b[56:], 0xffff0000) // resource fork checksum
	be.PutUint32(b[60:], h.recvBytes)
	be.PutUint32(b[64:], h.recvSum)
	copy(b[68:], "Cool FileXfer")
	b[100] = 0x20 // flags as WinAIM sends them
	b[101] = 0x1c // name offset
	b[102] = 0x11 // size offset
	be.PutUint16(b[188:], h.encoding)
	copy(b[nameOffset:], h.name)
	return b
}

// exe is the transferred file: a small MS-DOS/PE executable head and a
// deterministic body, 2048 bytes.
func exe() []byte {
	b := make([]byte, 2048)
	copy(b, "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8")
	copy(b[0x4e:], "This program cannot be run in DOS mode.\r\r\n$")
	for i := 0x80; i < len(b); i++ {
		b[i] = byte(i*7 + 3)
	}
	return b
}

func aolSum(p []byte) uint32 {
	c := newChecksum()
	c.write(p)
	return c.value()
}

type msg struct {
	dir  flow.Dir
	data []byte
}

// session is one transfer as libpurple runs it: the receiver (originator)
// connected to the sender, which offers; the receiver accepts; the bytes;
// the receiver's done.
func session(files ...[]byte) []msg {
	var total uint32
	for _, f := range files {
		total += uint32(len(f))
	}
	var out []msg
	for i, f := range files {
		name := []byte("setup.exe")
		if i > 0 {
			name = []byte("readme" + string(rune('0'+i)) + ".txt")
		}
		h := hdr{typ: typePrompt, totalFiles: uint16(len(files)), left: uint16(len(files) - i), totalSize: total,
			size: uint32(len(f)), checksum: aolSum(f), name: name}
		out = append(out, msg{flow.Resp, h.build()})
		h.typ = typeAck
		out = append(out, msg{flow.Orig, h.build()})
		out = append(out, msg{flow.Resp, f})
		h.typ, h.recvBytes, h.recvSum = typeDone, uint32(len(f)), aolSum(f)
		h.left--
		out = append(out, msg{flow.Orig, h.build()})
	}
	return out
}

func TestChecksum(t *testing.T) {
	big := make([]byte, 5000)
	for i := range big {
		big[i] = 0xff
	}
	tests := []struct {
		in   []byte
		want uint32
	}{
		{nil, 0xffff0000},
		// 0xFFFF - 0x6100 - 0x62 = 0x9E9D, worked by hand.
		{[]byte("ab"), 0x9e9d0000},
		// 0xFFFF - 0xFF00 - 0xFF = 0; then 0 - 0xFF00 borrows: 0xFF.
		{[]byte{0xff, 0xff, 0xff}, 0x00ff0000},
	}
	for _, tt := range tests {
		if got := aolSum(tt.in); got != tt.want {
			t.Errorf("checksum(% x) = %08x, want %08x", tt.in, got, tt.want)
		}
	}
	// The result is 0xFFFF minus the sum of the shifted bytes, modulo 0xFFFF.
	for _, p := range [][]byte{big, exe(), []byte("x"), big[:1023], big[:1025]} {
		var s uint64
		for i, b := range p {
			if i%2 == 0 {
				s += uint64(b) << 8
			} else {
				s += uint64(b)
			}
		}
		want := (0xffff + 0xffff*uint64(len(p)) - s) % 0xffff
		if got := aolSum(p) >> 16; uint64(got)%0xffff != want {
			t.Errorf("len %d: checksum %04x, want %04x mod 0xffff", len(p), got, want)
		}
	}
	// Fed in pieces, the checksum is the same.
	f := exe()
	c := newChecksum()
	for i := 0; i < len(f); i += 333 {
		c.write(f[i:min(i+333, len(f))])
	}
	if c.value() != aolSum(f) {
		t.Errorf("piecewise %08x, whole %08x", c.value(), aolSum(f))
	}
}

func TestParseHeader(t *testing.T) {
	prompt := hdr{typ: typePrompt, totalFiles: 1, left: 1, totalSize: 2048, size: 2048, checksum: 0xabcd0000, name: []byte("setup.exe")}
	long := prompt
	long.name = []byte(strings.Repeat("n", 100) + ".exe")
	ucs := prompt
	ucs.encoding, ucs.name = encUCS2, []byte{0, 'a', 0x00, 0xe9, 0x04, 0x10, 0, 0}
	latin := prompt
	latin.encoding, latin.name = encLatin1, []byte("caf\xe9")
	badUTF := prompt
	badUTF.name = []byte("na\xffme")
	v3 := prompt
	v3.version = '3'
	tests := []struct {
		name string
		in   []byte
		ok   bool
		err  error
		want string
		len  int
	}{
		{"prompt", prompt.build(), true, nil, "setup.exe", 256},
		{"oft3", v3.build(), true, nil, "setup.exe", 256},
		{"long name grows the header", long.build(), true, nil, string(long.name), 297},
		{"ucs-2", ucs.build(), true, nil, "aéА", 256},
		{"latin-1", latin.build(), true, nil, "café", 256},
		{"invalid utf-8 read as latin-1", badUTF.build(), true, nil, "na\u00ffme", 256},
		{"trailing bytes ignored", append(prompt.build(), "MZ"...), true, nil, "setup.exe", 256},
		{"oft1", append([]byte("OFT1"), prompt.build()[4:]...), false, ErrMagic, "", 0},
		{"odc", append([]byte("ODC2"), prompt.build()[4:]...), false, ErrMagic, "", 0},
		{"short length", hdr{typ: typePrompt, length: 255}.build()[:8], false, ErrLength, "", 0},
		{"huge length", []byte("OFT2\x10\x01\x01\x01"), false, ErrLength, "", 0},
		{"unknown type", hdr{typ: 0x0303}.build(), false, ErrType, "", 0},
		{"unknown type low byte", hdr{typ: 0x0109}.build(), false, ErrType, "", 0},
		{"partial", prompt.build()[:200], false, nil, "", 0},
	}
	for _, tt := range tests {
		h, ok, err := parseHeader(tt.in)
		if ok != tt.ok || !errors.Is(err, tt.err) {
			t.Errorf("%s: ok %v err %v, want ok %v err %v", tt.name, ok, err, tt.ok, tt.err)
			continue
		}
		if ok && (h.name != tt.want || h.length != tt.len) {
			t.Errorf("%s: name %q length %d, want %q %d", tt.name, h.name, h.length, tt.want, tt.len)
		}
	}
	h, _, _ := parseHeader(prompt.build())
	want := header{version: '2', length: 256, typ: typePrompt, cookie: testCookie, totalFiles: 1, filesLeft: 1,
		totalSize: 2048, size: 2048, modTime: 1714564800, checksum: 0xabcd0000, name: "setup.exe"}
	if h != want {
		t.Errorf("parseHeader = %+v, want %+v", h, want)
	}
}

// Every truncation of a valid header is incomplete, never an error.
func TestParseHeaderTruncated(t *testing.T) {
	for _, b := range [][]byte{
		hdr{typ: typePrompt, size: 5, name: []byte("a")}.build(),
		hdr{typ: typeDone, name: []byte(strings.Repeat("long", 40))}.build(),
	} {
		for i := range len(b) {
			if _, ok, err := parseHeader(b[:i]); ok || err != nil {
				t.Fatalf("truncated at %d: ok %v err %v", i, ok, err)
			}
		}
		if _, ok, err := parseHeader(b); !ok || err != nil {
			t.Fatalf("whole: ok %v err %v", ok, err)
		}
	}
}

type result struct {
	Events    []event.Event
	Anomalies []string
	Files     []event.FileRec
	Confirmed bool
}

func run(t testing.TB, msgs []msg, split int, x *analyzer.Expectation, end bool) result {
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("oft")
	c := spec.New(analyzer.NewSession(rec, &spec, x))
	fd := &analyzer.Feeder{Conn: c}
	feed := func(dir flow.Dir, b []byte) {
		if err := fd.Feed(dir, b); err != nil {
			t.Fatalf("Feed: %v", err)
		}
	}
	for _, m := range msgs {
		if split > 0 && split < len(m.data) {
			feed(m.dir, m.data[:split])
			feed(m.dir, m.data[split:])
		} else {
			feed(m.dir, m.data)
		}
	}
	if end {
		c.(analyzer.Ender).End(flow.EndShutdown)
	}
	r := result{Events: rec.Events, Anomalies: rec.Anomalies, Confirmed: rec.Confirmed}
	for _, f := range rec.Files {
		r.Files = append(r.Files, f.Record())
	}
	return r
}

func expectation() *analyzer.Expectation {
	return &analyzer.Expectation{Proto: "oft", Feature: event.FileTransfer, FileName: "setup.exe",
		Users: event.Users{Local: "alice20", Peer: "bobpeer"},
		Data:  map[string]any{"cookie": "1122334455667788", "size": int64(2048), "files": 1}}
}

func TestConnTransfer(t *testing.T) {
	f := exe()
	r := run(t, session(f), 0, expectation(), true)
	if !r.Confirmed {
		t.Error("not confirmed")
	}
	if len(r.Anomalies) != 0 {
		t.Errorf("anomalies: %v", r.Anomalies)
	}
	if len(r.Files) != 1 {
		t.Fatalf("files: %+v", r.Files)
	}
	m, s1, s2 := md5.Sum(f), sha1.Sum(f), sha256.Sum256(f)
	got := r.Files[0]
	if got.Filename != "setup.exe" || got.Size != 2048 || got.State != "CLOSED" ||
		got.MD5 != hex.EncodeToString(m[:]) || got.SHA1 != hex.EncodeToString(s1[:]) || got.SHA256 != hex.EncodeToString(s2[:]) {
		t.Errorf("fileinfo = %+v", got)
	}
	if !strings.Contains(got.Magic, "executable") {
		t.Errorf("magic = %q", got.Magic)
	}
	if len(r.Events) != 2 {
		t.Fatalf("events: %+v", r.Events)
	}
	offer, done := r.Events[0], r.Events[1]
	wantHash := "aol:" + hex.EncodeToString(binary.BigEndian.AppendUint32(nil, aolSum(f)))
	if offer.Kind != event.File || offer.Dir != flow.Resp || offer.Feature != event.FileTransfer ||
		offer.Users.Peer != "bobpeer" || *offer.File != (event.FileInfo{Name: "setup.exe", Size: 2048, Hash: wantHash, Outcome: event.Offered}) {
		t.Errorf("offer = %+v %+v", offer, offer.File)
	}
	if done.File.Outcome != event.Success || done.Dir != flow.Orig || done.Fields["type"] != "done" {
		t.Errorf("done = %+v %+v", done, done.File)
	}
}

func TestConnNoExpectation(t *testing.T) {
	r := run(t, session(exe()), 0, nil, true)
	if len(r.Files) != 1 || r.Files[0].State != "CLOSED" || r.Events[0].Feature != event.FileTransfer || r.Events[0].Users != (event.Users{}) {
		t.Errorf("result = %+v", r)
	}
}

func TestConnMultipleFiles(t *testing.T) {
	a, b := exe(), []byte("hello, world\n")
	msgs := session(a, b, nil)
	r := run(t, msgs, 0, nil, true)
	if len(r.Files) != 3 || len(r.Anomalies) != 0 {
		t.Fatalf("files %+v anomalies %v", r.Files, r.Anomalies)
	}
	for i, want := range []struct {
		name string
		size int64
	}{{"setup.exe", 2048}, {"readme1.txt", 13}, {"readme2.txt", 0}} {
		if f := r.Files[i]; f.Filename != want.name || f.Size != want.size || f.State != "CLOSED" {
			t.Errorf("file %d = %+v", i, f)
		}
	}
	if r.Events[2].Fields["files_left"] != uint16(2) {
		t.Errorf("second offer = %+v", r.Events[2].Fields)
	}
}

func TestConnChecksumMismatch(t *testing.T) {
	msgs := session(exe())
	msgs[2].data = append([]byte(nil), msgs[2].data...)
	msgs[2].data[100] ^= 0x55 // the bytes differ from what was announced
	r := run(t, msgs, 0, nil, true)
	if len(r.Anomalies) != 1 || !strings.HasPrefix(r.Anomalies[0], "oft_checksum_mismatch: setup.exe") {
		t.Errorf("anomalies = %v", r.Anomalies)
	}
}

func TestConnCookieMismatch(t *testing.T) {
	x := expectation()
	x.Data["cookie"] = "0000000000000001"
	r := run(t, session(exe()), 0, x, true)
	if len(r.Anomalies) != 1 || !strings.HasPrefix(r.Anomalies[0], "oft_cookie_mismatch") {
		t.Errorf("anomalies = %v", r.Anomalies)
	}
}

func TestConnTruncated(t *testing.T) {
	msgs := session(exe())[:3]
	msgs[2].data = msgs[2].data[:1000]
	r := run(t, msgs, 0, nil, true)
	if len(r.Files) != 1 || r.Files[0].State != "TRUNCATED" || r.Files[0].Size != 1000 || len(r.Anomalies) != 0 {
		t.Errorf("result = %+v", r)
	}
}

// Without the receiver's ack in the capture, the bytes still make the file.
func TestConnMissingAck(t *testing.T) {
	msgs := session(exe())
	msgs = append(msgs[:1:1], msgs[2:]...)
	r := run(t, msgs, 0, nil, true)
	if len(r.Files) != 1 || r.Files[0].State != "CLOSED" || len(r.Anomalies) != 0 {
		t.Errorf("result = %+v", r)
	}
}

func TestConnResume(t *testing.T) {
	f := exe()
	h := hdr{typ: typePrompt, totalFiles: 1, left: 1, totalSize: 2048, size: 2048, checksum: aolSum(f), name: []byte("setup.exe")}
	msgs := []msg{{flow.Resp, h.build()}}
	h.typ, h.recvBytes, h.recvSum = typeResume, 1000, aolSum(f[:1000])
	msgs = append(msgs, msg{flow.Orig, h.build()})
	h.typ = typeResumeAccept
	msgs = append(msgs, msg{flow.Resp, h.build()})
	h.typ = typeResumeAck
	msgs = append(msgs, msg{flow.Orig, h.build()}, msg{flow.Resp, f[1000:]})
	r := run(t, msgs, 0, nil, true)
	if len(r.Files) != 1 || r.Files[0].State != "CLOSED" || r.Files[0].Size != 1048 || !r.Files[0].Gaps || len(r.Anomalies) != 0 {
		t.Errorf("result = %+v", r)
	}
}

func TestConnGap(t *testing.T) {
	rec := analyzer.NewRecorder()
	spec, _ := analyzer.Lookup("oft")
	c := spec.New(rec.Session(&spec))
	msgs := session(exe())
	c.Feed(flow.Resp, msgs[0].data)
	c.Feed(flow.Orig, msgs[1].data)
	c.Feed(flow.Resp, msgs[2].data[:100])
	c.(analyzer.GapHandler).Gap(flow.Resp, 100)
	c.Feed(flow.Resp, msgs[2].data[200:])
	if len(rec.Files) != 1 || rec.Files[0].Record().State != "CLOSED" || !rec.Files[0].Record().Gaps || len(rec.Anomalies) != 0 {
		t.Errorf("files %+v anomalies %v", rec.Files, rec.Anomalies)
	}
	c.(analyzer.GapHandler).Gap(flow.Orig, 10)
	if n, err := c.Feed(flow.Orig, msgs[3].data); n != len(msgs[3].data) || err != nil || len(rec.Events) != 1 {
		t.Errorf("after gap: %d %v, events %d", n, err, len(rec.Events))
	}
}

// Every 2-way split of every message gives the same records.
func TestConnSplit(t *testing.T) {
	msgs := session(exe(), []byte("tiny"))
	whole := run(t, msgs, 0, expectation(), true)
	for split := 1; split < 2048; split++ {
		if got := run(t, msgs, split, expectation(), true); !reflect.DeepEqual(got, whole) {
			t.Fatalf("split at %d: differs:\n%+v\nwant\n%+v", split, got, whole)
		}
	}
}

func TestProbe(t *testing.T) {
	prompt := hdr{typ: typePrompt, name: []byte("a")}.build()
	tests := []struct {
		name string
		in   []byte
		want classify.Result
	}{
		{"prompt", prompt, classify.Match},
		{"ack", hdr{typ: typeAck}.build(), classify.Match},
		{"get file listing", hdr{typ: typeGetList}.build(), classify.Match},
		{"oft3", append([]byte("OFT3"), prompt[4:]...), classify.Match},
		{"magic only", []byte("OFT2"), classify.NeedMore},
		{"seven bytes", prompt[:7], classify.NeedMore},
		{"empty", nil, classify.NeedMore},
		{"odc", []byte("ODC2\x00\x4c\x00\x01\x00\x06"), classify.NoMatch},
		{"short header length", []byte("OFT2\x00\x4c\x01\x01"), classify.NoMatch},
		{"unknown type", []byte("OFT2\x01\x00\x03\x03"), classify.NoMatch},
		{"oft9", []byte("OFT9\x01\x00\x01\x01"), classify.NoMatch},
		{"http", []byte("GET / HTTP/1.1\r\n"), classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Data: tt.in}
		if got := probe(&in); got != tt.want {
			t.Errorf("%s: probe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	in := classify.Input{Data: hdr{typ: typePrompt}.build()}
	if n := testing.AllocsPerRun(100, func() { probe(&in) }); n != 0 {
		t.Fatalf("probe allocates %v times", n)
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Data: hdr{typ: typePrompt}.build()}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

// BenchmarkTransfer measures a whole 2 KiB transfer through Conn.Feed.
func BenchmarkTransfer(b *testing.B) {
	msgs := session(exe())
	b.ReportAllocs()
	b.SetBytes(2048)
	for b.Loop() {
		run(b, msgs, 0, nil, true)
	}
}

func FuzzOFTHeader(f *testing.F) {
	for _, m := range session(exe()) {
		f.Add(m.data[:min(len(m.data), 300)])
	}
	f.Add(hdr{typ: typePrompt, encoding: encUCS2, name: []byte{0, 'x', 0xd8, 0x00}}.build()) // lone surrogate
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok, err := parseHeader(b)
		if ok && (err != nil || h.length < minHeader || h.length > len(b)) {
			t.Fatalf("ok %v err %v length %d of %d", ok, err, h.length, len(b))
		}
		in := classify.Input{Data: b}
		if probe(&in) == classify.Match && checkStart(b[:probeBytes]) != nil {
			t.Fatal("probe matched a bad start")
		}
	})
}

func FuzzConnFeed(f *testing.F) {
	msgs := session([]byte("0123456789"))
	var all []byte
	for _, m := range msgs {
		f.Add(m.data, m.dir == flow.Resp, byte(0))
		all = append(all, m.data...)
	}
	f.Add(all, true, byte(7)) // a whole session in one direction, split
	f.Fuzz(func(t *testing.T, data []byte, resp bool, split byte) {
		rec := analyzer.NewRecorder()
		spec, _ := analyzer.Lookup("oft")
		c := spec.New(analyzer.NewSession(rec, &spec, expectation()))
		var pend [2][]byte
		for i, m := range msgs[:2] {
			if i == 1 || resp {
				c.Feed(m.dir, m.data)
			}
		}
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		k := min(int(split), len(data))
		for _, part := range [][]byte{data[:k], data[k:]} {
			buf := append(pend[dir], part...)
			n, err := c.Feed(dir, buf)
			if n < 0 || n > len(buf) {
				t.Fatalf("Feed consumed %d of %d", n, len(buf))
			}
			if err != nil {
				return
			}
			pend[dir] = append([]byte(nil), buf[n:]...)
		}
		c.(analyzer.Ender).End(flow.EndShutdown)
	})
}

// flap frames one FLAP: '*', channel, sequence, length, data.
func flap(ch byte, seq uint16, data []byte) []byte {
	b := []byte{0x2a, ch, byte(seq >> 8), byte(seq), byte(len(data) >> 8), byte(len(data))}
	return append(b, data...)
}

func tlv(typ uint16, v []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// rendezvous builds SNAC 0004/0006 (send ICBM) on channel 2 proposing a
// Send File (capability 09461343-4C7F-11D1-8222-444553540000) to "bobpeer",
// as aim-oscar.md §4 lays it out.
func rendezvous() []byte {
	snac := []byte{0x00, 0x04, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07}
	snac = append(snac, testCookie[:]...)
	snac = append(snac, 0x00, 0x02) // channel 2
	sn := "bobpeer"
	snac = append(snac, byte(len(sn)))
	snac = append(snac, sn...)
	rv := []byte{0x00, 0x00} // PROPOSE
	rv = append(rv, testCookie[:]...)
	rv = append(rv, 0x09, 0x46, 0x13, 0x43, 0x4c, 0x7f, 0x11, 0xd1, 0x82, 0x22, 0x44, 0x45, 0x53, 0x54, 0x00, 0x00)
	rv = append(rv, tlv(0x000a, []byte{0x00, 0x01})...)
	rv = append(rv, tlv(0x000f, nil)...)
	rv = append(rv, tlv(0x0002, []byte{203, 0, 113, 5})...)
	rv = append(rv, tlv(0x0003, []byte{192, 168, 1, 20})...)
	rv = append(rv, tlv(0x0005, []byte{0x9d, 0xdb})...) // 40411
	rv = append(rv, tlv(0x000c, []byte("Please accept this file."))...)
	svc := []byte{0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x08, 0x00} // single file, 1 file, 2048 bytes
	svc = append(svc, "setup.exe\x00"...)
	rv = append(rv, tlv(0x2711, svc)...)
	snac = append(snac, tlv(0x0005, rv)...)
	snac = append(snac, tlv(0x0003, nil)...) // request server ack
	return snac
}

// buildCapture writes rendezvous-oft.pcap: alice20 (192.168.1.20) on her
// BOS connection proposes setup.exe to bobpeer, then bobpeer's client
// connects to 192.168.1.20:40411 and receives the file over OFT2.
func buildCapture() []byte {
	w := pcaptest.NewWriter()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	bos := w.TCP(t0, netip.MustParseAddrPort("192.168.1.20:49152"), netip.MustParseAddrPort("64.12.24.50:5190"))
	bos.Handshake()
	bos.Send(1, flap(1, 0x1000, []byte{0, 0, 0, 1}))
	bos.Send(0, flap(1, 0x2000, append([]byte{0, 0, 0, 1}, tlv(0x0006, []byte("0123456789abcdef0123456789abcdef"))...)))
	bos.Send(0, flap(2, 0x2001, rendezvous()))
	bos.Send(1, flap(2, 0x1001, append([]byte{0x00, 0x04, 0x00, 0x0c, 0, 0, 0, 0, 0, 7}, append(testCookie[:], 0, 2, 7, 'b', 'o', 'b', 'p', 'e', 'e', 'r')...)))
	x := w.TCP(bos.T.Add(time.Second), netip.MustParseAddrPort("198.51.100.9:51000"), netip.MustParseAddrPort("192.168.1.20:40411"))
	x.Handshake()
	for _, m := range session(exe()) {
		x.Send(int(m.dir), m.data)
	}
	x.Close()
	bos.Close()
	return w.Bytes()
}

// buildOFTOnly writes oft-only.pcap: the same OFT2 connection with no
// rendezvous before it, on the same random port.
func buildOFTOnly() []byte {
	w := pcaptest.NewWriter()
	x := w.TCP(time.Date(2024, 5, 1, 12, 0, 1, 0, time.UTC), netip.MustParseAddrPort("198.51.100.9:51000"), netip.MustParseAddrPort("192.168.1.20:40411"))
	x.Handshake()
	for _, m := range session(exe()) {
		x.Send(int(m.dir), m.data)
	}
	x.Close()
	return w.Bytes()
}

func TestCapture(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "rendezvous-oft.pcap"), buildCapture())
	golden.Check(t, filepath.Join("testdata", "oft-only.pcap"), buildOFTOnly())
}

// TestGolden runs the OFT connection without a rendezvous: it is found by
// its first bytes alone.
func TestGolden(t *testing.T) {
	lines := pcaptest.Golden(t, "oft-only.pcap", false)
	checkFileinfo(t, lines)
}

// checkFileinfo asserts the digests of the transferred file independently
// of the golden file.
func checkFileinfo(t *testing.T, lines []byte) {
	t.Helper()
	f := exe()
	m, s1, s2 := md5.Sum(f), sha1.Sum(f), sha256.Sum256(f)
	for _, want := range []string{`"event_type":"fileinfo"`, `"filename":"setup.exe"`, `"size":2048`, `"state":"CLOSED"`,
		`"md5":"` + hex.EncodeToString(m[:]) + `"`, `"sha1":"` + hex.EncodeToString(s1[:]) + `"`,
		`"sha256":"` + hex.EncodeToString(s2[:]) + `"`, `"app_proto":"oft"`} {
		if !strings.Contains(string(lines), want) {
			t.Errorf("records lack %s", want)
		}
	}
}
