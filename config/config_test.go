package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultValidates(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Workers < 1 {
		t.Errorf("workers = %d after Validate", c.Workers)
	}
	p, err := c.Prefixes()
	if err != nil || len(p) != 4 {
		t.Fatalf("home_net prefixes %v, %v", p, err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	c, err := Load(write("ok.yaml", "workers: 3\nhome_net: [192.0.2.0/24]\nflow:\n  udp_idle: 10m\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Workers != 3 || c.Flow.UDPIdle != 10*time.Minute || c.HomeNet[0] != "192.0.2.0/24" || c.Flow.TCPIdle != 5*time.Minute {
		t.Errorf("loaded %+v", c)
	}
	if _, err := Load(write("empty.yaml", "")); err != nil {
		t.Errorf("empty file: %v", err)
	}
	for name, body := range map[string]string{
		"unknown.yaml":  "wokers: 3\n",
		"badnet.yaml":   "home_net: [not-a-net]\n",
		"negative.yaml": "flow:\n  max_flows: -1\n",
		"range.yaml":    "workers: 1000\n",
		"syntax.yaml":   "flow: [\n",
	} {
		if _, err := Load(write(name, body)); err == nil || !strings.HasPrefix(err.Error(), "config: ") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestProtocolParams(t *testing.T) {
	p := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(p, []byte("protocols:\n  oscar:\n    game_data_max: 512\n"), 0o644)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Protocols["oscar"]["game_data_max"] != 512 {
		t.Errorf("protocols = %v", c.Protocols)
	}
}

func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		name string
		mem  Memory
		want int64
	}{
		{"derived", Memory{Headroom: 1 << 20}, 0},
		{"set", Memory{Limit: 3 << 30}, 3 << 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Memory = tc.mem
			want := tc.want
			if want == 0 {
				want = c.MemoryCaps() + tc.mem.Headroom
			}
			if got := c.MemoryLimit(); got != want {
				t.Errorf("MemoryLimit = %d, want %d", got, want)
			}
		})
	}
	c := Default()
	caps := int64(c.Flow.MaxFlows)*FlowStateBytes + int64(c.Stream.MaxBufferedTotal) + int64(c.Frag.MaxBytes) + int64(c.Expect.Max)*ExpectationBytes
	if c.MemoryCaps() != caps {
		t.Errorf("MemoryCaps = %d, want %d", c.MemoryCaps(), caps)
	}
	c.Memory.GCPercent = -1
	if err := c.Validate(); err == nil {
		t.Error("negative gc_percent accepted")
	}
}
