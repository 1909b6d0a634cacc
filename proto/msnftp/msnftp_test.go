package msnftp

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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

const (
	testUser   = "bob@hotmail.com"
	testCookie = "1189314519"
	fileSize   = 5000
)

// exe is the transferred file: a small MS-DOS/PE executable head and a
// deterministic body, fileSize bytes.
func exe() []byte {
	b := make([]byte, fileSize)
	copy(b, "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8")
	copy(b[0x4e:], "This program cannot be run in DOS mode.\r\r\n$")
	for i := 0x80; i < len(b); i++ {
		b[i] = byte(i*13 + 5)
	}
	return b
}

// frame writes f as data blocks of at most maxBlock bytes, built from
// msnp.md §4.1: flag 0, length little-endian, the bytes.
func frame(f []byte) []byte {
	var out []byte
	for len(f) > 0 {
		n := min(len(f), maxBlock)
		out = append(out, flagData, byte(n), byte(n>>8))
		out = append(out, f[:n]...)
		f = f[n:]
	}
	return out
}

type msg struct {
	dir  flow.Dir
	data []byte
}

// session is one transfer as msnp.md §4.1 lays it out: the receiver
// (originator) connected to the sender.
func session(f []byte, cookie string, bye string) []msg {
	return []msg{
		{flow.Orig, []byte("VER MSNFTP\r\n")},
		{flow.Resp, []byte("VER MSNFTP\r\n")},
		{flow.Orig, []byte("USR " + testUser + " " + cookie + "\r\n")},
		{flow.Resp, []byte(fmt.Sprintf("FIL %d\r\n", len(f)))},
		{flow.Orig, []byte("TFR\r\n")},
		{flow.Resp, frame(f)},
		{flow.Orig, []byte(bye)},
	}
}

func okSession() []msg { return session(exe(), testCookie, "BYE 16777989\r\n") }

func TestParseLine(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		err  error
		cmd  string
		args []string
		len  int
	}{
		{"VER MSNFTP\r\n", true, nil, "VER", []string{"MSNFTP"}, 12},
		{"USR bob@hotmail.com 1189314519\r\n", true, nil, "USR", []string{"bob@hotmail.com", "1189314519"}, 32},
		{"FIL 5000\r\n", true, nil, "FIL", []string{"5000"}, 10},
		{"TFR\r\n", true, nil, "TFR", nil, 5},
		{"TFR\n", true, nil, "TFR", nil, 4},
		{"BYE 16777989\r\nrest", true, nil, "BYE", []string{"16777989"}, 14},
		{"ABC  a  b c d e f\r\n", true, nil, "ABC", []string{"a", "b", "c", "d"}, 19},
		{"USR b\xc3\xa9b@x 1\r\n", true, nil, "USR", []string{"b\u00e9b@x", "1"}, 14},
		{"VER MSN", false, nil, "", nil, 0},
		{"", false, nil, "", nil, 0},
		{"ver MSNFTP\r\n", false, ErrCommand, "", nil, 0},
		{"VERMSNFTP\r\n", false, ErrCommand, "", nil, 0},
		{"VE\r\n", false, ErrCommand, "", nil, 0},
		{"VERX", false, ErrCommand, "", nil, 0},
		{"\x00\x07\xf5", false, ErrCommand, "", nil, 0},
		{"USR a\x00b 1\r\n", false, ErrCommand, "", nil, 0},
		{"USR " + strings.Repeat("a", maxLine), false, ErrLineTooLong, "", nil, 0},
	}
	for _, tt := range tests {
		l, ok, err := parseLine([]byte(tt.in))
		if ok != tt.ok || !errors.Is(err, tt.err) {
			t.Errorf("%q: ok %v err %v, want %v %v", tt.in, ok, err, tt.ok, tt.err)
			continue
		}
		if ok && (l.cmd != tt.cmd || !reflect.DeepEqual(l.args, tt.args) || l.length != tt.len) {
			t.Errorf("%q: %+v, want %s %q %d", tt.in, l, tt.cmd, tt.args, tt.len)
		}
	}
}

// Every truncation of a valid line is incomplete, never an error.
func TestParseLineTruncated(t *testing.T) {
	for _, m := range okSession() {
		if m.data[0] == flagData {
			continue
		}
		for i := range len(m.data) {
			if _, ok, err := parseLine(m.data[:i]); ok || err != nil {
				t.Fatalf("%q cut at %d: ok %v err %v", m.data, i, ok, err)
			}
		}
		if l, ok, err := parseLine(m.data); !ok || err != nil || l.length != len(m.data) {
			t.Fatalf("%q whole: ok %v err %v", m.data, ok, err)
		}
	}
}

func TestParseBlock(t *testing.T) {
	tests := []struct {
		in   []byte
		ok   bool
		err  error
		want block
	}{
		{[]byte{0, 0xfd, 0x07}, true, nil, block{length: 2045}},
		{[]byte{0, 0x8e, 0x03, 'M', 'Z'}, true, nil, block{length: 910}},
		{[]byte{0, 0, 0}, true, nil, block{}},
		{[]byte{1, 0, 0}, true, nil, block{cancel: true}},
		{[]byte{0, 0xff, 0xff}, true, nil, block{length: 65535}},
		{[]byte{0, 0xfd}, false, nil, block{}},
		{[]byte{1}, false, nil, block{}},
		{nil, false, nil, block{}},
		{[]byte{2, 0, 0}, false, ErrBlockFlag, block{}},
		{[]byte("BYE"), false, ErrBlockFlag, block{}},
		{[]byte{0xff}, false, ErrBlockFlag, block{}},
	}
	for _, tt := range tests {
		b, ok, err := parseBlock(tt.in)
		if ok != tt.ok || !errors.Is(err, tt.err) || b != tt.want {
			t.Errorf("% x: %+v ok %v err %v, want %+v %v %v", tt.in, b, ok, err, tt.want, tt.ok, tt.err)
		}
	}
	// Every truncation of the framed file's first header is incomplete.
	f := frame(exe())
	for i := range blockHeader {
		if _, ok, err := parseBlock(f[:i]); ok || err != nil {
			t.Fatalf("cut at %d: ok %v err %v", i, ok, err)
		}
	}
}

// The framing of a whole file parses back to the file.
func TestBlocksRoundTrip(t *testing.T) {
	f := exe()
	b := frame(f)
	var got []byte
	var lens []int
	for len(b) > 0 {
		blk, ok, err := parseBlock(b)
		if !ok || err != nil || blk.cancel || blk.length > len(b)-blockHeader {
			t.Fatalf("block %+v ok %v err %v", blk, ok, err)
		}
		lens = append(lens, blk.length)
		got = append(got, b[blockHeader:blockHeader+blk.length]...)
		b = b[blockHeader+blk.length:]
	}
	if string(got) != string(f) || !reflect.DeepEqual(lens, []int{2045, 2045, 910}) {
		t.Errorf("round trip: %d bytes in blocks %v", len(got), lens)
	}
}

func TestParseUint(t *testing.T) {
	tests := []struct {
		in   string
		max  uint64
		want uint64
		err  bool
	}{
		{"0", 10, 0, false},
		{"16777989", 1 << 32, 16777989, false},
		{"4294967295", 1<<32 - 1, 1<<32 - 1, false},
		{"4294967296", 1<<32 - 1, 0, true},
		{"", 10, 0, true},
		{"-1", 10, 0, true},
		{"+1", 10, 0, true},
		{"1x", 10, 0, true},
		{"99999999999999999999", 1 << 63, 0, true},
	}
	for _, tt := range tests {
		v, err := parseUint(tt.in, tt.max)
		if v != tt.want || (err != nil) != tt.err {
			t.Errorf("parseUint(%q) = %d, %v", tt.in, v, err)
		}
	}
}

type result struct {
	Events    []event.Event
	Anomalies []string
	Files     []event.FileRec
	Confirmed bool
}

func newTestConn(x *analyzer.Expectation, o analyzer.Options) (*analyzer.Recorder, analyzer.Conn) {
	rec := analyzer.NewRecorder()
	if o.RevealCredentials {
		rec.Opts.RevealCredentials = true
	}
	spec, _ := analyzer.Lookup("msnftp")
	return rec, spec.New(analyzer.NewSession(rec, &spec, x))
}

func run(t testing.TB, msgs []msg, split int, x *analyzer.Expectation) result {
	rec, c := newTestConn(x, analyzer.Options{})
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
	c.(analyzer.Ender).End(flow.EndShutdown)
	r := result{Events: rec.Events, Anomalies: rec.Anomalies, Confirmed: rec.Confirmed}
	for _, f := range rec.Files {
		r.Files = append(r.Files, f.Record())
	}
	return r
}

func expectation() *analyzer.Expectation {
	return &analyzer.Expectation{Proto: "msnftp", Feature: event.FileTransfer, FileName: "setup.exe",
		Users: event.Users{Local: "alice@hotmail.com", Peer: testUser},
		Data:  map[string]any{"auth_cookie": testCookie, "size": int64(fileSize)}}
}

func kinds(evs []event.Event) string {
	var s []string
	for _, e := range evs {
		k := string(e.Kind)
		if e.Login != nil {
			k += ":" + string(e.Login.Outcome)
		}
		if e.File != nil {
			k += ":" + string(e.File.Outcome)
		}
		s = append(s, k)
	}
	return strings.Join(s, " ")
}

func TestConnTransfer(t *testing.T) {
	f := exe()
	r := run(t, okSession(), 0, expectation())
	if !r.Confirmed || len(r.Anomalies) != 0 {
		t.Errorf("confirmed %v anomalies %v", r.Confirmed, r.Anomalies)
	}
	if got, want := kinds(r.Events), "login:pending credential login:success file:offered file:success"; got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	if len(r.Files) != 1 {
		t.Fatalf("files: %+v", r.Files)
	}
	m, s1, s2 := md5.Sum(f), sha1.Sum(f), sha256.Sum256(f)
	got := r.Files[0]
	if got.Filename != "setup.exe" || got.Size != fileSize || got.State != "CLOSED" || got.Gaps ||
		got.MD5 != hex.EncodeToString(m[:]) || got.SHA1 != hex.EncodeToString(s1[:]) || got.SHA256 != hex.EncodeToString(s2[:]) {
		t.Errorf("fileinfo = %+v", got)
	}
	if !strings.Contains(got.Magic, "executable") {
		t.Errorf("magic = %q", got.Magic)
	}
	login, cred, offer, done := r.Events[0], r.Events[1], r.Events[3], r.Events[4]
	if login.Dir != flow.Orig || login.Login.User != testUser || login.Users.Local != "alice@hotmail.com" || login.Users.Peer != testUser {
		t.Errorf("login = %+v %+v", login, login.Login)
	}
	c := cred.Credential
	if c.Class != event.SessionToken || c.What != "auth_cookie" || c.User != testUser || c.Length != len(testCookie) ||
		c.Secret != "" || c.Fingerprint == "" {
		t.Errorf("credential = %+v", c)
	}
	if offer.Dir != flow.Resp || *offer.File != (event.FileInfo{Name: "setup.exe", Size: fileSize, Outcome: event.Offered}) ||
		offer.Feature != event.FileTransfer {
		t.Errorf("offer = %+v %+v", offer, offer.File)
	}
	if done.Dir != flow.Orig || *done.File != (event.FileInfo{Name: "setup.exe", Size: fileSize, Outcome: event.Success}) ||
		done.Fields["bye_code"] != int64(byeSuccess) {
		t.Errorf("done = %+v %+v", done, done.File)
	}
}

func TestConnReveal(t *testing.T) {
	rec, c := newTestConn(nil, analyzer.Options{RevealCredentials: true})
	for _, m := range okSession()[:3] {
		c.Feed(m.dir, m.data)
	}
	if len(rec.Events) != 2 || rec.Events[1].Credential.Secret != testCookie {
		t.Errorf("events %+v", rec.Events)
	}
}

func TestConnNoExpectation(t *testing.T) {
	r := run(t, okSession(), 0, nil)
	if len(r.Files) != 1 || r.Files[0].State != "CLOSED" || r.Files[0].Filename != "msnftp-0" || len(r.Anomalies) != 0 {
		t.Fatalf("result = %+v", r)
	}
	if e := r.Events[0]; e.Feature != event.FileTransfer || e.Users != (event.Users{Local: testUser}) {
		t.Errorf("login = %+v", e)
	}
}

func TestConnOutcomes(t *testing.T) {
	f := exe()
	cancelled := session(f, testCookie, "")
	cancelled[5].data = append(frame(f[:2045]), flagCancel, 0, 0)
	cancelled = cancelled[:6]
	ccl := session(f, testCookie, "CCL\r\n")
	ccl[5].data = frame(f[:1000])
	short := session(f, testCookie, "BYE 2147942405\r\n")
	short[5].data = frame(f)[:500]
	extra := okSession()
	extra[5].data = append(frame(f), frame([]byte("trailing"))...)
	tests := []struct {
		name      string
		msgs      []msg
		x         *analyzer.Expectation
		events    string
		state     string // "" : no file
		size      int64
		anomalies []string
	}{
		{"bye failure", session(f, testCookie, "BYE 2164261694\r\n"), nil,
			"login:pending credential login:success file:offered file:failure", "CLOSED", fileSize, nil},
		{"short then bye failure", short, nil,
			"login:pending credential login:success file:offered file:failure", "ERROR", 497, nil},
		{"sender cancels", cancelled, nil,
			"login:pending credential login:success file:offered file:cancelled", "TRUNCATED", 2045, nil},
		{"receiver cancels", ccl, nil,
			"login:pending credential login:success file:offered file:cancelled", "TRUNCATED", 1000, nil},
		{"receiver cancels before data", session(f, testCookie, "CCL\r\n")[:4:4], nil,
			"login:pending credential login:success file:offered", "", 0, nil},
		{"cut short", okSession()[:5:5], nil,
			"login:pending credential login:success file:offered", "TRUNCATED", 0, nil},
		{"excess data", extra, nil,
			"login:pending credential login:success file:offered file:success", "CLOSED", fileSize, []string{"msnftp_excess_data"}},
		{"empty file", session(nil, testCookie, "BYE 16777989\r\n"), nil,
			"login:pending credential login:success file:offered file:success", "CLOSED", 0, nil},
		{"cookie mismatch", session(f, "999", "BYE 16777989\r\n"), expectation(),
			"login:pending credential login:success file:offered file:success", "CLOSED", fileSize, []string{"msnftp_cookie_mismatch"}},
		{"size mismatch", session(f[:4000], testCookie, "BYE 16777989\r\n"), expectation(),
			"login:pending credential login:success file:offered file:success", "CLOSED", 4000, []string{"msnftp_size_mismatch"}},
		{"odd version and command", append([]msg{{flow.Orig, []byte("VER MSNFTP2\r\n")}, {flow.Orig, []byte("XYZ 1\r\n")}}, okSession()[2:]...), nil,
			"login:pending credential login:success file:offered file:success", "CLOSED", fileSize, []string{"msnftp_version", "msnftp_unknown_command"}},
	}
	for _, tt := range tests {
		r := run(t, tt.msgs, 0, tt.x)
		if got := kinds(r.Events); got != tt.events {
			t.Errorf("%s: events %s, want %s", tt.name, got, tt.events)
		}
		var names []string
		for _, a := range r.Anomalies {
			names = append(names, a[:strings.IndexByte(a, ':')])
		}
		if !reflect.DeepEqual(names, tt.anomalies) {
			t.Errorf("%s: anomalies %v, want %v", tt.name, r.Anomalies, tt.anomalies)
		}
		if tt.state == "" {
			if len(r.Files) != 0 {
				t.Errorf("%s: files %+v", tt.name, r.Files)
			}
			continue
		}
		if len(r.Files) != 1 || r.Files[0].State != tt.state || r.Files[0].Size != tt.size {
			t.Errorf("%s: files %+v, want %s %d", tt.name, r.Files, tt.state, tt.size)
		}
	}
}

func TestConnViolations(t *testing.T) {
	for _, tt := range []struct {
		dir  flow.Dir
		in   string
		want error
	}{
		{flow.Orig, "USR bob@hotmail.com\r\n", ErrArgs},
		{flow.Resp, "FIL\r\n", ErrArgs},
		{flow.Resp, "FIL -5\r\n", ErrArgs},
		{flow.Resp, "FIL 99999999999999999\r\n", ErrArgs},
		{flow.Orig, "BYE success\r\n", ErrArgs},
		{flow.Orig, "HELLO\r\n", ErrCommand},
		{flow.Resp, "220 ftp ready\r\n", ErrCommand},
	} {
		_, c := newTestConn(nil, analyzer.Options{})
		if _, err := c.Feed(tt.dir, []byte(tt.in)); !errors.Is(err, tt.want) {
			t.Errorf("%q: %v, want %v", tt.in, err, tt.want)
		}
	}
	// A bad block flag after FIL is a violation of the sender's direction.
	_, c := newTestConn(nil, analyzer.Options{})
	c.Feed(flow.Resp, []byte("FIL 10\r\n"))
	if _, err := c.Feed(flow.Resp, []byte("\x05\x00\x00")); !errors.Is(err, ErrBlockFlag) {
		t.Errorf("bad flag: %v", err)
	}
}

func TestConnGap(t *testing.T) {
	msgs := okSession()
	data := msgs[5].data
	feedAll := func(c analyzer.Conn, ms []msg) {
		for _, m := range ms {
			c.Feed(m.dir, m.data)
		}
	}
	// Inside the first block: the framing holds and the file is complete
	// but for the gap.
	rec, c := newTestConn(nil, analyzer.Options{})
	feedAll(c, msgs[:5])
	c.Feed(flow.Resp, data[:100])
	c.(analyzer.GapHandler).Gap(flow.Resp, 100)
	c.Feed(flow.Resp, data[200:])
	c.(analyzer.GapHandler).Gap(flow.Orig, 3) // a lost ACK-only byte run before BYE
	c.Feed(flow.Orig, []byte("16777989\r\nBYE 16777989\r\n"))
	c.(analyzer.Ender).End(flow.EndShutdown)
	if len(rec.Files) != 1 {
		t.Fatalf("files %+v", rec.Files)
	}
	if r := rec.Files[0].Record(); r.State != "CLOSED" || !r.Gaps || r.Size != fileSize-100 || r.MD5 != "" {
		t.Errorf("gap in block: %+v", r)
	}
	if got := kinds(rec.Events); got != "login:pending credential login:success file:offered file:success" {
		t.Errorf("events %s", got)
	}
	if len(rec.Anomalies) != 1 || !strings.HasPrefix(rec.Anomalies[0], "msnftp_gap") {
		t.Errorf("anomalies %v", rec.Anomalies)
	}
	// Across a block header: the rest is skipped, the file is TRUNCATED.
	rec, c = newTestConn(nil, analyzer.Options{})
	feedAll(c, msgs[:5])
	c.Feed(flow.Resp, data[:2000])
	c.(analyzer.GapHandler).Gap(flow.Resp, 100)
	if n, err := c.Feed(flow.Resp, data[2100:]); n != len(data)-2100 || err != nil {
		t.Errorf("after gap: %d %v", n, err)
	}
	c.(analyzer.Ender).End(flow.EndShutdown)
	if r := rec.Files[0].Record(); len(rec.Files) != 1 || r.State != "TRUNCATED" || !r.Gaps || r.Size != 2000-blockHeader {
		t.Errorf("gap across header: %+v", r)
	}
}

// Every 2-way split of every message gives the same records.
func TestConnSplit(t *testing.T) {
	msgs := okSession()
	whole := run(t, msgs, 0, expectation())
	for split := 1; split < len(msgs[5].data); split++ {
		if got := run(t, msgs, split, expectation()); !reflect.DeepEqual(got, whole) {
			t.Fatalf("split at %d: differs:\n%+v\nwant\n%+v", split, got, whole)
		}
	}
	// The whole sender direction in one piece gives the same records too.
	joined := []msg{msgs[0], msgs[2], msgs[4], msgs[6], {flow.Resp, append(append([]byte(nil), msgs[1].data...), append(msgs[3].data, msgs[5].data...)...)}}
	if got := run(t, joined, 0, expectation()); !reflect.DeepEqual(got.Files, whole.Files) {
		t.Errorf("joined: %+v", got.Files)
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		in   string
		want classify.Result
	}{
		{"VER MSNFTP\r\n", classify.Match},
		{"VER MSNFTP\r\nUSR bob@hotmail.com 1\r\n", classify.Match},
		{"VER MSNFTP\n", classify.Match},
		{"VER MSNFTP MSNFTP2\r\n", classify.Match},
		{"VER MSNFTP", classify.NeedMore},
		{"VER MSNFTP\r", classify.NeedMore},
		{"VER MS", classify.NeedMore},
		{"", classify.NeedMore},
		{"VER MSNFTPX\r\n", classify.NoMatch},
		{"VER MSNFTP\rX", classify.NoMatch},
		{"VER MSNFTP \x01\r\n", classify.NoMatch},
		{"VER 1 MSNP8 CVR0\r\n", classify.NoMatch},
		{"USR 1 alice@hotmail.com 1.2.3\r\n", classify.NoMatch},
		{"GET / HTTP/1.1\r\n", classify.NoMatch},
		{"VER MSNFTP " + strings.Repeat("a", probeBytes), classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Data: []byte(tt.in)}
		if got := probe(&in); got != tt.want {
			t.Errorf("probe(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	// Every truncation of the VER line is NeedMore.
	v := "VER MSNFTP\r\n"
	for i := range len(v) {
		in := classify.Input{Data: []byte(v[:i])}
		if got := probe(&in); got != classify.NeedMore {
			t.Errorf("probe(%q) = %v", v[:i], got)
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	in := classify.Input{Data: []byte("VER MSNFTP\r\n")}
	if n := testing.AllocsPerRun(100, func() { probe(&in) }); n != 0 {
		t.Fatalf("probe allocates %v times", n)
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Data: []byte("VER MSNFTP\r\n")}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

// BenchmarkTransfer measures a whole 5000-byte transfer through Conn.Feed.
func BenchmarkTransfer(b *testing.B) {
	msgs := okSession()
	b.ReportAllocs()
	b.SetBytes(fileSize)
	for b.Loop() {
		run(b, msgs, 0, nil)
	}
}

func FuzzLine(f *testing.F) {
	for _, m := range okSession() {
		if m.data[0] != flagData {
			f.Add(m.data)
		}
	}
	f.Add([]byte("CCL\r\n"))                   // the receiver's cancel
	f.Add([]byte("USR a b c d e f g h i\r\n")) // more words than kept
	f.Fuzz(func(t *testing.T, b []byte) {
		l, ok, err := parseLine(b)
		if ok && (err != nil || l.length < 1 || l.length > len(b) || l.length > maxLine || len(l.cmd) != 3 || len(l.args) > maxArgs) {
			t.Fatalf("ok %v err %v line %+v of %d", ok, err, l, len(b))
		}
		if !ok && err == nil && len(b) >= maxLine {
			t.Fatalf("incomplete at %d bytes", len(b))
		}
	})
}

func FuzzBlocks(f *testing.F) {
	f.Add(frame(exe()))
	f.Add([]byte{flagCancel, 0, 0})        // sender's cancel
	f.Add([]byte{flagData, 0xff, 0xff, 1}) // over-long block, incomplete
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			blk, ok, err := parseBlock(b)
			if err != nil || !ok {
				if ok || (err == nil && len(b) >= blockHeader) {
					t.Fatalf("ok %v err %v at %d bytes", ok, err, len(b))
				}
				return
			}
			if blk.length < 0 || blk.length > 0xffff {
				t.Fatalf("length %d", blk.length)
			}
			b = b[min(len(b), blockHeader+blk.length):]
		}
	})
}

func FuzzConnFeed(f *testing.F) {
	msgs := session([]byte("0123456789"), testCookie, "BYE 16777989\r\n")
	var resp []byte
	for _, m := range msgs {
		f.Add(m.data, m.dir == flow.Resp, byte(0))
		if m.dir == flow.Resp {
			resp = append(resp, m.data...)
		}
	}
	f.Add(resp, true, byte(7)) // the whole sender direction, split
	f.Fuzz(func(t *testing.T, data []byte, resp bool, split byte) {
		_, c := newTestConn(expectation(), analyzer.Options{})
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		c.Feed(flow.Orig, msgs[0].data)
		var pend []byte
		k := min(int(split), len(data))
		for _, part := range [][]byte{data[:k], data[k:]} {
			buf := append(pend, part...)
			n, err := c.Feed(dir, buf)
			if n < 0 || n > len(buf) {
				t.Fatalf("Feed consumed %d of %d", n, len(buf))
			}
			if err != nil {
				return
			}
			pend = append([]byte(nil), buf[n:]...)
		}
		c.(analyzer.GapHandler).Gap(dir, int(split))
		c.Feed(dir, data)
		c.(analyzer.Ender).End(flow.EndShutdown)
	})
}

func FuzzProbe(f *testing.F) {
	f.Add([]byte("VER MSNFTP\r\n"))
	f.Add([]byte("VER 1 MSNP8 CVR0\r\n")) // MSNP notification server, not ours
	f.Fuzz(func(t *testing.T, b []byte) {
		in := classify.Input{Data: b}
		if probe(&in) == classify.Match && !strings.HasPrefix(string(b), verLine) {
			t.Fatalf("probe matched %q", b)
		}
	})
}

var (
	t0       = time.Date(2003, 3, 14, 15, 0, 0, 0, time.UTC)
	receiver = netip.MustParseAddrPort("198.51.100.9:52114")
	sender   = netip.MustParseAddrPort("192.168.1.20:40999")
)

// transfer writes the MSNFTP connection: the receiver connects to the
// sender's announced port and fetches the file.
func transfer(w *pcaptest.Writer, at time.Time) {
	x := w.TCP(at, receiver, sender)
	x.Handshake()
	for _, m := range okSession() {
		x.Send(int(m.dir), m.data)
	}
	x.Close()
}

// buildMSNFTP writes msnftp.pcap: the MSNFTP connection alone.
func buildMSNFTP() []byte {
	w := pcaptest.NewWriter()
	transfer(w, t0.Add(5*time.Second))
	return w.Bytes()
}

// msnpMsg frames a switchboard MSG (msnp.md §1, §3): header line with the
// payload's byte count, then MIME headers, a blank line and the body.
func msnpMsg(first string, body string) []byte {
	payload := "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\n" + body
	return []byte(fmt.Sprintf("MSG %s %d\r\n%s", first, len(payload), payload))
}

const invitationCookie = "57721"

// buildInvite writes invite-msnftp.pcap: alice@hotmail.com (192.168.1.20)
// on a switchboard session invites bob@hotmail.com to a File Transfer of
// setup.exe (msnp.md §4.1 steps 1-3), then bob's client connects to the
// announced 192.168.1.20:40999 and receives it over MSNFTP (step 4).
func buildInvite() []byte {
	w := pcaptest.NewWriter()
	sb := w.TCP(t0, netip.MustParseAddrPort("192.168.1.20:49160"), netip.MustParseAddrPort("207.46.108.37:1863"))
	sb.Handshake()
	sb.Send(0, []byte("USR 1 alice@hotmail.com 17262740.1050826919.32308\r\n"))
	sb.Send(1, []byte("USR 1 OK alice@hotmail.com Alice\r\n"))
	sb.Send(0, []byte("CAL 2 bob@hotmail.com\r\n"))
	sb.Send(1, []byte("CAL 2 RINGING 11752013\r\n"))
	sb.Send(1, []byte("JOI bob@hotmail.com Bob\r\n"))
	sb.Send(0, msnpMsg("3 N", "Application-Name: File Transfer\r\n"+
		"Application-GUID: {5D3E02AB-6190-11d3-BBBB-00C04F795683}\r\n"+
		"Invitation-Command: INVITE\r\n"+
		"Invitation-Cookie: "+invitationCookie+"\r\n"+
		"Application-File: setup.exe\r\n"+
		fmt.Sprintf("Application-FileSize: %d\r\n", fileSize)+
		"\r\n"))
	sb.Send(1, msnpMsg("bob@hotmail.com Bob", "Invitation-Command: ACCEPT\r\n"+
		"Invitation-Cookie: "+invitationCookie+"\r\n"+
		"Launch-Application: FALSE\r\n"+
		"Request-Data: IP-Address:\r\n"+
		"\r\n"))
	sb.Send(0, msnpMsg("4 N", "Invitation-Command: ACCEPT\r\n"+
		"Invitation-Cookie: "+invitationCookie+"\r\n"+
		"IP-Address: "+sender.Addr().String()+"\r\n"+
		fmt.Sprintf("Port: %d\r\n", sender.Port())+
		"AuthCookie: "+testCookie+"\r\n"+
		"Launch-Application: FALSE\r\n"+
		"Request-Data: IP-Address:\r\n"+
		"\r\n"))
	transfer(w, sb.T.Add(time.Second))
	sb.T = sb.T.Add(5 * time.Second)
	sb.Send(0, []byte("OUT\r\n"))
	sb.Close()
	return w.Bytes()
}

func TestCapture(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "msnftp.pcap"), buildMSNFTP())
	golden.Check(t, filepath.Join("testdata", "invite-msnftp.pcap"), buildInvite())
}

// TestGolden runs the MSNFTP connection without an invitation: it is found
// by its first line alone, on a port that is not the 6891 hint.
func TestGolden(t *testing.T) {
	lines := pcaptest.Golden(t, "msnftp.pcap", false)
	checkFileinfo(t, lines, "msnftp-1")
}

// checkFileinfo asserts the digests of the transferred file independently
// of the golden file.
func checkFileinfo(t *testing.T, lines []byte, name string) {
	t.Helper()
	f := exe()
	m, s1, s2 := md5.Sum(f), sha1.Sum(f), sha256.Sum256(f)
	var info string
	for _, l := range strings.Split(string(lines), "\n") {
		if strings.Contains(l, `"event_type":"fileinfo"`) {
			info = l
		}
	}
	for _, want := range []string{`"filename":"` + name + `"`, fmt.Sprintf(`"size":%d`, fileSize), `"state":"CLOSED"`,
		`"md5":"` + hex.EncodeToString(m[:]) + `"`, `"sha1":"` + hex.EncodeToString(s1[:]) + `"`,
		`"sha256":"` + hex.EncodeToString(s2[:]) + `"`, `"app_proto":"msnftp"`, `"file_type":"executable"`} {
		if !strings.Contains(info, want) {
			t.Errorf("fileinfo record lacks %s: %s", want, info)
		}
	}
	if strings.Contains(string(lines), testCookie) {
		t.Error("the auth cookie is in the records")
	}
}
