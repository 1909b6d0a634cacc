package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// ErrNoStats is returned when eve.json holds no peerwatch_stats record.
var ErrNoStats = errors.New("bench: no peerwatch_stats record")

func newByteReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, 1<<20) }

// statsPackets returns peerwatch_stats.packets from the last stats record of
// an eve.json document (one JSON object per line).
func statsPackets(eve []byte) (uint64, error) {
	var found bool
	var packets uint64
	for line := range bytes.Lines(eve) {
		if !bytes.Contains(line, []byte(`"peerwatch_stats"`)) {
			continue
		}
		var rec struct {
			EventType string `json:"event_type"`
			Stats     *struct {
				Packets uint64 `json:"packets"`
			} `json:"peerwatch_stats"`
		}
		if err := json.Unmarshal(line, &rec); err != nil || rec.EventType != "peerwatch_stats" || rec.Stats == nil {
			continue
		}
		packets, found = rec.Stats.Packets, true
	}
	if !found {
		return 0, ErrNoStats
	}
	return packets, nil
}

// cpuModel returns the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	return procField(b, "model name")
}

// memTotal returns MemTotal from /proc/meminfo in GiB.
func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	v := procField(b, "MemTotal")
	kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64)
	if err != nil {
		return v
	}
	return fmt.Sprintf("%.1f GiB", kb/(1<<20))
}

// procField returns the value of the first "key : value" line of a /proc
// file, or "unknown".
func procField(b []byte, key string) string {
	for line := range bytes.Lines(b) {
		k, v, ok := strings.Cut(string(line), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAvg returns the 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// commandLine returns the first line a command prints, or "unknown".
func commandLine(name string, args ...string) string {
	out, _ := exec.Command(name, args...).CombinedOutput()
	for line := range strings.Lines(string(out)) {
		if s := strings.TrimSpace(line); s != "" {
			return s
		}
	}
	return "unknown"
}

func writeMachine(w io.Writer, o options, pw, goTool, root string) {
	fmt.Fprintln(w, "# peerwatch benchmark")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "- machine: %d CPUs (nproc), %s, %s RAM, kernel %s\n", runtime.NumCPU(), cpuModel(), memTotal(),
		commandLine("uname", "-r"))
	fmt.Fprintf(w, "- load average at start: %s (the machine is shared; see README)\n", loadAvg())
	fmt.Fprintf(w, "- peerwatch: %s, built by %s\n", commandLine(pw, "version"), commandLine(goTool, "version"))
	if o.ndpi != "" {
		fmt.Fprintf(w, "- reference: %s (%s)\n", o.ndpi, ndpiVersion(o.ndpi))
	} else {
		fmt.Fprintln(w, "- reference: ndpiReader not installed, not measured")
	}
	fmt.Fprintf(w, "- corpus source: %s (module root %s)\n", o.corpus, root)
}

// ndpiVersion returns the "nDPI x.y" banner ndpiReader prints with -h.
func ndpiVersion(path string) string {
	out, _ := exec.Command(path, "-h").CombinedOutput()
	for line := range strings.Lines(string(out)) {
		if i := strings.Index(line, "nDPI "); i >= 0 {
			return strings.TrimSpace(line[i:])
		}
	}
	return "version unknown"
}
