package http

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
	"github.com/peerwatch/peerwatch/internal/httpwire"
)

// priority makes the carrier run after the protocols that ride on HTTP
// (Gnutella and KaZaA downloads, the Yahoo and MSN gateways), which share
// its "GET "/"POST " prefixes and must get the first look.
const priority = 100

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "http",
		Category:  event.CatCarrier,
		Transport: analyzer.TCP,
		Detects:   "HTTP/1.x requests and responses (carrier; CONNECT and Upgrade hand the stream on)",
		New:       newConn,
		Detect: classify.Signature{
			Ports:    []uint16{80, 8080, 3128},
			Prefixes: prefixes(),
			Probe:    probe,
			Priority: priority,
		},
	})
}

// prefixes returns "<METHOD> " for every known method in the originator's
// direction and "HTTP/1." in the responder's (a capture that missed the
// request, or an asymmetric one).
func prefixes() []classify.Prefix {
	var p []classify.Prefix
	for _, m := range httpwire.Methods() {
		p = append(p, classify.Prefix{Dir: flow.Orig, Bytes: m + " "})
	}
	return append(p, classify.Prefix{Dir: flow.Resp, Bytes: "HTTP/1."})
}
