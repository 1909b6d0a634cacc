package risk

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrPhrases wraps every error about a phrase file; messages say file:line.
var ErrPhrases = errors.New("risk: bad phrase file")

// MaxScan bounds the bytes of one message the content rules read; longer
// messages are scanned up to MaxScan.
const MaxScan = 64 << 10

// maxPhraseWords bounds the words of one phrase.
const maxPhraseWords = 12

// maxCards bounds the card numbers reported for one message.
const maxCards = 4

// Phrase categories: what a phrase asks for, or whom it claims to be.
const (
	PhrasePassword = "password" // asks for a password or PIN
	PhraseAccount  = "account"  // asks for an account number or bank details
	PhraseCard     = "card"     // asks for card details
	PhraseStaff    = "staff"    // names a service's staff ("AOL staff", "MSN support")
)

//go:embed phrases/*.txt
var phraseFS embed.FS

// Phrase is one entry of a phrase list.
type Phrase struct {
	ID       string // category/words_joined_by_underscores, stable while the phrase is unchanged
	Lang     string // language code: the phrase file's base name
	Category string // one of the Phrase* categories
	Text     string // the folded phrase: lower case, no accents, single spaces
}

// Phrases is a set of phrase lists, indexed by first word. It is
// read-only after construction and safe for concurrent use.
type Phrases struct {
	list    []Phrase
	byFirst map[string][]int
}

// PhraseHit is a phrase found in a message: its id and language only,
// never the message's words.
type PhraseHit struct {
	ID, Lang, Category string
}

// String returns "lang:id".
func (h PhraseHit) String() string { return h.Lang + ":" + h.ID }

// Content is what the content rules found in one message.
type Content struct {
	Cards    []string    // masked card numbers, at most 4 ("4111********1111")
	Requests []PhraseHit // phrases asking for a password, account or card details
	Staff    []PhraseHit // phrases claiming to be a service's staff
}

// Empty reports whether nothing was found.
func (c Content) Empty() bool { return len(c.Cards) == 0 && len(c.Requests) == 0 && len(c.Staff) == 0 }

// DefaultPhrases returns the phrase lists built into peerwatch
// (risk/phrases/{en,de,fr,es}.txt).
func DefaultPhrases() *Phrases {
	p := &Phrases{byFirst: map[string][]int{}}
	files, _ := phraseFS.ReadDir("phrases")
	for _, f := range files {
		b, err := phraseFS.ReadFile("phrases/" + f.Name())
		if err == nil {
			err = p.add(strings.TrimSuffix(f.Name(), ".txt"), "phrases/"+f.Name(), strings.NewReader(string(b)))
		}
		if err != nil {
			panic(err) // the embedded files are checked by tests
		}
	}
	return p
}

// LoadPhrases reads phrase files; each file's base name without its
// extension is its language code ("pt.txt" holds Portuguese).
func LoadPhrases(paths ...string) (*Phrases, error) {
	p := &Phrases{byFirst: map[string][]int{}}
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPhrases, err)
		}
		lang := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		err = p.add(lang, path, f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// ParsePhrases reads one phrase file of language lang (format in
// risk/README.md): "<category> <phrase>" per line, # comments. name is
// used in error messages, which read "name:line: reason".
func ParsePhrases(lang, name string, r io.Reader) (*Phrases, error) {
	p := &Phrases{byFirst: map[string][]int{}}
	if err := p.add(lang, name, r); err != nil {
		return nil, err
	}
	return p, nil
}

// Len returns the number of phrases.
func (p *Phrases) Len() int {
	if p == nil {
		return 0
	}
	return len(p.list)
}

// List returns the phrases in load order.
func (p *Phrases) List() []Phrase {
	if p == nil {
		return nil
	}
	return append([]Phrase(nil), p.list...)
}

func (p *Phrases) add(lang, name string, r io.Reader) error {
	if lang == "" || strings.ContainsAny(lang, " :") {
		return fmt.Errorf("%w: %s: bad language code %q", ErrPhrases, name, clip(lang))
	}
	seen := map[string]bool{}
	for _, ph := range p.list {
		if ph.Lang == lang {
			seen[ph.ID] = true
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxIOCLine)
	line := 0
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s:%d: %s", ErrPhrases, name, line, fmt.Sprintf(format, a...))
	}
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		cat, rest, _ := strings.Cut(text, " ")
		if i := strings.IndexByte(cat, '\t'); i >= 0 {
			cat, rest = text[:i], text[i+1:]
		}
		switch cat {
		case PhrasePassword, PhraseAccount, PhraseCard, PhraseStaff:
		default:
			return fail("category %q: want password, account, card or staff", clip(cat))
		}
		folded := fold(rest)
		words := strings.Fields(folded)
		if len(words) == 0 {
			return fail("empty phrase")
		}
		if len(words) > maxPhraseWords {
			return fail("phrase of %d words: at most %d", len(words), maxPhraseWords)
		}
		ph := Phrase{ID: cat + "/" + strings.Join(words, "_"), Lang: lang, Category: cat, Text: strings.Join(words, " ")}
		if seen[ph.ID] {
			return fail("duplicate phrase %s", ph.ID)
		}
		seen[ph.ID] = true
		p.byFirst[words[0]] = append(p.byFirst[words[0]], len(p.list))
		p.list = append(p.list, ph)
	}
	if err := sc.Err(); err != nil {
		line++
		return fail("%v", err)
	}
	return nil
}

// Scan runs the content rules over one message's text: card numbers
// (whatever p is) and the phrases of p. It reads at most MaxScan bytes.
// Its cost is linear in the text for a given phrase set.
func (p *Phrases) Scan(text string) Content {
	if len(text) > MaxScan {
		text = text[:MaxScan]
	}
	var c Content
	c.Cards = FindCards(text, maxCards)
	if p == nil || len(p.list) == 0 {
		return c
	}
	norm := " " + fold(text) + " "
	found := map[int]bool{}
	for i := 1; i < len(norm); i++ {
		if norm[i-1] != ' ' || norm[i] == ' ' {
			continue
		}
		end := strings.IndexByte(norm[i:], ' ')
		for _, k := range p.byFirst[norm[i:i+end]] {
			ph := p.list[k]
			if found[k] || !strings.HasPrefix(norm[i:], ph.Text) || norm[i+len(ph.Text)] != ' ' {
				continue
			}
			found[k] = true
			hit := PhraseHit{ID: ph.ID, Lang: ph.Lang, Category: ph.Category}
			if ph.Category == PhraseStaff {
				c.Staff = append(c.Staff, hit)
			} else {
				c.Requests = append(c.Requests, hit)
			}
		}
	}
	sortHits(c.Staff)
	sortHits(c.Requests)
	return c
}

func sortHits(h []PhraseHit) {
	sort.Slice(h, func(i, j int) bool { return h[i].String() < h[j].String() })
}

// fold lower-cases s, removes the accents of Latin letters (é→e, ß→ss,
// æ→ae), turns every character that is not a letter or digit into a
// space and collapses runs of spaces. Invalid UTF-8 bytes are separators.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // suppress leading spaces
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if unicode.Is(unicode.Mn, r) {
			continue // a combining accent: dropped like a precomposed one's
		}
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		r = unicode.ToLower(r)
		if r < 0x80 {
			b.WriteByte(byte(r))
		} else if f, ok := accents[r]; ok {
			b.WriteString(f)
		} else {
			b.WriteRune(r)
		}
		space = false
	}
	return strings.TrimRight(b.String(), " ")
}

// accents maps lower-case accented Latin letters to their base letters.
var accents = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ð': "d", 'þ': "th", 'ł': "l", 'ı': "i"}
	for base, list := range map[string]string{
		"a": "àáâãäåāăą", "c": "çćĉċč", "e": "èéêëēĕėęě", "i": "ìíîïĩīĭį",
		"n": "ñńņňŉ", "o": "òóôõöōŏő", "u": "ùúûüũūŭůűų", "y": "ýÿŷ",
		"s": "śŝşš", "z": "źżž", "g": "ĝğġģ", "r": "ŕŗř", "d": "ď", "t": "ţť",
	} {
		for _, r := range list {
			m[r] = base
		}
	}
	return m
}()
