package decode_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/decode"
)

// FuzzDecode feeds arbitrary frames of arbitrary link types, each twice so
// that fragments meet a stored copy of themselves. Seeds are the frames of
// the table tests (every link type, tunnel and extension header) and IPv4
// and IPv6 fragments.
func FuzzDecode(f *testing.F) {
	for _, tc := range frameCases() {
		f.Add(uint16(tc.link), tc.frame)
	}
	// A first and a last fragment, IPv4 and IPv6.
	f.Add(uint16(decode.LinkEthernet), frag4(bigUDP, 7, 0, 40, true))
	f.Add(uint16(decode.LinkEthernet), frag4(bigUDP, 7, 40, len(bigUDP), false))
	f.Add(uint16(decode.LinkEthernet), frag6frame(bigUDP, 7, 0, 40, true))
	f.Add(uint16(decode.LinkEthernet), frag6frame(bigUDP, 7, 40, len(bigUDP), false))
	// Real frames, when the shared corpus is present: the first frames of
	// captures of each link type and tunnel kind.
	for _, name := range []string{"4in4tunnel.pcap", "6in4tunnel.pcap", "4in6tunnel.pcap", "gre.pcapng",
		"dlt_ppp.pcap", "BGP_redist.pcap", "someip_sd_sample.pcap", "syslog.pcap", "discord_mid_flow.pcap",
		"dns_fragmented.pcap", "reasm_crash_anon.pcapng"} {
		frames, _ := readCapture(filepath.Join("..", "..", "shared", "corpus", "ndpi", name))
		for _, fr := range frames[:min(len(frames), 3)] {
			f.Add(uint16(fr.link), fr.data)
		}
	}
	f.Fuzz(func(t *testing.T, link uint16, data []byte) {
		d := decode.NewDecoder(decode.Config{FragMemory: 1 << 16, FragMaxDatagrams: 4})
		var p decode.Packet
		for i := range 2 {
			r := d.Decode(decode.LinkType(link), data, len(data), time.Unix(int64(i), 0), &p)
			if int(r) >= decode.NumReasons {
				t.Fatalf("reason %d out of range", r)
			}
			if r != decode.OK {
				continue
			}
			if p.Proto != decode.TCP && p.Proto != decode.UDP {
				t.Fatalf("OK with protocol %d", p.Proto)
			}
			if p.Missing < 0 || (!p.Reassembled && len(p.Payload) > len(data)) || len(p.Payload) > 0xffff {
				t.Fatalf("payload %d bytes, missing %d, frame %d bytes", len(p.Payload), p.Missing, len(data))
			}
			if !p.Src.IsValid() || !p.Dst.IsValid() || p.Src.Is4In6() {
				t.Fatalf("addresses %v %v", p.Src, p.Dst)
			}
		}
	})
}
