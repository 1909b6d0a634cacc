package httpproxy

import (
	"strings"
)

// imHost is an IM service reached over HTTP, named by its host.
type imHost struct {
	service, product string
	embed            string // the analyzer that parses its bodies
}

// IM services that clients reached through HTTP (proxies.md §4): the AIM
// and ICQ HTTP proxy hosts (FLAP in the bodies), Yahoo's *.msg.yahoo.com
// (YMSG in the bodies) and the MSN gateway (MSNP; parsed by proto/http's
// gateway when it is not proxied).
var (
	imAIM   = imHost{"aim", "AIM", "oscar"}
	imICQ   = imHost{"icq", "ICQ", "oscar"}
	imYahoo = imHost{"yahoo", "Yahoo! Messenger", "ymsg"}
	imMSN   = imHost{"msn", "MSN Messenger", "msnp"}
)

// msnGateway is the MSN Messenger HTTP gateway host; clients send it
// absolute-form requests without a proxy, and proto/http parses them.
const msnGateway = "gateway.messenger.hotmail.com"

// imOf returns the IM service a request host belongs to.
func imOf(host string) (imHost, bool) {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	switch {
	case h == "aimhttp.oscar.aol.com":
		return imAIM, true
	case h == "http.proxy.icq.com":
		return imICQ, true
	case strings.HasSuffix(h, ".msg.yahoo.com"):
		return imYahoo, true
	case h == msnGateway:
		return imMSN, true
	}
	return imHost{}, false
}

// Body magics (proxies.md §4, generic rule): a FLAP frame starts with 2A
// and a channel 01..05 (aim-oscar.md §1.1), a YMSG PDU with "YMSG".
const (
	flapStart = 0x2A
	ymsgMagic = "YMSG"
)

// bodyProto returns the analyzer whose data a body starting with p is, ""
// when p is none of the known magics. need is true while p is too short to
// tell.
func bodyProto(p []byte) (proto string, need bool) {
	if len(p) == 0 {
		return "", true
	}
	if p[0] == flapStart {
		if len(p) < 2 {
			return "", true
		}
		if p[1] >= 1 && p[1] <= 5 {
			return "oscar", false
		}
		return "", false
	}
	n := min(len(p), len(ymsgMagic))
	if string(p[:n]) != ymsgMagic[:n] {
		return "", false
	}
	if n < len(ymsgMagic) {
		return "", true
	}
	return "ymsg", false
}

// isIMHost is imOf for the probe: it reports whether host is an IM HTTP
// host without allocating.
func isIMHost(host []byte) bool {
	if n := len(host); n > 0 && host[n-1] == '.' {
		host = host[:n-1]
	}
	for _, h := range []string{"aimhttp.oscar.aol.com", "http.proxy.icq.com", msnGateway} {
		if len(host) == len(h) && hasPrefixFold(host, h) {
			return true
		}
	}
	const yahoo = ".msg.yahoo.com"
	return len(host) > len(yahoo) && hasPrefixFold(host[len(host)-len(yahoo):], yahoo)
}
