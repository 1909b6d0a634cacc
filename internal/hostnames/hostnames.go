package hostnames

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
)

//go:embed services.txt
var defaultList string

// Entry is one service a name maps to.
type Entry struct {
	Service string
	Product string
}

// List maps host names to services.
type List struct {
	exact  map[string]Entry
	suffix map[string]Entry // "icq.com" for "*.icq.com"
}

var def = mustParse(defaultList)

func mustParse(s string) *List {
	l, err := Parse(strings.NewReader(s), "services.txt")
	if err != nil {
		panic(err)
	}
	return l
}

// Default returns the embedded list.
func Default() *List { return def }

// Parse reads a list in the services.txt format; name names the source in
// errors.
func Parse(r io.Reader, name string) (*List, error) {
	l := &List{exact: map[string]Entry{}, suffix: map[string]Entry{}}
	return l, l.add(r, name)
}

// Extend returns a list with the entries of r added to l's (r wins).
func (l *List) Extend(r io.Reader, name string) (*List, error) {
	n := &List{exact: map[string]Entry{}, suffix: map[string]Entry{}}
	for k, v := range l.exact {
		n.exact[k] = v
	}
	for k, v := range l.suffix {
		n.suffix[k] = v
	}
	return n, n.add(r, name)
}

func (l *List) add(r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		f := strings.Fields(text)
		if len(f) < 3 {
			return fmt.Errorf("hostnames: %s:%d: want <pattern> <service> <product>", name, line)
		}
		pat := strings.ToLower(strings.TrimSuffix(f[0], "."))
		e := Entry{Service: f[1], Product: strings.Join(f[2:], " ")}
		if d, ok := strings.CutPrefix(pat, "*."); ok {
			if d == "" || strings.Contains(d, "*") {
				return fmt.Errorf("hostnames: %s:%d: bad pattern %q", name, line, f[0])
			}
			l.suffix[d] = e
			continue
		}
		if strings.Contains(pat, "*") {
			return fmt.Errorf("hostnames: %s:%d: a * only at the start: %q", name, line, f[0])
		}
		l.exact[pat] = e
	}
	return sc.Err()
}

// Lookup returns the service of host (case-insensitive, trailing dot
// ignored): an exact entry, else the longest suffix entry. It does not
// allocate for names of up to 253 bytes.
func (l *List) Lookup(host string) (Entry, bool) {
	host = strings.TrimSuffix(host, ".")
	if len(host) == 0 || len(host) > 253 {
		return Entry{}, false
	}
	var buf [253]byte
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	name := buf[:len(host)]
	if e, ok := l.exact[string(name)]; ok {
		return e, true
	}
	for i := 0; i < len(name); i++ {
		if i == 0 || name[i-1] == '.' {
			if e, ok := l.suffix[string(name[i:])]; ok {
				return e, true
			}
		}
	}
	return Entry{}, false
}
