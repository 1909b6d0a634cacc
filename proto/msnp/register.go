package msnp

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "msnp",
		Service:   "msn",
		Products:  []string{"MSN Messenger"},
		Category:  event.CatIM,
		Transport: analyzer.TCP,
		Detects:   "MSN Messenger notification and switchboard sessions (MSNP2-8+): logins, MD5 responses and Passport tickets, redirects, chat, typing, invitations (file transfer, app sharing, voice, remote assistance)",
		Detect: classify.Signature{
			Ports: []uint16{1863},
			Prefixes: []classify.Prefix{
				{Either: true, Bytes: "VER "},
				{Dir: flow.Orig, Bytes: "USR "},
				{Dir: flow.Orig, Bytes: "ANS "},
			},
			Probe:    probe,
			MaxBytes: maxProbe,
		},
		New: newConn,
	})
}
