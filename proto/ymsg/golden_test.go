package ymsg

import (
	"testing"

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
		t.Run(tc.file, func(t *testing.T) { pcaptest.Golden(t, tc.file, tc.reveal) })
	}
}
