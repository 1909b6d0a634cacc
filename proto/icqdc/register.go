package icqdc

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
)

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "icqdc",
		Service:   "icq",
		Products:  []string{"ICQ"},
		Category:  event.CatIM,
		Transport: analyzer.TCP,
		Detects:   "ICQ direct client-to-client TCP connections (peer protocol v6-v8): UINs and advertised addresses",
		Detect: classify.Signature{
			// len(2 LE) FF version(2 LE): the PEER_INIT of each version.
			Prefixes: []classify.Prefix{
				{Either: true, Bytes: "\x2c\x00\xff\x06\x00"},
				{Either: true, Bytes: "\x30\x00\xff\x07\x00"},
				{Either: true, Bytes: "\x30\x00\xff\x08\x00"},
			},
			Probe:    probe,
			MaxBytes: 2 + initLenV7,
		},
		New: newConn,
	})
}
