// The invitation test runs proto/msnp too (test files may import another
// protocol): the switchboard ACCEPT announces the MSNFTP connection, which
// must be labelled "expected" before its first payload byte and carry the
// invitation's file name, users and auth cookie. Update the golden file
// with
//
//	go test ./proto/msnftp -run TestGoldenInvite -update
package msnftp

import (
	"strings"
	"testing"

	"github.com/peerwatch/peerwatch/internal/pcaptest"

	_ "github.com/peerwatch/peerwatch/proto/msnp"
)

// TestGoldenInvite runs the capture with the MSNP analyzer registered: the
// text/x-msmsgsinvite ACCEPT on the switchboard announces 192.168.1.20:40999,
// and the MSNFTP connection to it gets the feature, both passports and the
// file name setup.exe before its first payload byte.
func TestGoldenInvite(t *testing.T) {
	lines := pcaptest.Golden(t, "invite-msnftp.pcap", false)
	checkFileinfo(t, lines, "setup.exe")
	var ftp []string
	for _, l := range strings.Split(string(lines), "\n") {
		if strings.Contains(l, `"event_type":"msnftp"`) {
			ftp = append(ftp, l)
		}
	}
	if len(ftp) == 0 || !strings.Contains(ftp[0], `"confidence":"expected"`) {
		t.Fatalf("the MSNFTP flow was not expected: %v", ftp)
	}
	for _, want := range []string{`"name":"setup.exe"`, `"feature":"file_transfer"`,
		`"users":{"local":"alice@hotmail.com","peer":"bob@hotmail.com"}`, `"outcome":"success"`} {
		if !strings.Contains(strings.Join(ftp, "\n"), want) {
			t.Errorf("msnftp records lack %s", want)
		}
	}
	if strings.Contains(string(lines), "msnftp_cookie_mismatch") || strings.Contains(string(lines), "msnftp_size_mismatch") {
		t.Error("the invitation and the connection disagree")
	}
}
