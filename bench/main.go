// Command bench measures peerwatch against Debian's ndpiReader on the
// standard benchmark corpora. It builds peerwatch and the corpora, runs
// `peerwatch analyze --workers 1` with output on, the same with --no-output
// and `ndpiReader -i FILE -q` in alternation under /usr/bin/time -v, and
// reports CPU seconds, peak RSS, packets per CPU-second and the ratios, then
// a per-stage CPU budget from an in-process CPU profile. See README.md.
//
// Usage:
//
//	go run ./bench -copies 6 -runs 3 -workdir /tmp/pwbench
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Errors of the harness.
var (
	ErrNoModule  = errors.New("bench: not inside the peerwatch module")
	ErrNoTime    = errors.New("bench: /usr/bin/time not found (install it: apt-get install time)")
	ErrToolRun   = errors.New("bench: tool failed")
	ErrNotPcap   = errors.New("bench: not a classic pcap file")
	ErrBadCopies = errors.New("bench: bad -copies list")
)

const timeBin = "/usr/bin/time"

// options are the command-line flags.
type options struct {
	copies   []int
	runs     int
	workdir  string
	corpus   string
	mkcorpus string
	ndpi     string
	profile  bool
	passes   int
	rebuild  bool
	report   string
}

// tool is one measured command.
type tool struct {
	name string
	args []string
}

// result holds one tool's runs on one corpus.
type result struct {
	tool string
	runs []Usage
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	copies := fs.String("copies", "6", "corpus sizes: comma-separated mkcorpus -copies values (6, 45)")
	fs.IntVar(&o.runs, "runs", 3, "runs per tool; the tools alternate and medians are reported")
	fs.StringVar(&o.workdir, "workdir", filepath.Join(os.TempDir(), "pwbench"), "directory for binaries, corpora, outputs and logs")
	fs.StringVar(&o.corpus, "corpus", "", "input captures for mkcorpus (default ../shared/corpus/ndpi from the module root)")
	fs.StringVar(&o.mkcorpus, "mkcorpus", "", "mkcorpus source directory (default ../shared/tools/mkcorpus)")
	fs.StringVar(&o.ndpi, "ndpi", "ndpiReader", "reference tool; empty to skip it")
	fs.BoolVar(&o.profile, "profile", true, "profile an in-process run for the per-stage CPU budget")
	fs.IntVar(&o.passes, "profile-passes", 0, "passes over the corpus under the profiler (0: enough for about 2 M packets)")
	fs.BoolVar(&o.rebuild, "rebuild", false, "rebuild corpora even if present")
	fs.StringVar(&o.report, "report", "", "also write the report here (default WORKDIR/report.md)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, c := range strings.Split(*copies, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 || n > 1000 {
			return o, fmt.Errorf("%w: %q", ErrBadCopies, *copies)
		}
		o.copies = append(o.copies, n)
	}
	if o.runs < 1 {
		o.runs = 1
	}
	return o, nil
}

func run(args []string, stdout io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if o.corpus == "" {
		o.corpus = filepath.Join(root, "..", "shared", "corpus", "ndpi")
	}
	if o.mkcorpus == "" {
		o.mkcorpus = filepath.Join(root, "..", "shared", "tools", "mkcorpus")
	}
	if o.report == "" {
		o.report = filepath.Join(o.workdir, "report.md")
	}
	if _, err := os.Stat(timeBin); err != nil {
		return ErrNoTime
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	if o.ndpi != "" {
		p, err := exec.LookPath(o.ndpi)
		if err != nil {
			logf("ndpiReader not found (%v): measuring peerwatch alone; install libndpi-bin for the comparison", err)
			o.ndpi = ""
		} else {
			o.ndpi = p
		}
	}
	if err := os.MkdirAll(filepath.Join(o.workdir, "logs"), 0o750); err != nil {
		return err
	}

	pw := filepath.Join(o.workdir, "peerwatch")
	logf("building peerwatch -> %s", pw)
	if err := goBuild(goTool, root, pw, "./cmd/peerwatch"); err != nil {
		return err
	}
	mk := filepath.Join(o.workdir, "mkcorpus")
	logf("building mkcorpus -> %s", mk)
	if err := goBuild(goTool, o.mkcorpus, mk, "."); err != nil {
		return err
	}

	var rep bytes.Buffer
	w := io.MultiWriter(stdout, &rep)
	writeMachine(w, o, pw, goTool, root)
	for _, n := range o.copies {
		if err := benchCorpus(w, o, n, pw, mk, goTool); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nload average at the end: %s\n", loadAvg())
	return os.WriteFile(o.report, rep.Bytes(), 0o644)
}

// benchCorpus builds (or reuses) corpus xN and measures it.
func benchCorpus(w io.Writer, o options, n int, pw, mk, goTool string) error {
	file := filepath.Join(o.workdir, fmt.Sprintf("corpus-x%d.pcap", n))
	if err := buildCorpus(o, mk, file, n); err != nil {
		return err
	}
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	packets, err := countPackets(file)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n## Corpus x%d\n\n%s: %.1f MB, %d packets (counted from the pcap record headers)\n\n",
		n, file, float64(st.Size())/1e6, packets)

	keyFile := filepath.Join(o.workdir, "fingerprint.key")
	outDir := filepath.Join(o.workdir, fmt.Sprintf("out-x%d", n))
	tools := []tool{
		{"peerwatch (output)", []string{pw, "analyze", "--workers", "1", "-q", "--force", "--key-file", keyFile, "-o", outDir, file}},
		{"peerwatch (engine, --no-output)", []string{pw, "analyze", "--workers", "1", "-q", "--no-output", "--key-file", keyFile, file}},
		{workers2, []string{pw, "analyze", "--workers", "2", "-q", "--force", "--key-file", keyFile, "-o", outDir + "-w2", file}},
	}
	if o.ndpi != "" {
		tools = append(tools, tool{"ndpiReader", []string{o.ndpi, "-i", file, "-q"}})
	}
	loadBefore := loadAvg()
	results := make([]result, len(tools))
	for r := 0; r < o.runs; r++ {
		for i, t := range tools {
			if err := settle(t); err != nil {
				return err
			}
			u, err := timeRun(o.workdir, t, n, r)
			if err != nil {
				return err
			}
			logf("x%d run %d %-32s cpu %.2fs (user %.2f sys %.2f) rss %d MiB wall %.2fs", n, r+1, t.name, u.CPU(), u.User, u.Sys, u.MaxRSS/1024, u.Wall.Seconds())
			results[i].tool = t.name
			results[i].runs = append(results[i].runs, u)
		}
	}
	fmt.Fprintf(w, "%d runs per tool, alternating %s; load average before %s, after %s.\n\n",
		o.runs, toolNames(tools), loadBefore, loadAvg())
	writeResults(w, results, packets)
	writeScaling(w, results, packets)
	if err := vcpuCheck(w, o, n, tools[1]); err != nil {
		return err
	}
	if stats, err := pwStatsPackets(filepath.Join(outDir, "eve.json")); err == nil {
		fmt.Fprintf(w, "\npeerwatch's own count (peerwatch_stats in eve.json): %d packets.\n", stats)
	}

	if !o.profile {
		return nil
	}
	passes := o.passes
	if passes <= 0 {
		passes = int((2_000_000 + packets - 1) / max(packets, 1))
		passes = min(max(passes, 1), 10)
	}
	prof := filepath.Join(o.workdir, fmt.Sprintf("cpu-x%d.pprof", n))
	logf("x%d profiling %d in-process pass(es) -> %s", n, passes, prof)
	start := time.Now()
	_, used, err := profileRun(file, filepath.Join(o.workdir, fmt.Sprintf("prof-out-x%d", n)), prof, passes)
	if err != nil {
		return err
	}
	wall := time.Since(start)
	b, err := budgetFromProfile(goTool, prof)
	if err != nil {
		return err
	}
	writeBudget(w, b, passes, wall, used, prof)
	return nil
}

// vcpuCheck runs the engine-alone tool once pinned to each vCPU (taskset)
// and reports their wall times: on a shared host the vCPUs need not be
// equally fast, and a two-worker scaling ratio cannot exceed
// 1 + slower/faster. Skipped without taskset or with one vCPU.
func vcpuCheck(w io.Writer, o options, n int, engine tool) error {
	ts, err := exec.LookPath("taskset")
	if err != nil || runtime.NumCPU() < 2 {
		return nil
	}
	var walls []float64
	for c := 0; c < runtime.NumCPU(); c++ {
		t := tool{fmt.Sprintf("engine pinned to cpu%d", c), append([]string{ts, "-c", strconv.Itoa(c)}, engine.args...)}
		if err := settle(t); err != nil {
			return err
		}
		u, err := timeRun(o.workdir, t, n, 0)
		if err != nil {
			return err
		}
		logf("x%d %-40s wall %.2fs", n, t.name, u.Wall.Seconds())
		walls = append(walls, u.Wall.Seconds())
	}
	fmt.Fprintf(w, "\nvCPU check (%s, once pinned to each vCPU after the runs), wall s:", engine.name)
	for c, x := range walls {
		fmt.Fprintf(w, " cpu%d %.2f", c, x)
	}
	lo, hi := slices.Min(walls), slices.Max(walls)
	if lo > 0 {
		fmt.Fprintf(w, "; slowest/fastest %.2f, so two workers cannot scale beyond about %.2fx now", hi/lo, 1+lo/hi)
	}
	fmt.Fprintln(w, ".")
	return nil
}

// workers2 names the --workers 2 run, whose wall time is compared with
// the --workers 1 run with output.
const workers2 = "peerwatch (output, --workers 2)"

// writeScaling reports packets per wall-second of --workers 2 against
// --workers 1, both with output on.
func writeScaling(w io.Writer, results []result, packets uint64) {
	var w1, w2 float64
	for _, r := range results {
		switch r.tool {
		case "peerwatch (output)":
			w1 = summarize(r, packets).wall
		case workers2:
			w2 = summarize(r, packets).wall
		}
	}
	if w1 <= 0 || w2 <= 0 {
		return
	}
	fmt.Fprintf(w, "\nWorkers scaling (output on, median wall): --workers 1 %.2f s (%.0f k packets/s), --workers 2 %.2f s (%.0f k packets/s): %.2fx.\n",
		w1, float64(packets)/w1/1000, w2, float64(packets)/w2/1000, w1/w2)
}

func toolNames(ts []tool) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.name)
	}
	return strings.Join(s, ", ")
}

// settle prepares the disk for a timed run, outside its timing: it
// removes the output directory a previous run of t left (its -o) and
// flushes every dirty page to disk. Otherwise a run shares the disk with
// the write-back of the gigabyte the run before it wrote, and pays for
// unlinking it.
func settle(t tool) error {
	for i, a := range t.args {
		if a == "-o" && i+1 < len(t.args) {
			if err := os.RemoveAll(t.args[i+1]); err != nil {
				return err
			}
		}
	}
	syscall.Sync()
	return nil
}

// timeRun runs one tool under /usr/bin/time -v.
func timeRun(workdir string, t tool, n, r int) (Usage, error) {
	slug := strings.NewReplacer(" ", "_", "(", "", ")", "", ",", "", "--", "").Replace(t.name)
	logPath := filepath.Join(workdir, "logs", fmt.Sprintf("x%d-run%d-%s", n, r+1, slug))
	outF, err := os.Create(logPath + ".out")
	if err != nil {
		return Usage{}, err
	}
	defer outF.Close()
	var errBuf bytes.Buffer
	cmd := exec.Command(timeBin, append([]string{"-v"}, t.args...)...)
	cmd.Stdout = outF
	cmd.Stderr = &errBuf
	runErr := cmd.Run()
	if err := os.WriteFile(logPath+".err", errBuf.Bytes(), 0o644); err != nil {
		return Usage{}, err
	}
	u, err := parseTimeV(errBuf.String())
	if err != nil {
		return Usage{}, fmt.Errorf("%s: %w (see %s.err)", t.name, err, logPath)
	}
	if runErr != nil || (u.HasExit && u.Exit != 0) {
		return Usage{}, fmt.Errorf("%w: %s: %v, exit %d (see %s.err)", ErrToolRun, t.name, runErr, u.Exit, logPath)
	}
	return u, nil
}

// median returns the median of xs (the mean of the middle two for an even
// count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// summary is one tool's medians.
type summary struct {
	cpu, user, sys, wall, rssMB, minCPU, maxCPU, pps float64
}

func summarize(r result, packets uint64) summary {
	var cpu, user, sys, wall, rss []float64
	for _, u := range r.runs {
		cpu = append(cpu, u.CPU())
		user = append(user, u.User)
		sys = append(sys, u.Sys)
		wall = append(wall, u.Wall.Seconds())
		rss = append(rss, float64(u.MaxRSS)/1024)
	}
	s := summary{cpu: median(cpu), user: median(user), sys: median(sys), wall: median(wall), rssMB: median(rss)}
	s.minCPU, s.maxCPU = cpu[0], cpu[0]
	for _, c := range cpu {
		s.minCPU, s.maxCPU = min(s.minCPU, c), max(s.maxCPU, c)
	}
	if s.cpu > 0 {
		s.pps = float64(packets) / s.cpu
	}
	return s
}

func writeResults(w io.Writer, results []result, packets uint64) {
	sums := make([]summary, len(results))
	ref := -1
	for i, r := range results {
		sums[i] = summarize(r, packets)
		if r.tool == "ndpiReader" {
			ref = i
		}
	}
	fmt.Fprintln(w, "| tool | CPU s (median) | CPU s (min-max) | user s | sys s | wall s | peak RSS MiB | packets / CPU-s | pkt/CPU-s vs ndpiReader | RSS vs ndpiReader |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for i, s := range sums {
		ratio, rssRatio := "-", "-"
		if ref >= 0 && sums[ref].pps > 0 && sums[ref].rssMB > 0 {
			ratio = fmt.Sprintf("%.2fx", s.pps/sums[ref].pps)
			rssRatio = fmt.Sprintf("%.2fx", s.rssMB/sums[ref].rssMB)
		}
		fmt.Fprintf(w, "| %s | %.2f | %.2f-%.2f | %.2f | %.2f | %.2f | %.0f | %.0f k | %s | %s |\n",
			results[i].tool, s.cpu, s.minCPU, s.maxCPU, s.user, s.sys, s.wall, s.rssMB, s.pps/1000, ratio, rssRatio)
	}
	fmt.Fprintln(w, "\nRaw runs (CPU s / peak RSS MiB), in execution order:")
	fmt.Fprintln(w)
	for _, r := range results {
		var parts []string
		for _, u := range r.runs {
			parts = append(parts, fmt.Sprintf("%.2f/%d", u.CPU(), u.MaxRSS/1024))
		}
		fmt.Fprintf(w, "- %s: %s\n", r.tool, strings.Join(parts, ", "))
	}
}

func writeBudget(w io.Writer, b Budget, passes int, wall, used time.Duration, prof string) {
	fmt.Fprintf(w, "\nPer-stage CPU budget: in-process pipeline.Run, workers 1, EVE + SQLite output, %d pass(es); "+
		"%.2f CPU s sampled, %.2f CPU s by getrusage (%.2f s per pass), %.1f s wall; profile %s.\n\n",
		passes, b.Total.Seconds(), used.Seconds(), used.Seconds()/float64(passes), wall.Seconds(), prof)
	fmt.Fprintln(w, "| stage | CPU s | share |")
	fmt.Fprintln(w, "|---|---:|---:|")
	for _, s := range b.Stages {
		share := 0.0
		if b.Total > 0 {
			share = 100 * s.CPU.Seconds() / b.Total.Seconds()
		}
		fmt.Fprintf(w, "| %s | %.2f | %.1f%% |\n", s.Stage, s.CPU.Seconds(), share)
	}
	fmt.Fprintln(w, "\nTop functions by flat CPU time:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| function | flat CPU s | share |")
	fmt.Fprintln(w, "|---|---:|---:|")
	for i, f := range b.Flat {
		if i == 15 {
			break
		}
		share := 0.0
		if b.Total > 0 {
			share = 100 * f.CPU.Seconds() / b.Total.Seconds()
		}
		fmt.Fprintf(w, "| `%s` | %.2f | %.1f%% |\n", f.Func, f.CPU.Seconds(), share)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// moduleRoot walks up from the working directory to peerwatch's go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/peerwatch/peerwatch\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoModule
		}
		dir = parent
	}
}

func goBuild(goTool, dir, out, pkg string) error {
	cmd := exec.Command(goTool, "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("bench: go build %s in %s: %w", pkg, dir, err)
	}
	return nil
}

// buildCorpus runs mkcorpus unless the corpus and its marker exist.
func buildCorpus(o options, mk, file string, n int) error {
	marker := file + ".done"
	if !o.rebuild {
		if _, err := os.Stat(marker); err == nil {
			logf("reusing %s (delete it or pass -rebuild to rebuild)", file)
			return nil
		}
	}
	inputs, err := filepath.Glob(filepath.Join(o.corpus, "*"))
	if err != nil || len(inputs) == 0 {
		return fmt.Errorf("bench: no captures in %s", o.corpus)
	}
	sort.Strings(inputs)
	logf("building %s from %d captures x%d", file, len(inputs), n)
	os.Remove(marker)
	var msgs bytes.Buffer
	cmd := exec.Command(mk, append([]string{"-o", file, "-copies", strconv.Itoa(n)}, inputs...)...)
	cmd.Stdout = &msgs
	cmd.Stderr = &msgs
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("bench: mkcorpus: %w: %s", err, msgs.String())
	}
	return os.WriteFile(marker, msgs.Bytes(), 0o644)
}

// countPackets counts the records of a classic pcap file by walking its
// record headers.
func countPackets(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return countPcap(f)
}

// countPcap counts the records of a classic pcap stream.
func countPcap(r io.Reader) (uint64, error) {
	br := newByteReader(r)
	var hdr [24]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return 0, ErrNotPcap
	}
	var le bool
	switch string(hdr[:4]) {
	case "\xd4\xc3\xb2\xa1", "\x4d\x3c\xb2\xa1":
		le = true
	case "\xa1\xb2\xc3\xd4", "\xa1\xb2\x3c\x4d":
	default:
		return 0, ErrNotPcap
	}
	var n uint64
	var rec [16]byte
	for {
		if _, err := io.ReadFull(br, rec[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, fmt.Errorf("bench: truncated pcap after %d records", n)
		}
		b := rec[8:12]
		var incl uint32
		if le {
			incl = uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		} else {
			incl = uint32(b[3]) | uint32(b[2])<<8 | uint32(b[1])<<16 | uint32(b[0])<<24
		}
		if incl > 1<<28 {
			return n, fmt.Errorf("%w: record %d claims %d bytes", ErrNotPcap, n, incl)
		}
		if _, err := br.Discard(int(incl)); err != nil {
			return n, fmt.Errorf("bench: truncated pcap in record %d", n)
		}
		n++
	}
}

// pwStatsPackets reads the packets figure of the peerwatch_stats record in
// an eve.json file.
func pwStatsPackets(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return statsPackets(b)
}
