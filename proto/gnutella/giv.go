package gnutella

import (
	"encoding/hex"
	"strconv"
)

// giv is a push connection's opening line:
// "GIV <file index>:<servent ID, 32 hex>/<file name>" then LF LF
// (gtk-gnutella src/core/uploads.c).
type giv struct {
	index   uint32
	servent [16]byte
	name    []byte
}

// givPrefixOK checks the part of a GIV line that has arrived: "GIV ",
// digits, ':' and hex digits. It returns the offset of the '/' if seen.
func givPrefixOK(d []byte) (int, bool) {
	if !prefixOf(d, "GIV ") {
		return 0, false
	}
	if len(d) <= 4 {
		return 0, true
	}
	i := 4
	for i < len(d) && d[i] >= '0' && d[i] <= '9' && i < 4+10 {
		i++
	}
	if i == len(d) {
		return 0, true
	}
	if i == 4 || d[i] != ':' {
		return 0, false
	}
	i++
	start := i
	for i < len(d) && i-start < 32 && isHex(d[i]) {
		i++
	}
	if i == len(d) {
		return 0, true
	}
	if i-start != 32 || d[i] != '/' {
		return 0, false
	}
	return i, true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// parseGIV parses the GIV line without its line end.
func parseGIV(line []byte) (giv, error) {
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	slash, ok := givPrefixOK(line)
	if !ok || slash == 0 {
		return giv{}, ErrGIV
	}
	colon := 4
	for line[colon] != ':' {
		colon++
	}
	idx, err := strconv.ParseUint(string(line[4:colon]), 10, 32)
	if err != nil {
		return giv{}, ErrGIV
	}
	var g giv
	g.index = uint32(idx)
	if _, err := hex.Decode(g.servent[:], line[colon+1:slash]); err != nil {
		return giv{}, ErrGIV
	}
	g.name = line[slash+1:]
	return g, nil
}
