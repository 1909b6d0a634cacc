package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/alecthomas/kong"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // an internal or output error
	exitInput = 2 // bad input or refused output directory
)

type cli struct {
	Analyze         analyzeCmd         `cmd:"" help:"Analyze capture files (pcap, pcapng, gzip'd either)."`
	Protocols       protocolsCmd       `cmd:"" help:"List the registered protocols."`
	Rules           rulesCmd           `cmd:"" help:"List the risk catalogue (rule ids, signature ids, severities)."`
	Policy          policyCmd          `cmd:"" help:"Work with policy files."`
	Report          reportCmd          `cmd:"" help:"Report the threat matrix, findings and inventory from peerwatch.db."`
	Countermeasures countermeasuresCmd `cmd:"" help:"Write firewall rules (nftables, iptables) implementing the policy's blocks."`
	Version         versionCmd         `cmd:"" help:"Print the version."`
}

func main() {
	var c cli
	ctx := kong.Parse(&c,
		kong.Name("peerwatch"),
		kong.Description("peerwatch finds Instant Messaging and peer-to-peer use in network traffic, "+
			"understands what each session does and turns it into risk findings.\n\n"+
			"Examples:\n"+
			"  peerwatch analyze testdata/demo.pcapng\n"+
			"  peerwatch analyze --output out --force a.pcap b.pcapng.gz\n"+
			"  peerwatch protocols"),
		kong.UsageOnError(),
	)
	os.Exit(run(ctx))
}

func run(ctx *kong.Context) int {
	err := ctx.Run()
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(os.Stderr, "peerwatch: %s\n", err)
	var e *exitErr
	if errors.As(err, &e) {
		return e.code
	}
	return exitError
}

// exitErr carries an exit code with an error.
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string { return e.err.Error() }
func (e *exitErr) Unwrap() error { return e.err }
func (e *exitErr) ExitCode() int { return e.code }
