package ymsg

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
)

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "ymsg",
		Service:   "yahoo",
		Products:  []string{"Yahoo! Messenger"},
		Category:  event.CatIM,
		Transport: analyzer.TCP,
		Detects:   "Yahoo! Messenger YMSG on any port: logins (md5crypt field, challenge-response), Y/T cookies, messages, conferences, chat rooms, presence, invitations, file offers",
		Detect: classify.Signature{
			// 5050 is the pager port; clients also used 80, 23 and 25.
			Ports:    []uint16{5050},
			Prefixes: []classify.Prefix{{Either: true, Bytes: magic}},
			Probe:    probe,
			MaxBytes: probeWindow,
		},
		New:       newConn,
		MaxBuffer: headerLen + maxPayload,
	})
}
