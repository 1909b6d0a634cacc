package report

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/peerwatch/peerwatch/event"
)

// css is the report's only style sheet, inline and allowed by its hash.
// The report uses no style attributes: a hash does not cover them.
const css = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:72em;padding:0 1em;color:#222;background:#fff}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right}.m td.c{text-align:center;min-width:2.5em}
.low{background:#fff3c4}.medium{background:#ffd591}.high{background:#ff9c6e}.critical{background:#f5222d;color:#fff}
.paper td{color:#555;background:#fafafa;font-size:.9em}.paper td.x{font-weight:bold}
code,.h{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}
.note{color:#555}svg{display:block;margin:.5em 0}svg text{font:11px sans-serif;fill:#333}
svg .bar{fill:#4a78b0}svg .alert{fill:#d4380d}svg .low{fill:#e0b000}svg .medium{fill:#fa8c16}svg .high{fill:#fa541c}svg .critical{fill:#a8071a}
`

// csp is the Content-Security-Policy of the HTML report: nothing may load,
// no script may run, the one style element is allowed by its SHA-256, and
// images may only be data: URIs.
var csp = func() string {
	sum := sha256.Sum256([]byte(css))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; img-src data:; base-uri 'none'; form-action 'none'"
}()

// page is the HTML template; html/template escapes every value by context.
var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"time": timeText, "size": sizeText, "risks": risksText, "join": strings.Join,
	"cell": func(cs map[event.Risk]Cell, r event.Risk) *Cell {
		if c, ok := cs[r]; ok {
			return &c
		}
		return nil
	},
	"paper":   func(service string, r event.Risk) bool { return paperFor(service).has(r) },
	"inPaper": func(service string) *PaperRow { return paperFor(service) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<title>peerwatch report: run {{.R.Run.ID}}</title>
<style>{{.CSS}}</style>
</head><body>
<h1>peerwatch report</h1>
<p>Run {{.R.Run.ID}} (peerwatch {{.R.Run.Version}}), capture {{time .R.Run.First}} to {{time .R.Run.Last}} UTC:
{{.R.Run.Flows}} flows, {{.R.Run.Events}} events, {{.R.Run.Alerts}} alerts, {{.R.Run.Files}} files.
Inputs: {{range $i, $v := .R.Run.Inputs}}{{if $i}}, {{end}}<code>{{$v}}</code>{{end}}. home_net: {{join .R.Run.HomeNet ", "}}.</p>

<h2 id="matrix">Threat matrix per application</h2>
<p>Measured from the traffic (source: {{.R.Matrix.Source}}); each cell is the number of findings, coloured by the worst severity.
The grey row under each application is the matrix of the April 2002 ISS paper (X: the paper lists the risk).</p>
<table class="m"><tr><th>application</th>{{range .R.Matrix.Columns}}<th>{{.}}</th>{{end}}</tr>
{{range $a := .R.Matrix.Apps}}<tr><th>{{$a.Service}} ({{$a.Product}})</th>{{range $r := $.R.Matrix.Columns}}{{with cell $a.Cells $r}}<td class="c {{.Worst}}">{{.Count}}</td>{{else}}<td class="c"></td>{{end}}{{end}}</tr>
{{with inPaper $a.Service}}<tr class="paper"><td>paper 2002: {{.Client}}</td>{{range $r := $.R.Matrix.Columns}}{{if paper $a.Service $r}}<td class="c x">X</td>{{else}}<td class="c"></td>{{end}}{{end}}</tr>{{end}}
{{else}}<tr><td colspan="15">no findings</td></tr>{{end}}</table>

<h2 id="hosts">Hosts in home_net, riskiest first</h2>
<table class="m"><tr><th>rank</th><th>host</th><th>score</th>{{range .R.Matrix.Columns}}<th>{{.}}</th>{{end}}</tr>
{{range $h := .R.Hosts}}<tr><td class="n">{{$h.Rank}}</td><td><a href="#host-{{$h.Rank}}">{{$h.Addr}}</a></td><td class="n">{{$h.Score}}</td>{{range $r := $.R.Matrix.Columns}}{{with cell $h.Cells $r}}<td class="c {{.Worst}}">{{.Count}}</td>{{else}}<td class="c"></td>{{end}}{{end}}</tr>
{{else}}<tr><td colspan="17">no IM/P2P use by home_net hosts</td></tr>{{end}}</table>

<h2 id="charts">Activity, protocols and risks</h2>
{{.Activity}}
{{.Protocols}}
{{.Risks}}

<h2 id="findings">Top findings</h2>
<table><tr><th>time</th><th>severity</th><th>signature</th><th>risk</th><th>application</th><th>flow</th><th>users</th><th>evidence</th></tr>
{{range .R.Findings}}<tr><td>{{time .Time}}</td><td class="{{.Severity}}">{{.Severity}}</td><td>{{.SignatureID}}:{{.Rev}} {{.Signature}}<br>{{.Action}}{{if .WouldBlock}}, would block{{end}}</td>
<td>{{.Risk}}</td><td>{{.Service}} ({{.Product}})</td><td>{{.FlowID}}: <code>{{.Src}}</code> → <code>{{.Dst}}</code>{{with .Flow}}<br>{{.Proto}} {{.AppProto}}{{with .AppProtoOrig}} via {{.}}{{end}}, {{size .Bytes}}{{with .Evasion}}, {{.}}{{end}}{{end}}</td>
<td>{{.UserLocal}}{{if .UserPeer}} → {{.UserPeer}}{{end}}</td><td>{{range .Files}}<div>{{.}}</div>{{end}}</td></tr>
{{else}}<tr><td colspan="8">no alerts</td></tr>{{end}}</table>

<h2 id="inventory">IM and P2P inventory per host</h2>
{{range .R.Hosts}}<h3 id="host-{{.Rank}}">#{{.Rank}} {{.Addr}}</h3>
<table><tr><th>application</th><th>flows</th><th>bytes</th><th>users</th><th>clients</th><th>ports</th><th>proxies</th><th>seen</th></tr>
{{range .Apps}}<tr><td>{{.Service}} ({{.Product}}, {{.Category}})</td><td class="n">{{.Flows}}</td><td class="n">{{size .Bytes}}</td>
<td>{{range .Users}}<div>{{.}}</div>{{end}}</td><td>{{range .Clients}}<div>{{.}}</div>{{end}}</td><td>{{range .Ports}}<div>{{.}}</div>{{end}}</td>
<td>{{range .Proxies}}<div>{{.}}</div>{{end}}</td><td>{{time .First}} to {{time .Last}}</td></tr>{{end}}</table>
{{else}}<p>No IM/P2P use by home_net hosts.</p>{{end}}

<h2 id="files">Files moved</h2>
<table><tr><th>time</th><th>application</th><th>name</th><th>size</th><th>type</th><th>state</th><th>host</th><th>hashes</th></tr>
{{range .R.Files}}<tr><td>{{time .Time}}</td><td>{{.Service}}</td><td><code>{{.Name}}</code></td><td class="n">{{size .Size}}</td><td>{{.Type}}<br>{{.Magic}}</td><td>{{.State}}</td><td>{{.Host}}</td>
<td class="h">md5 {{.MD5}}<br>sha1 {{.SHA1}}<br>sha256 {{.SHA256}}</td></tr>
{{else}}<tr><td colspan="8">no files</td></tr>{{end}}</table>

<h2 id="credentials">Credentials exposed (masked, as stored)</h2>
<table><tr><th>time</th><th>application</th><th>user</th><th>class</th><th>what</th><th>length</th><th>masked</th><th>fingerprint</th><th>host</th></tr>
{{range .R.Credentials}}<tr><td>{{time .Time}}</td><td>{{.Service}}</td><td>{{.User}}</td><td>{{.Class}}</td><td>{{.What}}</td><td>{{.LengthClass}}</td><td><code>{{.Masked}}</code></td><td class="h">{{.Fingerprint}}</td><td>{{.Host}}</td></tr>
{{else}}<tr><td colspan="9">none</td></tr>{{end}}</table>

<h2 id="evasion">Evasion: flows port blocking would miss</h2>
<table><tr><th>flow</th><th>application</th><th>how</th><th>from</th><th>to</th><th>proxy</th></tr>
{{range .R.Evasions}}<tr><td class="n">{{.FlowID}}</td><td>{{.Service}}</td><td>{{.How}}</td><td><code>{{.Src}}</code></td><td><code>{{.Dst}}</code></td><td>{{.Proxy}}</td></tr>
{{else}}<tr><td colspan="6">none</td></tr>{{end}}</table>

{{with .R.Notes}}<h2 id="notes">Notes</h2><ul class="note">{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body></html>
`))

// WriteHTML writes the report as one self-contained HTML file: inline CSS
// allowed by its hash, inline SVG charts, no script and nothing fetched,
// under a strict Content-Security-Policy. Every value from the capture is
// escaped by html/template.
func WriteHTML(w io.Writer, r *Report) error {
	return page.Execute(w, struct {
		R                          *Report
		CSP                        string
		CSS                        template.CSS
		Activity, Protocols, Risks template.HTML
	}{r, csp, template.CSS(css), activitySVG(r), protocolsSVG(r), risksSVG(r)})
}

// esc escapes text for an SVG text node built outside the template.
func esc(s string) string { return template.HTMLEscapeString(s) }

// activitySVG draws flows+events per time slice with alerts over them.
func activitySVG(r *Report) template.HTML {
	if len(r.Activity) == 0 {
		return ""
	}
	const width, height, top, bottom = 720, 160, 20, 20
	var peak int64 = 1
	for _, b := range r.Activity {
		peak = max(peak, b.Flows+b.Events, b.Alerts)
	}
	bw := float64(width) / float64(len(r.Activity))
	plot := float64(height - top - bottom)
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-labelledby="act-t"><title id="act-t">Activity over capture time: flows and events (blue), alerts (red) per slice</title>`, width, height)
	fmt.Fprintf(&s, `<text x="0" y="12">activity (peak %d per slice)</text>`, peak)
	for i, b := range r.Activity {
		x := float64(i) * bw
		if h := plot * float64(b.Flows+b.Events) / float64(peak); h > 0 {
			fmt.Fprintf(&s, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x, float64(height-bottom)-h, max(bw-1, 1), h)
		}
		if h := plot * float64(b.Alerts) / float64(peak); h > 0 {
			fmt.Fprintf(&s, `<rect class="alert" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x+bw/4, float64(height-bottom)-h, max(bw/2, 1), h)
		}
	}
	fmt.Fprintf(&s, `<text x="0" y="%d">%s</text><text x="%d" y="%d" text-anchor="end">%s UTC</text></svg>`,
		height-4, esc(timeText(r.Activity[0].Start)), width, height-4, esc(timeText(r.Activity[len(r.Activity)-1].Start)))
	return template.HTML(s.String()) // every value above is a number or escaped
}

// hbars draws labelled horizontal bars.
func hbars(title string, labels []string, values []int64, classes []string) template.HTML {
	if len(labels) == 0 {
		return ""
	}
	const width, row, lw = 720, 18, 200
	var peak int64 = 1
	for _, v := range values {
		peak = max(peak, v)
	}
	height := row*len(labels) + 20
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img"><title>%s</title><text x="0" y="12">%s</text>`,
		width, height, esc(title), esc(title))
	for i, l := range labels {
		y := 20 + i*row
		w := float64(width-lw-80) * float64(values[i]) / float64(peak)
		fmt.Fprintf(&s, `<text x="0" y="%d">%s</text><rect class="%s" x="%d" y="%d" width="%.1f" height="%d"/><text x="%.1f" y="%d">%d</text>`,
			y+12, esc(cut(Clean(l), 30)), esc(classes[i]), lw, y+2, max(w, 1), row-4, float64(lw)+w+4, y+12, values[i])
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String()) // every value above is a number or escaped
}

// protocolsSVG draws bytes per protocol (the ten largest).
func protocolsSVG(r *Report) template.HTML {
	var labels, classes []string
	var values []int64
	for i, p := range r.Protocols {
		if i == 10 {
			break
		}
		l := p.AppProto
		if p.Service != "" && p.Service != p.AppProto {
			l += " / " + p.Service
		}
		if l == "" {
			l = "unidentified"
		}
		labels, values, classes = append(labels, l), append(values, p.Bytes), append(classes, "bar")
	}
	return hbars("bytes per protocol", labels, values, classes)
}

// risksSVG draws findings per risk column, coloured by the worst severity.
func risksSVG(r *Report) template.HTML {
	var labels, classes []string
	var values []int64
	for _, k := range r.Matrix.Columns {
		var c Cell
		for _, a := range r.Matrix.Apps {
			if x, ok := a.Cells[k]; ok {
				merge(&c, x.Count, x.Alerts, x.Worst, x.First, x.Last)
			}
		}
		if c.Count == 0 {
			continue
		}
		cls := c.Worst
		if cls == "" {
			cls = "bar"
		}
		labels, values, classes = append(labels, string(k)), append(values, c.Count), append(classes, cls)
	}
	return hbars("findings per risk", labels, values, classes)
}
