package template

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
)

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "template",
		Service:   "template",
		Products:  []string{"peerwatch template"},
		Category:  event.CatTest,
		Transport: analyzer.TCP,
		Detects:   "model protocol: login, messages, file offers announcing direct connections, logout",
		Detect: classify.Signature{
			Ports:    []uint16{7777},
			Prefixes: []classify.Prefix{{Either: true, Bytes: magic}},
			Probe:    probe,
			MaxBytes: maxHeader,
		},
		New: newConn,
	})
}
