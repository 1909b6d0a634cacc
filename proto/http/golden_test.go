package http

import (
	"testing"

	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// TestGolden runs the real captures of testdata through the whole pipeline:
// our records, validated against the EVE schema, are the golden files.
func TestGolden(t *testing.T) {
	for _, name := range []string{"nDPI__http.pcapng", "nDPI__bt-http.pcapng", "arkime__https-connect.pcap"} {
		t.Run(name, func(t *testing.T) {
			pcaptest.Golden(t, name, false)
		})
	}
}
