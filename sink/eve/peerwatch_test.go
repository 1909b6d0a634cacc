package eve

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/event"
)

// The generator below sets every field of event.Peerwatch and of the
// structs it points to, driven by a pwSource: random (the property test),
// fuzz bytes (FuzzPeerwatch) or "everything set" (the coverage test, which
// fails when event gains a field the generator does not set).

// pwSource makes the generator's choices.
type pwSource interface {
	flip() bool     // whether to set an optional part
	intn(n int) int // one of n choices, in [0, n)
	str() string    // a string's contents, once flip chose to set it
	i64() int64     // a non-zero-ish integer
	u64() uint64
}

// fullSource sets everything to a non-zero value: flip is always true and
// intn picks the last choice, which the generator makes the fullest one.
type fullSource struct{}

func (fullSource) flip() bool     { return true }
func (fullSource) intn(n int) int { return n - 1 }
func (fullSource) str() string    { return "full <&> \"q\" \u2028 \xff" }
func (fullSource) i64() int64     { return -1234567 }
func (fullSource) u64() uint64    { return math.MaxUint64 }

// strPieces are the fragments random strings are made of: plain text, every
// class of byte encoding/json escapes, invalid UTF-8 and the JavaScript line
// separators.
var strPieces = []string{
	"a", "Zz", "0", " ", "/", "\"", "\\", "<", ">", "&", "<script>",
	"\x00", "\x01", "\x1f", "\x7f", "\n", "\r", "\t", "\b", "\f",
	"\xff", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "é", "日本", "😀",
	"\u2028", "\u2029", "\ufffd", "\u00ad", "\u200b",
}

// randSource is a seeded pseudo-random source.
type randSource struct{ r *rand.Rand }

func (s randSource) flip() bool     { return s.r.IntN(2) == 0 }
func (s randSource) intn(n int) int { return s.r.IntN(n) }

func (s randSource) str() string {
	var b strings.Builder
	for n := s.r.IntN(8); n >= 0; n-- {
		b.WriteString(strPieces[s.r.IntN(len(strPieces))])
	}
	return b.String()
}

func (s randSource) i64() int64 {
	switch s.r.IntN(4) {
	case 0:
		return int64(s.r.IntN(100))
	case 1:
		return -int64(s.r.IntN(100))
	case 2:
		return []int64{math.MinInt64, math.MaxInt64, math.MinInt32, math.MaxUint32}[s.r.IntN(4)]
	}
	return int64(s.r.Uint64())
}

func (s randSource) u64() uint64 {
	if s.r.IntN(2) == 0 {
		return uint64(s.r.IntN(1000))
	}
	return s.r.Uint64()
}

// byteSource takes its choices from fuzz input; past the end it chooses
// zero values.
type byteSource struct{ b []byte }

func (s *byteSource) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *byteSource) flip() bool     { return s.byte()&1 == 1 }
func (s *byteSource) intn(n int) int { return int(s.byte()) % n }

func (s *byteSource) str() string {
	n := min(int(s.byte()%32), len(s.b))
	str := string(s.b[:n])
	s.b = s.b[n:]
	return str
}

func (s *byteSource) u64() uint64 {
	var b [8]byte
	n := copy(b[:], s.b[:min(int(s.byte()%9), len(s.b))])
	s.b = s.b[n:]
	return binary.LittleEndian.Uint64(b[:])
}

func (s *byteSource) i64() int64 { return int64(s.u64()) }

// genStr is an optional string.
func genStr(s pwSource) string {
	if !s.flip() {
		return ""
	}
	return s.str()
}

// genStrings is a nil, empty or filled string slice.
func genStrings(s pwSource) []string {
	switch s.intn(3) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	ss := make([]string, 1+s.intn(4))
	for i := range ss {
		ss[i] = genStr(s)
	}
	return ss
}

// genAddrPort is the zero AddrPort, IPv4, IPv6, IPv4-mapped IPv6 or a
// zoned IPv6 address, with any port.
func genAddrPort(s pwSource) netip.AddrPort {
	port := uint16(s.u64())
	u := s.u64()
	var a16 [16]byte
	binary.BigEndian.PutUint64(a16[:8], u)
	binary.BigEndian.PutUint64(a16[8:], ^u)
	switch s.intn(5) {
	case 0:
		return netip.AddrPort{}
	case 1:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(a16[:4])), port)
	case 2:
		return netip.AddrPortFrom(netip.AddrFrom16(a16), port)
	case 3:
		return netip.AddrPortFrom(netip.AddrFrom16(netip.AddrFrom4([4]byte(a16[:4])).As16()), port)
	}
	zone := s.str()
	if zone == "" {
		zone = "eth0"
	}
	return netip.AddrPortFrom(netip.AddrFrom16(a16).WithZone(zone), port)
}

// genPeerwatch builds a Peerwatch, choosing every field with s. A field
// added to event.Peerwatch or to a struct it points to must be added here:
// TestPeerwatchGeneratorCoversFields fails until it is.
func genPeerwatch(s pwSource) *event.Peerwatch {
	p := &event.Peerwatch{
		Kind:     event.Kind(genStr(s)),
		Service:  genStr(s),
		Product:  genStr(s),
		Category: event.Category(genStr(s)),
		Feature:  event.Feature(genStr(s)),
	}
	if s.flip() {
		p.Users = &event.Users{Local: genStr(s), Peer: genStr(s)}
	}
	p.Confidence = genStr(s)
	p.Evidence = genStrings(s)
	if s.flip() {
		p.Proxy = &event.Proxy{Kind: genStr(s), Addr: genStr(s), Target: genStr(s)}
	}
	p.FileType = genStr(s)
	p.WouldBlock = s.flip()
	p.Detail = genStr(s)
	p.Interim = s.flip()
	if s.flip() {
		p.Login = &event.LoginInfo{User: genStr(s), Client: genStr(s), Outcome: event.Outcome(genStr(s)), Reason: genStr(s)}
	}
	if s.flip() {
		p.Message = &event.MessageInfo{From: genStr(s), To: genStrings(s), Charset: genStr(s), Text: genStr(s)}
		if s.flip() {
			p.Message.Length = int(s.i64())
		}
	}
	if s.flip() {
		p.File = &event.FileInfo{Name: genStr(s), Hash: genStr(s), Outcome: event.Outcome(genStr(s))}
		if s.flip() {
			p.File.Size = s.i64()
		}
	}
	if s.flip() {
		p.Credential = &event.CredentialInfo{Class: event.CredClass(genStr(s)), User: genStr(s), What: genStr(s),
			LengthClass: genStr(s), Masked: genStr(s), Fingerprint: genStr(s), Secret: genStr(s)}
		if s.flip() {
			p.Credential.Length = int(s.i64())
		}
	}
	if s.flip() {
		p.Direct = &event.DirectInfo{Outcome: event.Outcome(genStr(s))}
		switch s.intn(3) {
		case 1:
			p.Direct.Addrs = []netip.AddrPort{}
		case 2:
			p.Direct.Addrs = make([]netip.AddrPort, 1+s.intn(4))
			for i := range p.Direct.Addrs {
				p.Direct.Addrs[i] = genAddrPort(s)
			}
		}
	}
	if s.flip() {
		p.Tunnel = &event.TunnelInfo{Kind: genStr(s), Target: genStr(s), Outcome: event.Outcome(genStr(s))}
	}
	if s.flip() {
		p.Search = &event.SearchInfo{Query: genStr(s)}
	}
	p.Expectation = genStr(s)
	p.Local = genStr(s)
	p.Evasion = genStr(s)
	switch s.intn(3) {
	case 1:
		p.CorroboratedBy = []uint64{}
	case 2:
		p.CorroboratedBy = make([]uint64, 1+s.intn(4))
		for i := range p.CorroboratedBy {
			p.CorroboratedBy[i] = s.u64()
		}
	}
	p.Tentative = s.flip()
	return p
}

// checkPeerwatch fails t unless appendPeerwatch writes p as json.Marshal.
func checkPeerwatch(t *testing.T, name string, p *event.Peerwatch) {
	t.Helper()
	want, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("%s: json.Marshal: %v", name, err)
	}
	got := appendPeerwatch([]byte("x"), p)
	if !bytes.Equal(got[1:], want) || got[0] != 'x' {
		t.Fatalf("%s: %#v\ngot  %s\nwant x%s", name, p, got, want)
	}
}

// eventPkg is the import path of package event: the walk below descends
// into its structs only.
var eventPkg = reflect.TypeFor[event.Peerwatch]().PkgPath()

// leafPaths lists the field index paths of t's fields, descending through
// pointers to structs of package event.
func leafPaths(t reflect.Type, prefix []int) [][]int {
	var paths [][]int
	for i := range t.NumField() {
		path := append(append([]int(nil), prefix...), i)
		paths = append(paths, path)
		ft := t.Field(i).Type
		if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct && ft.Elem().PkgPath() == eventPkg {
			paths = append(paths, leafPaths(ft.Elem(), path)...)
		}
	}
	return paths
}

// fieldAt follows path from v (a struct), through pointers; ok is false if
// a pointer on the way is nil.
func fieldAt(v reflect.Value, path []int) (reflect.Value, bool) {
	for i, idx := range path {
		v = v.Field(idx)
		if i < len(path)-1 {
			if v.IsNil() {
				return v, false
			}
			v = v.Elem()
		}
	}
	return v, true
}

func pathName(t reflect.Type, path []int) string {
	var b strings.Builder
	for i, idx := range path {
		f := t.Field(idx)
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(f.Name)
		t = f.Type
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	return b.String()
}

// TestPeerwatchGeneratorCoversFields walks event.Peerwatch and the structs
// of package event it points to and fails if the generator, asked to set
// everything, leaves a field zero: a new field must be added to the
// generator, and so is checked against encoding/json by the tests below.
func TestPeerwatchGeneratorCoversFields(t *testing.T) {
	typ := reflect.TypeFor[event.Peerwatch]()
	full := reflect.ValueOf(genPeerwatch(fullSource{})).Elem()
	paths := leafPaths(typ, nil)
	if len(paths) < 40 {
		t.Fatalf("only %d fields found: the walk is broken", len(paths))
	}
	for _, path := range paths {
		v, ok := fieldAt(full, path)
		if !ok {
			t.Errorf("%s: a pointer on the way is nil", pathName(typ, path))
			continue
		}
		if v.IsZero() || (v.Kind() == reflect.Slice && v.Len() == 0) {
			t.Errorf("%s is not set by genPeerwatch: add it there (and to appendPeerwatch)", pathName(typ, path))
		}
		if k := v.Kind(); k == reflect.Interface || k == reflect.Map || k == reflect.Func || k == reflect.Chan {
			t.Errorf("%s has kind %v, which appendPeerwatch cannot write by hand", pathName(typ, path), k)
		}
	}
}

// TestPeerwatchMatchesJSON compares appendPeerwatch with json.Marshal:
// hand-picked cases, every field cleared in turn from a full value, every
// top-level field alone, then random values.
func TestPeerwatchMatchesJSON(t *testing.T) {
	zone := netip.AddrPortFrom(netip.MustParseAddr("fe80::1").WithZone("e\"th<0>\xff\u2028"), 80)
	tests := []struct {
		name string
		p    *event.Peerwatch
	}{
		{"zero", &event.Peerwatch{}},
		{"tentative only", &event.Peerwatch{Tentative: true}},
		{"fixture", fullPeerwatch()},
		{"empty nested", &event.Peerwatch{Users: &event.Users{}, Proxy: &event.Proxy{}, Login: &event.LoginInfo{},
			Message: &event.MessageInfo{}, File: &event.FileInfo{}, Credential: &event.CredentialInfo{},
			Direct: &event.DirectInfo{}, Tunnel: &event.TunnelInfo{}, Search: &event.SearchInfo{}}},
		{"empty slices", &event.Peerwatch{Evidence: []string{}, CorroboratedBy: []uint64{},
			Message: &event.MessageInfo{To: []string{}}, Direct: &event.DirectInfo{Addrs: []netip.AddrPort{}}}},
		{"slices of empty", &event.Peerwatch{Evidence: []string{""}, CorroboratedBy: []uint64{0, math.MaxUint64},
			Message: &event.MessageInfo{To: []string{"", ""}, Length: -1}}},
		{"addresses", &event.Peerwatch{Direct: &event.DirectInfo{Addrs: []netip.AddrPort{{}, zone,
			netip.MustParseAddrPort("[::ffff:1.2.3.4]:0"), netip.MustParseAddrPort("[2001:db8::1]:65535"),
			netip.MustParseAddrPort("0.0.0.0:1")}}}},
		{"extreme numbers", &event.Peerwatch{File: &event.FileInfo{Size: math.MinInt64},
			Credential: &event.CredentialInfo{Length: math.MaxInt}, Message: &event.MessageInfo{Length: math.MinInt}}},
	}
	for _, tc := range tests {
		checkPeerwatch(t, tc.name, tc.p)
	}

	typ := reflect.TypeFor[event.Peerwatch]()
	for _, path := range leafPaths(typ, nil) {
		p := genPeerwatch(fullSource{})
		v, _ := fieldAt(reflect.ValueOf(p).Elem(), path)
		v.SetZero()
		checkPeerwatch(t, "without "+pathName(typ, path), p)
	}
	full := reflect.ValueOf(genPeerwatch(fullSource{})).Elem()
	for i := range typ.NumField() {
		var p event.Peerwatch
		reflect.ValueOf(&p).Elem().Field(i).Set(full.Field(i))
		checkPeerwatch(t, "only "+typ.Field(i).Name, &p)
	}

	n := 20000
	if testing.Short() {
		n = 2000
	}
	src := randSource{rand.New(rand.NewPCG(1, 2))}
	for i := range n {
		p := genPeerwatch(src)
		checkPeerwatch(t, fmt.Sprintf("random %d", i), p)
	}
}

// FuzzPeerwatch builds a Peerwatch from the fuzz input and compares
// appendPeerwatch with json.Marshal.
func FuzzPeerwatch(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 256))
	f.Add([]byte("\x01\x05aim<>\x01\x03\xff\xe2\x80\xa8\x01\x02\x01\x01"))
	for i := range 8 {
		src := randSource{rand.New(rand.NewPCG(uint64(i), 7))}
		seed := make([]byte, 64+i*32)
		for j := range seed {
			seed[j] = byte(src.r.Uint32())
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkPeerwatch(t, "fuzz", genPeerwatch(&byteSource{b: data}))
	})
}

// TestEncodeWritesPeerwatch checks that a record's peerwatch object is the
// one appendPeerwatch writes, in its place after the type's object.
func TestEncodeWritesPeerwatch(t *testing.T) {
	for _, f := range fixtures() {
		if f.rec.PW == nil {
			continue
		}
		line := Append(nil, &f.rec)
		want, err := json.Marshal(f.rec.PW)
		if err != nil {
			t.Fatal(err)
		}
		suffix := `,"peerwatch":` + string(want) + "}"
		if !strings.HasSuffix(string(line), suffix) {
			t.Errorf("%s: line does not end with %s:\n%s", f.name, suffix, line)
		}
	}
}

func BenchmarkPeerwatch(b *testing.B) {
	small := fixtures()[0].rec.PW
	for _, bc := range []struct {
		name string
		p    *event.Peerwatch
	}{{"small", small}, {"full", fullPeerwatch()}} {
		b.Run(bc.name+"/append", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				buf = appendPeerwatch(buf[:0], bc.p)
			}
		})
		b.Run(bc.name+"/encoding_json", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				buf, _ = appendJSON(buf[:0], bc.p)
			}
		})
	}
}
