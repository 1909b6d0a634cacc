package capture

import (
	"time"

	"github.com/peerwatch/peerwatch/decode"
)

// CaptureInfo describes one captured frame.
type CaptureInfo struct {
	// Timestamp is the capture time recorded in the file, in UTC. It is the
	// zero Time for a pcapng Simple Packet Block, which records none.
	Timestamp time.Time
	// CaptureLen is the number of bytes present in the frame data.
	CaptureLen int
	// Length is the frame's length on the wire, in bytes. It may exceed
	// CaptureLen when the capture was cut at a snapshot length.
	Length int
	// LinkType is the framing of the data (Ethernet, raw IP, ...).
	LinkType decode.LinkType
	// Interface is the pcapng interface index within the frame's section;
	// it is 0 for pcap files.
	Interface int
	// Offset is the byte offset of the frame's record or block in the
	// uncompressed capture stream.
	Offset int64
}

// Source is a stream of captured frames.
//
// ReadPacket returns the next frame. The data slice aliases a buffer owned by
// the Source and is valid only until the next call to ReadPacket or Close.
// At a clean end of input ReadPacket returns io.EOF; any other error means
// the input is damaged or unreadable, and no further frames follow. A Source
// is not safe for concurrent use.
//
// Close releases the Source's resources.
type Source interface {
	ReadPacket() (data []byte, ci CaptureInfo, err error)
	Close() error
}
