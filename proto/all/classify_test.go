package all

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/analyzer"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// claim returns what a flow record claims as IM, P2P or tunnel: the folder
// of its analyzer (and of the carrier it came through, if that is a
// tunnel), or, for a flow no analyzer parsed, "service:<name>" from a
// hostname label.
func claim(r *event.Record) []string {
	var out []string
	for _, name := range []string{r.AppProto, r.AppProtoOrig} {
		if name == "" {
			continue
		}
		if s, ok := analyzer.Lookup(name); ok && s.IsClaim() {
			out = append(out, family(name))
		}
	}
	if r.AppProto == "" && r.PW != nil && r.PW.Service != "" && r.PW.Confidence != "port" {
		out = append(out, "service:"+r.PW.Service)
	}
	return out
}

// family maps a Spec name to its folder: "oscar_oft" → "oscar".
func family(name string) string {
	if _, err := os.Stat(filepath.Join("..", name)); err == nil {
		return name
	}
	if i := strings.IndexByte(name, '_'); i > 0 {
		return name[:i]
	}
	return name
}

// allowedIn reports whether claim c is allowed by a list of protocol
// folders: a service claim is allowed when a listed folder's analyzer
// declares that service.
func allowedIn(allowed []string, c string) bool {
	svc, isSvc := strings.CutPrefix(c, "service:")
	for _, a := range allowed {
		if a == c {
			return true
		}
		if isSvc {
			for _, s := range analyzer.All() {
				if family(s.Name) == a && s.Service == svc {
					return true
				}
			}
		}
	}
	return false
}

func isCapture(name string) bool {
	n := strings.TrimSuffix(strings.ToLower(name), ".gz")
	for _, ext := range []string{".pcap", ".pcapng", ".cap"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

// claimsIn runs one capture and counts claimed families over its flows.
func claimsIn(t *testing.T, path string) map[string]int {
	c, _ := labelsIn(path)
	return c
}

// labelsIn runs one capture and counts, over its flows, the claimed
// families and every app_proto (carriers included).
func labelsIn(path string) (claims, protos map[string]int) {
	recs, _, _ := pcaptest.Analyze([]string{path}, pcaptest.Options{})
	out := map[string]int{}
	protos = map[string]int{}
	for i := range recs {
		if recs[i].Type != event.TypeFlow || recs[i].PW == nil || recs[i].PW.Interim {
			continue
		}
		if p, o := recs[i].AppProto, recs[i].AppProtoOrig; p != "" || o != "" {
			if p == "" {
				p = "?"
			}
			if o != "" {
				p = o + ">" + p
			}
			protos[p]++
		}
		seen := map[string]bool{}
		for _, c := range claim(&recs[i]) {
			if !seen[c] {
				out[c]++
				seen[c] = true
			}
		}
	}
	return out, protos
}

// readClaims reads a claims file: "<file name> <protocol> [<protocol>...]"
// per line, '#' comments.
func readClaims(path string) map[string][]string {
	out := map[string][]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		out[fields[0]] = append(out[fields[0]], fields[1:]...)
	}
	return out
}

// TestRepositoryCaptures runs every capture under a testdata/ folder of the
// repository through the whole classifier. A capture in proto/<name>/testdata
// may be claimed by <name>; others only by what their folder's claims.txt
// lists. The confusion table is a golden file.
func TestRepositoryCaptures(t *testing.T) {
	root := pcaptest.Root()
	var table []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isCapture(d.Name()) || !strings.Contains(path, string(filepath.Separator)+"testdata"+string(filepath.Separator)) {
			return err
		}
		if strings.Contains(path, string(filepath.Separator)+"fuzz"+string(filepath.Separator)) {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		dir := filepath.Dir(path)
		allowed := readClaims(filepath.Join(dir, "claims.txt"))[d.Name()]
		if parts := strings.Split(filepath.ToSlash(rel), "/"); len(parts) > 2 && parts[0] == "proto" {
			allowed = append(allowed, parts[1])
		}
		got, protos := labelsIn(path)
		row := filepath.ToSlash(rel) + ":"
		for _, p := range sortedKeys(protos) {
			row += fmt.Sprintf(" %s=%d", p, protos[p])
		}
		row += " | claims:"
		for _, c := range sortedKeys(got) {
			row += fmt.Sprintf(" %s=%d", c, got[c])
			if !allowedIn(allowed, c) {
				t.Errorf("%s: %d flows claimed by %s, which this capture does not contain", rel, got[c], c)
			}
		}
		table = append(table, row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(table)
	golden.Check(t, filepath.Join("testdata", "classify.golden"), []byte(strings.Join(table, "\n")+"\n"))
}

// TestSharedPcaps runs ../shared/pcaps: each folder names the protocol its
// captures contain; negative/ contains none of ours.
func TestSharedPcaps(t *testing.T) {
	dir := pcaptest.Shared(t, "pcaps")
	// A capture may hold other protocols of ours besides its folder's
	// (the Skype/IRC capture has a giFT-FastTrack client): those are
	// listed in the claiming protocol's corpus-claims.txt.
	lists := claimLists()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(dir, e.Name()))
		for _, f := range files {
			if !isCapture(f.Name()) {
				continue
			}
			got := claimsIn(t, filepath.Join(dir, e.Name(), f.Name()))
			for c, n := range got {
				if !allowedIn(append([]string{e.Name()}, lists[f.Name()]...), c) {
					t.Errorf("pcaps/%s/%s: %d flows claimed by %s", e.Name(), f.Name(), n, c)
				}
			}
		}
	}
}

// claimLists reads every protocol folder's testdata/corpus-claims.txt:
// for each shared capture file name, the protocols (and services) that may
// claim flows in it.
func claimLists() map[string][]string {
	allowed := map[string][]string{}
	lists, _ := filepath.Glob(filepath.Join("..", "*", "testdata", "corpus-claims.txt"))
	for _, l := range lists {
		proto := filepath.Base(filepath.Dir(filepath.Dir(l)))
		// A line may add service claims after the file name
		// ("teams.pcap service:teams"): flows a DNS answer labelled.
		for file, extra := range readClaims(l) {
			allowed[file] = append(allowed[file], append([]string{proto}, extra...)...)
		}
	}
	return allowed
}

// TestCorpus runs every capture of ../shared/corpus/ndpi. Each protocol
// folder lists, in testdata/corpus-claims.txt, the corpus files it may claim
// flows in (one name per line); a claim anywhere else fails.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus run skipped in -short mode")
	}
	dir := pcaptest.Shared(t, "corpus", "ndpi")
	allowed := claimLists()
	files, _ := os.ReadDir(dir)
	claimed := 0
	for _, f := range files {
		if !isCapture(f.Name()) {
			continue
		}
		got := claimsIn(t, filepath.Join(dir, f.Name()))
		for c, n := range got {
			claimed += n
			if !allowedIn(allowed[f.Name()], c) {
				t.Errorf("corpus/ndpi/%s: %d flows claimed by %s (not in proto/%s/testdata/corpus-claims.txt)", f.Name(), n, c, c)
			}
		}
	}
	t.Logf("%d corpus files, %d claimed flows", len(files), claimed)
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
