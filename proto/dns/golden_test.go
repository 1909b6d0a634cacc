package dns

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/capture/pcapfile"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/decode"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
	_ "github.com/peerwatch/peerwatch/proto/oscar"
)

// TestGolden runs the captures of testdata through the whole pipeline: our
// records, validated against the EVE schema, are the golden files.
func TestGolden(t *testing.T) {
	for _, name := range []string{"nDPI__bt-dns.pcap", "nDPI__dns.pcap", "nDPI__whatsapp_login_chat-dns.pcap", "dns-then-connect.pcap"} {
		t.Run(name, func(t *testing.T) {
			pcaptest.Golden(t, name, false)
		})
	}
}

// flap is a minimal OSCAR channel-1 sign-on: FLAP version 1 and the screen
// name TLV (aim-oscar.md: FLAP header, channel 1 body).
func flap() []byte {
	body := []byte{0, 0, 0, 1}
	body = binary.BigEndian.AppendUint16(body, 1)
	body = binary.BigEndian.AppendUint16(body, uint16(len("alice2002")))
	body = append(body, "alice2002"...)
	b := []byte{'*', 1, 0x12, 0x34}
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

// buildConnect writes dns-then-connect.pcap: login.icq.com resolved to
// 198.51.100.77, then a connection there carrying unknown bytes (labelled
// icq by the DNS answer) and one carrying OSCAR (labelled by its payload).
func buildConnect() []byte {
	w := pcaptest.NewWriter()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	client := netip.MustParseAddr("192.168.1.10")
	resolver := netip.MustParseAddrPort("192.168.1.1:53")
	w.UDP(t0, netip.AddrPortFrom(client, 53000), resolver, icqQuery)
	w.UDP(t0.Add(20*time.Millisecond), resolver, netip.AddrPortFrom(client, 53000), icqAnswer)
	c := w.TCP(t0.Add(time.Second), netip.AddrPortFrom(client, 40000), netip.MustParseAddrPort("198.51.100.77:443"))
	c.Handshake()
	noise := make([]byte, 300)
	for i := range noise {
		noise[i] = byte(i*7919>>3) ^ 0xa5
	}
	c.Send(0, noise)
	c.Send(1, noise[:100])
	c.Close()
	o := w.TCP(c.T.Add(time.Second), netip.AddrPortFrom(client, 40001), netip.MustParseAddrPort("198.51.100.77:5190"))
	o.Handshake()
	o.Send(0, flap())
	o.Close()
	return w.Bytes()
}

func TestCapture(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "dns-then-connect.pcap"), buildConnect())
}

// TestDNSThenConnect checks the labels of dns-then-connect.pcap: the
// unknown connection gets icq from the DNS answer; the OSCAR one keeps
// what its payload shows.
func TestDNSThenConnect(t *testing.T) {
	recs, _, err := pcaptest.Analyze([]string{filepath.Join("testdata", "dns-then-connect.pcap")}, pcaptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type pw struct {
		Service    string   `json:"service"`
		Confidence string   `json:"confidence"`
		Evidence   []string `json:"evidence"`
	}
	flows := map[uint16]struct {
		app string
		pw  pw
	}{}
	for _, line := range strings.Split(strings.TrimSpace(string(pcaptest.Lines(recs))), "\n") {
		var r struct {
			EventType string `json:"event_type"`
			DestPort  uint16 `json:"dest_port"`
			AppProto  string `json:"app_proto"`
			Peerwatch pw     `json:"peerwatch"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.EventType == "flow" {
			flows[r.DestPort] = struct {
				app string
				pw  pw
			}{r.AppProto, r.Peerwatch}
		}
	}
	if f := flows[53]; f.app != "dns" || f.pw.Service != "icq" || f.pw.Confidence != "hostname" {
		t.Errorf("dns flow: %+v", f)
	}
	if f := flows[443]; f.pw.Service != "icq" || f.pw.Confidence != "hostname" || strings.Join(f.pw.Evidence, ",") != "dns" {
		t.Errorf("unknown flow to the answered address: %+v", f)
	}
	if f := flows[5190]; f.app != "oscar" || f.pw.Confidence == "hostname" {
		t.Errorf("oscar flow to the answered address: %+v", f)
	}
}

// TestCorpusUDPNoMatch runs the probe over the first datagram of every UDP
// flow in corpus captures of other protocols: none may look like DNS.
func TestCorpusUDPNoMatch(t *testing.T) {
	dir := pcaptest.Shared(t, "corpus", "ndpi")
	files := []string{
		"quic.pcap", "quic-29.pcap", "quic_t51.pcap", "rtp.pcapng", "NTPv4.pcap", "ssdp-m-search.pcap",
		"bittorrent_utp.pcap", "dhcp-fuzz.pcapng", "skype-conference-call.pcap", "stun.pcap", "snmp.pcap",
		"teamspeak3.pcap", "wireguard.pcap", "syslog.pcap", "tftp.pcap", "coap_mqtt.pcap", "sip.pcap",
		"whatsapp_voice_and_message.pcap", "rx.pcap", "openvpn.pcap", "steam.pcapng", "teredo.pcap",
		"ipsec_isakmp_esp.pcap", "dtls.pcap", "zoom.pcap", "radius_false_positive.pcapng", "netflowv9.pcap", "NTPv2.pcap", "1kxun.pcap",
	}
	tested := 0
	for _, name := range files {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		tested++
		n, bad := firstDatagrams(t, path)
		for _, b := range bad {
			t.Errorf("%s: probe matched a datagram: %x", name, b)
		}
		if n == 0 {
			t.Logf("%s: no UDP flows", name)
		}
	}
	if tested < 20 {
		t.Fatalf("only %d of the listed corpus files exist", tested)
	}
}

// firstDatagrams probes the first datagram of each UDP flow of a capture
// (flows keyed by their unordered endpoints) and returns how many it
// probed and the payloads that matched.
func firstDatagrams(t *testing.T, path string) (int, [][]byte) {
	r, err := pcapfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dec := decode.NewDecoder(decode.Config{})
	seen := map[[2]netip.AddrPort]bool{}
	var bad [][]byte
	var p decode.Packet
	for {
		data, ci, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if dec.Decode(ci.LinkType, data, ci.Length, ci.Timestamp, &p) != decode.OK || p.Proto != decode.UDP || len(p.Payload) == 0 {
			continue
		}
		a, b := netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort)
		if b.Addr().Less(a.Addr()) || (a.Addr() == b.Addr() && b.Port() < a.Port()) {
			a, b = b, a
		}
		if seen[[2]netip.AddrPort{a, b}] {
			continue
		}
		seen[[2]netip.AddrPort{a, b}] = true
		if p.SrcPort == 53 || p.DstPort == 53 || p.SrcPort == 5353 || p.DstPort == 5353 || p.SrcPort == 5355 || p.DstPort == 5355 {
			continue // real DNS, mDNS and LLMNR inside these captures
		}
		in := classify.Input{UDP: true, Data: p.Payload, Orig: netip.AddrPortFrom(p.Src, p.SrcPort), Resp: netip.AddrPortFrom(p.Dst, p.DstPort)}
		if probe(&in) == classify.Match {
			bad = append(bad, append([]byte(nil), p.Payload...))
		}
	}
	return len(seen), bad
}
