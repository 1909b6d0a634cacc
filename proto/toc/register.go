package toc

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "toc",
		Service:   "aim",
		Products:  []string{"AIM"},
		Category:  event.CatIM,
		Transport: analyzer.TCP,
		Detects:   "AIM TOC (FLAPON + SFLAP text commands): sign-on with the roasted password, IMs, buddy presence, rendezvous proposals",
		Detect: classify.Signature{
			Ports:    []uint16{9898},
			Prefixes: []classify.Prefix{{Dir: flow.Orig, Bytes: flapon}},
			Probe:    probe,
			MaxBytes: maxProbe,
		},
		New: newConn,
	})
}
