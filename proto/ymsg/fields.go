package ymsg

import "bytes"

// The payload is a list of key/value items, each followed by the two-byte
// separator C0 80: key C0 80 value C0 80 ... (ymsg.md §1; gaim 0.75
// yahoo_packet_read). Keys are ASCII decimal; values are bytes.
const (
	sep       = "\xC0\x80"
	maxKeyLen = 6    // the highest keys seen are four digits; six leaves room
	longField = 2048 // a value this long is flagged (ymsg.md §7, CVE-2004-0007)
)

// field is one key/value pair. val aliases the payload.
type field struct {
	key int
	val []byte
}

// fieldIter walks a payload's key/value pairs without allocating.
type fieldIter struct {
	b []byte
}

// next returns the next pair. ok is false at the end of the list (or on an
// error). A last value without its trailing separator is accepted, as
// gaim reads it; a key that is not 1-6 decimal digits, or a list that ends
// after a key, is an error.
func (it *fieldIter) next() (f field, ok bool, err error) {
	if len(it.b) == 0 {
		return f, false, nil
	}
	k := bytes.Index(it.b, []byte(sep))
	if k < 0 {
		// A partial key, possibly ending in the separator's first byte.
		if p := bytes.TrimSuffix(it.b, []byte(sep[:1])); len(p) > maxKeyLen || !digits(p) {
			return f, false, ErrKey
		}
		return f, false, ErrTruncated
	}
	if k == 0 || k > maxKeyLen || !digits(it.b[:k]) {
		return f, false, ErrKey
	}
	for _, c := range it.b[:k] {
		f.key = f.key*10 + int(c-'0')
	}
	rest := it.b[k+len(sep):]
	v := bytes.Index(rest, []byte(sep))
	if v < 0 {
		f.val, it.b = rest, nil
		return f, true, nil
	}
	f.val, it.b = rest[:v], rest[v+len(sep):]
	return f, true, nil
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseFields appends the payload's pairs to dst and returns it; on an error
// it returns the pairs read before it.
func parseFields(payload []byte, dst []field) ([]field, error) {
	it := fieldIter{b: payload}
	for {
		f, ok, err := it.next()
		if err != nil {
			return dst, err
		}
		if !ok {
			return dst, nil
		}
		dst = append(dst, f)
	}
}

// checkFields validates a payload prefix for the probe: every complete
// key is 1-6 digits, and a trailing partial key (no separator yet) is
// digits and short enough to still become one. It does not allocate.
func checkFields(b []byte) bool {
	for len(b) > 0 {
		k := bytes.Index(b, []byte(sep))
		if k < 0 {
			// A partial key, possibly ending in the separator's first byte.
			p := bytes.TrimSuffix(b, []byte(sep[:1]))
			return len(p) <= maxKeyLen && digits(p)
		}
		if k == 0 || k > maxKeyLen || !digits(b[:k]) {
			return false
		}
		b = b[k+len(sep):]
		v := bytes.Index(b, []byte(sep))
		if v < 0 {
			return true // inside a value: anything goes
		}
		b = b[v+len(sep):]
	}
	return true
}

// fieldSet is a PDU's pairs with lookups by key.
type fieldSet []field

// get returns the first value of key.
func (fs fieldSet) get(key int) ([]byte, bool) {
	for _, f := range fs {
		if f.key == key {
			return f.val, true
		}
	}
	return nil, false
}

// str returns the first value of key as printable text, bounded.
func (fs fieldSet) str(key int) string {
	v, _ := fs.get(key)
	return printable(v, 128)
}

// count returns how many pairs have key.
func (fs fieldSet) count(key int) int {
	n := 0
	for _, f := range fs {
		if f.key == key {
			n++
		}
	}
	return n
}

// groups splits the pairs into records: a key repeated within the current
// record starts a new one. Offline messages (4, 14, 15 repeated) and buddy
// lists (7, 10 repeated) are lists of such records (ymsg.md §4).
func (fs fieldSet) groups(yield func(fieldSet)) {
	start := 0
	for i := range fs {
		for j := start; j < i; j++ {
			if fs[j].key == fs[i].key {
				yield(fs[start:i])
				start = i
				break
			}
		}
	}
	if start < len(fs) {
		yield(fs[start:])
	}
}

// maxText bounds the decoded text of one message (bytes of input read).
const maxText = 8192

// decode turns a value into UTF-8: as UTF-8 when the sender said so (field
// 97 = 1) and it is valid, else as Latin-1, the code page of most 2002
// clients. Control characters are dropped; at most limit input bytes are read.
func decode(b []byte, utf bool, limit int) string {
	b = b[:min(len(b), limit)]
	var out []rune
	if utf && validUTF8(b) {
		for _, r := range string(b) {
			if r >= 0x20 && r != 0x7f || r == '\n' || r == '\t' {
				out = append(out, r)
			}
		}
		return string(out)
	}
	for _, c := range b {
		if c >= 0x20 && c != 0x7f && (c < 0x80 || c >= 0xa0) || c == '\n' || c == '\t' {
			out = append(out, rune(c))
		}
	}
	return string(out)
}

func validUTF8(b []byte) bool {
	for _, r := range string(b) {
		if r == 0xFFFD {
			return false
		}
	}
	return true
}

// printable decodes a name-like value (ids, rooms, file names) on one line.
func printable(b []byte, limit int) string {
	s := decode(b, true, limit)
	if bytes.ContainsAny([]byte(s), "\n\t") {
		s = string(bytes.Map(func(r rune) rune {
			if r == '\n' || r == '\t' {
				return ' '
			}
			return r
		}, []byte(s)))
	}
	return s
}

// stripMarkup removes the formatting Yahoo clients put in message text
// (ymsg.md §4): ANSI-like escapes "ESC[...m" (colours, bold) and the
// <font ...>, <fade ...> and <alt ...> tags with their closing forms.
func stripMarkup(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		if b[i] == 0x1b && i+1 < len(b) && b[i+1] == '[' {
			j := bytes.IndexByte(b[i:min(len(b), i+32)], 'm')
			if j > 0 {
				i += j + 1
				continue
			}
		}
		if b[i] == '<' {
			if j := markupTag(b[i:]); j > 0 {
				i += j
				continue
			}
		}
		out = append(out, b[i])
		i++
	}
	return out
}

// markupTag returns the length of a formatting tag at the start of b, or 0.
func markupTag(b []byte) int {
	end := bytes.IndexByte(b[:min(len(b), 256)], '>')
	if end < 0 {
		return 0
	}
	name := bytes.ToLower(bytes.TrimPrefix(b[1:end], []byte("/")))
	if sp := bytes.IndexAny(name, " \t"); sp >= 0 {
		name = name[:sp]
	}
	switch string(name) {
	case "font", "fade", "alt", "b", "i", "u":
		return end + 1
	}
	return 0
}
