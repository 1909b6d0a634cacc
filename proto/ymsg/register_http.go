package ymsg

import (
	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/flow"
)

// httpPriority puts the Yahoo HTTP forms ahead of the http carrier (100),
// which shares their "GET "/"POST " start.
const httpPriority = 10

func init() {
	analyzer.Register(analyzer.Spec{
		Name:      "ymsg_http",
		Service:   "yahoo",
		Products:  []string{"Yahoo! Messenger"},
		Category:  event.CatIM,
		Transport: analyzer.TCP,
		Detects:   "Yahoo! Messenger over HTTP: the pager's plaintext login (/config/ncclogin, /config/login), Y/T cookies, file upload (POST /notifyft)",
		Detect: classify.Signature{
			// No port hints: Priority puts these forms ahead of the http
			// carrier on any port (the classifier ranks Priority above a
			// port hint), and the probe decides.
			Prefixes: httpPrefixes(),
			Probe:    httpProbe,
			MaxBytes: httpProbeMax,
			Priority: httpPriority,
		},
		New: newHTTPConn,
	})
}

// httpPrefixes returns the request-line starts of the Yahoo forms, in
// origin-form and in absolute-form (a client behind an HTTP proxy, and
// later gaim for /notifyft).
func httpPrefixes() []classify.Prefix {
	var p []classify.Prefix
	for _, s := range []string{
		"GET /config/ncclogin?", "POST /config/ncclogin", "GET /config/login?", "POST /notifyft",
		"GET http://", "POST http://",
	} {
		p = append(p, classify.Prefix{Dir: flow.Orig, Bytes: s})
	}
	return p
}
