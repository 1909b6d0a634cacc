package report

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHTMLEscapes checks the raw HTML: the planted payloads appear only in
// escaped form, there is no script, and the CSP hash matches the style.
func TestHTMLEscapes(t *testing.T) {
	r, err := Load(t.Context(), buildDB(t, true), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	// "onerror=" and ESC may appear inside escaped text, where they are inert;
	// the SVG namespace URI is a name, not a fetch.
	for _, bad := range []string{"<script", "<img", "<link", `src="`, `href="http`, "url(", "@import"} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;", "&lt;img src=x onerror=", `default-src &#39;none&#39;`, "<svg", "<style>" + css + "</style>"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

// TestHTMLChromium opens the report in headless Chromium: it must render
// (the headings are in the DOM) and the planted payloads must not run (they
// would set document.title and replace the body).
func TestHTMLChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (Debian package chromium)")
	}
	r, err := Load(t.Context(), buildDB(t, true), Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	WriteHTML(&b, r)
	os.WriteFile(page, b.Bytes(), 0o644)
	cmd := exec.CommandContext(t.Context(), chromium, "--headless", "--disable-gpu", "--no-sandbox",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--virtual-time-budget=2000", "--dump-dom", "file://"+page)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("chromium did not run here: %v", err)
	}
	dom := string(out)
	for _, want := range []string{"Threat matrix per application", "Hosts in home_net, riskiest first", "Top findings",
		"IM and P2P inventory per host", "Files moved", "Credentials exposed", "192.168.1.20", "<svg"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	if strings.Contains(dom, "<title>pwned") || !strings.Contains(dom, "<title>peerwatch report: run 1</title>") {
		t.Error("a payload changed the document title")
	}
	if strings.Count(dom, "pwned") == 0 || strings.Contains(dom, "<img") {
		t.Error("the payloads are not shown as text, or an <img> element was created")
	}
}
