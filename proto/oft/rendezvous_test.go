// The rendezvous test runs proto/oscar too (test files may import another
// protocol): the OSCAR proposal announces the OFT connection, which must be
// labelled "expected" before its first payload byte. Update the golden file
// with
//
//	go test ./proto/oft -run TestGoldenRendezvous -update
package oft

import (
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/internal/pcaptest"

	_ "github.com/peerwatch/peerwatch/proto/oscar"
)

// TestGoldenRendezvous runs the capture with the OSCAR analyzer registered:
// the rendezvous on the BOS connection announces the OFT connection, which
// is labelled with the feature, the users and the file name before its
// first payload byte.
func TestGoldenRendezvous(t *testing.T) {
	lines := pcaptest.Golden(t, "rendezvous-oft.pcap", false)
	checkFileinfo(t, lines)
	for _, want := range []string{`"confidence":"expected"`, `"name":"setup.exe"`, `"feature":"file_transfer"`} {
		if !strings.Contains(string(lines), want) {
			t.Errorf("records lack %s", want)
		}
	}
}
