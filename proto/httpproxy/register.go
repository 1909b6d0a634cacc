package httpproxy

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// priority puts the proxy forms ahead of the http carrier (100), which
// shares their "CONNECT "/"GET " start and also matches them, and behind
// the Yahoo HTTP forms (10), which claim their own absolute-form requests.
const priority = 50

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "httpproxy",
		Category:  event.CatTunnel,
		Transport: analyzer.TCP,
		Detects:   "HTTP proxy requests: CONNECT host:port (target, outcome, Basic proxy credentials; the tunnel is reclassified) and absolute-URI forward proxying, incl. IM carried over HTTP (AIM/ICQ HTTP proxy hosts, Yahoo, MSN gateway)",
		New:       newConn,
		Detect: classify.Signature{
			Ports:    []uint16{3128, 8080},
			Prefixes: prefixes(),
			Probe:    probe,
			MaxBytes: maxProbe,
			Priority: priority,
		},
	})
}

// prefixes returns the originator starts of a proxy request: "CONNECT "
// and, for every method of forwardMethods, "<METHOD> http", "<METHOD> ftp:"
// (absolute-form, scheme letters in any case; the probe checks the rest).
func prefixes() []classify.Prefix {
	p := []classify.Prefix{{Dir: flow.Orig, Bytes: "CONNECT "}}
	for _, m := range forwardMethods {
		p = append(p,
			classify.Prefix{Dir: flow.Orig, Bytes: m + " http", Fold: true},
			classify.Prefix{Dir: flow.Orig, Bytes: m + " ftp:", Fold: true})
	}
	return p
}
