package oscar

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
)

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "oscar",
		Service:   "aim",
		Products:  []string{"AIM", "ICQ"},
		Category:  event.CatIM,
		Transport: analyzer.TCP,
		Detects:   "AIM and ICQ over OSCAR (FLAP/SNAC) on any port: logins, exposed credentials, messages, presence, rendezvous offers",
		Detect: classify.Signature{
			Ports:    []uint16{5190},
			Prefixes: []classify.Prefix{{Either: true, Bytes: "*\x01"}, {Either: true, Bytes: "*\x02"}},
			Probe:    probe,
			MaxBytes: flapHeader + maxSignon,
		},
		New: newConn,
	})
}
