package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/peerwatch/peerwatch/analyzer"
	_ "github.com/peerwatch/peerwatch/proto/all" // every protocol analyzer
)

type protocolsCmd struct {
	Format string `enum:"text,json,markdown" default:"text" help:"Output format: text, json or markdown (the README table)."`
}

func (protocolsCmd) Help() string {
	return "Examples:\n  peerwatch protocols\n  peerwatch protocols --format json"
}

type protoRow struct {
	Name      string   `json:"name"`
	Service   string   `json:"service,omitempty"`
	Products  []string `json:"products,omitempty"`
	Category  string   `json:"category"`
	Transport string   `json:"transport"`
	Ports     []uint16 `json:"ports,omitempty"`
	Detects   string   `json:"detects"`
}

func protocolRows() []protoRow {
	var rows []protoRow
	for _, s := range analyzer.All() {
		rows = append(rows, protoRow{Name: s.Name, Service: s.Service, Products: s.Products, Category: string(s.Category),
			Transport: s.Transport.String(), Ports: s.Detect.Ports, Detects: s.Detects})
	}
	return rows
}

func ports(p []uint16) string {
	if len(p) == 0 {
		return "any"
	}
	s := make([]string, len(p))
	for i, v := range p {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ",")
}

func (c protocolsCmd) Run() error {
	rows := protocolRows()
	switch c.Format {
	case "json":
		e := json.NewEncoder(os.Stdout)
		e.SetIndent("", "  ")
		return e.Encode(rows)
	case "markdown":
		fmt.Print(protocolsMarkdown(rows))
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPRODUCTS\tCATEGORY\tTRANSPORT\tPORT HINTS\tDETECTS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, strings.Join(r.Products, ", "), r.Category, r.Transport, ports(r.Ports), r.Detects)
	}
	return tw.Flush()
}

// protocolsMarkdown renders the README's generated protocols table.
func protocolsMarkdown(rows []protoRow) string {
	var b strings.Builder
	b.WriteString("| protocol | products | category | transport | port hints | detects |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", r.Name, strings.Join(r.Products, ", "), r.Category, r.Transport, ports(r.Ports), r.Detects)
	}
	return b.String()
}
