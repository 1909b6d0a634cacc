package odc

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
)

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "odc",
		Service:   "aim",
		Products:  []string{"AIM", "ICQ"},
		Category:  event.CatIM,
		Transport: analyzer.TCP,
		Detects:   "AIM Direct IM (ODC2): peer-to-peer messages, typing, embedded images",
		Detect: classify.Signature{
			Prefixes: []classify.Prefix{{Either: true, Bytes: magic}},
			Probe:    probe,
			MaxBytes: probeBytes,
		},
		New:       newConn,
		MaxBuffer: maxHeader + maxPayload,
	})
}
