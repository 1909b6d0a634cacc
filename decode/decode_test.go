package decode_test

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/decode"
)

// want is what a table test expects of a frame.
type want struct {
	r                decode.Reason
	src, dst         netip.Addr
	sport, dport     uint16
	proto            decode.IPProto
	flags            decode.TCPFlags
	vlan             [2]uint16
	tunnels          uint8
	payload          []byte
	missing          int
	bad              bool
	padded           bool // cutting the frame may leave it complete (padding)
	maxTunnelDepth   int
	skipTruncSweep   bool
	unsupportedCount bool
}

var (
	wTCP4 = want{r: decode.OK, src: src4, dst: dst4, sport: 1234, dport: 80, proto: decode.TCP, flags: decode.PSH | decode.ACK, payload: hello}
	wTCP6 = want{r: decode.OK, src: src6, dst: dst6, sport: 1234, dport: 80, proto: decode.TCP, flags: decode.PSH | decode.ACK, payload: hello}
	wUDP4 = want{r: decode.OK, src: src4, dst: dst4, sport: 5353, dport: 53, proto: decode.UDP, payload: hello}
	wUDP6 = want{r: decode.OK, src: src6, dst: dst6, sport: 5353, dport: 53, proto: decode.UDP, payload: hello}
)

func with(w want, f func(*want)) want { f(&w); return w }

func tun(w want, n uint8) want { return with(w, func(w *want) { w.tunnels = n }) }

var (
	tcp4seg = tcp(1234, 80, 0x18, nil, hello)
	udpdg   = udp(5353, 53, hello)
)

type frameCase struct {
	name  string
	link  decode.LinkType
	frame []byte
	want  want
}

func frameCases() []frameCase {
	sllHdr := cat(u16(0), u16(1), u16(6), []byte{2, 0, 0, 0, 0, 1, 0, 0})
	sll2Hdr := func(proto uint16) []byte {
		return cat(u16(proto), u16(0), u32(2), u16(1), []byte{0, 6}, []byte{2, 0, 0, 0, 0, 1, 0, 0})
	}
	// MSS(4), SACK permitted(2), timestamps(10), NOP, window scale(3).
	tcpOpts := []byte{2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}
	// Record route option: type 7, length 7, pointer 4, one empty slot, then EOL.
	ipOpts := []byte{7, 7, 4, 0, 0, 0, 0, 0}
	badsum := ip4(6, tcp4seg)
	badsum[10] ^= 0xff
	vxlan := func(flags byte, inner []byte) []byte {
		return cat(u16(40000), u16(4789), u16(uint16(16+len(inner))), u16(0), []byte{flags, 0, 0, 0, 0, 0, 42, 0}, inner)
	}
	mplsLabel := func(label uint32, bottom bool) []byte {
		v := label<<12 | 64
		if bottom {
			v |= 1 << 8
		}
		return u32(v)
	}
	pppoe := func(proto uint16, payload []byte) []byte {
		return cat([]byte{0x11, 0}, u16(7), u16(uint16(2+len(payload))), u16(proto), payload)
	}
	greHdr := func(flags, proto uint16, extra int) []byte {
		return cat(u16(flags), u16(proto), make([]byte, extra))
	}
	outer4 := func(proto byte, payload []byte) []byte { return ip4opts(proto, osrc4, odst4, 9, 0, nil, payload) }
	outer6 := func(nh byte, payload []byte) []byte { return ip6ext(nh, osrc6, odst6, payload) }
	padded := eth(0x0800, cat(ip4(17, udpdg), make([]byte, 20)))

	return []frameCase{
		// Link types.
		{"ethernet tcp4", decode.LinkEthernet, tcp4(), wTCP4},
		{"ethernet udp6", decode.LinkEthernet, udp6(), wUDP6},
		{"802.1Q", decode.LinkEthernet, eth(0x0800, ip4(6, tcp4seg), 0x8100, 100), with(wTCP4, func(w *want) { w.vlan = [2]uint16{100, 0} })},
		{"802.1ad QinQ", decode.LinkEthernet, eth(0x0800, ip4(6, tcp4seg), 0x88a8, 200, 0x8100, 100), with(wTCP4, func(w *want) { w.vlan = [2]uint16{200, 100} })},
		{"0x9100 QinQ", decode.LinkEthernet, eth(0x86dd, ip6(17, udpdg), 0x9100, 300, 0x8100, 0x2005), with(wUDP6, func(w *want) { w.vlan = [2]uint16{300, 5} })},
		{"priority tag", decode.LinkEthernet, eth(0x0800, ip4(6, tcp4seg), 0x8100, 0x6000), wTCP4},
		{"ethernet padding trimmed", decode.LinkEthernet, padded, with(wUDP4, func(w *want) { w.padded = true })},
		{"linux sll", decode.LinkLinuxSLL, cat(sllHdr, u16(0x0800), ip4(6, tcp4seg)), wTCP4},
		{"linux sll2", decode.LinkLinuxSLL2, cat(sll2Hdr(0x86dd), ip6(17, udpdg)), wUDP6},
		{"raw 101 v4", decode.LinkRaw, ip4(6, tcp4seg), wTCP4},
		{"raw 101 v6", decode.LinkRaw, ip6(17, udpdg), wUDP6},
		{"raw 12", 12, ip4(6, tcp4seg), wTCP4},
		{"raw 14", 14, ip6(17, udpdg), wUDP6},
		{"ipv4 228", decode.LinkIPv4, ip4(6, tcp4seg), wTCP4},
		{"ipv6 229", decode.LinkIPv6, ip6(6, tcp4seg), wTCP6},
		{"null little-endian v4", decode.LinkNull, cat([]byte{2, 0, 0, 0}, ip4(6, tcp4seg)), wTCP4},
		{"null big-endian v6 24", decode.LinkNull, cat([]byte{0, 0, 0, 24}, ip6(17, udpdg)), wUDP6},
		{"null v6 30", decode.LinkNull, cat([]byte{30, 0, 0, 0}, ip6(17, udpdg)), wUDP6},
		{"null v6 28", decode.LinkNull, cat([]byte{28, 0, 0, 0}, ip6(17, udpdg)), wUDP6},
		{"loop", decode.LinkLoop, cat([]byte{0, 0, 0, 2}, ip4(6, tcp4seg)), wTCP4},
		{"null other family", decode.LinkNull, cat([]byte{7, 0, 0, 0}, ip4(6, tcp4seg)), want{r: decode.NotIP}},
		{"ppp with ff03", decode.LinkPPP, cat([]byte{0xff, 0x03, 0, 0x21}, ip4(6, tcp4seg)), wTCP4},
		{"ppp without ff03", decode.LinkPPP, cat([]byte{0, 0x57}, ip6(17, udpdg)), wUDP6},
		{"ppp compressed protocol", decode.LinkPPP, cat([]byte{0x21}, ip4(6, tcp4seg)), wTCP4},
		{"ppp lcp", decode.LinkPPP, cat([]byte{0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4}), want{r: decode.NotIP}},
		{"ppp carrying cisco hdlc", decode.LinkPPP, cat([]byte{0x0f, 0, 8, 0}, ip4(6, tcp4seg)), wTCP4},
		{"cisco hdlc", decode.LinkCHDLC, cat([]byte{0x0f, 0, 0x86, 0xdd}, ip6(6, tcp4seg)), wTCP6},
		{"ppi ethernet", decode.LinkPPI, cat([]byte{0, 0, 12, 0, 1, 0, 0, 0, 9, 9, 9, 9}, tcp4()), wTCP4},
		{"ppi 802.11", decode.LinkPPI, cat([]byte{0, 0, 8, 0, 105, 0, 0, 0}, tcp4()), want{r: decode.UnsupportedLink, skipTruncSweep: true}},
		{"unsupported link", 105, tcp4(), want{r: decode.UnsupportedLink, skipTruncSweep: true}},
		{"arp", decode.LinkEthernet, eth(0x0806, make([]byte, 28)), want{r: decode.NotIP}},
		{"pppoe discovery", decode.LinkEthernet, eth(0x8863, []byte{0x11, 9, 0, 0, 0, 0}), want{r: decode.NotIP}},
		{"802.3 length", decode.LinkEthernet, eth(46, make([]byte, 46)), want{r: decode.NotIP}},

		// IP and transport headers.
		{"ipv4 options", decode.LinkEthernet, eth(0x0800, ip4opts(6, src4, dst4, 1, 0, ipOpts, tcp4seg)), wTCP4},
		{"ipv4 bad checksum", decode.LinkEthernet, eth(0x0800, badsum), with(wTCP4, func(w *want) { w.bad = true })},
		{"tcp options", decode.LinkEthernet, eth(0x0800, ip4(6, tcp(1234, 80, 0x02, tcpOpts, hello))), with(wTCP4, func(w *want) { w.flags = decode.SYN })},
		{"tcp data offset < 5", decode.LinkRaw, ip4(6, cat(tcp4seg[:12], []byte{0x40}, tcp4seg[13:])), want{r: decode.Malformed}},
		{"icmp", decode.LinkEthernet, eth(0x0800, ip4(1, []byte{8, 0, 0, 0, 0, 1, 0, 1})), want{r: decode.OtherTransport}},
		{"ipv4 version 5", decode.LinkEthernet, eth(0x0800, cat([]byte{0x55}, ip4(6, tcp4seg)[1:])), want{r: decode.Malformed}},
		{"ipv4 ihl < 5", decode.LinkEthernet, eth(0x0800, cat([]byte{0x44}, ip4(6, tcp4seg)[1:])), want{r: decode.Malformed}},
		{"ipv6 hop-by-hop routing dstopts", decode.LinkRaw, ip6(0, cat(ext6(43, 0), ext6(60, 1), ext6(6, 0), tcp4seg)), wTCP6},
		{"ipv6 ah", decode.LinkRaw, ip6(51, cat([]byte{17, 4}, make([]byte, 22), udpdg)), wUDP6},
		{"ipv6 atomic fragment", decode.LinkRaw, ip6(44, cat(frag6(17, 0, false, 77), udpdg)), wUDP6},
		{"ipv6 esp", decode.LinkRaw, ip6(0, cat(ext6(50, 0), make([]byte, 16))), want{r: decode.OtherTransport}},
		{"ipv6 no next header", decode.LinkRaw, ip6(59, nil), want{r: decode.OtherTransport}},
		{"udp length trims", decode.LinkRaw, ip4(17, cat(udp(5353, 53, hello), []byte{9, 9})), with(wUDP4, func(w *want) { w.padded = true })},
		{"udp length < 8", decode.LinkRaw, ip4(17, cat(u16(1), u16(2), u16(4), u16(0))), want{r: decode.Malformed}},
		{"snaplen cut payload", decode.LinkEthernet, tcp4()[:len(tcp4())-3], with(wTCP4, func(w *want) { w.payload = []byte("he"); w.missing = 3 })},

		// Tunnels.
		{"4in4", decode.LinkEthernet, eth(0x0800, outer4(4, ip4(6, tcp4seg))), tun(wTCP4, 1)},
		{"6in4", decode.LinkEthernet, eth(0x0800, outer4(41, ip6(17, udpdg))), tun(wUDP6, 1)},
		{"4in6", decode.LinkEthernet, eth(0x86dd, outer6(4, ip4(6, tcp4seg))), tun(wTCP4, 1)},
		{"6in6", decode.LinkEthernet, eth(0x86dd, outer6(41, ip6(17, udpdg))), tun(wUDP6, 1)},
		{"gre ipv4", decode.LinkEthernet, eth(0x0800, outer4(47, cat(greHdr(0, 0x0800, 0), ip4(6, tcp4seg)))), tun(wTCP4, 1)},
		{"gre checksum key seq ipv6", decode.LinkEthernet, eth(0x0800, outer4(47, cat(greHdr(0xb000, 0x86dd, 12), ip6(17, udpdg)))), tun(wUDP6, 1)},
		{"gre key teb", decode.LinkEthernet, eth(0x0800, outer4(47, cat(greHdr(0x2000, 0x6558, 4), eth(0x0800, ip4(6, tcp4seg), 0x8100, 7)))), with(tun(wTCP4, 1), func(w *want) { w.vlan = [2]uint16{7, 0} })},
		{"gre erspan ii", decode.LinkEthernet, eth(0x0800, outer4(47, cat(greHdr(0x1000, 0x88be, 4), make([]byte, 8), tcp4()))), tun(wTCP4, 1)},
		{"gre erspan iii", decode.LinkEthernet, eth(0x0800, outer4(47, cat(greHdr(0x1000, 0x22eb, 4), make([]byte, 11), []byte{1}, make([]byte, 8), tcp4()))), tun(wTCP4, 1)},
		{"gre v1 pptp", decode.LinkEthernet, eth(0x0800, outer4(47, cat(greHdr(0x3081, 0x880b, 12), []byte{0xff, 3, 0, 0x21}, ip4(6, tcp4seg)))), tun(wTCP4, 1)},
		{"gre routing", decode.LinkRaw, outer4(47, cat(greHdr(0x4000, 0x0800, 0), ip4(6, tcp4seg))), want{r: decode.OtherTransport}},
		{"vxlan", decode.LinkEthernet, eth(0x0800, outer4(17, vxlan(0x08, udp6()))), tun(wUDP6, 1)},
		{"vxlan without I flag is udp", decode.LinkEthernet, eth(0x0800, outer4(17, vxlan(0, udp6()))), want{r: decode.OK, src: osrc4, dst: odst4, sport: 40000, dport: 4789, proto: decode.UDP, payload: cat([]byte{0, 0, 0, 0, 0, 0, 42, 0}, udp6())}},
		{"mpls two labels", decode.LinkEthernet, eth(0x8847, cat(mplsLabel(16, false), mplsLabel(17, true), ip4(6, tcp4seg))), tun(wTCP4, 1)},
		{"mpls ipv6", decode.LinkEthernet, eth(0x8848, cat(mplsLabel(16, true), ip6(17, udpdg))), tun(wUDP6, 1)},
		{"mpls pseudowire", decode.LinkEthernet, eth(0x8847, cat(mplsLabel(16, true), u32(0), tcp4())), want{r: decode.NotIP}},
		{"pppoe ipv4", decode.LinkEthernet, eth(0x8864, pppoe(0x21, ip4(6, tcp4seg)), 0x8100, 10), with(tun(wTCP4, 1), func(w *want) { w.vlan = [2]uint16{10, 0} })},
		{"pppoe ipv6", decode.LinkEthernet, eth(0x8864, pppoe(0x57, ip6(17, udpdg))), tun(wUDP6, 1)},
		{"pppoe lcp", decode.LinkEthernet, eth(0x8864, pppoe(0xc021, []byte{1, 1, 0, 4})), want{r: decode.NotIP}},
		{"nested gre in 4in6", decode.LinkEthernet, eth(0x86dd, outer6(4, outer4(47, cat(greHdr(0, 0x0800, 0), ip4(6, tcp4seg))))), tun(wTCP4, 2)},
		{"too deep", decode.LinkEthernet, eth(0x86dd, outer6(4, outer4(47, cat(greHdr(0, 0x0800, 0), ip4(6, tcp4seg))))), want{r: decode.TooDeep, maxTunnelDepth: 1}},
	}
}

func checkPacket(t *testing.T, p *decode.Packet, r decode.Reason, w want) {
	t.Helper()
	if r != w.r {
		t.Fatalf("reason %v, want %v", r, w.r)
	}
	if r != decode.OK {
		return
	}
	if p.Src != w.src || p.Dst != w.dst {
		t.Errorf("addresses %v > %v, want %v > %v", p.Src, p.Dst, w.src, w.dst)
	}
	if p.Src.Is4In6() || p.Dst.Is4In6() {
		t.Errorf("4in6 address %v", p.Src)
	}
	if p.SrcPort != w.sport || p.DstPort != w.dport || p.Proto != w.proto {
		t.Errorf("transport %d %d > %d, want %d %d > %d", p.Proto, p.SrcPort, p.DstPort, w.proto, w.sport, w.dport)
	}
	if p.Proto == decode.TCP && (p.TCP.Flags != w.flags || p.TCP.Seq != 1000 || p.TCP.Ack != 2000 || p.TCP.Window != 65535) {
		t.Errorf("tcp %+v, want flags %v seq 1000 ack 2000 window 65535", p.TCP, w.flags)
	}
	if !bytes.Equal(p.Payload, w.payload) {
		t.Errorf("payload %q, want %q", p.Payload, w.payload)
	}
	if p.VLAN != w.vlan {
		t.Errorf("vlan %v, want %v", p.VLAN, w.vlan)
	}
	if p.Tunnels != w.tunnels {
		t.Errorf("tunnels %d, want %d", p.Tunnels, w.tunnels)
	}
	if p.Missing != w.missing {
		t.Errorf("missing %d, want %d", p.Missing, w.missing)
	}
	if p.BadChecksum != w.bad {
		t.Errorf("bad checksum %v, want %v", p.BadChecksum, w.bad)
	}
	if p.Reassembled {
		t.Error("reassembled set on an unfragmented packet")
	}
}

func TestDecodeFrames(t *testing.T) {
	ts := time.Unix(1000, 0)
	for _, tc := range frameCases() {
		t.Run(tc.name, func(t *testing.T) {
			d := decode.NewDecoder(decode.Config{MaxTunnelDepth: tc.want.maxTunnelDepth})
			var p decode.Packet
			r := d.Decode(tc.link, tc.frame, len(tc.frame)+7, ts, &p)
			checkPacket(t, &p, r, tc.want)
			if p.WireLen != len(tc.frame)+7 || !p.Timestamp.Equal(ts) {
				t.Errorf("wire length %d time %v", p.WireLen, p.Timestamp)
			}
			if got := d.Stats().Reasons[r]; got != 1 {
				t.Errorf("stats count %d for %v, want 1", got, r)
			}
		})
	}
}

// TestDecodeTruncation cuts every frame at every byte: Decode must not
// panic and must say Truncated or Malformed, or OK with the cut counted as
// Missing.
func TestDecodeTruncation(t *testing.T) {
	d := decode.NewDecoder(decode.Config{})
	var p decode.Packet
	for _, tc := range frameCases() {
		if tc.want.skipTruncSweep {
			continue
		}
		for n := 0; n < len(tc.frame); n++ {
			r := d.Decode(tc.link, tc.frame[:n], len(tc.frame), time.Unix(1, 0), &p)
			switch r {
			case decode.Truncated, decode.Malformed:
			case decode.OK:
				if p.Missing == 0 && !tc.want.padded {
					t.Errorf("%s cut at %d: OK with nothing missing", tc.name, n)
				}
			case tc.want.r:
				// Frames that are not TCP/UDP may say so before the cut
				// reaches what decides it.
			default:
				t.Errorf("%s cut at %d: %v", tc.name, n, r)
			}
		}
	}
}

func TestStatsCounters(t *testing.T) {
	d := decode.NewDecoder(decode.Config{})
	var p decode.Packet
	for _, l := range []decode.LinkType{105, 105, 127, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007} {
		d.Decode(l, nil, 0, time.Time{}, &p)
	}
	badsum := ip4(6, tcp4seg)
	badsum[10] ^= 1
	d.Decode(decode.LinkRaw, badsum, len(badsum), time.Time{}, &p)
	d.Decode(decode.LinkEthernet, eth(0x0800, ip4(4, ip4(4, ip4(6, tcp4seg)))), 0, time.Time{}, &p)
	// MPLS > IPv4 > GRE > Ethernet > PPPoE > IPv4 > UDP > VXLAN > Ethernet > IPv6 > UDP.
	vx := ip4(17, cat(u16(1), u16(4789), u16(uint16(8+8+len(udp6()))), u16(0), []byte{8, 0, 0, 0, 0, 0, 0, 0}, udp6()))
	pppoe := cat([]byte{0x11, 0, 0, 1}, u16(uint16(2+len(vx))), u16(0x21), vx)
	if r := d.Decode(decode.LinkEthernet, eth(0x8847, cat(u32(1<<8), ip4(47, cat(u16(0), u16(0x6558), eth(0x8864, pppoe))))), 0, time.Time{}, &p); r != decode.OK || p.Tunnels != 4 || p.Src != src6 {
		t.Errorf("four tunnels: %v, %d tunnels, src %v", r, p.Tunnels, p.Src)
	}
	s := d.Stats()
	if s.Reasons[decode.UnsupportedLink] != 11 || s.UnsupportedLinks[0] != (decode.LinkCount{Link: 105, Count: 2}) || s.UnsupportedLinks[7].Link != 1005 || s.LinkOther != 2 {
		t.Errorf("link counts %+v other %d", s.UnsupportedLinks, s.LinkOther)
	}
	if s.BadIPv4Checksum != 1 {
		t.Errorf("bad checksums %d", s.BadIPv4Checksum)
	}
	if want := (decode.TunnelStats{IPinIP: 2, GRE: 1, VXLAN: 1, MPLS: 1, PPPoE: 1}); s.Tunnels != want {
		t.Errorf("tunnels %+v, want %+v", s.Tunnels, want)
	}
	if s.Reasons[decode.OK] != 3 {
		t.Errorf("ok count %d, want 3", s.Reasons[decode.OK])
	}
}

func TestReasonNames(t *testing.T) {
	seen := map[string]bool{}
	for r := decode.Reason(0); int(r) < decode.NumReasons; r++ {
		n := r.String()
		if n == "" || n == "unknown" || seen[n] {
			t.Errorf("reason %d name %q", r, n)
		}
		seen[n] = true
	}
}

func TestDecodeAllocs(t *testing.T) {
	d := decode.NewDecoder(decode.Config{})
	var p decode.Packet
	ts := time.Unix(1, 0)
	for _, tc := range []struct {
		name  string
		link  decode.LinkType
		frame []byte
	}{
		{"ethernet ipv4 tcp", decode.LinkEthernet, tcp4()},
		{"ethernet ipv6 udp", decode.LinkEthernet, udp6()},
	} {
		n := testing.AllocsPerRun(1000, func() {
			if d.Decode(tc.link, tc.frame, len(tc.frame), ts, &p) != decode.OK {
				t.Fatal("not OK")
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per Decode, want 0", tc.name, n)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, tc := range []struct {
		name  string
		link  decode.LinkType
		frame []byte
	}{
		{"eth_ipv4_tcp", decode.LinkEthernet, tcp4()},
		{"eth_ipv6_udp", decode.LinkEthernet, udp6()},
		{"vlan_gre_ipv4_tcp", decode.LinkEthernet, eth(0x0800, ip4(47, cat(u16(0), u16(0x0800), ip4(6, tcp4seg))), 0x8100, 5)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d := decode.NewDecoder(decode.Config{})
			var p decode.Packet
			ts := time.Unix(1, 0)
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.frame)))
			for b.Loop() {
				d.Decode(tc.link, tc.frame, len(tc.frame), ts, &p)
			}
		})
	}
}
