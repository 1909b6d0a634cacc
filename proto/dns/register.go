package dns

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
)

// priority makes the heuristic DNS probe run after every specific
// protocol's: DNS has no magic bytes.
const priority = 200

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "dns",
		Category:  event.CatCarrier,
		Transport: analyzer.UDP | analyzer.TCP,
		Detects:   "DNS and mDNS queries and answers (carrier): names of IM/P2P services label the flow and, via expectations, later connections to the answered addresses",
		New:       newConn,
		Detect: classify.Signature{
			Ports:     []uint16{53, 5353},
			Probe:     probe,
			Heuristic: true,
			MaxBytes:  maxBytes,
			Priority:  priority,
		},
	})
}
