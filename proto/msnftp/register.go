package msnftp

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
)

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "msnftp",
		Service:   "msn",
		Products:  []string{"MSN Messenger"},
		Category:  event.CatIM,
		Transport: analyzer.TCP,
		Detects:   "MSN Messenger MSNFTP peer file transfer: receiver's passport and auth cookie, file name, size, content hashes",
		Detect: classify.Signature{
			Ports:    []uint16{6891},
			Prefixes: []classify.Prefix{{Either: true, Bytes: verLine}},
			Probe:    probe,
			MaxBytes: probeBytes,
		},
		New: newConn,
	})
}
