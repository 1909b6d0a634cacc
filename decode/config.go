package decode

import "time"

// Config bounds a Decoder. Zero fields take their defaults.
type Config struct {
	// MaxTunnelDepth is the number of encapsulation layers (IP-in-IP, GRE,
	// VXLAN, MPLS, PPPoE) the decoder removes before it gives up with TooDeep.
	// Default 4.
	MaxTunnelDepth int
	// FragTimeout is how long, in capture time, an incomplete fragmented
	// datagram is kept after its first fragment arrived. Default 30s.
	FragTimeout time.Duration
	// FragMemory is the most fragment data, in bytes, held at once across all
	// incomplete datagrams. Default 4 MiB.
	FragMemory int
	// FragMaxDatagrams is the most incomplete datagrams held at once. Default
	// 1024.
	FragMaxDatagrams int
}

// Defaults for the zero fields of Config.
const (
	// DefaultMaxTunnelDepth is the default Config.MaxTunnelDepth.
	DefaultMaxTunnelDepth = 4
	// DefaultFragTimeout is the default Config.FragTimeout.
	DefaultFragTimeout = 30 * time.Second
	// DefaultFragMemory is the default Config.FragMemory, in bytes.
	DefaultFragMemory = 4 << 20
	// DefaultFragMaxDatagrams is the default Config.FragMaxDatagrams.
	DefaultFragMaxDatagrams = 1024
)

// maxTunnelDepth is the largest MaxTunnelDepth honoured: Packet.Tunnels is
// a uint8.
const maxTunnelDepth = 255

// withDefaults returns c with zero or negative fields replaced by defaults.
func (c Config) withDefaults() Config {
	if c.MaxTunnelDepth <= 0 {
		c.MaxTunnelDepth = DefaultMaxTunnelDepth
	}
	if c.MaxTunnelDepth > maxTunnelDepth {
		c.MaxTunnelDepth = maxTunnelDepth
	}
	if c.FragTimeout <= 0 {
		c.FragTimeout = DefaultFragTimeout
	}
	if c.FragMemory <= 0 {
		c.FragMemory = DefaultFragMemory
	}
	if c.FragMaxDatagrams <= 0 {
		c.FragMaxDatagrams = DefaultFragMaxDatagrams
	}
	return c
}
