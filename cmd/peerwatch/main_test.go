package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
	"github.com/peerwatch/peerwatch/sink/eve"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "peerwatch-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "peerwatch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
	dir            string
}

// analyze runs `peerwatch analyze -q --workers 1 -o DIR args...`.
func analyze(t testing.TB, dir string, args ...string) result {
	t.Helper()
	full := append([]string{"analyze", "-q", "--workers", "1", "-o", dir, "--key-file", filepath.Join(dir, "..", "key")}, args...)
	return runBin(t, dir, full...)
}

func runBin(t testing.TB, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, so.String(), se.String(), dir}
}

// checkOutput validates every EVE line and returns the records and the
// run's packet count from the SQLite runs row.
func checkOutput(t testing.TB, dir string) (recs []map[string]any, dbPackets int64) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "eve.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if err := eve.Validate(sc.Bytes()); err != nil {
			t.Errorf("%s line %d: %v", dir, n, err)
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		recs = append(recs, m)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "peerwatch.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stats sql.NullString
	var ended sql.NullInt64
	if err := db.QueryRow(`SELECT ended_us, peerwatch_stats FROM runs`).Scan(&ended, &stats); err != nil {
		t.Fatalf("%s: runs row: %v", dir, err)
	}
	if !ended.Valid || !stats.Valid {
		t.Errorf("%s: runs row not finished (ended %v)", dir, ended)
	}
	var ps struct{ Packets int64 }
	json.Unmarshal([]byte(stats.String), &ps)
	return recs, ps.Packets
}

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	r := analyze(t, dir, filepath.Join("..", "..", "testdata", "demo.pcapng"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	recs, pkts := checkOutput(t, dir)
	if pkts != 854 {
		t.Errorf("packets = %d, want 854 (capinfos)", pkts)
	}
	flows := 0
	for _, m := range recs {
		if m["event_type"] == "flow" {
			flows++
		}
	}
	if flows < 10 {
		t.Errorf("%d flow records", flows)
	}
	// A second run into the same directory is refused, then forced.
	if r := analyze(t, dir, filepath.Join("..", "..", "testdata", "demo.pcapng")); r.code != 2 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("second run: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := analyze(t, dir, "--force", filepath.Join("..", "..", "testdata", "demo.pcapng")); r.code != 0 {
		t.Errorf("forced run: exit %d %s", r.code, r.stderr)
	}
}

func TestSummary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	r := runBin(t, dir, "analyze", "--workers", "2", "-o", dir, filepath.Join("..", "..", "proto", "template", "testdata", "template.pcap"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"packets  38", "flows    3", "template", "results in"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
}

var oneLine = regexp.MustCompile(`^peerwatch: [^\n]+\n$`)

func TestBadInput(t *testing.T) {
	tmp := t.TempDir()
	empty := filepath.Join(tmp, "empty.pcap")
	os.WriteFile(empty, nil, 0o644)
	text := filepath.Join(tmp, "notes.pcap")
	os.WriteFile(text, []byte("this is not a capture file at all\n"), 0o644)
	for _, tc := range []struct{ file, want string }{
		{filepath.Join(tmp, "missing.pcap"), "missing.pcap"},
		{empty, "empty"},
		{text, "not a pcap or pcapng file"},
	} {
		r := analyze(t, filepath.Join(tmp, "out-"+filepath.Base(tc.file)), tc.file)
		if r.code != 2 || !oneLine.MatchString(r.stderr) || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "goroutine") {
			t.Errorf("%s: exit %d, stderr %q", tc.file, r.code, r.stderr)
		}
	}
}

// TestTruncated cuts a capture in the middle of a packet record: the run
// exits 2 naming the file and offset, and the flows before the cut are
// written.
func TestTruncated(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "proto", "template", "testdata", "template.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	// Records 1..19 whole, then half of record 20.
	off := 24
	for i := 0; i < 19; i++ {
		off += 16 + int(uint32(src[off+8])|uint32(src[off+9])<<8)
	}
	cut := src[:off+16+10]
	tmp := t.TempDir()
	path := filepath.Join(tmp, "cut.pcap")
	os.WriteFile(path, cut, 0o644)
	dir := filepath.Join(tmp, "out")
	r := analyze(t, dir, path)
	if r.code != 2 || !strings.Contains(r.stderr, "cut.pcap") || !strings.Contains(r.stderr, "offset "+strconv.Itoa(off)) {
		t.Fatalf("exit %d, stderr %q (want file and offset %d)", r.code, r.stderr, off)
	}
	recs, pkts := checkOutput(t, dir)
	if pkts != 19 {
		t.Errorf("packets = %d, want 19", pkts)
	}
	sawLogin, sawFlow := false, false
	for _, m := range recs {
		if m["event_type"] == "template" && m["template"].(map[string]any)["event"] == "login" {
			sawLogin = true
		}
		if m["event_type"] == "flow" && m["flow_id"] == float64(1) {
			sawFlow = true
		}
	}
	if !sawLogin || !sawFlow {
		t.Errorf("records before the cut missing: login %v, flow %v", sawLogin, sawFlow)
	}
}

func TestProtocols(t *testing.T) {
	r := runBin(t, "", "protocols")
	if r.code != 0 || !strings.Contains(r.stdout, "http") || !strings.Contains(r.stdout, "template") {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	r = runBin(t, "", "protocols", "--format", "json")
	var rows []protoRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) < 2 {
		t.Fatalf("json: %v %d", err, len(rows))
	}
	if r := runBin(t, "", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "peerwatch ") {
		t.Errorf("version: %d %q", r.code, r.stdout)
	}
	for _, sub := range []string{"analyze", "protocols", "version"} {
		if r := runBin(t, "", sub, "--help"); r.code != 0 || !strings.Contains(r.stdout, "Example") {
			t.Errorf("%s --help lacks examples: %q", sub, r.stdout)
		}
	}
}

// TestReadmeTable keeps the README's protocol table generated: run with
// -update to rewrite it.
func TestReadmeTable(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- protocols:begin -->\n", "<!-- protocols:end -->"
	i, j := bytes.Index(b, []byte(begin)), bytes.Index(b, []byte(end))
	if i < 0 || j < i {
		t.Fatal("README.md lacks the protocols markers")
	}
	want := append(append(append([]byte{}, b[:i+len(begin)]...), protocolsMarkdown(protocolRows())...), b[j:]...)
	golden.Check(t, path, want)
}

// capinfosCounts returns capinfos's packet count per file, or nil when
// capinfos is not installed.
func capinfosCounts(t *testing.T, files []string) map[string]int64 {
	if _, err := exec.LookPath("capinfos"); err != nil {
		return nil
	}
	out := map[string]int64{}
	for i := 0; i < len(files); i += 100 {
		batch := files[i:min(i+100, len(files))]
		cmd := exec.Command("capinfos", append([]string{"-c", "-M", "-T", "-r"}, batch...)...)
		b, _ := cmd.Output()
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Split(line, "\t")
			if len(f) >= 2 {
				n, err := strconv.ParseInt(strings.TrimSpace(f[1]), 10, 64)
				if err == nil {
					out[f[0]] = n
				}
			}
		}
	}
	return out
}

// damaged lists the shared captures that are really truncated or corrupt:
// analyze exits 2 for them, with the records before the damage written.
var damaged = map[string]bool{"fuzz-2021-10-13.pcap": true}

// TestSharedCaptures runs the binary on every capture of ../shared/pcaps
// and ../shared/corpus/ndpi.
func TestSharedCaptures(t *testing.T) {
	if testing.Short() {
		t.Skip("shared captures skipped in -short mode")
	}
	var files []string
	pc := pcaptest.Shared(t, "pcaps")
	m, _ := filepath.Glob(filepath.Join(pc, "*", "*"))
	files = append(files, m...)
	m, _ = filepath.Glob(filepath.Join(pcaptest.Shared(t, "corpus", "ndpi"), "*"))
	files = append(files, m...)
	var caps []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".md") {
			caps = append(caps, f)
		}
	}
	counts := capinfosCounts(t, caps)
	tmp := t.TempDir()
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	checked := 0
	for i, f := range caps {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dir := filepath.Join(tmp, strconv.Itoa(i))
			r := analyze(t, dir, f)
			name := filepath.Base(f)
			want := 0
			if damaged[name] {
				want = 2
			}
			if r.code != want {
				t.Errorf("%s: exit %d, want %d: %s", f, r.code, want, r.stderr)
				return
			}
			if want == 2 && (!strings.Contains(r.stderr, name) || !strings.Contains(r.stderr, "offset")) {
				t.Errorf("%s: error does not name the file and offset: %q", f, r.stderr)
			}
			_, pkts := checkOutput(t, dir)
			if n, ok := counts[f]; ok && n != pkts {
				t.Errorf("%s: %d packets, capinfos says %d", f, pkts, n)
			}
			os.RemoveAll(dir)
			mu.Lock()
			checked++
			mu.Unlock()
		}()
	}
	wg.Wait()
	t.Logf("%d captures analyzed (capinfos counts for %d)", checked, len(counts))
}

// TestExtract: --extract-files stores the transferred file under its
// SHA-256, never under the name from the wire.
func TestExtract(t *testing.T) {
	tmp := t.TempDir()
	ex := filepath.Join(tmp, "files")
	r := analyze(t, filepath.Join(tmp, "out"), "--extract-files", ex, filepath.Join("..", "..", "proto", "template", "testdata", "template.pcap"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	const sha = "05990b035d8d49361d63041718d6bba5cc1f92bd632653e860a8077048b72891"
	b, err := os.ReadFile(filepath.Join(ex, sha))
	if err != nil || len(b) != 3016 || string(b[:2]) != "MZ" {
		t.Fatalf("extracted file: %d bytes, %v", len(b), err)
	}
	if _, err := os.Stat(filepath.Join(ex, "report.exe")); err == nil {
		t.Error("file stored under its wire name")
	}
}
