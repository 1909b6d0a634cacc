package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration of a run.
type Config struct {
	Workers int `yaml:"workers"` // worker goroutines; 0: number of CPUs
	// HomeNet lists our networks: they decide which side of a flow is "our
	// host" in records, reports and countermeasures.
	HomeNet []string `yaml:"home_net"`

	Flow       Flow       `yaml:"flow"`
	Stream     Stream     `yaml:"stream"`
	Frag       Frag       `yaml:"defrag"`
	Expect     Expect     `yaml:"expectations"`
	Output     Output     `yaml:"output"`
	Privacy    Privacy    `yaml:"privacy"`
	Files      Files      `yaml:"files"`
	Classifier Classifier `yaml:"classifier"`
	Memory     Memory     `yaml:"memory"`
	Risk       Risk       `yaml:"risk"`
	// HostnamesFile adds entries to the built-in host name list
	// (internal/hostnames/services.txt format): "<pattern> <service> <product>".
	HostnamesFile string `yaml:"hostnames_file"`
	// Protocols holds per-protocol tunables, e.g.
	//   protocols: {oscar: {game_data_max: 256, game_data_nonprintable_run: 32}}
	// Each protocol's README lists its keys and defaults.
	Protocols map[string]map[string]int64 `yaml:"protocols"`
}

// Flow bounds the flow table; durations are capture time.
type Flow struct {
	MaxFlows     int           `yaml:"max_flows"`
	TCPIdle      time.Duration `yaml:"tcp_idle"`
	TCPEmbryonic time.Duration `yaml:"tcp_embryonic"`
	UDPIdle      time.Duration `yaml:"udp_idle"`
	// Linger keeps a closed TCP flow this long so that retransmitted FINs
	// (exponential backoff when the last ACK is lost) do not start new flows.
	Linger        time.Duration `yaml:"linger"`
	ActiveTimeout time.Duration `yaml:"active_timeout"`
}

// Stream bounds TCP reassembly (bytes).
type Stream struct {
	MaxBufferedPerDir int `yaml:"max_buffered_per_dir"`
	MaxBufferedTotal  int `yaml:"max_buffered_total"`
	// MaxAnalyzerBuffer bounds the unconsumed bytes an analyzer may leave per direction.
	MaxAnalyzerBuffer int `yaml:"max_analyzer_buffer"`
}

// Frag bounds IP fragment reassembly.
type Frag struct {
	Timeout      time.Duration `yaml:"timeout"`
	MaxBytes     int           `yaml:"max_bytes"`
	MaxDatagrams int           `yaml:"max_datagrams"`
}

// Expect bounds the expectation table.
type Expect struct {
	Max     int           `yaml:"max"`
	PerHost int           `yaml:"per_host"`
	TTL     time.Duration `yaml:"ttl"`
}

// Risk configures the risk stage (DESIGN §6): findings, policy and the
// per-host volume windows.
type Risk struct {
	Enabled bool `yaml:"enabled"` // weigh events against the catalogue and write alerts
	// Policy is the policy file (YAML, see examples/policy.yaml); empty:
	// every finding is an alert.
	Policy string `yaml:"policy"`
	// IOC is a known-bad list (hashes and file names, risk/README.md)
	// used besides the built-in one.
	IOC string `yaml:"ioc"`
	// Window is the tumbling window of capture time over which each local
	// host's volume per protocol is summed.
	Window time.Duration `yaml:"window"`
	// VolumeBytes is the volume per host, protocol and window that raises
	// copyright_bandwidth.
	VolumeBytes int64 `yaml:"volume_bytes"`
}

// Memory sets the Go runtime's memory targets (see MemoryLimit).
type Memory struct {
	// Limit is the soft memory limit in bytes; 0 derives it from the other
	// bounds (MemoryCaps plus Headroom).
	Limit int64 `yaml:"limit"`
	// Headroom is added to MemoryCaps for the derived limit: the output
	// stage, read buffers and garbage not yet collected.
	Headroom int64 `yaml:"headroom"`
	// GCPercent is the garbage collector's GOGC; the memory limit makes
	// the collector work harder when the heap nears it, so a high value
	// trades idle memory for less collection. 0 keeps the runtime's.
	GCPercent int `yaml:"gc_percent"`
}

// Estimated bytes of state per unit of the configured bounds, used by
// MemoryCaps: a tracked flow with its connection state and classification
// buffers, and a pending expectation.
const (
	FlowStateBytes   = 1024
	ExpectationBytes = 512
)

// MemoryCaps is the sum of the configured caps in bytes: flow table,
// reassembly, IP fragments and expectations.
func (c *Config) MemoryCaps() int64 {
	return int64(c.Flow.MaxFlows)*FlowStateBytes + int64(c.Stream.MaxBufferedTotal) +
		int64(c.Frag.MaxBytes) + int64(c.Expect.Max)*ExpectationBytes
}

// MemoryLimit is the soft memory limit a run sets: Memory.Limit if set,
// else MemoryCaps plus Memory.Headroom.
func (c *Config) MemoryLimit() int64 {
	if c.Memory.Limit > 0 {
		return c.Memory.Limit
	}
	return c.MemoryCaps() + c.Memory.Headroom
}

// ApplyMemory sets the runtime's soft memory limit to MemoryLimit, unless
// the environment sets GOMEMLIMIT (which wins), and the GC percent to
// Memory.GCPercent unless GOGC is set. It returns the limit in force.
func (c *Config) ApplyMemory() int64 {
	if c.Memory.GCPercent > 0 && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(c.Memory.GCPercent)
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(c.MemoryLimit())
	return c.MemoryLimit()
}

// Output says where and what to write.
type Output struct {
	Dir      string `yaml:"dir"`
	EVE      bool   `yaml:"eve"`
	SQLite   bool   `yaml:"sqlite"`
	AllFlows bool   `yaml:"db_all_flows"`
}

// Privacy holds the content and credential choices (DESIGN §7).
type Privacy struct {
	CaptureContent    bool   `yaml:"capture_content"`
	RevealCredentials bool   `yaml:"reveal_credentials"`
	KeyFile           string `yaml:"key_file"` // per-install HMAC key for credential fingerprints
}

// Files configures file extraction.
type Files struct {
	ExtractDir string `yaml:"extract_dir"`
	ExtractMax int64  `yaml:"extract_max"`
}

// Classifier bounds classification.
type Classifier struct {
	MaxPackets int `yaml:"max_packets"` // payload packets inspected per flow before giving up
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		HomeNet: []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"},
		Flow: Flow{MaxFlows: 1 << 20, TCPIdle: 5 * time.Minute, TCPEmbryonic: 30 * time.Second,
			UDPIdle: time.Minute, Linger: 30 * time.Second, ActiveTimeout: 30 * time.Minute},
		Stream:     Stream{MaxBufferedPerDir: 256 << 10, MaxBufferedTotal: 64 << 20, MaxAnalyzerBuffer: 64 << 10},
		Frag:       Frag{Timeout: 30 * time.Second, MaxBytes: 4 << 20, MaxDatagrams: 1024},
		Expect:     Expect{Max: 65536, PerHost: 256, TTL: 5 * time.Minute},
		Output:     Output{Dir: "peerwatch-out", EVE: true, SQLite: true},
		Files:      Files{ExtractMax: 64 << 20},
		Classifier: Classifier{MaxPackets: 16},
		Memory:     Memory{Headroom: 128 << 20, GCPercent: 150},
		Risk:       Risk{Enabled: true, Window: time.Minute, VolumeBytes: 50_000_000},
	}
}

// Load reads a YAML file over the defaults. Unknown keys are errors.
func Load(path string) (Config, error) {
	c := Default()
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("config: %s: %w", path, err)
	}
	return c, c.Validate()
}

// Validate checks ranges and fills derived values.
func (c *Config) Validate() error {
	if c.Workers < 0 || c.Workers > 256 {
		return fmt.Errorf("config: workers %d out of range 0..256", c.Workers)
	}
	if c.Workers == 0 {
		c.Workers = runtime.NumCPU()
	}
	if _, err := c.Prefixes(); err != nil {
		return err
	}
	pos := map[string]int64{
		"flow.max_flows": int64(c.Flow.MaxFlows), "stream.max_buffered_per_dir": int64(c.Stream.MaxBufferedPerDir),
		"stream.max_buffered_total": int64(c.Stream.MaxBufferedTotal), "stream.max_analyzer_buffer": int64(c.Stream.MaxAnalyzerBuffer),
		"defrag.max_bytes": int64(c.Frag.MaxBytes), "expectations.max": int64(c.Expect.Max),
		"classifier.max_packets": int64(c.Classifier.MaxPackets),
	}
	if c.Memory.Limit < 0 || c.Memory.Headroom < 0 || c.Memory.GCPercent < 0 {
		return errors.New("config: memory settings must not be negative")
	}
	for k, v := range pos {
		if v <= 0 {
			return fmt.Errorf("config: %s must be positive", k)
		}
	}
	if c.Risk.Window <= 0 || c.Risk.VolumeBytes <= 0 {
		return errors.New("config: risk.window and risk.volume_bytes must be positive")
	}
	if c.Flow.TCPIdle <= 0 || c.Flow.UDPIdle <= 0 || c.Flow.TCPEmbryonic <= 0 {
		return errors.New("config: flow timeouts must be positive")
	}
	return nil
}

// Prefixes parses HomeNet.
func (c *Config) Prefixes() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(c.HomeNet))
	for _, s := range c.HomeNet {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("config: home_net: %w", err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
