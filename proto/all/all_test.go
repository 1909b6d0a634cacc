package all

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/analyzer"
)

// TestAllUpToDate fails when all.go does not import exactly the protocol
// folders (those with a register.go): run go generate ./proto/all.
func TestAllUpToDate(t *testing.T) {
	ents, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join("..", e.Name(), "register.go")); e.IsDir() && e.Name() != "all" && err == nil {
			want = append(want, e.Name())
		}
	}
	src, err := os.ReadFile("all.go")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(string(src), "\n") {
		if i := strings.Index(line, `"github.com/peerwatch/peerwatch/proto/`); i >= 0 {
			got = append(got, strings.TrimSuffix(line[i+len(`"github.com/peerwatch/peerwatch/proto/`):], `"`))
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("all.go imports %v, folders are %v: run go generate ./proto/all", got, want)
	}
	if !strings.HasPrefix(string(src), "// Code generated") {
		t.Error("all.go lacks its generated-code header")
	}
}

// TestSpecNames checks that every registered protocol is named after its
// folder (or prefixed by it) and that its folder documents it.
func TestSpecNames(t *testing.T) {
	for _, s := range analyzer.All() {
		folder := s.Name
		if i := strings.IndexByte(folder, '_'); i > 0 {
			if _, err := os.Stat(filepath.Join("..", folder)); err != nil {
				folder = folder[:i]
			}
		}
		dir := filepath.Join("..", folder)
		for _, f := range []string{"doc.go", "README.md", "register.go"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s: %s missing in proto/%s", s.Name, f, folder)
			}
		}
		readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
		goldens, _ := filepath.Glob(filepath.Join(dir, "testdata", "*.golden.jsonl"))
		reported := map[string]bool{}
		for _, g := range goldens {
			b, _ := os.ReadFile(g)
			for _, line := range strings.Split(string(b), "\n") {
				var r struct {
					AppProto  string `json:"app_proto"`
					Peerwatch struct {
						Kind string `json:"kind"`
					} `json:"peerwatch"`
				}
				// Only this folder's records: a golden file may hold other
				// protocols' flows (an OSCAR rendezvous before an OFT transfer).
				if json.Unmarshal([]byte(line), &r) != nil || r.Peerwatch.Kind == "" || family(r.AppProto) != folder {
					continue
				}
				k := r.Peerwatch.Kind
				if !strings.Contains(string(readme), "`"+k+"`") && !reported[k] {
					reported[k] = true
					t.Errorf("proto/%s/README.md does not list event kind `%s` found in %s", folder, k, filepath.Base(g))
				}
			}
		}
		for _, sec := range []string{"## Detects", "## Events", "## Risks", "## Limitations", "## Test data", "## References"} {
			if !strings.Contains(string(readme), sec) {
				t.Errorf("proto/%s/README.md lacks section %q", folder, sec)
			}
		}
	}
}
