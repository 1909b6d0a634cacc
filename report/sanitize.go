package report

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxField is the most runes Clean keeps of one value: a screen name or a
// file name longer than this is a payload, not a name.
const maxField = 256

// Clean returns s fit for a terminal line: invalid UTF-8 becomes U+FFFD;
// control characters (C0, C1, DEL), format characters (bidirectional
// overrides, zero-width joiners) and line or paragraph separators are
// removed, except that tabs, newlines and carriage returns become a space;
// the result is cut to 256 runes, ending in "…" when cut. Screen names,
// message text and file names are attacker-controlled, and an escape
// sequence in one could rewrite the operator's screen.
func Clean(s string) string {
	clean := true
	for i, n := 0, 0; i < len(s); n++ {
		r, w := utf8.DecodeRuneInString(s[i:])
		if n >= maxField || (r == utf8.RuneError && w <= 1) || strip(r) {
			clean = false
			break
		}
		i += w
	}
	if clean {
		return s // the common case allocates nothing
	}
	var b strings.Builder
	b.Grow(min(len(s), 4*maxField))
	n := 0
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		case r == utf8.RuneError && w <= 1:
			r = utf8.RuneError
		case strip(r):
			continue
		}
		if n == maxField {
			b.WriteRune('…')
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// strip reports whether r is removed from terminal output.
func strip(r rune) bool {
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) ||
		unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r)
}
