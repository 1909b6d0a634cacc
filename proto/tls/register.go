package tls

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "tls",
		Category:  event.CatCarrier,
		Transport: analyzer.TCP,
		Detects:   "TLS/SSLv3 handshakes (carrier): SNI, ALPN, versions, server certificate; an IM/P2P host name labels the flow",
		New:       newConn,
		Detect: classify.Signature{
			Ports:    []uint16{443, 5223, 993, 995, 465, 8443},
			Prefixes: prefixes(),
			Probe:    probe,
			MaxBytes: probeBytes,
		},
	})
}

// prefixes are a handshake record header (type 22, record version SSL 3.0
// to TLS 1.2; TLS 1.3 still writes 0x0301 or 0x0303 there, RFC 8446 §5.1)
// in the originator's direction, and the same in the responder's for a
// capture that missed the client (the probe then wants a ServerHello).
func prefixes() []classify.Prefix {
	var p []classify.Prefix
	for _, d := range []flow.Dir{flow.Orig, flow.Resp} {
		for _, v := range []string{"\x00", "\x01", "\x02", "\x03"} {
			p = append(p, classify.Prefix{Dir: d, Bytes: "\x16\x03" + v})
		}
	}
	return p
}
