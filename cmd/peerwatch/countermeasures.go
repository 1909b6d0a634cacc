package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/peerwatch/peerwatch/enforce"
	"github.com/peerwatch/peerwatch/risk"
)

type countermeasuresCmd struct {
	Policy string `type:"existingfile" help:"Policy file (YAML); without it every catalogued service is blocked."`
	DB     string `name:"db" type:"path" help:"A peerwatch.db whose traffic supplies server addresses, home_net and evasions."`
	Format string `enum:"nftables,iptables,ip6tables" required:"" help:"nftables, iptables or ip6tables (iptables-restore input)."`
	Out    string `short:"o" type:"path" help:"Write the rules to this file instead of standard output."`
}

func (countermeasuresCmd) Help() string {
	return `Writes firewall rules that implement the policy's blocks: the ports and
hosts the 2002 paper names per client, plus the server addresses seen in an
analysed capture (--db; names are never resolved, only written as comments).
A warning of what port blocking cannot stop, citing the evasions seen, goes
to standard error and into the rules as comments.

Exit codes: 0 success; 2 bad policy or database; 1 other errors.

Examples:
  peerwatch countermeasures --format nftables > peerwatch.nft && nft -f peerwatch.nft
  peerwatch countermeasures --policy policy.yaml --db out/peerwatch.db --format iptables -o rules.v4`
}

func (c *countermeasuresCmd) Run() error {
	p := &risk.Policy{Default: risk.Block}
	if c.Policy != "" {
		var err error
		if p, err = risk.LoadPolicy(c.Policy); err != nil {
			return &exitErr{exitInput, err}
		}
	}
	var seen *enforce.Seen
	if c.DB != "" {
		var err error
		seen, err = enforce.LoadSeen(context.Background(), c.DB)
		if errors.Is(err, enforce.ErrNoDatabase) || errors.Is(err, enforce.ErrSchema) {
			return &exitErr{exitInput, err}
		}
		if err != nil {
			return err
		}
	}
	out, err := enforce.Countermeasures(p, seen, c.Format)
	if err != nil {
		return &exitErr{exitInput, err}
	}
	fmt.Fprint(os.Stderr, enforce.Warning(seen))
	var w io.Writer = os.Stdout
	if c.Out != "" {
		return os.WriteFile(c.Out, out, 0o644)
	}
	_, err = w.Write(out)
	return err
}
