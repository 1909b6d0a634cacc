package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/pipeline"
	"github.com/peerwatch/peerwatch/report"
)

type analyzeCmd struct {
	Files             []string      `arg:"" name:"file" help:"Capture files, read in order as one run." type:"path"`
	Output            string        `short:"o" default:"peerwatch-out" help:"Directory for eve.json and peerwatch.db."`
	Force             bool          `help:"Overwrite results already in the output directory."`
	NoOutput          bool          `help:"Write nothing (measure the engine alone)."`
	Workers           int           `short:"w" default:"0" help:"Worker goroutines (0: one per CPU; 1: a single goroutine, no hand-off)."`
	Config            string        `short:"c" type:"existingfile" help:"YAML configuration file."`
	HomeNet           []string      `help:"Our networks (CIDR, repeatable or comma-separated); default RFC 1918 + ULA."`
	CaptureContent    bool          `help:"Store message text (off by default: privacy)."`
	RevealCredentials bool          `help:"Store recovered secrets (off by default: privacy)."`
	ExtractFiles      string        `type:"path" help:"Extract transferred files into this directory (named by SHA-256)."`
	ExtractMax        int64         `default:"67108864" help:"Largest file to extract, in bytes."`
	DBAllFlows        bool          `name:"db-all-flows" help:"Store every flow in SQLite, not only IM/P2P/carrier flows."`
	Policy            string        `type:"existingfile" help:"Policy file (YAML; see examples/policy.yaml): allow, alert or block per protocol, feature, risk, network and user."`
	IOC               string        `name:"ioc" type:"existingfile" help:"Known-bad list (hashes and file names, risk/README.md) added to the built-in one."`
	NoRisk            bool          `help:"Do not weigh events against the risk catalogue (no alerts, no threat matrix)."`
	KeyFile           string        `type:"path" help:"Per-install key for credential fingerprints (created if missing; default in the user config dir)."`
	Quiet             bool          `short:"q" help:"No progress bar and no summary."`
	Timeout           time.Duration `hidden:"" help:"Stop after this long (tests)."`
	CPUProfile        string        `hidden:"" name:"cpuprofile" type:"path" help:"Write a CPU profile of the run here (benchmarks)."`
	MemProfile        string        `hidden:"" name:"memprofile" type:"path" help:"Write a heap profile at the end of the run here (benchmarks)."`
	Trace             string        `hidden:"" name:"trace" type:"path" help:"Write a runtime execution trace of the run here (benchmarks; go tool trace)."`
}

func (analyzeCmd) Help() string {
	return `Reads pcap and pcapng files (gzip-compressed or not, chosen by content),
finds IM and P2P sessions and writes eve.json and peerwatch.db into --output.
The command refuses to overwrite earlier results unless --force is given.

Exit codes: 0 success; 2 bad input (the records found before a damaged part
are written) or an output directory that already holds results; 1 other errors.

Examples:
  peerwatch analyze testdata/demo.pcapng
  peerwatch analyze -o /tmp/out --force --workers 1 capture.pcap.gz
  peerwatch analyze --home-net 192.0.2.0/24 --capture-content day1.pcapng day2.pcapng`
}

func (a *analyzeCmd) Run() error {
	cfg := config.Default()
	if a.Config != "" {
		c, err := config.Load(a.Config)
		if err != nil {
			return &exitErr{exitInput, err}
		}
		cfg = c
	}
	cfg.Workers = a.Workers
	if len(a.HomeNet) > 0 {
		cfg.HomeNet = nil
		for _, h := range a.HomeNet {
			cfg.HomeNet = append(cfg.HomeNet, strings.Split(h, ",")...)
		}
	}
	cfg.Privacy.CaptureContent = cfg.Privacy.CaptureContent || a.CaptureContent
	cfg.Privacy.RevealCredentials = cfg.Privacy.RevealCredentials || a.RevealCredentials
	if a.ExtractFiles != "" {
		cfg.Files.ExtractDir = a.ExtractFiles
		cfg.Files.ExtractMax = a.ExtractMax
		if err := os.MkdirAll(a.ExtractFiles, 0o750); err != nil {
			return err
		}
	}
	cfg.Output.Dir = a.Output
	cfg.Output.AllFlows = cfg.Output.AllFlows || a.DBAllFlows
	if a.Policy != "" {
		cfg.Risk.Policy = a.Policy
	}
	if a.IOC != "" {
		cfg.Risk.IOC = a.IOC
	}
	cfg.Risk.Enabled = cfg.Risk.Enabled && !a.NoRisk
	if err := cfg.Validate(); err != nil {
		return &exitErr{exitInput, err}
	}
	rk, err := riskEngine(cfg)
	if err != nil {
		return &exitErr{exitInput, err}
	}
	// The bounds above decide the soft memory limit (GOMEMLIMIT wins).
	cfg.ApplyMemory()
	for _, f := range a.Files {
		if _, err := os.Stat(f); err != nil {
			return &exitErr{exitInput, fmt.Errorf("%s: %w", f, errors.Unwrap(err))}
		}
	}
	key, err := loadKey(a.KeyFile)
	if err != nil {
		return err
	}

	opts := pipeline.Options{Config: cfg, Files: a.Files, FingerprintKey: key}
	if rk != nil {
		opts.Risk = rk
	}
	var sinks []pipeline.Sink
	if !a.NoOutput {
		sinks, err = pipeline.OpenOutput(cfg, pipeline.OutputOptions{Force: a.Force, Args: strings.Join(os.Args[1:], " "),
			Version: versionString(), Files: a.Files})
		if errors.Is(err, pipeline.ErrOutputExists) {
			return &exitErr{exitInput, err}
		}
		if err != nil {
			return err
		}
	}
	opts.Sinks = sinks

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if a.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.Timeout)
		defer cancel()
	}
	var bar *progress
	if !a.Quiet && isTerminal(os.Stdout) {
		bar = newProgress(a.Files)
		opts.Progress = bar.update
	}
	stopProf, err := startProfiles(a.CPUProfile, a.MemProfile, a.Trace)
	if err != nil {
		return err
	}
	sum, runErr := pipeline.Run(ctx, opts)
	stopProf()
	if bar != nil {
		bar.done()
	}
	if sum != nil && !a.Quiet {
		sum.Print(os.Stdout)
		if !a.NoOutput && cfg.Output.SQLite {
			// The short form of `peerwatch report`, from the database
			// just written.
			if r, err := report.Load(context.Background(), filepath.Join(cfg.Output.Dir, "peerwatch.db"), report.Options{}); err == nil {
				fmt.Println()
				_ = report.WriteSummary(os.Stdout, r)
			}
		}
		if !a.NoOutput {
			fmt.Printf("\nresults in %s\n", cfg.Output.Dir)
		}
	}
	if runErr != nil {
		var ie *pipeline.InputError
		if errors.As(runErr, &ie) {
			return &exitErr{exitInput, runErr}
		}
		return runErr
	}
	return nil
}

// loadKey reads the per-install fingerprint key, creating it if missing.
func loadKey(path string) ([]byte, error) {
	if path == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			dir = os.TempDir()
		}
		path = filepath.Join(dir, "peerwatch", "fingerprint.key")
	}
	if b, err := os.ReadFile(path); err == nil && len(b) >= 16 {
		return b, nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return key, nil // an ephemeral key still fingerprints within this run
	}
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return key, nil
	}
	return key, nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress shows bytes, packets/s and ETA per file while reading.
type progress struct {
	p     *mpb.Progress
	bars  []*mpb.Bar
	start time.Time
	pkts  atomic.Uint64
}

func newProgress(files []string) *progress {
	pr := &progress{p: mpb.New(mpb.WithWidth(40), mpb.WithRefreshRate(200*time.Millisecond)), start: time.Now()}
	for _, f := range files {
		var size int64
		if st, err := os.Stat(f); err == nil {
			size = st.Size()
		}
		name := filepath.Base(f)
		if len(name) > 28 {
			name = name[:25] + "..."
		}
		b := pr.p.AddBar(size,
			mpb.PrependDecorators(decor.Name(name, decor.WC{C: decor.DindentRight | decor.DextraSpace}),
				decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				el := time.Since(pr.start).Seconds()
				if el <= 0 {
					return ""
				}
				return fmt.Sprintf("%.0f pkt/s", float64(pr.pkts.Load())/el)
			}), decor.Name(" "), decor.EwmaETA(decor.ET_STYLE_GO, 30)))
		pr.bars = append(pr.bars, b)
	}
	return pr
}

// update is called by the reader with the offset in the current file. For
// gzip'd files the offset counts uncompressed bytes, so the bar may pass
// the file size; it is capped.
func (pr *progress) update(file int, off int64, pkts uint64) {
	if file >= len(pr.bars) {
		return
	}
	pr.pkts.Store(pkts)
	b := pr.bars[file]
	for i := 0; i < file; i++ {
		if !pr.bars[i].Completed() {
			pr.bars[i].SetTotal(-1, true)
		}
	}
	b.EwmaSetCurrent(off, 200*time.Millisecond)
}

func (pr *progress) done() {
	for _, b := range pr.bars {
		if !b.Completed() {
			b.SetTotal(-1, true)
		}
	}
	pr.p.Wait()
}
