package ymsg

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// TestGolden runs the synthetic captures through the whole pipeline; the
// reveal variant runs with --reveal-credentials and --capture-content.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		file   string
		reveal bool
	}{
		{"ymsg-v6.pcap", false},
		{"ymsg-v6.pcap", true},
		{"ymsg-challenge.pcap", false},
		{"ymsg-challenge.pcap", true},
	} {
		base := strings.TrimSuffix(tc.file, ".pcap")
		if tc.reveal {
			base += "-reveal"
		}
		t.Run(base, func(t *testing.T) {
			recs, _, err := pcaptest.Analyze([]string{filepath.Join("testdata", tc.file)}, pcaptest.Options{
				Config: func(c *config.Config) {
					c.Privacy.RevealCredentials = tc.reveal
					c.Privacy.CaptureContent = tc.reveal
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			lines := pcaptest.Lines(recs)
			pcaptest.Validate(t, lines)
			golden.Check(t, filepath.Join("testdata", base+".golden.jsonl"), lines)
		})
	}
}
