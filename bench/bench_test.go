package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const sampleTimeV = `some tool stderr line
	Command being timed: "/tmp/pw analyze --workers 1 -q --force -o /tmp/out: odd corpus.pcap"
	User time (seconds): 0.98
	System time (seconds): 0.56
	Percent of CPU this job got: 23%
	Elapsed (wall clock) time (h:mm:ss or m:ss): 0:06.70
	Average shared text size (kbytes): 0
	Maximum resident set size (kbytes): 66668
	Page size (bytes): 4096
	Exit status: 0
`

func TestParseTimeV(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Usage
		err  error
	}{
		{"gnu time", sampleTimeV, Usage{User: 0.98, Sys: 0.56, MaxRSS: 66668, Wall: 6700 * time.Millisecond, HasExit: true}, nil},
		{"hours and exit", "User time (seconds): 12.5\nSystem time (seconds): 1\nMaximum resident set size (kbytes): 1400000\n" +
			"Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02:03\nExit status: 2\n",
			Usage{User: 12.5, Sys: 1, MaxRSS: 1400000, Wall: time.Hour + 2*time.Minute + 3*time.Second, Exit: 2, HasExit: true}, nil},
		{"no rss", "User time (seconds): 1\nSystem time (seconds): 1\n", Usage{}, ErrTimeMissing},
		{"empty", "", Usage{}, ErrTimeMissing},
		{"bad number", "User time (seconds): x\nSystem time (seconds): 1\nMaximum resident set size (kbytes): 1\n", Usage{}, ErrTimeValue},
		{"negative", "User time (seconds): -1\nSystem time (seconds): 1\nMaximum resident set size (kbytes): 1\n", Usage{}, ErrTimeValue},
		{"bad clock", "User time (seconds): 1\nSystem time (seconds): 1\nMaximum resident set size (kbytes): 1\n" +
			"Elapsed (wall clock) time (h:mm:ss or m:ss): 7\n", Usage{}, ErrTimeValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTimeV(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if u, _ := parseTimeV(sampleTimeV); u.CPU() != 0.98+0.56 {
		t.Errorf("CPU() = %v", u.CPU())
	}
}

func FuzzParseTimeV(f *testing.F) {
	f.Add(sampleTimeV)
	f.Add("Elapsed (wall clock) time (h:mm:ss or m:ss): 99999999999:00:00\n")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parseTimeV(s)
		if err == nil && (u.User < 0 || u.Sys < 0 || u.MaxRSS < 0) {
			t.Fatalf("negative usage accepted: %+v", u)
		}
	})
}

const sampleTraces = `File: bench
Type: cpu
Time: 2026-11-25 18:57:13 UTC
Duration: 7.16s, Total samples = 6.91s (96.55%)
-----------+-------------------------------------------------------
      10ms   runtime.memmove
             github.com/peerwatch/peerwatch/decode.(*Decoder).Decode
             github.com/peerwatch/peerwatch/pipeline.(*reader).readAll
-----------+-------------------------------------------------------
     1.50s   github.com/peerwatch/peerwatch/proto/http.probe (inline)
             github.com/peerwatch/peerwatch/classify.(*Engine).Classify
             github.com/peerwatch/peerwatch/pipeline.(*worker).packet
-----------+-------------------------------------------------------
     250us   github.com/peerwatch/peerwatch/internal/httpwire.ParseHeader
             github.com/peerwatch/peerwatch/proto/http.(*conn).Feed
             github.com/peerwatch/peerwatch/pipeline.(*worker).packet
-----------+-------------------------------------------------------
      20ms   runtime.scanobject
             runtime.gcBgMarkWorker
-----------+-------------------------------------------------------
      30ms   modernc.org/sqlite/lib._sqlite3VdbeExec
             database/sql.(*Stmt).ExecContext
             github.com/peerwatch/peerwatch/sink/sqlite.(*Store).writeOne
-----------+-------------------------------------------------------
`

func TestParseTracesAndBudget(t *testing.T) {
	traces, err := parseTraces(sampleTraces)
	if err != nil {
		t.Fatal(err)
	}
	wantCPU := []time.Duration{10 * time.Millisecond, 1500 * time.Millisecond, 250 * time.Microsecond, 20 * time.Millisecond, 30 * time.Millisecond}
	wantStage := []string{stageDecode, stageClassify, stageAnalyze, stageGC, stageOutput}
	if len(traces) != len(wantCPU) {
		t.Fatalf("got %d traces, want %d", len(traces), len(wantCPU))
	}
	for i, tr := range traces {
		if tr.cpu != wantCPU[i] {
			t.Errorf("trace %d cpu = %v, want %v", i, tr.cpu, wantCPU[i])
		}
		if s := stageOf(tr.frames); s != wantStage[i] {
			t.Errorf("trace %d stage = %q, want %q (frames %q)", i, s, wantStage[i], tr.frames)
		}
	}
	if traces[1].frames[0] != "github.com/peerwatch/peerwatch/proto/http.probe" {
		t.Errorf("inline annotation kept: %q", traces[1].frames[0])
	}
	b := budget(traces)
	if want := 1560*time.Millisecond + 250*time.Microsecond; b.Total != want {
		t.Errorf("total = %v, want %v", b.Total, want)
	}
	if len(b.Stages) != len(stageOrder) {
		t.Fatalf("%d stages, want %d", len(b.Stages), len(stageOrder))
	}
	if b.Flat[0].Func != "github.com/peerwatch/peerwatch/proto/http.probe" {
		t.Errorf("largest flat = %q", b.Flat[0].Func)
	}
	if _, err := parseTraces(sampleTraces + "      bogus   line\n"); !errors.Is(err, ErrTraces) {
		t.Errorf("bad value line: err = %v, want ErrTraces", err)
	}
}

func FuzzParseTraces(f *testing.F) {
	f.Add(sampleTraces)
	f.Fuzz(func(t *testing.T, s string) {
		traces, err := parseTraces(s)
		if err != nil {
			return
		}
		for _, tr := range traces {
			if tr.cpu < 0 || len(tr.frames) == 0 {
				t.Fatalf("bad trace %+v", tr)
			}
			stageOf(tr.frames)
		}
	})
}

func TestPkgOfAndStage(t *testing.T) {
	tests := []struct {
		fn, pkg, stage string
	}{
		{"github.com/peerwatch/peerwatch/flow.(*Table).Lookup", "github.com/peerwatch/peerwatch/flow", stageFlows},
		{"github.com/peerwatch/peerwatch/capture/pcapfile.(*Reader).Next", "github.com/peerwatch/peerwatch/capture/pcapfile", stageRead},
		{"github.com/peerwatch/peerwatch/reassembly.(*Assembler).Close", "github.com/peerwatch/peerwatch/reassembly", stageReasm},
		{"github.com/peerwatch/peerwatch/sink/eve.encode", "github.com/peerwatch/peerwatch/sink/eve", stageOutput},
		{"github.com/peerwatch/peerwatch/pipeline.Run.func1", "github.com/peerwatch/peerwatch/pipeline", stagePipeline},
		{"github.com/peerwatch/peerwatch/risk.(*Engine).Observe", "github.com/peerwatch/peerwatch/risk", stageRisk},
		{"github.com/peerwatch/peerwatch/event.(*Record).Time", "github.com/peerwatch/peerwatch/event", ""},
		{"type:.eq.github.com/peerwatch/peerwatch/flow.Key", "github.com/peerwatch/peerwatch/flow", stageFlows},
		{"slices.SortFunc[go.shape.[]string,go.shape.string]", "slices", ""},
		{"modernc.org/libc.Xmemcpy", "modernc.org/libc", stageOutput},
		{"runtime.mallocgc", "runtime", ""},
		{"aeshashbody", "aeshashbody", ""},
	}
	for _, tc := range tests {
		if got := pkgOf(tc.fn); got != tc.pkg {
			t.Errorf("pkgOf(%q) = %q, want %q", tc.fn, got, tc.pkg)
		}
		if got := stageOfPkg(pkgOf(tc.fn)); got != tc.stage {
			t.Errorf("stage of %q = %q, want %q", tc.fn, got, tc.stage)
		}
	}
	if s := stageOf([]string{"github.com/peerwatch/peerwatch/pipeline.(*correlator).process", "github.com/peerwatch/peerwatch/pipeline.Run"}); s != stageRisk {
		t.Errorf("correlator frame: %q, want %q", s, stageRisk)
	}
	if s := stageOf([]string{"aeshashbody"}); s != stageOther {
		t.Errorf("unknown lone frame: %q, want %q", s, stageOther)
	}
}

func TestParsePprofDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"10ms", 10 * time.Millisecond, true},
		{"1.25s", 1250 * time.Millisecond, true},
		{"500us", 500 * time.Microsecond, true},
		{"20ns", 20, true},
		{"2mins", 2 * time.Minute, true},
		{"s", 0, false},
		{"-1s", 0, false},
		{"12", 0, false},
	}
	for _, tc := range tests {
		got, err := parsePprofDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parsePprofDuration(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// pcapBytes builds a classic pcap with records of the given lengths.
func pcapBytes(order binary.ByteOrder, magic uint32, lens ...int) []byte {
	var b bytes.Buffer
	hdr := make([]byte, 24)
	order.PutUint32(hdr[0:], magic)
	order.PutUint16(hdr[4:], 2)
	order.PutUint16(hdr[6:], 4)
	order.PutUint32(hdr[16:], 65535)
	order.PutUint32(hdr[20:], 1)
	b.Write(hdr)
	for _, n := range lens {
		rec := make([]byte, 16)
		order.PutUint32(rec[8:], uint32(n))
		order.PutUint32(rec[12:], uint32(n))
		b.Write(rec)
		b.Write(make([]byte, n))
	}
	return b.Bytes()
}

func TestCountPcap(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want uint64
		ok   bool
	}{
		{"little endian", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 60, 1514, 0), 3, true},
		{"big endian nanosecond", pcapBytes(binary.BigEndian, 0xa1b23c4d, 42, 42), 2, true},
		{"empty capture", pcapBytes(binary.LittleEndian, 0xa1b2c3d4), 0, true},
		{"truncated record", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 60)[:24+16+10], 0, false},
		{"truncated header", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 60)[:24+8], 0, false},
		{"pcapng", append([]byte{0x0a, 0x0d, 0x0d, 0x0a}, make([]byte, 40)...), 0, false},
		{"short", []byte{1, 2}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := countPcap(bytes.NewReader(tc.in))
			if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
				t.Errorf("countPcap = %d, %v; want %d ok=%v", got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestStatsPackets(t *testing.T) {
	eve := []byte(`{"event_type":"flow","flow":{}}
{"event_type":"peerwatch_stats","peerwatch_stats":{"bytes":1,"packets":655602}}
`)
	if n, err := statsPackets(eve); err != nil || n != 655602 {
		t.Errorf("statsPackets = %d, %v; want 655602", n, err)
	}
	if _, err := statsPackets([]byte(`{"event_type":"flow"}` + "\n")); !errors.Is(err, ErrNoStats) {
		t.Errorf("no stats: err = %v, want ErrNoStats", err)
	}
}

func TestMedianAndSummary(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tc := range tests {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	r := result{tool: "x", runs: []Usage{{User: 1, Sys: 1, MaxRSS: 2048}, {User: 3, Sys: 1, MaxRSS: 4096}, {User: 0.5, Sys: 0.5, MaxRSS: 1024}}}
	s := summarize(r, 1000)
	if s.cpu != 2 || s.minCPU != 1 || s.maxCPU != 4 || s.rssMB != 2 || s.pps != 500 {
		t.Errorf("summary = %+v", s)
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-copies", "6, 45", "-runs", "0"})
	if err != nil || len(o.copies) != 2 || o.copies[0] != 6 || o.copies[1] != 45 || o.runs != 1 {
		t.Errorf("parseFlags = %+v, %v", o, err)
	}
	for _, bad := range []string{"", "x", "0", "6,,45"} {
		if _, err := parseFlags([]string{"-copies", bad}); !errors.Is(err, ErrBadCopies) {
			t.Errorf("-copies %q: err = %v, want ErrBadCopies", bad, err)
		}
	}
}

func TestProcField(t *testing.T) {
	info := []byte("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu\n")
	tests := []struct{ key, want string }{
		{"model name", "AMD EPYC"},
		{"flags", "fpu"},
		{"missing", "unknown"},
	}
	for _, tc := range tests {
		if got := procField(info, tc.key); got != tc.want {
			t.Errorf("procField(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

// TestSettle: the output directory a tool's -o names is gone before its
// next run; a tool without -o keeps everything.
func TestSettle(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "eve.json"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := settle(tool{"ndpiReader", []string{"ndpiReader", "-i", "x.pcap", "-q"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatalf("a tool without -o removed %s: %v", out, err)
	}
	if err := settle(tool{"pw", []string{"peerwatch", "analyze", "-o", out, "x.pcap"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("%s still there after settle: %v", out, err)
	}
}
