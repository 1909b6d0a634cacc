package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/peerwatch/peerwatch/event"
)

// abbrev are the short column headings of the text matrix, in event.Risks
// order.
var abbrev = map[event.Risk]string{
	event.RiskUnencrypted: "unenc", event.RiskFileTransfer: "file", event.RiskExploit: "explt",
	event.RiskRemoteControl: "rctl", event.RiskWorm: "worm", event.RiskSpyware: "spywr",
	event.RiskSocialEngineering: "socng", event.RiskCopyrightBandwidth: "copyr", event.RiskMalwareCarrier: "malwr",
	event.RiskCredentialExposure: "cred", event.RiskIPDisclosure: "ipdis", event.RiskEvasion: "evasn",
	event.RiskP2PUse: "p2p", event.RiskIMUse: "im",
}

// timeText formats a capture time for the terminal.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// sizeText formats a byte count.
func sizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, u := float64(n)/unit, 0
	for v >= unit && u < 4 {
		v /= unit
		u++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[u])
}

// cellText is a measured cell in the text matrix: its count and the first
// letter of its worst severity, "." when not seen.
func cellText(c Cell, ok bool) string {
	if !ok {
		return "."
	}
	n := strconv.FormatInt(c.Count, 10)
	if c.Count > 9999 {
		n = "9999+"
	}
	if c.Worst != "" {
		n += strings.ToUpper(c.Worst[:1])
	}
	return n
}

// textWriter writes lines and remembers the first error.
type textWriter struct {
	w   *bufio.Writer
	err error
}

// f writes one formatted line; string arguments must already be Clean.
func (t *textWriter) f(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format+"\n", args...)
	}
}

// matrixHeader writes the column headings after a label column of width w.
func (t *textWriter) matrixHeader(label string, w int) {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-*s", w, label)
	for _, r := range event.Risks {
		fmt.Fprintf(&b, " %-5s", abbrev[r])
	}
	t.f("%s", strings.TrimRight(b.String(), " "))
}

// matrixRow writes one row of cells.
func (t *textWriter) matrixRow(label string, w int, cell func(event.Risk) string) {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-*s", w, label)
	for _, r := range event.Risks {
		fmt.Fprintf(&b, " %-5s", cell(r))
	}
	t.f("%s", strings.TrimRight(b.String(), " "))
}

// WriteText writes the full report for a terminal. Every value from the
// capture goes through Clean.
func WriteText(w io.Writer, r *Report) error {
	t := &textWriter{w: bufio.NewWriter(w)}
	t.f("peerwatch report: run %d (peerwatch %s)", r.Run.ID, Clean(r.Run.Version))
	t.f("capture: %s to %s UTC; %d flows, %d events, %d alerts, %d files",
		timeText(r.Run.First), timeText(r.Run.Last), r.Run.Flows, r.Run.Events, r.Run.Alerts, r.Run.Files)
	for _, in := range r.Run.Inputs {
		t.f("input: %s", Clean(in))
	}
	t.f("home_net: %s", Clean(strings.Join(r.Run.HomeNet, ", ")))

	t.f("")
	t.f("THREAT MATRIX PER APPLICATION (measured from the traffic; source %s; paper = ISS, April 2002)", r.Matrix.Source)
	t.f("  cell: findings and worst severity (L low, M medium, H high, C critical); X: the paper lists the risk")
	const lw = 30
	t.matrixHeader("application", lw)
	if len(r.Matrix.Apps) == 0 {
		t.f("  (no findings)")
	}
	for _, a := range r.Matrix.Apps {
		name := a.Service
		if a.Product != "" {
			name += " (" + a.Product + ")"
		}
		t.matrixRow(cut(Clean(name), lw), lw, func(k event.Risk) string { c, ok := a.Cells[k]; return cellText(c, ok) })
		if p := paperFor(a.Service); p != nil {
			t.matrixRow("  paper 2002: "+p.Client, lw, func(k event.Risk) string { return paperMark(p, k) })
		}
		if len(a.Beyond) > 0 {
			t.f("  %s", "  measured beyond the paper: "+risksText(a.Beyond))
		}
	}

	t.f("")
	t.f("HOSTS IN HOME_NET, RISKIEST FIRST (score: 1/3/9/27 per application and risk at low/medium/high/critical)")
	if len(r.Hosts) == 0 {
		t.f("  (no IM/P2P use by home_net hosts)")
	} else {
		t.matrixHeader("rank host (score)", lw)
	}
	for _, h := range r.Hosts {
		label := fmt.Sprintf("#%d %s (%d)", h.Rank, Clean(h.Addr), h.Score)
		t.matrixRow(cut(label, lw), lw, func(k event.Risk) string { c, ok := h.Cells[k]; return cellText(c, ok) })
	}
	for _, h := range r.Hosts {
		t.f("")
		worst := h.Worst
		if worst == "" {
			worst = "none"
		}
		t.f("#%d %s  score %d, worst %s", h.Rank, Clean(h.Addr), h.Score, worst)
		for _, a := range h.Apps {
			t.f("  %s (%s, %s): %d flows, %s, %s to %s", Clean(a.Service), Clean(a.Product), Clean(a.Category),
				a.Flows, sizeText(a.Bytes), timeText(a.First), timeText(a.Last))
			list := func(label string, v []string) {
				if len(v) > 0 {
					t.f("    %s: %s", label, cleanList(v))
				}
			}
			list("users", a.Users)
			list("clients", a.Clients)
			list("ports", a.Ports)
			list("proxies", a.Proxies)
		}
	}

	t.f("")
	t.f("TOP FINDINGS (%d of %d alerts)", len(r.Findings), r.Run.Alerts)
	for _, f := range r.Findings {
		wb := ""
		if f.WouldBlock {
			wb = ", would block"
		}
		t.f("  [%s] %d rev %d %s: %s (%s)", f.Severity, f.SignatureID, f.Rev, Clean(string(f.Risk)), Clean(f.Signature), Clean(f.Action)+wb)
		t.f("    %s  flow %d  %s -> %s  %s/%s  home host %s", timeText(f.Time), f.FlowID, Clean(f.Src), Clean(f.Dst),
			Clean(f.Service), Clean(f.Product), orDash(Clean(f.Host)))
		if f.UserLocal != "" || f.UserPeer != "" {
			t.f("    users: %s -> %s", orDash(Clean(f.UserLocal)), orDash(Clean(f.UserPeer)))
		}
		if b := f.Flow; b != nil {
			via := ""
			if b.AppProtoOrig != "" {
				via = " via " + Clean(b.AppProtoOrig)
			}
			ev := ""
			if b.Evasion != "" {
				ev = ", evasion " + Clean(b.Evasion)
			}
			t.f("    flow: %s %s%s, %s, %s to %s%s", b.Proto, Clean(b.AppProto), via, sizeText(b.Bytes), timeText(b.Start), timeText(b.End), ev)
		}
		for _, name := range f.Files {
			t.f("    file: %s", Clean(name))
		}
	}

	t.f("")
	t.f("FILES MOVED (%d)", len(r.Files))
	for _, f := range r.Files {
		t.f("  %s  flow %d  %s  %s  %s, %s, %s  host %s", timeText(f.Time), f.FlowID, Clean(f.Service), Clean(f.Name),
			sizeText(f.Size), orDash(Clean(f.Type)), Clean(f.State), orDash(Clean(f.Host)))
		if f.Magic != "" {
			t.f("    magic  %s", Clean(f.Magic))
		}
		for _, h := range [...][2]string{{"md5", f.MD5}, {"sha1", f.SHA1}, {"sha256", f.SHA256}} {
			if h[1] != "" {
				t.f("    %-6s %s", h[0], Clean(h[1]))
			}
		}
	}

	t.f("")
	t.f("CREDENTIALS EXPOSED (%d; masked, as stored)", len(r.Credentials))
	for _, c := range r.Credentials {
		t.f("  %s  flow %d  %s  user %s  %s %s  length %s  masked %s  fingerprint %s  host %s", timeText(c.Time), c.FlowID,
			Clean(c.Service), orDash(Clean(c.User)), Clean(c.Class), Clean(c.What), orDash(Clean(c.LengthClass)),
			orDash(Clean(c.Masked)), orDash(Clean(c.Fingerprint)), orDash(Clean(c.Host)))
	}

	t.f("")
	t.f("EVASION: IM/P2P FLOWS PORT BLOCKING WOULD MISS (%d)", len(r.Evasions))
	for _, e := range r.Evasions {
		p := ""
		if e.Proxy != "" {
			p = "  proxy " + Clean(e.Proxy)
		}
		t.f("  flow %d  %s  %s  %s -> %s%s", e.FlowID, Clean(e.Service), e.How, Clean(e.Src), Clean(e.Dst), p)
	}

	t.f("")
	t.f("PROTOCOLS")
	for _, p := range r.Protocols {
		t.f("  %-12s %-10s %6d flows %10s  %d hosts  %d events  %d alerts", orDash(Clean(p.AppProto)), orDash(Clean(p.Service)),
			p.Flows, sizeText(p.Bytes), p.Hosts, p.Events, p.Alerts)
	}
	if len(r.Notes) > 0 {
		t.f("")
		t.f("NOTES")
		for _, n := range r.Notes {
			t.f("  - %s", Clean(n))
		}
	}
	if t.err != nil {
		return t.err
	}
	return t.w.Flush()
}

// WriteSummary writes the few lines analyze prints at the end of a run:
// the matrix in one line per application, the riskiest home hosts and the
// counts of files, credentials and evasions.
func WriteSummary(w io.Writer, r *Report) error {
	t := &textWriter{w: bufio.NewWriter(w)}
	var worst [5]int
	for _, f := range r.Findings {
		worst[sevRank(f.Severity)]++
	}
	t.f("threat matrix (%s): %d application(s), %d home host(s), %d alert(s)", r.Matrix.Source,
		len(r.Matrix.Apps), len(r.Hosts), r.Run.Alerts)
	for _, a := range r.Matrix.Apps {
		var seen []event.Risk
		for _, k := range event.Risks {
			if _, ok := a.Cells[k]; ok {
				seen = append(seen, k)
			}
		}
		paper := ""
		if a.Paper != "" {
			paper = fmt.Sprintf(" (paper 2002: %d of its risks not seen)", len(a.Unseen))
		}
		t.f("  %s: %s%s", Clean(a.Service), risksText(seen), paper)
	}
	for i, h := range r.Hosts {
		if i == 3 {
			t.f("  ... %d more host(s)", len(r.Hosts)-3)
			break
		}
		var seen []event.Risk
		for _, k := range event.Risks {
			if _, ok := h.Cells[k]; ok {
				seen = append(seen, k)
			}
		}
		var svc []string
		for _, a := range h.Apps {
			svc = append(svc, a.Service)
		}
		t.f("  #%d %s score %d [%s]: %s", h.Rank, Clean(h.Addr), h.Score, cleanList(uniq(svc)), risksText(seen))
	}
	exe := 0
	for _, f := range r.Files {
		if f.Type == "executable" || f.Type == "script" {
			exe++
		}
	}
	t.f("files moved: %d (%d executable or script); credentials exposed: %d; evasions: %d",
		len(r.Files), exe, len(r.Credentials), len(r.Evasions))
	if t.err != nil {
		return t.err
	}
	return t.w.Flush()
}

// paperMark is "X" where the paper lists the risk, "." elsewhere.
func paperMark(p *PaperRow, r event.Risk) string {
	if p.has(r) {
		return "X"
	}
	return "."
}

// risksText joins risk names, or "none".
func risksText(rs []event.Risk) string {
	if len(rs) == 0 {
		return "none"
	}
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// cleanList cleans and joins values.
func cleanList(v []string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = Clean(x)
	}
	return strings.Join(s, ", ")
}

// uniq drops adjacent duplicates of a sorted list.
func uniq(v []string) []string {
	out := v[:0:0]
	for i, x := range v {
		if i == 0 || x != v[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// orDash is s or "-" when empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cut shortens s to n runes.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
