package icqv5

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
)

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "icqv5",
		Service:   "icq",
		Products:  []string{"ICQ"},
		Category:  event.CatIM,
		Transport: analyzer.UDP,
		Detects:   "ICQ v5 over UDP (ICQ 99/2000a, icqlib, micq): key-less decryption, plaintext login password, messages, contact IP disclosure",
		Detect: classify.Signature{
			Ports: []uint16{serverPort},
			// Both header kinds start with the version word 05 00 and a zero byte.
			Prefixes: []classify.Prefix{{Either: true, Bytes: "\x05\x00\x00"}},
			Probe:    probe,
			MaxBytes: maxPacket,
		},
		New:         newConn,
		IdleSeconds: 300,
	})
}
