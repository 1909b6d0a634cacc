package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Update makes Check rewrite golden files instead of comparing with them.
// It is the -update flag of every test binary that imports this package.
var Update = flag.Bool("update", false, "rewrite golden files")

// Check compares got with the golden file at path and fails t with a line
// diff (- want, + got) if they differ. With -update it writes got to path
// instead, creating its directory, and reports nothing.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("golden: %v", err)
			return
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden: %v (run the test with -update to create it)", err)
		return
	}
	if bytes.Equal(want, got) {
		return
	}
	t.Errorf("golden: %s differs (- want, + got; run with -update to accept):\n%s",
		path, cmp.Diff(lines(want), lines(got)))
}

// lines splits b into lines for the diff, so that one changed record shows
// as one changed line.
func lines(b []byte) []string {
	return strings.SplitAfter(string(b), "\n")
}
