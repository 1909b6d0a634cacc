package risk

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/capture/pcapfile"
	"github.com/peerwatch/peerwatch/decode"
)

func TestFindCards(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"my card is 4111111111111111 ok", []string{"4111********1111"}},
		{"4111 1111 1111 1111", []string{"4111********1111"}},
		{"4111-1111-1111-1111.", []string{"4111********1111"}},
		{"amex 3782 822463 10005, thanks", []string{"3782*******0005"}},
		{"mc: 5500 0000 0000 0004", []string{"5500********0004"}},
		{"mc 2223000048400011", []string{"2223********0011"}},
		{"disc 6011111111111117 and visa 4012888888881881", []string{"6011********1117", "4012********1881"}},
		{"jcb (3530111333300000)", []string{"3530********0000"}},
		{"diners 3056 930902 5904", []string{"3056******5904"}},
		{"visa 4222222222222", []string{"4222*****2222"}},
		// Luhn fails.
		{"4111111111111112", nil},
		// Luhn passes but no issuer has that prefix or length.
		{"1234567812345670", nil},
		{"411111111111111", nil}, // Visa is 13, 16 or 19 digits
		// Part of longer digit runs, decimals, ids, URLs, versions.
		{"0000004111111111111111", nil},
		{"41111111111111110000000", nil},
		{"id=4111111111111111", nil},
		{"x4111111111111111", nil},
		{"4111111111111111x", nil},
		{"3.4111111111111111", nil},
		{"4111111111111111.5", nil},
		{"4111111111111111,25", nil},
		{"/4111111111111111/", nil},
		{"4111 1111 1111 1111 1111 1111", nil},
		{"4111-1111 1111-1111", nil},     // mixed separators
		{"41 11 11 11 11 11 11 11", nil}, // not a printed layout
		{"411 1111 1111 11111", nil},
		{"", nil},
		// A lone card-length group between spaces counts.
		{"4111111111111111 12 25", []string{"4111********1111"}},
		{"exp 12/25 4111111111111111", []string{"4111********1111"}},
		{"2 4111111111111111", []string{"4111********1111"}},
		{"12-4111111111111111", nil}, // dash-joined: one token
	} {
		got := FindCards(tc.in, 4)
		if !slices.Equal(got, tc.want) {
			t.Errorf("FindCards(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := FindCards(strings.Repeat("4111111111111111 ", 10), 4); len(got) != 4 {
		t.Errorf("max not applied: %d", len(got))
	}
}

func TestPhraseScan(t *testing.T) {
	p := DefaultPhrases()
	for _, tc := range []struct {
		in           string
		req, staff   []string // lang:id
		cards        int
		wantNoReqHit bool
	}{
		{in: "Hi!! What is your PASSWORD?", req: []string{"en:password/what_is_your_password"}},
		{in: "hey... what's your password", req: []string{"en:password/what_s_your_password"}},
		{in: "This is AOL Staff. Please verify your password to keep your account.",
			req: []string{"en:password/verify_your_password"}, staff: []string{"en:staff/aol_staff"}},
		{in: "Yahoo! Team: verify your credit card now", req: []string{"en:card/verify_your_credit_card"}, staff: []string{"en:staff/yahoo_team"}},
		{in: "MSN-Support: your credit card number please, 4111 1111 1111 1111", cards: 1,
			req: []string{"en:card/your_credit_card_number"}, staff: []string{"en:staff/msn_support"}},
		{in: "Wie lautet dein Passwort?", req: []string{"de:password/wie_lautet_dein_passwort"}},
		{in: "Bitte BESTÄTIGEN Sie Ihr Passwort", req: []string{"de:password/bestatigen_sie_ihr_passwort"}},
		{in: "Hier ist die Sicherheitsabteilung, nennen Sie uns Ihre Kreditkartennummer",
			req: []string{"de:card/ihre_kreditkartennummer"}, staff: []string{"de:staff/sicherheitsabteilung"}},
		{in: "Quel est votre mot de passe ?", req: []string{"fr:password/quel_est_votre_mot_de_passe"}},
		{in: "L'équipe MSN: vérifier votre mot de passe", req: []string{"fr:password/verifier_votre_mot_de_passe"},
			staff: []string{"es:staff/soporte_de_msn", "fr:staff/l_equipe_msn"}[1:]},
		{in: "donnez la date d’expiration de votre carte", req: []string{"fr:card/la_date_d_expiration_de_votre_carte"}},
		{in: "¿Cuál es tu contraseña?", req: []string{"es:password/cual_es_tu_contrasena"}},
		{in: "El equipo de MSN necesita su número de cuenta", req: []string{"es:account/su_numero_de_cuenta"},
			staff: []string{"es:staff/el_equipo_de_msn"}},
		{in: "CUAL ES SU CONTRASEÑA", req: []string{"es:password/cual_es_su_contrasena"}},
		{in: "cual es su contrase\u00f1a", req: []string{"es:password/cual_es_su_contrasena"}},
		{in: "cual es su contrasen\u0303a", req: []string{"es:password/cual_es_su_contrasena"}}, // decomposed ñ
		// Word boundaries: no match inside words.
		{in: "whatis your passwords", wantNoReqHit: true},
		{in: "your password", wantNoReqHit: true},
		{in: "I changed my password yesterday", wantNoReqHit: true},
	} {
		c := p.Scan(tc.in)
		got := func(h []PhraseHit) []string {
			var s []string
			for _, x := range h {
				s = append(s, x.String())
			}
			return s
		}
		if tc.wantNoReqHit {
			if len(c.Requests) != 0 {
				t.Errorf("Scan(%q) requests %v, want none", tc.in, got(c.Requests))
			}
			continue
		}
		if !slices.Equal(got(c.Requests), tc.req) || !slices.Equal(got(c.Staff), tc.staff) || len(c.Cards) != tc.cards {
			t.Errorf("Scan(%q) = req %v staff %v cards %v; want %v %v %d", tc.in, got(c.Requests), got(c.Staff), c.Cards, tc.req, tc.staff, tc.cards)
		}
	}
}

func TestPhraseFiles(t *testing.T) {
	count := map[string]int{}
	for _, ph := range DefaultPhrases().List() {
		if ph.Category != PhraseStaff {
			count[ph.Lang]++
		}
		if !snake.MatchString(strings.ReplaceAll(strings.TrimPrefix(ph.ID, ph.Category+"/"), "__", "_")) {
			t.Errorf("%s:%s: id is not snake_case", ph.Lang, ph.ID)
		}
	}
	for _, lang := range []string{"en", "de", "fr", "es"} {
		if count[lang] < 10 {
			t.Errorf("%s: %d request phrases, want at least 10", lang, count[lang])
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"password what is it\nvirus send me", "x:2: category \"virus\""},
		{"card ¡¿!", "x:1: empty phrase"},
		{"card a b c d e f g h i j k l m", "x:1: phrase of 13 words"},
		{"card Your Card\ncard your   card", "x:2: duplicate phrase card/your_card"},
	} {
		_, err := ParsePhrases("xx", "x", strings.NewReader(tc.in))
		if err == nil || !errors.Is(err, ErrPhrases) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParsePhrases(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
	p := filepath.Join(t.TempDir(), "pt.txt")
	if err := os.WriteFile(p, []byte("password\tqual é a sua senha\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ps, err := LoadPhrases(p)
	if err != nil {
		t.Fatal(err)
	}
	if c := ps.Scan("Qual é a sua senha?"); len(c.Requests) != 1 || c.Requests[0].String() != "pt:password/qual_e_a_sua_senha" {
		t.Errorf("loaded phrase: %+v", c)
	}
}

// sharedDir returns ../shared beside the module root, or skips.
func sharedDir(t testing.TB, sub ...string) string {
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(append([]string{filepath.Dir(file), "..", "..", "shared"}, sub...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not available (%s)", p)
	}
	return p
}

// corpusAllowed lists card-like numbers found in the corpus that are
// legitimately reported (masked number → file and reason). None so far.
var corpusAllowed = map[string]string{}

// TestContentCorpus runs the content rules over every printable run of 8
// or more bytes in the TCP and UDP payloads of the nDPI corpus: real
// traffic of hundreds of protocols, none of it a lure or a card number.
func TestContentCorpus(t *testing.T) {
	dir := sharedDir(t, "corpus", "ndpi")
	if testing.Short() {
		t.Skip("reads the whole corpus")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	ph := DefaultPhrases()
	var runs, bytes int
	for _, path := range files {
		r, err := pcapfile.Open(path)
		if err != nil {
			continue // not a capture (README) or unreadable: the capture package tests that
		}
		dec := decode.NewDecoder(decode.Config{})
		var pkt decode.Packet
		for {
			data, ci, err := r.ReadPacket()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Logf("%s: %v", filepath.Base(path), err)
				}
				break
			}
			if dec.Decode(ci.LinkType, data, ci.Length, ci.Timestamp, &pkt) != decode.OK {
				continue
			}
			for _, run := range printableRuns(pkt.Payload, 8) {
				runs++
				bytes += len(run)
				c := ph.Scan(run)
				for _, card := range c.Cards {
					if _, ok := corpusAllowed[card]; !ok {
						t.Errorf("%s: card-like number %s in %.80q", filepath.Base(path), card, run)
					}
				}
				if len(c.Requests) > 0 || len(c.Staff) > 0 && len(c.Requests) > 0 {
					t.Errorf("%s: phrases %v %v in %.120q", filepath.Base(path), c.Requests, c.Staff, run)
				}
			}
		}
		r.Close()
	}
	t.Logf("%d captures, %d printable runs, %d bytes scanned", len(files), runs, bytes)
	if runs == 0 {
		t.Error("no text scanned: the corpus reading is broken")
	}
}

// printableRuns returns the runs of at least min printable ASCII bytes
// (and tabs) of b.
func printableRuns(b []byte, min int) []string {
	var out []string
	start := -1
	for i := 0; i <= len(b); i++ {
		if i < len(b) && (b[i] >= 0x20 && b[i] < 0x7f || b[i] == '\t') {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= min {
			out = append(out, string(b[start:i]))
		}
		start = -1
	}
	return out
}

func FuzzScan(f *testing.F) {
	f.Add("This is AOL Staff, verify your password and card 4111 1111 1111 1111") // a full lure
	f.Add("¿Cuál es tu contraseña? 3782-822463-10005")                            // Spanish, Amex layout
	f.Add("4111111111111111\xff\xfe 5500-0000-0000-0004-")                        // invalid UTF-8 next to cards
	p := DefaultPhrases()
	f.Fuzz(func(t *testing.T, s string) {
		c := p.Scan(s)
		for _, card := range c.Cards {
			if len(card) < 13 || len(card) > 19 || strings.Count(card, "*") != len(card)-8 {
				t.Fatalf("bad mask %q", card)
			}
		}
		if len(c.Cards) > maxCards {
			t.Fatalf("%d cards", len(c.Cards))
		}
	})
}

func BenchmarkScan(b *testing.B) {
	p := DefaultPhrases()
	msg := strings.Repeat("Hey, are we still meeting at 10:30 tomorrow? Bring the 2 reports. ", 8) + "what is your password"
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		p.Scan(msg)
	}
}

func TestFindCardsAllocs(t *testing.T) {
	text := "order 12345 shipped 2002-04-01, call 555-0100 or ref 0000004111111111111111 v1.2.3"
	if n := testing.AllocsPerRun(100, func() { FindCards(text, maxCards) }); n != 0 {
		t.Errorf("FindCards without a card: %v allocs, want 0", n)
	}
}
