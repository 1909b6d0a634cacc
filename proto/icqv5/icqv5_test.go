package icqv5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// scramble is the inverse of unscramble: the bit shuffle a client applies
// to the checkcode before storing it at 0x14 (each mask of §3.2 step 2,
// shifted back).
func scramble(check uint32) uint32 {
	return (check&0x0000001F)<<12 + (check&0x03E003E0)<<1 + (check&0xF8000400)>>10 +
		(check&0x0000F800)<<16 + (check&0x041F0000)>>15
}

// encrypt scrambles a plaintext client packet the way a real client does:
// checkcode from the content (r1: an offset >= 0x18, r2: a table index),
// key = len*0x68656C6C + checkcode, then every 4-byte little-endian word
// from 0x0A XORed with key+table[offset&0xFF], the checkcode word excepted,
// and the scrambled checkcode stored at 0x14. It is written word by word
// from the spec's description, independently of decrypt.
func encrypt(plain []byte, r1 int, r2 byte) []byte {
	n := len(plain)
	a := uint32(plain[8])<<24 | uint32(plain[4])<<16 | uint32(plain[2])<<8 | uint32(plain[6])
	b := (uint32(r1&0xFF)<<24 | uint32(plain[r1])<<16 | uint32(r2)<<8 | uint32(table[r2])) ^ 0x00FF00FF
	check := a ^ b
	key := uint32(n)*0x68656C6C + check
	buf := make([]byte, n+4) // slack for the last partial word
	copy(buf, plain)
	for i := 0x0A; i < n; i += 4 {
		w := binary.LittleEndian.Uint32(buf[i:]) ^ (key + uint32(table[i&0xFF]))
		var tmp [4]byte
		binary.LittleEndian.PutUint32(tmp[:], w)
		for j := 0; j < 4; j++ {
			if p := i + j; p < 0x14 || p > 0x17 {
				buf[p] = tmp[j]
			}
		}
	}
	binary.LittleEndian.PutUint32(buf[0x14:], scramble(check))
	return buf[:n]
}

// clientPlain builds a plaintext client packet.
func clientPlain(uin, session uint32, cmd, seq1, seq2 uint16, params []byte) []byte {
	p := make([]byte, clHeader, clHeader+len(params))
	binary.LittleEndian.PutUint16(p, 5)
	binary.LittleEndian.PutUint32(p[clUIN:], uin)
	binary.LittleEndian.PutUint32(p[clSession:], session)
	binary.LittleEndian.PutUint16(p[clCommand:], cmd)
	binary.LittleEndian.PutUint16(p[clSeq1:], seq1)
	binary.LittleEndian.PutUint16(p[clSeq2:], seq2)
	return append(p, params...)
}

func client(uin, session uint32, cmd, seq1, seq2 uint16, params []byte) []byte {
	p := clientPlain(uin, session, cmd, seq1, seq2, params)
	return encrypt(p, clHeader+len(params)/2, byte(seq1*7+3))
}

// server builds a (plain) server packet.
func server(session uint32, cmd, seq1, seq2 uint16, uin uint32, params []byte) []byte {
	p := make([]byte, srvHeader, srvHeader+len(params))
	binary.LittleEndian.PutUint16(p, 5)
	binary.LittleEndian.PutUint32(p[srvSession:], session)
	binary.LittleEndian.PutUint16(p[srvCommand:], cmd)
	binary.LittleEndian.PutUint16(p[srvSeq1:], seq1)
	binary.LittleEndian.PutUint16(p[srvSeq2:], seq2)
	binary.LittleEndian.PutUint32(p[srvUIN:], uin)
	binary.LittleEndian.PutUint32(p[0x11:], 0x8F12AB34) // server checkcode: not interpreted
	return append(p, params...)
}

type w struct{ b []byte }

func (x *w) u8(v byte) *w    { x.b = append(x.b, v); return x }
func (x *w) u16(v uint16) *w { x.b = binary.LittleEndian.AppendUint16(x.b, v); return x }
func (x *w) u32(v uint32) *w { x.b = binary.LittleEndian.AppendUint32(x.b, v); return x }
func (x *w) raw(v string) *w { x.b = append(x.b, v...); return x }
func (x *w) ip(s string) *w  { a := netip.MustParseAddr(s).As4(); x.b = append(x.b, a[:]...); return x }

// str is icqlib's icq_PacketAppendString: len(2 LE, NUL included), text, NUL.
func (x *w) str(s string) *w { return x.u16(uint16(len(s) + 1)).raw(s).u8(0) }

const (
	uinMe   = 123456
	uinPeer = 654321
	sess    = 0x1234ABCD
)

type dgram struct {
	dir  flow.Dir
	data []byte
}

// session is the synthetic v5 conversation: login, login reply, a contact
// coming online, one message sent and one received, with acks.
func session() []dgram {
	login := (&w{}).u32(1014940800).u32(5016).str("hunter2x").u32(0x00040072).ip("192.168.1.10").u8(0x04).
		u32(0).u32(3).u32(0).u32(0x00780000).b
	online := (&w{}).u32(uinPeer).ip("198.51.100.33").u32(5017).ip("10.0.0.33").raw("\x04\x00\x00").u16(0).u32(0).b
	msg := (&w{}).u32(uinPeer).u16(1).str("see you at 5, bring the files").b
	recv := (&w{}).u32(uinPeer).u16(1).str("ok \xe9t\xe9 report\xfeattached").b
	reply := (&w{}).u32(0x8C).u32(0).u32(0).ip("203.0.113.5").u32(0).b
	return []dgram{
		{flow.Orig, client(uinMe, sess, cmdLogin, 0x1A2B, 0, login)},
		{flow.Resp, server(sess, srvAck, 0x1A2B, 0, uinMe, (&w{}).u32(0).b)},
		{flow.Resp, server(sess, srvLoginReply, 1, 1, uinMe, reply)},
		{flow.Orig, client(uinMe, sess, cmdAck, 1, 1, (&w{}).u32(77).b)},
		{flow.Resp, server(sess, srvUserOnline, 2, 2, uinMe, online)},
		{flow.Orig, client(uinMe, sess, cmdSendMsg, 0x1A2C, 2, msg)},
		{flow.Resp, server(sess, srvSysDelivered, 3, 3, uinMe, recv)},
		{flow.Orig, client(uinMe, sess, cmdKeepAlive, 0x1A2D, 3, (&w{}).u32(99).b)},
	}
}

func TestScrambleInverse(t *testing.T) {
	for bit := 0; bit < 32; bit++ {
		x := uint32(1) << bit
		if unscramble(scramble(x)) != x || scramble(unscramble(x)) != x {
			t.Fatalf("bit %d: scramble is not the inverse of unscramble", bit)
		}
	}
}

// Property: every plaintext encrypted like a client decrypts back, and a
// packet with a known command parses with the right header.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		params := make([]byte, rng.Intn(600)+1)
		rng.Read(params)
		cmd := clientCommands[rng.Intn(len(clientCommands))].code
		uin := uint32(minUIN + rng.Intn(maxUIN-minUIN))
		plain := clientPlain(uin, rng.Uint32(), cmd, uint16(rng.Intn(65536)), uint16(rng.Intn(65536)), params)
		r1 := clHeader + rng.Intn(len(plain)-clHeader)
		pkt := encrypt(plain, r1, byte(rng.Intn(256)))
		got := make([]byte, len(pkt))
		decrypt(got, pkt)
		if !bytes.Equal(got[:0x14], plain[:0x14]) || !bytes.Equal(got[0x18:], plain[0x18:]) {
			t.Fatalf("case %d: decrypt(encrypt(p)) != p", i)
		}
		h, _, err := parseClient(pkt)
		if err != nil || h.cmd.code != cmd || h.uin != uin {
			t.Fatalf("case %d: parseClient = %+v, %v", i, h, err)
		}
	}
}

func TestParseClient(t *testing.T) {
	good := session()[0].data
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 0x40; return b }
	lowUIN := clientPlain(999, 1, cmdLogin, 1, 0, make([]byte, 12))
	unknown := clientPlain(uinMe, 1, 0x7777, 1, 0, make([]byte, 12))
	tests := []struct {
		name string
		in   []byte
		err  error
	}{
		{"login", good, nil},
		{"version", flip(0), ErrVersion},
		{"zero field", flip(3), ErrVersion},
		{"uin", encrypt(lowUIN, 0x18, 1), ErrUIN},
		{"unknown command", encrypt(unknown, 0x18, 1), ErrCommand},
		{"checkcode", flip(0x15), nil}, // checked below: either command or checkcode fails
		{"short", good[:clHeader-1], ErrShort},
		{"too long", append(bytes.Clone(good), make([]byte, maxPacket)...), ErrTooLong},
	}
	for _, tt := range tests {
		_, _, err := parseClient(tt.in)
		if tt.name == "checkcode" {
			if err == nil {
				t.Errorf("%s: damaged checkcode accepted", tt.name)
			}
			continue
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
	}
	// A packet cut at any byte changes the key, so it never parses.
	for n := 0; n < len(good); n++ {
		if _, _, err := parseClient(good[:n]); err == nil {
			t.Errorf("truncated to %d bytes: accepted", n)
		}
	}
}

func TestParseServer(t *testing.T) {
	online := session()[4].data
	// Server packets carry no length: a cut is caught only while the
	// command's fixed parameters (16 bytes for user_online) are incomplete.
	for n := 0; n < srvHeader+16; n++ {
		if _, err := parseServer(online[:n]); err == nil {
			t.Errorf("user_online truncated to %d bytes: accepted", n)
		}
	}
	h, err := parseServer(online)
	if err != nil || h.cmd.name != "user_online" || h.uin != uinMe || h.session != sess || h.seq1 != 2 {
		t.Errorf("parseServer = %+v, %v", h, err)
	}
	bad := server(sess, 0x7777, 1, 1, uinMe, nil)
	if _, err := parseServer(bad); !errors.Is(err, ErrCommand) {
		t.Errorf("unknown command: %v", err)
	}
	if _, err := parseServer(server(sess, srvAck, 1, 1, 5, nil)); !errors.Is(err, ErrUIN) {
		t.Errorf("bad uin: %v", err)
	}
}

func run(t *testing.T, dgs []dgram, opts func(*analyzer.Options)) *analyzer.Recorder {
	t.Helper()
	rec := analyzer.NewRecorder()
	if opts != nil {
		opts(&rec.Opts)
	}
	spec, _ := analyzer.Lookup("icqv5")
	c := spec.New(rec.Session(&spec))
	for i, d := range dgs {
		n, err := c.Feed(d.dir, d.data)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		if n != len(d.data) {
			t.Fatalf("datagram %d: consumed %d of %d", i, n, len(d.data))
		}
	}
	return rec
}

func TestConnEvents(t *testing.T) {
	rec := run(t, session(), nil)
	if !rec.Confirmed || len(rec.Anomalies) != 0 {
		t.Fatalf("confirmed %v anomalies %v", rec.Confirmed, rec.Anomalies)
	}
	var kinds []event.Kind
	for _, e := range rec.Events {
		kinds = append(kinds, e.Kind)
	}
	want := []event.Kind{event.Login, event.Credential, event.Direct, event.Login, event.Presence, event.Direct, event.Message, event.Message}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
	cr := rec.Events[1].Credential
	if cr.Class != event.Plaintext || cr.What != "password" || cr.LengthClass != "5-8" || cr.Masked != "********" || cr.Secret != "" || cr.Fingerprint == "" || cr.User != "123456" {
		t.Errorf("credential = %+v", cr)
	}
	if got := rec.Events[2].Direct.Addrs; len(got) != 1 || got[0].String() != "192.168.1.10:5016" {
		t.Errorf("login direct = %v", got)
	}
	if got := rec.Events[3].Login; got.Outcome != event.Success || rec.Events[3].Fields["your_ip"] != "203.0.113.5" {
		t.Errorf("login reply = %+v %v", got, rec.Events[3].Fields)
	}
	if got := rec.Events[5].Direct.Addrs; len(got) != 2 || got[0].String() != "198.51.100.33:5017" || got[1].String() != "10.0.0.33:5017" || rec.Events[5].Users.Peer != "654321" {
		t.Errorf("user online direct = %v %+v", got, rec.Events[5].Users)
	}
	if m := rec.Events[6].Message; m.From != "123456" || m.To[0] != "654321" || m.Length != 29 || m.Text != "" {
		t.Errorf("sent message = %+v", m)
	}
	if m := rec.Events[7].Message; m.From != "654321" || m.To[0] != "123456" || m.Text != "" {
		t.Errorf("received message = %+v", m)
	}
	if len(rec.Expects) != 2 || rec.Expects[0].Proto != "icqdc" {
		t.Errorf("expects = %+v", rec.Expects)
	}
	full := run(t, session(), func(o *analyzer.Options) { o.CaptureContent, o.RevealCredentials = true, true })
	if got := full.Events[1].Credential.Secret; got != "hunter2x" {
		t.Errorf("revealed secret = %q", got)
	}
	if got := full.Events[6].Message.Text; got != "see you at 5, bring the files" {
		t.Errorf("sent text = %q", got)
	}
	if got := full.Events[7].Message.Text; got != "ok été report\nattached" {
		t.Errorf("received text = %q", got)
	}
}

// Every datagram delivered twice (a retransmission) gives the same events.
func TestDuplicates(t *testing.T) {
	once := run(t, session(), nil).Events
	var twice []dgram
	for _, d := range session() {
		twice = append(twice, d, d)
	}
	if got := run(t, twice, nil).Events; !reflect.DeepEqual(got, once) {
		t.Fatalf("duplicated datagrams change the events:\n%+v\nwant\n%+v", got, once)
	}
	// A client retransmission is re-encrypted with a new checkcode.
	re := session()
	login := clientPlain(uinMe, sess, cmdLogin, 0x1A2B, 0, make([]byte, 12))
	re = append(re[:1], append([]dgram{{flow.Orig, encrypt(login, 0x19, 200)}}, re[1:]...)...)
	if got := run(t, re, nil).Events; !reflect.DeepEqual(got, once) {
		t.Fatalf("re-encrypted retransmission changes the events")
	}
}

// Every datagram cut at every byte (a truncated capture) must be handled:
// no panic, no error once the roles are known, never more events.
func TestTruncated(t *testing.T) {
	dgs := session()
	full := len(run(t, dgs, nil).Events)
	for i := range dgs {
		for n := 0; n < len(dgs[i].data); n++ {
			cut := append([]dgram(nil), dgs...)
			cut[i] = dgram{dgs[i].dir, dgs[i].data[:n]}
			rec := analyzer.NewRecorder()
			spec, _ := analyzer.Lookup("icqv5")
			c := spec.New(rec.Session(&spec))
			for _, d := range cut {
				if _, err := c.Feed(d.dir, d.data); err != nil && i != 0 {
					t.Fatalf("datagram %d cut to %d: %v", i, n, err)
				}
			}
			if len(rec.Events) > full {
				t.Fatalf("datagram %d cut to %d: %d events", i, n, len(rec.Events))
			}
		}
	}
}

func TestProbe(t *testing.T) {
	s := session()
	srv := netip.MustParseAddrPort("192.0.2.1:4000")
	cli := netip.MustParseAddrPort("192.168.1.10:1055")
	other := netip.MustParseAddrPort("192.0.2.1:4001")
	oicq := []byte("\x02\x08\x25\x00\x22\x00\x01\x02\x03\x04\x03\x00\x00\x00\x01\x01\x01\x00\x00\x66\x3d\x00\x00\x00\x00\x03")
	tests := []struct {
		name       string
		dir        flow.Dir
		orig, resp netip.AddrPort
		data       []byte
		want       classify.Result
	}{
		{"client login", flow.Orig, cli, srv, s[0].data, classify.Match},
		{"client message, any port", flow.Orig, cli, other, s[5].data, classify.Match},
		{"server first from 4000", flow.Orig, srv, cli, s[4].data, classify.Match},
		{"server reply direction", flow.Resp, cli, srv, s[2].data, classify.Match},
		{"server-like from another port", flow.Orig, other, cli, s[4].data, classify.NoMatch},
		{"zero-filled", flow.Orig, cli, srv, append([]byte{5, 0}, make([]byte, 60)...), classify.NoMatch},
		{"oicq", flow.Orig, cli, netip.MustParseAddrPort("192.0.2.9:8000"), oicq, classify.NoMatch},
		{"dns", flow.Orig, cli, netip.MustParseAddrPort("192.0.2.9:53"), []byte("\x05\x00\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01"), classify.NoMatch},
		{"short", flow.Orig, cli, srv, []byte{5, 0, 0}, classify.NoMatch},
	}
	for _, tt := range tests {
		in := classify.Input{Dir: tt.dir, Data: tt.data, UDP: true, Orig: tt.orig, Resp: tt.resp}
		if got := probe(&in); got != tt.want {
			t.Errorf("%s: probe = %v, want %v", tt.name, got, tt.want)
		}
	}
	// Random datagrams with the right prefix and UIN never pass.
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 20000; i++ {
		b := make([]byte, 24+rng.Intn(100))
		rng.Read(b)
		copy(b, "\x05\x00\x00\x00\x00\x00")
		binary.LittleEndian.PutUint32(b[6:], uinMe)
		in := classify.Input{Data: b, UDP: true, Orig: cli, Resp: srv}
		if probe(&in) == classify.Match {
			t.Fatalf("random datagram %x matched", b)
		}
	}
}

func TestProbeAllocs(t *testing.T) {
	in := classify.Input{Data: session()[0].data, UDP: true}
	if n := testing.AllocsPerRun(100, func() { probe(&in) }); n != 0 {
		t.Fatalf("probe allocates %v times", n)
	}
}

func BenchmarkProbe(b *testing.B) {
	in := classify.Input{Data: session()[0].data, UDP: true}
	b.ReportAllocs()
	for b.Loop() {
		probe(&in)
	}
}

func BenchmarkDecrypt(b *testing.B) {
	pkt := session()[5].data
	dst := make([]byte, len(pkt))
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		decrypt(dst, pkt)
	}
}

func BenchmarkConnFeed(b *testing.B) {
	dgs := session()
	spec, _ := analyzer.Lookup("icqv5")
	b.ReportAllocs()
	for b.Loop() {
		rec := analyzer.NewRecorder()
		c := spec.New(rec.Session(&spec))
		for _, d := range dgs {
			c.Feed(d.dir, d.data)
		}
	}
}

func FuzzDecrypt(f *testing.F) {
	for _, d := range session() {
		f.Add(d.data)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if len(pkt) < clHeader || len(pkt) > maxPacket {
			return
		}
		once := make([]byte, len(pkt))
		decrypt(once, pkt)
		twice := make([]byte, len(pkt))
		decrypt(twice, once)
		if !bytes.Equal(twice, pkt) {
			t.Fatal("decryption is not an involution")
		}
		parseClient(pkt)
	})
}

func FuzzProbe(f *testing.F) {
	for _, d := range session() {
		f.Add(d.data, d.dir == flow.Resp)
	}
	f.Fuzz(func(t *testing.T, data []byte, resp bool) {
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		in := classify.Input{Dir: dir, Data: data, UDP: true, Orig: netip.MustParseAddrPort("192.0.2.1:4000"), Resp: netip.MustParseAddrPort("192.0.2.2:4000")}
		probe(&in)
	})
}

func FuzzConnFeed(f *testing.F) {
	s := session()
	for _, d := range s {
		f.Add(s[0].data, d.data, d.dir == flow.Resp)
	}
	f.Fuzz(func(t *testing.T, first, data []byte, resp bool) {
		dir := flow.Orig
		if resp {
			dir = flow.Resp
		}
		rec := analyzer.NewRecorder()
		spec, _ := analyzer.Lookup("icqv5")
		c := spec.New(rec.Session(&spec))
		for _, d := range [][]byte{first, data} {
			n, _ := c.Feed(dir, d)
			if n < 0 || n > len(d) {
				t.Fatalf("Feed consumed %d of %d", n, len(d))
			}
		}
	})
}

// buildCapture writes the synthetic capture: the v5 session between
// 192.168.1.10:1055 and the server 192.0.2.40:4000, then one unrelated
// datagram pair on UDP 4000 that must stay unclaimed.
func buildCapture() []byte {
	wr := pcaptest.NewWriter()
	t0 := time.Date(2002, 3, 1, 10, 0, 0, 0, time.UTC)
	cli := netip.MustParseAddrPort("192.168.1.10:1055")
	srv := netip.MustParseAddrPort("192.0.2.40:4000")
	for i, d := range session() {
		src, dst := cli, srv
		if d.dir == flow.Resp {
			src, dst = srv, cli
		}
		wr.UDP(t0.Add(time.Duration(i)*150*time.Millisecond), src, dst, d.data)
	}
	x := netip.MustParseAddrPort("192.168.1.11:1056")
	wr.UDP(t0.Add(2*time.Second), x, srv, append([]byte{5, 0}, make([]byte, 40)...))
	wr.UDP(t0.Add(2100*time.Millisecond), srv, x, []byte("not icq at all"))
	return wr.Bytes()
}

func TestCapture(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "icqv5.pcap"), buildCapture())
}

func TestGolden(t *testing.T) {
	for _, reveal := range []bool{false, true} {
		suffix := ""
		if reveal {
			suffix = "-reveal"
		}
		pcaptest.GoldenWith(t, "icqv5.pcap", suffix, func(c *config.Config) { c.Privacy.RevealCredentials = reveal })
	}
}

// The Tencent QQ/OICQ capture (UDP 8000) must give no icqv5 flow.
func TestNegativeOICQ(t *testing.T) {
	path := filepath.Join(pcaptest.Shared(t, "pcaps", "negative"), "nDPI__oicq.pcap")
	recs, _, err := pcaptest.Analyze([]string{path}, pcaptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	flows := 0
	for _, r := range recs {
		if r.Type == event.TypeFlow {
			flows++
		}
		if r.AppProto == "icqv5" || r.Type == "icqv5" {
			t.Fatalf("OICQ claimed as icqv5: %+v", r)
		}
	}
	if flows == 0 {
		t.Fatal("no flows read: the test would prove nothing")
	}
}
