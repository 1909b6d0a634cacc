package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/peerwatch/peerwatch/risk"
)

type rulesCmd struct {
	Format string `enum:"text,json" default:"text" help:"Output format: text or json."`
}

func (rulesCmd) Help() string {
	return "Lists the risk catalogue: every finding peerwatch can raise, with its EVE signature id, " +
		"severity and threat-matrix column, for SIEM mappings.\n\nExamples:\n  peerwatch rules\n  peerwatch rules --format json"
}

// ruleRow is one rule in `peerwatch rules --format json`.
type ruleRow struct {
	ID          string `json:"id"`
	GID         int    `json:"gid"`
	SignatureID int    `json:"signature_id"`
	Rev         int    `json:"rev"`
	Signature   string `json:"signature"`
	Category    string `json:"category"`
	Severity    string `json:"severity"`
	EVESeverity int    `json:"eve_severity"`
	Risk        string `json:"risk"`
	Actor       string `json:"actor"`
	Raises      string `json:"raises"`
}

func (c rulesCmd) Run() error {
	var rows []ruleRow
	for _, r := range risk.Rules() {
		rows = append(rows, ruleRow{ID: r.ID, GID: risk.GID, SignatureID: r.SID, Rev: r.Rev, Signature: r.Title,
			Category: risk.Category(r.Risk), Severity: r.Severity.String(), EVESeverity: r.Severity.EVE(),
			Risk: string(r.Risk), Actor: string(r.Actor), Raises: r.Raises})
	}
	if c.Format == "json" {
		e := json.NewEncoder(os.Stdout)
		e.SetIndent("", "  ")
		return e.Encode(rows)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SID\tREV\tID\tSEVERITY\tRISK\tACTOR\tSIGNATURE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\n", r.SignatureID, r.Rev, r.ID, r.Severity, r.Risk, r.Actor, r.Signature)
	}
	return tw.Flush()
}
