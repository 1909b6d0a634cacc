package gnutella

import (
	"fmt"
	"path/filepath"
	"sort"
	"testing"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
	// The carriers compete with this analyzer for the same bytes (GET,
	// TLS after an Upgrade, DNS): the counts must hold with them present.
	_ "github.com/peerwatch/peerwatch/proto/dns"
	_ "github.com/peerwatch/peerwatch/proto/http"
	_ "github.com/peerwatch/peerwatch/proto/tls"
)

// labelled runs a capture and returns the flow records labelled gnutella,
// as "proto src dst" lines, sorted.
func labelled(t *testing.T, file string) (flows []string, recs []event.Record) {
	t.Helper()
	recs, _, err := pcaptest.Analyze([]string{file}, pcaptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Type == event.TypeFlow && r.AppProto == "gnutella" {
			flows = append(flows, fmt.Sprintf("%s %s %s", r.Proto, r.Src, r.Dst))
		}
	}
	sort.Strings(flows)
	return flows, recs
}

// TestNDPIFlowCounts is the "done when" on the real 2022 capture:
// every Gnutella flow labelled, nothing else. The numbers were
// cross-checked with tshark (see testdata/SOURCES.md).
func TestNDPIFlowCounts(t *testing.T) {
	file := filepath.Join(pcaptest.Shared(t, "pcaps", "gnutella"), "nDPI__gnutella.pcap")
	flows, recs := labelled(t, file)
	var tcp, udp int
	for _, f := range flows {
		if f[:3] == "TCP" {
			tcp++
		} else {
			udp++
		}
	}
	// 52 handshake flows + 3 HTTP transfers (/uri-res/ twice, /gnutella/thex):
	// the 55 flows nDPI 4.2 labels, the same list. UDP: 584 distinct
	// endpoint pairs carry Gnutella descriptors, GND or Mojito (tshark,
	// SOURCES.md); 11 of them come back after the idle timeout as a second
	// flow record.
	pairs := map[string]bool{}
	for _, f := range flows {
		if f[:3] == "UDP" {
			pairs[f] = true
		}
	}
	if tcp != 55 || len(pairs) != 584 || udp != 595 {
		t.Errorf("labelled %d TCP, %d UDP flows (%d endpoint pairs); want 55, 595 (584)", tcp, udp, len(pairs))
	}
	ua := 0
	for _, r := range recs {
		if r.Type == "gnutella" && r.App != nil && r.App.Fields["user_agent"] != nil {
			ua++
		}
	}
	// 52 CONNECTs + 24 answers with a User-Agent header.
	if ua < 52 {
		t.Errorf("%d handshake user agents reported", ua)
	}
}
