package socks

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "socks",
		Products:  []string{"SOCKS proxy"},
		Category:  event.CatTunnel,
		Transport: analyzer.TCP,
		Detects:   "SOCKS4, SOCKS4a and SOCKS5 proxy handshakes on any port: target, outcome, RFC 1929 credentials; the tunnelled stream is classified again",
		Detect: classify.Signature{
			Ports: []uint16{1080},
			Prefixes: []classify.Prefix{
				{Dir: flow.Orig, Bytes: "\x04\x01"},
				{Dir: flow.Orig, Bytes: "\x04\x02"},
				{Dir: flow.Orig, Bytes: "\x05"},
				{Dir: flow.Resp, Bytes: "\x00\x5a"},
				{Dir: flow.Resp, Bytes: "\x00\x5b"},
				{Dir: flow.Resp, Bytes: "\x00\x5c"},
				{Dir: flow.Resp, Bytes: "\x00\x5d"},
				{Dir: flow.Resp, Bytes: "\x05"},
			},
			Probe:    probe,
			MaxBytes: maxHandshake,
		},
		New: newConn,
	})
}
