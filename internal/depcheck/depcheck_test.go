package depcheck

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/peerwatch/peerwatch/"

// rule says what a group of packages may import from the module.
type rule struct {
	pkg    func(p string) bool
	allow  func(imp string) bool
	reason string
}

func prefix(s string) func(string) bool {
	return func(p string) bool { return strings.HasPrefix(p, s) }
}

func oneOf(list ...string) func(string) bool {
	return func(imp string) bool {
		for _, l := range list {
			if imp == l || strings.HasPrefix(imp, l+"/") {
				return true
			}
		}
		return false
	}
}

var rules = []rule{
	{prefix("decode"), func(string) bool { return false },
		"decode imports nothing from the module: every stage uses its types"},
	{func(p string) bool { return strings.HasPrefix(p, "proto/") && p != "proto/all" },
		oneOf("analyzer", "classify", "event", "flow", "internal/wire", "internal/httpwire", "internal/magic", "internal/hostnames"),
		"a protocol plugs in through analyzer only: never sink, risk, pipeline, capture or another proto"},
	{prefix("sink"), func(imp string) bool { return !oneOf("analyzer", "proto", "pipeline")(imp) },
		"sinks see records, never analyzers or the pipeline"},
	{prefix("event"), oneOf("flow", "decode"), "event is a leaf vocabulary"},
	{prefix("flow"), oneOf("decode"), "flow sits right after decode"},
	{prefix("classify"), oneOf("flow", "decode"), "classify sees bytes and flows only"},
	{prefix("reassembly"), oneOf("flow", "decode"), "reassembly sits before classification"},
	{prefix("capture"), oneOf("decode", "capture"), "capture reads frames, nothing after"},
	{prefix("analyzer"), oneOf("classify", "event", "flow", "decode", "internal/magic", "internal/hostnames"), "analyzer knows no sink or pipeline"},
}

// TestLayering parses every non-test Go file and checks its imports.
func TestLayering(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), "//go:build ignore") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		for _, im := range f.Imports {
			imp, _ := strconv.Unquote(im.Path.Value)
			if !strings.HasPrefix(imp, module) {
				continue
			}
			imp = strings.TrimPrefix(imp, module)
			for _, r := range rules {
				if r.pkg(pkg) && !r.allow(imp) {
					t.Errorf("%s imports %s: %s", path, imp, r.reason)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
