// Package reassembly turns the TCP segments of a flow into in-order bytes
// per direction, with explicit gaps where bytes are known to be missing.
//
// It sits between flow (which finds the flow and direction of a packet) and
// classify/analyzer (which read byte streams). One Assembler belongs to one
// worker and its flow table: per-flow state lives in a slab indexed by
// flow.Flow.Slot, created by the first Add and freed by Close. Data that
// arrives in order is handed to the Handler straight from the packet,
// without a copy or an allocation; only out-of-order data is copied, into
// buffers from a size-classed free list, under three limits: bytes per
// direction, segments per direction and bytes per Assembler. A Chunk's Data
// is therefore valid only during the Handler call.
//
// # Where a stream starts and ends
//
// A SYN sets the initial sequence number and takes one sequence number;
// data carried on the SYN is delivered. A direction whose SYN was not
// captured (mid-stream pickup) starts at the first segment seen in it, so
// bytes from before that segment that arrive later count as
// retransmissions. Sequence numbers are compared in serial-number
// arithmetic (RFC 1982), so streams cross 2^32 without noticing.
//
// A FIN ends its direction at the FIN's sequence number: data before it is
// still taken, data beyond it is dropped, also from the buffer. An RST ends
// both directions. Both are believed only when they lie within the
// receiver's advertised window of the next expected byte (RFC 793's check;
// RFC 5961 tightens it for endpoints, which a passive observer cannot do,
// since it cannot send challenge ACKs). Without TCP options the window
// scale is unknown, so the raw window is used: a lower bound, which may
// reject a genuine RST far ahead; that only leaves the flow to end by
// timeout. A forged RST or FIN outside the window would otherwise let an
// attacker blind the sensor to the rest of the connection.
//
// # Gaps
//
// A gap is reported as Chunk.Gap on the next data delivered after it, so
// analyzers see "n bytes missing, then these bytes". Gaps come from four
// places:
//
//   - Snaplen truncation (decode.Packet.Missing): the captured part is
//     delivered and the missing length is a gap. The missing bytes hold
//     their sequence numbers like captured ones, so a later copy that does
//     carry them is not used (first wins, below).
//   - The ACK rule: when a packet of one direction acknowledges bytes of the
//     other direction that were never captured, those bytes reached the
//     receiver and will never be sent again, so waiting for them is
//     pointless. Buffered data after the hole is delivered at once behind a
//     gap; if nothing is buffered, the gap is kept pending for the next data.
//     This is the only signal of capture loss a passive observer has, and
//     it comes at the earliest moment it can. The cost: a capture that
//     reorders an ACK ahead of the data it acknowledges (merged interfaces,
//     some offload setups) makes that data arrive "late", and it is dropped
//     as a retransmission behind a gap. ACKs more than 2^30 ahead are
//     ignored as garbage.
//   - Buffer limits: when a segment does not fit, the stream skips to the
//     lowest buffered segment (or to the new segment, if it is the lowest)
//     and delivers from there, declaring the hole a gap. The direction that
//     needs room pays, even when other flows fill the Assembler-wide limit,
//     so one flow's Add never causes delivery on another flow.
//   - Close: what is still buffered is delivered in sequence order with the
//     holes between as gaps, and a gap left at the end (a truncated last
//     segment, an ACK beyond the last data) comes as a chunk with no Data.
//
// # Overlaps: first wins
//
// Bytes already delivered or buffered are never replaced. A retransmission
// of delivered bytes is dropped and counted; a segment that overlaps and
// extends what is known contributes only its new bytes; overlapping bytes
// that differ from buffered ones raise "stream_overlap_different". First
// wins because it is the only policy that needs no second copy: an
// endpoint's own policy (first or last, per OS) is unknown to a passive
// observer, so no choice matches every receiver, and keeping the first
// lets in-order data go out without being held back. The cost is that an
// evasion which sends junk first and the real bytes second is seen as the
// junk; the anomaly is what flags it.
//
// Delivered bytes are gone once the Handler returns, so comparing a
// retransmission with them needs a copy. Config.KeepDelivered keeps a ring
// of the last bytes delivered per direction for that: a memcpy per segment
// and 2*KeepDelivered bytes per live flow, which is why it is opt-in (at a
// million flows, 2 KiB per direction is 4 GiB). Without it, a differing
// copy of delivered bytes is counted as a plain retransmission. The ring is
// forgotten at every gap, since the bytes it holds must end where the next
// byte starts.
//
// Event names (the Event* constants) follow the anomaly naming of
// event/vocab.go; counters are in Stats.
package reassembly
