package fasttrack

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// defaultPort is FastTrack's default TCP and UDP port (KaZaA 1.x): a hint
// only, later clients pick random ports.
const defaultPort = 1214

// Priorities: the HTTP forms run ahead of the http carrier (100), which
// shares their "GET "/"HTTP/1." start; the session heuristic is ranked first
// so that the port hint 1214 goes to it (on TCP) and only ever adds the
// "port" evidence to a flow its probe matched.
const (
	httpPriority    = 10
	sessionPriority = 5
)

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "fasttrack",
		Service:   service,
		Products:  products,
		Category:  event.CatP2P,
		Transport: analyzer.TCP | analyzer.UDP,
		Detects: "KaZaA/FastTrack on any port: HTTP transfers with X-Kazaa headers (user name, network, client and supernode " +
			"addresses, X-KazaaTag metadata, hashed downloads), GIVE push connections, UDP supernode discovery (0x27/0x28/0x29)",
		Detect: classify.Signature{
			Ports: []uint16{defaultPort},
			Prefixes: []classify.Prefix{
				{Dir: flow.Orig, Bytes: "GET /"},
				{Dir: flow.Orig, Bytes: "HEAD /"},
				{Dir: flow.Resp, Bytes: "HTTP/1."},
				{Dir: flow.Orig, Bytes: "GIVE "},
				{Either: true, Bytes: "\x27"},
				{Either: true, Bytes: "\x28"},
				{Either: true, Bytes: "\x29"},
			},
			Probe:    probe,
			MaxBytes: maxProbe,
			Priority: httpPriority,
		},
		New:         newConn,
		IdleSeconds: 120,
	})
	analyzer.Register(analyzer.Spec{
		Name:      "fasttrack_session",
		Service:   service,
		Products:  products,
		Category:  event.CatP2P,
		Transport: analyzer.TCP,
		Detects: "FastTrack encrypted supernode sessions (12-byte/8-byte opening, then high-entropy data): tentative, " +
			"labelled only when another flow of the same hosts shows KaZaA by its payload",
		Detect: classify.Signature{
			Ports:     []uint16{defaultPort},
			Probe:     probeSession,
			Heuristic: true,
			MaxBytes:  sessionMaxBytes,
			Priority:  sessionPriority,
		},
		New: newSession,
	})
}
