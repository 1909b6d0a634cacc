package pcaptest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/pipeline"
	"github.com/peerwatch/peerwatch/sink/eve"
)

// Memory is a sink that keeps every record.
type Memory struct {
	mu   sync.Mutex
	Recs []event.Record
}

// Write implements pipeline.Sink.
func (m *Memory) Write(recs []event.Record) error {
	m.mu.Lock()
	m.Recs = append(m.Recs, recs...)
	m.mu.Unlock()
	return nil
}

// Close implements pipeline.Sink.
func (m *Memory) Close() error { return nil }

// Options tune Analyze.
type Options struct {
	Workers int                  // default 1
	Config  func(*config.Config) // optional changes to the default configuration
	Risk    pipeline.Risk        // optional risk stage (alerts)
}

// testKey keys credential fingerprints in tests so golden files are stable.
var testKey = []byte("peerwatch-test-fingerprint-key!!")

// Analyze runs files through the pipeline and returns the records sorted by
// (flow id, per-flow sequence), without the run's stats records, and the
// run's error.
func Analyze(files []string, o Options) ([]event.Record, *pipeline.Summary, error) {
	cfg := config.Default()
	cfg.Workers = o.Workers
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	if o.Config != nil {
		o.Config(&cfg)
	}
	m := &Memory{}
	sum, err := pipeline.Run(context.Background(), pipeline.Options{Config: cfg, Files: files, Sinks: []pipeline.Sink{m}, FingerprintKey: testKey, Risk: o.Risk})
	recs := m.Recs[:0:0]
	for _, r := range m.Recs {
		if r.Type == event.TypeStats || r.Type == event.TypePeerwatchStats {
			continue
		}
		recs = append(recs, r)
	}
	Sort(recs)
	return recs, sum, err
}

// Sort orders records by flow id, then per-flow sequence.
func Sort(recs []event.Record) {
	sort.SliceStable(recs, func(i, j int) bool {
		if recs[i].FlowID != recs[j].FlowID {
			return recs[i].FlowID < recs[j].FlowID
		}
		return recs[i].Seq < recs[j].Seq
	})
}

// Lines encodes records as EVE JSON lines with the EVE file's encoder.
func Lines(recs []event.Record) []byte {
	var b bytes.Buffer
	var line []byte
	for i := range recs {
		line = eve.Append(line[:0], &recs[i])
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Shared returns the path of the shared data directory (../shared beside
// the repository) or skips the test with a reason when it is absent.
func Shared(t testing.TB, sub ...string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
	p := filepath.Join(append([]string{root}, sub...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not available (%s): run in CI or beside ../shared", p)
	}
	return p
}

// Root returns the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Validate checks every line against Suricata's EVE schema extended with
// ours (sink/eve.Validate).
func Validate(t testing.TB, lines []byte) {
	t.Helper()
	for i, line := range bytes.Split(bytes.TrimSuffix(lines, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if err := eve.Validate(line); err != nil {
			t.Errorf("line %d: %v\n%s", i+1, err, line)
		}
	}
}

// Golden runs testdata/<capture> through the pipeline, validates every
// record against the EVE schema and checks the lines against
// testdata/<capture without extension>.golden.jsonl, or -reveal.golden.jsonl
// when reveal runs with --reveal-credentials and --capture-content. It
// returns the lines for further assertions.
func Golden(t *testing.T, capture string, reveal bool) []byte {
	t.Helper()
	if !reveal {
		return GoldenWith(t, capture, "", nil)
	}
	return GoldenWith(t, capture, "-reveal", func(c *config.Config) {
		c.Privacy.RevealCredentials = true
		c.Privacy.CaptureContent = true
	})
}

// GoldenWith is Golden with a configuration change and the golden file
// testdata/<capture without extension><suffix>.golden.jsonl.
func GoldenWith(t *testing.T, capture, suffix string, cfg func(*config.Config)) []byte {
	t.Helper()
	base := strings.TrimSuffix(strings.TrimSuffix(capture, ".pcapng"), ".pcap")
	recs, _, err := Analyze([]string{filepath.Join("testdata", capture)}, Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	lines := Lines(recs)
	Validate(t, lines)
	golden.Check(t, filepath.Join("testdata", base+suffix+".golden.jsonl"), lines)
	return lines
}
