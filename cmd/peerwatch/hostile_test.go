package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/internal/pcaptest"
)

// hostileCapture builds a capture whose attacker-controlled names carry
// markup: a KaZaA download of a file named by a <script> element by a user
// whose name is an <img onerror>, and an MSN message whose text is a
// <script> (stored with --capture-content).
func hostileCapture(t *testing.T) string {
	w := pcaptest.NewWriter()
	t0 := time.Date(2002, 6, 1, 9, 0, 0, 0, time.UTC)
	k := w.TCP(t0, netip.MustParseAddrPort("192.168.1.40:3001"), netip.MustParseAddrPort("198.51.100.70:1214"))
	k.Handshake()
	k.Send(0, []byte("GET /7/<script>document.title='pwned'</script>.exe HTTP/1.1\r\nHost: 198.51.100.70:1214\r\n"+
		"X-Kazaa-Username: <img/src=x/onerror=document.title='pwned2'>\r\nX-Kazaa-Network: KaZaA\r\n\r\n"))
	body := append([]byte("MZ\x90\x00"), bytes.Repeat([]byte{0}, 200)...)
	k.Send(1, []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Kazaa-Username: peer\r\n\r\n", len(body))))
	k.Send(1, body)
	k.Close()
	m := w.TCP(k.T, netip.MustParseAddrPort("192.168.1.40:3002"), netip.MustParseAddrPort("64.4.12.200:1863"))
	m.Handshake()
	m.Send(0, []byte("ANS 1 victim@hotmail.com 849102291.520491113 11752013\r\n"))
	m.Send(1, []byte("IRO 1 1 1 <script>x</script>@hotmail.com %3Cimg%20src%3Dx%3E\r\nANS 1 OK\r\n"))
	msg := "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n<script>document.title='pwned3'</script>"
	m.Send(1, []byte(fmt.Sprintf("MSG <script>x</script>@hotmail.com %%3Cimg%%20src%%3Dx%%3E %d\r\n%s", len(msg), msg)))
	m.Close()
	path := filepath.Join(t.TempDir(), "hostile.pcap")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHostileHTMLReport: the HTML report of a capture full of markup shows
// it as text: escaped in the file, no element created and no script run in
// headless Chromium.
func TestHostileHTMLReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if r := analyze(t, dir, "--capture-content", hostileCapture(t)); r.code != 0 {
		t.Fatalf("analyze exit %d: %s", r.code, r.stderr)
	}
	eve, _ := os.ReadFile(filepath.Join(dir, "eve.json"))
	if !bytes.Contains(eve, []byte(`document.title='pwned'`)) || !bytes.Contains(eve, []byte("pwned3")) {
		t.Fatal("the capture's names did not reach the records: the test proves nothing")
	}
	page := filepath.Join(t.TempDir(), "r.html")
	if h := runBin(t, dir, "report", "--output", dir, "--format", "html", "-o", page); h.code != 0 {
		t.Fatalf("report exit %d: %s", h.code, h.stderr)
	}
	raw, _ := os.ReadFile(page)
	html := string(raw)
	if !strings.Contains(html, "pwned") {
		t.Fatal("the hostile file name is not in the report: the test proves nothing")
	}
	if !strings.Contains(html, "&lt;img/src=x/onerror=") || !strings.Contains(html, "&lt;script&gt;") {
		t.Error("the hostile names are not shown escaped")
	}
	for _, bad := range []string{"<script", "<img"} {
		if i := strings.Index(html, bad); i >= 0 {
			t.Errorf("report holds %q unescaped: %q", bad, html[max(0, i-100):min(len(html), i+60)])
		}
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (Debian package chromium)")
	}
	prof := t.TempDir()
	cmd := exec.CommandContext(t.Context(), chromium, "--headless", "--disable-gpu", "--no-sandbox",
		"--user-data-dir="+prof, "--virtual-time-budget=2000", "--dump-dom", "file://"+page)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("chromium did not run here: %v", err)
	}
	dom := string(out)
	if !strings.Contains(dom, "Threat matrix") {
		t.Fatalf("report did not render: %.300s", dom)
	}
	if strings.Contains(dom, "<title>pwned") || strings.Contains(dom, "<img") || strings.Contains(dom, "<script") {
		t.Error("captured markup became live in the rendered report")
	}
}
