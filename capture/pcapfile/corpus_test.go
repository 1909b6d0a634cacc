package pcapfile

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// damaged lists the shared captures that are really broken: capinfos
// itself reports an error for them. Keys are relative to the shared
// directory.
var damaged = map[string]struct {
	kind    error
	offset  int64
	packets int // frames read before the error
}{
	// A fuzzer-made pcap 2.0 file: its one record's swapped lengths say
	// 197 bytes, and 2 bytes of a second record header follow.
	"corpus/ndpi/fuzz-2021-10-13.pcap": {ErrTruncated, 237, 1},
}

// sharedDir returns ../shared beside the module root, or skips the test.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "corpus", "ndpi")); err != nil {
		t.Skipf("shared capture corpus absent: %v", err)
	}
	return dir
}

// capinfosResult is one line of `capinfos -T -r -S -M -c -a -e`.
type capinfosResult struct {
	packets     int
	first, last string // epoch seconds as printed, "" when absent
}

// runCapinfos runs capinfos over files (relative to dir) and returns its
// per-file results and the files it reported an error for.
func runCapinfos(t *testing.T, dir string, files []string) (map[string]capinfosResult, map[string]bool) {
	t.Helper()
	cmd := exec.Command("capinfos", append([]string{"-T", "-r", "-S", "-M", "-c", "-a", "-e"}, files...)...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// capinfos exits non-zero when any file is damaged; its stdout still
	// has a line per file.
	if err := cmd.Run(); err != nil && stdout.Len() == 0 {
		t.Fatalf("capinfos: %v: %s", err, stderr.String())
	}
	res := make(map[string]capinfosResult)
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 4 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			t.Fatalf("capinfos line %q: %v", sc.Text(), err)
		}
		res[f[0]] = capinfosResult{packets: n, first: f[2], last: f[3]}
	}
	bad := make(map[string]bool)
	for _, line := range strings.Split(stderr.String(), "\n") {
		if i := strings.Index(line, `"`); i >= 0 && strings.HasPrefix(line, "capinfos:") {
			if j := strings.LastIndex(line, `"`); j > i {
				bad[line[i+1:j]] = true
			}
		}
	}
	return res, bad
}

// parseEpoch parses capinfos' "seconds.fraction"; ok is false when the
// text is not a valid time: absent, or a fraction field that overflows a
// second, which capinfos prints raw (and as a signed number).
func parseEpoch(s string) (time.Time, bool) {
	sec, frac, _ := strings.Cut(s, ".")
	if len(frac) > 9 || strings.Trim(frac, "0123456789") != "" {
		return time.Time{}, false
	}
	secs, err1 := strconv.ParseInt(sec, 10, 64)
	nsec, err2 := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, false
	}
	return unix(secs, nsec), true
}

// TestCorpus reads every capture in ../shared/corpus/ndpi and
// ../shared/pcaps. Each must end cleanly, except the listed damaged ones,
// which must fail as listed. When capinfos is installed, frame counts and
// earliest/latest timestamps must match its report, and the files it calls
// damaged must be exactly the listed ones.
func TestCorpus(t *testing.T) {
	dir := sharedDir(t)
	var files []string
	for _, pat := range []string{"corpus/ndpi/*", "pcaps/*/*"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() || strings.HasSuffix(p, ".md") {
				continue
			}
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
	}
	if len(files) == 0 {
		t.Skip("no captures under the shared directory")
	}
	var want map[string]capinfosResult
	var bad map[string]bool
	if _, err := exec.LookPath("capinfos"); err == nil {
		want, bad = runCapinfos(t, dir, files)
		var listed []string
		for f := range damaged {
			listed = append(listed, f)
		}
		var reported []string
		for f := range bad {
			reported = append(reported, f)
		}
		slices.Sort(listed)
		slices.Sort(reported)
		if !slices.Equal(listed, reported) {
			t.Errorf("capinfos reports damage in %v; the damaged list holds %v", reported, listed)
		}
	}
	for _, rel := range files {
		r, err := Open(filepath.Join(dir, rel))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		n := 0
		var first, last time.Time
		for {
			data, ci, err2 := r.ReadPacket()
			if err2 != nil {
				err = err2
				break
			}
			if len(data) != ci.CaptureLen {
				t.Errorf("%s: frame %d: %d bytes, CaptureLen %d", rel, n, len(data), ci.CaptureLen)
			}
			if n == 0 || ci.Timestamp.Before(first) {
				first = ci.Timestamp
			}
			if n == 0 || ci.Timestamp.After(last) {
				last = ci.Timestamp
			}
			n++
		}
		r.Close()
		if d, ok := damaged[rel]; ok {
			var e *Error
			if !errors.Is(err, d.kind) || !errors.As(err, &e) || e.Offset != d.offset || n != d.packets {
				t.Errorf("%s: %d frames then %v; want %d frames then %v at offset %d", rel, n, err, d.packets, d.kind, d.offset)
			}
		} else if err != io.EOF {
			t.Errorf("%s: after %d frames: %v", rel, n, err)
		}
		if want == nil {
			continue
		}
		w, ok := want[rel]
		if !ok {
			t.Errorf("%s: no capinfos result", rel)
			continue
		}
		if n != w.packets {
			t.Errorf("%s: %d frames, capinfos counts %d", rel, n, w.packets)
		}
		if n == 0 {
			continue
		}
		if wf, ok := parseEpoch(w.first); ok && !first.Equal(wf) {
			t.Errorf("%s: earliest frame at %v, capinfos says %v", rel, first, wf)
		}
		if wl, ok := parseEpoch(w.last); ok && !last.Equal(wl) {
			t.Errorf("%s: latest frame at %v, capinfos says %v", rel, last, wl)
		}
	}
	if want == nil {
		t.Skip("capinfos not installed: every file was read, but counts were not compared")
	}
}
