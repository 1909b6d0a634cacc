package oft

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
)

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "oft",
		Service:   "aim",
		Products:  []string{"AIM", "ICQ"},
		Category:  event.CatIM,
		Transport: analyzer.TCP,
		Detects:   "AIM/ICQ OFT2 peer file transfer: file name, size, AOL checksum, content hashes",
		Detect: classify.Signature{
			Prefixes: []classify.Prefix{{Either: true, Bytes: "OFT2"}, {Either: true, Bytes: "OFT3"}},
			Probe:    probe,
			MaxBytes: probeBytes,
		},
		New: newConn,
	})
}
