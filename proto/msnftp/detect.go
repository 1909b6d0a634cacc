package msnftp

import "github.com/peerwatch/peerwatch/classify"

// verLine starts both directions of an MSNFTP connection (msnp.md §4.1: the
// receiver sends it first, the sender answers with the same line).
const verLine = "VER MSNFTP"

// probeBytes bounds what the probe reads: the VER line with room for a
// version list after it.
const probeBytes = 64

// probe accepts a direction whose first line is "VER MSNFTP", alone or
// followed by more space-separated words, ended by LF (CR LF on the wire).
// It reads at most probeBytes and does not allocate.
func probe(in *classify.Input) classify.Result {
	d := in.Data[:min(len(in.Data), probeBytes)]
	for i := 0; i < len(verLine); i++ {
		if i == len(d) {
			return classify.NeedMore
		}
		if d[i] != verLine[i] {
			return classify.NoMatch
		}
	}
	for i := len(verLine); i < len(d); i++ {
		switch c := d[i]; {
		case c == '\n':
			return classify.Match
		case c == '\r':
			if i+1 < len(d) && d[i+1] != '\n' {
				return classify.NoMatch
			}
		case i == len(verLine) && c != ' ':
			return classify.NoMatch // "VER MSNFTPX" is another word
		case c < ' ' || c > '~':
			return classify.NoMatch
		}
	}
	if len(d) == probeBytes {
		return classify.NoMatch // no line end within the bound
	}
	return classify.NeedMore
}
