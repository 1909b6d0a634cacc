package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/internal/golden"
)

// TestGolden renders the fixture's report as text and JSON, with and
// without what schema version 3 adds, and compares with the golden files.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		v3   bool
	}{{"v3", true}, {"v2", false}} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Load(t.Context(), buildDB(t, tc.v3), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var txt, js, sum bytes.Buffer
			if err := WriteText(&txt, r); err != nil {
				t.Fatal(err)
			}
			if err := WriteJSON(&js, r); err != nil {
				t.Fatal(err)
			}
			if err := WriteSummary(&sum, r); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "fixture-"+tc.name+".txt"), txt.Bytes())
			golden.Check(t, filepath.Join("testdata", "fixture-"+tc.name+".json"), js.Bytes())
			golden.Check(t, filepath.Join("testdata", "fixture-"+tc.name+".summary.txt"), sum.Bytes())
			for name, out := range map[string][]byte{"text": txt.Bytes(), "summary": sum.Bytes()} {
				for i, c := range string(out) {
					if c != '\n' && (unicode.Is(unicode.Cc, c) || unicode.Is(unicode.Cf, c)) {
						t.Fatalf("%s output has control or format character %U at byte %d", name, c, i)
					}
				}
			}
			if strings.Contains(js.String(), "sekrit") || strings.Contains(txt.String(), "sekrit") {
				t.Error("the stored secret appears in the report")
			}
		})
	}
}

// TestModel checks the facts the golden files hold, so that an -update
// cannot silently accept a wrong ranking or matrix.
func TestModel(t *testing.T) {
	r, err := Load(t.Context(), buildDB(t, true), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Matrix.Source != "risk_matrix" {
		t.Errorf("source %q", r.Matrix.Source)
	}
	var ranked []string
	for _, h := range r.Hosts {
		ranked = append(ranked, h.Addr)
	}
	// .20: 9+27+1+3 = 40; .21: 3+1 = 4; .22: 1. The remote peer is not ranked.
	if want := "192.168.1.20 192.168.1.21 192.168.1.22"; strings.Join(ranked, " ") != want {
		t.Errorf("ranking %v, want %s", ranked, want)
	}
	if r.Hosts[0].Score != 40 || r.Hosts[0].Worst != "critical" {
		t.Errorf("host 1: score %d worst %s", r.Hosts[0].Score, r.Hosts[0].Worst)
	}
	apps := map[string]AppRow{}
	for _, a := range r.Matrix.Apps {
		apps[a.Service] = a
	}
	aim := apps["aim"]
	if aim.Paper != "AIM" || aim.Cells[event.RiskUnencrypted].Count != 3 || aim.Cells[event.RiskUnencrypted].Alerts != 0 {
		t.Errorf("aim row %+v", aim)
	}
	// The paper lists exploit, social engineering and copyright for AIM; not seen here.
	if got := risksText(aim.Unseen); got != "exploit, social_engineering, copyright_bandwidth" {
		t.Errorf("aim unseen %s", got)
	}
	if got := risksText(apps["msn"].Beyond); got != "none" {
		t.Errorf("msn beyond %s (evasion and im_use are not paper columns)", got)
	}
	if g := apps["gnutella"].Cells[event.RiskP2PUse]; g.Count != 1 {
		t.Errorf("the non-home peer's cell must count in the application row: %+v", g)
	}
	inv := r.Hosts[0].Apps // aim, and msn through the HTTP gateway
	if len(inv) != 2 || inv[1].Service != "msn" || inv[1].Category != "carrier" || inv[0].Service != "aim" || strings.Join(inv[0].Users, ",") != "alice" ||
		strings.Join(inv[0].Ports, ",") != "out tcp/5190" || len(inv[0].Clients) != 1 {
		t.Errorf("inventory of .20 aim: %+v", inv)
	}
	msn := r.Hosts[1].Apps[0]
	if len(msn.Proxies) != 1 || msn.Proxies[0] != "socks 203.0.113.5:1081 -> messenger.hotmail.com:1863" {
		t.Errorf("msn proxies %v", msn.Proxies)
	}
	if gn := r.Hosts[2].Apps[0]; strings.Join(gn.Ports, ",") != "in tcp/6346" {
		t.Errorf("gnutella ports %v (a servent serves, so the port is incoming)", gn.Ports)
	}
	if len(r.Findings) != 4 || r.Findings[0].Risk != event.RiskMalwareCarrier || r.Findings[0].Severity != "critical" {
		t.Fatalf("findings %+v", r.Findings)
	}
	f := r.Findings[0]
	if f.Flow == nil || f.Flow.AppProto != "oscar" || len(f.Files) != 1 || !strings.Contains(f.Files[0], "executable") ||
		f.UserPeer != evilName || f.Host != "192.168.1.20" {
		t.Errorf("evidence of the top finding: %+v %+v", f, f.Flow)
	}
	hows := map[string]bool{}
	for _, e := range r.Evasions {
		hows[e.How] = true
	}
	if !hows[event.ViaProxy] || !hows[event.HTTPTunnel] || !hows[event.OtherPort] || len(r.Evasions) != 3 {
		t.Errorf("evasions %+v", r.Evasions)
	}
	if len(r.Credentials) != 1 || r.Credentials[0].Masked != "s*****t" || r.Credentials[0].Class != "reversible" {
		t.Errorf("credentials %+v", r.Credentials)
	}
	if len(r.Files) != 2 || r.Files[0].Type != "executable" || r.Files[1].Host != "192.168.1.22" {
		t.Errorf("files %+v", r.Files)
	}
	var total int64
	for _, b := range r.Activity {
		total += b.Flows
	}
	if total != 5 {
		t.Errorf("activity counts %d flows, want 5", total)
	}
}

// TestFallback reads a version 2 database: the matrix comes from the
// alerts and the evasions from the proxy and carrier columns.
func TestFallback(t *testing.T) {
	r, err := Load(t.Context(), buildDB(t, false), Options{Top: 2, MaxRows: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Matrix.Source != "alerts" || len(r.Findings) != 2 || len(r.Files) != 1 || len(r.Evasions) != 1 {
		t.Errorf("source %s, %d findings, %d files, %d evasions", r.Matrix.Source, len(r.Findings), len(r.Files), len(r.Evasions))
	}
	if c := r.Hosts[0].Cells[event.RiskMalwareCarrier]; c.Count != 1 || c.Worst != "critical" {
		t.Errorf("malware cell from alerts: %+v", c)
	}
	notes := strings.Join(r.Notes, "\n")
	for _, want := range []string{"no risk_matrix rows", "no evasion column", "files: only the first 1"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

// TestLoadErrors checks the errors for a missing database, a file that is
// not one, and a run that does not exist.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("not a database, just text"), 0o644)
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o644)
	for _, tc := range []struct {
		name, path string
		opts       Options
		want       error
	}{
		{"missing", filepath.Join(dir, "nope.db"), Options{}, ErrNoDatabase},
		{"empty path", "", Options{}, ErrNoDatabase},
		{"not sqlite", junk, Options{}, ErrSchema},
		{"no tables", empty, Options{}, ErrSchema},
		{"no such run", buildDB(t, false), Options{RunID: 7}, ErrNoRun},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(t.Context(), tc.path, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}
}

// TestJSONStable checks the JSON keys against the documented schema: every
// top-level key of the output is described in README.md.
func TestJSONStable(t *testing.T) {
	r, err := Load(t.Context(), buildDB(t, true), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	WriteJSON(&js, r)
	var m map[string]any
	if err := json.Unmarshal(js.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if m["schema"] != SchemaID || !strings.Contains(string(readme), SchemaID) {
		t.Errorf("schema id %v not documented", m["schema"])
	}
	for k := range m {
		if !strings.Contains(string(readme), "`"+k+"`") {
			t.Errorf("top-level key %q is not documented in README.md", k)
		}
	}
}

// TestClean covers the sanitiser's cases.
func TestClean(t *testing.T) {
	long := strings.Repeat("a", 300)
	for _, tc := range []struct{ in, want string }{
		{"alice", "alice"},
		{"", ""},
		{"\x1b[31mred\x1b[0m", "[31mred[0m"},
		{"a\tb\nc\rd", "a b c d"},
		{"bell\x07\x00nul\x7f", "bellnul"},
		{"c1\u0085\u009bx", "c1x"},
		{"gpj.\u202eexe", "gpj.exe"},
		{"zero\u200bwidth\u2028sep", "zerowidthsep"},
		{"bad\xffutf8", "bad\ufffdutf8"},
		{"Grüße 日本", "Grüße 日本"},
		{long, strings.Repeat("a", 256) + "…"},
		{strings.Repeat("a", 256), strings.Repeat("a", 256)},
	} {
		if got := Clean(tc.in); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Clean("plain screen name") }); n != 0 {
		t.Errorf("Clean of clean text allocates %v times", n)
	}
}

// FuzzClean checks that Clean's output is valid UTF-8, bounded and free of
// anything that steers a terminal, and that cleaning is idempotent.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"alice", evilName, evilFile, evilClient, "\x1b]52;c;Zm9v\x07", "a\u202eb", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Clean(s)
		if !utf8.ValidString(c) {
			t.Fatalf("invalid UTF-8 %q", c)
		}
		if utf8.RuneCountInString(c) > maxField+1 {
			t.Fatalf("too long: %d runes", utf8.RuneCountInString(c))
		}
		for _, r := range c {
			if strip(r) {
				t.Fatalf("kept %U", r)
			}
		}
		if utf8.RuneCountInString(c) <= maxField && Clean(c) != c {
			t.Fatalf("not idempotent: %q -> %q", c, Clean(c))
		}
	})
}

// BenchmarkClean measures the sanitiser on clean and hostile names.
func BenchmarkClean(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Clean("alice@hotmail.com")
		Clean(evilClient)
	}
}
