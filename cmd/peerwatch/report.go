package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/peerwatch/peerwatch/report"
)

type reportCmd struct {
	Format string `enum:"text,html,json" default:"text" help:"Output format: text, html or json."`
	DB     string `name:"db" type:"path" help:"The peerwatch.db to read (default: OUTPUT/peerwatch.db)."`
	Output string `default:"peerwatch-out" type:"path" help:"The analyze output directory whose peerwatch.db is read."`
	Out    string `short:"o" type:"path" help:"Write the report to this file instead of standard output."`
	Top    int    `default:"20" help:"Findings listed with their evidence."`
	RunID  int64  `name:"run" help:"Run id to report (default: the latest)."`
}

func (reportCmd) Help() string {
	return `Reads the database analyze wrote and prints the threat matrix per
application and per home_net host beside the 2002 paper's, the top findings
with their evidence, each host's IM/P2P inventory, the files moved and the
credentials exposed. HTML is one self-contained file with a strict
Content-Security-Policy and no script.

Exit codes: 0 success; 2 missing or unreadable database; 1 other errors.

Examples:
  peerwatch report -o peerwatch-out
  peerwatch report --db out/peerwatch.db --format html -o report.html`
}

func (c *reportCmd) Run() error {
	db := c.DB
	if db == "" {
		db = filepath.Join(c.Output, "peerwatch.db")
	}
	r, err := report.Load(context.Background(), db, report.Options{Top: c.Top, RunID: c.RunID})
	if errors.Is(err, report.ErrNoDatabase) || errors.Is(err, report.ErrSchema) || errors.Is(err, report.ErrNoRun) {
		return &exitErr{exitInput, err}
	}
	if err != nil {
		return err
	}
	var w io.Writer = os.Stdout
	var f *os.File
	if c.Out != "" {
		if f, err = os.Create(c.Out); err != nil {
			return &exitErr{exitInput, err}
		}
		w = f
	}
	switch c.Format {
	case "html":
		err = report.WriteHTML(w, r)
	case "json":
		err = report.WriteJSON(w, r)
	default:
		err = report.WriteText(w, r)
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
