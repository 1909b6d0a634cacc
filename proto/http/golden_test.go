package http

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// TestGolden runs the real captures of testdata through the whole pipeline:
// our records, validated against the EVE schema, are the golden files.
func TestGolden(t *testing.T) {
	for _, name := range []string{"nDPI__http.pcapng", "nDPI__bt-http.pcapng", "arkime__https-connect.pcap"} {
		t.Run(name, func(t *testing.T) {
			recs, _, err := pcaptest.Analyze([]string{filepath.Join("testdata", name)}, pcaptest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			lines := pcaptest.Lines(recs)
			pcaptest.Validate(t, lines)
			base := strings.TrimSuffix(strings.TrimSuffix(name, ".pcapng"), ".pcap")
			golden.Check(t, filepath.Join("testdata", base+".golden.jsonl"), lines)
		})
	}
}
