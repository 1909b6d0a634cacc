package http

import (
	"path/filepath"
	"testing"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
	_ "github.com/peerwatch/peerwatch/proto/msnp" // the embedded analyzer
)

// TestGoldenGateway runs the synthetic MSN gateway capture through the
// whole pipeline with the real MSNP analyzer: the MSNP records carry
// app_proto "msnp" and app_proto_orig "http", and the four HTTP
// connections feed one MSNP session.
func TestGoldenGateway(t *testing.T) {
	recs, _, err := pcaptest.Analyze([]string{filepath.Join("testdata", "msn-gateway.pcap")}, pcaptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The login outcome, read on the second connection, belongs to the
	// user named on the first: one MSNP session across the connections.
	var loginFlows []uint64
	msnp := 0
	for _, r := range recs {
		if r.Type != "msnp" {
			continue
		}
		msnp++
		if r.AppProto != "msnp" || r.AppProtoOrig != "http" {
			t.Errorf("msnp record on flow %d: app_proto %q, app_proto_orig %q", r.FlowID, r.AppProto, r.AppProtoOrig)
		}
		if r.PW != nil && r.PW.Login != nil && r.App.Event == event.Login {
			if r.PW.Login.User != "alice@hotmail.com" {
				t.Errorf("login user %q", r.PW.Login.User)
			}
			if r.PW.Login.Outcome == event.Success {
				loginFlows = append(loginFlows, r.FlowID)
			}
		}
	}
	if msnp == 0 {
		t.Fatal("no msnp records")
	}
	if len(loginFlows) != 1 || loginFlows[0] == recs[0].FlowID {
		t.Errorf("successful login on flows %v, want one on a later connection than %d", loginFlows, recs[0].FlowID)
	}
	lines := pcaptest.Lines(recs)
	pcaptest.Validate(t, lines)
	golden.Check(t, filepath.Join("testdata", "msn-gateway.golden.jsonl"), lines)
}
