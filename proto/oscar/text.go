package oscar

import (
	"strings"
	"unicode/utf8"
)

// maxText bounds the message bytes decoded and stripped per message.
const maxText = 8 << 10

// ICBM charsets (aim-oscar.md §3.3, pidgin oscar.h AIM_CHARSET_*).
const (
	charsetASCII  = 0x0000
	charsetUCS2BE = 0x0002
	charsetLatin1 = 0x0003
)

// charsetName names an ICBM charset for MessageInfo.Charset.
func charsetName(cs uint16) string {
	switch cs {
	case charsetASCII:
		return "us-ascii"
	case charsetUCS2BE:
		return "utf-16be"
	case charsetLatin1:
		return "iso-8859-1"
	}
	return "unknown"
}

// decodeText turns message bytes into UTF-8: UCS-2BE for charset 2,
// Latin-1 for 3, and for ASCII (and unknown charsets) UTF-8 when valid,
// else Latin-1. At most maxText input bytes are read. Control characters
// other than tab and newline are dropped; invalid sequences never survive.
func decodeText(b []byte, cs uint16) string {
	b = b[:min(len(b), maxText)]
	var sb strings.Builder
	sb.Grow(len(b))
	put := func(r rune) {
		if r < 0x20 && r != '\t' && r != '\n' || r >= 0x7F && r < 0xA0 || r >= 0xD800 && r <= 0xDFFF {
			return
		}
		sb.WriteRune(r)
	}
	switch {
	case cs == charsetUCS2BE:
		for i := 0; i+1 < len(b); i += 2 {
			put(rune(b[i])<<8 | rune(b[i+1]))
		}
	case cs == charsetLatin1 || !utf8.Valid(b):
		for _, c := range b {
			put(rune(c))
		}
	default:
		for _, r := range string(b) {
			put(r)
		}
	}
	return sb.String()
}

// stripHTML removes tags and decodes the common entities of AIM's HTML
// (<HTML><BODY><FONT>...). It is one bounded pass: a tag runs to the next
// '>' (an unclosed '<' drops the rest), <br> becomes a newline.
func stripHTML(s string) string {
	if strings.IndexByte(s, '<') < 0 && strings.IndexByte(s, '&') < 0 {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return sb.String()
			}
			tag := strings.ToLower(strings.Trim(s[i+1:i+end], " /"))
			if tag == "br" {
				sb.WriteByte('\n')
			}
			i += end + 1
		case '&':
			n, r := entity(s[i:])
			if n == 0 {
				sb.WriteByte('&')
				i++
				continue
			}
			sb.WriteRune(r)
			i += n
		default:
			sb.WriteByte(s[i])
			i++
		}
	}
	return sb.String()
}

// entity decodes a named or decimal entity at the start of s; n is 0 when
// there is none.
func entity(s string) (n int, r rune) {
	for _, e := range [...]struct {
		name string
		r    rune
	}{{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}, {"&nbsp;", ' '}} {
		if len(s) >= len(e.name) && strings.EqualFold(s[:len(e.name)], e.name) {
			return len(e.name), e.r
		}
	}
	if len(s) > 3 && s[1] == '#' {
		v := 0
		for i := 2; i < len(s) && i < 10; i++ {
			c := s[i]
			switch {
			case c >= '0' && c <= '9':
				v = v*10 + int(c-'0')
			case c == ';' && i > 2 && v > 0 && v <= utf8.MaxRune && (v < 0xD800 || v > 0xDFFF):
				return i + 1, rune(v)
			default:
				return 0, 0
			}
		}
	}
	return 0, 0
}

// isUIN reports whether a screen name is an ICQ number (icq.md §2.1: 5 to
// 10 decimal digits).
func isUIN(s string) bool {
	if len(s) < 5 || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// roastKeys are the XOR tables of the channel-1 password (aim-oscar.md
// §2.2): the v2.1 table used by AIM and ICQ, then the older v1 table.
var roastKeys = [...][16]byte{
	{0xF3, 0x26, 0x81, 0xC4, 0x39, 0x86, 0xDB, 0x92, 0x71, 0xA3, 0xB9, 0xE6, 0x53, 0x7A, 0x95, 0x7C},
	{0xF3, 0xB3, 0x6C, 0x99, 0x95, 0x3F, 0xAC, 0xB6, 0xC5, 0xFA, 0x6B, 0x63, 0x69, 0x6C, 0xC3, 0x9F},
}

// maxPassword bounds a roasted password.
const maxPassword = 64

// unroast recovers a roasted password with the v2.1 table, or the v1 table
// when v2.1 does not give printable ASCII. ok is false when neither does.
func unroast(b []byte) (pw string, ok bool) {
	if len(b) == 0 || len(b) > maxPassword {
		return "", false
	}
	var buf [maxPassword]byte
	for _, k := range roastKeys {
		good := true
		for i, c := range b {
			buf[i] = c ^ k[i%16]
			good = good && buf[i] >= 0x20 && buf[i] < 0x7F
		}
		if good {
			return string(buf[:len(b)]), true
		}
	}
	return "", false
}

// printable returns b as a string of printable ASCII, or "" when it is not.
func printable(b []byte, max int) string {
	b = b[:min(len(b), max)]
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	for _, c := range b {
		if c < 0x20 || c >= 0x7F {
			return ""
		}
	}
	return string(b)
}
