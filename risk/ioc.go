package risk

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/peerwatch/peerwatch/event"
)

// ErrIOC wraps every error about an IOC list; messages say file:line.
var ErrIOC = errors.New("risk: bad ioc list")

// maxIOCLine bounds the bytes of one line of an IOC list.
const maxIOCLine = 4096

//go:embed ioc/default.txt
var defaultIOC string

// IOCEntry is one known-bad indicator: a file hash or a file name.
type IOCEntry struct {
	Type        string     // "md5", "sha1", "sha256" or "name"
	Value       string     // lower-case hex digest, or the name or glob as written
	Risk        event.Risk // event.RiskWorm or event.RiskMalwareCarrier
	Description string     // free text, may be empty
	Source      string     // file the entry came from
	Line        int        // 1-based line in Source
}

// IOC is a known-bad list: file hashes and file names that raise worm or
// malware_carrier findings. It is read-only after parsing and safe for
// concurrent use.
type IOC struct {
	hashes map[string]IOCEntry // "md5:<hex>" → entry
	names  map[string]IOCEntry // lower-case exact name → entry
	globs  []IOCEntry          // name entries with glob metacharacters, in file order
}

// Len returns the number of entries.
func (i *IOC) Len() int {
	if i == nil {
		return 0
	}
	return len(i.hashes) + len(i.names) + len(i.globs)
}

// DefaultIOC returns the list built into peerwatch (risk/ioc/default.txt):
// the EICAR test file's digests and the W32/Hello worm's file name.
func DefaultIOC() *IOC {
	i, err := ParseIOC("ioc/default.txt", strings.NewReader(defaultIOC))
	if err != nil {
		panic(err) // the embedded file is checked by tests
	}
	return i
}

// LoadIOC reads an IOC list from the file at path.
func LoadIOC(path string) (*IOC, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIOC, err)
	}
	defer f.Close()
	return ParseIOC(path, f)
}

// Merge returns a list holding the entries of i and o; o's entry wins
// where both list the same hash or exact name. Either may be nil.
func (i *IOC) Merge(o *IOC) *IOC {
	out := &IOC{hashes: map[string]IOCEntry{}, names: map[string]IOCEntry{}}
	for _, src := range []*IOC{i, o} {
		if src == nil {
			continue
		}
		for k, v := range src.hashes {
			out.hashes[k] = v
		}
		for k, v := range src.names {
			out.names[k] = v
		}
		out.globs = append(out.globs, src.globs...)
	}
	return out
}

// ParseIOC reads an IOC list (format in risk/README.md): one entry per
// line, "<type>:<value> <risk> [description]", where type is md5, sha1,
// sha256 or name and risk is worm or malware_carrier; blank lines and
// lines starting with # are ignored. name is the file (or source) name
// for error messages, which read "name:line: reason".
func ParseIOC(name string, r io.Reader) (*IOC, error) {
	i := &IOC{hashes: map[string]IOCEntry{}, names: map[string]IOCEntry{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxIOCLine)
	line := 0
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s:%d: %s", ErrIOC, name, line, fmt.Sprintf(format, a...))
	}
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 2 {
			return nil, fail("want \"<type>:<value> <risk> [description]\"")
		}
		typ, val, ok := strings.Cut(fields[0], ":")
		if !ok || val == "" {
			return nil, fail("indicator %q: want <type>:<value>", clip(fields[0]))
		}
		e := IOCEntry{Type: typ, Value: val, Risk: event.Risk(fields[1]), Source: name, Line: line}
		if e.Risk != event.RiskWorm && e.Risk != event.RiskMalwareCarrier {
			return nil, fail("risk %q: want worm or malware_carrier", clip(fields[1]))
		}
		if len(fields) > 2 {
			// The description is the rest of the line as written.
			rest := strings.TrimSpace(text[len(fields[0]):])
			e.Description = strings.TrimSpace(rest[len(fields[1]):])
		}
		switch typ {
		case "md5", "sha1", "sha256":
			want := map[string]int{"md5": 32, "sha1": 40, "sha256": 64}[typ]
			if len(val) != want || !isHex(val) {
				return nil, fail("%s value: want %d hex digits", typ, want)
			}
			e.Value = strings.ToLower(val)
			i.hashes[typ+":"+e.Value] = e
		case "name":
			if strings.ContainsAny(val, `/\`) {
				return nil, fail("name %q: a file name, not a path", clip(val))
			}
			low := strings.ToLower(val)
			if strings.ContainsAny(val, `*?[`) {
				if _, err := path.Match(low, ""); err != nil {
					return nil, fail("name %q: bad glob", clip(val))
				}
				i.globs = append(i.globs, e)
			} else {
				i.names[low] = e
			}
		default:
			return nil, fail("type %q: want md5, sha1, sha256 or name", clip(typ))
		}
	}
	if err := sc.Err(); err != nil {
		line++
		return nil, fail("%v", err)
	}
	return i, nil
}

// MatchHash returns the entry listing any of the given digests (lower- or
// upper-case hex; empty ones are skipped), trying SHA-256 first.
func (i *IOC) MatchHash(md5, sha1, sha256 string) (IOCEntry, bool) {
	if i == nil {
		return IOCEntry{}, false
	}
	for _, h := range [...][2]string{{"sha256", sha256}, {"sha1", sha1}, {"md5", md5}} {
		if h[1] == "" {
			continue
		}
		if e, ok := i.hashes[h[0]+":"+strings.ToLower(h[1])]; ok {
			return e, true
		}
	}
	return IOCEntry{}, false
}

// MatchName returns the entry matching a transferred file name,
// case-insensitively, on its last path component (either slash) with
// trailing dots and spaces removed as Windows removes them.
func (i *IOC) MatchName(name string) (IOCEntry, bool) {
	if i == nil || name == "" {
		return IOCEntry{}, false
	}
	base := baseName(name)
	if base == "" {
		return IOCEntry{}, false
	}
	if e, ok := i.names[base]; ok {
		return e, true
	}
	for _, g := range i.globs {
		if ok, _ := path.Match(strings.ToLower(g.Value), base); ok {
			return g, true
		}
	}
	return IOCEntry{}, false
}

// baseName is the lower-case last path component of name, cut at a NUL,
// without trailing dots and spaces.
func baseName(name string) string {
	if i := strings.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimRight(name, ". ")
	return strings.ToLower(name)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// clip bounds a value quoted in an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
