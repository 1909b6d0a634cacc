package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTB records failures instead of failing the real test.
type fakeTB struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.failed = true
	f.msg = fmt.Sprintf(format, args...)
}

func (f *fakeTB) Fatalf(format string, args ...any) { f.Errorf(format, args...) }

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.golden.jsonl")
	if err := os.WriteFile(path, []byte("{\"a\":1}\n{\"b\":2}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		got      string
		fail     bool
		contains []string
	}{
		{name: "equal", path: path, got: "{\"a\":1}\n{\"b\":2}\n"},
		{name: "changed line", path: path, got: "{\"a\":1}\n{\"b\":3}\n", fail: true,
			contains: []string{`{\"b\":2}`, `{\"b\":3}`, "-update"}},
		{name: "missing newline", path: path, got: "{\"a\":1}\n{\"b\":2}", fail: true},
		{name: "missing file", path: filepath.Join(dir, "none"), got: "x", fail: true,
			contains: []string{"-update"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeTB{TB: t}
			Check(f, tt.path, []byte(tt.got))
			if f.failed != tt.fail {
				t.Fatalf("failed = %v, want %v (%s)", f.failed, tt.fail, f.msg)
			}
			for _, s := range tt.contains {
				if !strings.Contains(f.msg, s) {
					t.Errorf("message lacks %q:\n%s", s, f.msg)
				}
			}
		})
	}
}

func TestCheckUpdate(t *testing.T) {
	old := *Update
	*Update = true
	defer func() { *Update = old }()
	path := filepath.Join(t.TempDir(), "sub", "new.golden")
	f := &fakeTB{TB: t}
	Check(f, path, []byte("line\n"))
	if f.failed {
		t.Fatalf("update failed: %s", f.msg)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "line\n" {
		t.Fatalf("after update: %q, %v", b, err)
	}
	*Update = false
	Check(f, path, []byte("line\n"))
	if f.failed {
		t.Fatalf("check after update failed: %s", f.msg)
	}
}
