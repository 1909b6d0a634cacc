package gnutella

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// priority puts the Gnutella HTTP forms ahead of the http carrier (100),
// which shares their "GET " start.
const priority = 10

// udpProto is UDP's IP protocol number (IANA).
const udpProto = 17

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "gnutella",
		Service:   "gnutella",
		Products:  []string{"Gnutella", "LimeWire", "BearShare", "gtk-gnutella", "Morpheus", "Gnucleus", "Xolox", "Shareaza", "Phex"},
		Category:  event.CatP2P,
		Transport: analyzer.TCP | analyzer.UDP,
		Detects:   "Gnutella 0.4/0.6 on any port: handshakes (client, role, refusals, disclosed addresses), deflate-compressed descriptor streams, pongs, queries, query hits, pushes (GIV connections expected), HTTP transfers (/get/, /uri-res/, GIV) with urn:sha1 checks, UDP descriptors, GND and Mojito DHT",
		Detect: classify.Signature{
			// 6346/6347 are the registered ports; servents listen anywhere.
			Ports: []uint16{6346, 6347},
			Prefixes: []classify.Prefix{
				{Either: true, Bytes: "GNUTELLA"},
				{Dir: flow.Orig, Bytes: "GIV "},
				{Either: true, Bytes: "GET /"},
				{Either: true, Bytes: "HEAD /"},
			},
			Probe:     probe,
			Heuristic: true,
			MaxBytes:  probeMax,
			Priority:  priority,
		},
		New:         newConn,
		IdleSeconds: 300,
		MaxBuffer:   headerLen + maxPayload + maxHead,
	})
}
