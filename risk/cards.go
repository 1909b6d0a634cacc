package risk

// Payment card numbers in message text.
//
// A candidate is a run of 13 to 19 digits, written either without
// separators or in the groups cards are printed in (4-4-4-4, 4-4-4-4-3,
// 4-6-5, 4-6-4, and 4-4-4-x) with one kind of separator (a space or a
// dash). The run must stand alone: no letter, digit or number-like
// punctuation right before or after it, so a 25-digit id, a decimal
// fraction, a version string or a URL parameter never yields a card from
// its middle. A candidate is reported when it passes the Luhn check and
// starts with an issuer prefix (IIN) whose length it has (Visa, Mastercard,
// American Express, Discover, Diners Club, JCB, UnionPay).

// FindCards returns up to max masked card numbers found in text, in order:
// the first and last four digits kept, the others replaced by '*'.
func FindCards(text string, max int) []string {
	var out []string
	for i := 0; i < len(text) && len(out) < max; {
		if !isDigit(text[i]) {
			i++
			continue
		}
		var before byte
		if i > 1 {
			before = text[i-2]
		}
		if i > 0 && !cardBoundary(text[i-1], before) {
			for i < len(text) && isDigit(text[i]) {
				i++ // digits glued to a word or a number: skip them
			}
			continue
		}
		// The run: digit groups joined by one kind of separator.
		var groups [8][2]int // start and end offsets in text
		ng, n := 0, 0
		var sep byte
		j := i
		for {
			k := j
			for k < len(text) && isDigit(text[k]) {
				k++
			}
			if ng < len(groups) {
				groups[ng] = [2]int{j, k}
			}
			ng++
			n += k - j
			j = k
			if j+1 < len(text) && (text[j] == ' ' || text[j] == '-') && isDigit(text[j+1]) && (sep == 0 || sep == text[j]) {
				sep = text[j]
				j++
				continue
			}
			break
		}
		var beyond byte
		if j+1 < len(text) {
			beyond = text[j+1]
		}
		if j == len(text) || cardBoundary(text[j], beyond) {
			var lens [8]int
			for g := 0; g < ng && g < len(groups); g++ {
				lens[g] = groups[g][1] - groups[g][0]
			}
			switch {
			case ng <= len(groups) && n >= 13 && n <= 19 && (sep == 0 || cardGroups(lens[:ng], n)):
				if d, ok := cardDigits(text, groups[:ng]); ok {
					out = append(out, d)
				}
			case sep == ' ':
				// Not one printed number: a lone group of card length
				// between spaces still counts ("4111111111111111 12 25").
				for g := 0; g < ng && g < len(groups) && len(out) < max; g++ {
					if l := lens[g]; l >= 13 && l <= 19 {
						if d, ok := cardDigits(text, groups[g:g+1]); ok {
							out = append(out, d)
						}
					}
				}
			}
		}
		i = j
	}
	return out
}

// cardDigits checks the digits of the groups (13 to 19 in all) and
// returns them masked.
func cardDigits(text string, groups [][2]int) (string, bool) {
	var buf [19]byte
	d := buf[:0]
	for _, g := range groups {
		d = append(d, text[g[0]:g[1]]...)
	}
	if !luhn(d) || !issuer(d) {
		return "", false
	}
	return maskCard(d), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' || c >= 0x80 }

// cardBoundary reports whether byte c may stand next to a card number;
// beyond is the byte on c's other side, away from the number (0 if none).
// Number-like punctuation (".5", ",5", "_", "/", "=", "%", "+", "#", "@",
// ":", "&") makes the digits part of something else.
func cardBoundary(c, beyond byte) bool {
	if isAlnum(c) {
		return false
	}
	switch c {
	case '_', '/', '\\', '=', '%', '+', '#', '@', '&', ':', '$', '^', '~', '|', '*':
		return false
	case '.', ',', '-':
		return !isDigit(beyond) // "…1234." ends a sentence; "…1234.5" does not
	}
	return true
}

// cardGroups reports whether separated groups follow a printed card layout.
func cardGroups(g []int, n int) bool {
	switch {
	case len(g) == 3 && g[0] == 4 && g[1] == 6 && (g[2] == 5 || g[2] == 4):
		return true // American Express, Diners Club 14
	case len(g) >= 4 && len(g) <= 5:
		for k, v := range g {
			if k < len(g)-1 && v != 4 || k == len(g)-1 && (v < 1 || v > 4) {
				return false
			}
		}
		return n >= 13
	}
	return false
}

// luhn reports whether the digits pass the Luhn (mod 10) check.
func luhn(d []byte) bool {
	sum := 0
	for k := 0; k < len(d); k++ {
		v := int(d[len(d)-1-k] - '0')
		if k%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

// prefixNum returns the number formed by the first k digits.
func prefixNum(d []byte, k int) int {
	v := 0
	for i := 0; i < k && i < len(d); i++ {
		v = v*10 + int(d[i]-'0')
	}
	return v
}

// issuer reports whether the digits start with a known IIN range and have
// a length that range issues (ISO/IEC 7812 ranges as the networks publish
// them).
func issuer(d []byte) bool {
	n := len(d)
	p1, p2, p3, p4, p6 := prefixNum(d, 1), prefixNum(d, 2), prefixNum(d, 3), prefixNum(d, 4), prefixNum(d, 6)
	in := func(v, lo, hi int) bool { return lo <= v && v <= hi }
	switch {
	case p1 == 4: // Visa
		return n == 13 || n == 16 || n == 19
	case in(p2, 51, 55), in(p4, 2221, 2720): // Mastercard
		return n == 16
	case p2 == 34, p2 == 37: // American Express
		return n == 15
	case p4 == 6011, in(p3, 644, 649), p2 == 65, in(p6, 622126, 622925): // Discover
		return n >= 16
	case in(p4, 3528, 3589): // JCB
		return n >= 16
	case p2 == 36, in(p3, 300, 305), p2 == 38, p2 == 39: // Diners Club
		return n >= 14
	case p2 == 62: // UnionPay
		return n >= 16
	}
	return false
}

// maskCard keeps the first and last four digits.
func maskCard(d []byte) string {
	b := make([]byte, len(d))
	for i := range d {
		if i < 4 || i >= len(d)-4 {
			b[i] = d[i]
		} else {
			b[i] = '*'
		}
	}
	return string(b)
}
