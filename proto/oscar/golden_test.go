package oscar

import (
	"path/filepath"
	"testing"

	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// TestGolden runs the real captures and the synthetic ones of testdata
// through the whole pipeline: our records, validated against the EVE schema,
// are the golden files. The reveal variant runs with --reveal-credentials
// and --capture-content.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		file   string
		reveal bool
	}{
		{"nDPI__Oscar.pcap", false},
		{"lab__aim-finch-retroaimserver.pcap", false},
		{"synthetic-xor-login.pcap", false},
		{"synthetic-xor-login.pcap", true},
		{"synthetic-md5-bos.pcap", false},
		{"synthetic-game-exploit.pcap", false},
	} {
		t.Run(tc.file, func(t *testing.T) { pcaptest.Golden(t, tc.file, tc.reveal) })
	}
}

// TestExploitThresholdsConfigurable: raising both thresholds in the
// configuration silences the exploit event on the 600-byte game request.
func TestExploitThresholdsConfigurable(t *testing.T) {
	count := func(params map[string]int64) int {
		recs, _, err := pcaptest.Analyze([]string{filepath.Join("testdata", "synthetic-game-exploit.pcap")}, pcaptest.Options{
			Config: func(c *config.Config) { c.Protocols = map[string]map[string]int64{"oscar": params} },
		})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range recs {
			if r.App != nil && r.App.Event == event.Exploit {
				n++
			}
		}
		return n
	}
	if n := count(nil); n != 1 {
		t.Fatalf("default thresholds: %d exploit events, want 1", n)
	}
	if n := count(map[string]int64{"game_data_max": 4096, "game_data_nonprintable_run": 4096}); n != 0 {
		t.Errorf("raised thresholds: %d exploit events, want 0", n)
	}
}
