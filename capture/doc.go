// Package capture defines how link-layer frames enter peerwatch: the Source
// interface and the CaptureInfo that describes each frame. It is the first
// stage of the pipeline; decode consumes what a Source returns.
//
// Implementations live in subpackages: pcapfile reads pcap and pcapng files
// (gzip-compressed or not). A Source hands out frames that alias its own
// buffer, so the hot path copies nothing and allocates nothing; a caller that
// keeps a frame past the next ReadPacket must copy it.
package capture
