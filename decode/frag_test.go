package decode_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/decode"
)

// bigUDP is a UDP datagram of 8+100 bytes split into fragments below.
var bigUDP = udp(5353, 53, bytes.Repeat([]byte("0123456789"), 10))

// frag4 returns an Ethernet frame holding IPv4 fragment [off, end) of
// datagram seg with the given id.
func frag4(seg []byte, id uint16, off, end int, more bool) []byte {
	ff := uint16(off / 8)
	if more {
		ff |= 0x2000
	}
	return eth(0x0800, ip4opts(17, src4, dst4, id, ff, nil, seg[off:end]))
}

// frag6frame returns an Ethernet frame holding IPv6 fragment [off, end)
// of the fragmentable part seg.
func frag6frame(seg []byte, id uint32, off, end int, more bool) []byte {
	return eth(0x86dd, ip6(44, cat(frag6(17, off, more, id), seg[off:end])))
}

type fragStep struct {
	frame []byte
	dt    time.Duration // capture time since the first step
	want  decode.Reason
}

func TestFragments(t *testing.T) {
	n := len(bigUDP) // 108
	f4 := func(off, end int, more bool) []byte { return frag4(bigUDP, 7, off, end, more) }
	f6 := func(off, end int, more bool) []byte { return frag6frame(bigUDP, 7, off, end, more) }
	held, ok, dropped := decode.FragmentHeld, decode.OK, decode.FragmentDropped
	cases := []struct {
		name  string
		cfg   decode.Config
		steps []fragStep
		stats decode.FragStats
	}{
		{"ipv4 in order", decode.Config{}, []fragStep{{f4(0, 40, true), 0, held}, {f4(40, 80, true), 0, held}, {f4(80, n, false), 0, ok}},
			decode.FragStats{Received: 3, Reassembled: 1}},
		{"ipv4 out of order", decode.Config{}, []fragStep{{f4(80, n, false), 0, held}, {f4(0, 40, true), 0, held}, {f4(40, 80, true), 0, ok}},
			decode.FragStats{Received: 3, Reassembled: 1}},
		{"ipv6 in order", decode.Config{}, []fragStep{{f6(0, 40, true), 0, held}, {f6(40, 80, true), 0, held}, {f6(80, n, false), 0, ok}},
			decode.FragStats{Received: 3, Reassembled: 1}},
		{"ipv6 reversed", decode.Config{}, []fragStep{{f6(80, n, false), 0, held}, {f6(40, 80, true), 0, held}, {f6(0, 40, true), 0, ok}},
			decode.FragStats{Received: 3, Reassembled: 1}},
		{"ipv6 overlap drops datagram", decode.Config{}, []fragStep{{f6(0, 48, true), 0, held}, {f6(40, 80, true), 0, dropped}, {f6(80, n, false), 0, held}},
			decode.FragStats{Received: 3, Overlap: 2}},
		{"ipv4 overlap drops datagram", decode.Config{}, []fragStep{{f4(0, 40, true), 0, held}, {f4(80, n, false), 0, held}, {f4(32, 88, true), 0, dropped}, {f4(40, 80, true), 0, held}},
			decode.FragStats{Received: 4, Overlap: 3}},
		{"duplicate ignored", decode.Config{}, []fragStep{{f4(0, 40, true), 0, held}, {f4(0, 40, true), 0, dropped}, {f4(40, n, false), 0, ok}},
			decode.FragStats{Received: 3, Reassembled: 1, Duplicate: 1}},
		{"conflicting ends", decode.Config{}, []fragStep{{f4(40, n, false), 0, held}, {f4(40, 80, false), 0, dropped}},
			decode.FragStats{Received: 2, Bogus: 2}},
		{"data past the end", decode.Config{}, []fragStep{{f6(40, 80, false), 0, held}, {f6(80, 88, true), 0, dropped}},
			decode.FragStats{Received: 2, Bogus: 2}},
		{"timeout", decode.Config{FragTimeout: 30 * time.Second}, []fragStep{{f4(0, 40, true), 0, held}, {f4(40, 80, true), 31 * time.Second, held}, {f4(80, n, false), 31 * time.Second, held}},
			decode.FragStats{Received: 3, Timeout: 1}},
		{"within timeout", decode.Config{FragTimeout: 30 * time.Second}, []fragStep{{f4(0, 40, true), 0, held}, {f4(40, n, false), 29 * time.Second, ok}},
			decode.FragStats{Received: 2, Reassembled: 1}},
		{"memory cap evicts oldest", decode.Config{FragMemory: 130}, []fragStep{
			{frag4(bigUDP, 1, 0, 64, true), 0, held}, {frag4(bigUDP, 2, 0, 64, true), 0, held}, {frag4(bigUDP, 2, 64, n, false), 0, ok}, {frag4(bigUDP, 1, 64, n, false), 0, held}},
			decode.FragStats{Received: 4, Reassembled: 1, Memory: 1}},
		{"memory cap drops a datagram too big alone", decode.Config{FragMemory: 100}, []fragStep{{f4(0, 64, true), 0, held}, {f4(64, 104, true), 0, dropped}},
			decode.FragStats{Received: 2, Memory: 2}},
		{"datagram cap evicts oldest", decode.Config{FragMaxDatagrams: 2}, []fragStep{
			{frag4(bigUDP, 1, 0, 40, true), 0, held}, {frag4(bigUDP, 2, 0, 40, true), 0, held}, {frag4(bigUDP, 3, 0, 40, true), 0, held},
			{frag4(bigUDP, 1, 40, n, false), 0, held}, {frag4(bigUDP, 3, 40, n, false), 0, ok}},
			decode.FragStats{Received: 5, Reassembled: 1, Datagrams: 2}},
		{"offset past 65535", decode.Config{}, []fragStep{{eth(0x0800, ip4opts(17, src4, dst4, 1, 0x1fff, nil, make([]byte, 16))), 0, dropped}},
			decode.FragStats{Received: 1, Bogus: 1}},
		{"ipv6 offset past 65535", decode.Config{}, []fragStep{{eth(0x86dd, ip6(44, cat(frag6(17, 0xfff8, false, 1), make([]byte, 16)))), 0, dropped}},
			decode.FragStats{Received: 1, Bogus: 1}},
		{"non-final not a multiple of 8", decode.Config{}, []fragStep{{f4(0, 41, true), 0, dropped}},
			decode.FragStats{Received: 1, Bogus: 1}},
		{"snaplen cut fragment", decode.Config{}, []fragStep{{f4(0, 40, true)[:50], 0, dropped}},
			decode.FragStats{Received: 1, Truncated: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := decode.NewDecoder(tc.cfg)
			var p decode.Packet
			t0 := time.Unix(5000, 0)
			for i, s := range tc.steps {
				r := d.Decode(decode.LinkEthernet, s.frame, 60+len(s.frame), t0.Add(s.dt), &p)
				if r != s.want {
					t.Fatalf("step %d: %v, want %v", i, r, s.want)
				}
				if r != decode.OK {
					continue
				}
				if !p.Reassembled || p.Proto != decode.UDP || p.SrcPort != 5353 || p.DstPort != 53 || !bytes.Equal(p.Payload, bigUDP[8:]) {
					t.Errorf("step %d: reassembled %v proto %v ports %d>%d payload %q", i, p.Reassembled, p.Proto, p.SrcPort, p.DstPort, p.Payload)
				}
			}
			if got := d.Stats().Frags; got != tc.stats {
				t.Errorf("stats %+v, want %+v", got, tc.stats)
			}
		})
	}
}

// TestFragmentTCPv6ExtAfterFragment reassembles a TCP segment whose
// fragmentable part starts with a destination options header.
func TestFragmentTCPv6ExtAfterFragment(t *testing.T) {
	seg := cat(ext6(6, 0), tcp(1234, 80, 0x18, nil, bytes.Repeat([]byte("x"), 50)))
	d := decode.NewDecoder(decode.Config{})
	var p decode.Packet
	ts := time.Unix(1, 0)
	a := eth(0x86dd, ip6(0, cat(ext6(44, 0), frag6(60, 0, true, 9), seg[:32])))
	b := eth(0x86dd, ip6(44, cat(frag6(60, 32, false, 9), seg[32:])))
	if r := d.Decode(decode.LinkEthernet, b, len(b), ts, &p); r != decode.FragmentHeld {
		t.Fatalf("second fragment: %v", r)
	}
	if r := d.Decode(decode.LinkEthernet, a, len(a), ts, &p); r != decode.OK {
		t.Fatalf("first fragment: %v", r)
	}
	if p.Proto != decode.TCP || p.DstPort != 80 || p.TCP.Flags != decode.PSH|decode.ACK || len(p.Payload) != 50 || !p.Reassembled || p.Src != src6 {
		t.Errorf("got %+v", p)
	}
}

// TestExpire checks that Expire drops old datagrams without a Decode call.
func TestExpire(t *testing.T) {
	d := decode.NewDecoder(decode.Config{FragTimeout: time.Second})
	var p decode.Packet
	fr := frag4(bigUDP, 3, 0, 40, true)
	d.Decode(decode.LinkEthernet, fr, len(fr), time.Unix(10, 0), &p)
	d.Expire(time.Unix(10, 5e8))
	if got := d.Stats().Frags.Timeout; got != 0 {
		t.Fatalf("expired too early: %d", got)
	}
	d.Expire(time.Unix(12, 0))
	if got := d.Stats().Frags.Timeout; got != 1 {
		t.Fatalf("timeout count %d, want 1", got)
	}
}

// TestFragmentMemoryBounded floods the table with distinct datagrams and
// checks that every bound holds.
func TestFragmentMemoryBounded(t *testing.T) {
	d := decode.NewDecoder(decode.Config{FragMemory: 10000, FragMaxDatagrams: 50})
	var p decode.Packet
	for i := range 5000 {
		fr := frag4(bigUDP, uint16(i), 0, 96, true)
		if r := d.Decode(decode.LinkEthernet, fr, len(fr), time.Unix(int64(i), 0), &p); r != decode.FragmentHeld {
			t.Fatalf("fragment %d: %v", i, r)
		}
	}
	s := d.Stats().Frags
	if s.Received != 5000 || s.Memory+s.Datagrams+s.Timeout < 5000-50 {
		t.Errorf("stats %+v", s)
	}
}
