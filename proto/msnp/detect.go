package msnp

import (
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/flow"
)

// maxProbe bounds the bytes the probe reads: the first command line.
const maxProbe = 512

// probe accepts a direction whose first line is one of the three openings
// of an MSNP connection, argument shapes included:
//
//	VER <trid> MSNP<n>[ MSNP<n>...][ CVR<n>]   (notification server, either side)
//	USR <trid> <user@domain> <n.n.n>          (switchboard, caller)
//	ANS <trid> <user@domain> <n.n.n> <sessid> (switchboard, invitee)
//
// Mail and file-transfer lines starting with three letters fail the shapes.
// It is bounded by maxProbe and does not allocate.
func probe(in *classify.Input) classify.Result {
	data := in.Data[:min(len(in.Data), maxProbe)]
	l, ok, err := parseLine(data)
	switch {
	case err != nil:
		return classify.NoMatch
	case !ok && len(data) < maxProbe:
		return classify.NeedMore
	case !ok:
		return classify.NoMatch
	}
	if openingLine(&l, in.Dir == flow.Orig) {
		return classify.Match
	}
	return classify.NoMatch
}

// openingLine reports whether l is a valid first line; client says it was
// sent by the connection's originator.
func openingLine(l *line, client bool) bool {
	if l.nargs < 2 || !isNumber(l.arg(0)) {
		return false
	}
	switch {
	case l.is("VER"):
		msnp := 0
		for i := 1; i < l.nargs; i++ {
			a := l.arg(i)
			switch {
			case isMSNP(a):
				msnp++
			case len(a) > 3 && string(a[:3]) == "CVR" && isNumber(a[3:]):
			default:
				return false
			}
		}
		return msnp > 0
	case l.is("USR"):
		return client && l.nargs == 3 && isEmail(l.arg(1)) && isCookie(l.arg(2))
	case l.is("ANS"):
		return client && l.nargs == 4 && isEmail(l.arg(1)) && isCookie(l.arg(2)) && isNumber(l.arg(3))
	}
	return false
}
