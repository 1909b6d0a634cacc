package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportEndToEnd runs analyze on a SOCKS-wrapped MSN login and an ICQ
// XOR login, then report (text and JSON) and countermeasures. The
// inventory and evasion parts come from the flows, the matrix from the
// risk stage's risk_matrix rows.
func TestReportEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	r := analyze(t, dir, filepath.Join("..", "..", "proto", "socks", "testdata", "socks5-msn.pcap"),
		filepath.Join("..", "..", "proto", "oscar", "testdata", "synthetic-xor-login.pcap"))
	if r.code != 0 {
		t.Fatalf("analyze exit %d: %s", r.code, r.stderr)
	}
	js := runBin(t, dir, "report", "--output", dir, "--format", "json")
	if js.code != 0 {
		t.Fatalf("report exit %d: %s", js.code, js.stderr)
	}
	var rep struct {
		Matrix struct {
			Source string
			Apps   []struct {
				Service string
				Cells   map[string]json.RawMessage
			}
		}
		Hosts []struct {
			Addr string
			Apps []struct {
				Service string
				Users   []string
				Proxies []string
			}
		}
		Credentials []struct{ Class string }
		Evasions    []struct{ How, Service string }
	}
	if err := json.Unmarshal([]byte(js.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Hosts) != 1 || rep.Hosts[0].Addr != "192.168.1.20" || len(rep.Hosts[0].Apps) != 2 {
		t.Fatalf("hosts %+v", rep.Hosts)
	}
	msn := rep.Hosts[0].Apps[1]
	if msn.Service != "msn" || strings.Join(msn.Users, ",") != "alice@hotmail.com" ||
		len(msn.Proxies) != 1 || !strings.Contains(msn.Proxies[0], "messenger.hotmail.com:1863") {
		t.Errorf("msn inventory %+v", msn)
	}
	if len(rep.Evasions) != 1 || rep.Evasions[0].How != "proxy" {
		t.Errorf("evasions %+v", rep.Evasions)
	}
	classes := map[string]bool{}
	for _, c := range rep.Credentials {
		classes[c.Class] = true
	}
	if !classes["reversible"] || !classes["plaintext"] {
		t.Errorf("credentials %+v", rep.Credentials)
	}
	// The measured matrix: the ICQ XOR login exposes a reversible
	// password, the MSN login came through a SOCKS proxy.
	cells := map[string]bool{}
	for _, a := range rep.Matrix.Apps {
		for risk := range a.Cells {
			cells[a.Service+" "+risk] = true
		}
	}
	for _, want := range []string{"icq credential_exposure", "icq unencrypted", "msn evasion", "msn im_use"} {
		if !cells[want] {
			t.Errorf("matrix lacks %s (source %s): %v", want, rep.Matrix.Source, cells)
		}
	}

	txt := runBin(t, dir, "report", "--db", filepath.Join(dir, "peerwatch.db"))
	if txt.code != 0 || !strings.Contains(txt.stdout, "THREAT MATRIX PER APPLICATION") {
		t.Errorf("text report exit %d: %s", txt.code, txt.stderr)
	}
	html := filepath.Join(t.TempDir(), "r.html")
	if h := runBin(t, dir, "report", "--output", dir, "--format", "html", "-o", html); h.code != 0 {
		t.Errorf("html report exit %d: %s", h.code, h.stderr)
	}
	if b, _ := os.ReadFile(html); !strings.Contains(string(b), "Content-Security-Policy") {
		t.Error("html report lacks its CSP")
	}
	if bad := runBin(t, dir, "report", "--db", filepath.Join(dir, "missing.db")); bad.code != 2 {
		t.Errorf("missing db: exit %d, want 2", bad.code)
	}

	cm := runBin(t, dir, "countermeasures", "--db", filepath.Join(dir, "peerwatch.db"), "--format", "nftables")
	if cm.code != 0 || !strings.Contains(cm.stdout, "table inet peerwatch") || !strings.Contains(cm.stderr, "proxy") {
		t.Errorf("countermeasures exit %d: %s\n%s", cm.code, cm.stderr, cm.stdout)
	}
}
