package pipeline_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/peerwatch/peerwatch/internal/pcaptest"
	_ "github.com/peerwatch/peerwatch/proto/all"
	"github.com/peerwatch/peerwatch/risk"
)

// equivalent runs files with 1 and 4 workers and requires the same records
// (sorted by flow id and per-flow sequence), byte for byte as EVE lines.
func equivalent(t *testing.T, files []string) {
	t.Helper()
	// The risk stage is on: alerts, volume windows and the matrix must not
	// depend on the number of workers either.
	r1, err := risk.New(risk.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r4, _ := risk.New(risk.Config{})
	one, s1, err1 := pcaptest.Analyze(files, pcaptest.Options{Workers: 1, Risk: r1})
	four, s4, err4 := pcaptest.Analyze(files, pcaptest.Options{Workers: 4, Risk: r4})
	if !reflect.DeepEqual(r1.Matrix(), r4.Matrix()) {
		t.Errorf("threat matrices differ:\n%v\n%v", r1.Matrix(), r4.Matrix())
	}
	if (err1 == nil) != (err4 == nil) {
		t.Fatalf("errors differ: %v / %v", err1, err4)
	}
	if s1.Packets != s4.Packets || s1.Flows != s4.Flows {
		t.Fatalf("summaries differ: %d/%d packets, %d/%d flows", s1.Packets, s4.Packets, s1.Flows, s4.Flows)
	}
	a, b := pcaptest.Lines(one), pcaptest.Lines(four)
	if !bytes.Equal(a, b) {
		la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
		for i := 0; i < len(la) && i < len(lb); i++ {
			if !bytes.Equal(la[i], lb[i]) {
				t.Fatalf("record %d differs:\n1 worker:  %s\n4 workers: %s", i, la[i], lb[i])
			}
		}
		t.Fatalf("record counts differ: %d vs %d", len(la), len(lb))
	}
	t.Logf("%d records, %d flows, %d packets identical", len(one), s1.Flows, s1.Packets)
}

// TestWorkersExpectations: a capture whose second connection is labelled by
// an expectation the first announced.
func TestWorkersExpectations(t *testing.T) {
	files := []string{filepath.Join(pcaptest.Root(), "proto", "template", "testdata", "template.pcap"),
		filepath.Join(pcaptest.Root(), "testdata", "demo.pcapng")}
	equivalent(t, files)
	recs, _, _ := pcaptest.Analyze(files, pcaptest.Options{Workers: 4})
	expected := 0
	for _, r := range recs {
		if r.PW != nil && r.PW.Confidence == "expected" {
			expected++
		}
	}
	if expected == 0 {
		t.Fatal("no record labelled by an expectation: the test proves nothing")
	}
}

// TestWorkersCorpus runs the x6 benchmark corpus built by mkcorpus.
func TestWorkersCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("x6 corpus skipped in -short mode")
	}
	tools := pcaptest.Shared(t, "tools", "mkcorpus")
	corpus := pcaptest.Shared(t, "corpus", "ndpi")
	dir := t.TempDir()
	bin := filepath.Join(dir, "mkcorpus")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = tools
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("cannot build mkcorpus: %v\n%s", err, out)
	}
	ents, _ := os.ReadDir(corpus)
	args := []string{"-o", filepath.Join(dir, "x6.pcap"), "-copies", "6"}
	for _, e := range ents {
		args = append(args, filepath.Join(corpus, e.Name()))
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("mkcorpus: %v\n%s", err, out)
	}
	equivalent(t, []string{filepath.Join(dir, "x6.pcap")})
}

// TestWorkersEpochs: files from different years in one run make the
// capture clock go back (a new epoch); 1 and 4 workers still agree, and
// flows are not split by the jumps.
func TestWorkersEpochs(t *testing.T) {
	root := pcaptest.Root()
	files := []string{
		filepath.Join(root, "proto", "template", "testdata", "template.pcap"),    // 2024
		filepath.Join(root, "proto", "http", "testdata", "nDPI__bt-http.pcapng"), // 2021
		filepath.Join(root, "testdata", "demo.pcapng"),                           // 2006..2026
		filepath.Join(root, "proto", "http", "testdata", "nDPI__http.pcapng"),    // 2022
	}
	equivalent(t, files)
	_, sum, _ := pcaptest.Analyze(files, pcaptest.Options{})
	if sum.Rewinds == 0 {
		t.Fatal("no clock rewind: the test proves nothing")
	}
	_, one, _ := pcaptest.Analyze(files[2:3], pcaptest.Options{})
	_, all, _ := pcaptest.Analyze(files, pcaptest.Options{})
	if all.Flows < one.Flows || all.Flows > one.Flows+10 {
		t.Errorf("%d flows in the run, %d in demo.pcapng alone: jumps split flows", all.Flows, one.Flows)
	}
}
