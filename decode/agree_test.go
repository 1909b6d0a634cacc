package decode_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/peerwatch/peerwatch/decode"
)

// oracle decodes frames with gopacket's DecodingLayerParser, the reference
// the decoder is checked against.
type oracle struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	loop    layers.Loopback
	ip4     layers.IPv4
	ip6     layers.IPv6
	ext     layers.IPv6ExtensionSkipper
	frag6   layers.IPv6Fragment
	ah      layers.IPSecAH
	gre     layers.GRE
	vxlan   layers.VXLAN
	erspan  layers.ERSPANII
	tcp     layers.TCP
	udp     layers.UDP
	payload gopacket.Payload
	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newOracle() *oracle {
	o := &oracle{parsers: map[gopacket.LayerType]*gopacket.DecodingLayerParser{}}
	for _, first := range []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLinuxSLL,
		layers.LayerTypeLinuxSLL2, layers.LayerTypeLoopback, layers.LayerTypeIPv4, layers.LayerTypeIPv6} {
		// The fragment header is added after the skipper so that it, not
		// the skipper, decodes fragment headers.
		p := gopacket.NewDecodingLayerParser(first,
			&o.eth, &o.dot1q, &o.sll, &o.sll2, &o.loop, &o.ip4, &o.ip6, &o.ext, &o.frag6,
			&o.ah, &o.gre, &o.vxlan, &o.erspan, &o.tcp, &o.udp, &o.payload)
		p.IgnoreUnsupported = true
		o.parsers[first] = p
	}
	return o
}

// oracleResult is what gopacket made of a frame.
type oracleResult struct {
	ok        bool // reached TCP or UDP with an IP layer before it
	stop      string
	truncated bool
	src, dst  netip.Addr
	sport     uint16
	dport     uint16
	proto     decode.IPProto
	flags     decode.TCPFlags
	payload   []byte
}

// decode runs gopacket from the layer matching link; ok is false for link
// types it has no DecodingLayer for.
func (o *oracle) decode(link decode.LinkType, data []byte) (res oracleResult, ok bool) {
	var first gopacket.LayerType
	switch link {
	case decode.LinkEthernet:
		first = layers.LayerTypeEthernet
	case decode.LinkLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	case decode.LinkLinuxSLL2:
		first = layers.LayerTypeLinuxSLL2
	case decode.LinkNull, decode.LinkLoop:
		first = layers.LayerTypeLoopback
	case decode.LinkIPv4:
		first = layers.LayerTypeIPv4
	case decode.LinkIPv6:
		first = layers.LayerTypeIPv6
	case decode.LinkRaw:
		first = layers.LayerTypeIPv4
		if len(data) > 0 && data[0]>>4 == 6 {
			first = layers.LayerTypeIPv6
		}
	default:
		return res, false
	}
	parser := o.parsers[first]
	err := parser.DecodeLayers(data, &o.decoded)
	res.truncated = parser.Truncated
	var unsupported gopacket.UnsupportedLayerType
	if err != nil && !errors.As(err, &unsupported) {
		res.stop = "error"
	}
	ti, ii := -1, -1
	for i, lt := range o.decoded {
		switch lt {
		case layers.LayerTypeTCP, layers.LayerTypeUDP:
			ti = i
		case layers.LayerTypeIPv4, layers.LayerTypeIPv6:
			if ti < 0 || i < ti {
				ii = i
			}
		}
	}
	if res.stop == "" && (ti < 0 || ii < 0 || ii > ti) {
		if errors.As(err, &unsupported) {
			res.stop = "stops at " + gopacket.LayerType(unsupported).String()
		} else if len(o.decoded) > 0 {
			res.stop = "ends at " + o.decoded[len(o.decoded)-1].String()
		} else {
			res.stop = "nothing"
		}
	}
	if res.stop != "" {
		return res, true
	}
	res.ok = true
	if o.decoded[ii] == layers.LayerTypeIPv4 {
		res.src, _ = netip.AddrFromSlice(o.ip4.SrcIP.To4())
		res.dst, _ = netip.AddrFromSlice(o.ip4.DstIP.To4())
	} else {
		res.src, _ = netip.AddrFromSlice(o.ip6.SrcIP.To16())
		res.dst, _ = netip.AddrFromSlice(o.ip6.DstIP.To16())
	}
	if o.decoded[ti] == layers.LayerTypeTCP {
		res.proto = decode.TCP
		res.sport, res.dport = uint16(o.tcp.SrcPort), uint16(o.tcp.DstPort)
		res.flags = decode.TCPFlags(o.tcp.Contents[13])
		res.payload = o.tcp.Payload
	} else {
		res.proto = decode.UDP
		res.sport, res.dport = uint16(o.udp.SrcPort), uint16(o.udp.DstPort)
		res.payload = o.udp.Payload
	}
	return res, true
}

// agreementExceptions lists understood disagreements, by "file #packet",
// with their cause. They are counted, not failed.
var agreementExceptions = map[string]string{
	// Fuzzed files: the IPv4 version nibble is 5, 2 or 12; gopacket never
	// checks it, Decode reports Malformed.
	"fuzz-2006-06-26-2594.pcap #45":   "IPv4 version nibble not 4 (gopacket ignores it)",
	"fuzz-2006-06-26-2594.pcap #78":   "IPv4 version nibble not 4 (gopacket ignores it)",
	"fuzz-2006-09-29-28586.pcap #91":  "IPv4 version nibble not 4 (gopacket ignores it)",
	"fuzz-2020-02-16-11740.pcap #218": "IPv4 version nibble not 4 (gopacket ignores it)",
	"fuzz-2020-02-16-11740.pcap #339": "IPv4 version nibble not 4 (gopacket ignores it)",
}

// TestAgreementCorpus decodes every packet of the nDPI corpus with Decode
// and with gopacket and requires the same innermost endpoints, ports, TCP
// flags and payload wherever both decode an unfragmented, untruncated packet.
func TestAgreementCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "corpus", "ndpi")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Skip("no corpus at ../../shared/corpus/ndpi")
	}
	counts := map[string]int{}
	examples := map[string]string{}
	count := func(k, file string, i int) {
		if counts[k] == 0 {
			examples[k] = fmt.Sprintf("%s #%d", file, i+1)
		}
		counts[k]++
	}
	var failures []string
	compared := 0
	for _, f := range files {
		frames, err := readCapture(f)
		if err != nil {
			count("file unreadable: "+err.Error(), filepath.Base(f), len(frames))
			if len(frames) == 0 {
				continue
			}
		}
		name := filepath.Base(f)
		d := decode.NewDecoder(decode.Config{})
		o := newOracle()
		var p decode.Packet
		for i, fr := range frames {
			r := d.Decode(fr.link, fr.data, fr.wireLen, fr.ts, &p)
			res, known := o.decode(fr.link, fr.data)
			switch {
			case !known:
				count(fmt.Sprintf("gopacket lacks link %d (ours: %v)", fr.link, r), name, i)
				continue
			case r == decode.FragmentHeld || r == decode.FragmentDropped || p.Reassembled:
				count("fragment (ours: "+r.String()+")", name, i)
				continue
			case len(fr.data) < fr.wireLen || p.Missing > 0 || res.truncated:
				count("truncated capture", name, i)
				continue
			case r == decode.OK && !res.ok:
				count("only ours reaches TCP/UDP: gopacket "+res.stop, name, i)
				continue
			case r != decode.OK && !res.ok:
				count("neither reaches TCP/UDP (ours: "+r.String()+")", name, i)
				continue
			case r != decode.OK && res.ok:
				if why, ok := agreementExceptions[fmt.Sprintf("%s #%d", name, i+1)]; ok {
					count("exception: "+why, name, i)
					continue
				}
				failures = append(failures, fmt.Sprintf("%s #%d: ours %v, gopacket %v %s:%d > %s:%d", name, i+1, r, res.proto, res.src, res.sport, res.dst, res.dport))
				continue
			}
			compared++
			var diffs []string
			if p.Src != res.src || p.Dst != res.dst {
				diffs = append(diffs, fmt.Sprintf("addrs %s>%s vs %s>%s", p.Src, p.Dst, res.src, res.dst))
			}
			if p.Proto != res.proto || p.SrcPort != res.sport || p.DstPort != res.dport {
				diffs = append(diffs, fmt.Sprintf("transport %d %d>%d vs %d %d>%d", p.Proto, p.SrcPort, p.DstPort, res.proto, res.sport, res.dport))
			}
			if p.Proto == decode.TCP && p.TCP.Flags != res.flags {
				diffs = append(diffs, fmt.Sprintf("flags %#x vs %#x", p.TCP.Flags, res.flags))
			}
			if !bytes.Equal(p.Payload, res.payload) {
				diffs = append(diffs, fmt.Sprintf("payload %d vs %d bytes", len(p.Payload), len(res.payload)))
			}
			if len(diffs) == 0 {
				count("agree", name, i)
				continue
			}
			if why, ok := agreementExceptions[fmt.Sprintf("%s #%d", name, i+1)]; ok {
				count("exception: "+why, name, i)
				continue
			}
			failures = append(failures, fmt.Sprintf("%s #%d: %s", name, i+1, strings.Join(diffs, "; ")))
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t.Logf("%d files, %d packets compared field by field", len(files), compared)
	for _, k := range keys {
		t.Logf("%8d  %-60s e.g. %s", counts[k], k, examples[k])
	}
	if compared == 0 {
		t.Error("no packet was compared")
	}
	for i, f := range failures {
		if i == 50 {
			t.Errorf("... and %d more", len(failures)-50)
			break
		}
		t.Error(f)
	}
}
