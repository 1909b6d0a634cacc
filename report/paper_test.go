package report

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/event"
)

// errPaper is returned by parsePaper for a table it cannot read.
var errPaper = errors.New("report: bad paper table")

// maxPaperRows bounds the rows parsePaper reads.
const maxPaperRows = 64

// parsePaper reads the matrix table of specs/threat-matrix-2002.md: a
// Markdown table whose first heading is "client", one column per paper
// risk (named as in PaperColumns), cells "X" or empty.
func parsePaper(md string) ([]PaperRow, error) {
	lines := strings.Split(md, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "| client |") {
			start = i
			break
		}
	}
	if start < 0 || start+1 >= len(lines) {
		return nil, errPaper
	}
	cells := func(l string) []string {
		l = strings.TrimSpace(l)
		l = strings.TrimSuffix(strings.TrimPrefix(l, "|"), "|")
		out := strings.Split(l, "|")
		for i := range out {
			out[i] = strings.TrimSpace(out[i])
		}
		return out
	}
	head := cells(lines[start])
	cols := make([]event.Risk, len(head))
	for i, h := range head[1:] {
		j := slices.IndexFunc(PaperColumns, func(c PaperColumn) bool { return c.Title == h })
		if j < 0 {
			return nil, errPaper
		}
		cols[i+1] = PaperColumns[j].Risk
	}
	var rows []PaperRow
	for _, l := range lines[start+2:] {
		if !strings.HasPrefix(strings.TrimSpace(l), "|") {
			break
		}
		c := cells(l)
		if len(c) != len(head) || c[0] == "" || len(rows) == maxPaperRows {
			return nil, errPaper
		}
		row := PaperRow{Client: c[0], Risks: []event.Risk{}}
		for i, v := range c[1:] {
			switch v {
			case "X":
				row.Risks = append(row.Risks, cols[i+1])
			case "":
			default:
				return nil, errPaper
			}
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, errPaper
	}
	return rows, nil
}

// shared returns ../shared/<sub> beside the repository, or skips the
// test when it is absent. (internal/pcaptest has the same helper but pulls
// in the whole pipeline.)
func shared(t testing.TB, sub ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{"..", "..", "shared"}, sub...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not available (%s): run beside ../shared", p)
	}
	return p
}

// TestPaperSpec checks the Go table against the spec in ../shared.
func TestPaperSpec(t *testing.T) {
	dir := shared(t, "specs")
	md, err := os.ReadFile(filepath.Join(dir, "threat-matrix-2002.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := parsePaper(string(md))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(Paper) {
		t.Fatalf("spec has %d clients, Paper %d", len(rows), len(Paper))
	}
	for i, r := range rows {
		p := Paper[i]
		if r.Client != p.Client || !slices.Equal(r.Risks, p.Risks) {
			t.Errorf("row %d: spec %s %v, Paper %s %v", i, r.Client, r.Risks, p.Client, p.Risks)
		}
	}
	// The column order of Paper rows follows event.Risks.
	for _, p := range Paper {
		if !slices.IsSortedFunc(p.Risks, func(a, b event.Risk) int {
			return slices.Index(event.Risks, a) - slices.Index(event.Risks, b)
		}) {
			t.Errorf("%s: risks out of column order", p.Client)
		}
	}
}

// TestParsePaper covers the parser's refusals.
func TestParsePaper(t *testing.T) {
	const head = "| client | Unencrypted | Spyware |\n|---|---|---|\n"
	for _, tc := range []struct {
		name, md string
		ok       bool
	}{
		{"good", head + "| AIM | X | |\n| KaZaA | X | X |\n", true},
		{"no table", "# nothing\n", false},
		{"no rows", head, false},
		{"unknown column", "| client | Telepathy |\n|---|---|\n| AIM | X |\n", false},
		{"short row", head + "| AIM | X |\n", false},
		{"bad mark", head + "| AIM | yes | |\n", false},
		{"header only", "| client |", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parsePaper(tc.md)
			if (err == nil) != tc.ok {
				t.Errorf("err %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// FuzzParsePaper checks the parser never panics and keeps its bounds.
func FuzzParsePaper(f *testing.F) {
	f.Add("| client | Unencrypted | Spyware |\n|---|---|---|\n| AIM | X | |\n")
	f.Add("| client |\n|\n|")
	if md, err := os.ReadFile(filepath.Join("..", "..", "shared", "specs", "threat-matrix-2002.md")); err == nil {
		f.Add(string(md))
	}
	f.Fuzz(func(t *testing.T, md string) {
		rows, err := parsePaper(md)
		if err == nil && (len(rows) == 0 || len(rows) > maxPaperRows) {
			t.Fatalf("%d rows without error", len(rows))
		}
	})
}
