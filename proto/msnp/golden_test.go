package msnp

import (
	"path/filepath"
	"testing"

	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// TestGolden runs the real capture and the synthetic ones through the whole
// pipeline: our records, validated against the EVE schema, are the golden
// files. The reveal variants run with --reveal-credentials and
// --capture-content.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		file   string
		reveal bool
	}{
		{"markofu-ppa__msnms.pcap", false},
		{"markofu-ppa__msnms.pcap", true},
		{"synthetic-md5-login.pcap", false},
		{"synthetic-md5-login.pcap", true},
		{"synthetic-invitations.pcap", false},
		{"synthetic-twn-login.pcap", false},
		{"synthetic-twn-login.pcap", true},
	} {
		t.Run(tc.file, func(t *testing.T) { pcaptest.Golden(t, tc.file, tc.reveal) })
	}
}

func analyze(t *testing.T, file string, cfg func(*config.Config)) []byte {
	t.Helper()
	recs, _, err := pcaptest.Analyze([]string{filepath.Join("testdata", file)}, pcaptest.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	lines := pcaptest.Lines(recs)
	pcaptest.Validate(t, lines)
	return lines
}

// TestRealCapture checks the facts tshark shows in the real capture (see
// testdata/SOURCES.md): one switchboard login of tesla_brian@hotmail.com,
// tesla_thomas@hotmail.com joining; text/plain messages: 4 from Brian, 3
// from Thomas; typing notifications: 8 from Brian, 5 from Thomas.
func TestRealCapture(t *testing.T) {
	side := func(user string) int {
		if user == "tesla_brian@hotmail.com" {
			return 0
		}
		return 1
	}
	recs, _, err := pcaptest.Analyze([]string{filepath.Join("testdata", "markofu-ppa__msnms.pcap")}, pcaptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var msgs, typing [2]int
	logins := 0
	for _, r := range recs {
		if r.App == nil || r.PW == nil {
			continue
		}
		switch r.App.Event {
		case event.Message:
			msgs[side(r.PW.Message.From)]++
		case event.Presence:
			if u, ok := r.App.Fields["typing"].(string); ok {
				typing[side(u)]++
			}
		case event.Login:
			if r.PW.Login.Outcome == event.Success && r.PW.Login.User == "tesla_brian@hotmail.com" {
				logins++
			}
		}
	}
	if msgs != [2]int{4, 3} || typing != [2]int{8, 5} || logins != 1 {
		t.Errorf("messages %v typing %v successful logins %d, want [4 3] [8 5] 1", msgs, typing, logins)
	}
}
