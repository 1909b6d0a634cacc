package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/peerwatch/peerwatch/config"
	"github.com/peerwatch/peerwatch/pipeline"
	_ "github.com/peerwatch/peerwatch/proto/all" // every protocol analyzer, as in cmd/peerwatch
	"github.com/peerwatch/peerwatch/risk"
)

// ErrTraces is returned when `go tool pprof -traces` output cannot be read.
var ErrTraces = errors.New("bench: bad pprof -traces output")

// Stage names, in report order.
const (
	stageRead     = "read"
	stageDecode   = "decode"
	stageFlows    = "flows"
	stageReasm    = "reassembly"
	stageClassify = "classification"
	stageAnalyze  = "analyzers"
	stageOutput   = "output"
	stageRisk     = "risk and correlation"
	stagePipeline = "pipeline glue"
	stageGC       = "runtime (GC, scheduler)"
	stageOther    = "other"
)

var stageOrder = []string{stageRead, stageDecode, stageFlows, stageReasm, stageClassify,
	stageAnalyze, stageRisk, stageOutput, stagePipeline, stageGC, stageOther}

const modulePrefix = "github.com/peerwatch/peerwatch/"

// profileRun runs the pipeline in this process, passes times over file, with
// EVE and SQLite output on, under the CPU profiler, and writes the profile
// to out. It returns the packets of one pass and the user+system CPU time
// the process spent meanwhile (getrusage), to set against the sampled time.
func profileRun(file, outDir, out string, passes int) (uint64, time.Duration, error) {
	f, err := os.Create(out)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	key := []byte("peerwatch-bench-fingerprint-key!")
	runtime.GC()
	cpu0 := processCPU()
	if err := pprof.StartCPUProfile(f); err != nil {
		return 0, 0, err
	}
	var packets uint64
	for i := 0; i < passes; i++ {
		cfg := config.Default()
		cfg.Workers = 1
		cfg.Output.Dir = outDir
		cfg.ApplyMemory() // as peerwatch analyze does
		sinks, err := pipeline.OpenOutput(cfg, pipeline.OutputOptions{Force: true, Args: "bench", Version: "bench", Files: []string{file}})
		if err != nil {
			pprof.StopCPUProfile()
			return 0, 0, err
		}
		opts := pipeline.Options{Config: cfg, Files: []string{file}, Sinks: sinks, FingerprintKey: key}
		if cfg.Risk.Enabled { // the risk stage as analyze runs it by default
			home, _ := cfg.Prefixes()
			rk, err := risk.New(risk.Config{HomeNet: home, Window: cfg.Risk.Window, VolumeThreshold: cfg.Risk.VolumeBytes})
			if err != nil {
				pprof.StopCPUProfile()
				return 0, 0, fmt.Errorf("bench: risk stage: %w", err)
			}
			opts.Risk = rk
		}
		sum, err := pipeline.Run(context.Background(), opts)
		if err != nil {
			pprof.StopCPUProfile()
			return 0, 0, fmt.Errorf("bench: in-process run: %w", err)
		}
		packets = sum.Packets
	}
	pprof.StopCPUProfile()
	return packets, processCPU() - cpu0, f.Close()
}

// processCPU returns the user plus system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// StageCost is the CPU time charged to one stage.
type StageCost struct {
	Stage string
	CPU   time.Duration
}

// FuncCost is the flat CPU time of one function.
type FuncCost struct {
	Func string
	CPU  time.Duration
}

// Budget is a profile broken down by stage.
type Budget struct {
	Stages []StageCost // in stageOrder, zero stages included
	Total  time.Duration
	Flat   []FuncCost // functions by flat time, largest first
}

// budgetFromProfile runs `go tool pprof -traces` on the profile and charges
// every sample to a stage.
func budgetFromProfile(goTool, prof string) (Budget, error) {
	cmd := exec.Command(goTool, "tool", "pprof", "-traces", prof)
	out, err := cmd.Output()
	if err != nil {
		return Budget{}, fmt.Errorf("bench: go tool pprof -traces: %w", err)
	}
	traces, err := parseTraces(string(out))
	if err != nil {
		return Budget{}, err
	}
	return budget(traces), nil
}

// trace is one distinct stack of a profile: its CPU time and its frames,
// innermost first.
type trace struct {
	cpu    time.Duration
	frames []string
}

// parseTraces reads the text of `go tool pprof -traces`: a header, then
// blocks separated by dashed lines, each a value followed by the frame on
// its line and one frame per following line.
func parseTraces(text string) ([]trace, error) {
	var out []trace
	var cur *trace
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-----------+") {
			cur = nil
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if cur == nil {
			// Header lines ("File:", "Type:", ...) come before the first
			// separator; a value line starts with a duration.
			fields := strings.Fields(line)
			if len(fields) < 2 {
				continue
			}
			d, err := parsePprofDuration(fields[0])
			if err != nil {
				if len(out) == 0 {
					continue // still in the header
				}
				return nil, fmt.Errorf("%w: %q", ErrTraces, line)
			}
			out = append(out, trace{cpu: d})
			cur = &out[len(out)-1]
			cur.frames = append(cur.frames, frameName(strings.Join(fields[1:], " ")))
			continue
		}
		cur.frames = append(cur.frames, frameName(strings.TrimSpace(line)))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTraces, err)
	}
	return out, nil
}

// frameName drops pprof's annotations from a frame line.
func frameName(s string) string {
	s = strings.TrimSuffix(s, " (inline)")
	return strings.TrimSpace(s)
}

// parsePprofDuration reads pprof's sample values: "10ms", "1.25s", "500us",
// "20ns", "1.5mins".
func parsePprofDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		mult   float64
	}{{"mins", float64(time.Minute)}, {"hrs", float64(time.Hour)}, {"ms", float64(time.Millisecond)},
		{"us", float64(time.Microsecond)}, {"µs", float64(time.Microsecond)}, {"ns", float64(time.Nanosecond)},
		{"s", float64(time.Second)}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v < 0 {
				return 0, ErrTraces
			}
			return time.Duration(v * u.mult), nil
		}
	}
	return 0, ErrTraces
}

// pkgOf returns the import path of a function name as pprof prints it
// ("github.com/x/y/pkg.(*T).M", "runtime.mallocgc", "pkg.F[...]").
func pkgOf(fn string) string {
	fn = strings.TrimPrefix(fn, "type:.eq.")
	if i := strings.IndexByte(fn, '['); i >= 0 {
		fn = fn[:i]
	}
	slash := strings.LastIndexByte(fn, '/')
	dot := strings.IndexByte(fn[slash+1:], '.')
	if dot < 0 {
		return fn
	}
	return fn[:slash+1+dot]
}

// stageOfPkg returns the stage a package belongs to, or "" for packages
// that are helpers of whoever calls them (the runtime, the standard library,
// internal/*, event, config).
func stageOfPkg(pkg string) string {
	if p, ok := strings.CutPrefix(pkg, modulePrefix); ok {
		switch {
		case p == "capture" || strings.HasPrefix(p, "capture/"):
			return stageRead
		case p == "decode":
			return stageDecode
		case p == "flow":
			return stageFlows
		case p == "reassembly":
			return stageReasm
		case p == "classify":
			return stageClassify
		case p == "analyzer" || strings.HasPrefix(p, "proto/"):
			return stageAnalyze
		case p == "sink" || strings.HasPrefix(p, "sink/"):
			return stageOutput
		case p == "risk" || strings.HasPrefix(p, "risk/"):
			return stageRisk
		case p == "pipeline":
			return stagePipeline
		}
		return ""
	}
	switch {
	case strings.HasPrefix(pkg, "modernc.org/"), pkg == "database/sql", pkg == "encoding/json":
		return stageOutput
	case strings.HasPrefix(pkg, "github.com/gopacket/"):
		return stageRead
	}
	return ""
}

// stageOf charges one stack to a stage: the stage of its innermost frame
// in a known stage. A protocol frame reached from the classifier (a probe)
// counts as classification. Stacks with no stage frame are runtime
// background work (GC workers, scheduler) or other.
func stageOf(frames []string) string {
	for i, fn := range frames {
		s := stageOfPkg(pkgOf(fn))
		if s == stagePipeline && strings.Contains(fn, "pipeline.(*correlator)") {
			s = stageRisk // the correlation stage feeding the risk engine
		}
		if s == "" {
			continue
		}
		if s == stageAnalyze && strings.HasPrefix(pkgOf(fn), modulePrefix+"proto/") {
			for _, outer := range frames[i+1:] {
				o := stageOfPkg(pkgOf(outer))
				if o == "" || (o == stageAnalyze && strings.HasPrefix(pkgOf(outer), modulePrefix+"proto/")) {
					continue
				}
				if o == stageClassify {
					return stageClassify
				}
				break
			}
		}
		return s
	}
	for _, fn := range frames {
		if pkgOf(fn) == "runtime" {
			return stageGC
		}
	}
	return stageOther
}

// budget sums traces into stages and flat per-function time.
func budget(traces []trace) Budget {
	byStage := map[string]time.Duration{}
	flat := map[string]time.Duration{}
	var b Budget
	for _, t := range traces {
		byStage[stageOf(t.frames)] += t.cpu
		if len(t.frames) > 0 {
			flat[t.frames[0]] += t.cpu
		}
		b.Total += t.cpu
	}
	for _, s := range stageOrder {
		b.Stages = append(b.Stages, StageCost{Stage: s, CPU: byStage[s]})
	}
	for fn, d := range flat {
		b.Flat = append(b.Flat, FuncCost{Func: fn, CPU: d})
	}
	sort.Slice(b.Flat, func(i, j int) bool {
		if b.Flat[i].CPU != b.Flat[j].CPU {
			return b.Flat[i].CPU > b.Flat[j].CPU
		}
		return b.Flat[i].Func < b.Flat[j].Func
	})
	return b
}
